# Copyright (c) mmmrhd contributors. All rights reserved.
""":class:`~mmmrhd.utils.errors.DataError` flavours of built-in exceptions.

Bad annotation or feature files raise these. Each is a ``DataError`` (so the
command-line tools print it as one ``error: ...`` line and exit 2) and also
the built-in exception the readers raised before (``KeyError`` for a
missing field, ``TypeError`` for a field of the wrong JSON type,
``FileNotFoundError`` / ``OSError`` for a missing or unreadable file), so
code catching the built-in keeps working.
"""
from mmmrhd.utils.errors import DataError

__all__ = [
    'DataError', 'DataKeyError', 'DataTypeError', 'DataFileNotFoundError',
    'DataOSError'
]


class DataKeyError(DataError, KeyError):
    """A required field or array is missing."""

    # KeyError quotes its message (``str(KeyError('a')) == "'a'"``); keep it
    # a plain one-line message.
    __str__ = BaseException.__str__


class DataTypeError(DataError, TypeError):
    """A field has the wrong JSON type."""


class DataFileNotFoundError(DataError, FileNotFoundError):
    """An annotation or feature file does not exist."""


class DataOSError(DataError, OSError):
    """A file exists but cannot be read."""
