# Copyright (c) mmmrhd contributors. All rights reserved.
"""Shared base of the DETR-style joint MR/HD detectors."""
from abc import ABCMeta, abstractmethod
from collections import OrderedDict
from typing import (Any, Dict, List, Mapping, Optional, Sequence, Tuple,
                    Union)

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from torch import Tensor, nn

from mmmrhd.datasets.collate import collate_targets
from mmmrhd.registry import MODELS, TASK_UTILS, build_part
from ..data_preprocessors.mrhd_data_preprocessor import INPUT_KEYS
from .detr_assembly import DETRAssemblyMixin, part_cfg  # noqa: F401

ConfigOrModule = Optional[Union[dict, nn.Module]]
DataSamples = Optional[List[Dict[str, Any]]]
MODES = ('tensor', 'loss', 'predict')


def _build(cfg: ConfigOrModule, registry=MODELS) -> Any:
    if cfg is None or not isinstance(cfg, dict):
        return cfg
    return build_part(registry, cfg)


class BaseMRHDDetector(DETRAssemblyMixin, BaseModel, metaclass=ABCMeta):
    """Forward modes, losses and prediction of DETR-style MR/HD detectors.

    A subclass implements :meth:`_forward`, which returns the raw output
    dict in the official layout (``pred_logits`` (B, Q, 2) with index 0 =
    foreground, ``pred_spans`` (B, Q, 2) normalised ``(center, width)``,
    ``aux_outputs``, ``saliency_scores`` (B, L), ``saliency_scores_neg``
    (B, L) when asked for, ``video_mask`` (B, L)). This class provides:

    * ``forward(inputs, data_samples, mode)`` with ``inputs`` =
      ``dict(video_feat, video_mask, text_feat, text_mask)`` (output of
      ``mrhd_collate``) and mode ``'tensor'`` (the raw dict),
      ``'loss'`` (see :meth:`loss`) or ``'predict'`` (one prediction dict
      per sample, from the post-processor);
    * losses: targets from :func:`~mmmrhd.datasets.collate.collate_targets`,
      then ``moment_loss(outputs, targets)`` and ``saliency_loss(outputs,
      targets)`` (each optional);
    * with ``joint_loss`` configured, :meth:`loss` combines the terms into
      the joint objective inside ``forward`` (DDP-safe for its learnable
      parameters) and :meth:`parse_losses` returns it (MMEngine's default
      would sum every key containing ``'loss'``).

    Args:
        moment_loss (dict | nn.Module, optional): e.g.
            ``dict(type='MomentCriterion')``.
        saliency_loss (dict | nn.Module, optional): e.g.
            ``dict(type='SaliencyCriterion')``.
        joint_loss (dict | nn.Module, optional): A module mapping the loss
            dict to ``(total, log_vars)``, e.g.
            ``dict(type='UncertaintyJointLoss')``. None = MMEngine's sum.
        extra_losses (Sequence[dict | nn.Module]): Further loss terms, each
            ``forward(outputs, targets) -> dict[str, Tensor]``, e.g. the
            alignment losses ``ClipTextAlignmentLoss`` /
            ``VideoTextContrastiveLoss`` (they read the extra outputs
            ``src_vid_ed``, ``src_txt_ed``, ``text_mask``). Their keys are
            added after the moment and saliency losses. Defaults to none.
        post_processor (dict, optional): ``TASK_UTILS`` config with the
            ``MomentPostProcessor`` call signature. Needed for ``'predict'``.
        data_preprocessor (dict | nn.Module, optional): Defaults to
            ``MRHDDataPreprocessor``.
        init_cfg (dict, optional): MMEngine init config.
    """

    def __init__(self,
                 moment_loss: ConfigOrModule = None,
                 saliency_loss: ConfigOrModule = None,
                 joint_loss: ConfigOrModule = None,
                 post_processor: Optional[dict] = None,
                 data_preprocessor: ConfigOrModule = None,
                 init_cfg: Optional[dict] = None,
                 extra_losses: Sequence[ConfigOrModule] = ()) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='MRHDDataPreprocessor')
        super().__init__(
            data_preprocessor=_build(data_preprocessor), init_cfg=init_cfg)
        self.moment_loss = _build(moment_loss)
        self.saliency_loss = _build(saliency_loss)
        self.joint_loss = _build(joint_loss)
        self.post_processor = _build(post_processor, TASK_UTILS)
        self.extra_losses = nn.ModuleList(
            _build(cfg) for cfg in (extra_losses or ()))

    # ------------------------------------------------------------ forward
    def forward(self,
                inputs: Dict[str, Tensor],
                data_samples: DataSamples = None,
                mode: str = 'tensor') -> Union[Dict[str, Any], List[dict]]:
        """Run the model.

        Args:
            inputs (dict): ``video_feat`` (B, L, Dv), ``video_mask`` (B, L),
                ``text_feat`` (B, T, Dt), ``text_mask`` (B, T); masks 1 =
                valid.
            data_samples (list[dict], optional): Per-sample dicts of the
                data contract (needed for ``'loss'`` and ``'predict'``).
            mode (str): ``'tensor'``, ``'loss'`` or ``'predict'``.

        Returns:
            dict | list[dict]: Raw outputs, losses or predictions.
        """
        if mode not in MODES:
            raise ValueError(f"{type(self).__name__}: unknown mode '{mode}'; "
                             f'valid modes: {MODES}')
        self._check_inputs(inputs, data_samples)
        if mode == 'tensor':
            return self._forward(inputs, with_neg=True)
        if data_samples is None:
            raise ValueError(f"{type(self).__name__}: mode '{mode}' needs "
                             'data_samples')
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        return self.predict(inputs, data_samples)

    @abstractmethod
    def _forward(self, inputs: Dict[str, Tensor],
                 with_neg: bool) -> Dict[str, Any]:
        """Raw outputs (official keys).

        Args:
            inputs (dict): ``video_feat`` (B, L, Dv), ``video_mask``,
                ``text_feat`` (B, T, Dt), ``text_mask``.
            with_neg (bool): Also run the negative pair (text rolled by -1
                along the batch), for models that have one.

        Returns:
            dict: ``pred_logits`` / ``pred_spans`` ``(B, Q, 2)``,
            ``aux_outputs`` (one dict per earlier decoder layer),
            ``saliency_scores`` ``(B, L)``, ``video_mask`` ``(B, L)`` and
            the model's further outputs (see each detector).
        """

    def _check_inputs(self, inputs: Mapping[str, Tensor],
                      data_samples: DataSamples) -> None:
        name = type(self).__name__
        if not isinstance(inputs, Mapping):
            raise TypeError(f'{name}: inputs must be a dict, got '
                            f'{type(inputs).__name__}')
        missing = [k for k in INPUT_KEYS if k not in inputs]
        if missing:
            raise KeyError(f'{name}: inputs lack {missing}; expected '
                           f'{list(INPUT_KEYS)}')
        video, text = inputs['video_feat'], inputs['text_feat']
        vmask, tmask = inputs['video_mask'], inputs['text_mask']
        if video.dim() != 3 or vmask.shape != video.shape[:2]:
            raise ValueError(f'{name}: video_feat {tuple(video.shape)} and '
                             f'video_mask {tuple(vmask.shape)} must be '
                             '(B, L, Dv) and (B, L)')
        if text.dim() != 3 or tmask.shape != text.shape[:2]:
            raise ValueError(f'{name}: text_feat {tuple(text.shape)} and '
                             f'text_mask {tuple(tmask.shape)} must be '
                             '(B, T, Dt) and (B, T)')
        if text.shape[0] != video.shape[0]:
            raise ValueError(f'{name}: batch sizes of video_feat '
                             f'({video.shape[0]}) and text_feat '
                             f'({text.shape[0]}) differ')
        if data_samples is not None and len(data_samples) != video.shape[0]:
            raise ValueError(f'{name}: {len(data_samples)} data_samples for '
                             f'a batch of {video.shape[0]}')
        for key, mask in (('video_mask', vmask), ('text_mask', tmask)):
            empty = (mask[:, 0] == 0).nonzero().flatten().tolist()
            if empty:
                who = [
                    data_samples[i].get('qid', i) if data_samples else i
                    for i in empty
                ]
                raise ValueError(
                    f'{name}: {key} of sample(s) {who} (qid, or batch index) '
                    'has no valid first position (empty or not a prefix '
                    'mask)')

    # ------------------------------------------------------------- losses
    def loss(self, inputs: Dict[str, Tensor],
             data_samples: List[Dict[str, Any]]) -> Dict[str, Tensor]:
        """Losses of one batch.

        Without ``joint_loss``: the raw criteria outputs (moment losses
        first), summed by MMEngine's :meth:`parse_losses`. With
        ``joint_loss``: its logging dict (every raw term and its own entries,
        detached) whose ``'loss'`` entry is the training total with
        gradient. The joint loss runs here, inside ``forward``, because it
        may hold learnable parameters (TaskWeave's log-variances): DDP only
        tracks parameters used in ``forward``, and one used later in
        ``parse_losses`` breaks ``find_unused_parameters=True`` ("Expected to
        mark a variable ready only once").

        Args:
            inputs (dict): See :meth:`forward`.
            data_samples (list[dict]): With the ground-truth fields of the
                data contract.

        Returns:
            dict[str, Tensor]: See above.
        """
        losses = self.raw_losses(inputs, data_samples)
        if self.joint_loss is None:
            return losses
        total, log_vars = self.joint_loss(losses)
        log_vars['loss'] = total
        return log_vars

    def raw_losses(self, inputs: Dict[str, Tensor],
                   data_samples: List[Dict[str, Any]]) -> Dict[str, Tensor]:
        """The criteria's outputs, merged in order (moment losses first).

        Args:
            inputs (dict): See :meth:`forward`.
            data_samples (list[dict]): With the ground-truth fields.

        Returns:
            dict[str, Tensor]: Raw (unweighted) loss terms with gradient.
        """
        if self.moment_loss is None and self.saliency_loss is None and \
                len(self.extra_losses) == 0:
            raise ValueError(f'{type(self).__name__}: no moment_loss, '
                             'saliency_loss or extra_losses configured')
        outputs = self._forward(
            inputs, with_neg=self.saliency_loss is not None)
        targets = collate_targets(data_samples, inputs['video_feat'].device)
        return self.losses_from_outputs(outputs, targets)

    def losses_from_outputs(self, outputs: Dict[str, Any],
                            targets: Dict[str, Any]) -> Dict[str, Tensor]:
        """Run the criteria on given outputs (also used by the parity
        checks with the official outputs).

        Order: moment, saliency, :meth:`_model_losses`, ``extra_losses``.

        Args:
            outputs (dict): Raw outputs (:meth:`_forward` layout).
            targets (dict): Batched targets (``collate_targets`` layout).

        Returns:
            dict[str, Tensor]: Raw (unweighted) loss terms.
        """
        losses: Dict[str, Tensor] = {}
        if self.moment_loss is not None:
            losses.update(self.moment_loss(outputs, targets))
        if self.saliency_loss is not None:
            losses.update(self.saliency_loss(outputs, targets))
        losses.update(self._model_losses(outputs, targets))
        for term in self.extra_losses:
            values = term(outputs, targets)
            clash = sorted(set(values) & set(losses))
            if clash:
                raise KeyError(f'{type(self).__name__}: extra loss '
                               f'{type(term).__name__} returns keys {clash} '
                               'that another loss already produced')
            losses.update(values)
        return losses

    def _model_losses(self, outputs: Dict[str, Any],
                      targets: Dict[str, Any]) -> Dict[str, Tensor]:
        """Loss terms of a detector's own criteria, between the saliency
        and the extra losses. None by default."""
        return {}

    def parse_losses(
            self, losses: Dict[str,
                               Tensor]) -> Tuple[Tensor, Dict[str, Tensor]]:
        """The training total and the logging dict.

        With ``joint_loss``, ``losses`` is the output of :meth:`loss` (the
        total under ``'loss'``) or, for convenience, raw terms, which are
        combined here. Without it, MMEngine's sum of every key containing
        ``'loss'``.
        """
        if self.joint_loss is None:
            return super().parse_losses(losses)
        if 'loss' not in losses:
            return self.joint_loss(losses)
        log_vars = OrderedDict(
            (k, v.detach() if isinstance(v, Tensor) else v)
            for k, v in losses.items())
        return losses['loss'], log_vars

    # --------------------------------------------------------- prediction
    def predict(self, inputs: Dict[str, Tensor],
                data_samples: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """Post-processed predictions (no negative pass).

        Scores are ``softmax(pred_logits)[..., 0]`` (official foreground
        probability).

        Args:
            inputs (dict): See :meth:`forward`.
            data_samples (list[dict]): Need ``qid``, ``query``, ``vid``,
                ``duration`` (and ``ann``, passed through).

        Returns:
            list[dict]: One prediction dict per sample.
        """
        if self.post_processor is None:
            raise ValueError(f"{type(self).__name__}: mode 'predict' needs a "
                             'post_processor')
        with torch.no_grad():
            outputs = self._forward(inputs, with_neg=False)
        scores = F.softmax(outputs['pred_logits'], -1)[..., 0]
        return self.post_processor(outputs['pred_spans'], scores,
                                   outputs.get('saliency_scores'),
                                   inputs['video_mask'], data_samples)
