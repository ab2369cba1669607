# Copyright (c) mmmrhd contributors. All rights reserved.
"""Model speed benchmark parts (``tools/analysis_tools/benchmark_model.py``):
the benchmark batch, our runner, the official runners and the roofline."""
from .batch import (CLIP_LEN, QVH_STREAMS, SHORT_VIDEOS, TEXT_LENGTHS, _to,
                    build_model, make_batch, video_streams)
from .official_detr import (OfficialMomentDETR, OfficialMomentDETRFamily,
                            OfficialQDDETR, OfficialTRDETR,
                            OfficialVideoLights, _import_stubs,
                            _official_imports,
                            _torchvision_sigmoid_focal_loss)
from .official_taskweave import OfficialTaskWeave
from .roofline import PEAK_SHAPES, gemm_peak, roofline, step_flops
from .runner import (GRAD_CLIP, LR, WEIGHT_DECAY, Runner, _patched, _row_step,
                     cuda_as_identity, official_inputs, optimizer_step)

#: Model type -> official runner class (``--official-root``).
OFFICIAL_ADAPTERS = {
    'TaskWeave': OfficialTaskWeave,
    'QDDETR': OfficialQDDETR,
    'TRDETR': OfficialTRDETR,
    'MomentDETR': OfficialMomentDETR,
    'VideoLights': OfficialVideoLights,
}

__all__ = [
    'CLIP_LEN', 'QVH_STREAMS', 'SHORT_VIDEOS', 'TEXT_LENGTHS', 'build_model',
    'make_batch', 'video_streams', 'OfficialMomentDETR',
    'OfficialMomentDETRFamily', 'OfficialQDDETR', 'OfficialTRDETR',
    'OfficialVideoLights', 'OfficialTaskWeave', 'PEAK_SHAPES', 'gemm_peak',
    'roofline', 'step_flops', 'GRAD_CLIP', 'LR', 'WEIGHT_DECAY', 'Runner',
    'cuda_as_identity', 'official_inputs', 'optimizer_step',
    'OFFICIAL_ADAPTERS', '_to', '_import_stubs', '_official_imports',
    '_torchvision_sigmoid_focal_loss', '_patched', '_row_step'
]
