# Copyright (c) mmmrhd contributors. All rights reserved.
"""TaskWeave's inter-task feedback (paper §3.3, Table 7)."""
from typing import Callable, Optional, Sequence, Tuple

from torch import Tensor, nn

from mmmrhd.registry import MODELS, TASK_UTILS, build_part

#: Feedback manners of paper Table 7.
MANNERS = ('mr2hd', 'hd2mr', 'bi', 'mr_hd', 'hd_mr')
#: Where the highlightness-guided feedback (HgF) acts.
HGF_LEVELS = ('decoder', 'input')

#: ``decode_mr(x_mr) -> (logits, spans)``, each ``(n_layers, B, Q, 2)``.
DecodeMR = Callable[[Tensor], Tuple[Tensor, Tensor]]
#: ``decode_hd(j, sum_input) -> scores (B, L)``.
DecodeHD = Callable[[Tensor, Optional[Tensor]], Tensor]
#: ``reencode_mr(h2m_mask) -> x_mr`` for input-level HgF.
ReencodeMR = Callable[[Tensor], Tensor]


def apply_feedback_mask(x: Tensor, mask: Tensor) -> Tensor:
    """``x + x * mask`` (paper §3.3), with ``mask`` broadcast over channels.

    Args:
        x (Tensor): ``(B, L, d)``.
        mask (Tensor): ``(B, L)``.

    Returns:
        Tensor: ``(B, L, d)``.
    """
    return x + x * mask[..., None]


@MODELS.register_module()
class FeedbackHead(nn.Module):
    """Turns one task's predictions into a mask that guides the other task.

    With ``X_mr`` / ``X_hd`` the task features, ``D_MR`` the moment decoder
    (+ head) and ``Y_HD(J, J')`` the HD decoder (paper eq. 2), the manners
    (paper Table 7) are:

    * ``'mr2hd'`` (moment-guided feedback, MgF, only): spans =
      ``D_MR(X_mr)``; ``J = X_hd + X_hd * M2M(spans)``; saliency =
      ``Y_HD(J)``.
    * ``'hd2mr'`` (highlightness-guided feedback, HgF, only): ``s =
      Y_HD(X_hd)``; spans = ``D_MR(X_mr + X_mr * H2M(s))``; saliency =
      ``s`` (the official output is the pass-1 score too).
    * ``'bi'`` (MgF and HgF simultaneously): both masks come from the
      feedback-free predictions of the same pass (``D_MR(X_mr)``,
      ``Y_HD(X_hd)``) and are applied at once.
    * ``'mr_hd'`` (MgF first, then HgF): spans0 = ``D_MR(X_mr)``, saliency =
      ``Y_HD(X_hd + X_hd * M2M(spans0))``, then spans =
      ``D_MR(X_mr + X_mr * H2M(saliency))``.
    * ``'hd_mr'`` (HgF first, then MgF): ``s0 = Y_HD(X_hd)``, spans =
      ``D_MR(X_mr + X_mr * H2M(s0))``, then saliency =
      ``Y_HD(X_hd + X_hd * M2M(spans))``.

    The three combined manners are our reading of the one-line
    descriptions in the paper (no official code exists); "first" means the
    first feedback's guided output is what the second converter reads.
    Masks carry no gradient. M2M reads the final decoder layer's spans.

    Official-compat (``official_compat=True``, the release) changes the
    defaults of:

    * ``hgf_level='input'`` (for ``'hd2mr'``): HgF doubles the *projected
      video input* of the salient clips and the whole encoder + decoder is
      re-run (official HD2MR, fixtures README quirk 10); only valid with
      ``'hd2mr'``. The paper's ``'decoder'`` level applies the mask to
      ``X_mr``.
    * ``mgf_sum_masked=False``: the ``sum_c / sqrt(d)`` term of the HD
      decoder uses the unmasked ``X_hd`` (quirk 11).
    * the ``official_compat`` flag of both converters (H2M mean over
      padding, M2M 150-s grid).

    The negative (mismatched text) pass never gets feedback.

    ``feedback_active`` (a plain attribute, default True) is the switch:
    while False, :meth:`forward` runs both decoders without feedback
    (``D_MR(X_mr)``, ``Y_HD(X_hd)``). ``FeedbackActivationHook`` finds every
    FeedbackHead in the model (at any depth, inside DDP/EMA wrappers too)
    and sets it per epoch, so a model that contains this head needs no
    switch of its own.

    Args:
        manner (str): One of :data:`MANNERS`. Defaults to ``'hd2mr'`` (the
            live variant of the release).
        h2m (dict): ``HighlightToMask`` config (``TASK_UTILS``).
        m2m (dict): ``MomentToMask`` config (``TASK_UTILS``).
        hgf_level (str, optional): One of :data:`HGF_LEVELS`. None =
            ``'input'`` for ``'hd2mr'`` in official-compat mode, else
            ``'decoder'``.
        mgf_sum_masked (bool, optional): Whether the HD sum term uses the
            masked ``J``. None = ``not official_compat``.
        official_compat (bool): Default of the options above. Defaults to
            False.
    """

    def __init__(self,
                 manner: str = 'hd2mr',
                 h2m: dict = dict(type='HighlightToMask'),
                 m2m: dict = dict(type='MomentToMask'),
                 hgf_level: Optional[str] = None,
                 mgf_sum_masked: Optional[bool] = None,
                 official_compat: bool = False) -> None:
        super().__init__()
        if manner not in MANNERS:
            raise ValueError(f"FeedbackHead: unknown manner '{manner}'; "
                             f'valid manners: {", ".join(MANNERS)}')
        if hgf_level is None:
            hgf_level = ('input' if official_compat and manner == 'hd2mr' else
                         'decoder')
        if hgf_level not in HGF_LEVELS:
            raise ValueError(f"FeedbackHead: unknown hgf_level '{hgf_level}';"
                             f' valid: {", ".join(HGF_LEVELS)}')
        if hgf_level == 'input' and manner != 'hd2mr':
            raise ValueError(
                "FeedbackHead: hgf_level='input' (re-running the encoder on "
                "the masked input, the released HD2MR) is only defined for "
                f"manner 'hd2mr', got '{manner}'; use hgf_level='decoder'")
        self.manner = manner
        self.hgf_level = hgf_level
        self.mgf_sum_masked = (not official_compat
                               if mgf_sum_masked is None else mgf_sum_masked)
        self.official_compat = official_compat
        h2m, m2m = dict(h2m), dict(m2m)
        h2m.setdefault('official_compat', official_compat)
        m2m.setdefault('official_compat', official_compat)
        self.h2m = build_part(TASK_UTILS, h2m)
        self.m2m = build_part(TASK_UTILS, m2m)
        #: Whether feedback runs (set per epoch by FeedbackActivationHook).
        self.feedback_active = True

    def extra_repr(self) -> str:
        return (f"manner='{self.manner}', hgf_level='{self.hgf_level}', "
                f'feedback_active={self.feedback_active}, '
                f'mgf_sum_masked={self.mgf_sum_masked}, h2m={self.h2m}, '
                f'm2m={self.m2m}')

    @property
    def required_tasks(self) -> Sequence[str]:
        """Task features the detector must compute before calling."""
        if self.feedback_active and self.hgf_level == 'input':
            return ('hd', )
        return ('mr', 'hd')

    def _mgf(self, x_hd: Tensor, spans: Tensor, video_mask: Tensor,
             decode_hd: DecodeHD) -> Tensor:
        j = apply_feedback_mask(x_hd, self.m2m(spans[-1], video_mask))
        return decode_hd(j, j if self.mgf_sum_masked else x_hd)

    def _hgf(self, x_mr: Optional[Tensor], scores: Tensor, video_mask: Tensor,
             decode_mr: DecodeMR,
             reencode_mr: Optional[ReencodeMR]) -> Tuple[Tensor, Tensor]:
        mask = self.h2m(scores, video_mask)
        if self.hgf_level == 'input':
            if reencode_mr is None:
                raise ValueError("FeedbackHead: hgf_level='input' needs "
                                 'reencode_mr')
            return decode_mr(reencode_mr(mask))
        return decode_mr(apply_feedback_mask(x_mr, mask))

    def forward(
        self,
        x_mr: Optional[Tensor],
        x_hd: Tensor,
        video_mask: Tensor,
        decode_mr: DecodeMR,
        decode_hd: DecodeHD,
        reencode_mr: Optional[ReencodeMR] = None
    ) -> Tuple[Tuple[Tensor, Tensor], Tensor]:
        """Run both decoders with feedback.

        Args:
            x_mr (Tensor, optional): ``X_mr`` ``(B, L, d)``; None with
                ``hgf_level='input'``.
            x_hd (Tensor): ``X_hd`` ``(B, L, d)``.
            video_mask (Tensor): ``(B, L)``, 1 = valid clip.
            decode_mr (Callable): ``x_mr -> (logits, spans)``, each
                ``(n_layers, B, Q, 2)``.
            decode_hd (Callable): ``(J, J_sum or None) -> (B, L)``.
            reencode_mr (Callable, optional): H2M mask ``(B, L)`` -> new
                ``X_mr`` from the masked input (``hgf_level='input'``).

        Returns:
            tuple: ``((logits, spans), saliency)``; without feedback
            (``feedback_active`` False) ``(decode_mr(x_mr),
            decode_hd(x_hd, None))``.
        """
        if not self.feedback_active:
            if x_mr is None:
                raise ValueError(
                    'FeedbackHead: feedback is off (feedback_active=False), '
                    'so x_mr is needed; compute the tasks of required_tasks')
            return decode_mr(x_mr), decode_hd(x_hd, None)
        manner = self.manner
        if manner == 'mr2hd':
            mr = decode_mr(x_mr)
            return mr, self._mgf(x_hd, mr[1], video_mask, decode_hd)
        if manner == 'hd2mr':
            scores = decode_hd(x_hd, None)
            return self._hgf(x_mr, scores, video_mask, decode_mr,
                             reencode_mr), scores
        if manner == 'bi':
            mr0 = decode_mr(x_mr)
            scores0 = decode_hd(x_hd, None)
            mr = self._hgf(x_mr, scores0, video_mask, decode_mr, None)
            return mr, self._mgf(x_hd, mr0[1], video_mask, decode_hd)
        if manner == 'mr_hd':
            mr0 = decode_mr(x_mr)
            scores = self._mgf(x_hd, mr0[1], video_mask, decode_hd)
            return self._hgf(x_mr, scores, video_mask, decode_mr, None), scores
        # 'hd_mr'
        scores0 = decode_hd(x_hd, None)
        mr = self._hgf(x_mr, scores0, video_mask, decode_mr, None)
        return mr, self._mgf(x_hd, mr[1], video_mask, decode_hd)
