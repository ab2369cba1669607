# Copyright (c) mmmrhd contributors. All rights reserved.
"""Turn a training checkpoint into a release file ``OUT-<sha256[:8]>.pth``.

The OpenMMLab ``tools/misc/publish_model.py``::

    python tools/misc/publish_model.py work_dirs/x/best_MR-full-mAP_epoch_60.pth \\
        work_dirs/release/taskweave_demo.pth
    # -> work_dirs/release/taskweave_demo-1a2b3c4d.pth

* The input is read with mmmrhd's weights-only loader
  (:func:`mmmrhd.utils.load_checkpoint_file`): a file that would run code
  while being unpickled is refused (``MMMRHD_TRUST_CHECKPOINTS=1`` opts in
  for a file you trust).
* Only ``--save-keys`` are kept (default ``meta`` and ``state_dict``): the
  optimizer and scheduler states, ``message_hub`` (logged scalars) and
  ``ema_state_dict`` go. With an EMA hook (``EMAHook``/``EpochEMAHook``) the
  saved ``state_dict`` already holds the EMA weights, so those are what is
  published.
* ``meta`` (epoch, iteration, seed, the config text, ``dataset_meta``, ...)
  is reduced to plain data: numpy scalars and arrays become Python numbers
  and lists; anything else (a class instance) is an error naming its key.
* The output is written atomically, checked to load with plain
  ``torch.load(..., weights_only=True)`` (no allowlist, so any PyTorch
  installation can load it safely), and named after the first 8 hex digits
  of its sha256, as OpenMMLab model-zoo files are; the full sha256 is
  printed for the metafile.
"""
import argparse
import hashlib
import os
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch

from mmmrhd.utils import load_checkpoint_file
from mmmrhd.utils.atomic_io import replace_atomically, temp_name
from mmmrhd.utils.cli import add_debug_arg, run_main
from mmmrhd.utils.errors import CheckpointError, UserError

DEFAULT_SAVE_KEYS = ('meta', 'state_dict')
_PLAIN = (str, int, float, bool, type(None), torch.Tensor)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line (``argv`` defaults to ``sys.argv[1:]``)."""
    parser = argparse.ArgumentParser(
        description='Strip a checkpoint for release and add its sha256 to '
        'the file name')
    parser.add_argument('in_file', help='input checkpoint (.pth)')
    parser.add_argument(
        'out_file',
        help='output name; OUT.pth becomes OUT-<sha256[:8]>.pth')
    parser.add_argument(
        '--save-keys',
        nargs='+',
        default=list(DEFAULT_SAVE_KEYS),
        help='top-level keys to keep (default: meta state_dict)')
    add_debug_arg(parser)
    return parser.parse_args(argv)


def plain(value: Any, where: str) -> Any:
    """``value`` as plain data: numpy -> Python, containers recursively.

    Args:
        value (Any): A ``meta`` entry.
        where (str): Its key path, for the error message.

    Returns:
        Any: str/int/float/bool/None/tensor, or list/tuple/dict of those.

    Raises:
        CheckpointError: ``value`` (or an element) is another object.
    """
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, dict):
        return {k: plain(v, f'{where}.{k}') for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = [plain(v, f'{where}[{i}]') for i, v in enumerate(value)]
        return type(value)(items) if isinstance(value, tuple) else items
    raise CheckpointError(
        f'{where} is a {type(value).__module__}.{type(value).__qualname__}, '
        'not plain data; drop the key with --save-keys or remove it from '
        'the checkpoint')


def strip_checkpoint(checkpoint: Any, in_file: str,
                     save_keys: Sequence[str]) -> Dict[str, Any]:
    """Keep ``save_keys`` of an MMEngine checkpoint, ``meta`` made plain.

    Args:
        checkpoint (Any): The loaded input.
        in_file (str): Its path, for messages.
        save_keys (Sequence[str]): Keys to keep; must include
            ``state_dict``.

    Returns:
        dict: The release checkpoint.

    Raises:
        CheckpointError: Not a dict with a ``state_dict`` of tensors, or a
            non-plain ``meta`` entry.
    """
    if not isinstance(checkpoint, dict) or not isinstance(
            checkpoint.get('state_dict'), dict):
        keys = sorted(checkpoint) if isinstance(checkpoint, dict) else []
        raise CheckpointError(
            f'{in_file} is not an MMEngine checkpoint: no state_dict dict '
            f'(top-level keys: {keys or type(checkpoint).__name__})')
    if 'state_dict' not in save_keys:
        raise UserError('--save-keys must include state_dict')
    not_tensors = [
        k for k, v in checkpoint['state_dict'].items()
        if not isinstance(v, torch.Tensor)
    ]
    if not_tensors:
        raise CheckpointError(f'{in_file}: state_dict entries that are not '
                              f'tensors: {not_tensors[:5]}')
    removed = [k for k in checkpoint if k not in save_keys]
    if removed:
        print(f'Removed from the checkpoint: {", ".join(removed)}')
    out = {k: checkpoint[k] for k in save_keys if k in checkpoint}
    if 'meta' in out:
        out['meta'] = plain(out['meta'], f'{in_file}: meta')
    return out


def sha256sum(path: str, chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of the file ``path``."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(chunk_size), b''):
            digest.update(chunk)
    return digest.hexdigest()


def publish(in_file: str,
            out_file: str,
            save_keys: Sequence[str] = DEFAULT_SAVE_KEYS) -> str:
    """Strip ``in_file``, save it as ``<out_file stem>-<sha256[:8]>.pth``.

    Args:
        in_file (str): Input checkpoint.
        out_file (str): Output name (``.pth`` is stripped before the hash
            suffix is added).
        save_keys (Sequence[str]): Top-level keys to keep.

    Returns:
        str: Path of the published file.

    Raises:
        UserError: Unreadable/unsafe input (:class:`CheckpointError`), a
            missing output directory, or a result that does not load
            weights-only.
    """
    out_dir = osp.dirname(osp.abspath(out_file))
    if not osp.isdir(out_dir):
        raise UserError(f'output directory {out_dir} does not exist')
    checkpoint = load_checkpoint_file(in_file, map_location='cpu')
    release = strip_checkpoint(checkpoint, in_file, save_keys)
    stem = out_file[:-len('.pth')] if out_file.endswith('.pth') else out_file
    tmp = temp_name(stem + '.pth')
    try:
        torch.save(release, tmp)
        try:  # what a user's plain torch.load does: no allowlist
            torch.load(tmp, map_location='cpu', weights_only=True)
        except Exception as error:  # noqa: BLE001 (reported, not hidden)
            raise CheckpointError(
                f'the stripped {in_file} does not load with torch.load('
                f'weights_only=True): {str(error).splitlines()[0]}') from error
        sha = sha256sum(tmp)
        final = f'{stem}-{sha[:8]}.pth'
        replace_atomically(tmp, final)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
    size = osp.getsize(final) / 2**20
    print(f'Published {final} ({size:.2f} MiB)\nsha256 {sha}')
    return final


def main(argv: Optional[List[str]] = None) -> str:
    """Entry point; returns the published path."""
    args = parse_args(argv)
    return publish(args.in_file, args.out_file, args.save_keys)


if __name__ == '__main__':
    run_main(main)
