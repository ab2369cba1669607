# Copyright (c) mmmrhd contributors. All rights reserved.
"""Building and input passes shared by the DETR-style MR/HD detectors."""
from typing import Any, Callable, Dict, Mapping, NamedTuple, Optional, Tuple

import torch
from torch import Tensor, nn

from mmmrhd.registry import MODELS, build_part
from ..layers.positional_encoding import LearnedPositionalEncoding


def part_cfg(owner: str, cfg: dict, name: str, **defaults) -> dict:
    """Copy of a part config with defaults filled in.

    Args:
        owner (str): Detector name for the error message.
        cfg (dict): The part config; must be a dict with a ``'type'``.
        name (str): Argument name for the error message.
        **defaults: Keys set when the config does not set them (e.g. the
            detector's ``embed_dim``).

    Returns:
        dict: The completed config.
    """
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise ValueError(f"{owner}: {name} must be a config dict with a "
                         f"'type', got {cfg!r}")
    cfg = dict(cfg)
    for k, v in defaults.items():
        cfg.setdefault(k, v)
    return cfg


class EmbeddedInputs(NamedTuple):
    """Projected inputs and their positions (:meth:`DETRAssemblyMixin.
    _embed_inputs`).

    Attributes:
        video (Tensor): Clips ``(B, L, d)`` (refined when a refiner ran).
        text (Tensor): Words ``(B, T, d)``.
        video_mask (Tensor): ``(B, L)``, 1 = valid.
        text_mask (Tensor): ``(B, T)``, 1 = valid.
        video_pos (Tensor): Clip positions ``(B, L, d)``.
        text_pos (Tensor): Text positions ``(B, T, d)``.
        projected_video (Tensor): Clips ``(B, L, d)`` before the refiner
            (``video`` itself without one).
    """
    video: Tensor
    text: Tensor
    video_mask: Tensor
    text_mask: Tensor
    video_pos: Tensor
    text_pos: Tensor
    projected_video: Tensor


def detr_outputs(logits: Tensor, spans: Tensor, saliency: Tensor,
                 video_mask: Tensor, **extra: Any) -> Dict[str, Any]:
    """The raw output dict of a DETR-style detector (official keys).

    Args:
        logits (Tensor): Class logits per decoder layer ``(n_dec, B, Q, 2)``.
        spans (Tensor): Spans per decoder layer ``(n_dec, B, Q, 2)``.
        saliency (Tensor): ``saliency_scores`` ``(B, L)``.
        video_mask (Tensor): ``(B, L)``.
        **extra: Further outputs, added after these in the given order.

    Returns:
        dict: ``pred_logits``, ``pred_spans`` (last layer), ``aux_outputs``
        (one dict per earlier layer), ``saliency_scores``, ``video_mask``,
        then ``extra``.
    """
    return dict(
        pred_logits=logits[-1],
        pred_spans=spans[-1],
        aux_outputs=[
            dict(pred_logits=a, pred_spans=s)
            for a, s in zip(logits[:-1], spans[:-1])
        ],
        saliency_scores=saliency,
        video_mask=video_mask,
        **extra)


class DETRAssemblyMixin:
    """Part building, width checks and input passes of
    :class:`~mmmrhd.models.detectors.BaseMRHDDetector` subclasses.

    The helpers read ``self.embed_dim`` (the model width ``d``) and the
    parts they build (``video_proj``, ``text_proj``, ``video_pos_embed``,
    ``text_pos_embed``, ``decoder``, ``saliency_head``); errors name the
    detector class. Each detector keeps its own build order (which fixes
    the parameter initialisation order) and its own fusion/encoder passes.
    """

    def _add_part(self, name: str, cfg: dict, **defaults) -> nn.Module:
        """Build the ``MODELS`` part ``cfg`` (``defaults`` filled in) as
        attribute ``name``; an error names this detector and ``name``."""
        part = build_part(
            MODELS, part_cfg(type(self).__name__, cfg, name, **defaults))
        setattr(self, name, part)
        return part

    def _add_optional_part(self, name: str, cfg: Optional[dict],
                           **defaults) -> Optional[nn.Module]:
        """:meth:`_add_part`, or attribute ``name`` = None when ``cfg`` is
        None."""
        if cfg is None:
            setattr(self, name, None)
            return None
        return self._add_part(name, cfg, **defaults)

    def _add_input_projections(self, video_proj: dict,
                               text_proj: dict) -> None:
        """``video_proj`` / ``text_proj`` (``InputProjection``) to
        ``embed_dim``."""
        d = self.embed_dim
        self._add_part(
            'video_proj', video_proj, out_dim=d, input_name='video_feat')
        self._add_part(
            'text_proj', text_proj, out_dim=d, input_name='text_feat')

    def _add_positional_encodings(self, video_pos_embed: dict,
                                  text_pos_embed: dict) -> None:
        """``video_pos_embed`` / ``text_pos_embed`` of width
        ``embed_dim``."""
        self._add_part('video_pos_embed', video_pos_embed, dim=self.embed_dim)
        self._add_part('text_pos_embed', text_pos_embed, dim=self.embed_dim)

    def _add_detr_heads(self, decoder: dict, moment_head: dict,
                        saliency_head: dict) -> None:
        """``decoder``, ``moment_head`` and ``saliency_head`` of width
        ``embed_dim``."""
        d = self.embed_dim
        self._add_part('decoder', decoder, embed_dim=d)
        self._add_part('moment_head', moment_head, embed_dim=d)
        self._add_part('saliency_head', saliency_head, embed_dim=d)

    def _add_unused_text_pos(self, keep: bool, max_text_len: int) -> None:
        """``unused_text_pos_embed``: the official ``txt_position_embed``
        (``TrainablePositionalEncoding`` with ``max_q_l`` positions and
        ``input_dropout`` 0.5), built and never used (``use_txt_pos=False``);
        kept (``keep``) for official checkpoints and the parameter count."""
        self.unused_text_pos_embed = None
        if keep:
            self.unused_text_pos_embed = LearnedPositionalEncoding(
                max_text_len, self.embed_dim, dropout=0.5)

    def _part_widths(self, *extra: str) -> Dict[str, int]:
        """Widths of the projections, the decoder, the saliency head and
        the parts named in ``extra`` (``embed_dim`` where a part has none),
        keyed ``'<part>.out_dim'`` / ``'<part>.embed_dim'``."""
        d = self.embed_dim
        widths = {
            'video_proj.out_dim': self.video_proj.out_dim,
            'text_proj.out_dim': self.text_proj.out_dim,
        }
        for name in ('decoder', 'saliency_head') + extra:
            widths[f'{name}.embed_dim'] = getattr(
                getattr(self, name), 'embed_dim', d)
        return widths

    def _check_widths(self, widths: Mapping[str, int]) -> None:
        """Raise a ValueError naming the first of ``widths`` (label ->
        width) that differs from ``embed_dim``."""
        d = self.embed_dim
        for name, width in widths.items():
            if width != d:
                raise ValueError(f'{type(self).__name__}: {name} is {width} '
                                 f'but embed_dim is {d}')

    # ------------------------------------------------------- input passes
    def _embed_inputs(self,
                      inputs: Dict[str, Tensor],
                      refiner: Optional[Callable[..., Tensor]] = None
                      ) -> EmbeddedInputs:
        """Input projections, an optional clip refiner and positions.

        Args:
            inputs (dict): See :meth:`forward`.
            refiner (callable, optional): ``refiner(video, text, video_mask,
                text_mask) -> (B, L, d)`` applied to the projected clips
                before their positions.

        Returns:
            EmbeddedInputs: Projected and positional tensors.
        """
        video_mask, text_mask = inputs['video_mask'], inputs['text_mask']
        projected = self.video_proj(inputs['video_feat'])
        text = self.text_proj(inputs['text_feat'])
        video = projected
        if refiner is not None:
            video = refiner(projected, text, video_mask, text_mask)
        video_pos = self.video_pos_embed(video, video_mask)
        text_pos = self.text_pos_embed(text, text_mask)
        return EmbeddedInputs(video, text, video_mask, text_mask, video_pos,
                              text_pos, projected)

    def _stack_negative(
            self, video: Tensor, text: Tensor, video_mask: Tensor,
            text_mask: Tensor, video_pos: Tensor, text_pos: Optional[Tensor]
    ) -> Tuple[Tuple[Tensor, Tensor, Tensor, Tensor, Tensor,
                     Optional[Tensor]], Tensor]:
        """The positive pair stacked with the negative one along the batch.

        The negative pair is the video with the text rolled by -1 along the
        batch (official QD-DETR / TaskWeave / VideoLights); its text
        positions come from ``text_pos_embed``.

        Args:
            video (Tensor): ``(B, L, d)``.
            text (Tensor): ``(B, T, d)``.
            video_mask (Tensor): ``(B, L)``.
            text_mask (Tensor): ``(B, T)``.
            video_pos (Tensor): ``(B, L, d)``.
            text_pos (Tensor, optional): ``(B, T, d)``.

        Returns:
            tuple: The six inputs of ``2B`` samples (positive first; text
            positions None when ``text_pos`` is) and the negative text mask
            ``(B, T)``.
        """
        text_neg = text.roll(-1, 0)
        text_mask_neg = text_mask.roll(-1, 0)
        if text_pos is not None:
            text_pos = torch.cat(
                [text_pos, self.text_pos_embed(text_neg, text_mask_neg)])
        stacked = (torch.cat([video, video]), torch.cat([text, text_neg]),
                   torch.cat([video_mask, video_mask]),
                   torch.cat([text_mask, text_mask_neg]),
                   torch.cat([video_pos, video_pos]), text_pos)
        return stacked, text_mask_neg
