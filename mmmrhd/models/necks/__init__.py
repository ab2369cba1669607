# Copyright (c) mmmrhd contributors. All rights reserved.
"""mmmrhd.models.necks: feature refinement between fusion and decoders."""
from .experts import (EXPERT_TYPES, BaseExpert, CNNExpert, IdentityExpert,
                      LinearExpert, TransformerExpert)
from .shared_expert_neck import SharedExpertNeck
from .task_decoupled_unit import TaskDecoupledUnit, build_expert, expert_types

__all__ = [
    'EXPERT_TYPES', 'BaseExpert', 'CNNExpert', 'IdentityExpert',
    'LinearExpert', 'TransformerExpert', 'TaskDecoupledUnit', 'build_expert',
    'expert_types', 'SharedExpertNeck'
]
