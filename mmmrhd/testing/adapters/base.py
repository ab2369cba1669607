# Copyright (c) mmmrhd contributors. All rights reserved.
"""Per-model parity adapters: the model-specific half of a parity check.

A fixture names its official code in ``fx['meta']`` (``repo``,
``package``, ``model_variant``). :func:`get_parity_adapter` picks the
registered :class:`ParityAdapter` whose :meth:`~ParityAdapter.matches`
accepts it; :func:`mmmrhd.testing.parity.check_fixture` then runs the
model-independent steps of the fixtures README §10 through the adapter:

1. rebuild the official state_dict from the portable-init table, hash it;
2. :meth:`~ParityAdapter.build_model`: the mmmrhd config of the fixture
   (:meth:`~ParityAdapter.config`, official-compat), the repository
   converter (:meth:`~ParityAdapter.convert`), strict loading, parameter
   count, :meth:`~ParityAdapter.prepare` (eval mode, epoch state);
3. forward outputs (:meth:`~ParityAdapter.forward`,
   :attr:`~ParityAdapter.output_keys`);
4. our criteria on the official outputs and the matcher indices
   (:meth:`~ParityAdapter.losses_on_official_outputs`);
5. the full chain: :meth:`~ParityAdapter.chain` (forward -> criteria ->
   total) then backward, gradients mapped with
   :meth:`~ParityAdapter.convert_key`;
6. :meth:`~ParityAdapter.extra_rows` for model-specific checks.

To add a model: subclass, fill :attr:`repos` / :attr:`converter_file` /
:meth:`config` (and override what differs), decorate with
``@register_parity_adapter``, import the module in
``mmmrhd/testing/adapters/__init__.py``.
"""
from types import ModuleType
from typing import Any, Dict, List, Mapping, Optional, Tuple, Type

from torch import Tensor, nn

from mmmrhd.registry import MODELS
from ..compare import ParityRow
from ..fixtures import fixture_data_samples, fixture_inputs, import_converter
from ..portable_init import rebuild_official_state_dict, state_dict_sha256

#: name -> adapter instance, in registration order.
PARITY_ADAPTERS: Dict[str, 'ParityAdapter'] = {}


class ParityAdapter:
    """Model-specific steps of an official-fixture parity check.

    Attributes:
        name (str): Short model name (e.g. ``'qddetr'``).
        repos (tuple[str]): ``fx['meta']['repo']`` values handled.
        converter_file (str): File under ``tools/model_converters``.
        convert_fn (str): Name of the converter function
            ``fn(official_state_dict, video_streams=..., text_streams=...)``.
        output_keys (tuple[str]): Output keys compared when the fixture has
            them (aux outputs are always compared).
    """
    name: str = ''
    repos: Tuple[str, ...] = ()
    converter_file: str = ''
    convert_fn: str = ''
    output_keys: Tuple[str, ...] = ('pred_logits', 'pred_spans',
                                    'saliency_scores', 'saliency_scores_neg')

    # ---------------------------------------------------------- selection
    def matches(self, meta: Mapping[str, Any]) -> bool:
        """Whether this adapter handles a fixture with this ``meta``."""
        return meta.get('repo') in self.repos

    # -------------------------------------------------------------- model
    def config(self, fx: Mapping[str, Any]) -> Dict[str, Any]:
        """The mmmrhd ``MODELS`` config (official-compat) of the fixture,
        from ``fx['meta']['opt']``."""
        raise NotImplementedError

    def converter(self) -> ModuleType:
        """The repository converter module."""
        return import_converter(self.converter_file)

    def convert(self, converter: ModuleType, official: Mapping[str, Tensor],
                cfg: Mapping[str, Any]) -> Dict[str, Tensor]:
        """Convert official weights for ``cfg`` (default: the converter's
        :attr:`convert_fn` with the config's stream layouts)."""
        fn = getattr(converter, self.convert_fn)
        return fn(
            official,
            video_streams=cfg['video_proj']['streams'],
            text_streams=cfg['text_proj']['streams'])

    def convert_key(self, converter: ModuleType, key: str) -> str:
        """Our parameter name of an official key (for gradients)."""
        return converter.convert_key(key)

    def prepare(self, model: nn.Module, fx: Mapping[str, Any]) -> None:
        """Put the model in the fixture's state (default: eval mode)."""
        model.eval()

    def build_model(self,
                    fx: Mapping[str, Any],
                    official_state_dict: Optional[Mapping[str,
                                                          Tensor]] = None,
                    check_sha: bool = True) -> nn.Module:
        """Build, convert-load (strict) and prepare the model of a fixture.

        Args:
            fx (Mapping): A model fixture.
            official_state_dict (Mapping, optional): Pre-rebuilt official
                weights. None = rebuilt from the portable-init table.
            check_sha (bool): Verify the rebuilt weights' hash.

        Returns:
            nn.Module: The ready model (CPU).
        """
        if official_state_dict is None:
            official_state_dict = rebuild_official_state_dict(
                fx['portable_init'], fx.get('portable_init_keep'))
        if check_sha:
            sha = state_dict_sha256(official_state_dict)
            if sha != fx['meta']['state_dict_sha256']:
                raise ValueError(
                    f"rebuilt weights of fixture '{fx['meta']['name']}' have "
                    f'sha256 {sha}, expected '
                    f"{fx['meta']['state_dict_sha256']} (see "
                    'mmmrhd.testing.portable_init.mismatching_keys)')
        cfg = self.config(fx)
        state_dict = self.convert(self.converter(), official_state_dict, cfg)
        model = MODELS.build(cfg)
        model.load_state_dict(state_dict, strict=True)
        self.prepare(model, fx)
        return model

    # ------------------------------------------------------------ running
    def inputs(self, fx: Mapping[str, Any]) -> Dict[str, Tensor]:
        """Model inputs (mmmrhd names) of the fixture."""
        return fixture_inputs(fx)

    def data_samples(self, fx: Mapping[str, Any]) -> List[Dict[str, Any]]:
        """Per-sample ground truth (data contract) of the fixture."""
        return fixture_data_samples(fx)

    def forward(self, model: nn.Module,
                fx: Mapping[str, Any]) -> Dict[str, Any]:
        """Raw outputs (official layout), no gradient needed."""
        return model(self.inputs(fx), mode='tensor')

    def losses_on_official_outputs(
            self, model: nn.Module,
            fx: Mapping[str, Any]) -> Tuple[Dict[str, Tensor], list]:
        """Our criteria on the official outputs and targets.

        Returns:
            tuple: Loss dict (official key names) and the matcher indices
            (per layer, per sample ``(pred_idx, tgt_idx)``).
        """
        losses: Dict[str, Tensor] = {}
        indices: list = []
        if model.moment_loss is not None:
            losses.update(model.moment_loss(fx['outputs'], fx['targets']))
            indices = model.moment_loss.last_indices
        if model.saliency_loss is not None:
            losses.update(model.saliency_loss(fx['outputs'], fx['targets']))
        return losses, indices

    def chain(self, model: nn.Module,
              fx: Mapping[str, Any]) -> Tuple[Dict[str, Tensor], Tensor,
                                              Dict[str, Tensor]]:
        """Our forward -> criteria -> total, with gradient.

        Returns:
            tuple: Loss dict, total (with grad) and the logging dict of
            ``parse_losses``.
        """
        losses = model(self.inputs(fx), self.data_samples(fx), mode='loss')
        total, log_vars = model.parse_losses(losses)
        return losses, total, log_vars

    def extra_rows(self, model: nn.Module, fx: Mapping[str, Any],
                   outputs: Mapping[str, Any],
                   log_vars: Mapping[str, Tensor]) -> List[ParityRow]:
        """Model-specific comparisons (default: none)."""
        return []


def register_parity_adapter(
        cls: Type[ParityAdapter]) -> Type[ParityAdapter]:
    """Class decorator: register an instance under ``cls.name``."""
    if not cls.name:
        raise ValueError(f'{cls.__name__}: set the adapter name')
    if cls.name in PARITY_ADAPTERS:
        raise KeyError(f"parity adapter '{cls.name}' registered twice")
    PARITY_ADAPTERS[cls.name] = cls()
    return cls


def supported_repos() -> List[str]:
    """Official repositories with a parity adapter."""
    return sorted({r for a in PARITY_ADAPTERS.values() for r in a.repos})


def get_parity_adapter(fx_or_meta: Mapping[str, Any]) -> ParityAdapter:
    """The adapter of a fixture (or of its ``meta``).

    Raises:
        NotImplementedError: No adapter handles it (the message lists the
            supported repositories).
    """
    meta = fx_or_meta.get('meta', fx_or_meta)
    hits = [a for a in PARITY_ADAPTERS.values() if a.matches(meta)]
    if not hits:
        raise NotImplementedError(
            f"no mmmrhd parity check for fixtures of {meta.get('repo')!r} "
            f"(model variant {meta.get('model_variant')!r}); "
            f'supported: {supported_repos()}')
    if len(hits) > 1:
        raise RuntimeError(
            f"several parity adapters match {meta.get('repo')!r}: "
            f'{[a.name for a in hits]}')
    return hits[0]

