# Copyright (c) mmmrhd contributors. All rights reserved.
import pytest
import torch

from mmmrhd.models.feedback import FeedbackHead, apply_feedback_mask

X_MR = torch.full((1, 4, 2), 2.0)
X_HD = torch.arange(8.).view(1, 4, 2)
MASK = torch.ones(1, 4)
SPANS = torch.tensor([[[0.25, 0.5], [0.875, 0.25]]])  # final layer, Q=2


class Recorder:

    def __init__(self):
        self.calls = []

    def decode_mr(self, x):
        self.calls.append(('mr', x))
        # spans depend on the input so that a guided pass differs
        spans = SPANS if len(self.calls) < 3 else SPANS * 0.5
        return torch.zeros(2, 1, 2, 2), spans[None].expand(2, -1, -1, -1)

    def decode_hd(self, j, sum_input):
        self.calls.append(('hd', j, sum_input))
        return j[..., 0] + (0 if sum_input is None else sum_input[..., 1])


def _run(head, rec, reencode=None):
    return head(X_MR, X_HD, MASK, rec.decode_mr, rec.decode_hd, reencode)


def test_apply_feedback_mask():
    out = apply_feedback_mask(torch.ones(1, 2, 3), torch.tensor([[0., 1.]]))
    assert out[0, :, 0].tolist() == [1.0, 2.0]


def test_mr2hd():
    head, rec = FeedbackHead(manner='mr2hd'), Recorder()
    (_, spans), sal = _run(head, rec)
    m = head.m2m(SPANS, MASK)  # clips 0..2 once, clip 3 once
    assert m[0].tolist() == pytest.approx([0.5] * 4)
    j = X_HD + X_HD * m[..., None]
    assert [c[0] for c in rec.calls] == ['mr', 'hd']
    torch.testing.assert_close(rec.calls[1][1], j)
    torch.testing.assert_close(rec.calls[1][2], j)  # paper: masked sum
    torch.testing.assert_close(sal, j[..., 0] + j[..., 1])
    # official: sum term on the unmasked features (quirk 11)
    rec = Recorder()
    _run(FeedbackHead(manner='mr2hd', mgf_sum_masked=False), rec)
    torch.testing.assert_close(rec.calls[1][2], X_HD)


def test_hd2mr_decoder_level():
    head, rec = FeedbackHead(manner='hd2mr'), Recorder()
    _, sal = _run(head, rec)
    s = X_HD[..., 0]  # [0, 2, 4, 6] -> mean 3 -> clips 2, 3
    torch.testing.assert_close(sal, s)  # output is the pass-1 score
    assert [c[0] for c in rec.calls] == ['hd', 'mr']
    expected = X_MR * torch.tensor([1., 1., 2., 2.]).view(1, 4, 1)
    torch.testing.assert_close(rec.calls[1][1], expected)


def test_hd2mr_input_level_reencodes():
    head = FeedbackHead(manner='hd2mr', official_compat=True)
    assert head.hgf_level == 'input' and head.required_tasks == ('hd', )
    assert head.h2m.official_compat and head.m2m.official_compat
    rec, seen = Recorder(), []

    def reencode(mask):
        seen.append(mask)
        return X_MR * 10

    head(None, X_HD, MASK, rec.decode_mr, rec.decode_hd, reencode)
    assert seen[0].tolist() == [[0., 0., 1., 1.]]
    torch.testing.assert_close(rec.calls[1][1], X_MR * 10)
    with pytest.raises(ValueError, match='needs reencode_mr'):
        head(None, X_HD, MASK, rec.decode_mr, rec.decode_hd, None)


def test_bi_uses_feedback_free_predictions():
    head, rec = FeedbackHead(manner='bi'), Recorder()
    (_, spans), sal = _run(head, rec)
    assert [c[0] for c in rec.calls] == ['mr', 'hd', 'mr', 'hd']
    h = torch.tensor([1., 1., 2., 2.]).view(1, 4, 1)
    torch.testing.assert_close(rec.calls[2][1], X_MR * h)
    m = head.m2m(SPANS, MASK)  # from the first (feedback-free) MR pass
    torch.testing.assert_close(rec.calls[3][1], X_HD + X_HD * m[..., None])


def test_mr_hd_then_hgf_reads_guided_saliency():
    head, rec = FeedbackHead(manner='mr_hd'), Recorder()
    _, sal = _run(head, rec)
    assert [c[0] for c in rec.calls] == ['mr', 'hd', 'mr']
    expected_mask = head.h2m(sal, MASK)
    torch.testing.assert_close(rec.calls[2][1],
                               X_MR + X_MR * expected_mask[..., None])


def test_hd_mr_then_mgf_reads_guided_spans():
    head, rec = FeedbackHead(manner='hd_mr'), Recorder()
    (_, spans), sal = _run(head, rec)
    assert [c[0] for c in rec.calls] == ['hd', 'mr', 'hd']
    m = head.m2m(spans[-1], MASK)
    torch.testing.assert_close(rec.calls[2][1], X_HD + X_HD * m[..., None])


def test_config_errors():
    with pytest.raises(ValueError) as err:
        FeedbackHead(manner='both')
    assert str(err.value) == ("FeedbackHead: unknown manner 'both'; valid "
                              'manners: mr2hd, hd2mr, bi, mr_hd, hd_mr')
    with pytest.raises(ValueError, match="unknown hgf_level 'memory'"):
        FeedbackHead(hgf_level='memory')
    with pytest.raises(ValueError, match="only defined for manner 'hd2mr'"):
        FeedbackHead(manner='bi', hgf_level='input')
    # official-compat defaults to the decoder level for other manners
    assert FeedbackHead(manner='bi', official_compat=True).hgf_level == \
        'decoder'


@pytest.mark.parametrize('manner', ['mr2hd', 'hd2mr', 'bi', 'mr_hd', 'hd_mr'])
def test_switched_off_runs_both_decoders_without_feedback(manner):
    head = FeedbackHead(manner=manner)
    assert head.feedback_active is True  # on by default (inference)
    head.feedback_active = False
    assert 'feedback_active=False' in repr(head)
    rec = Recorder()
    (_, spans), sal = _run(head, rec)
    # one unguided pass each: D_MR(X_mr), Y_HD(X_hd) with no sum input
    assert [c[0] for c in rec.calls] == ['mr', 'hd']
    assert rec.calls[0][1] is X_MR
    assert rec.calls[1][1] is X_HD and rec.calls[1][2] is None
    torch.testing.assert_close(spans[-1], SPANS)
    torch.testing.assert_close(sal, X_HD[..., 0])  # [0, 2, 4, 6]


def test_switch_and_required_tasks_of_input_level_hgf():
    head = FeedbackHead(manner='hd2mr', official_compat=True)
    assert head.hgf_level == 'input'
    assert tuple(head.required_tasks) == ('hd', )
    head.feedback_active = False
    # without feedback both task features are decoded directly
    assert tuple(head.required_tasks) == ('mr', 'hd')
    with pytest.raises(ValueError, match='x_mr is needed'):
        head(None, X_HD, MASK, Recorder().decode_mr, Recorder().decode_hd)
