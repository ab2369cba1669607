# Copyright (c) mmmrhd contributors. All rights reserved.
"""Plot of one query's moments and saliency over the video's time axis."""
import os
import os.path as osp
import textwrap
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from mmengine.visualization import Visualizer

from mmmrhd.registry import VISUALIZERS

__all__ = ['MRHDVisualizer', 'gt_from_ann']

PRED_COLOR = '#1f77b4'  # predicted windows and saliency
GT_COLOR = '#2ca02c'  # ground truth


def gt_from_ann(ann: Optional[Dict[str, Any]],
                clip_len: float) -> Dict[str, Any]:
    """Ground truth of an annotation record (QVHighlights schema).

    Args:
        ann (dict, optional): ``relevant_windows`` ``[[st, ed], ...]`` s,
            ``relevant_clip_ids`` and ``saliency_scores`` (per clip, one
            score per annotator); every field optional.
        clip_len (float): Seconds per clip.

    Returns:
        dict: ``windows`` (list of ``[st, ed]``) and ``saliency`` (list of
        ``(time_s, mean score)`` at clip centres); empty when unknown.
    """
    gt: Dict[str, Any] = dict(windows=[], saliency=[])
    if not ann:
        return gt
    gt['windows'] = [list(map(float, w[:2]))
                     for w in ann.get('relevant_windows') or []]
    ids = ann.get('relevant_clip_ids') or []
    scores = ann.get('saliency_scores') or []
    if len(ids) == len(scores):
        gt['saliency'] = [((int(i) + 0.5) * clip_len,
                           float(np.mean(np.asarray(s, dtype=np.float64))))
                          for i, s in zip(ids, scores)]
    return gt


@VISUALIZERS.register_module()
class MRHDVisualizer(Visualizer):
    """Draws MR/HD predictions: saliency curve, moments, ground truth.

    The plot (matplotlib, Agg backend, no display needed) has time in
    seconds on the x axis; predicted moments are shaded spans whose opacity
    grows with their score (the top ``max_moments``), the saliency curve is
    drawn at the clip centres, and ground truth, when the prediction carries
    its annotation (``ann``), is drawn as green bars under the axis and
    green markers (mean annotator score, right axis). The image size is
    fixed: ``figsize * dpi`` pixels (default 1000 x 320).

    Args:
        name (str): Instance name (MMEngine ``ManagerMixin``).
        figsize (tuple[float, float]): Inches. Defaults to ``(10, 3.2)``.
        dpi (int): Dots per inch. Defaults to 100.
        max_moments (int): Predicted moments drawn. Defaults to 5.
        **kwargs: :class:`mmengine.visualization.Visualizer` arguments
            (``vis_backends``, ``save_dir``, ...).
    """

    def __init__(self,
                 name: str = 'visualizer',
                 figsize: Sequence[float] = (10, 3.2),
                 dpi: int = 100,
                 max_moments: int = 5,
                 **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        if max_moments < 0:
            raise ValueError(f'max_moments must be >= 0, got {max_moments}')
        self.figsize = tuple(figsize)
        self.dpi = dpi
        self.max_moments = max_moments

    def draw_mrhd(self,
                  pred: Dict[str, Any],
                  clip_len: float = 2.0,
                  duration: Optional[float] = None,
                  draw_gt: bool = True,
                  draw_pred: bool = True,
                  notice: Optional[str] = None) -> np.ndarray:
        """Draw one prediction record and make it the current image.

        Args:
            pred (dict): ``query``, ``pred_relevant_windows``,
                ``pred_saliency_scores`` (optional), ``duration`` and ``ann``
                (optional, the ground truth).
            clip_len (float): Seconds per saliency score.
            duration (float, optional): x range; defaults to
                ``pred['duration']``, else the end of the saliency curve.
            draw_gt (bool): Draw the ground truth when known.
            draw_pred (bool): Draw the predictions.
            notice (str, optional): A red line under the title, e.g. "pipeline
                check, not meaningful predictions".

        Returns:
            np.ndarray: uint8 RGB ``(H, W, 3)``.
        """
        saliency = list(pred.get('pred_saliency_scores') or [])
        if duration is None:
            duration = pred.get('duration') or len(saliency) * clip_len
        duration = float(duration) if duration else clip_len
        # matplotlib is imported on first use (it is heavy to import).
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        fig = Figure(figsize=self.figsize, dpi=self.dpi)
        canvas = FigureCanvasAgg(fig)
        ax = fig.add_axes((0.07, 0.18, 0.86, 0.6))
        ax.set_xlim(0, duration)
        ax.set_xlabel('time (s)')
        ax.set_ylabel('saliency', color=PRED_COLOR)
        if draw_pred:
            self._draw_pred(ax, pred, saliency, clip_len)
        if draw_gt:
            self._draw_gt(ax, gt_from_ann(pred.get('ann'), clip_len))
        title = f'"{pred.get("query", "")}"'
        fig.text(0.07, 0.93, textwrap.shorten(title, 110), fontsize=10,
                 weight='bold')
        if notice:
            fig.text(0.07, 0.85, textwrap.shorten(notice, 130), fontsize=8,
                     color='#d62728')
        canvas.draw()
        image = np.asarray(canvas.buffer_rgba())[..., :3].copy()
        self.set_image(image)
        return image

    def _draw_pred(self, ax, pred: Dict[str, Any], saliency: List[float],
                   clip_len: float) -> None:
        windows = pred.get('pred_relevant_windows') or []
        for rank, (st, ed, score) in enumerate(windows[:self.max_moments]):
            alpha = 0.08 + 0.5 * float(np.clip(score, 0.0, 1.0))
            ax.axvspan(st, ed, color=PRED_COLOR, alpha=alpha, lw=0)
            # one label row per rank (inside the axes), so that labels of
            # overlapping moments do not cover each other
            ax.text((st + ed) / 2, 0.97 - 0.09 * rank,
                    f'#{rank + 1} {score:.2f}',
                    transform=ax.get_xaxis_transform(), ha='center',
                    va='top', fontsize=7, color='#0b3c5d')
        if saliency:
            t = (np.arange(len(saliency)) + 0.5) * clip_len
            ax.plot(t, saliency, color=PRED_COLOR, lw=1.2)

    @staticmethod
    def _draw_gt(ax, gt: Dict[str, Any]) -> None:
        for st, ed in gt['windows']:
            ax.axvspan(st, ed, ymin=0.0, ymax=0.04, color=GT_COLOR, lw=0)
        if gt['saliency']:
            ax2 = ax.twinx()
            t, s = zip(*gt['saliency'])
            ax2.plot(t, s, 'o', ms=2.5, color=GT_COLOR)
            ax2.set_ylabel('GT saliency', color=GT_COLOR)

    @staticmethod
    def save_png(image: np.ndarray, path: str) -> str:
        """Write an RGB image as PNG (parent directories created)."""
        parent = osp.dirname(osp.abspath(path))
        os.makedirs(parent, exist_ok=True)
        from matplotlib.image import imsave
        imsave(path, image, format='png')
        return path

    def add_datasample(self,
                       name: str,
                       image: Optional[np.ndarray] = None,
                       data_sample: Optional[Dict[str, Any]] = None,
                       draw_gt: bool = True,
                       draw_pred: bool = True,
                       show: bool = False,
                       wait_time: float = 0,
                       out_file: Optional[str] = None,
                       step: int = 0,
                       clip_len: float = 2.0) -> np.ndarray:
        """Draw a prediction record; save it or hand it to the backends.

        Args:
            name (str): Image name for the backends.
            image: Unused (MR/HD samples have no image); kept for the
                MMEngine signature.
            data_sample (dict): A prediction record (see :meth:`draw_mrhd`).
            draw_gt (bool): Draw the ground truth when known.
            draw_pred (bool): Draw the predictions.
            show (bool): Show in a window (needs a GUI backend).
            wait_time (float): Seconds to show.
            out_file (str, optional): Write a PNG there instead of calling
                the backends.
            step (int): Global step for the backends.
            clip_len (float): Seconds per saliency score.

        Returns:
            np.ndarray: The RGB plot.
        """
        if data_sample is None:
            raise ValueError('MRHDVisualizer.add_datasample needs a '
                             'data_sample (a prediction record)')
        drawn = self.draw_mrhd(data_sample, clip_len=clip_len,
                               draw_gt=draw_gt, draw_pred=draw_pred)
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            self.save_png(drawn, out_file)
        else:
            self.add_image(name, drawn, step)
        return drawn
