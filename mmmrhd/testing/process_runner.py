# Copyright (c) mmmrhd contributors. All rights reserved.
"""Run a benchmark runner in its own process, one step per request.

``tools/analysis_tools/benchmark_model.py`` times our model and the official
code step by step, interleaved. By default the official code runs in a
child process started with ``spawn`` (a fresh interpreter), so it runs
with the process settings its own ``train.py`` would have (glibc's default
allocator, see :mod:`mmmrhd.utils.cpu_allocator`) while ours runs with the
settings our tools apply; the interleaving is kept, because the parent asks
for one step at a time and waits for it, so only one of the two computes
at any moment.

The child loads the tool file by path and calls ``factory(*args)`` from it
(the tool is a script, not an importable module). The step is timed inside
the child; the pipe round trip is not part of the time.
"""
import importlib.util
import multiprocessing as mp
import pickle
import traceback
import uuid
from typing import Any, Optional, Sequence, Tuple


def _load_tool(path: str) -> Any:
    name = f'_mmmrhd_bench_tool_{uuid.uuid4().hex}'
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _error(exc: BaseException) -> tuple:
    """``('error', (exception or None if unpicklable, traceback text))``."""
    text = traceback.format_exc()
    try:
        pickle.dumps(exc)
    except Exception:  # noqa: B902
        exc = None
    return 'error', (exc, text)


def _serve(conn: Any, tool_path: str, factory: str, args: Sequence[Any],
           threads: Optional[int]) -> None:
    """Child main: build the runner, then answer requests until 'close'."""
    try:
        import torch
        if threads:
            torch.set_num_threads(threads)
        module = _load_tool(tool_path)
        runner = getattr(module, factory)(*args)
        conn.send(('ok', (runner.name, runner.has_feedback)))
    except BaseException as exc:  # noqa: B902 (reported to the parent)
        conn.send(_error(exc))
        return
    while True:
        request, payload = conn.recv()
        if request == 'close':
            return
        try:
            if request == 'step':
                answer = runner.timed_step(payload)
            elif request == 'set_feedback':
                answer = runner.set_feedback(payload)
            else:
                raise ValueError(f'unknown request {request!r}')
            conn.send(('ok', answer))
        except BaseException as exc:  # noqa: B902
            conn.send(_error(exc))


class ProcessRunner:
    """Parent-side proxy of a runner living in a spawned child process.

    It has the part of the benchmark ``Runner`` interface the timing loop
    uses: ``name``, ``has_feedback``, ``set_feedback(on)`` and
    ``timed_step(row) -> (seconds, value)``. Use it as a context manager
    (or call :meth:`close`) so the child exits. An exception in the child
    is raised again in the parent (same type when it can be pickled), with
    the child's traceback as its cause.

    Args:
        tool_path (str): Path of the tool file that defines ``factory``.
        factory (str): Name of a callable in the tool that returns the
            runner (e.g. ``build_official_runner``).
        args (Sequence): Its positional arguments (picklable).
        threads (int, optional): ``torch.set_num_threads`` in the child.
    """

    def __init__(self,
                 tool_path: str,
                 factory: str,
                 args: Sequence[Any],
                 threads: Optional[int] = None) -> None:
        ctx = mp.get_context('spawn')
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(
            target=_serve,
            args=(child, tool_path, factory, tuple(args), threads),
            daemon=True)
        self._process.start()
        child.close()
        self.name, self._has_feedback = self._receive('start')

    def _receive(self, what: str) -> Any:
        try:
            status, payload = self._conn.recv()
        except EOFError:
            raise RuntimeError(f'benchmark child process died during '
                               f'{what} (exit code '
                               f'{self._process.exitcode})') from None
        if status == 'error':
            self.close()
            exc, text = payload
            cause = RuntimeError(f'benchmark child process failed during '
                                 f'{what}:\n{text}')
            if exc is None:
                raise cause
            raise exc from cause  # the child's exception, same type
        return payload

    def _request(self, request: str, payload: Any) -> Any:
        self._conn.send((request, payload))
        return self._receive(f'{request} {payload!r}')

    @property
    def has_feedback(self) -> bool:
        return self._has_feedback

    def set_feedback(self, on: bool) -> None:
        self._request('set_feedback', on)

    def timed_step(self, row: str) -> Tuple[float, Optional[float]]:
        """Seconds of one ``row`` step, timed in the child, and its
        value (the loss of a train step, else None)."""
        return self._request('step', row)

    def close(self) -> None:
        """Stop the child (idempotent)."""
        if self._process.is_alive():
            try:
                self._conn.send(('close', None))
            except (BrokenPipeError, OSError):
                pass
            self._process.join(timeout=30)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()
        self._conn.close()

    def __enter__(self) -> 'ProcessRunner':
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
