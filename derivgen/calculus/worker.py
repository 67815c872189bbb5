"""Hard limits: one piece of work (a derivation, with its printing) in a worker process that is killed
when it runs over its CPU time, memory or wall-clock time.

The soft limits elsewhere (the engine's step count and deadline, the final form's SIGALRM budget)
stop a derivation between two Python steps; they cannot stop one long call inside sympy or C — gamma
of a huge integer, ``expand`` of a large power, an exponential tower evaluated numerically — nor
memory that grows in one call.  A process can be killed, so each derivation runs in a child forked
for it (``os.fork``: the child shares the parent's imported modules, a fork costs ~15 ms, and its
arguments need no pickling; only the result and errors come back, pickled through a pipe).  The child
sets ``RLIMIT_AS`` (memory) and ``RLIMIT_CPU`` (CPU seconds) on itself; the parent waits at most the
wall-clock time and kills it when over.  The child dies with its parent (``PR_SET_PDEATHSIG``).

The limits are process-wide settings (:func:`set_hard_limits`, from the command line's
``--time-limit`` and ``--max-memory``); processes forked later (the sheet builder's workers) inherit
them.  Inside a worker, :func:`run_limited` calls directly: the limits already hold.
"""

from __future__ import annotations

import ctypes
import faulthandler
import math
import os
import pickle
import resource
import select
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from ..errors import DerivgenError, LimitExceeded

DEFAULT_SECONDS = 30.0
DEFAULT_MEMORY_MB = 2048
_PR_SET_PDEATHSIG = 1
_INT_DIGITS_MESSAGE = "integer string conversion"

T = TypeVar("T")


@dataclass(frozen=True)
class HardLimits:
    """What one derivation may use: wall-clock (and CPU) seconds, and memory (address space) in MB."""

    seconds: float = DEFAULT_SECONDS
    memory_mb: int = DEFAULT_MEMORY_MB

    def __post_init__(self) -> None:
        if not self.seconds > 0 or not self.memory_mb > 0:
            raise DerivgenError(f"limits must be positive: {self.seconds} s, {self.memory_mb} MB")


class HardLimitExceeded(LimitExceeded):
    """The worker was stopped by a hard limit (the caller adds where: file:line, frame)."""


_limits = HardLimits()
_in_worker = False


def set_hard_limits(seconds: float | None = None, memory_mb: int | None = None) -> HardLimits:
    """Set the limits every later :func:`run_limited` uses (in this process and those forked from it)."""
    global _limits
    _limits = HardLimits(
        _limits.seconds if seconds is None else float(seconds),
        _limits.memory_mb if memory_mb is None else int(memory_mb),
    )
    return _limits


@contextmanager
def using_hard_limits(seconds: float | None = None, memory_mb: int | None = None) -> Iterator[HardLimits]:
    """:func:`set_hard_limits` for the ``with`` block (the command line's options, for one command)."""
    previous = _limits
    try:
        yield set_hard_limits(seconds, memory_mb)
    finally:
        _restore(previous)


def _restore(limits: HardLimits) -> None:
    global _limits
    _limits = limits


def hard_limits() -> HardLimits:
    return _limits


def in_worker() -> bool:
    return _in_worker


def run_limited(function: Callable[..., T], *args: Any, limits: HardLimits | None = None, **kwargs: Any) -> T:
    """``function(*args, **kwargs)`` in a forked worker under ``limits`` (default: the process-wide ones).

    Returns its result or raises its exception; raises :class:`HardLimitExceeded` (one line: which
    limit) when the worker is stopped.  Already inside a worker, or where there is no ``fork``, it calls
    ``function`` here.
    """
    limits = limits or _limits
    if _in_worker or not hasattr(os, "fork"):
        return function(*args, **kwargs)
    read_fd, write_fd = os.pipe()
    parent = os.getpid()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child; coverage cannot follow it
        os.close(read_fd)
        _child(write_fd, parent, function, args, kwargs, limits)
    os.close(write_fd)
    started = time.monotonic()
    status: int | None = None
    try:
        data, finished = _read_all(read_fd, started + limits.seconds)
        if not finished:
            os.kill(pid, signal.SIGKILL)
            raise HardLimitExceeded(_over_time(limits))
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(read_fd)
        if status is None:  # stopped, interrupted (Ctrl-C) or failed here: the worker must not outlive the call
            _kill(pid)
    return _outcome(data, status, limits)


def _read_all(fd: int, deadline: float) -> tuple[bytes, bool]:
    """Everything the worker writes until it closes the pipe; ``False`` when the deadline came first."""
    chunks: list[bytes] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return b"", False
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks), True
        chunks.append(chunk)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def _outcome(data: bytes, status: int, limits: HardLimits) -> Any:
    if data:
        try:
            ok, value, child_traceback = pickle.loads(data)
        except Exception as error:  # a result that does not unpickle: a bug, said so
            raise RuntimeError(f"the worker's result could not be read: {type(error).__name__}: {error}") from None
        if ok:
            return value
        if child_traceback and isinstance(value, BaseException) and not isinstance(value, DerivgenError):
            value.add_note(f"in the worker process:\n{child_traceback}")  # for --debug
        raise value
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        if number in (signal.SIGXCPU, signal.SIGKILL):
            raise HardLimitExceeded(_over_time(limits, cpu=True))
        name = signal.Signals(number).name if number in signal.Signals._value2member_map_ else str(number)
        raise HardLimitExceeded(
            f"the worker stopped with {name}: it most likely ran out of memory (the limit is {limits.memory_mb} MB, "
            "--max-memory)"
        )
    raise HardLimitExceeded(
        f"the worker ended without an answer (exit status {os.waitstatus_to_exitcode(status)}): it most likely "
        f"ran out of memory (the limit is {limits.memory_mb} MB, --max-memory)"
    )


def _over_time(limits: HardLimits, cpu: bool = False) -> str:
    kind = "CPU time" if cpu else "time"
    return f"stopped: it ran over the {kind} limit of {limits.seconds:g} s (--time-limit)"


def _over_memory(limits: HardLimits) -> str:
    return f"stopped: it needs more memory than the limit of {limits.memory_mb} MB (--max-memory)"


def translate(error: BaseException, limits: HardLimits | None = None) -> BaseException:
    """The errors a limit causes deep inside sympy or Python, as the one-line errors they are."""
    limits = limits or _limits
    if isinstance(error, MemoryError):
        return HardLimitExceeded(_over_memory(limits))
    if isinstance(error, ValueError) and _INT_DIGITS_MESSAGE in str(error):
        return LimitExceeded(f"a number in it has more than {sys.get_int_max_str_digits()} digits, too many to print")
    if isinstance(error, RecursionError):
        return LimitExceeded("the expression is nested too deeply to work with")
    return error


def _child(
    write_fd: int, parent: int, function: Callable, args: tuple, kwargs: dict, limits: HardLimits
) -> None:  # pragma: no cover
    """Runs in the forked worker; never returns."""
    global _in_worker
    code = 0
    try:
        _in_worker = True
        _die_with_parent()
        if os.getppid() != parent:  # the parent died before the line above took effect
            os._exit(1)
        faulthandler.disable()  # a crash is reported by the parent in one line, not as a dump
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C: the parent reports it; the worker just ends
        _set_limit(resource.RLIMIT_CORE, 0)
        cpu = max(1, math.ceil(limits.seconds))
        _set_limit(resource.RLIMIT_CPU, cpu, cpu + 2)  # soft: SIGXCPU; hard: SIGKILL
        _set_limit(resource.RLIMIT_AS, limits.memory_mb << 20)
        try:
            payload: tuple[bool, Any, str | None] = (True, function(*args, **kwargs), None)
        except BaseException as error:
            translated = translate(error, limits)
            text = None if translated is not error else traceback.format_exc()
            payload = (False, translated, text)
        try:
            data = pickle.dumps(payload)
        except Exception as error:  # an unpicklable result or error: say what it was
            what = payload[1]
            if payload[0]:
                failure: BaseException = RuntimeError(f"the worker's result cannot be sent back: {error}")
            elif isinstance(what, DerivgenError):
                failure = DerivgenError(what.one_line())
            else:
                failure = RuntimeError(f"{type(what).__name__}: {what}")
            data = pickle.dumps((False, failure, payload[2]))
        with os.fdopen(write_fd, "wb") as pipe:
            pipe.write(data)
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def _set_limit(which: int, soft: int, hard: int | None = None) -> None:
    """Lower a limit (never above the hard limit already set, e.g. by ``ulimit`` or a test)."""
    _current_soft, current_hard = resource.getrlimit(which)
    hard = soft if hard is None else hard
    if current_hard != resource.RLIM_INFINITY:
        hard = min(hard, current_hard)
        soft = min(soft, hard)
    resource.setrlimit(which, (soft, hard))


def _die_with_parent() -> None:  # pragma: no cover - Linux only
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
