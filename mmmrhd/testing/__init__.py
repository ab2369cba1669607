# Copyright (c) mmmrhd contributors. All rights reserved.
"""Helpers for parity tests against the official reference fixtures."""
from .adapters import (PARITY_ADAPTERS, ParityAdapter, get_parity_adapter,
                       register_parity_adapter, supported_repos)
from .adapters.taskweave import (build_taskweave_from_fixture,
                                 import_taskweave_converter,
                                 taskweave_config_from_fixture,
                                 taskweave_feedback_active, taskweave_variant)
from .compare import ParityRow
from .detectors import (DEFAULT_TARGETS, build_config_model, build_seeded,
                        distinct_value_state_dict, loss_step, predict_step,
                        qvhl_projections, random_batch, small_detector_cfg,
                        small_projections)
from .fixtures import (fixture_data_samples, fixture_inputs, import_converter,
                       load_fixture, official_input_projection,
                       official_moment_loss, official_text_streams,
                       official_video_streams, official_weight_dict)
from .portable_init import (mismatching_keys, portable_init_value,
                            rebuild_official_state_dict, state_dict_sha256,
                            tensor_sha256)

__all__ = [
    'PARITY_ADAPTERS', 'ParityAdapter', 'get_parity_adapter',
    'register_parity_adapter', 'supported_repos', 'ParityRow',
    'build_taskweave_from_fixture', 'fixture_data_samples', 'fixture_inputs',
    'import_converter', 'import_taskweave_converter', 'load_fixture',
    'official_input_projection', 'official_moment_loss',
    'official_text_streams', 'official_video_streams',
    'official_weight_dict', 'taskweave_config_from_fixture',
    'taskweave_feedback_active', 'taskweave_variant', 'mismatching_keys',
    'portable_init_value', 'rebuild_official_state_dict',
    'state_dict_sha256', 'tensor_sha256', 'DEFAULT_TARGETS', 'build_seeded',
    'distinct_value_state_dict', 'qvhl_projections', 'random_batch',
    'small_detector_cfg', 'small_projections', 'loss_step', 'predict_step',
    'build_config_model'
]
