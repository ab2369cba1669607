# Copyright (c) mmmrhd contributors. All rights reserved.
import pytest
import torch
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS

from mmmrhd.datasets import collate_targets, mrhd_collate, pad_sequences
from mmmrhd.registry import FUNCTIONS


def test_pad_sequences():
    padded, mask = pad_sequences([torch.ones(2, 3), torch.full((4, 3), 2.)])
    assert padded.shape == (2, 4, 3)
    assert mask.tolist() == [[1, 1, 0, 0], [1, 1, 1, 1]]
    assert padded[0, 2:].abs().sum() == 0 and padded[1].eq(2).all()
    with pytest.raises(ValueError, match='trailing dimensions differ'):
        pad_sequences([torch.ones(2, 3), torch.ones(2, 4)])
    with pytest.raises(ValueError, match='empty batch'):
        pad_sequences([])


def test_collate_targets_leaves_out_keys_missing_in_any_sample():
    a = dict(gt_spans=torch.tensor([[0.5, 0.2]]),
             saliency_pos_labels=torch.tensor([1, 2]),
             saliency_neg_labels=torch.tensor([0, 3]),
             saliency_all_labels=torch.tensor([1., 2., 0.]))
    b = dict(gt_spans=torch.tensor([[0.1, 0.1], [0.6, 0.2]]))
    targets = collate_targets([a, b])
    assert set(targets) == {'span_labels'}
    assert [t['spans'].shape[0] for t in targets['span_labels']] == [1, 2]
    c = dict(a, saliency_all_labels=torch.tensor([4., 5.]))
    targets = collate_targets([a, c])
    assert targets['saliency_pos_labels'].tolist() == [[1, 2], [1, 2]]
    assert targets['saliency_all_labels'].tolist() == [[1, 2, 0], [4, 5, 0]]


def test_mrhd_collate_is_reachable_from_both_registries():
    # MMEngine's Runner.build_dataloader uses the root registry's get().
    assert MMENGINE_FUNCTIONS.get('mrhd_collate') is mrhd_collate
    assert FUNCTIONS.get('mrhd_collate') is mrhd_collate


def test_mrhd_collate_width_mismatch_names_the_samples():
    """Once: 'cannot batch sequences of shapes ...' without a name."""
    from mmmrhd.utils.errors import DataError

    def sample(qid, vid, dv):
        return dict(inputs=dict(video_feat=torch.ones(3, dv),
                                text_feat=torch.ones(2, 4)),
                    data_samples=dict(qid=qid, vid=vid))

    with pytest.raises(DataError, match=(
            r"^cannot batch qid 7 \(vid 'b'\) with video_feat of shape "
            r"\(3, 5\) with qid 1 \(vid 'a'\) with video_feat of shape "
            r'\(3, 6\): the feature files of these samples differ in width')):
        mrhd_collate([sample(1, 'a', 6), sample(2, 'a', 6), sample(7, 'b', 5)])
