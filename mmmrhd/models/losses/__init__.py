# Copyright (c) mmmrhd contributors. All rights reserved.
"""mmmrhd.models.losses: loss terms, criteria and joint objectives."""
from .alignment_losses import (ClipTextAlignmentLoss, VideoTextContrastiveLoss,
                               clip_text_alignment_loss,
                               video_text_contrastive_loss)
from .class_error import class_error
from .contrastive_align_loss import (ContrastiveAlignLoss, query_text_nce,
                                     video_text_align)
from .cross_entropy_label_loss import CrossEntropyLabelLoss
from .focal_label_loss import SigmoidFocalLabelLoss, sigmoid_focal_loss
from .joint_losses import SumLoss, UncertaintyJointLoss, WeightedSumLoss
from .moment_criterion import MomentCriterion
from .neg_pair_loss import NegPairLoss, neg_pair_loss
from .rank_contrastive_loss import RankContrastiveLoss, rank_contrastive_loss
from .saliency_cos_sim_loss import (AdaptiveHardSaliencyLoss,
                                    SaliencyCosSimLoss,
                                    normalized_saliency_pair)
from .saliency_criterion import SaliencyCriterion
from .saliency_hinge_loss import SaliencyHingeLoss, saliency_hinge_loss
from .span_giou_loss import SpanGIoULoss
from .span_l1_loss import SpanL1Loss

__all__ = [
    'ContrastiveAlignLoss', 'query_text_nce', 'video_text_align',
    'AdaptiveHardSaliencyLoss', 'SaliencyCosSimLoss',
    'normalized_saliency_pair',
    'SpanL1Loss', 'SpanGIoULoss', 'CrossEntropyLabelLoss',
    'SigmoidFocalLabelLoss', 'sigmoid_focal_loss', 'class_error',
    'SaliencyHingeLoss', 'saliency_hinge_loss', 'RankContrastiveLoss',
    'rank_contrastive_loss', 'NegPairLoss', 'neg_pair_loss',
    'MomentCriterion', 'SaliencyCriterion', 'UncertaintyJointLoss', 'SumLoss',
    'WeightedSumLoss',
    'ClipTextAlignmentLoss', 'VideoTextContrastiveLoss',
    'clip_text_alignment_loss', 'video_text_contrastive_loss'
]
