# Copyright (c) mmmrhd contributors. All rights reserved.
"""Plot every test prediction (``tools/test.py --show-dir``)."""
import os.path as osp
import re
from typing import Any, Optional, Sequence

from mmengine.config import Config
from mmengine.hooks import Hook

from mmmrhd.registry import HOOKS

__all__ = ['MRHDVisualizationHook', 'add_show_dir_hook']


def _safe(name: Any) -> str:
    """A file-name-safe version of a vid/qid."""
    return re.sub(r'[^A-Za-z0-9._-]+', '_', str(name))


@HOOKS.register_module()
class MRHDVisualizationHook(Hook):
    """Draw each test prediction with :class:`MRHDVisualizer` into PNGs.

    One ``<vid>_<qid>.png`` per query: saliency curve, predicted moments
    (opacity by score) and the ground truth of the annotation record. The
    runner's visualizer is used when it is an ``MRHDVisualizer`` (the
    default runtime config), otherwise one is created.

    Args:
        draw (bool): Draw at all. Defaults to False (as MMDetection's hook,
            switched on by ``tools/test.py --show-dir``).
        test_out_dir (str, optional): Directory of the PNGs (relative paths
            are relative to the working directory). None = the runner's
            ``<work_dir>/<timestamp>/vis``.
        interval (int): Draw the predictions of every ``interval``-th test
            batch. Defaults to 1 (all).
    """

    priority = 'NORMAL'

    def __init__(self,
                 draw: bool = False,
                 test_out_dir: Optional[str] = None,
                 interval: int = 1) -> None:
        if interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        self.draw = draw
        self.test_out_dir = test_out_dir
        self.interval = interval

    def after_test_iter(self, runner, batch_idx: int, data_batch: Any = None,
                        outputs: Optional[Sequence[dict]] = None) -> None:
        """Write the PNGs of one test batch."""
        if not self.draw or not outputs or batch_idx % self.interval:
            return
        from mmmrhd.visualization import MRHDVisualizer
        visualizer = runner.visualizer
        if not isinstance(visualizer, MRHDVisualizer):
            visualizer = MRHDVisualizer.get_instance('mmmrhd_show_dir')
        out_dir = self.test_out_dir or osp.join(runner.log_dir, 'vis')
        metainfo = getattr(runner.test_loop.dataloader.dataset, 'metainfo',
                           {}) or {}
        clip_len = float(metainfo.get('clip_len', 2.0))
        for pred in outputs:
            name = f'{_safe(pred.get("vid"))}_{_safe(pred.get("qid"))}'
            visualizer.add_datasample(
                name,
                data_sample=pred,
                out_file=osp.join(out_dir, name + '.png'),
                clip_len=clip_len)


def add_show_dir_hook(cfg: Config, show_dir: str) -> None:
    """Append an ``MRHDVisualizationHook`` writing into ``show_dir``.

    Args:
        cfg (Config): The test config (``custom_hooks`` is extended).
        show_dir (str): Directory of the PNGs.
    """
    hooks = list(cfg.get('custom_hooks', None) or [])
    hooks.append(
        dict(type='MRHDVisualizationHook', draw=True, test_out_dir=show_dir))
    cfg.custom_hooks = hooks
