# Copyright (c) mmmrhd contributors. All rights reserved.
"""The user project's own registries (scope ``userproj``).

Only the six registries a small project typically defines; everything else
(optimizers, loops, ...) comes from MMEngine's roots.
"""
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import TASK_UTILS as MMENGINE_TASK_UTILS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import Registry

MODELS = Registry('model', parent=MMENGINE_MODELS, scope='userproj',
                  locations=['userproj.models'])
TASK_UTILS = Registry('task util', parent=MMENGINE_TASK_UTILS,
                      scope='userproj', locations=['userproj.models'])
TRANSFORMS = Registry('transform', parent=MMENGINE_TRANSFORMS,
                      scope='userproj', locations=['userproj.transforms'])
DATASETS = Registry('dataset', parent=MMENGINE_DATASETS, scope='userproj',
                    locations=['userproj.transforms'])
METRICS = Registry('metric', parent=MMENGINE_METRICS, scope='userproj',
                   locations=['userproj.hooks'])
HOOKS = Registry('hook', parent=MMENGINE_HOOKS, scope='userproj',
                 locations=['userproj.hooks'])
