# Copyright (c) mmmrhd contributors. All rights reserved.
"""Window placement and the merge of per-window predictions."""
import pytest

from mmmrhd.apis import merge_window_predictions, window_starts


@pytest.mark.parametrize('num_clips, size, stride, expected', [
    (75, 75, None, [0]),  # fits: one window
    (10, 75, None, [0]),
    (150, 75, None, [0, 37, 74, 75]),  # stride W // 2 = 37, end-aligned
    (10, 4, 3, [0, 3, 6]),  # 6 = 10 - 4 is already a stride multiple
    (11, 4, 3, [0, 3, 6, 7]),  # last window end-aligned at 11 - 4
    (9, 4, 4, [0, 4, 5]),
    (5, 4, 1, [0, 1]),
    (100, None, 10, [0]),  # no window size: the whole video
])
def test_window_starts(num_clips, size, stride, expected):
    starts = window_starts(num_clips, size, stride)
    assert starts == expected
    covered = set()
    for s in starts:
        covered.update(range(s, min(s + (size or num_clips), num_clips)))
    assert covered == set(range(num_clips))
    if size is not None and num_clips > size:
        assert starts[-1] + size == num_clips  # end-aligned, never short


@pytest.mark.parametrize('kwargs, match', [
    (dict(num_clips=0, window_size=4, stride=2), 'at least one clip'),
    (dict(num_clips=10, window_size=4, stride=5), r'stride must be in'),
    (dict(num_clips=10, window_size=4, stride=0), r'stride must be in'),
    (dict(num_clips=10, window_size=0, stride=1), 'window_size must be'),
])
def test_window_starts_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        window_starts(**kwargs)


def _pred(rows, saliency):
    return dict(qid=1, query='q', vid='v', duration=8.0,
                pred_relevant_windows=rows, pred_saliency_scores=saliency)


def test_single_window_is_returned_unchanged():
    pred = _pred([[2.0, 4.0, 0.9], [0.0, 8.0, 0.1]], [0.5, 0.25, 1.0, 0.0])
    merged = merge_window_predictions([(0, pred)], num_clips=4, clip_len=2.0,
                                      duration=8.0)
    assert merged == pred
    assert merged is not pred


def test_merge_offsets_nms_and_saliency_mean():
    # L = 10 clips of 2 s, windows of 4 clips at 0, 3, 6 (clips 3 and 6 are
    # covered twice).
    windows = [
        (0, _pred([[4.0, 6.0, 0.9487], [0.0, 8.0, 0.1]],
                  [0.0, 0.25, 0.5, 0.75])),
        (3, _pred([[6.0, 8.0, 0.9806], [0.0, 8.0, 0.1]],
                  [0.0, 0.25, 0.5, 0.75])),
        (6, _pred([[0.0, 2.0, 0.9806], [0.0, 8.0, 0.1]],
                  [0.0, 0.25, 0.5, 0.75])),
    ]
    merged = merge_window_predictions(windows, 10, 2.0, 20.0, nms_thr=0.5,
                                      max_windows=10)
    # window 1's [6, 8] -> [12, 14]; window 2's [0, 2] -> [12, 14] is the
    # same moment (IoU 1): suppressed; the tie keeps the earlier window.
    assert merged['pred_relevant_windows'] == [
        [12.0, 14.0, 0.9806],
        [4.0, 6.0, 0.9487],
        [0.0, 8.0, 0.1],
        [6.0, 14.0, 0.1],
        [12.0, 20.0, 0.1],
    ]
    # clip 3: (0.75 + 0.0) / 2; clip 6: (0.75 + 0.0) / 2
    assert merged['pred_saliency_scores'] == [
        0.0, 0.25, 0.5, 0.375, 0.25, 0.5, 0.375, 0.25, 0.5, 0.75
    ]
    # default: as many rows as one window returned (2)
    top = merge_window_predictions(windows, 10, 2.0, 20.0)
    assert top['pred_relevant_windows'] == [[12.0, 14.0, 0.9806],
                                            [4.0, 6.0, 0.9487]]
    # without NMS the duplicate stays
    no_nms = merge_window_predictions(windows, 10, 2.0, 20.0, nms_thr=None,
                                      max_windows=3)
    assert no_nms['pred_relevant_windows'] == [[12.0, 14.0, 0.9806],
                                               [12.0, 14.0, 0.9806],
                                               [4.0, 6.0, 0.9487]]


def test_merge_clamps_to_duration_and_rounds():
    windows = [(0, _pred([[0.5, 8.0, 0.3]], [1.0] * 4)),
               (3, _pred([[7.0, 8.0, 0.6]], [0.0] * 4))]
    merged = merge_window_predictions(windows, 7, 2.0 / 3, 4.1,
                                      max_windows=5)
    # 7.0 + 3 * (2/3) = 9.0 -> clamped to the duration 4.1
    assert merged['pred_relevant_windows'] == [[4.1, 4.1, 0.6],
                                               [0.5, 4.1, 0.3]]
    assert merged['pred_saliency_scores'] == [1.0, 1.0, 1.0, 0.5, 0.0, 0.0,
                                              0.0]


def test_merge_errors():
    with pytest.raises(ValueError, match='no window'):
        merge_window_predictions([], 4, 2.0, 8.0)
    with pytest.raises(ValueError, match='reaches past the video'):
        merge_window_predictions([(0, _pred([], [0.0] * 4)),
                                  (3, _pred([], [0.0] * 4))], 6, 2.0, 12.0)
    with pytest.raises(ValueError, match='clip 4 is covered by no window'):
        merge_window_predictions([(0, _pred([], [0.0] * 4)),
                                  (5, _pred([], [0.0] * 4))], 9, 2.0, 18.0)
