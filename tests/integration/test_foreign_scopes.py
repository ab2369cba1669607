# Copyright (c) mmmrhd contributors. All rights reserved.
"""mmmrhd parts build and train from configs of other projects.

Another project reaches our parts with the ``mmmrhd.`` prefix; its default
scope is ``None``, ``mmengine``, MMAction2's ``mmaction`` (when importable;
the MMAction2-like ``fakeaction`` always), or its own (``userproj``). Both
fake projects live in ``tests/plugin_projects`` and register decoys named
like our nested parts, which must never be built. The same training under
every scope gives the same weights and metrics as under ``mmmrhd``.
"""
import copy
import math
import os.path as osp
import sys
import uuid
import warnings

import pytest
import torch
from mmengine import DefaultScope
from mmengine.config import Config
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.runner import Runner

import mmmrhd.registry as mmmrhd_registry
from mmmrhd.datasets import ensure_demo_data
from mmmrhd.datasets.transforms import LoadVideoFeatures
from mmmrhd.evaluation.metrics import QVHighlightsMetric
from mmmrhd.models.data_preprocessors import MRHDDataPreprocessor
from mmmrhd.models.feedback import FeedbackHead
from mmmrhd.models.feedback.converters import HighlightToMask
from mmmrhd.models.necks import TaskDecoupledUnit, TransformerExpert
from mmmrhd.models.task_modules import HungarianMatcher

TESTS = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = osp.join(osp.dirname(TESTS), 'configs')
sys.path.insert(0, osp.join(TESTS, 'plugin_projects'))

from userproj import transforms as userproj_transforms  # noqa: E402

# Models trained for two iterations predict degenerate (zero-length) windows;
# the evaluator warns about them and scores them like the official code.
pytestmark = pytest.mark.filterwarnings(
    'ignore::mmmrhd.evaluation.functional.submission.SubmissionWarning')

FOREIGN_SCOPES = [None, 'mmengine', 'mmaction', 'fakeaction', 'userproj']
MODELS_5 = ['taskweave', 'tr_detr', 'videolights', 'qd_detr', 'moment_detr']
OURS = {
    name
    for registry in mmmrhd_registry.__all__
    for name in getattr(mmmrhd_registry, registry).module_dict
}


def _need_scope(scope):
    """Skip ``mmaction`` unless MMAction2 (with its models) imports."""
    if scope != 'mmaction':
        return
    try:
        with warnings.catch_warnings():  # mmcv-lite lacks mmcv.ops
            warnings.simplefilter('ignore')
            import mmaction.models  # noqa: F401
    except Exception as e:  # ImportError, or its mmcv version assertion
        pytest.skip(f'mmaction2 not usable here: {type(e).__name__}: {e}')


@pytest.fixture(autouse=True)
def clean_default_scope():
    """Start without a current default scope; restore the others after."""
    saved = dict(DefaultScope._instance_dict)
    DefaultScope._instance_dict.clear()
    yield
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(saved)


@pytest.fixture(scope='module')
def demo_root(tmp_path_factory):
    return ensure_demo_data(
        str(tmp_path_factory.mktemp('scopes') / 'demo'),
        seed=0, num_train=8, num_val=4)


def with_prefix(cfg):
    """Prefix the outermost mmmrhd types of a config with ``mmmrhd.``.

    A dict whose type is ours gets the prefix and is left alone inside
    (its nested parts must resolve in our scope by themselves).
    """
    if isinstance(cfg, dict):
        t = cfg.get('type')
        if isinstance(t, str) and '.' not in t and t in OURS:
            cfg['type'] = 'mmmrhd.' + t
            return cfg
        for value in cfg.values():
            with_prefix(value)
    elif isinstance(cfg, list):
        for value in cfg:
            with_prefix(value)
    return cfg


def _unique(tag) -> str:
    return f'{tag}_{uuid.uuid4().hex[:8]}'


def _run(cfg: dict):
    """Build as ``tools/train.py`` does, train, validate once more."""
    if 'runner_type' in cfg:
        runner = MMENGINE_RUNNERS.build(Config(cfg))
    else:
        runner = Runner.from_cfg(Config(cfg))
    runner.train()
    metrics = runner.val_loop.run()
    return runner, metrics


# ---------------------------------------------------- the five models


def _demo_model_cfg(name: str) -> dict:
    return Config.fromfile(
        osp.join(CONFIGS, name, f'{name}_demo.py')).to_dict()['model']


@pytest.mark.parametrize('name', MODELS_5)
def test_demo_models_build_under_foreign_scopes(name):
    cfg = _demo_model_cfg(name)
    with DefaultScope.overwrite_default_scope('mmmrhd'):
        torch.manual_seed(0)
        reference = MMENGINE_MODELS.build(copy.deepcopy(cfg)).state_dict()
    for scope in FOREIGN_SCOPES:
        if scope == 'mmaction':
            continue  # covered by the runner test when MMAction2 imports
        prefixed = dict(copy.deepcopy(cfg), type='mmmrhd.' + cfg['type'])
        with DefaultScope.overwrite_default_scope(scope):
            if scope is not None:
                # unprefixed, a foreign scope does not know our models
                with pytest.raises(KeyError, match=cfg['type']):
                    MMENGINE_MODELS.build(copy.deepcopy(cfg))
            torch.manual_seed(0)
            model = MMENGINE_MODELS.build(prefixed)
        assert type(model).__name__ == cfg['type'], scope
        state = model.state_dict()
        assert list(state) == list(reference), scope
        for key, value in state.items():
            assert torch.equal(value, reference[key]), (scope, key)


def _tiny(cfg: dict, scope, demo_root: str, work_dir: str, tag: str) -> None:
    """Tiny demo data, 2 epochs of 2 iterations, validation every epoch."""
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if key in cfg:
            cfg[key]['dataset'].update(data_root=demo_root, num_train=8,
                                       num_val=4)
            cfg[key]['batch_size'] = 4
    cfg.update(
        default_scope=scope,
        work_dir=work_dir,
        experiment_name=_unique(f'{tag}_{scope}'),
        train_cfg=dict(type='EpochBasedTrainLoop', max_epochs=2,
                       val_interval=1),
        randomness=dict(seed=0))
    cfg['visualizer']['name'] = _unique('vis')


def _demo_run_cfg(name, scope, demo_root, work_dir, runner_type):
    cfg = Config.fromfile(osp.join(CONFIGS, name, f'{name}_demo.py'))
    cfg = with_prefix(cfg.to_dict())
    assert cfg['runner_type'] == 'MRHDRunner'
    if runner_type == 'Runner':
        cfg.pop('runner_type')  # MMEngine's
    else:
        cfg['runner_type'] = runner_type
    _tiny(cfg, scope, demo_root, work_dir, name)
    cfg['default_hooks']['checkpoint'] = dict(
        type='mmmrhd.CheckpointHook', interval=1, save_best='MR-full-mAP',
        rule='greater')
    return cfg


# one foreign scope per model keeps the test short; together they cover all
@pytest.mark.parametrize('name,scope,runner_type', [
    ('taskweave', 'fakeaction', 'Runner'),
    ('tr_detr', 'mmengine', 'mmmrhd.MRHDRunner'),
    ('videolights', 'userproj', 'Runner'),
    ('qd_detr', None, 'mmmrhd.MRHDRunner'),
    ('moment_detr', 'fakeaction', 'mmmrhd.MRHDRunner'),
    ('taskweave', 'mmaction', 'mmmrhd.MRHDRunner'),
])
def test_demo_configs_train_under_foreign_scope(name, scope, runner_type,
                                                demo_root, tmp_path):
    _need_scope(scope)
    cfg = _demo_run_cfg(name, scope, demo_root, str(tmp_path), runner_type)
    assert cfg['model']['type'] == 'mmmrhd.' + _demo_model_cfg(name)['type']
    runner, metrics = _run(cfg)
    assert type(runner).__name__ == runner_type.split('.')[-1]
    assert type(runner.model).__name__ == _demo_model_cfg(name)['type']
    loss = runner.message_hub.get_scalar('train/loss').current()
    assert math.isfinite(loss)
    assert 0 <= metrics['MR-full-mAP'] <= 100
    assert 0 <= metrics['HL-min-VeryGood-mAP'] <= 100
    assert osp.isfile(osp.join(str(tmp_path), 'epoch_2.pth'))


# ------------------------------------------ a user model with our parts


USER_CONFIG = osp.join(TESTS, 'plugin_projects', 'userproj', 'configs',
                       'tinynet_demo.py')


def _user_cfg(scope, demo_root, work_dir):
    """The documented example config, small, under ``scope``.

    Under its own scope the user project names its types plainly; under
    any other they get its prefix (the ``mmmrhd.`` types are prefixed in
    the file already; a user type inside an mmmrhd part always is).
    """
    cfg = Config.fromfile(USER_CONFIG).to_dict()
    assert cfg['default_scope'] == 'userproj'
    if scope != 'userproj':
        for part in (cfg['model'], cfg['val_evaluator'][1],
                     cfg['custom_hooks'][1]):
            part['type'] = 'userproj.' + part['type']
    _tiny(cfg, scope, demo_root, work_dir, 'user')
    cfg['default_hooks'] = dict(checkpoint=None)
    return cfg


@pytest.fixture(scope='module')
def user_reference(demo_root, tmp_path_factory):
    """The user model trained under the ``mmmrhd`` default scope."""
    saved = dict(DefaultScope._instance_dict)
    runner, metrics = _run(
        _user_cfg('mmmrhd', demo_root, str(tmp_path_factory.mktemp('ref'))))
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(saved)
    return runner.model.state_dict(), metrics


@pytest.mark.parametrize('scope', FOREIGN_SCOPES)
def test_user_model_with_our_parts(scope, demo_root, tmp_path,
                                   user_reference):
    _need_scope(scope)
    userproj_transforms.SEEN_QIDS.clear()
    runner, metrics = _run(_user_cfg(scope, demo_root, str(tmp_path)))
    model = runner.model
    # our parts, nested ones included (not the decoys of the projects)
    assert isinstance(model.data_preprocessor, MRHDDataPreprocessor)
    assert isinstance(model.neck, TaskDecoupledUnit)
    assert isinstance(model.neck.shared_expert, TransformerExpert)
    assert isinstance(model.feedback, FeedbackHead)
    assert isinstance(model.feedback.h2m, HighlightToMask)
    assert isinstance(model.moment_loss.matcher, HungarianMatcher)
    transforms = runner.train_dataloader.dataset.pipeline.transforms
    assert isinstance(transforms[0], LoadVideoFeatures)
    assert type(transforms[3]).__name__ == 'RecordQid'
    assert isinstance(runner.val_evaluator.metrics[0], QVHighlightsMetric)
    # FeedbackActivationHook (start_epoch=None: max_epochs // 2 = 1) found
    # the head inside the user model: off in epoch 0 (and its validation),
    # on from epoch 1 (and in the final validation)
    record = next(h for h in runner.hooks
                  if type(h).__name__ == 'RecordFeedback')
    assert record.train == [[False], [True]]
    assert record.val == [[False], [True], [True]]
    # the user transform ran inside our pipeline: 2 epochs x 8 train
    # samples, 3 validations (2 in training, 1 after) x 4 val samples
    assert len(userproj_transforms.SEEN_QIDS) == 2 * 8 + 3 * 4
    assert metrics['user/num_preds'] == 4
    # same weights and metrics as under our own scope
    ref_state, ref_metrics = user_reference
    assert metrics == ref_metrics
    state = model.state_dict()
    assert list(state) == list(ref_state)
    for key, value in state.items():
        assert torch.equal(value, ref_state[key]), key

