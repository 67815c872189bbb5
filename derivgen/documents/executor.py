"""Where a batch of build jobs runs: in this process, on a local process pool, or on a Dask cluster.

A job is a picklable value and ``function`` a module-level function of it (pickled by reference:
the machine that runs it imports derivgen).  Whatever runs them, :func:`run_jobs` returns one
result per job in the order of the jobs, so what the caller writes does not depend on the executor
or on which job finished first.  A job whose run raises instead of returning (a worker that died, a
result that could not be sent back) becomes ``failed(job, error)``: it never loses the other jobs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ..errors import DerivgenError

J = TypeVar("J")
R = TypeVar("R")

CONNECT_TIMEOUT = 10.0  # seconds to reach the scheduler and to wait for a first worker
# forwarded to the workers: with it, TeX dates the PDFs (and their ID) by it, on every machine alike
FORWARDED_ENVIRONMENT = ("SOURCE_DATE_EPOCH",)
INSTALL_HINT = "pip install 'derivgen[dask]'"


class ClusterError(DerivgenError):
    """The cluster cannot run the batch: no dask installed, no scheduler, no worker, or an unfit worker."""


@dataclass(frozen=True)
class _WithEnvironment(Generic[J, R]):
    """``function`` run with the client's reproducibility settings (a worker has its own environment)."""

    function: Callable[[J], R]
    environment: tuple[tuple[str, str], ...]

    def __call__(self, job: J) -> R:
        os.environ.update(self.environment)  # the same values for every job of the batch: no race to lose
        return self.function(job)


def run_jobs(
    function: Callable[[J], R],
    jobs: Sequence[J],
    failed: Callable[[J, Exception], R],
    workers: int | None = None,
    cluster: str | None = None,
    progress: Callable[[int], None] = lambda done: None,
    check: Callable[[], list[str]] | None = None,
) -> list[R]:
    """``function(job)`` for every job, in the jobs' order; ``progress(done)`` after each one finishes.

    ``cluster`` (``tcp://HOST:PORT``): the Dask scheduler to run them on (``workers`` is then the
    cluster's business); ``check`` runs first on every worker and returns what makes that worker
    unfit (missing programs, other code), an error naming the worker.  Without ``cluster``, ``workers``
    processes (default: all cores) — one runs the jobs here, in this process.
    """
    if cluster is not None:
        return _on_cluster(function, jobs, failed, cluster, progress, check)
    count = max(1, min(len(jobs), workers or os.cpu_count() or 1))
    if count == 1:
        results = []
        for job in jobs:
            results.append(function(job))
            progress(len(results))
        return results
    import concurrent.futures  # looked up at call time: tests record the pools made

    slots: list[R | None] = [None] * len(jobs)
    with concurrent.futures.ProcessPoolExecutor(max_workers=count) as pool:
        futures = {pool.submit(function, job): index for index, job in enumerate(jobs)}
        for done, future in enumerate(concurrent.futures.as_completed(futures), start=1):
            slots[futures[future]] = _result(future, jobs[futures[future]], failed)
            progress(done)
    return slots  # type: ignore[return-value]  # every slot is filled


def _result(future: Any, job: J, failed: Callable[[J, Exception], R]) -> R:
    try:
        return future.result()
    except Exception as error:  # the worker died, or its result could not be sent back
        return failed(job, error)


def _on_cluster(
    function: Callable[[J], R],
    jobs: Sequence[J],
    failed: Callable[[J, Exception], R],
    address: str,
    progress: Callable[[int], None],
    check: Callable[[], list[str]] | None,
) -> list[R]:
    distributed = _distributed()
    environment = tuple((name, os.environ[name]) for name in FORWARDED_ENVIRONMENT if name in os.environ)
    with _client(distributed, address) as client:
        _check_workers(client, address, check)
        futures = client.map(_WithEnvironment(function, environment), list(jobs), pure=False)
        where = {future.key: index for index, future in enumerate(futures)}
        slots: list[R | None] = [None] * len(jobs)
        for done, future in enumerate(distributed.as_completed(futures, loop=client.loop), start=1):
            index = where[future.key]
            slots[index] = _result(future, jobs[index], failed)
            future.release()  # the result is here now: the cluster need not keep it
            progress(done)
    return slots  # type: ignore[return-value]


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise ClusterError(f"--cluster needs Dask: {INSTALL_HINT}") from None
    return distributed


@contextlib.contextmanager
def _client(distributed: Any, address: str) -> Iterator[Any]:
    """A client of the scheduler at ``address``, or a one-line error within :data:`CONNECT_TIMEOUT`."""
    quiet = logging.getLogger("distributed")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # its own log lines of a failed connection would repeat our error
    problem = None
    try:
        _reach(distributed, address)
        client = _connect(distributed, address)
    except ClusterError:
        raise
    except Exception as error:  # something answers there, but not as a scheduler (garbage, another protocol)
        reason = " ".join(str(error).split())[:200] or type(error).__name__
        problem = f"{address}: no Dask scheduler answers there ({type(error).__name__}: {reason})"
        _close_half_made(distributed, error)
    finally:
        quiet.setLevel(level)
    if problem is not None:  # raised here, not in the except: the half-made client is freed (and closed) first
        raise ClusterError(problem)
    try:
        yield client
    finally:
        client.close()


def _connect(distributed: Any, address: str) -> Any:
    """``Client(address)`` made in a daemon thread and waited for at most twice :data:`CONNECT_TIMEOUT`:
    a port that accepts the connection but never answers stalls the client's handshake past its own
    ``timeout`` (distributed's comm timeout cannot go below 11 s and breaks real connections)."""
    made: list[Any] = []
    errors: list[BaseException] = []

    def make() -> None:
        try:
            made.append(distributed.Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False))
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=make, name="derivgen-dask-connect", daemon=True)
    thread.start()
    thread.join(2 * CONNECT_TIMEOUT)
    if errors:
        raise errors[0]
    if not made:  # still waiting: left to its daemon thread, which dies with this process
        raise ClusterError(f"{address}: no Dask scheduler answers there (no handshake in {2 * CONNECT_TIMEOUT:.0f} s)")
    return made[0]


def _close_half_made(distributed: Any, error: BaseException) -> None:
    """Close the client a failed ``Client(...)`` left behind (found in the traceback): left to its
    ``__del__`` at exit, it waits 20 s for its stopped event loop and prints a traceback."""
    for frame, _ in traceback.walk_tb(error.__traceback__):
        client = frame.f_locals.get("self")
        if isinstance(client, distributed.Client):
            with contextlib.suppress(Exception):
                client.close(timeout=2)
            return


def _reach(distributed: Any, address: str) -> None:
    """A TCP connection to the scheduler's port first: a wrong address or a closed port fails at once,
    in one line (the client would retry until its timeout, then leave threads behind)."""
    try:
        scheme, location = distributed.comm.parse_address(address)
        host, port = distributed.comm.parse_host_port(location)
    except (ValueError, TypeError) as error:
        raise ClusterError(f"{address}: not a scheduler address such as tcp://HOST:8786 ({error})") from None
    if scheme not in ("tcp", "tls"):
        raise ClusterError(f"{address}: not a scheduler address such as tcp://HOST:8786 (scheme {scheme})")
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT).close()
    except OSError as error:
        timed_out = isinstance(error, TimeoutError)
        reason = f"no answer in {CONNECT_TIMEOUT:.0f} s" if timed_out else error.strerror or str(error)
        raise ClusterError(f"{address}: cannot reach the Dask scheduler ({reason})") from None


def _check_workers(client: Any, address: str, check: Callable[[], list[str]] | None) -> None:
    """Every worker ready for the jobs, before any is submitted (a batch must not half-run)."""
    try:
        client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
    except TimeoutError:
        raise ClusterError(f"{address}: the Dask scheduler has no worker (start one: dask worker {address})") from None
    if check is None:
        return
    try:
        found = client.run(check)
    except Exception as error:  # the worker could not even load the check: derivgen is not importable there
        raise ClusterError(
            f"{address}: a worker cannot run derivgen ({type(error).__name__}: {error}); "
            "install derivgen on every worker machine"
        ) from None
    for worker, problems in sorted(found.items()):
        if problems:
            raise ClusterError(f"{address}: worker {worker}: {'; '.join(problems)}")
