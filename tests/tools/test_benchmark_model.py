# Copyright (c) mmmrhd contributors. All rights reserved.
"""tools/analysis_tools/benchmark_model.py at tiny shapes (no timing
assertions: only the batch, the rows and the error paths are checked)."""
import importlib.util
import os
import os.path as osp

import pytest
import torch

from mmmrhd.models.losses.rank_contrastive_loss import rank_contrastive_loss

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'analysis_tools', 'benchmark_model.py')
TINY = [
    '--batch-size', '4', '--num-clips', '8', '--video-dim', '20', '--text-dim',
    '12', '--steps', '1', '--warmup', '0', '--infer-steps', '1'
]
#: A small TaskWeave (the tool overrides the input streams).
CONFIG = """
d = 32
layer = dict(num_heads=4, ffn_dim=64)
model = dict(
    type='TaskWeave',
    embed_dim=d,
    video_proj=dict(type='InputProjection', streams=[dict(name='v', dim=3)]),
    text_proj=dict(type='InputProjection', streams=[dict(name='t', dim=3)]),
    fusion=dict(type='T2VEncoder', num_layers=1, **layer),
    neck=dict(
        type='TaskDecoupledUnit',
        shared_expert=dict(type='TransformerExpert', num_layers=1, **layer)),
    decoder=dict(type='DABMomentDecoder', num_layers=2, num_queries=4,
                 **layer))
"""


@pytest.fixture(scope='module')
def tool():
    spec = importlib.util.spec_from_file_location('benchmark_model', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def config(tmp_path):
    path = tmp_path / 'tiny_taskweave.py'
    path.write_text(CONFIG)
    return str(path)


def _rows(text):
    """``{row: [cells]}`` of the printed AsciiTable."""
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip('|').split('|')]
        if line.startswith('|') and cells[0] != 'row':
            rows[cells[0]] = cells[1:]
    return rows


def test_default_batch_is_the_official_speed_batch(tool):
    batch = tool.make_batch(32, 75, 2818, 512, seed=0)
    inputs, samples = batch['inputs'], batch['data_samples']
    assert inputs['video_feat'].shape == (32, 75, 2818)
    assert inputs['text_feat'].shape == (32, 32, 512)
    lengths = inputs['video_mask'].sum(1).long().tolist()
    assert [i for i, n in enumerate(lengths)
            if n != 75] == [3, 8, 13, 19, 24, 29]
    assert [lengths[i]
            for i in (3, 8, 13, 19, 24, 29)] == [60, 41, 52, 33, 70, 66]
    assert inputs['text_mask'].sum(1).long().tolist() == list(
        tool.TEXT_LENGTHS)
    assert [len(s['gt_windows']) for s in samples[:6]] == [1, 2, 3, 1, 2, 3]
    # TEF columns: [i / n, (i + 1) / n]; the feature streams L2-normalised.
    video = inputs['video_feat'][3, :60]
    torch.testing.assert_close(video[:, -2], torch.arange(60.) / 60)
    torch.testing.assert_close(video[:, -1], torch.arange(1., 61.) / 60)
    torch.testing.assert_close(video[:, :2304].norm(dim=1), torch.ones(60))
    for s in samples:
        n = s['num_clips']
        assert s['duration'] == 2.0 * n and s['ann']['qid'] == s['qid']
        assert (s['gt_windows'][:, 1] - s['gt_windows'][:, 0]).max() <= 24
        assert s['gt_windows'].max() <= 2.0 * n
        cx, w = s['gt_spans'].unbind(1)
        assert bool(((cx - w / 2) >= 0).all() and ((cx + w / 2) <= 1).all())
        labels = s['saliency_all_labels']
        assert labels.shape == (n, ) and labels.max() <= 12
        pos, neg = s['saliency_pos_labels'], s['saliency_neg_labels']
        assert pos.max() < n and neg.max() < n
    # Deterministic, and a real training target (finite rank loss).
    again = tool.make_batch(32, 75, 2818, 512, seed=0)
    assert torch.equal(again['inputs']['video_feat'], inputs['video_feat'])
    scores = torch.randn(32, 75)
    loss = rank_contrastive_loss(
        scores, inputs['video_mask'],
        torch.stack([
            torch.nn.functional.pad(s['saliency_all_labels'],
                                    (0, 75 - s['num_clips'])) for s in samples
        ]), scores)
    assert torch.isfinite(loss)


def test_anchor_only_for_the_anchor_shapes(tool):
    assert tool.anchor_for('TaskWeave', dict(tool.ANCHOR_SHAPE)) == {
        'train_off': 11.3,
        'train_on': 8.1,
        'infer': 33.9
    }
    assert tool.anchor_for('TaskWeave', dict(tool.ANCHOR_SHAPE,
                                             batch_size=2)) is None
    assert tool.anchor_for('OtherModel', dict(tool.ANCHOR_SHAPE)) is None
    assert tool.video_streams(2818) == tool.QVH_STREAMS
    assert tool.video_streams(20) == [
        dict(name='video', dim=18),
        dict(name='tef', dim=2)
    ]


def test_rows_feedback_both(tool, config, capsys):
    results = tool.main([config] + TINY)
    out = capsys.readouterr().out
    assert [r['row'] for r in results] == ['train_off', 'train_on', 'infer']
    assert all(r['ours'] > 0 and 'ratio' not in r for r in results)
    rows = _rows(out)
    assert list(rows) == ['train_off', 'train_on', 'infer']
    for cells in rows.values():
        assert float(cells[0]) > 0 and cells[1:] == ['n/a', 'n/a']
    assert 'B=4 L=8 video 20 text 12' in out
    assert 'no official anchor for TaskWeave at these shapes' in out


def test_feedback_on_official_compat_and_profile(tool, config, capsys):
    threads = torch.get_num_threads()
    results = tool.main([config] + TINY + [
        '--feedback', 'on', '--profile', '3', '--threads', '1',
        '--cfg-options', 'model.official_compat=True'
    ])
    out = capsys.readouterr().out
    assert [r['row'] for r in results] == ['train_on', 'infer']
    assert 'profile ours train_on:' in out and 'profile ours infer:' in out
    assert torch.get_num_threads() == 1
    torch.set_num_threads(threads)


def test_model_without_feedback_has_one_train_row(tool, config, capsys):
    results = tool.main([config] + TINY +
                        ['--cfg-options', 'model.feedback=None'])
    assert [r['row'] for r in results] == ['train', 'infer']


def test_errors(tool, config, tmp_path):
    with pytest.raises(FileNotFoundError, match='not found'):
        tool.main([str(tmp_path / 'missing.py')])
    no_proj = tmp_path / 'no_proj.py'
    no_proj.write_text("model = dict(type='TaskWeave')\n")
    with pytest.raises(KeyError, match="no 'video_proj'"):
        tool.main([str(no_proj)] + TINY)
    with pytest.raises(FileNotFoundError, match='taskweave/model.py'):
        tool.main([config] + TINY + ['--official-root', str(tmp_path)])
    with pytest.raises(SystemExit):
        tool.main([config, '--steps', '0'])
    with pytest.raises(ValueError, match='--video-dim must be >= 3'):
        tool.main([config] + TINY + ['--video-dim', '2'])


@pytest.mark.skipif(
    not os.environ.get('MMMRHD_OFFICIAL_TASKWEAVE'),
    reason='set MMMRHD_OFFICIAL_TASKWEAVE to a checkout of '
    'EdenGabriel/TaskWeave to run the in-run official comparison')
def test_in_run_official_comparison(tool, config, capsys):
    root = os.environ['MMMRHD_OFFICIAL_TASKWEAVE']
    results = tool.main([config] + TINY + ['--official-root', root])
    out = capsys.readouterr().out
    for r in results:
        assert r['official'] > 0
        assert r['ratio'] == pytest.approx(r['ours'] / r['official'])
    rows = _rows(out)
    assert all(cells[2].endswith('x') for cells in rows.values())
    assert f'official: {root}, timed in this run' in out


# --- official moment_detr-family runners (QD-DETR, TR-DETR) -----------------

#: A fake official checkout: the modules and call signatures the runner uses
#: (config.BaseOptions, inference.setup_model, train.set_seed, loss_fun/*),
#: importing what the real ones import (tqdm, pandas, tensorboard,
#: torchvision, a top-level ``utils`` package) and calling ``.cuda()``.
FAKE_CONFIG = '''
import argparse
from utils.basic_utils import marker


class BaseOptions:

    def __init__(self):
        self.parser = None

    def initialize(self):
        p = argparse.ArgumentParser()
        p.add_argument('--dset_name', type=str)
        p.add_argument('--seed', type=int, default=2018)
        p.add_argument('--lr', type=float, default=1e-4)
        p.add_argument('--wd', type=float, default=1e-4)
        p.add_argument('--grad_clip', type=float, default=0.1)
        p.add_argument('--no_pin_memory', action='store_true')
        p.add_argument('--ctx_mode', type=str, default='video_tef')
        p.add_argument('--v_feat_dim', type=int)
        p.add_argument('--t_feat_dim', type=int)
        p.add_argument('--exp_id', type=str)
        p.add_argument('--bsz', type=int, default=32)
        p.add_argument('--n_epoch', type=int, default=200)
        p.add_argument('--lr_drop', type=int, default=400)
        p.add_argument('--lw_saliency', type=float, default=1.0)
        p.add_argument('--label_loss_coef', type=float, default=4)
        p.add_argument('--VTC_loss_coef', type=float, default=1)
        p.add_argument('--CTC_loss_coef', type=float, default=1)
        # VideoLights' script options
        for name in ('--dec_layers', '--enc_layers', '--bicmf_layers',
                     '--hidden_dim'):
            p.add_argument(name, type=int)
        for name in ('--mr_to_hd_loss', '--hard_pos_neg_loss',
                     '--contrastive_align_loss'):
            p.add_argument(name, action='store_true')
        p.add_argument('--contrastive_align_loss_coef', type=float)
        self.parser = p
'''
FAKE_MODEL = '''
import torch
import torchvision
from torch import nn

CALLS = []


class Model(nn.Module):

    def __init__(self, opt):
        super().__init__()
        self.w = nn.Parameter(torch.ones(opt.v_feat_dim))

    def forward(self, src_txt, src_txt_mask, src_vid, src_vid_mask):
        CALLS.append(dict(src_txt=src_txt, src_txt_mask=src_txt_mask,
                          src_vid=src_vid, src_vid_mask=src_vid_mask))
        zero = torch.zeros(1).cuda()  # official transformer.py does this
        v = (src_vid * self.w).sum() * 0 + zero.sum()
        return dict(v=v, src_vid_ed=src_vid, src_txt_ed=src_txt,
                    src_vid_cls_ed=src_vid.mean(1),
                    src_txt_cls_ed=src_txt.mean(1))


class Criterion(nn.Module):
    weight_dict = dict(loss_a=10.0, loss_b=1.0)

    EPOCHS = []

    def forward(self, outputs, targets, *epoch_i):
        Criterion.EPOCHS.append(epoch_i)
        focal = torchvision.ops.focal_loss.sigmoid_focal_loss(
            torch.zeros(1), torch.ones(1), alpha=0.25, gamma=2.0)
        return dict(loss_a=outputs['v'] + 2.0, loss_b=focal.sum() + 3.0,
                    loss_unweighted=outputs['v'] + 100.0)


def build_model(opt):
    return Model(opt), Criterion()
'''
FAKE_INFERENCE = '''
import torch
from tqdm import tqdm
from utils.basic_utils import marker
from {pkg}.model import build_model


def setup_model(opt):
    model, criterion = build_model(opt)
    optimizer = torch.optim.AdamW(model.parameters(), lr=opt.lr,
                                  weight_decay=opt.wd)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, opt.lr_drop)
    return model, criterion, optimizer, scheduler
'''
FAKE_TRAIN = '''
import torch
from torch.utils.tensorboard import SummaryWriter
from {pkg}.inference import setup_model

SEEDS = []


def set_seed(seed, use_cuda=True):
    SEEDS.append(seed)
    torch.manual_seed(seed)
'''
FAKE_VTC = '''
class VTCLoss:

    def __call__(self, src_txt_cls, src_vid_cls):
        return src_vid_cls.sum() * 0 + 1.0
'''
FAKE_CTC = '''
class CTC_Loss:
    ARGS = []

    def __call__(self, src_vid, src_txt, pos_mask, vid_mask, txt_mask):
        CTC_Loss.ARGS.append(pos_mask)
        return src_vid.sum() * 0 + 2.0
'''


def _fake_official(root, pkg):
    """Write a fake official checkout of package ``pkg`` under ``root``."""
    files = {
        f'{pkg}/__init__.py': '',
        f'{pkg}/config.py': FAKE_CONFIG,
        f'{pkg}/model.py': FAKE_MODEL,
        f'{pkg}/inference.py': FAKE_INFERENCE.format(pkg=pkg),
        f'{pkg}/train.py': FAKE_TRAIN.format(pkg=pkg),
        f'{pkg}/loss_fun/VTCLoss.py': FAKE_VTC,
        f'{pkg}/loss_fun/CTCLoss.py': FAKE_CTC,
        # No __init__.py, like the official top-level utils.
        'utils/basic_utils.py': 'import pandas as pd\nmarker = 1\n',
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return str(root)


@pytest.mark.parametrize('adapter,pkg,seed,extra', [
    ('OfficialTRDETR', 'tr_detr', 2017, 0.3 * 1.0 + 0.5 * 2.0),
    ('OfficialQDDETR', 'qd_detr', 2018, 0.0),
    ('OfficialMomentDETR', 'moment_detr', 2018, 0.0),
    ('OfficialVideoLights', 'video_lights', 2018, 0.0),
])
def test_official_family_runner_on_fake_checkout(tool, tmp_path, adapter, pkg,
                                                 seed, extra):
    import sys
    root = _fake_official(tmp_path / 'official', pkg)
    before = {n: sys.modules.get(n) for n in ('utils', 'torchvision', 'tqdm')}
    batch = tool.make_batch(4, 8, 20, 12, seed=0)
    cls = getattr(tool, adapter)
    runner = cls(root, batch, 20, 12, torch.device('cpu'), seed=0)
    # The checkout and the import stubs do not leak out of the runner.
    assert root not in sys.path
    for name, module in before.items():
        assert sys.modules.get(name) is module
    assert not any(n.split('.')[0] == pkg for n in sys.modules)
    assert tool.OFFICIAL_ADAPTERS[{
        'tr_detr': 'TRDETR',
        'qd_detr': 'QDDETR',
        'moment_detr': 'MomentDETR',
        'video_lights': 'VideoLights'
    }[pkg]] is cls
    # Options: parser defaults + script options, TEF adds 2 columns.
    opt = runner.opt
    assert (opt.v_feat_dim, opt.t_feat_dim, opt.seed) == (20, 12, seed)
    assert opt.use_tef and opt.use_video and opt.dset_name == 'hl'
    train_mod = sys.modules.get(f'{pkg}.train')
    assert train_mod is None  # removed again; the runner keeps references
    assert isinstance(runner.optimizer, torch.optim.AdamW)
    assert runner.optimizer.defaults['weight_decay'] == 1e-4
    cuda = torch.Tensor.cuda
    w0 = runner.model.w.detach().clone()
    with runner.patch():
        loss = runner.train_step()
    assert torch.Tensor.cuda is cuda
    # VideoLights: criterion(outputs, targets, epoch_i=9); others 2 args.
    epochs = runner.criterion.forward.__globals__['Criterion'].EPOCHS
    assert epochs[-1] == ((9, ) if pkg == 'video_lights' else ())
    # Weighted sum (loss_unweighted is left out): 10 * 2 + 1 * (3 + focal)
    # with focal(x=0, t=1) = alpha (1 - p)^2 ln 2 = 0.25 * 0.25 * ln 2.
    focal = 0.25 * 0.25 * 0.6931471805599453
    assert loss == pytest.approx(20.0 + 3.0 + focal + extra, rel=1e-6)
    # AdamW step with zero gradient: only the decay, w * (1 - lr * wd).
    torch.testing.assert_close(runner.model.w.detach(),
                               w0 * (1 - 1e-4 * 1e-4))
    calls = runner.model.forward.__globals__['CALLS']
    inputs = batch['inputs']
    assert calls[-1]['src_vid'] is inputs['video_feat']
    assert calls[-1]['src_txt_mask'] is inputs['text_mask']
    with runner.patch():
        runner.infer_step()
    assert not runner.model.training and len(calls) == 2
    if pkg == 'tr_detr':
        # CTC reads the batch's pos_mask: 1 at the relevant clips.
        pos_mask = runner.ctc_loss.ARGS[-1]
        for i, s in enumerate(batch['data_samples']):
            expected = torch.zeros(pos_mask.shape[1])
            expected[s['ann']['relevant_clip_ids']] = 1
            torch.testing.assert_close(pos_mask[i], expected)


def test_official_family_runner_errors(tool, tmp_path):
    batch = tool.make_batch(2, 4, 20, 12, seed=0)
    with pytest.raises(FileNotFoundError,
                       match='tr_detr/model.py .*mingyao1120/TR-DETR'):
        tool.OfficialTRDETR(str(tmp_path), batch, 20, 12,
                            torch.device('cpu'), 0)
    with pytest.raises(FileNotFoundError, match='wjun0830/QD-DETR'):
        tool.OfficialQDDETR(str(tmp_path), batch, 20, 12,
                            torch.device('cpu'), 0)


def test_torchvision_focal_loss_shim(tool):
    x = torch.tensor([0.0, 2.0, -1.0])
    t = torch.tensor([1.0, 0.0, 1.0])
    p = torch.sigmoid(x)
    # Hand-written RetinaNet focal loss, element by element.
    expected = []
    for xi, ti, pi in zip(x.tolist(), t.tolist(), p.tolist()):
        import math
        ce = -(ti * math.log(pi) + (1 - ti) * math.log(1 - pi))
        p_t = pi * ti + (1 - pi) * (1 - ti)
        a_t = 0.25 * ti + 0.75 * (1 - ti)
        expected.append(a_t * ce * (1 - p_t)**2)
    got = tool._torchvision_sigmoid_focal_loss(x, t, 0.25, 2.0)
    torch.testing.assert_close(got, torch.tensor(expected))
    assert float(tool._torchvision_sigmoid_focal_loss(
        x, t, 0.25, 2.0, 'sum')) == pytest.approx(sum(expected), rel=1e-6)
    no_alpha = tool._torchvision_sigmoid_focal_loss(x, t, -1, 2.0, 'mean')
    assert float(no_alpha) == pytest.approx(
        sum(e / (0.25 * ti + 0.75 * (1 - ti))
            for e, ti in zip(expected, t.tolist())) / 3, rel=1e-6)


def test_steps_are_interleaved(tool):
    """Step i of every runner before step i + 1 of any; who goes first
    alternates."""
    log = []

    class Fake(tool.Runner):

        def __init__(self, name):
            self.name = name

        def set_feedback(self, on):
            pass

        def train_step(self):
            log.append(self.name)
            return 1.0

    times = tool.time_rows_interleaved([Fake('ours'), Fake('official')],
                                       'train', 3, 1, 5)
    assert log == ['ours', 'official', 'official', 'ours', 'ours',
                   'official', 'official', 'ours']
    assert [len(t) for t in times.values()] == [3, 3]


@pytest.mark.parametrize('config_name,pkg', [
    ('tr_detr/tr_detr_demo.py', 'tr_detr'),
    ('qd_detr/qd_detr_demo.py', 'qd_detr'),
])
def test_main_with_fake_official(tool, tmp_path, capsys, config_name, pkg):
    root = _fake_official(tmp_path / 'official', pkg)
    config = osp.join(REPO, 'configs', config_name)
    results = tool.main([config] + TINY + ['--official-root', root])
    assert [r['row'] for r in results] == ['train', 'infer']
    for r in results:
        assert r['official'] > 0
        assert r['ratio'] == pytest.approx(r['ours'] / r['official'])
    assert f'official: {root}, timed in this run' in capsys.readouterr().out


@pytest.mark.parametrize('config_name,env', [
    ('tr_detr/tr_detr_demo.py', 'MMMRHD_OFFICIAL_TRDETR'),
    ('qd_detr/qd_detr_demo.py', 'MMMRHD_OFFICIAL_QDDETR'),
    ('moment_detr/moment_detr_qvh_official.py',
     'MMMRHD_OFFICIAL_MOMENT_DETR'),
    ('videolights/videolights_qvh_official.py',
     'MMMRHD_OFFICIAL_VIDEOLIGHTS'),
])
def test_in_run_official_moment_detr_family(tool, capsys, config_name, env):
    """The real checkout (mingyao1120/TR-DETR, wjun0830/QD-DETR) when the
    environment variable points to it."""
    root = os.environ.get(env)
    if not root:
        pytest.skip(f'set {env} to the official checkout to run the in-run '
                    'official comparison')
    config = osp.join(REPO, 'configs', config_name)
    results = tool.main([config] + TINY + ['--official-root', root])
    for r in results:
        assert r['official'] > 0 and r['ratio'] > 0
    out = capsys.readouterr().out
    assert all(cells[2].endswith('x') for cells in _rows(out).values())


@pytest.mark.parametrize('adapter,env,fields', [
    ('OfficialMomentDETR', 'MMMRHD_OFFICIAL_MOMENT_DETR',
     dict(enc_layers=2, dec_layers=2, hidden_dim=256, seed=2018)),
    ('OfficialVideoLights', 'MMMRHD_OFFICIAL_VIDEOLIGHTS',
     dict(enc_layers=3, dec_layers=3, bicmf_layers=1, hidden_dim=256,
          mr_to_hd_loss=True, hard_pos_neg_loss=True,
          contrastive_align_loss_coef=0.2, seed=2018)),
])
def test_official_checkout_options_and_step(tool, adapter, env, fields):
    """The real jayleicn/moment_detr / dpaul06/VideoLights checkout: script
    options on the official parser, a training step that updates the
    weights, the same parameter count as our official-compat config, and
    (VideoLights) the criterion at epoch_i = 9."""
    import sys
    root = os.environ.get(env)
    if not root:
        pytest.skip(f'set {env} to the official checkout')
    batch = tool.make_batch(4, 8, 20, 12, seed=0)
    runner = getattr(tool, adapter)(root, batch, 20, 12,
                                    torch.device('cpu'), 0)
    assert {k: getattr(runner.opt, k) for k in fields} == fields
    assert (runner.opt.v_feat_dim, runner.opt.t_feat_dim) == (20, 12)
    assert 'utils.basic_utils' not in sys.modules
    seen = []
    forward = type(runner.criterion).forward

    def spy(self, outputs, targets, *args):
        seen.append(args)
        return forward(self, outputs, targets, *args)

    type(runner.criterion).forward = spy
    try:
        before = [p.detach().clone() for p in runner.model.parameters()]
        with runner.patch():
            loss = runner.train_step()
    finally:
        type(runner.criterion).forward = forward
    assert seen == [(9, ) if adapter == 'OfficialVideoLights' else ()]
    assert loss == loss and any(
        not torch.equal(a, p)
        for a, p in zip(before, runner.model.parameters()))
    cfg = {'OfficialMomentDETR': 'moment_detr/moment_detr_qvh_official.py',
           'OfficialVideoLights':
           'videolights/videolights_qvh_official.py'}[adapter]
    from mmengine.config import Config

    from mmmrhd.utils import register_all_modules
    register_all_modules()
    ours = tool.build_model(
        Config.fromfile(osp.join(REPO, 'configs', cfg)), 20, 12,
        torch.device('cpu'))
    assert sum(p.numel() for p in ours.parameters()) == sum(
        p.numel() for p in runner.model.parameters())


def test_batch_has_the_videolights_pos_index(tool):
    from mmmrhd.datasets.collate import collate_targets
    batch = tool.make_batch(4, 8, 20, 12, seed=0)
    for s in batch['data_samples']:
        assert torch.equal(s['saliency_pos_index'],
                           (s['saliency_all_labels'] > 0).long())
        pos = s['saliency_pos_index'].nonzero().flatten().tolist()
        assert set(pos) <= set(s['ann']['relevant_clip_ids'])
    assert collate_targets(
        batch['data_samples'])['saliency_pos_index'].shape == (4, 8)


class _MatmulRunner:
    """A fake runner whose steps are known matrix products: train = one
    (4x5)@(5x6) product and its backward (3 x 240 FLOPs), infer = one
    (4x5)@(5x6) product (240 FLOPs)."""

    def __init__(self, tool, name):
        self.name = name
        self.a = torch.randn(4, 5, requires_grad=True)
        self.b = torch.randn(5, 6)
        self.patch = tool.Runner.patch.__get__(self)

    def set_feedback(self, on):
        pass

    def train_step(self):
        (self.a @ self.b).sum().backward()
        return 0.0

    def infer_step(self):
        with torch.no_grad():
            self.a @ self.b


def test_step_flops_counts_forward_and_backward(tool):
    runner = _MatmulRunner(tool, 'ours')
    assert tool.step_flops(runner, 'infer') == 2 * 4 * 5 * 6
    # backward: grad of a = grad_out (4x6) @ b^T (6x5): one more product of
    # the same size (b needs no grad)
    assert tool.step_flops(runner, 'train') == 2 * (2 * 4 * 5 * 6)


def test_roofline_bound_and_max_ratio(tool, monkeypatch, capsys):
    """max ratio = (B / (GFLOP / peak)) / official samples/s."""
    import importlib
    module = importlib.import_module('mmmrhd.testing.speed.roofline')
    monkeypatch.setattr(module, 'gemm_peak', lambda device: 0.001)  # GFLOP/s
    runners = [_MatmulRunner(tool, 'ours'), _MatmulRunner(tool, 'official')]
    results = [dict(row='train', ours=1.0, official=2.0),
               dict(row='infer', ours=1.0, anchor=4.0)]
    info = tool.roofline(runners, ['train', 'infer'], results, 8,
                         torch.device('cpu'))
    # train: 480 FLOPs at 1e6 FLOP/s -> 4.8e-4 s per step of 8 samples
    assert info[0]['ours_gflop'] == pytest.approx(480e-9)
    assert info[0]['ours_at_peak'] == pytest.approx(8 / 4.8e-4)
    assert info[0]['max_ratio'] == pytest.approx(8 / 4.8e-4 / 2.0)
    assert info[1]['official_gflop'] == pytest.approx(240e-9)
    assert info[1]['max_ratio'] == pytest.approx(8 / 2.4e-4 / 4.0)
    out = capsys.readouterr().out
    assert 'matrix-product peak of this machine 0.0 GFLOP/s' in out
    assert _rows(out)['infer'][-1] == f'{8 / 2.4e-4 / 4.0:.2f}x'


def test_gemm_peak_is_a_positive_rate(tool):
    assert tool.gemm_peak(torch.device('cpu'), repeats=1) > 0


def test_main_roofline_rows(tool, config, capsys):
    results = tool.main([config] + TINY + ['--roofline', '--feedback', 'off'])
    assert [r['row'] for r in results] == ['train_off', 'infer']
    for r in results:
        assert r['ours_gflop'] > 0 and r['peak_gflops'] > 0
        assert r['ours_at_peak'] == pytest.approx(
            4 / (r['ours_gflop'] / r['peak_gflops']))
        assert 'max_ratio' not in r  # no official, no anchor at tiny shapes
    # a train step (forward + backward) is more work than inference
    assert results[0]['ours_gflop'] > results[1]['ours_gflop']


def test_step_flops_under_no_grad_with_parameter_inputs(tool):
    """A module called with a parameter as input inside ``no_grad`` (the
    query embeddings of the DETR decoders): counted, no hook error."""

    class Embedder(_MatmulRunner):

        def __init__(self):
            super().__init__(tool, 'ours')
            self.lin = torch.nn.Linear(5, 6)
            self.emb = torch.nn.Parameter(torch.randn(4, 5))

        def infer_step(self):
            with torch.no_grad():
                self.lin(self.emb)

    assert tool.step_flops(Embedder(), 'infer') == 2 * 4 * 5 * 6
