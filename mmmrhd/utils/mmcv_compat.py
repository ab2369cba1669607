# Copyright (c) mmmrhd contributors. All rights reserved.
"""The mmcv version check: ``mmcv`` *or* ``mmcv-lite``, in one range.

mmmrhd only uses :class:`mmcv.transforms.BaseTransform`, which both the full
``mmcv`` (compiled ops) and the pure-Python ``mmcv-lite`` provide under the
same import name. A wheel cannot depend on "either of two distributions", and
a hard ``mmcv-lite`` dependency would overwrite a user's full ``mmcv`` (both
install the ``mmcv`` package directory). So, as in OpenMMLab projects, the
package metadata does not require mmcv at all and the range is checked when
mmmrhd first needs mmcv (:mod:`mmmrhd.datasets.transforms`).

The range, :data:`MMCV_MIN` (inclusive) to :data:`MMCV_MAX` (exclusive):

* ``2.0.0rc4``: the lower bound MMAction2 1.2.0 and MMDetection 3.x require;
  ``mmcv.transforms`` exists since 2.0.0rc0.
* ``2.3.0``: the 2.2.x series is the newest release; mmmrhd's tests ran with
  ``mmcv-lite`` 2.1.0 and 2.2.0. MMAction2 1.2.0 itself refuses mmcv 2.2.0
  (``mmcv>=2.0.0rc4,<2.2.0`` in ``mmaction/__init__.py``), so beside it use
  2.1.0 (``requirements/runtime.txt`` pins ``mmcv-lite==2.1.0``).
"""
import importlib.metadata
from typing import Optional

from mmengine.utils import digit_version

__all__ = [
    'MMCV_MIN', 'MMCV_MAX', 'MMCVVersionError', 'check_mmcv_version',
    'mmcv_distribution'
]

MMCV_MIN = '2.0.0rc4'
MMCV_MAX = '2.3.0'

_INSTALL_HINT = (
    "install one of the two packages that provide it: 'pip install "
    "mmcv-lite==2.1.0' (pure Python, all mmmrhd needs; also accepted by "
    "MMAction2 1.2.0), or a full mmcv in that range ('mim install "
    "\"mmcv>=2.0.0rc4,<2.2.0\"' beside MMAction2). Do not install both: "
    'they overwrite each other.')


class MMCVVersionError(ImportError):
    """No mmcv, or an mmcv outside ``[MMCV_MIN, MMCV_MAX)``."""


def mmcv_distribution() -> Optional[str]:
    """The installed distribution that provides ``mmcv``, with its version.

    Returns:
        str | None: e.g. ``'mmcv-lite 2.1.0'`` or ``'mmcv 2.1.0'``; None if
        neither ``mmcv`` nor ``mmcv-lite`` is installed as a distribution
        (mmcv may still be importable from a source tree).
    """
    for name in ('mmcv', 'mmcv-lite'):
        try:
            return f'{name} {importlib.metadata.version(name)}'
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def check_mmcv_version(version: Optional[str] = None) -> str:
    """Check that mmcv is importable and ``MMCV_MIN <= version < MMCV_MAX``.

    Args:
        version (str, optional): The version to check; by default the one of
            the importable ``mmcv`` (``mmcv.__version__``).

    Returns:
        str: The checked version.

    Raises:
        MMCVVersionError: No ``mmcv`` can be imported, or its version is
            outside the range. The one-line message names the range, both
            distributions (``mmcv``, ``mmcv-lite``) and how to install one.
    """
    requirement = f'mmcv>={MMCV_MIN},<{MMCV_MAX}'
    found = f'mmcv {version}'
    if version is None:
        try:
            import mmcv
        except ModuleNotFoundError as error:
            if error.name != 'mmcv':
                raise
            raise MMCVVersionError(
                f'mmmrhd needs {requirement} but no mmcv is installed; '
                f'{_INSTALL_HINT}') from error
        version = mmcv.__version__
        dist = mmcv_distribution()
        found = f'mmcv {version}' + (f' ({dist})' if dist else '')
    low, high = digit_version(MMCV_MIN), digit_version(MMCV_MAX)
    if not low <= digit_version(version) < high:
        raise MMCVVersionError(
            f'mmmrhd needs {requirement} (from the package mmcv or '
            f'mmcv-lite) but {found} is installed; {_INSTALL_HINT}')
    return version
