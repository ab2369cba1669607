# Copyright (c) mmmrhd contributors. All rights reserved.
"""What ``tools/train.py`` and ``tools/test.py`` share.

The OpenMMLab command-line contract: a config path, ``--work-dir``,
``--cfg-options``, ``--launcher`` / ``--local-rank``; the config is loaded,
the options are applied (command line > config > default) and the config's
``runner_type`` (by default :class:`~mmmrhd.engine.runner.MRHDRunner`) is
built from it.

Errors of the user's input (:class:`~mmmrhd.utils.errors.UserError`: bad
data, config, checkpoint) are printed by :func:`run_main` as one line,
``error: <message>``, with exit status 2; ``--debug`` or ``MMMRHD_DEBUG=1``
shows the full traceback instead.
"""
import argparse
import difflib
import inspect
import os
import os.path as osp
import sys
from typing import Any, Callable, List, Optional

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

from mmmrhd.registry import RUNNERS
from .dist import prepare_distributed
from .errors import ConfigError, UserError
from .setup_env import register_all_modules

DEBUG_ENV_VAR = 'MMMRHD_DEBUG'
# The runner the tools build when a config sets no ``runner_type``.
DEFAULT_RUNNER = 'MRHDRunner'
# Top-level config keys that MMEngine or mmmrhd read besides the Runner's
# constructor arguments (those are added in :func:`known_top_level_keys`).
_EXTRA_TOP_LEVEL_KEYS = ('runner_type', 'custom_imports', 'strict_load',
                         'strategy', 'compile', 'default_scope', 'launcher')


class CfgOptionsAction(DictAction):
    """MMEngine's ``DictAction``; a value without ``=`` is a usage error."""

    def __call__(self, parser, namespace, values, option_string=None):
        for item in values:
            if '=' not in item:
                parser.error(f'argument {option_string}: expected KEY=VALUE, '
                             f'got {item!r}')
        super().__call__(parser, namespace, values, option_string)


def known_top_level_keys() -> set:
    """Top-level config keys that are meaningful without being in a config.

    Returns:
        set: The constructor arguments of MMEngine's ``Runner`` plus
        ``runner_type``, ``custom_imports``, ``strict_load``, ...
    """
    params = set(inspect.signature(Runner.__init__).parameters) - {'self'}
    return params | set(_EXTRA_TOP_LEVEL_KEYS)


def check_cfg_options(cfg: Config, options: dict, config_path: str) -> None:
    """Refuse ``--cfg-options`` whose top-level key is unknown.

    A key is known when the config has it or MMEngine/mmmrhd read it
    (:func:`known_top_level_keys`); a typo (``randomnes.seed=5``) would
    otherwise be merged silently and have no effect.

    Args:
        cfg (Config): The loaded config.
        options (dict): The parsed ``--cfg-options``.
        config_path (str): For the message.

    Raises:
        ConfigError: Naming the key and the closest known ones.
    """
    known = set(cfg.keys()) | known_top_level_keys()
    for key in options:
        top = key.split('.')[0]
        if top in known:
            continue
        close = difflib.get_close_matches(top, sorted(known), n=3)
        hint = f'; did you mean {" or ".join(close)}?' if close else ''
        raise ConfigError(
            f'--cfg-options {key}: {top!r} is not a key of {config_path} nor '
            f'a Runner setting{hint}')


def add_launch_args(parser: argparse.ArgumentParser,
                    cfg_options_example: str) -> None:
    """Add ``--cfg-options``, ``--launcher`` and ``--local-rank``.

    Args:
        parser (argparse.ArgumentParser): The tool's parser.
        cfg_options_example (str): An example for the ``--cfg-options``
            help text, e.g. ``'train_cfg.max_epochs=10'``.
    """
    add_cfg_options_arg(parser, cfg_options_example)
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes --local_rank, torchrun sets LOCAL_RANK.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    add_debug_arg(parser)


def add_cfg_options_arg(parser: argparse.ArgumentParser,
                        example: str) -> None:
    """Add ``--cfg-options KEY=VALUE ...`` (read by :func:`load_config`).

    Args:
        parser (argparse.ArgumentParser): The tool's parser.
        example (str): An example for the help text, e.g.
            ``'train_cfg.max_epochs=10'``.
    """
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=CfgOptionsAction,
        help=f'override config entries, e.g. {example}; lists as '
        'key="[a,b]"')


def add_debug_arg(parser: argparse.ArgumentParser) -> None:
    """Add ``--debug`` (read by :func:`run_main`)."""
    parser.add_argument(
        '--debug',
        action='store_true',
        help='show the full traceback of errors in the input (data, '
        f'config, checkpoint) instead of one line; same as {DEBUG_ENV_VAR}=1')


def debug_requested(argv: Optional[List[str]] = None) -> bool:
    """Whether ``--debug`` is in ``argv`` or ``MMMRHD_DEBUG`` is set."""
    argv = sys.argv[1:] if argv is None else argv
    env = os.environ.get(DEBUG_ENV_VAR, '').strip().lower()
    return '--debug' in argv or env in ('1', 'true', 'yes', 'on')


def run_main(main: Callable[[Optional[List[str]]], Any],
             argv: Optional[List[str]] = None) -> Any:
    """Run a tool's ``main(argv)``; user errors become one line + exit 2.

    Args:
        main (Callable): The tool's entry point.
        argv (list[str], optional): Defaults to ``sys.argv[1:]``.

    Returns:
        Any: What ``main`` returns.

    Raises:
        SystemExit: Status 2 after printing ``error: <message>`` to stderr
            for a :class:`~mmmrhd.utils.errors.UserError`, unless debugging
            is requested (then the exception propagates with its traceback).
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        return main(argv)
    except UserError as error:
        if debug_requested(argv):
            raise
        message = ' '.join(str(error).split()) or type(error).__name__
        print(f'error: {message}', file=sys.stderr)
        print(f'(run with --debug or {DEBUG_ENV_VAR}=1 for the traceback)',
              file=sys.stderr)
        sys.exit(2)


def parse_config_args(parser: argparse.ArgumentParser,
                      argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse ``argv`` and check that ``args.config`` is a file.

    Args:
        parser (argparse.ArgumentParser): Parser with a ``config``
            positional.
        argv (list[str], optional): Defaults to ``sys.argv[1:]``.

    Returns:
        argparse.Namespace: The parsed arguments; a missing config file is a
        usage error (``error: config file ... does not exist``, exit 2).
    """
    args = parser.parse_args(argv)
    if not osp.isfile(args.config):
        parser.error(f'config file {args.config} does not exist')
    return args


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """``Config.fromfile(path)`` with ``--cfg-options`` checked and merged.

    Args:
        path (str): The config file.
        cfg_options (dict, optional): Parsed ``--cfg-options``; each
            top-level key must be known (:func:`check_cfg_options`).

    Returns:
        Config: The loaded config, ``_base_`` files and options merged.

    Raises:
        ConfigError: The file (or one of its bases) cannot be parsed,
            imports a module that does not exist or names a missing
            ``_base_`` file; or an option's top-level key is unknown.
    """
    try:
        cfg = Config.fromfile(path)
    except (SyntaxError, ImportError, FileNotFoundError) as error:
        raise ConfigError(f'cannot load config {path}: '
                          f'{type(error).__name__}: {error}') from error
    if cfg_options:
        check_cfg_options(cfg, cfg_options, path)
        cfg.merge_from_dict(cfg_options)
    return cfg


def parse_tool_args(parser: argparse.ArgumentParser,
                    argv: Optional[List[str]] = None) -> argparse.Namespace:
    """:func:`parse_config_args`, then export ``LOCAL_RANK``.

    The parser also needs ``--local-rank`` (:func:`add_launch_args`); the
    arguments are those of :func:`parse_config_args`, and so is the result.
    """
    args = parse_config_args(parser, argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def apply_common_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply ``--cfg-options``, ``--launcher`` and ``--work-dir`` to ``cfg``.

    Without ``--work-dir`` and without ``work_dir`` in the config, the work
    dir is ``./work_dirs/<config file name without .py>``.

    Args:
        cfg (Config): The loaded config.
        args (argparse.Namespace): Parsed arguments (``config``,
            ``cfg_options``, ``launcher``, ``work_dir``).

    Returns:
        Config: The same, modified config.

    Raises:
        ConfigError: An unknown top-level key in ``--cfg-options``.
    """
    if args.cfg_options is not None:
        check_cfg_options(cfg, args.cfg_options, args.config)
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    return cfg


def build_runner_from_args(
        args: argparse.Namespace,
        merge_args: Callable[[Config, argparse.Namespace], Config]) -> Runner:
    """Load ``args.config``, apply the tool's options, build the runner.

    Every mmmrhd module is imported first (this also installs the safe
    checkpoint loaders); the config's ``default_scope`` selects the mmmrhd
    registries. ``--launcher pytorch`` on a CPU-only machine is prepared by
    :func:`prepare_distributed`.

    Args:
        args (argparse.Namespace): Parsed arguments.
        merge_args (Callable): The tool's ``merge_args(cfg, args)``.

    Returns:
        Runner: ``RUNNERS.build(cfg)``; the runner type defaults to
        :class:`~mmmrhd.engine.runner.MRHDRunner` (strict loading, atomic
        checkpoints, safe resume).

    Raises:
        ConfigError: The config file cannot be parsed or imports a module
            that does not exist.
    """
    register_all_modules(init_default_scope=False)
    cfg = load_config(args.config)
    cfg = prepare_distributed(merge_args(cfg, args))
    if cfg.get('runner_type', None) is None:
        cfg.runner_type = DEFAULT_RUNNER
    return RUNNERS.build(cfg)
