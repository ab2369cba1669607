# Copyright (c) mmmrhd contributors. All rights reserved.
"""A child of each of MMEngine's root registries, as mmaction/registry.py.

Each child is a module attribute under the root's name (``MODELS``,
``TRANSFORMS``, ...) and imports ``fakeaction.modules`` on first use, as
MMAction2's registries import ``mmaction.models`` etc.
"""
import mmengine.registry.root as _root
from mmengine.registry import Registry

__all__ = []
for _name, _parent in vars(_root).copy().items():
    if isinstance(_parent, Registry):
        globals()[_name] = Registry(_parent.name, parent=_parent,
                                    scope='fakeaction',
                                    locations=['fakeaction.modules'])
        __all__.append(_name)
