# Copyright (c) mmmrhd contributors. All rights reserved.
"""The per-model parity adapter table (mmmrhd.testing.adapters)."""
import pytest

from mmmrhd.testing import (PARITY_ADAPTERS, ParityAdapter,
                            get_parity_adapter, register_parity_adapter,
                            supported_repos)


def test_taskweave_adapter_selected_by_repo():
    adapter = get_parity_adapter(dict(meta=dict(repo='EdenGabriel/TaskWeave')))
    assert adapter is PARITY_ADAPTERS['taskweave']
    assert 'EdenGabriel/TaskWeave' in supported_repos()
    # a bare meta dict works too
    assert get_parity_adapter(dict(repo='EdenGabriel/TaskWeave')) is adapter


def test_unknown_repo_lists_supported():
    with pytest.raises(NotImplementedError,
                       match="fixtures of 'x/y' \\(model variant 'v'\\)"):
        get_parity_adapter(dict(meta=dict(repo='x/y', model_variant='v')))


def test_registration_rules():
    class Nameless(ParityAdapter):
        pass

    with pytest.raises(ValueError, match='set the adapter name'):
        register_parity_adapter(Nameless)

    class Dup(ParityAdapter):
        name = 'taskweave'

    with pytest.raises(KeyError, match='registered twice'):
        register_parity_adapter(Dup)


def test_ambiguous_match(monkeypatch):
    class Twin(ParityAdapter):
        name = 'twin'
        repos = ('EdenGabriel/TaskWeave', )

    monkeypatch.setitem(PARITY_ADAPTERS, 'twin', Twin())
    with pytest.raises(RuntimeError, match='several parity adapters'):
        get_parity_adapter(dict(repo='EdenGabriel/TaskWeave'))
