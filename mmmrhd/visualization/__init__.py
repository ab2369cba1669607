# Copyright (c) mmmrhd contributors. All rights reserved.
"""Visualisation of MR/HD predictions: plots and an HTML page."""
from .html_page import draw_predictions, render_html_page, write_html_page
from .mrhd_visualizer import MRHDVisualizer, gt_from_ann

__all__ = [
    'MRHDVisualizer', 'gt_from_ann', 'render_html_page', 'write_html_page',
    'draw_predictions'
]
