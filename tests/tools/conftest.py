# Copyright (c) mmmrhd contributors. All rights reserved.
"""Shared fixtures of the tool tests."""
import importlib.util
import os.path as osp

import pytest

TOOLS = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'tools')


def _load(rel: str):
    """Import ``tools/<rel>`` as a module (the tools are not a package)."""
    spec = importlib.util.spec_from_file_location(
        '_mmmrhd_tool_' + rel.replace('/', '_')[:-3], osp.join(TOOLS, rel))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='session')
def load_tool():
    """``load_tool('analysis_tools/analyze_logs.py')`` -> the module."""
    return _load
