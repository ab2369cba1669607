# Copyright (c) mmmrhd contributors. All rights reserved.
"""The shared command-line helpers of tools/train.py and tools/test.py."""
import argparse
import os

import pytest
from mmengine.config import Config

from mmmrhd.utils.cli import (add_launch_args, apply_common_args,
                              parse_tool_args)


def _parser():
    parser = argparse.ArgumentParser()
    parser.add_argument('config')
    parser.add_argument('--work-dir')
    add_launch_args(parser, 'a.b=1')
    return parser


def test_parse_and_apply(tmp_path, monkeypatch):
    cfg_file = tmp_path / 'my_exp.py'
    cfg_file.write_text('a = dict(b=0, c=2)\n')
    # parse_tool_args sets LOCAL_RANK: setenv first, so that monkeypatch
    # restores the variable's original state (usually absent) afterwards; a
    # leaked LOCAL_RANK=3 made later Runner tests in the process hang
    monkeypatch.setenv('LOCAL_RANK', '0')
    monkeypatch.delenv('LOCAL_RANK')
    args = parse_tool_args(_parser(), [
        str(cfg_file), '--cfg-options', 'a.b=1', '--launcher', 'pytorch',
        '--local-rank', '3'
    ])
    assert os.environ['LOCAL_RANK'] == '3'
    cfg = apply_common_args(Config.fromfile(str(cfg_file)), args)
    assert cfg.a == dict(b=1, c=2)
    assert cfg.launcher == 'pytorch'
    # no --work-dir, none in the config: ./work_dirs/<config name>
    assert cfg.work_dir == os.path.join('./work_dirs', 'my_exp')

    args = parse_tool_args(_parser(), [str(cfg_file), '--work-dir', 'x'])
    assert apply_common_args(Config(dict(work_dir='y')), args).work_dir == 'x'
    args.work_dir = None
    assert apply_common_args(Config(dict(work_dir='y')), args).work_dir == 'y'


def test_missing_config_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as err:
        parse_tool_args(_parser(), [str(tmp_path / 'nope.py')])
    assert err.value.code == 2
    assert 'nope.py does not exist' in capsys.readouterr().err
