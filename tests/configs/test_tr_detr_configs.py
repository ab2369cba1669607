# Copyright (c) mmmrhd contributors. All rights reserved.
"""Every TR-DETR and mixed-parts config parses, builds and holds the
released values; the QVHighlights-family ones build their datasets on the
fake QVHighlights directory and run one loss + predict step."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmmrhd.datasets.collate import mrhd_collate
from mmmrhd.registry import DATASETS, MODELS
from mmmrhd.testing import (build_config_model, build_seeded, loss_step,
                            predict_step)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_DIR = osp.join(REPO, 'configs')
CONFIGS = sorted(
    osp.relpath(p, CONFIG_DIR)
    for d in ('tr_detr', 'mixed')
    for p in glob.glob(osp.join(CONFIG_DIR, d, '*.py')))
QVH_FAMILY = [c for c in CONFIGS if c.endswith('_qvh.py') or
              c.endswith('_qvh_official.py')]
RELEASED_PARAMS = 8_308_773  # models.md §4.6, fixtures README §2


pytestmark = pytest.mark.usefixtures('mmmrhd_scope')


def _load(rel):
    return Config.fromfile(osp.join(CONFIG_DIR, rel))


def test_inventory():
    assert set(CONFIGS) == {
        'tr_detr/tr_detr_qvh.py', 'tr_detr/tr_detr_qvh_official.py',
        'tr_detr/tr_detr_tvsum.py', 'tr_detr/tr_detr_charades-sta.py',
        'tr_detr/tr_detr_demo.py', 'mixed/taskweave_tr-align_qvh.py',
        'mixed/taskweave_tr-align_demo.py'
    }
    assert len(QVH_FAMILY) == 3


@pytest.mark.parametrize('rel', CONFIGS)
def test_config_builds(rel):
    cfg = _load(rel)
    model = build_config_model(cfg)
    assert [type(t).__name__ for t in model.extra_losses] == [
        'VideoTextContrastiveLoss', 'ClipTextAlignmentLoss'
    ]
    # the CTC target is produced in training, right before packing
    train = [t['type'] for t in cfg.train_dataloader.dataset.pipeline]
    assert train[-2:] == ['GeneratePositiveClipMask', 'PackMRHDInputs']
    test = [t['type'] for t in cfg.val_dataloader.dataset.pipeline]
    assert 'GeneratePositiveClipMask' not in test
    assert cfg.optim_wrapper.clip_grad == dict(max_norm=0.1, norm_type=2)
    assert cfg.default_hooks.checkpoint.save_best in ('MR-full-mAP', 'mAP')
    assert 'RNGStateHook' in [h.type for h in cfg.custom_hooks]
    assert cfg.train_dataloader.persistent_workers is False


def test_qvh_released_recipe():
    cfg = _load('tr_detr/tr_detr_qvh.py')
    assert cfg.optim_wrapper.optimizer.lr == 1e-4
    assert cfg.optim_wrapper.optimizer.weight_decay == 1e-4
    assert cfg.train_cfg.max_epochs == 200 and cfg.train_cfg.val_interval == 5
    assert cfg.train_dataloader.batch_size == 32
    assert cfg.randomness.seed == 2017
    assert cfg.custom_hooks == [dict(type='RNGStateHook')]  # no EMA
    model = MODELS.build(cfg.model)
    assert model.joint_loss.weights == dict(
        loss_span=10.0, loss_giou=1.0, loss_label=4.0, loss_saliency=1.0,
        loss_vtc=0.3, loss_ctc=0.5)
    assert type(model.moment_loss.loss_label).__name__ == \
        'SigmoidFocalLabelLoss'
    assert [t.name for t in model.saliency_loss.terms] == [
        'hinge', 'rank_contrastive'
    ]
    assert not model.official_compat
    assert sum(p.numel() for p in model.parameters()) == \
        RELEASED_PARAMS - 8_704  # without the unused text PE
    official = MODELS.build(_load('tr_detr/tr_detr_qvh_official.py').model)
    assert sum(p.numel() for p in official.parameters()) == RELEASED_PARAMS
    for part in (official.fusion, official.hd2mr, official.mr2hd,
                 *official.extra_losses):
        assert part.official_compat


def test_tvsum_and_charades_choices():
    tv = _load('tr_detr/tr_detr_tvsum.py')
    assert tv.train_dataloader.batch_size == 4
    assert tv.optim_wrapper.optimizer.lr == 1e-3
    assert tv.train_cfg.max_epochs == 2000
    assert tv.train_dataloader.dataset.pipeline[-2] == dict(
        type='GeneratePositiveClipMask', mode='top_half')
    model = MODELS.build(tv.model)
    assert model.moment_loss is None
    assert model.joint_loss.weights == dict(
        loss_saliency=1.0, loss_vtc=0.5, loss_ctc=2.0)
    assert model.video_proj.in_dim == 2050
    # one HD-only step with the top-half pos_mask target
    g = torch.Generator().manual_seed(0)
    items = []
    for i, length in enumerate((20, 14)):
        labels = torch.rand(length, generator=g) * 12
        pos = (labels >= labels.median()).float()
        items.append(
            dict(
                inputs=dict(
                    video_feat=torch.randn(length, 2050, generator=g),
                    text_feat=torch.randn(6, 512, generator=g)),
                data_samples=dict(
                    qid=f'v{i}', query='title', vid=f'v{i}',
                    duration=float(length), clip_len=2.0, num_clips=length,
                    saliency_pos_labels=labels.argmax()[None],
                    saliency_neg_labels=labels.argmin()[None],
                    saliency_all_labels=labels, pos_mask=pos,
                    ann=dict(qid=f'v{i}'))))
    model.eval()  # no dropout: the two calls below see the same outputs
    batch = model.data_preprocessor(mrhd_collate(items), True)
    losses = model(**batch, mode='loss')
    total, _ = model.parse_losses(losses)
    raw = model.raw_losses(batch['inputs'], batch['data_samples'])
    torch.testing.assert_close(
        total, raw['loss_saliency'] + 0.5 * raw['loss_vtc'] +
        2.0 * raw['loss_ctc'])

    ch = _load('tr_detr/tr_detr_charades-sta.py')
    assert ch.train_dataloader.dataset.clip_len == 1.0
    assert ch.train_dataloader.dataset.pipeline[-3:-1] == [
        dict(type='GenerateWindowSaliencyLabels', num_pairs=2),
        dict(type='GeneratePositiveClipMask', mode='saliency_labels')
    ]
    model = MODELS.build(ch.model)
    assert model.mr2hd.clip_len == 1.0
    assert model.post_processor.clip_len == 1.0


def test_mixed_config_is_taskweave_plus_alignment():
    mixed = _load('mixed/taskweave_tr-align_qvh.py')
    tw = _load('taskweave/taskweave_qvh.py')
    for key in ('neck', 'fusion', 'decoder', 'feedback', 'moment_loss',
                'saliency_loss'):
        assert mixed.model[key] == tw.model[key], key
    model = MODELS.build(mixed.model)
    assert type(model).__name__ == 'TaskWeave'
    assert [t.loss_weight for t in model.extra_losses] == [0.3, 0.5]
    assert model.joint_loss.hd_keys == ('loss_saliency', 'loss_vtc',
                                        'loss_ctc')
    assert mixed.custom_hooks == tw.custom_hooks
    demo = _load('mixed/taskweave_tr-align_demo.py')
    assert demo.model.extra_losses == mixed.model.extra_losses
    assert demo.model.embed_dim == 64


@pytest.mark.parametrize('rel', QVH_FAMILY)
def test_qvh_family_dataset_and_step(rel, fake_qvh_dataset):
    cfg = _load(rel)
    train = fake_qvh_dataset(cfg.train_dataloader.dataset)
    val = fake_qvh_dataset(cfg.val_dataloader.dataset)
    sample = train[0]
    assert sample['inputs']['video_feat'].shape[-1] == 2818
    assert sample['data_samples']['pos_mask'].sum() > 0
    model = build_seeded(cfg.model)
    total, log_vars, _ = loss_step(model, [train[0], train[1]])
    assert torch.isfinite(total).all()
    for key in ('loss_saliency', 'loss_span_0', 'loss_vtc', 'loss_ctc'):
        assert key in log_vars
    preds = predict_step(model, [val[0], val[1]])
    assert [len(p['pred_relevant_windows']) for p in preds] == [10, 10]


def _write(path, **arrays):
    import os

    import numpy as np
    os.makedirs(osp.dirname(path), exist_ok=True)
    if path.endswith('.npy'):
        np.save(path, arrays['array'])
    else:
        np.savez(path, **arrays)


def test_tvsum_and_charades_datasets_on_small_files(tmp_path):
    """The train pipelines of the TVSum and Charades-STA configs on tiny
    files: the pos_mask target is the top half / the window."""
    import json

    import numpy as np
    rng = np.random.default_rng(0)
    root = str(tmp_path)
    # TVSum: 4 clips, agg 0 / 80 / 30 / 60 -> top 4 - 2 = 2 clips: 1, 3
    tv_cfg = _load('tr_detr/tr_detr_tvsum.py').train_dataloader.dataset
    scores = [[1.0] * 20, [5.0] * 20, [2.0] * 10 + [3.0] * 10,
              [4.0] * 20]
    rec = dict(qid='vidA', query='title', duration=4, vid='vidA',
               relevant_clip_ids=None, relevant_windows=None, label=scores,
               domain=tv_cfg.domain)
    with open(osp.join(root, 'tv.jsonl'), 'w') as f:
        f.write(json.dumps(rec) + '\n')
    for s in ('rgb', 'opt'):
        _write(osp.join(root, 'features/video_features', f'vidA_{s}.npy'),
               array=rng.normal(size=(4, 1024)).astype(np.float32))
    _write(osp.join(root, 'features/query_features', 'vidA.npz'),
           token=rng.normal(size=(5, 512)).astype(np.float32))
    tv = DATASETS.build(dict(tv_cfg, data_root=root, ann_file='tv.jsonl'))
    item = tv[0]
    assert item['inputs']['video_feat'].shape == (4, 2050)
    assert item['data_samples']['pos_mask'].tolist() == [0, 1, 0, 1]

    # Charades-STA: 10 clips of 1 s (duration 10), window [2, 5) s
    ch_cfg = _load('tr_detr/tr_detr_charades-sta.py').train_dataloader.dataset
    rec = dict(qid=7, query='a person opens a door.', duration=10.0,
               vid='C1', relevant_windows=[[2.0, 5.0]])
    with open(osp.join(root, 'ch.jsonl'), 'w') as f:
        f.write(json.dumps(rec) + '\n')
    for stream, dim in (('slowfast_features', 2304), ('clip_features', 512)):
        _write(osp.join(root, 'features', stream, 'C1.npz'),
               features=rng.normal(size=(10, dim)).astype(np.float32))
    tokens = rng.normal(size=(6, 512)).astype(np.float32)
    _write(osp.join(root, 'features/clip_text_features', 'qid7.npz'),
           last_hidden_state=tokens, pooler_output=tokens[0])
    ch = DATASETS.build(dict(ch_cfg, data_root=root, ann_file='ch.jsonl'))
    item = ch[0]
    assert item['inputs']['video_feat'].shape == (10, 2818)
    # window clips int(2 / 1) = 2 .. int(5 / 1) - 1 = 4
    assert item['data_samples']['pos_mask'].tolist() == [
        0, 0, 1, 1, 1, 0, 0, 0, 0, 0
    ]
