# Copyright (c) mmmrhd contributors. All rights reserved.
"""Fixtures of the evaluation tests."""
import os.path as osp
from typing import Callable, Dict, List, Tuple

import pytest
from random_cases import make_random_case


@pytest.fixture
def random_case() -> Callable[..., Tuple[List[Dict], List[Dict]]]:
    """The :func:`random_cases.make_random_case` generator."""
    return make_random_case


@pytest.fixture(scope='session')
def qvh_dir(data_dir: str) -> str:
    """``<shared>/data/qvhighlights``."""
    return osp.join(data_dir, 'qvhighlights')
