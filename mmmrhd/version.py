# Copyright (c) mmmrhd contributors. All rights reserved.
"""Version of the ``mmmrhd`` package."""

__version__ = '0.1.0'


def parse_version_info(version_str: str) -> tuple:
    """Parse a version string such as ``'0.1.0'`` or ``'0.2.0rc1'``.

    Args:
        version_str (str): The version string.

    Returns:
        tuple: Integer parts followed by an optional pre-release tag.
    """
    parts = []
    for x in version_str.split('.'):
        if x.isdigit():
            parts.append(int(x))
        else:
            digits = ''.join(c for c in x if c.isdigit())
            rest = x[len(digits):]
            parts.extend([int(digits), rest])
    return tuple(parts)


version_info = parse_version_info(__version__)
