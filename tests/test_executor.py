"""Batches on a Dask cluster (derivgen.documents.executor): the same files as the local process pool, byte
for byte; the same report of a failing variant; one-line errors for a missing extra, an unreachable or
wrong scheduler, and a worker without TeX.

The cluster is a real ``distributed.LocalCluster`` of worker processes; the builds run the command line
in a subprocess, as a user would, given the cluster's scheduler address.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from derivgen.cli import main
from derivgen.documents.executor import run_jobs

ROOT = Path(__file__).resolve().parent.parent
SHEET = ROOT / "examples" / "exercise_sheet.yaml"
EPOCH = "1700000000"  # with it, TeX dates the PDFs (and their ID) alike on every run and machine


# The cluster runs in a child process: a LocalCluster (its scheduler, its event-loop thread) in the test
# process would leave threads behind there, and the tests that follow fork derivation workers from it.
CLUSTER = """
import json, sys
import distributed
workers, path = int(sys.argv[1]), sys.argv[2]
options = dict(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
with distributed.LocalCluster(**options, **({"env": {"PATH": path}} if path else {})) as cluster:
    info = {"scheduler": cluster.scheduler_address, "workers": sorted(cluster.scheduler_info["workers"])}
    print(json.dumps(info), flush=True)
    sys.stdin.read()  # until the test closes it
"""


@contextlib.contextmanager
def local_cluster(workers: int = 2, path: str = "") -> Iterator[dict]:
    """A real LocalCluster of worker processes (``path``: the workers' PATH), as {"scheduler", "workers"}."""
    child = subprocess.Popen(
        [sys.executable, "-c", CLUSTER, str(workers), path],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert child.stdout is not None
        yield json.loads(child.stdout.readline())
    finally:
        assert child.stdin is not None
        child.stdin.close()
        try:
            child.wait(timeout=60)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


@pytest.fixture(scope="module")
def scheduler():
    with local_cluster() as cluster:
        yield cluster["scheduler"]


def derivgen(*args: str | Path) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "SOURCE_DATE_EPOCH": EPOCH}
    return subprocess.run(
        [sys.executable, "-m", "derivgen", *map(str, args)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=900,
    )


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too: the cache file) with its bytes."""
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.mark.slow
def test_the_cluster_builds_the_same_files_as_the_process_pool(tmp_path, scheduler):
    local = derivgen("build", SHEET, "--variants", "3", "-o", tmp_path / "pool")
    assert local.returncode == 0, local.stderr
    remote = derivgen("build", SHEET, "--variants", "3", "-o", tmp_path / "cluster", "--cluster", scheduler)
    assert remote.returncode == 0, remote.stderr
    pool, cluster = tree(tmp_path / "pool"), tree(tmp_path / "cluster")
    names = {"exercise_sheet-variants-answers.json", ".derivgen-cache.json"} | {
        f"exercise_sheet-v{n}{part}{suffix}"
        for n in (1, 2, 3)
        for part in ("", "-solutions")
        for suffix in (".tex", ".pdf")
    }
    assert set(pool) == names  # every variant, its solutions, the answer key and the cache
    assert cluster.keys() == pool.keys()
    for name in pool:
        assert cluster[name] == pool[name], name
    assert all(pool[name].startswith(b"%PDF") for name in pool if name.endswith(".pdf"))


def failing_templates(folder: Path) -> Path:
    """The built-in task template, with a bug that strikes Variant 2 only (a Jinja error on the worker)."""
    folder.mkdir()
    task = (ROOT / "templates" / "sheet_task.tex.j2").read_text()
    (folder / "sheet_task.tex.j2").write_text(
        '\\BLOCK{ if variant.name == "Variant 2" }\\VAR{ 1 / 0 }\\BLOCK{ endif }' + task
    )
    return folder


@pytest.mark.slow
def test_a_failing_variant_on_the_cluster_is_reported_as_on_the_pool(tmp_path, scheduler):
    templates = failing_templates(tmp_path / "templates")
    common = ("build", SHEET, "--variants", "3", "--tex-only", "--templates", templates)
    local = derivgen(*common, "-o", tmp_path / "pool")
    remote = derivgen(*common, "-o", tmp_path / "cluster", "--cluster", scheduler)
    assert local.returncode == remote.returncode == 2
    # absolute paths given: the cluster's messages (which name files by absolute paths) read alike
    error = [line for line in remote.stderr.splitlines() if line.startswith("derivgen: error:")]
    assert error == [line for line in local.stderr.splitlines() if line.startswith("derivgen: error:")]
    assert error[0].startswith("derivgen: error: 1 of 3 variant(s) failed: Variant 2: ")
    assert "division by zero" in error[0] and "sheet_task.tex.j2" in error[0]
    pool, cluster = tree(tmp_path / "pool"), tree(tmp_path / "cluster")
    assert cluster == pool
    assert "exercise_sheet-v1.tex" in pool and "exercise_sheet-v3-solutions.tex" in pool
    assert not [name for name in pool if "-v2" in name]  # nothing of the failed variant


def test_without_the_extra_cluster_says_what_to_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` fails as when not installed
    code = main(["build", str(SHEET), "--variants", "2", "--tex-only", "-o", str(tmp_path), "--cluster", "tcp://a:1"])
    _, err = capsys.readouterr()
    assert code == 2
    assert err == "derivgen: error: --cluster needs Dask: pip install 'derivgen[dask]'\n"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("tcp://127.0.0.1:CLOSED", "cannot reach the Dask scheduler (Connection refused)"),
        ("localhost", "not a scheduler address such as tcp://HOST:8786"),
        ("http://127.0.0.1:8786", "not a scheduler address such as tcp://HOST:8786 (scheme http)"),
    ],
)
def test_an_unreachable_scheduler_is_one_line(tmp_path, capsys, address, message):
    address = address.replace("CLOSED", str(free_port()))  # drawn here: every pytest worker collects the same ids
    code = main(["build", str(SHEET), "--variants", "2", "--tex-only", "-o", str(tmp_path), "--cluster", address])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.startswith(f"derivgen: error: {address}: {message}") and err.count("\n") == 1, err
    assert not tmp_path.exists() or not list(tmp_path.iterdir())


# A server that answers garbage, or accepts and never answers, and the build asked to use it: in a child
# process, as the client's threads (and the server's) must not stay in the test process.
WRONG_PORT = """
import socket, sys, threading
from derivgen.cli import main
from derivgen.documents import executor
mode, sheet, out = sys.argv[1:4]
executor.CONNECT_TIMEOUT = 2.0  # a handshake that never comes waits twice this
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen()
held = []
def serve():
    while True:
        connection, _ = server.accept()
        if mode == "garbage":  # another service, say: it answers, not in Dask's protocol, and hangs up
            with connection:
                connection.sendall(b"\\xff" * 64)
        else:
            held.append(connection)
threading.Thread(target=serve, daemon=True).start()
address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
print(address, flush=True)
sys.exit(main(["build", sheet, "--variants", "2", "--tex-only", "-o", out, "--cluster", address]))
"""


@pytest.mark.parametrize("mode", ["garbage", "silent"])
def test_a_port_that_is_no_scheduler_is_one_line_in_time(tmp_path, mode):
    child = subprocess.run(
        [sys.executable, "-c", WRONG_PORT, mode, str(SHEET), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,  # a hang fails here
    )
    address = child.stdout.strip()
    assert child.returncode == 2, child.stderr
    assert child.stderr.startswith(f"derivgen: error: {address}: no Dask scheduler answers there"), child.stderr
    assert child.stderr.count("\n") == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_a_worker_without_tex_is_named_before_anything_runs(tmp_path):
    # a worker whose PATH has no TeX programs (python itself is started by its absolute path)
    with local_cluster(workers=1, path=str(tmp_path)) as cluster:
        (worker,) = cluster["workers"]
        out = tmp_path / "out"
        for tex_only in ((), ("--tex-only",)):  # .tex only too: this machine measures the rows with TeX
            failed = derivgen(
                "build", SHEET, "--variants", "2", "-o", out, *tex_only, "--cluster", cluster["scheduler"]
            )
            assert failed.returncode == 2
            assert failed.stderr.strip().splitlines()[-1] == (
                f"derivgen: error: {cluster['scheduler']}: worker {worker}: latexmk, pdflatex not found: "
                "install TeX Live there (the layout is measured with TeX)"
            )
            assert not out.exists()


def square(number: int) -> int:
    if number == 3:
        raise ValueError("three")
    return number * number


def test_run_jobs_keeps_the_order_and_turns_a_crash_into_its_failure():
    done = []
    results = run_jobs(square, [1, 2, 3, 4, 5], lambda job, error: -job, workers=2, progress=done.append)
    assert results == [1, 4, -3, 16, 25]
    assert done == [1, 2, 3, 4, 5]
