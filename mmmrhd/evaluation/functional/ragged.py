# Copyright (c) mmmrhd contributors. All rights reserved.
"""Flat ragged arrays: runs of per-query entries stored back to back.

The evaluation keeps every per-query list (windows, saliency scores) as one
flat array plus a ``counts`` array, which costs a few bytes per entry instead
of one Python/numpy object per query, and pads chunks of queries only when
computing.
"""
from typing import Tuple

import numpy as np


def ragged_offsets(counts: np.ndarray) -> np.ndarray:
    """Start of each run in a flat array of runs of ``counts`` entries."""
    counts = np.asarray(counts, dtype=np.int64)
    return np.cumsum(counts) - counts


def ragged_take(flat: np.ndarray,
                counts: np.ndarray,
                index: np.ndarray,
                block: int = 4096) -> Tuple[np.ndarray, np.ndarray]:
    """Select runs ``index`` of a flat ragged array, in that order.

    Works on ``block`` runs at a time, so the temporary index arrays stay
    small; taking every run in order returns the input itself.

    Args:
        flat (np.ndarray): ``(sum(counts), ...)`` entries, run after run.
        counts (np.ndarray): ``(R,)`` run lengths.
        index (np.ndarray): ``(S,)`` runs to take.
        block (int): Runs gathered at once.

    Returns:
        tuple[np.ndarray, np.ndarray]: The taken entries and their
        ``(S,)`` run lengths.
    """
    counts = np.asarray(counts, dtype=np.int64)
    index = np.asarray(index, dtype=np.int64)
    if len(index) == len(counts) and np.array_equal(
            index, np.arange(len(counts))):
        return flat, counts
    starts = ragged_offsets(counts)[index]
    sel = counts[index]
    pieces = []
    for a in range(0, len(index), block):
        b_sel, b_starts = sel[a:a + block], starts[a:a + block]
        pos = np.arange(int(b_sel.sum())) - np.repeat(ragged_offsets(b_sel),
                                                      b_sel)
        pieces.append(flat[np.repeat(b_starts, b_sel) + pos])
    taken = (np.concatenate(pieces) if pieces else flat[:0])
    return taken, sel


def ragged_to_padded(flat: np.ndarray, counts: np.ndarray, width: int,
                     fill: float) -> np.ndarray:
    """Scatter runs into a padded ``(R, width, ...)`` array.

    Runs longer than ``width`` are truncated (their first entries kept).

    Args:
        flat (np.ndarray): ``(sum(counts), ...)`` entries, run after run.
        counts (np.ndarray): ``(R,)`` run lengths.
        width (int): Padded length.
        fill (float): Padding value.

    Returns:
        np.ndarray: ``(R, width, ...)`` of ``flat``'s dtype.
    """
    counts = np.asarray(counts, dtype=np.int64)
    out = np.full((len(counts), width) + flat.shape[1:], fill,
                  dtype=flat.dtype)
    rows = np.repeat(np.arange(len(counts)), counts)
    cols = np.arange(len(flat)) - np.repeat(ragged_offsets(counts), counts)
    keep = cols < width
    out[rows[keep], cols[keep]] = flat[keep]
    return out


def prefix_sums(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Sum the first ``counts[r]`` entries of each row exactly like ``np.sum``.

    Rows with the same count are gathered into a C-contiguous ``(R, m)``
    array and summed with ``np.sum(axis=1)``, which applies numpy's pairwise
    summation to each row just as ``np.sum`` does to a 1-D array of length
    ``m`` (a plain left-to-right sum can differ in the last bit for
    ``m >= 8``). This is how the official per-query ``np.sum`` / ``np.mean``
    of AP terms is reproduced bit for bit.

    Args:
        values (np.ndarray): ``(R, W)`` float64 terms, row after row.
        counts (np.ndarray): ``(R,)`` terms per row (``<= W``).

    Returns:
        np.ndarray: ``(R,)`` float64 sums (0 for empty rows).
    """
    out = np.zeros(len(counts))
    for m in distinct_counts(counts):
        if m == 0:
            continue
        rows = np.flatnonzero(counts == m)
        out[rows] = np.sum(values[rows, :m], axis=1)
    return out


def distinct_counts(counts: np.ndarray) -> np.ndarray:
    """Sorted distinct values of non-negative int ``counts``.

    ``np.unique`` without its import of ``numpy.ma`` (~5-30 ms of the
    command-line tool's start-up).
    """
    counts = np.asarray(counts, dtype=np.int64)
    if counts.size == 0:
        return counts
    return np.flatnonzero(np.bincount(counts))
