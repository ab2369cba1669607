# Copyright (c) mmmrhd contributors. All rights reserved.
"""Every config of the models other than TaskWeave builds its model and its
datasets on small generated data and runs one loss + predict step.

(TaskWeave's configs have their own, more detailed test:
test_taskweave_configs.py.) The data is written for each config from the
config itself: the annotation file names and feature directories of its
dataset, the feature widths of its model's input projections. Add
model-specific value checks below the generic test.
"""
import glob
import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmmrhd.datasets.collate import mrhd_collate
from mmmrhd.registry import DATASETS, MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_DIR = osp.join(REPO, 'configs')
CONFIGS = sorted(
    osp.relpath(p, CONFIG_DIR)
    for p in glob.glob(osp.join(CONFIG_DIR, '**', '*.py'), recursive=True)
    if '_base_' not in p and 'feature_extraction' not in p
    and not osp.basename(p).startswith('taskweave'))
#: official parameter counts of the official-compat QVHighlights configs
#: (models.md §2, §6; fixtures README §2)
OFFICIAL_PARAMS = {
    'qd_detr/qd_detr_qvh_official.py': 7_585_573,
    'moment_detr/moment_detr_qvh_official.py': 4_823_305,
    'tr_detr/tr_detr_qvh_official.py': 8_308_773,
}


pytestmark = pytest.mark.usefixtures('mmmrhd_scope')


def _widths(model):
    """Per-directory video widths (TEF excluded) and text widths."""
    vp, tp = model.video_proj, model.text_proj
    video = [d for n, d in zip(vp.names, vp.dims) if n != 'tef']
    return video, list(tp.dims)


def _write(root, ds, video_dims, text_dims, rng):
    """Small data in the layout the dataset config reads."""
    prefix = ds['data_prefix']
    text_dim = sum(text_dims)
    vids = ['va', 'vb', 'vc']
    lengths = [12, 9, 15]
    if ds['type'] == 'TVSumDataset':
        recs = []
        for vid, n in zip(vids, lengths):
            recs.append(dict(qid=vid, query='title', vid=vid, duration=n,
                             relevant_clip_ids=None, relevant_windows=None,
                             label=[[float(rng.integers(1, 5))] * 20
                                    for _ in range(n)],
                             domain=ds.get('domain') or 'BK'))
            half = video_dims[0] // 2
            for suffix, w in (('rgb', half), ('opt', video_dims[0] - half)):
                path = osp.join(root, prefix['video'], f'{vid}_{suffix}.npy')
                _save(path, rng.normal(size=(n, w)), npy=True)
            _save(osp.join(root, prefix['text'], f'{vid}.npz'),
                  rng.normal(size=(4, text_dim)), key='token')
    else:
        video_dirs = prefix['video']
        video_dirs = [video_dirs] if isinstance(video_dirs, str) else \
            video_dirs
        assert len(video_dirs) == len(video_dims), (video_dirs, video_dims)
        clip_len = ds.get('clip_len', 2.0)
        recs = []
        for i, (vid, n) in enumerate(zip(vids, lengths)):
            recs.append(dict(
                qid=i + 1, query=f'query {i}', vid=vid,
                duration=n * clip_len,
                relevant_windows=[[2 * clip_len, 6 * clip_len]],
                relevant_clip_ids=[2, 3, 4, 5],
                saliency_scores=[[1, 2, 3], [4, 4, 4], [0, 1, 2], [2, 2, 2]]))
            for d, w in zip(video_dirs, video_dims):
                _save(osp.join(root, d, f'{vid}.npz'),
                      rng.normal(size=(n, w)), key='features')
            text_dirs = prefix['text']
            text_dirs = [text_dirs] if isinstance(text_dirs, str) else \
                text_dirs
            assert len(text_dirs) == len(text_dims), (text_dirs, text_dims)
            for d, w in zip(text_dirs, text_dims):
                tokens = rng.normal(size=(5, w))
                _save(osp.join(root, d, f'qid{i + 1}.npz'), tokens,
                      key='last_hidden_state', pooler_output=tokens[0])
    path = osp.join(root, ds['ann_file'])
    _mkdir(path)
    with open(path, 'w') as f:
        f.write('\n'.join(json.dumps(r) for r in recs) + '\n')


def _mkdir(path):
    import os
    os.makedirs(osp.dirname(path), exist_ok=True)


def _save(path, array, npy=False, key='features', **extra):
    _mkdir(path)
    array = np.asarray(array, dtype=np.float32)
    if npy:
        np.save(path, array)
    else:
        np.savez(path, **{key: array}, **extra)


def _dataset(cfg_ds, root, model, seed):
    ds = dict(cfg_ds)
    ds['data_root'] = root
    if ds['type'] == 'DemoQVHighlightsDataset':
        return DATASETS.build(ds)  # generates the demo data into root
    video_dims, text_dims = _widths(model)
    _write(root, ds, video_dims, text_dims, np.random.default_rng(seed))
    return DATASETS.build(ds)


@pytest.mark.parametrize('rel', CONFIGS)
def test_config_builds_model_and_data_and_steps(rel, tmp_path):
    cfg = Config.fromfile(osp.join(CONFIG_DIR, rel))
    assert cfg.default_scope == 'mmmrhd'
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    if rel in OFFICIAL_PARAMS:
        assert sum(p.numel() for p in model.parameters()) == \
            OFFICIAL_PARAMS[rel]
    ckpt = cfg.default_hooks.checkpoint
    # an official brief key, or a composite score of the evaluator
    # (VideoLights' `stop_score`)
    composite = cfg.val_evaluator.get('composite_scores') or {}
    assert ckpt.rule == 'greater'
    assert ckpt.save_best in ('MR-full-mAP', 'mAP', *composite)
    assert cfg.optim_wrapper.clip_grad == dict(max_norm=0.1, norm_type=2)
    assert cfg.train_dataloader.persistent_workers is False
    root = str(tmp_path / 'data')
    train = _dataset(cfg.train_dataloader.dataset, root, model, 0)
    val = _dataset(cfg.val_dataloader.dataset, root, model, 1)
    assert len(train) >= 2 and len(val) >= 2
    batch = model.data_preprocessor(mrhd_collate([train[0], train[1]]), True)
    model.train()
    total, log_vars = model.parse_losses(model(**batch, mode='loss'))
    assert torch.isfinite(total).all()
    total.backward()
    if cfg.model.get('moment_loss', 'x') is not None:
        assert 'loss_span' in log_vars
    assert 'loss_saliency' in log_vars
    model.eval()
    batch = model.data_preprocessor(mrhd_collate([val[0], val[1]]), False)
    preds = model(**batch, mode='predict')
    assert len(preds) == 2
    for p in preds:
        assert len(p['pred_saliency_scores']) > 0


# ----------------------------------------------------- model-specific values


def _load(rel):
    return Config.fromfile(osp.join(CONFIG_DIR, rel))


@pytest.mark.parametrize('name', ['qd_detr', 'moment_detr'])
def test_official_schedule_and_selection(name):
    cfg = _load(f'{name}/{name}_qvh.py')
    # models.md §1.5: AdamW 1e-4 / 1e-4, 200 epochs, eval every 5, batch 32
    assert cfg.optim_wrapper.optimizer.lr == 1e-4
    assert cfg.optim_wrapper.optimizer.weight_decay == 1e-4
    assert cfg.train_cfg.max_epochs == 200 and cfg.train_cfg.val_interval == 5
    assert cfg.train_dataloader.batch_size == 32
    assert cfg.default_hooks.checkpoint.save_best == 'MR-full-mAP'
    # no EMA in either release
    assert [h.type for h in cfg.custom_hooks] == ['RNGStateHook']
    assert not _load(f'{name}/{name}_qvh.py').model.official_compat
    assert _load(f'{name}/{name}_qvh_official.py').model.official_compat
    tvsum = _load(f'{name}/{name}_tvsum.py')
    assert tvsum.optim_wrapper.optimizer.lr == 1e-3
    assert tvsum.train_cfg.max_epochs == 2000
    assert tvsum.model.moment_loss is None


def test_qd_and_moment_detr_losses():
    qd = MODELS.build(_load('qd_detr/qd_detr_qvh.py').model)
    assert [t.name for t in qd.saliency_loss.terms] == [
        'hinge', 'rank_contrastive', 'neg_pair']
    md = MODELS.build(_load('moment_detr/moment_detr_qvh.py').model)
    assert [t.name for t in md.saliency_loss.terms] == ['hinge']
    for model in (qd, md):
        assert model.joint_loss.weights == dict(
            loss_span=10.0, loss_giou=1.0, loss_label=4.0, loss_saliency=1.0)


@pytest.mark.parametrize('name', ['qd_detr', 'moment_detr'])
def test_metafile_lists_every_config_with_its_parameter_count(name):
    import yaml
    with open(osp.join(CONFIG_DIR, name, 'metafile.yml')) as f:
        meta = yaml.safe_load(f)
    listed = {m['Config'] for m in meta['Models']}
    on_disk = {f'configs/{c}' for c in CONFIGS if c.startswith(name + '/')}
    assert listed == on_disk
    for m in meta['Models']:
        assert m['In Collection'] == meta['Collections'][0]['Name']
        params = m['Metadata'].get('Parameters')
        if params is not None:
            cfg = Config.fromfile(osp.join(REPO, m['Config']))
            model = MODELS.build(cfg.model)
            assert sum(p.numel() for p in model.parameters()) == params


def test_moment_detr_demo_uses_more_queries_same_steps():
    """Moment-DETR's demo trains on 3000 generated queries (on the standard
    600 it memorises the training videos, docs/en/user_guides/moment_detr.md)
    for as many samples as the standard 60-epoch demo (about as many optimizer
    steps), and validates on
    the standard val split (same generator seed and num_val)."""
    import math
    md = _load('moment_detr/moment_detr_demo.py')
    qd = _load('qd_detr/qd_detr_demo.py')
    md_train, qd_train = md.train_dataloader, qd.train_dataloader
    assert md_train.dataset.num_train == 3000
    assert qd_train.dataset.get('num_train', 600) == 600

    def samples_and_steps(cfg, loader):
        num, epochs = loader.dataset.get('num_train', 600), \
            cfg.train_cfg.max_epochs
        return num * epochs, math.ceil(num / loader.batch_size) * epochs

    # 3000 x 12 = 600 x 60 samples; 94 x 12 vs 19 x 60 iterations
    assert samples_and_steps(md, md_train) == (36000, 1128)
    assert samples_and_steps(qd, qd_train) == (36000, 1140)
    for key in ('seed', 'ann_file'):
        assert md.val_dataloader.dataset[key] == qd.val_dataloader.dataset[key]
    assert md.val_dataloader.dataset.get('num_val', 150) == 150
    # both splits come from the same generated directory
    assert md.val_dataloader.dataset.data_root == md_train.dataset.data_root
    assert md.val_dataloader.dataset.num_train == 3000
