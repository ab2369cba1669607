# Copyright (c) mmmrhd contributors. All rights reserved.
"""Every VideoLights config parses and builds (model + dataset on small
data), holds the official script values, and the official-compat config
builds exactly the released model."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmmrhd.datasets.collate import mrhd_collate
from mmmrhd.registry import MODELS
from mmmrhd.testing import (build_config_model, build_seeded, loss_step,
                            predict_step)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_DIR = osp.join(REPO, 'configs')
VL = osp.join(CONFIG_DIR, 'videolights')
CONFIGS = sorted(osp.basename(p) for p in glob.glob(osp.join(VL, '*.py')))
PAPER_PARAMS = 10_399_975 - 8_704 - 16_448  # without the 2 unused modules


pytestmark = pytest.mark.usefixtures('mmmrhd_scope')


def _load(name: str) -> Config:
    return Config.fromfile(osp.join(VL, name))


def _params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def test_inventory():
    assert set(CONFIGS) == {
        'videolights_qvh.py', 'videolights_qvh_official.py',
        'videolights-b_qvh.py', 'videolights_charades-sta.py',
        'videolights_tvsum.py', 'videolights_demo.py'
    }


@pytest.mark.parametrize('name', CONFIGS)
def test_config_builds(name):
    cfg = _load(name)
    model = build_config_model(cfg)
    assert type(model).__name__ == 'VideoLights'
    hooks = [h.type for h in cfg.custom_hooks]
    # the hard losses' epoch schedule comes from the hook
    assert 'AdaptiveLossScheduleHook' in hooks and 'RNGStateHook' in hooks
    assert 'EpochEMAHook' not in hooks  # VideoLights has no EMA
    assert cfg.optim_wrapper.clip_grad == dict(max_norm=0.1, norm_type=2)
    assert cfg.train_dataloader.persistent_workers is False
    assert model.fusion.official_compat == ('official' in name)
    assert len(model.fusion.layers) == 1  # `bicmf_layers` 1


def test_official_script_values():
    qvh = _load('videolights_qvh.py')
    assert _params(MODELS.build(qvh.model)) == PAPER_PARAMS
    assert _params(MODELS.build(
        _load('videolights_qvh_official.py').model)) == 10_399_975
    assert qvh.train_cfg.max_epochs == 200
    assert qvh.optim_wrapper.optimizer.lr == 1e-4
    assert qvh.model.joint_loss.weights.loss_contrastive_align == 0.2
    blip = MODELS.build(_load('videolights-b_qvh.py').model)
    assert blip.video_proj.in_dim == 3586 and blip.text_proj.in_dim == 1280
    ch = _load('videolights_charades-sta.py')
    assert ch.train_cfg.max_epochs == 100
    assert ch.model.joint_loss.weights.loss_contrastive_align == 0.3
    assert ch.model.feedback.clip_len == 1.0
    assert ch.train_dataloader.dataset.clip_len == 1.0
    tv = _load('videolights_tvsum.py')
    tv_model = MODELS.build(tv.model)
    assert tv_model.moment_loss is None and tv_model.align_loss is None
    hard = [t for t in tv_model.saliency_loss.terms
            if type(t).__name__ == 'AdaptiveHardSaliencyLoss']
    assert [t.loss_weight for t in hard] == [1.0, 1.0]
    assert tv.optim_wrapper.optimizer.lr == 1e-3
    assert tv.train_dataloader.batch_size == 4


@pytest.mark.parametrize('name',
                         ['videolights_qvh.py', 'videolights_qvh_official.py'])
def test_qvh_dataset_and_step(name, fake_qvh_dataset):
    cfg = _load(name)
    train = fake_qvh_dataset(cfg.train_dataloader.dataset)
    val = fake_qvh_dataset(cfg.val_dataloader.dataset)
    assert train[0]['inputs']['video_feat'].shape[-1] == 2818
    model = build_seeded(cfg.model)
    total, log_vars, _ = loss_step(model, [train[0], train[1]])
    assert torch.isfinite(total).all()
    assert {'loss_saliency', 'loss_contrastive_align_1',
            'saliency_hard_pos'} <= set(log_vars)
    preds = predict_step(model, [val[0], val[1]])
    assert all(len(p['pred_relevant_windows']) == 10 for p in preds)


def test_official_config_reproduces_official_forward(fixtures_dir):
    from mmmrhd.testing import fixture_inputs, load_fixture
    from mmmrhd.testing.adapters.videolights import (
        import_videolights_converter, set_videolights_epoch)
    from mmmrhd.testing.portable_init import rebuild_official_state_dict
    fx = load_fixture(osp.join(fixtures_dir, 'videolights.pth'))
    sd = rebuild_official_state_dict(fx['portable_init'],
                                     fx.get('portable_init_keep'))
    cfg = _load('videolights_qvh_official.py')
    converted = import_videolights_converter().convert_videolights_official(
        sd,
        video_streams=cfg.model.video_proj.streams,
        text_streams=cfg.model.text_proj.streams)
    model = MODELS.build(cfg.model)
    model.load_state_dict(converted, strict=True)
    model.eval()
    set_videolights_epoch(model, fx['meta']['epoch_i'])
    with torch.no_grad():
        out = model(fixture_inputs(fx), mode='tensor')
    for key in ('pred_logits', 'pred_spans', 'saliency_scores',
                'saliency_scores_neg', 'saliency_scores_mr'):
        torch.testing.assert_close(
            out[key], fx['outputs'][key], atol=1e-5, rtol=1e-4, msg=key)


def _items(video_dim, text_dim, lengths, clip_len, binary):
    g = torch.Generator().manual_seed(0)
    items = []
    for i, length in enumerate(lengths):
        labels = torch.zeros(length)
        labels[3:9] = 1.0 if binary else torch.rand(6, generator=g) * 12
        items.append(
            dict(
                inputs=dict(
                    video_feat=torch.randn(length, video_dim, generator=g),
                    text_feat=torch.randn(6, text_dim, generator=g)),
                data_samples=dict(
                    qid=i,
                    query='q',
                    vid=f'v{i}',
                    duration=float(length * clip_len),
                    clip_len=clip_len,
                    num_clips=length,
                    gt_spans=torch.tensor([[0.3, 0.2]]),
                    saliency_pos_labels=torch.tensor([4, 5]),
                    saliency_neg_labels=torch.tensor([0, 12]),
                    saliency_all_labels=labels,
                    ann=dict(qid=i))))
    return items


def test_tvsum_step_is_hd_only():
    cfg = _load('videolights_tvsum.py')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    assert model.video_proj.in_dim == 2050
    model.train()
    batch = model.data_preprocessor(
        mrhd_collate(_items(2050, 512, (20, 14), 2.0, False)), True)
    losses = model(**batch, mode='loss')
    assert not any(k.startswith(('loss_span', 'loss_contrastive'))
                   for k in losses)
    assert {'saliency_mr_to_hd', 'saliency_hard_pos'} <= set(losses)
    total, _ = model.parse_losses(losses)
    assert torch.equal(total, losses['loss_saliency'])


def test_charades_step_with_window_labels():
    cfg = _load('videolights_charades-sta.py')
    assert cfg.val_evaluator.type == 'CharadesSTAMetric'
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    assert model.post_processor.clip_len == 1.0
    model.train()
    batch = model.data_preprocessor(
        mrhd_collate(_items(2818, 512, (30, 22), 1.0, True)), True)
    total, log_vars = model.parse_losses(model(**batch, mode='loss'))
    assert torch.isfinite(total).all()
    assert 'loss_contrastive_align_1' in log_vars


def test_metafile_lists_every_config():
    import yaml
    with open(osp.join(VL, 'metafile.yml')) as f:
        meta = yaml.safe_load(f)
    listed = {m['Config'] for m in meta['Models']}
    assert listed == {f'configs/videolights/{c}' for c in CONFIGS}
    params = {m['Config']: m['Metadata'].get('Parameters')
              for m in meta['Models']}
    for rel, count in params.items():
        if count is not None:
            model = MODELS.build(Config.fromfile(osp.join(REPO, rel)).model)
            assert _params(model) == count, rel


@pytest.mark.parametrize('name', CONFIGS)
def test_best_checkpoint_rule_is_official(name):
    """VideoLights keeps the best ``calculate_stop_score`` (train.py
    L104-136: QVHighlights weights for 'hl', R1 + mIoU otherwise) and the
    best plain ``mAP`` on TVSum (``train_hl``, L312)."""
    from mmmrhd.registry import METRICS
    cfg = _load(name)
    metric = METRICS.build(cfg.val_evaluator)
    assert cfg.test_evaluator == cfg.val_evaluator
    save_best = cfg.default_hooks.checkpoint.save_best
    if 'tvsum' in name:
        assert save_best == 'mAP' and metric.composite_scores == {}
        return
    assert save_best == 'stop_score'
    spec = metric.composite_scores['stop_score']
    assert spec['normalize'] is True
    if 'charades' in name:
        assert type(metric).__name__ == 'CharadesSTAMetric'
        assert spec['weights'] == {
            'MR-full-R1@0.3': 0.3, 'MR-full-R1@0.5': 0.5,
            'MR-full-R1@0.7': 0.7, 'MR-full-mIoU': 0.5
        }
        return
    assert metric.variant == 'videolights'  # has MR-full-R1@0.3
    assert spec['weights'] == {
        'MR-full-R1@0.3': 0.3, 'MR-full-R1@0.5': 0.5, 'MR-full-R1@0.7': 0.7,
        'MR-full-mAP@0.5': 0.5, 'MR-full-mAP@0.75': 0.75,
        'MR-full-mAP': 0.25, 'MR-long-mAP': 0.25, 'MR-middle-mAP': 0.25,
        'MR-short-mAP': 0.25
    }
