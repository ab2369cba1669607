# Copyright (c) mmmrhd contributors. All rights reserved.
"""What every official-checkpoint converter must do, per model; the
model-specific checks are in ``test_<model>_converter.py``."""
import os.path as osp

import pytest
import torch

from mmmrhd.registry import MODELS
from mmmrhd.testing import (distinct_value_state_dict, import_converter,
                            load_fixture, qvhl_projections)
from mmmrhd.utils import register_all_modules

#: model -> (fixture with the official key table, detector type, epoch
#: stored in the CLI test checkpoint (None = none stored)).
CASES = {
    'moment_detr': ('momentdetr.pth', 'MomentDETR', None),
    'qd_detr': ('qddetr.pth', 'QDDETR', 3),
    'tr_detr': ('trdetr.pth', 'TRDETR', 154),
    'taskweave': ('taskweave_hd2mr_epoch150.pth', 'TaskWeave', 7),
}
#: model -> (official key, our key) examples.
KEY_EXAMPLES = {
    'moment_detr': [
        ('query_embed.weight', 'decoder.query_embed.weight'),
        ('transformer.decoder.layers.0.multihead_attn.in_proj_weight',
         'decoder.layers.0.multihead_attn.in_proj_weight'),
        ('saliency_proj.bias', 'saliency_head.proj.bias'),
    ],
    'qd_detr': [
        ('global_rep_token', 'global_token.token'),
        ('saliency_proj2.bias', 'saliency_head.proj2.bias'),
        ('transformer.encoder.layers.1.activation.weight',
         'encoder.layers.1.activation.weight'),
    ],
    'tr_detr': [
        ('gru_extractor.gru.weight_hh_l0', 'mr2hd.gru.weight_hh_l0'),
        ('fuser.cq_attention.w4mlu', 'refiner.cq_attention.w4mlu'),
        ('saliency_proj1.bias', 'saliency_head.proj1.bias'),
    ],
    'taskweave': [
        ('transformer.t2v_encoder.layers.1.self_attn.in_proj_weight',
         'fusion.layers.1.cross_attn.in_proj_weight'),
        ('hd_log_var', 'joint_loss.hd_log_var'),
        ('transformer.mr_conv.conv.weight', 'neck.mr_expert.conv.weight'),
    ],
}
#: model -> (key without a rule, expected message).
UNKNOWN_KEYS = {
    'moment_detr': ('global_rep_token', 'Moment-DETR converter: unknown'),
    'qd_detr': ('foo', "QD-DETR converter: unknown official key 'foo'"),
    'tr_detr': ('saliency_proj2.weight', "TR-DETR converter: unknown "
                "official key 'saliency_proj2.weight'"),
    'taskweave': ('foo.bar', "unknown official key 'foo.bar'"),
}


class Case:
    """One model's converter module, official state_dict and builder."""

    def __init__(self, name, fixtures_dir):
        fixture, self.model_type, self.epoch = CASES[name]
        self.name = name
        self.script = f'{name}_official_to_mmmrhd.py'
        self.conv = import_converter(self.script)
        self.convert = getattr(self.conv, f'convert_{name}_official')
        fx = load_fixture(osp.join(fixtures_dir, fixture))
        self.official_sd = distinct_value_state_dict(fx['portable_init'])

    def model(self, official_compat=True):
        register_all_modules()
        return MODELS.build(
            dict(
                type=self.model_type,
                official_compat=official_compat,
                **qvhl_projections()))


@pytest.fixture(scope='module', params=sorted(CASES))
def case(request, fixtures_dir):
    return Case(request.param, fixtures_dir)


def test_every_official_key_maps_and_loads_strictly(case):
    converted = case.convert(case.official_sd)
    model = case.model()
    assert set(converted) == set(model.state_dict())
    model.load_state_dict(converted, strict=True)
    sd = model.state_dict()
    for i, key in enumerate(case.official_sd):
        assert torch.all(sd[case.conv.convert_key(key)] == float(i)), key
    assert sd['video_proj.stream_dims'].tolist() == [2304, 512, 2]


def test_key_examples_and_unknown_key(case):
    for official, ours in KEY_EXAMPLES[case.name]:
        assert case.conv.convert_key(official) == ours
    key, message = UNKNOWN_KEYS[case.name]
    with pytest.raises(KeyError, match=message):
        case.conv.convert_key(key)


def test_drop_unused_loads_into_default_model(case):
    converted = case.convert(case.official_sd, drop_unused=True)
    assert not any(k.startswith('unused_text_pos_embed') for k in converted)
    case.model(official_compat=False).load_state_dict(converted, strict=True)


def test_cli_round_trip(case, tmp_path):
    src, dst = tmp_path / 'model_best.ckpt', tmp_path / 'out.pth'
    checkpoint = dict(model=case.official_sd)
    if case.epoch is not None:
        checkpoint['epoch'] = case.epoch
    torch.save(checkpoint, src)
    case.conv.main([str(src), str(dst)])
    ckpt = torch.load(dst, weights_only=True)
    assert ckpt['meta'].get('epoch') == case.epoch
    assert ckpt['meta']['converter'].endswith(case.script)
    case.model().load_state_dict(ckpt['state_dict'], strict=True)
