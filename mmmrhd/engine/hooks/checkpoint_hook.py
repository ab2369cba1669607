# Copyright (c) mmmrhd contributors. All rights reserved.
"""CheckpointHook whose saves can be interrupted at any moment.

MMEngine 0.10.7's ``CheckpointHook`` deletes the outdated checkpoint (the
only one with ``max_keep_ckpts=1``) and the previous ``best_*.pth`` *before*
writing the new one, and writes ``last_checkpoint`` in place. A kill or a
full disk in between leaves nothing to resume and a ``last_checkpoint`` that
points to a deleted file. This subclass keeps MMEngine's arguments and file
names but orders every step so that a complete checkpoint exists at every
moment:

1. the new checkpoint is written atomically (by
   :class:`~mmmrhd.engine.runner.MRHDRunner`: temporary file, ``fsync``,
   rename);
2. ``last_checkpoint`` is rewritten atomically, after the checkpoint exists;
3. only then are outdated checkpoints (``max_keep_ckpts``) and the previous
   best checkpoint deleted;
4. partial files of an interrupted save (``.<name>.<pid>.part``) are
   deleted when training (re)starts;
5. the best checkpoint of each ``save_best`` metric is recorded in
   ``<work_dir>/best_checkpoints.json`` (atomically, after it was saved):
   ``{metric: {"path": ..., "score": ...}}``. Scripts (``make demo``) pick
   the best checkpoint from there instead of by modification time.

Under ``default_scope='mmmrhd'`` it replaces MMEngine's hook of the same
name (``dict(type='CheckpointHook', ...)``); it is also registered as
``SafeCheckpointHook``.
"""
import json
import os
import os.path as osp
import re
from typing import List, Optional

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook as MMEngineCheckpointHook

from mmmrhd.registry import HOOKS
from mmmrhd.utils.atomic_io import fault_point, write_text_atomic
from mmmrhd.utils.errors import CheckpointError

__all__ = ['SafeCheckpointHook', 'BEST_RECORD', 'best_checkpoint']

BEST_RECORD = 'best_checkpoints.json'
# Temporary files of interrupted saves (mmmrhd.utils.atomic_io.temp_name).
_PARTIAL = re.compile(r'^\..+\.\d+\.part$')


def best_checkpoint(work_dir: str, metric: Optional[str] = None) -> str:
    """The best checkpoint recorded in ``<work_dir>/best_checkpoints.json``.

    Args:
        work_dir (str): The training run's work dir.
        metric (str, optional): The ``save_best`` metric; may be omitted
            when only one was recorded.

    Returns:
        str: Path of the best checkpoint (it exists).

    Raises:
        CheckpointError: No record, an unknown metric, or a missing file.
    """
    record_file = osp.join(work_dir, BEST_RECORD)
    if not osp.isfile(record_file):
        raise CheckpointError(
            f'no best checkpoint recorded in {work_dir} ({BEST_RECORD} is '
            'missing; was the run trained with save_best?)')
    with open(record_file, encoding='utf-8') as f:
        record = json.load(f)
    if metric is None:
        if len(record) != 1:
            raise CheckpointError(
                f'{record_file} records several metrics '
                f'({", ".join(record)}); name one')
        metric = next(iter(record))
    if metric not in record:
        raise CheckpointError(
            f'{record_file} has no best checkpoint for {metric!r} (it has '
            f'{", ".join(record) or "none"})')
    path = record[metric]['path']
    if not osp.isfile(path):
        raise CheckpointError(
            f'the best {metric} checkpoint {path} recorded in {record_file} '
            'does not exist')
    return path


class _DeferRemoval:
    """A file back end whose ``remove`` / ``rmtree`` only record the path."""

    def __init__(self, backend, removed: List[str]) -> None:
        self._backend = backend
        self._removed = removed

    def remove(self, path: str) -> None:
        self._removed.append(path)

    def rmtree(self, path: str) -> None:
        self._removed.append(path)

    def __getattr__(self, name: str):
        return getattr(self._backend, name)


@HOOKS.register_module(name=['CheckpointHook', 'SafeCheckpointHook'])
class SafeCheckpointHook(MMEngineCheckpointHook):
    """MMEngine's ``CheckpointHook``, interruption-safe (module docstring).

    Takes exactly the arguments of :class:`mmengine.hooks.CheckpointHook`.
    """

    def before_train(self, runner) -> None:
        """MMEngine's set-up, then delete partial files of killed saves."""
        super().before_train(runner)
        if not is_main_process():
            return
        for directory in {self.out_dir, runner.work_dir}:
            if not osp.isdir(directory):
                continue
            for name in os.listdir(directory):
                if _PARTIAL.match(name):
                    runner.logger.info(
                        f'Removing {name}, left by an interrupted save')
                    os.remove(osp.join(directory, name))

    def _remove(self, paths: List[str], keep: List[Optional[str]]) -> None:
        """Delete ``paths`` (files or directories) except those in ``keep``.
        """
        if not is_main_process():
            return
        for path in dict.fromkeys(paths):
            if path in keep:
                continue
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):
                # checkpoints saved by DeepSpeed are directories
                self.file_backend.rmtree(path)

    def _best_paths(self) -> List[Optional[str]]:
        return [
            getattr(self, 'best_ckpt_path', None),
            *getattr(self, 'best_ckpt_path_dict', {}).values()
        ]

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        """MMEngine's method with the deletion moved after the save.

        The bookkeeping (``keep_ckpt_ids`` in the message hub, ``last_ckpt``)
        is MMEngine's, so checkpoints and resume behave the same.
        """
        outdated = []
        if self.max_keep_ckpts > 0:
            # _save_checkpoint and _save_best_checkpoint may both call this
            # in one epoch (mmengine/hooks/checkpoint_hook.py)
            if not (len(self.keep_ckpt_ids) > 0
                    and self.keep_ckpt_ids[-1] == step):
                if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                    old_step = self.keep_ckpt_ids.popleft()
                    outdated.append(
                        self.file_backend.join_path(
                            self.out_dir, self.filename_tmpl.format(old_step)))
                self.keep_ckpt_ids.append(step)
                runner.message_hub.update_info('keep_ckpt_ids',
                                               list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir,
                                                     ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir,
            ckpt_filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        if not is_main_process():
            return
        write_text_atomic(
            osp.join(runner.work_dir, 'last_checkpoint'), self.last_ckpt)
        fault_point('hook:last_checkpoint_written')
        self._remove(outdated, keep=[self.last_ckpt, *self._best_paths()])
        fault_point('hook:outdated_removed')

    def _save_best_checkpoint(self, runner, metrics) -> None:
        """MMEngine's method with the old best deleted after the new one.

        Also (re)writes ``best_checkpoints.json``.
        """
        real_backend = getattr(self, 'file_backend', None)
        if not self.save_best or real_backend is None:  # e.g. runner.val()
            return super()._save_best_checkpoint(runner, metrics)
        deferred: List[str] = []
        self.file_backend = _DeferRemoval(real_backend, deferred)
        try:
            super()._save_best_checkpoint(runner, metrics)
        finally:
            self.file_backend = real_backend
        if not is_main_process():
            return
        if deferred:
            fault_point('hook:best_saved')
        self._remove(deferred, keep=[self.last_ckpt, *self._best_paths()])
        self._write_best_record(runner)

    def _write_best_record(self, runner) -> None:
        """Write ``<work_dir>/best_checkpoints.json`` (atomically)."""
        if len(self.key_indicators) == 1:
            paths = {self.key_indicators[0]: self.best_ckpt_path}
            score_keys = {self.key_indicators[0]: 'best_score'}
        else:
            paths = dict(self.best_ckpt_path_dict)
            score_keys = {k: f'best_score_{k}' for k in paths}
        record = {}
        for key, path in paths.items():
            if path is None:
                continue
            score = runner.message_hub.get_info(score_keys[key])
            record[key] = dict(
                path=path, score=None if score is None else float(score))
        if record:
            write_text_atomic(
                osp.join(runner.work_dir, BEST_RECORD),
                json.dumps(record, indent=2) + '\n')
