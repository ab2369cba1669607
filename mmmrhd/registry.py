# Copyright (c) mmmrhd contributors. All rights reserved.
"""Child registries of every MMEngine root registry, scope ``mmmrhd``.

Each registry names the package(s) where its modules live (``locations``), so
building from a config imports them lazily: a config with
``default_scope='mmmrhd'`` needs no manual imports. Other OpenMMLab projects
reach our modules with the ``mmmrhd.`` prefix (``type='mmmrhd.TaskWeave'``)
after ``custom_imports=dict(imports=['mmmrhd'])``.
"""
from typing import Optional

from mmengine import DefaultScope
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import INFERENCERS as MMENGINE_INFERENCERS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import \
    RUNNER_CONSTRUCTORS as MMENGINE_RUNNER_CONSTRUCTORS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import STRATEGIES as MMENGINE_STRATEGIES
from mmengine.registry import TASK_UTILS as MMENGINE_TASK_UTILS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import \
    WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

__all__ = [
    'RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS', 'HOOKS', 'LOG_PROCESSORS',
    'OPTIMIZERS', 'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS',
    'PARAM_SCHEDULERS', 'DATASETS', 'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS',
    'MODEL_WRAPPERS', 'WEIGHT_INITIALIZERS', 'TASK_UTILS', 'METRICS',
    'EVALUATOR', 'VISUALIZERS', 'VISBACKENDS', 'FUNCTIONS', 'INFERENCERS',
    'STRATEGIES'
]

# Runners and their constructors, loops.
RUNNERS = Registry(
    'runner', parent=MMENGINE_RUNNERS, locations=['mmmrhd.engine'])
RUNNER_CONSTRUCTORS = Registry(
    'runner constructor',
    parent=MMENGINE_RUNNER_CONSTRUCTORS,
    locations=['mmmrhd.engine'])
LOOPS = Registry('loop', parent=MMENGINE_LOOPS, locations=['mmmrhd.engine'])
HOOKS = Registry(
    'hook', parent=MMENGINE_HOOKS, locations=['mmmrhd.engine.hooks'])
LOG_PROCESSORS = Registry(
    'log_processor',
    parent=MMENGINE_LOG_PROCESSORS,
    locations=['mmmrhd.engine'])

# Optimisation.
OPTIMIZERS = Registry(
    'optimizer', parent=MMENGINE_OPTIMIZERS, locations=['mmmrhd.engine'])
OPTIM_WRAPPERS = Registry(
    'optim_wrapper', parent=MMENGINE_OPTIM_WRAPPERS,
    locations=['mmmrhd.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
    locations=['mmmrhd.engine'])
PARAM_SCHEDULERS = Registry(
    'parameter scheduler',
    parent=MMENGINE_PARAM_SCHEDULERS,
    locations=['mmmrhd.engine'])

# Data.
DATASETS = Registry(
    'dataset', parent=MMENGINE_DATASETS, locations=['mmmrhd.datasets'])
DATA_SAMPLERS = Registry(
    'data sampler',
    parent=MMENGINE_DATA_SAMPLERS,
    locations=['mmmrhd.datasets'])
TRANSFORMS = Registry(
    'transform',
    parent=MMENGINE_TRANSFORMS,
    locations=['mmmrhd.datasets.transforms'])

# Models.
MODELS = Registry('model', parent=MMENGINE_MODELS, locations=['mmmrhd.models'])
MODEL_WRAPPERS = Registry(
    'model_wrapper',
    parent=MMENGINE_MODEL_WRAPPERS,
    locations=['mmmrhd.models'])
WEIGHT_INITIALIZERS = Registry(
    'weight initializer',
    parent=MMENGINE_WEIGHT_INITIALIZERS,
    locations=['mmmrhd.models', 'mmmrhd.engine'])
# Matchers, post-processors and other model-side utilities without weights.
TASK_UTILS = Registry(
    'task util',
    parent=MMENGINE_TASK_UTILS,
    locations=['mmmrhd.models', 'mmmrhd.evaluation'])

# Evaluation.
METRICS = Registry(
    'metric', parent=MMENGINE_METRICS, locations=['mmmrhd.evaluation'])
EVALUATOR = Registry(
    'evaluator', parent=MMENGINE_EVALUATOR, locations=['mmmrhd.evaluation'])

# Visualisation.
VISUALIZERS = Registry(
    'visualizer',
    parent=MMENGINE_VISUALIZERS,
    locations=['mmmrhd.visualization'])
VISBACKENDS = Registry(
    'vis_backend',
    parent=MMENGINE_VISBACKENDS,
    locations=['mmmrhd.visualization'])

# Functions (collate functions), inferencers, strategies.
FUNCTIONS = Registry(
    'function', parent=MMENGINE_FUNCTIONS, locations=['mmmrhd.datasets'])
INFERENCERS = Registry(
    'inferencer', parent=MMENGINE_INFERENCERS, locations=['mmmrhd.apis'])
STRATEGIES = Registry(
    'strategy', parent=MMENGINE_STRATEGIES, locations=['mmmrhd.engine'])


def build_part(registry: Registry, cfg, **default_args):
    """Build a nested part of an mmmrhd module in the ``mmmrhd`` scope.

    Parts that build other parts (a detector its neck, a criterion its
    matcher, a dataset its pipeline) call this instead of
    ``registry.build(cfg)``: the config gets ``_scope_='mmmrhd'`` unless it
    names a scope itself, so an unprefixed ``type`` resolves in our
    registries even when the caller's default scope is another project's
    (``mmengine``, ``mmaction``, ...). A ``type`` with a scope prefix
    (``'mmaction.Foo'``) still reaches that project's registry.

    Args:
        registry (Registry): An mmmrhd registry (e.g. :data:`MODELS`).
        cfg (dict | Any): A config dict; anything else (a built module,
            ``None``) is returned unchanged.
        **default_args: Passed to ``registry.build`` as ``default_args``.

    Returns:
        Any: The built object, or ``cfg`` when it is not a dict.

    Raises:
        KeyError: The type is unknown. When the caller's default scope
            knows it (a user project's part named without its prefix inside
            ours), the message says to write ``type='<scope>.<name>'``.
    """
    if not isinstance(cfg, dict):
        return cfg
    cfg = dict(cfg)
    cfg.setdefault('_scope_', 'mmmrhd')
    caller = DefaultScope.get_current_instance()
    try:
        return registry.build(cfg, default_args=default_args or None)
    except KeyError as e:
        hint = _caller_scope_hint(registry, cfg.get('type'), caller)
        if hint is None:
            raise
        raise KeyError(f'{e.args[0] if e.args else e} {hint}') from e


def _caller_scope_hint(registry: Registry, name,
                       caller: Optional[DefaultScope]) -> Optional[str]:
    """A hint when ``name`` is unknown to us but known to the caller's scope.

    Inside an mmmrhd part an unprefixed type resolves in our registries
    only; a part of the calling project needs its scope prefix there.
    """
    if not isinstance(name, str) or '.' in name or caller is None:
        return None
    scope = caller.scope_name
    if scope == registry.scope or registry.get(name) is not None:
        return None  # the KeyError is about something else
    child = registry._get_root_registry()._search_child(scope)
    if child is None or child.get(name) is None:
        return None
    return (f"'{name}' is registered in the {scope}::{registry.name} "
            'registry: inside an mmmrhd part, name it with its scope, '
            f"type='{scope}.{name}'")
