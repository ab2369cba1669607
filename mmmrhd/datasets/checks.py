# Copyright (c) mmmrhd contributors. All rights reserved.
"""Check every annotation and feature file of a dataset up front.

Training reads a feature file only when its sample comes up, so a broken
file would otherwise stop an epoch half-way. :func:`check_dataset` reads
every record and every feature file of a dataset once, with the same
functions as the dataset and its loading transforms, and returns ALL the
problems instead of the first. ``tools/misc/check_dataset.py`` and
``tools/train.py --check-data`` are thin wrappers around
:func:`check_config_data`.

Checks (the rules are in ``docs/en/user_guides/dataset_prepare.md``,
"Checking a dataset"):

* every annotation record (:meth:`MRHDDataset.collect_problems`: UTF-8,
  JSON, fields, windows, clip ids, scores, unique qids);
* every feature file: exists, is a valid ``.npz`` / ``.npy`` file holding a
  numeric ``(L, D)`` array under the expected key, has no NaN/inf in the
  rows the pipeline keeps;
* video feature length vs the annotation
  (:mod:`mmmrhd.datasets.feature_rules`);
* width: all files of one stream have the width most of them have;
* length gap between the streams of one video vs the transform's
  ``length_tolerance``;
* the widths after the whole pipeline vs the model's input projections
  (``model.video_proj`` / ``model.text_proj`` ``streams`` dims), when the
  config has them.
"""
import sys
from collections import defaultdict
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

from mmengine.config import Config
from mmengine.utils import ProgressBar

from mmmrhd.registry import DATASETS, build_part
from mmmrhd.utils.errors import ConfigError, DataError, UserError
from .feature_rules import (FeatureFile, pipeline_feature_files,
                            too_short_message)
from .transforms.feature_io import check_feature_array, read_feature_array

__all__ = [
    'DataCheckResult', 'check_dataset', 'check_model_dims',
    'build_split_dataset', 'check_config_data', 'check_training_data',
    'SPLITS'
]

#: Split name -> the config's dataloader key.
SPLITS = dict(
    train='train_dataloader', val='val_dataloader', test='test_dataloader')


class DataCheckResult(NamedTuple):
    """What :func:`check_dataset` found."""

    #: One line per problem; empty if all is well.
    problems: List[str]
    #: Valid annotation records.
    num_records: int
    #: Distinct feature files checked.
    num_files: int
    #: ``'video'`` / ``'text'`` -> channels of a sample after the whole
    #: pipeline (empty if no sample could be loaded).
    input_dims: Dict[str, int]


def _check_files(files: Dict[str, FeatureFile],
                 users: Dict[str, List[dict]],
                 progress: bool) -> Tuple[List[str], Dict[str, Tuple]]:
    """Read every file once; return problems and ``path -> (rows, width)``."""
    problems: List[str] = []
    shapes: Dict[str, Tuple[int, int]] = {}
    bar = ProgressBar(len(files), file=sys.stderr) if progress else None
    for path, file in files.items():
        what = f'{file.kind} feature'
        try:
            array = read_feature_array(path, file.key, what,
                                       file.backend_args)
            # The query with the longest annotation sets the required length.
            info = max(users[path], key=lambda i: i.get('min_num_clips', 0))
            if (file.kind == 'video'
                    and array.shape[0] < info.get('min_num_clips', 0)):
                problems.append(too_short_message(path, array.shape[0], info))
            check_feature_array(array, file.max_len, f'{what} file {path}')
            shapes[path] = array.shape
        except UserError as exc:
            needed = users[path]
            problems.append(f'{exc} (needed by qid {needed[0]["qid"]!r}'
                            + (f' and {len(needed) - 1} more queries)'
                               if len(needed) > 1 else ')'))
        if bar is not None:
            bar.update()
    if bar is not None:
        sys.stderr.write('\n')
    return problems, shapes


def _width_problems(files: Dict[str, FeatureFile],
                    shapes: Dict[str, Tuple[int, int]]) -> List[str]:
    """Files whose width differs from most files of their stream."""
    by_group: Dict[str, Dict[int, List[str]]] = defaultdict(
        lambda: defaultdict(list))
    for path, (_, width) in shapes.items():
        by_group[files[path].group][width].append(path)
    problems = []
    for group, by_width in by_group.items():
        if len(by_width) < 2:
            continue
        usual = max(by_width, key=lambda w: (len(by_width[w]), -w))
        for width, paths in sorted(by_width.items()):
            if width == usual:
                continue
            problems.extend(
                f'{files[p].kind} feature file {p} has width {width}, but '
                f'{len(by_width[usual])} other file(s) of the stream {group} '
                f'have width {usual}' for p in paths)
    return problems


def _gap_problems(transforms: Sequence, infos: List[dict],
                  shapes: Dict[str, Tuple[int, int]]) -> List[str]:
    """Streams of one sample whose lengths differ beyond the tolerance."""
    problems, seen = [], set()
    for transform in transforms:
        tolerance = getattr(transform, 'length_tolerance', None)
        lister = getattr(transform, 'feature_files', None)
        if tolerance is None or not callable(lister):
            continue
        for info in infos:
            paths = tuple(f.path for f in lister(info))
            if paths in seen or not all(p in shapes for p in paths):
                continue
            seen.add(paths)
            rows = [shapes[p][0] for p in paths]
            if max(rows) - min(rows) > tolerance:
                problems.append(
                    f'feature streams of qid {info["qid"]!r} (vid '
                    f'{info["vid"]!r}) differ in length by more than '
                    f'{tolerance}: ' + ', '.join(
                        f'{p} has {n} rows' for p, n in zip(paths, rows)))
    return problems


def _input_dims(dataset, infos: List[dict], ok: set) -> Dict[str, int]:
    """Channels of the first sample whose files are all fine."""
    for info in infos:
        files = pipeline_feature_files(dataset.pipeline.transforms, info)
        if all(f.path in ok for f in files):
            try:
                inputs = dataset.pipeline(dict(info))['inputs']
            except (UserError, KeyError, TypeError):
                return {}
            return {
                k.split('_')[0]: int(v.shape[-1])
                for k, v in inputs.items() if k.endswith('_feat')
            }
    return {}


def check_dataset(dataset, progress: bool = False) -> DataCheckResult:
    """Check every record and feature file of a dataset; list all problems.

    Args:
        dataset (MRHDDataset): Built with ``lazy_init=True`` (see
            :func:`build_split_dataset`); it is not initialised here.
        progress (bool): Show a progress bar (on stderr) over the files.

    Returns:
        DataCheckResult: The problems (one line each) and counts.
    """
    infos, problems = dataset.collect_problems()
    transforms = dataset.pipeline.transforms
    files: Dict[str, FeatureFile] = {}
    users: Dict[str, List[dict]] = defaultdict(list)
    for info in infos:
        for file in pipeline_feature_files(transforms, info):
            files.setdefault(file.path, file)
            users[file.path].append(info)
    file_problems, shapes = _check_files(files, users, progress)
    problems += file_problems
    problems += _width_problems(files, shapes)
    problems += _gap_problems(transforms, infos, shapes)
    return DataCheckResult(problems, len(infos), len(files),
                           _input_dims(dataset, infos, set(shapes)))


def check_model_dims(model_cfg: Optional[dict],
                     input_dims: Dict[str, int]) -> List[str]:
    """Compare the pipeline's output widths with the model's inputs.

    Args:
        model_cfg (dict, optional): ``cfg.model``; its ``video_proj`` /
            ``text_proj`` with ``streams=[dict(name, dim), ...]`` are
            compared (other models are skipped).
        input_dims (dict): From :class:`DataCheckResult`.

    Returns:
        list[str]: The mismatches.
    """
    problems = []
    for kind in ('video', 'text'):
        proj = (model_cfg or {}).get(f'{kind}_proj') or {}
        streams = proj.get('streams') if isinstance(proj, dict) else None
        if not streams or kind not in input_dims:
            continue
        expected = sum(int(s['dim']) for s in streams)
        if expected != input_dims[kind]:
            parts = ' + '.join(f'{s.get("name")} {s["dim"]}' for s in streams)
            problems.append(
                f'the {kind} features are {input_dims[kind]} wide after the '
                f'pipeline, but model.{kind}_proj expects {expected} '
                f'({parts})')
    return problems


def build_split_dataset(cfg: Config, split: str):
    """Build the dataset of ``<split>_dataloader`` for checking.

    It is built with ``lazy_init=True`` (records are read by
    :func:`check_dataset`) and without the build-time existence check.
    """
    loader = cfg.get(SPLITS[split], None)
    if not loader or not loader.get('dataset'):
        raise ConfigError(f'the config has no {SPLITS[split]}.dataset')
    ds_cfg = dict(loader['dataset'])
    dataset = build_part(
        DATASETS, dict(ds_cfg, lazy_init=True, check_feature_files=False))
    if not hasattr(dataset, 'collect_problems'):
        raise ConfigError(f'{SPLITS[split]}.dataset is a '
                          f'{type(dataset).__name__}; the data check needs an '
                          'MRHDDataset (QVHighlights, Charades-STA, TVSum, '
                          'custom jsonl)')
    return dataset


def check_config_data(cfg: Config,
                      splits: Sequence[str],
                      progress: bool = True,
                      out=None) -> int:
    """Check the datasets of ``splits`` of a config; print a report.

    Each distinct dataset config is checked once, and a problem found in
    several splits (e.g. val and test on one annotation file) is listed
    once. The report lists every problem, one per line, then a summary per
    split.

    Args:
        cfg (Config): The config (``--cfg-options`` applied).
        splits (Sequence[str]): Names from :data:`SPLITS` whose dataloader
            the config has.
        progress (bool): Progress bars on stderr (only if it is a
            terminal).
        out: Where the report goes (default ``sys.stdout``).

    Returns:
        int: The number of distinct problems.
    """
    out = out or sys.stdout
    done: Dict[str, str] = {}
    seen: set = set()
    for split in splits:
        dataset = build_split_dataset(cfg, split)
        key = repr(cfg[SPLITS[split]]['dataset'])
        if key in done:
            print(f'[{split}] same data as [{done[key]}], checked above',
                  file=out)
            continue
        done[key] = split
        print(f'[{split}] checking {dataset.ann_file}', file=out, flush=True)
        result = check_dataset(
            dataset, progress=progress and sys.stderr.isatty())
        problems = result.problems + check_model_dims(
            cfg.get('model', None), result.input_dims)
        new = [p for p in dict.fromkeys(problems) if p not in seen]
        for problem in new:
            print(f'  {problem}', file=out)
        seen.update(new)
        dims = ', '.join(f'{k} {v}' for k, v in result.input_dims.items())
        repeated = len(problems) - len(new)
        print(f'[{split}] {result.num_records} records, {result.num_files} '
              f'feature files' + (f', input widths {dims}' if dims else '')
              + f': {len(problems) or "no"} problem(s)'
              + (f' ({repeated} listed above)' if repeated else ''),
              file=out, flush=True)
    return len(seen)


def check_training_data(cfg: Config, out=None) -> None:
    """``tools/train.py --check-data``: check the train and val splits.

    Args:
        cfg (Config): The training config (options applied; without a
            ``val_dataloader`` after ``--no-validate``).
        out: Where the report goes (default ``sys.stdout``).

    Raises:
        DataError: If any problem was found (they are listed in the report).
    """
    splits = [s for s in ('train', 'val') if cfg.get(SPLITS[s], None)]
    problems = check_config_data(cfg, splits, out=out)
    if problems:
        raise DataError(f'--check-data found {problems} data problem(s), '
                        'listed above; fix them before training')
