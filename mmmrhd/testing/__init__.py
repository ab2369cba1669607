# Copyright (c) mmmrhd contributors. All rights reserved.
"""Helpers for parity tests against the official reference fixtures."""
from .fixtures import (build_taskweave_from_fixture, fixture_data_samples,
                       fixture_inputs, import_taskweave_converter,
                       load_fixture, taskweave_config_from_fixture,
                       taskweave_feedback_active, taskweave_variant)
from .portable_init import (mismatching_keys, portable_init_value,
                            rebuild_official_state_dict, state_dict_sha256,
                            tensor_sha256)

__all__ = [
    'build_taskweave_from_fixture', 'fixture_data_samples', 'fixture_inputs',
    'import_taskweave_converter', 'load_fixture',
    'taskweave_config_from_fixture', 'taskweave_feedback_active',
    'taskweave_variant', 'mismatching_keys', 'portable_init_value',
    'rebuild_official_state_dict', 'state_dict_sha256', 'tensor_sha256'
]
