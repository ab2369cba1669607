# Copyright (c) mmmrhd contributors. All rights reserved.
"""The runner of the mmmrhd tools: strict loading, atomic saving, resume.

:class:`MRHDRunner` is MMEngine's :class:`~mmengine.runner.Runner` with
three changes, each a guarantee the tools document:

* **Strict loading.** ``load_from``, ``--resume`` and ``tools/test.py
  CONFIG CKPT`` fail with one :class:`~mmmrhd.utils.errors.CheckpointError`
  when the checkpoint does not fit the model, unless the config says
  ``strict_load=False`` (see :mod:`mmmrhd.engine.runner.strict_load`).
* **Atomic saving.** Every checkpoint is written to a temporary file in the
  same directory, ``fsync``-ed and renamed over its final name, so a kill or
  a full disk never leaves a partial ``epoch_*.pth`` / ``best_*.pth``
  (:mod:`mmmrhd.utils.atomic_io`).
* **Resume.** ``resume=True`` without ``load_from`` resumes from the newest
  *complete* checkpoint of the work dir (an unreadable one is skipped with a
  warning) and is an error when there is nothing to resume, instead of
  silently starting from scratch.

The tools build it by default (``runner_type='MRHDRunner'`` in
``configs/_base_/default_runtime.py``, and :mod:`mmmrhd.utils.cli` when a
config sets no ``runner_type``).
"""
import logging
import os
import os.path as osp
import re
from typing import Callable, List, Optional, Union

from mmengine.dist import is_main_process
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint

from mmmrhd.registry import RUNNERS
from mmmrhd.utils.atomic_io import fault_point, replace_atomically, temp_name
from mmmrhd.utils.checkpoint import (MissingCheckpointError,
                                     UnreadableCheckpointError)
from mmmrhd.utils.errors import CheckpointError
from .strict_load import (STRICT_LOAD_KEY, check_fit, default_strict_load,
                          load_into)

__all__ = ['MRHDRunner', 'resume_candidates']

# Regular checkpoints of CheckpointHook's default ``filename_tmpl``. best_*
# files are not resume candidates: they hold no optimizer/scheduler state.
_STEP_CKPT = re.compile(r'^(epoch|iter)_(\d+)\.pth$')


def resume_candidates(work_dir: str) -> List[str]:
    """Checkpoints to resume from, newest first.

    The ``epoch_N.pth`` / ``iter_N.pth`` files of the directory that
    ``last_checkpoint`` points into (else ``work_dir``), by N descending;
    the file ``last_checkpoint`` names goes first if it has another name.

    Args:
        work_dir (str): The run's work dir.

    Returns:
        list[str]: Existing files; empty when there is nothing to resume.
    """
    last = None
    record = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(record):
        with open(record, encoding='utf-8') as f:
            last = f.read().strip() or None
    ckpt_dir = osp.dirname(last) if last else work_dir
    found = []
    if osp.isdir(ckpt_dir):
        for name in os.listdir(ckpt_dir):
            match = _STEP_CKPT.match(name)
            if match:
                found.append((int(match.group(2)), osp.join(ckpt_dir, name)))
    candidates = [path for _, path in sorted(found, reverse=True)]
    if last and osp.isfile(last) and last not in candidates:
        candidates.insert(0, last)
    return candidates


@RUNNERS.register_module()
class MRHDRunner(Runner):
    """MMEngine's Runner with strict loading, atomic saving, safe resume.

    Takes the same arguments as :class:`mmengine.runner.Runner`; the
    top-level config key ``strict_load`` (default True) is read from
    ``cfg``.
    """

    @property
    def strict_load(self) -> bool:
        """The config's ``strict_load`` (True when absent)."""
        return bool(self.cfg.get(STRICT_LOAD_KEY, True))

    def _init_model_weights(self) -> None:
        """``model.init_weights()`` with the config's strictness."""
        with default_strict_load(self.strict_load):
            super()._init_model_weights()

    def load_checkpoint(self,
                        filename: str,
                        map_location: Union[str, Callable] = 'cpu',
                        strict: Optional[bool] = None,
                        revise_keys: list = [(r'^module.', '')]):
        """Load a checkpoint into the model, checking the fit first.

        Args:
            filename (str): Path or URL (any MMEngine scheme).
            map_location (str | Callable): Defaults to ``'cpu'``.
            strict (bool, optional): None follows ``strict_load``.
            revise_keys (list): Key substitutions. Defaults to stripping
                ``module.``.

        Returns:
            dict: The checkpoint.

        Raises:
            CheckpointError: Unreadable, untrusted or not fitting.
        """
        if strict is None:
            strict = self.strict_load
        checkpoint = _load_checkpoint(filename, map_location=map_location)
        model = self.model.module if is_model_wrapper(
            self.model) else self.model
        # Check before the hooks (e.g. EMAHook) copy weights anywhere; load
        # after them, as MMEngine does (EMAHook swaps the EMA and the raw
        # weights of the checkpoint on resume).
        check_fit(
            model, checkpoint, filename, strict=strict, revise_keys=revise_keys)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        load_into(model, checkpoint, revise_keys)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

    def load_or_resume(self) -> None:
        """Load ``load_from``, or resume (see the module docstring)."""
        if self._has_loaded:
            return None
        if not (self._resume and self._load_from is None):
            return super().load_or_resume()
        candidates = resume_candidates(self.work_dir)
        if not candidates:
            raise CheckpointError(
                f'nothing to resume in work dir {self.work_dir}: no '
                'last_checkpoint and no epoch_*.pth / iter_*.pth; drop '
                '--resume (resume=False) to start a new run')
        skipped = []
        for path in candidates:
            try:
                self.resume(path)
            except (UnreadableCheckpointError,
                    MissingCheckpointError) as error:
                skipped.append(path)
                self.logger.warning(f'Not resuming from {path}: {error}')
                continue
            self._has_loaded = True
            self.logger.info(f'Auto resumed from the newest complete '
                             f'checkpoint {path}.')
            return None
        raise CheckpointError(
            f'nothing to resume in work dir {self.work_dir}: no checkpoint '
            f'is readable ({", ".join(skipped)})')

    def save_checkpoint(self,
                        out_dir: str,
                        filename: str,
                        file_client_args: Optional[dict] = None,
                        save_optimizer: bool = True,
                        save_param_scheduler: bool = True,
                        meta: Optional[dict] = None,
                        by_epoch: bool = True,
                        backend_args: Optional[dict] = None) -> None:
        """Save like MMEngine, but atomically for local directories.

        Remote back ends (``backend_args`` / ``file_client_args`` / a URL
        ``out_dir``) are passed to MMEngine unchanged.

        Raises:
            CheckpointError: The file could not be written (e.g. the disk is
                full); the previous checkpoints are untouched.
        """
        kwargs = dict(
            file_client_args=file_client_args,
            save_optimizer=save_optimizer,
            save_param_scheduler=save_param_scheduler,
            meta=meta,
            by_epoch=by_epoch,
            backend_args=backend_args)
        if file_client_args is not None or backend_args is not None or \
                '://' in str(out_dir):
            return super().save_checkpoint(out_dir, filename, **kwargs)
        final = osp.join(out_dir, filename)
        tmp = temp_name(final)
        try:
            super().save_checkpoint(out_dir, osp.basename(tmp), **kwargs)
            if is_main_process():
                fault_point('save:tmp_written')
                fault_point('save:tmp_truncated', tmp)
                replace_atomically(tmp, final)
                fault_point('save:replaced')
        except OSError as error:
            raise CheckpointError(
                f'could not write checkpoint {final}: {error}; the previous '
                'checkpoints are kept') from error
        finally:
            if osp.exists(tmp):
                try:
                    os.remove(tmp)
                except OSError:
                    self.logger.log(logging.WARNING,
                                    f'could not remove {tmp}')
