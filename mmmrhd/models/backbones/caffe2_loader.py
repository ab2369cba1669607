# Copyright (c) mmmrhd contributors. All rights reserved.
"""Load PySlowFast Caffe2 ``.pkl`` checkpoints safely and strictly.

The released Kinetics-400 ``SLOWFAST_8x8_R50.pkl`` is a Python pickle of
``{'blobs': {name: numpy array}, ...}``. A pickle can run arbitrary code,
so it is read with an unpickler that only rebuilds numpy arrays, dtypes
and plain containers; anything else is refused with the offending global
named. Blob names follow Caffe2's SlowFast graph and are translated to
PySlowFast's parameter names (the grammar PySlowFast's
``utils/c2_model_loading.py`` encodes). Unlike PySlowFast's loader (which
skips blobs whose shape differs, ``strict=False``), every model tensor must
be present with the right shape, and every blob must be used or be known
training state; otherwise :class:`~mmmrhd.utils.errors.CheckpointError`
lists the offending names.
"""
import importlib
import pickle
import re
from typing import Dict, Iterable, List, Optional, Tuple

import numpy as np
import torch
from torch import nn

from mmmrhd.utils.errors import CheckpointError

__all__ = [
    'read_caffe2_blobs', 'caffe2_to_pytorch_name', 'pytorch_to_caffe2_name',
    'load_caffe2_slowfast', 'save_caffe2_blobs'
]

# Globals a pickled numpy array (Python 2 or 3 pickles) needs.
_ALLOWED_GLOBALS = {
    ('numpy.core.multiarray', '_reconstruct'),
    ('numpy._core.multiarray', '_reconstruct'),
    ('numpy.core.multiarray', 'scalar'),
    ('numpy._core.multiarray', 'scalar'),
    ('numpy.core.numeric', '_frombuffer'),
    ('numpy._core.numeric', '_frombuffer'),
    ('numpy', 'ndarray'),
    ('numpy', 'dtype'),
    ('collections', 'OrderedDict'),
    ('builtins', 'bytearray'),
    ('_codecs', 'encode'),  # bytes in protocol-2 pickles written by Py3
    ('copy_reg', '_reconstructor'),
    ('copyreg', '_reconstructor'),
    ('__builtin__', 'object'),
    ('builtins', 'object'),
}
# Blobs of the Caffe2 training state, not model weights.
_TRAINING_STATE = re.compile(r'(momentum|^lr$|_lr$|model_iter)')
# Classifier blobs (``pred_w``/``pred_b``); the feature model has no head FC.
_CLASSIFIER = re.compile(r'^pred_(w|b)$')
_BN = {'s': 'weight', 'b': 'bias', 'rm': 'running_mean', 'riv': 'running_var'}
_BN_INV = {v: k for k, v in _BN.items()}
_PARAM = {'w': 'weight', 'b': 'bias'}


class _NumpyOnlyUnpickler(pickle.Unpickler):

    def __init__(self, file, path: str) -> None:
        super().__init__(file, encoding='latin1')
        self.path = path

    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED_GLOBALS:
            raise CheckpointError(
                f'{self.path}: refusing to unpickle {module}.{name} (a '
                'Caffe2 .pkl holds numpy arrays only)')
        if module.startswith('numpy.core') and hasattr(np, '_core'):
            module = 'numpy._core' + module[len('numpy.core'):]
        module = {'copy_reg': 'copyreg', '__builtin__': 'builtins'}.get(
            module, module)
        return getattr(importlib.import_module(module), name)


def read_caffe2_blobs(path: str) -> Dict[str, np.ndarray]:
    """Read the ``blobs`` of a Caffe2 ``.pkl`` with the restricted
    unpickler.

    Returns:
        dict[str, np.ndarray]: Blob name -> array.

    Raises:
        CheckpointError: unreadable file, a non-numpy global, no
            ``blobs`` mapping, or a blob that is not a numeric array.
    """
    try:
        with open(path, 'rb') as f:
            data = _NumpyOnlyUnpickler(f, path).load()
    except CheckpointError:
        raise
    except FileNotFoundError:
        raise CheckpointError(f'checkpoint not found: {path}') from None
    except Exception as exc:  # noqa: BLE001 - any corrupt pickle
        raise CheckpointError(
            f'cannot read Caffe2 checkpoint {path}: {exc}') from None
    blobs = data.get('blobs', data) if isinstance(data, dict) else None
    if not isinstance(blobs, dict):
        raise CheckpointError(f'{path}: expected a dict of blobs, got '
                              f'{type(data).__name__}')
    for name, value in blobs.items():
        if not isinstance(value, np.ndarray) or value.dtype.kind not in 'fiu':
            raise CheckpointError(f'{path}: blob {name!r} is not a numeric '
                                  f'array ({type(value).__name__})')
    return blobs


def caffe2_to_pytorch_name(name: str) -> Optional[str]:
    """PySlowFast parameter name of a Caffe2 SlowFast blob.

    ``t_`` marks the fast pathway (``pathway1``). Returns None for names
    outside the grammar (the caller reports them).
    """
    pathway = 0
    if name.startswith('t_'):
        pathway, name = 1, name[2:]
    m = re.fullmatch(r'pool1_subsample(_bn)?_(w|s|b|rm|riv)', name)
    m = m or re.fullmatch(
        r'res(\d+)_\d+_branch2c_bn_subsample(_bn)?_(w|s|b|rm|riv)', name)
    if m and pathway == 1:
        stage = m.group(1) if m.re.pattern.startswith('res') else '1'
        is_bn, kind = m.groups()[-2:]
        if is_bn:
            return f's{stage}_fuse.bn.{_BN.get(kind, "?")}' if (
                kind in _BN) else None
        return f's{stage}_fuse.conv_f2s.weight' if kind == 'w' else None
    prefix = f's1.pathway{pathway}_stem'
    if (m := re.fullmatch(r'conv1_w', name)):
        return f'{prefix}.conv.weight'
    if (m := re.fullmatch(r'res_conv1_bn_(s|b|rm|riv)', name)):
        return f'{prefix}.bn.{_BN[m.group(1)]}'
    m = re.fullmatch(r'res(\d+)_(\d+)_branch(1|2[abc])(_bn)?_(w|s|b|rm|riv)',
                     name)
    if m is None:
        return None
    stage, block, branch, is_bn, kind = m.groups()
    base = f's{stage}.pathway{pathway}_res{block}.'
    module = 'branch1' if branch == '1' else f'branch2.{branch[1]}'
    if is_bn:
        return base + f'{module}_bn.{_BN[kind]}' if kind in _BN else None
    return base + f'{module}.weight' if kind == 'w' else None


def pytorch_to_caffe2_name(name: str) -> str:
    """Inverse of :func:`caffe2_to_pytorch_name` (writing test files)."""
    m = re.fullmatch(r's(\d)_fuse\.(conv_f2s|bn)\.(\w+)', name)
    if m:
        stage, module, attr = m.groups()
        if stage == '1':
            base = 't_pool1_subsample'
        else:
            base = f't_res{stage}_{{last}}_branch2c_bn_subsample'
        return base + ('_w' if module == 'conv_f2s' else
                       f'_bn_{_BN_INV[attr]}')
    m = re.fullmatch(r's1\.pathway(\d)_stem\.(conv|bn)\.(\w+)', name)
    if m:
        t = 't_' if m.group(1) == '1' else ''
        if m.group(2) == 'conv':
            return f'{t}conv1_w'
        return f'{t}res_conv1_bn_{_BN_INV[m.group(3)]}'
    m = re.fullmatch(
        r's(\d)\.pathway(\d)_res(\d+)\.(branch1|branch2\.[abc])(_bn)?'
        r'\.(\w+)', name)
    if m is None:
        raise ValueError(f'no Caffe2 name for {name!r}')
    stage, pathway, block, module, is_bn, attr = m.groups()
    t = 't_' if pathway == '1' else ''
    branch = '1' if module == 'branch1' else '2' + module[-1]
    suffix = f'_bn_{_BN_INV[attr]}' if is_bn else '_w'
    return f'{t}res{stage}_{block}_branch{branch}{suffix}'


def _fuse_block_numbers(model: nn.Module) -> Dict[str, int]:
    """Last block index of each fused stage (names the fuse blobs)."""
    last = {}
    for key in model.state_dict():
        m = re.match(r's(\d)\.pathway1_res(\d+)\.', key)
        if m:
            last[m.group(1)] = max(last.get(m.group(1), 0), int(m.group(2)))
    return {k: v for k, v in last.items()}


def save_caffe2_blobs(model: nn.Module, path: str,
                      extra: Optional[Dict[str, np.ndarray]] = None) -> None:
    """Write ``model``'s tensors as a Caffe2-style ``.pkl`` (for tests and
    round trips): ``{'blobs': {caffe2 name: float32 array}}``."""
    last = _fuse_block_numbers(model)
    blobs = {}
    for key, value in model.state_dict().items():
        if key.endswith('num_batches_tracked'):
            continue
        name = pytorch_to_caffe2_name(key)
        m = re.match(r't_res(\d)_\{last\}', name)
        if m:
            name = name.replace('{last}', str(last[m.group(1)]))
        blobs[name] = value.detach().cpu().numpy().astype(np.float32)
    blobs.update(extra or {})
    with open(path, 'wb') as f:
        pickle.dump({'blobs': blobs}, f, protocol=2)


def _listing(names: Iterable[str], limit: int = 8) -> str:
    names = sorted(names)
    more = f' (+{len(names) - limit} more)' if len(names) > limit else ''
    return ', '.join(names[:limit]) + more


def load_caffe2_slowfast(model: nn.Module,
                         path: str) -> Tuple[List[str], List[str]]:
    """Load a Caffe2 SlowFast ``.pkl`` into ``model`` (strict).

    Args:
        model (nn.Module): A :class:`SlowFastR50` (PySlowFast names).
        path (str): The ``.pkl`` file.

    Returns:
        tuple[list[str], list[str]]: Skipped blobs: training state
        (momentum, lr, iteration) and classifier (``pred_*``).

    Raises:
        CheckpointError: unknown, unused or missing blobs, or a shape
            mismatch; the message lists the names (and shapes).
    """
    blobs = read_caffe2_blobs(path)
    target = {
        k: v
        for k, v in model.state_dict().items()
        if not k.endswith('num_batches_tracked')
    }
    last = _fuse_block_numbers(model)
    state, training, classifier, unknown, bad_shape = {}, [], [], [], []
    bad_keys = set()
    for name, array in blobs.items():
        if _TRAINING_STATE.search(name):
            training.append(name)
            continue
        if _CLASSIFIER.match(name):
            classifier.append(name)
            continue
        key = caffe2_to_pytorch_name(name)
        m = re.match(r't_res(\d)_(\d+)_branch2c_bn_subsample', name)
        if key is None or key not in target or (
                m and int(m.group(2)) != last.get(m.group(1))):
            unknown.append(name if key is None else f'{name} -> {key}')
            continue
        if tuple(array.shape) != tuple(target[key].shape):
            bad_shape.append(f'{name} {tuple(array.shape)} vs {key} '
                             f'{tuple(target[key].shape)}')
            bad_keys.add(key)
            continue
        state[key] = torch.from_numpy(np.array(array, dtype=np.float32))
    missing = sorted(set(target) - set(state) - bad_keys)
    problems = []
    if bad_shape:
        problems.append(f'{len(bad_shape)} blob(s) with the wrong shape: '
                        f'{_listing(bad_shape)}')
    if unknown:
        problems.append(f'{len(unknown)} blob(s) the model does not have: '
                        f'{_listing(unknown)}')
    if missing:
        problems.append(f'{len(missing)} model tensor(s) missing: '
                        f'{_listing(missing)}')
    if problems:
        raise CheckpointError(f'Caffe2 checkpoint {path} does not fit '
                              f'{type(model).__name__}: ' +
                              '; '.join(problems))
    model.load_state_dict(state, strict=False)
    return training, classifier
