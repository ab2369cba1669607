# Copyright (c) mmmrhd contributors. All rights reserved.
"""The official nested result layout, rounding and the brief table."""
from collections import OrderedDict
from typing import Dict, Mapping, Optional, Sequence

import numpy as np
from terminaltables import AsciiTable


def percent(x: float) -> float:
    """``float(f"{100 * x:.2f}")``: the official rounding of every metric."""
    return float(f'{100 * x:.2f}')


def mr_section(ap: np.ndarray, top1_iou: np.ndarray,
               map_thresholds: Sequence[float], r1_thresholds: Sequence[float],
               with_miou: bool) -> Dict[str, object]:
    """One length bucket of moment-retrieval results.

    Args:
        ap (np.ndarray): ``(Q, T)`` per-query AP in submission order.
        top1_iou (np.ndarray): ``(Q,)`` R1 IoU of the first window.
        map_thresholds (Sequence[float]): The T mAP thresholds.
        r1_thresholds (Sequence[float]): R1 thresholds.
        with_miou (bool): Add ``MR-mIoU`` first (CG-DETR layout).

    Returns:
        dict: ``{'MR-mIoU'?, 'MR-mAP': {thr..., 'average'}, 'MR-R1':
        {thr...}}`` with official keys (``str(thr)``) and rounding.
    """
    # ap.mean(0) sums the rows in order, like the official ap_array.mean(0).
    ap_thds = ap.mean(0)
    mr_map = {str(t): percent(v) for t, v in zip(map_thresholds, ap_thds)}
    mr_map['average'] = percent(np.mean(ap_thds))
    mr_r1 = {str(t): percent(np.mean(top1_iou >= t)) for t in r1_thresholds}
    section = {}
    if with_miou:
        section['MR-mIoU'] = percent(np.mean(top1_iou))
    section['MR-mAP'] = mr_map
    section['MR-R1'] = mr_r1
    return section


def empty_bucket_zeros() -> Dict[str, object]:
    """CG-DETR's section for a length bucket without GT windows.

    CG-DETR ``standalone_eval/eval.py eval_moment_retrieval`` fills one dict
    keyed by ``np.linspace(0.5, 0.95, 19)`` (json-encoded floats, e.g.
    ``"0.7749999999999999"``) plus ``average`` with 0.0 and uses it for both
    ``MR-mAP`` and ``MR-R1``; there is no ``MR-mIoU``.
    """
    dummy = {repr(float(k)): 0. for k in np.linspace(0.5, 0.95, 19)}
    dummy['average'] = 0.
    return {'MR-mAP': dict(dummy), 'MR-R1': dict(dummy)}


def assemble_results(mr_sections: Optional[Mapping[str, dict]],
                     hl_sections: Optional[Mapping[str, dict]],
                     brief_r1: Sequence[float],
                     with_miou: bool) -> 'OrderedDict[str, object]':
    """Build the official output: ``brief`` then the sections by name.

    ``brief`` holds the MR keys sorted alphabetically, then per HL level
    ``HL-min-<level>-mAP`` and ``-Hit1`` (``eval.py eval_submission``).

    Args:
        mr_sections (Mapping[str, dict], optional): Bucket name to section
            (buckets absent from the mapping are left out).
        hl_sections (Mapping[str, dict], optional): ``HL-min-<level>`` to
            ``{'HL-mAP', 'HL-Hit1'}`` in level order.
        brief_r1 (Sequence[float]): R1 thresholds shown in the brief.
        with_miou (bool): Show ``MR-full-mIoU`` in the brief.

    Returns:
        OrderedDict: The nested results.
    """
    brief = OrderedDict()
    sections = {}
    if mr_sections is not None:
        full = mr_sections['full']
        mr_brief = {
            'MR-full-mAP': full['MR-mAP']['average'],
            'MR-full-mAP@0.5': full['MR-mAP']['0.5'],
            'MR-full-mAP@0.75': full['MR-mAP']['0.75'],
        }
        for name in ('short', 'middle', 'long'):
            if name in mr_sections:
                mr_brief[f'MR-{name}-mAP'] = mr_sections[name]['MR-mAP'][
                    'average']
        for thr in brief_r1:
            mr_brief[f'MR-full-R1@{thr}'] = full['MR-R1'][str(thr)]
        if with_miou:
            mr_brief['MR-full-mIoU'] = full['MR-mIoU']
        brief.update(sorted(mr_brief.items()))
        sections.update(mr_sections)
    if hl_sections is not None:
        for name, section in hl_sections.items():
            brief[f'{name}-mAP'] = section['HL-mAP']
            brief[f'{name}-Hit1'] = section['HL-Hit1']
        sections.update(hl_sections)
    results = OrderedDict(brief=brief)
    results.update(sorted(sections.items()))
    return results


#: Decimals of the metric tables: the official rounding of the values, so
#: that a table shows exactly what the results JSON holds. QVHighlights and
#: Charades-STA: percentages with 2 decimals (``percent``, official
#: ``float(f"{100 * x:.2f}")``); TVSum: fractions with 5 decimals (official
#: ``round(mAP, 5)``).
TABLE_DECIMALS = dict(percent=2, tvsum=5)


def brief_table(brief: Mapping[str, float],
                title: str = '',
                decimals: int = TABLE_DECIMALS['percent']) -> str:
    """An :class:`terminaltables.AsciiTable` of the brief metrics.

    Every value has ``decimals`` decimals (``12.50``, ``0.00``), right
    aligned, so that columns of numbers line up.

    Args:
        brief (Mapping[str, float]): Metric name to value.
        title (str): Table title.
        decimals (int): Decimals of every value. Defaults to 2 (the
            official percentages).

    Returns:
        str: The rendered table.
    """
    rows = [['metric', 'value']]
    rows += [[k, f'{v:.{decimals}f}'] for k, v in brief.items()]
    table = AsciiTable(rows, title=title or None)
    table.inner_footing_row_border = False
    table.justify_columns[1] = 'right'
    return table.table
