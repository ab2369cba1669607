# Copyright (c) mmmrhd contributors. All rights reserved.
"""Device-agnostic distributed data parallel wrapper."""
from typing import Any, List, Optional

from mmengine.model import MMDistributedDataParallel
from torch import nn

from mmmrhd.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class MRHDDistributedDataParallel(MMDistributedDataParallel):
    """:class:`~mmengine.model.MMDistributedDataParallel` that also runs on
    CPU.

    MMEngine's Runner always passes ``device_ids=[LOCAL_RANK]`` to DDP
    wrappers, which :class:`torch.nn.parallel.DistributedDataParallel`
    rejects for a module on the CPU. This wrapper drops ``device_ids`` (and
    ``output_device``) when the module's parameters live on the CPU, so the
    same config trains with gloo on CPU-only machines (tests, CI, laptops)
    and with NCCL on GPUs.

    Args:
        module (nn.Module): The model to wrap.
        device_ids (list[int], optional): GPU ids; ignored on CPU.
        **kwargs: Other DDP arguments, e.g. ``find_unused_parameters``.
    """

    def __init__(self,
                 module: nn.Module,
                 device_ids: Optional[List[int]] = None,
                 **kwargs: Any) -> None:
        param = next(module.parameters(), None)
        if param is not None and param.device.type == 'cpu':
            device_ids = None
            kwargs.pop('output_device', None)
        super().__init__(module=module, device_ids=device_ids, **kwargs)
