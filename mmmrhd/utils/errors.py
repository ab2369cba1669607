# Copyright (c) mmmrhd contributors. All rights reserved.
"""Exceptions for errors of the user's input (data, config, checkpoint).

The command-line tools print these as one line (``error: <message>``) and
exit with status 2; any other exception is a bug and keeps its traceback.
Each message names the file or field at fault. They subclass
:class:`ValueError`, so code that already catches ``ValueError`` keeps
working.
"""

__all__ = ['UserError', 'DataError', 'ConfigError', 'CheckpointError']


class UserError(ValueError):
    """Base class: something the user supplied is wrong."""


class DataError(UserError):
    """An annotation or feature file is missing, unreadable or invalid."""


class ConfigError(UserError):
    """A config (or a ``--cfg-options`` override) is invalid."""


class CheckpointError(UserError):
    """A checkpoint is unreadable, untrusted or does not fit the model."""
