# Copyright (c) mmmrhd contributors. All rights reserved.
"""A self-contained HTML page: the video, a seek button per moment, plots.

The page needs no server and no other file except the video: the plots are
embedded as base64 PNG, the few lines of JavaScript are inline. The video is
referenced by a path relative to the page (move both together) or, with
``embed_video=True``, embedded as a base64 ``data:`` URI (large pages for
long videos).
"""
import base64
import html
import io
import os
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence, Union
from urllib.parse import quote

import numpy as np

__all__ = ['write_html_page', 'render_html_page', 'draw_predictions']

_MIME = {
    '.mp4': 'video/mp4',
    '.m4v': 'video/mp4',
    '.webm': 'video/webm',
    '.ogv': 'video/ogg',
    '.mov': 'video/quicktime',
    '.mkv': 'video/x-matroska',
    '.avi': 'video/x-msvideo',
}

_STYLE = """
body { font-family: sans-serif; max-width: 1040px; margin: 1em auto; }
.notice { background: #fde2e2; color: #8a1c1c; padding: .5em .8em;
          border-radius: 4px; }
video { width: 100%; max-height: 480px; background: #000; }
.moments button { margin: 2px; cursor: pointer; }
.query img { width: 100%; }
"""

# Seek to the start of a moment and pause at its end.
_SCRIPT = """
function seekTo(start, end) {
  var v = document.getElementById('video');
  if (!v) { return; }
  v.currentTime = start;
  v.dataset.stopAt = end;
  v.play();
}
(function () {
  var v = document.getElementById('video');
  if (!v) { return; }
  v.addEventListener('timeupdate', function () {
    var stop = parseFloat(v.dataset.stopAt);
    if (!isNaN(stop) && v.currentTime >= stop) {
      v.pause();
      delete v.dataset.stopAt;
    }
  });
})();
"""


def _png_base64(image: Union[str, np.ndarray]) -> str:
    if isinstance(image, str):
        with open(image, 'rb') as f:
            data = f.read()
    else:
        from matplotlib.image import imsave  # lazy: heavy import
        buf = io.BytesIO()
        imsave(buf, image, format='png')
        data = buf.getvalue()
    return base64.b64encode(data).decode('ascii')


def _video_src(video_path: str, page_dir: str, embed: bool) -> str:
    if embed:
        mime = _MIME.get(osp.splitext(video_path)[1].lower(), 'video/mp4')
        with open(video_path, 'rb') as f:
            data = base64.b64encode(f.read()).decode('ascii')
        return f'data:{mime};base64,{data}'
    rel = osp.relpath(osp.abspath(video_path), osp.abspath(page_dir))
    return quote(rel.replace(os.sep, '/'))


def _fmt(seconds: float) -> str:
    return f'{seconds:.1f}'


def render_html_page(preds: Sequence[Dict[str, Any]],
                     images: Sequence[Union[str, np.ndarray]],
                     video_path: Optional[str] = None,
                     page_dir: str = '.',
                     embed_video: bool = False,
                     notice: Optional[str] = None,
                     title: Optional[str] = None) -> str:
    """The HTML text of the page (see :func:`write_html_page`)."""
    if len(images) not in (0, len(preds)):
        raise ValueError(f'got {len(images)} plots for {len(preds)} '
                         'predictions')
    vid = preds[0].get('vid', 'video') if preds else 'video'
    title = title or f'mmmrhd: {vid}'
    parts: List[str] = [
        '<!DOCTYPE html>', '<html lang="en">', '<head>',
        '<meta charset="utf-8">', f'<title>{html.escape(title)}</title>',
        f'<style>{_STYLE}</style>', '</head>', '<body>',
        f'<h1>{html.escape(title)}</h1>'
    ]
    if notice:
        parts.append(f'<p class="notice">{html.escape(notice)}</p>')
    if video_path is not None:
        src = _video_src(video_path, page_dir, embed_video)
        parts.append(f'<video id="video" controls preload="metadata" '
                     f'src="{html.escape(src)}"></video>')
    else:
        parts.append('<p>(no video file: the input was features)</p>')
    for i, pred in enumerate(preds):
        query = html.escape(str(pred.get('query', '')))
        qid = html.escape(str(pred.get('qid', i)))
        parts.append(f'<section class="query" data-qid="{qid}">')
        parts.append(f'<h2>{query} <small>(qid {qid})</small></h2>')
        parts.append('<div class="moments">')
        for rank, row in enumerate(pred.get('pred_relevant_windows') or []):
            st, ed, score = (float(v) for v in row[:3])
            parts.append(
                f'<button class="moment" data-start="{st}" data-end="{ed}" '
                f'onclick="seekTo({st}, {ed})">#{rank + 1} {_fmt(st)}&ndash;'
                f'{_fmt(ed)} s ({score:.2f})</button>')
        parts.append('</div>')
        if images:
            parts.append(f'<img alt="moments and saliency of {query}" '
                         f'src="data:image/png;base64,'
                         f'{_png_base64(images[i])}">')
        parts.append('</section>')
    parts += [f'<script>{_SCRIPT}</script>', '</body>', '</html>', '']
    return '\n'.join(parts)


def write_html_page(path: str,
                    preds: Sequence[Dict[str, Any]],
                    images: Sequence[Union[str, np.ndarray]] = (),
                    video_path: Optional[str] = None,
                    embed_video: bool = False,
                    notice: Optional[str] = None,
                    title: Optional[str] = None) -> str:
    """Write the page of one video and its queries.

    Args:
        path (str): The ``.html`` file (parent directories created).
        preds (Sequence[dict]): Prediction records of one video (``qid``,
            ``query``, ``vid``, ``pred_relevant_windows``).
        images (Sequence[str | np.ndarray]): One plot per record (PNG path
            or RGB array), embedded as base64 PNG; may be empty.
        video_path (str, optional): The video file, referenced relative to
            the page (or embedded with ``embed_video``).
        embed_video (bool): Embed the video bytes in the page.
        notice (str, optional): A highlighted line at the top.
        title (str, optional): Defaults to ``'mmmrhd: <vid>'``.

    Returns:
        str: ``path``.
    """
    page_dir = osp.dirname(osp.abspath(path))
    os.makedirs(page_dir, exist_ok=True)
    text = render_html_page(preds, images, video_path, page_dir, embed_video,
                            notice, title)
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text)
    return path


def draw_predictions(preds: Sequence[Dict[str, Any]],
                     clip_len: float,
                     out_dir: Optional[str] = None,
                     video_path: Optional[str] = None,
                     vid: Optional[str] = None,
                     notice: Optional[str] = None,
                     embed_video: bool = False) -> List[np.ndarray]:
    """Plot the predictions of one video; with ``out_dir`` save them.

    Writes ``<out_dir>/<vid>_<qid>.png`` per query and ``<out_dir>/<vid>.html``
    (:func:`write_html_page`: the video, a seek button per moment, the
    plots).

    Args:
        preds (Sequence[dict]): Prediction records (with ``duration`` and,
            for ground truth, ``ann``).
        clip_len (float): Seconds per saliency score.
        out_dir (str, optional): Where to write; None = only draw.
        video_path (str, optional): The video file for the page.
        vid (str, optional): Page name; defaults to the first record's vid.
        notice (str, optional): Shown on the plots and the page.
        embed_video (bool): Embed the video in the page.

    Returns:
        list[np.ndarray]: One RGB plot per record.
    """
    from .mrhd_visualizer import MRHDVisualizer
    visualizer = MRHDVisualizer.get_instance('mmmrhd_inferencer')
    images = []
    for pred in preds:
        image = visualizer.draw_mrhd(pred, clip_len=clip_len, notice=notice)
        images.append(image)
        if out_dir is not None:
            visualizer.save_png(
                image, osp.join(out_dir, f'{pred["vid"]}_{pred["qid"]}.png'))
    if out_dir is not None:
        vid = vid or (preds[0]['vid'] if preds else 'video')
        write_html_page(osp.join(out_dir, f'{vid}.html'), preds, images,
                        video_path=video_path, embed_video=embed_video,
                        notice=notice)
    return images
