# Copyright (c) mmmrhd contributors. All rights reserved.
"""Every TaskWeave config parses and builds and holds the paper values.

(The other models' configs: tests/configs/test_model_configs.py.)

QVHighlights-family configs also build their dataset on the tiny fake
QVHighlights directory of the shared fixtures and run one loss + predict
step of the full-size model on it.
"""
import glob
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config

from mmmrhd.datasets.collate import mrhd_collate
from mmmrhd.registry import MODELS
from mmmrhd.testing import (build_config_model, build_seeded, loss_step,
                            predict_step)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_DIR = osp.join(REPO, 'configs')
TW = osp.join(CONFIG_DIR, 'taskweave')
ABL = osp.join(TW, 'ablations')
QVH = osp.join(TW, 'taskweave_qvh.py')

ALL_CONFIGS = sorted(
    osp.relpath(p, CONFIG_DIR)
    for p in glob.glob(osp.join(CONFIG_DIR, '**', '*.py'), recursive=True)
    if '_base_' not in p and osp.basename(p).startswith('taskweave'))
ABLATIONS = sorted(glob.glob(osp.join(ABL, '*.py')))
# Configs on the QVHighlights data (the fake directory stands in for it).
QVH_FAMILY = [
    c for c in ALL_CONFIGS if osp.basename(c).startswith('taskweave_qvh')
]
# One training + predict step for each distinct forward / loss path (the
# other QVHighlights configs only build their datasets and model).
STEP_CONFIGS = {
    'taskweave/taskweave_qvh.py',  # mr2hd, paper design
    'taskweave/taskweave_qvh_hd2mr.py',  # hd2mr on X_mr
    'taskweave/taskweave_qvh_official.py',  # released hd2mr (input re-run)
    'taskweave/taskweave_qvh_official_mr2hd.py',  # official 150-s M2M grid
    'taskweave/ablations/taskweave_qvh_tab5-d_trans-trans.py',  # no fb
    'taskweave/ablations/taskweave_qvh_tab4-a_baseline.py',  # no TDU
    'taskweave/ablations/taskweave_qvh_tab6_sum.py',
    'taskweave/ablations/taskweave_qvh_tab7_bi-mrhd.py',
    'taskweave/ablations/taskweave_qvh_tab7_mr-hd.py',
    'taskweave/ablations/taskweave_qvh_tab7_hd-mr.py',
}

PAPER_PARAMS = 7_775_784  # ours without the unused official text PE
OFFICIAL_PARAMS = 7_784_488  # models.md §3.8, fixtures README §2


pytestmark = pytest.mark.usefixtures('mmmrhd_scope')


def _load(rel: str) -> Config:
    return Config.fromfile(osp.join(CONFIG_DIR, rel))


def _flatten(obj, prefix=''):
    """``{'a.b.c': leaf}`` of nested dicts (lists stay leaves)."""
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            out.update(_flatten(v, f'{prefix}{k}.'))
        return out or {prefix[:-1]: {}}
    return {prefix[:-1]: obj}


def _plain(cfg: Config) -> dict:
    return cfg.to_dict()


def test_step_configs_exist():
    assert STEP_CONFIGS <= set(QVH_FAMILY)


def test_config_inventory():
    """The documented configs exist (docs/en/user_guides/taskweave.md)."""
    expected = {
        'taskweave_qvh.py', 'taskweave/taskweave_qvh.py',
        'taskweave/taskweave_qvh_hd2mr.py',
        'taskweave/taskweave_qvh_official.py',
        'taskweave/taskweave_qvh_official_mr2hd.py',
        'taskweave/taskweave_tvsum.py', 'taskweave/taskweave_charades-sta.py',
        'taskweave/taskweave_demo.py'
    }
    assert expected <= set(ALL_CONFIGS)
    assert len(ABLATIONS) == 14  # Table 4: 3, Table 5: 6, 6: 2, 7: 3


@pytest.mark.parametrize('rel', ALL_CONFIGS)
def test_config_builds_model(rel):
    cfg = _load(rel)
    # every evaluator / hook / dataset type resolves in the registries
    model = build_config_model(cfg)
    assert type(model).__name__ == 'TaskWeave'
    hooks = [h.type for h in cfg.custom_hooks]
    assert 'RNGStateHook' in hooks and 'EpochEMAHook' in hooks
    ckpt = cfg.default_hooks.checkpoint
    assert ckpt.rule == 'greater'
    assert ckpt.save_best in ('MR-full-mAP', 'mAP')
    assert cfg.optim_wrapper.clip_grad == dict(max_norm=0.1, norm_type=2)
    # exact resume needs workers re-created every epoch (taskweave_qvh.py);
    # the CPU demo trades it for speed (no workers)
    assert cfg.train_dataloader.persistent_workers is False
    if 'demo' not in rel:
        assert cfg.train_dataloader.num_workers >= 1


def test_alias_equals_main_config():
    alias = _load('taskweave_qvh.py')
    main = _load('taskweave/taskweave_qvh.py')
    assert _plain(alias) == _plain(main)


def test_qvh_paper_setting():
    cfg = Config.fromfile(QVH)
    assert cfg.optim_wrapper.optimizer == dict(
        type='AdamW', lr=1e-4, weight_decay=1e-4, fused=True)
    assert cfg.param_scheduler == [
        dict(type='StepLR', step_size=400, gamma=0.1, by_epoch=True)
    ]
    assert cfg.train_cfg == dict(
        type='EpochBasedTrainLoop', max_epochs=200, val_interval=5)
    assert cfg.train_dataloader.batch_size == 32
    assert cfg.val_dataloader.batch_size == 100
    assert cfg.auto_scale_lr == dict(base_batch_size=32, enable=False)
    assert cfg.find_unused_parameters is True
    assert cfg.randomness.seed == 2018
    assert cfg.default_hooks.checkpoint.save_best == 'MR-full-mAP'
    assert cfg.custom_hooks == [
        dict(type='RNGStateHook'),
        dict(type='EpochEMAHook', momentum=0.1),
        dict(type='FeedbackActivationHook', start_epoch=100)
    ]
    model = MODELS.build(cfg.model)
    assert sum(p.numel() for p in model.parameters()) == PAPER_PARAMS
    assert model.feedback.manner == 'mr2hd'
    assert model.feedback.hgf_level == 'decoder'
    assert not model.official_compat and not model.fusion.official_compat
    assert type(model.neck.mr_expert).__name__ == 'CNNExpert'
    assert type(model.neck.hd_expert).__name__ == 'IdentityExpert'
    assert model.decoder.num_queries == 10 and model.decoder.num_layers == 2
    assert len(model.fusion.layers) == 2
    assert model.video_proj.in_dim == 2818 and model.text_proj.in_dim == 512
    assert model.post_processor.max_ts == 150.0


def test_qvh_variants():
    hd2mr = MODELS.build(
        Config.fromfile(osp.join(TW, 'taskweave_qvh_hd2mr.py')).model)
    assert (hd2mr.feedback.manner, hd2mr.feedback.hgf_level) == ('hd2mr',
                                                                 'decoder')
    official_cfg = Config.fromfile(osp.join(TW, 'taskweave_qvh_official.py'))
    assert official_cfg.randomness == dict(seed=1004, deterministic=False)
    official = MODELS.build(official_cfg.model)
    assert sum(p.numel() for p in official.parameters()) == OFFICIAL_PARAMS
    assert official.feedback.manner == 'hd2mr'
    assert official.feedback.hgf_level == 'input'  # released HD2MR
    assert official.feedback.mgf_sum_masked is False
    assert official.neck.mr_expert.official_compat
    assert official.fusion_pool.official_compat
    mr2hd = MODELS.build(
        Config.fromfile(osp.join(TW, 'taskweave_qvh_official_mr2hd.py')).model)
    assert mr2hd.feedback.manner == 'mr2hd'
    assert mr2hd.feedback.m2m.official_compat


# --------------------------------------------------------------- ablations


def _knobs(path: str):
    """The ``Knobs vs taskweave_qvh.py: a, b.`` list of a config header."""
    header = []
    with open(path) as f:
        for line in f:
            if not line.startswith('#'):
                break
            header.append(line[1:].strip())
    text = ' '.join(header)
    m = re.search(r'Knobs vs taskweave_qvh\.py: (.*)$', text)
    assert m, f'{path}: no "Knobs vs taskweave_qvh.py:" line'
    knobs = [k.strip().rstrip('.') for k in m.group(1).split(',')]
    assert all(re.fullmatch(r'[a-z_]+(\.[a-z_]+)*', k) for k in knobs), knobs
    return knobs


# What each ablation changes (paper Tables 4-7); the config headers must
# say the same (checked against `_knobs`).
EXPECTED_KNOBS = {
    'tab4-a_baseline': [
        'custom_hooks',
        'model.feedback',
        'model.joint_loss',
        'model.neck',
    ],
    'tab4-b_tdu': ['custom_hooks', 'model.feedback', 'model.joint_loss'],
    'tab4-c_tdu-jointloss': ['custom_hooks', 'model.feedback'],
    'tab5-a_iden-iden': [
        'custom_hooks',
        'model.feedback',
        'model.neck.mr_expert',
    ],
    'tab5-b_line-line': [
        'custom_hooks',
        'model.feedback',
        'model.neck.mr_expert',
        'model.neck.hd_expert',
    ],
    'tab5-c_cnn-cnn': [
        'custom_hooks',
        'model.feedback',
        'model.neck.hd_expert',
    ],
    'tab5-d_trans-trans': [
        'custom_hooks',
        'model.feedback',
        'model.neck.mr_expert',
        'model.neck.hd_expert',
    ],
    'tab5-e_trans-iden': [
        'custom_hooks',
        'model.feedback',
        'model.neck.mr_expert',
    ],
    'tab5-f_cnn-iden': ['custom_hooks', 'model.feedback'],
    'tab6_sum': ['model.joint_loss'],
    'tab6_weighted-sum': ['model.joint_loss'],
    'tab7_bi-mrhd': ['model.feedback.manner'],
    'tab7_mr-hd': ['model.feedback.manner'],
    'tab7_hd-mr': ['model.feedback.manner'],
}


@pytest.mark.parametrize('path', ABLATIONS, ids=osp.basename)
def test_ablation_differs_in_documented_knobs_only(path):
    name = osp.basename(path)[len('taskweave_qvh_'):-len('.py')]
    knobs = _knobs(path)
    assert knobs == EXPECTED_KNOBS[name]
    base = _flatten(_plain(Config.fromfile(QVH)))
    ours = _flatten(_plain(Config.fromfile(path)))
    changed = {k for k in base.keys() | ours.keys()
               if base.get(k, '<absent>') != ours.get(k, '<absent>')}
    assert changed, f'{name} changes nothing'
    for key in changed:
        assert any(key == k or key.startswith(k + '.') for k in knobs), (
            f'{name}: {key} changed but is not a documented knob')
    for k in knobs:
        assert any(c == k or c.startswith(k + '.') for c in changed), (
            f'{name}: documented knob {k} is unchanged')


@pytest.mark.parametrize('name,mr,hd', [
    ('tab5-a_iden-iden', 'IdentityExpert', 'IdentityExpert'),
    ('tab5-b_line-line', 'LinearExpert', 'LinearExpert'),
    ('tab5-c_cnn-cnn', 'CNNExpert', 'CNNExpert'),
    ('tab5-d_trans-trans', 'TransformerExpert', 'TransformerExpert'),
    ('tab5-e_trans-iden', 'TransformerExpert', 'IdentityExpert'),
    ('tab5-f_cnn-iden', 'CNNExpert', 'IdentityExpert'),
])
def test_table5_experts(name, mr, hd):
    cfg = Config.fromfile(osp.join(ABL, f'taskweave_qvh_{name}.py'))
    model = MODELS.build(cfg.model)
    assert model.feedback is None
    assert type(model.neck.mr_expert).__name__ == mr
    assert type(model.neck.hd_expert).__name__ == hd
    assert type(model.joint_loss).__name__ == 'UncertaintyJointLoss'


@pytest.mark.parametrize('name,joint,manner', [
    ('tab4-b_tdu', 'WeightedSumLoss', None),
    ('tab6_sum', 'SumLoss', 'mr2hd'),
    ('tab6_weighted-sum', 'WeightedSumLoss', 'mr2hd'),
    ('tab7_bi-mrhd', 'UncertaintyJointLoss', 'bi'),
    ('tab7_mr-hd', 'UncertaintyJointLoss', 'mr_hd'),
    ('tab7_hd-mr', 'UncertaintyJointLoss', 'hd_mr'),
])
def test_table4_6_7_losses_and_manners(name, joint, manner):
    cfg = Config.fromfile(osp.join(ABL, f'taskweave_qvh_{name}.py'))
    model = MODELS.build(cfg.model)
    assert type(model.joint_loss).__name__ == joint
    if joint == 'WeightedSumLoss':
        assert model.joint_loss.weights == dict(
            loss_span=10.0, loss_giou=1.0, loss_label=4.0,
            loss_saliency=1.0)
    assert (model.feedback.manner if model.feedback else None) == manner


def test_table4_baseline_has_no_task_decoupling():
    cfg = Config.fromfile(
        osp.join(ABL, 'taskweave_qvh_tab4-a_baseline.py'))
    model = MODELS.build(cfg.model)
    assert type(model.neck).__name__ == 'SharedExpertNeck'
    assert not hasattr(model.neck, 'mr_mapper')
    assert model.feedback is None
    assert type(model.joint_loss).__name__ == 'WeightedSumLoss'


# ------------------------------------------------ data + one step per config


@pytest.mark.parametrize('rel', QVH_FAMILY)
def test_qvh_family_dataset_and_step(rel, fake_qvh_dataset):
    """Dataset objects of the config on fake data; for STEP_CONFIGS one loss
    + predict step of the full-size model with feedback on."""
    cfg = _load(rel)
    train = fake_qvh_dataset(cfg.train_dataloader.dataset)
    val = fake_qvh_dataset(cfg.val_dataloader.dataset)
    assert len(train) == len(val) > 2
    sample = train[0]
    assert sample['inputs']['video_feat'].shape[-1] == 2818
    assert sample['data_samples']['gt_spans'].shape[-1] == 2
    if rel not in STEP_CONFIGS:
        return
    model = build_seeded(cfg.model)
    model.feedback_active = True
    total, log_vars, batch = loss_step(model, [train[0], train[1]])
    assert batch['inputs']['video_feat'].shape[-1] == 2818
    assert torch.isfinite(total).all()
    assert 'loss_saliency' in log_vars and 'loss_span_0' in log_vars
    preds = predict_step(model, [val[0], val[1]])
    assert [p['qid'] for p in preds] == [val[0]['data_samples']['qid'],
                                         val[1]['data_samples']['qid']]
    for p in preds:
        assert len(p['pred_relevant_windows']) == 10
        assert len(p['pred_saliency_scores']) == p['ann']['duration'] // 2


# ------------------------------------------------------ TVSum, Charades-STA


def test_tvsum_config_hd_only():
    cfg = Config.fromfile(osp.join(TW, 'taskweave_tvsum.py'))
    assert cfg.train_dataloader.batch_size == 4
    assert cfg.optim_wrapper.optimizer.lr == 1e-3
    assert cfg.train_cfg.max_epochs == 2000
    assert cfg.param_scheduler[0].step_size == 2000
    assert cfg.default_hooks.checkpoint.save_best == 'mAP'
    assert 'FeedbackActivationHook' not in [h.type for h in cfg.custom_hooks]
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    assert model.moment_loss is None and model.feedback is None
    assert model.video_proj.in_dim == 2050 and model.text_proj.in_dim == 512
    # an HD-only training step: the total is the saliency loss itself
    g = torch.Generator().manual_seed(0)
    items = []
    for i, length in enumerate((20, 14)):
        labels = torch.rand(length, generator=g) * 12
        items.append(
            dict(
                inputs=dict(
                    video_feat=torch.randn(length, 2050, generator=g),
                    text_feat=torch.randn(6, 512, generator=g)),
                data_samples=dict(
                    qid=f'v{i}',
                    query='title',
                    vid=f'v{i}',
                    duration=float(length),
                    clip_len=2.0,
                    num_clips=length,
                    saliency_pos_labels=labels.argmax()[None],
                    saliency_neg_labels=labels.argmin()[None],
                    saliency_all_labels=labels,
                    ann=dict(qid=f'v{i}'))))
    model.train()
    batch = model.data_preprocessor(mrhd_collate(items), True)
    losses = model(**batch, mode='loss')
    assert not any(k.startswith('loss_span') for k in losses)
    total, log_vars = model.parse_losses(losses)
    assert torch.equal(total, losses['loss_saliency'])
    assert torch.equal(log_vars['loss'], losses['loss_saliency'].detach())


def test_tvsum_domain_cfg_options():
    """The documented domain override reaches all three dataloaders."""
    cfg = Config.fromfile(osp.join(TW, 'taskweave_tvsum.py'))
    assert {cfg[k].dataset.domain for k in ('train_dataloader',
                                            'val_dataloader',
                                            'test_dataloader')} == {'BK'}
    cfg.merge_from_dict({
        'train_dataloader.dataset.domain': 'BT',
        'val_dataloader.dataset.domain': 'BT',
        'test_dataloader.dataset.domain': 'BT'
    })
    assert [cfg[k].dataset.domain for k in ('train_dataloader',
                                            'val_dataloader',
                                            'test_dataloader')] == ['BT'] * 3


def test_charades_config():
    cfg = Config.fromfile(osp.join(TW, 'taskweave_charades-sta.py'))
    assert cfg.train_cfg.max_epochs == 100
    assert cfg.train_dataloader.batch_size == 32
    assert cfg.train_dataloader.dataset.clip_len == 1.0
    assert dict(type='FeedbackActivationHook',
                start_epoch=None) in cfg.custom_hooks
    model = MODELS.build(cfg.model)
    assert model.feedback.manner == 'mr2hd'
    assert model.post_processor.clip_len == 1.0
    assert model.post_processor.max_ts is None
    assert cfg.val_evaluator.type == 'CharadesSTAMetric'


# ------------------------------------- official configs = the release


@pytest.mark.parametrize('config,fixture', [
    ('taskweave_qvh_official.py', 'taskweave_hd2mr_epoch150.pth'),
    ('taskweave_qvh_official_mr2hd.py', 'taskweave_mr2hd_epoch150.pth'),
])
def test_official_configs_reproduce_official_forward(config, fixture,
                                                     fixtures_dir):
    """The official-compat configs build exactly the released model: the
    converted official weights load strictly and the forward pass matches
    the official outputs (fixtures README §11 tolerance)."""
    from mmmrhd.testing import (fixture_inputs, import_taskweave_converter,
                                load_fixture, rebuild_official_state_dict)
    fx = load_fixture(osp.join(fixtures_dir, fixture))
    sd = rebuild_official_state_dict(fx['portable_init'],
                                     fx.get('portable_init_keep'))
    cfg = Config.fromfile(osp.join(TW, config))
    converted = import_taskweave_converter().convert_taskweave_official(
        sd,
        video_streams=cfg.model.video_proj.streams,
        text_streams=cfg.model.text_proj.streams)
    model = MODELS.build(cfg.model)
    model.load_state_dict(converted, strict=True)
    model.eval()
    model.feedback_active = True  # fixture epoch_i 150 >= 100
    with torch.no_grad():
        out = model(fixture_inputs(fx), mode='tensor')
    for key in ('pred_logits', 'pred_spans', 'saliency_scores',
                'saliency_scores_neg'):
        torch.testing.assert_close(
            out[key], fx['outputs'][key], atol=1e-5, rtol=1e-4, msg=key)
