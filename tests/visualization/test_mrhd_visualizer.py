# Copyright (c) mmmrhd contributors. All rights reserved.
"""MRHDVisualizer plots and the self-contained HTML page."""
import base64
import html
import io
import os.path as osp
import re

import numpy as np
import pytest
from matplotlib.image import imread

from mmmrhd.registry import VISUALIZERS
from mmmrhd.visualization import (MRHDVisualizer, gt_from_ann,
                                  render_html_page, write_html_page)

PRED = dict(
    qid=3,
    query='a dog <catches> a frisbee',
    vid='vid_a',
    duration=20.0,
    pred_relevant_windows=[[4.0, 8.0, 0.9], [12.0, 16.0, 0.25]],
    pred_saliency_scores=[0.1 * i for i in range(10)],
    ann=dict(relevant_windows=[[4, 10]], relevant_clip_ids=[2, 3, 4],
             saliency_scores=[[1, 2, 3], [4, 4, 4], [0, 0, 3]]))


def _visualizer(name, **kwargs):
    return MRHDVisualizer.get_instance(f'test_vis_{name}', **kwargs)


def test_registered_and_built_from_config():
    vis = VISUALIZERS.build(
        dict(type='MRHDVisualizer', name='test_vis_cfg', figsize=(4, 2),
             dpi=50, _scope_='mmmrhd'))
    assert isinstance(vis, MRHDVisualizer)
    image = vis.draw_mrhd(PRED)
    assert image.shape == (100, 200, 3)


def test_gt_from_ann():
    gt = gt_from_ann(PRED['ann'], clip_len=2.0)
    assert gt['windows'] == [[4.0, 10.0]]
    assert gt['saliency'] == [(5.0, 2.0), (7.0, 4.0), (9.0, 1.0)]
    assert gt_from_ann(None, 2.0) == dict(windows=[], saliency=[])


def test_draw_size_and_content(tmp_path):
    vis = _visualizer('draw')
    image = vis.draw_mrhd(PRED, notice='pipeline check')
    assert image.shape == (320, 1000, 3) and image.dtype == np.uint8
    assert np.array_equal(vis.get_image(), image)
    # predicted window [4, 8] is shaded blue, more than [12, 16] (score
    # 0.9 vs 0.25): compare one pixel row inside the axes
    row = image[150]
    x = lambda t: int(0.07 * 1000 + t / 20.0 * 0.86 * 1000)  # noqa: E731
    strong, weak, empty = row[x(6.5)], row[x(14.5)], row[x(18.5)]
    assert empty.tolist() == [255, 255, 255]
    assert strong[2] > strong[0] and weak[2] > weak[0]
    assert int(strong[0]) < int(weak[0])  # more opaque = darker red channel
    no_pred = vis.draw_mrhd(PRED, draw_pred=False, draw_gt=False)
    assert not np.array_equal(no_pred, image)
    path = vis.save_png(image, str(tmp_path / 'sub' / 'p.png'))
    png = imread(path)
    assert png.shape[:2] == (320, 1000)


def test_add_datasample_writes_png(tmp_path):
    vis = _visualizer('add', figsize=(6, 2), dpi=100)
    out = str(tmp_path / 'x.png')
    vis.add_datasample('x', data_sample=PRED, out_file=out)
    assert imread(out).shape[:2] == (200, 600)
    with pytest.raises(ValueError, match='needs a data_sample'):
        vis.add_datasample('x')


def test_html_page(tmp_path):
    video = tmp_path / 'videos' / 'my clip.mp4'
    video.parent.mkdir()
    video.write_bytes(b'\x00\x01fake mp4 bytes')
    vis = _visualizer('html')
    image = vis.draw_mrhd(PRED)
    page = write_html_page(str(tmp_path / 'out' / 'vid_a.html'),
                           [PRED], [image], video_path=str(video),
                           notice='pipeline check, not meaningful')
    with open(page, encoding='utf-8') as f:
        text = f.read()
    assert text.startswith('<!DOCTYPE html>')
    assert 'src="../videos/my%20clip.mp4"' in text  # relative to the page
    assert '<p class="notice">pipeline check, not meaningful</p>' in text
    assert html.escape(PRED['query']) in text and '<catches>' not in text
    buttons = re.findall(r'onclick="seekTo\(([\d.]+), ([\d.]+)\)"', text)
    assert buttons == [('4.0', '8.0'), ('12.0', '16.0')]
    assert '#1 4.0&ndash;8.0 s (0.90)' in text
    # the plot is embedded as base64 PNG and decodes to the drawn image
    data = re.search(r'data:image/png;base64,([A-Za-z0-9+/=]+)', text)
    decoded = imread(io.BytesIO(base64.b64decode(data.group(1))))
    assert decoded.shape[:2] == image.shape[:2]
    assert np.array_equal((decoded[..., :3] * 255).round().astype(np.uint8),
                          image)
    # embedded video
    embedded = render_html_page([PRED], [], video_path=str(video),
                                embed_video=True)
    payload = base64.b64encode(video.read_bytes()).decode()
    assert f'src="data:video/mp4;base64,{payload}"' in embedded
    assert 'data:image/png' not in embedded
    features_only = render_html_page([PRED], [])
    assert '<video' not in features_only and 'no video file' in features_only
    with pytest.raises(ValueError, match='2 plots for 1 predictions'):
        render_html_page([PRED], [image, image])
    assert osp.isfile(page)
