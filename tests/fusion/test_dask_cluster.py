"""Cohort commands against a real Dask cluster: ``dask scheduler`` and ``dask worker`` processes.

Each test starts its own scheduler and workers on 127.0.0.1 (random ports,
read from the scheduler file), runs a small cohort through the command's
``--scheduler tcp://127.0.0.1:PORT``, and always tears the processes down.
Nothing sleeps for a fixed time: every wait polls a condition with a deadline.

* A worker killed (SIGKILL) while it holds cases: the scheduler gives them to
  the other worker; every case ends in the table exactly once (none lost, none
  computed twice to the end).
* A worker that does not see an input file's path (a node without the shared
  mount): that case fails with an error naming the case, the file and the
  worker, the others succeed. The worker's view differs from the runner's
  through ``/proc/self/cwd``, which each process resolves to its own working
  folder (Linux).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from fusion_cohort_cases import summary_command, write_case

pytest.importorskip("distributed")

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def _wait_for(condition, timeout, what, procs=()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        for p in procs:
            if p.poll() is not None:
                raise RuntimeError(f"{what}: a cluster process exited with {p.returncode}: "
                                   f"{p.log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.05)
    raise TimeoutError(f"{what}: not within {timeout} s")


class DaskProcesses:
    """A scheduler and workers as separate processes on localhost, torn down on exit."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.scheduler = None
        self.workers: list[subprocess.Popen] = []
        self.address = None
        self.env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(REPO), str(HERE), os.environ.get("PYTHONPATH", "")])}

    def _start(self, args, cwd, log):
        with open(self.folder / log, "wb") as fh:  # a file, not a pipe nobody reads
            proc = subprocess.Popen([sys.executable, "-m", *args], cwd=cwd, env=self.env,
                                    stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
        proc.log = self.folder / log
        return proc

    def start_scheduler(self):
        sched_file = self.folder / "scheduler.json"
        self.scheduler = self._start(
            ["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
             "--no-dashboard", "--scheduler-file", str(sched_file), "--idle-timeout", "600"],
            cwd=self.folder, log="scheduler.log")

        def address():
            try:
                return json.loads(sched_file.read_text())["address"]
            except (OSError, ValueError, KeyError):
                return None

        self.address = _wait_for(address, 120, "scheduler start", [self.scheduler])
        assert self.address.startswith("tcp://127.0.0.1:")
        return self.address

    def start_worker(self, name, cwd):
        proc = self._start(
            ["distributed.cli.dask_worker", self.address, "--name", name, "--nthreads", "1",
             "--no-nanny", "--no-dashboard", "--host", "127.0.0.1", "--death-timeout", "60",
             "--local-directory", str(self.folder / f"dask-{name}")], cwd=cwd, log=f"{name}.log")
        self.workers.append(proc)
        return proc

    def wait_for_workers(self, n):
        from distributed import Client

        with Client(self.address, timeout=60) as client:
            client.wait_for_workers(n, timeout=180)

    def close(self):
        """Workers first, then the scheduler (SIGTERM to both at once can hang a worker's close)."""
        t0 = time.monotonic()
        for group in (self.workers, [self.scheduler] if self.scheduler else []):
            for p in group:
                if p.poll() is None:
                    os.killpg(p.pid, signal.SIGTERM)
            for p in group:
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait(timeout=15)
                print(f"{p.log}: exit {p.returncode} after {time.monotonic() - t0:.1f} s")


@pytest.fixture
def dask_processes(tmp_path):
    cluster = DaskProcesses(tmp_path)
    try:
        yield cluster
    finally:
        cluster.close()


def test_a_worker_killed_mid_run_loses_no_case_and_duplicates_none(dask_processes, tmp_path):
    data = tmp_path / "slides"
    data.mkdir()
    ids = [f"s{i}" for i in range(1, 7)]
    for i, sid in enumerate(ids):
        (data / f"{sid}.svs").write_bytes(os.urandom(40 + i))
    manifest = tmp_path / "slides.csv"
    pd.DataFrame({"slide_id": ids, "path": [f"slides/{s}.svs" for s in ids]}).to_csv(manifest, index=False)
    gate = tmp_path / "gate"
    gate.mkdir()
    out = tmp_path / "out" / "slides.parquet"

    address = dask_processes.start_scheduler()
    for name in ("w1", "w2"):
        dask_processes.start_worker(name, cwd=tmp_path)
    dask_processes.wait_for_workers(2)
    worker_pids = {p.pid for p in dask_processes.workers}

    outcome = {}

    def run():
        outcome["rc"] = summary_command().main(
            ["--manifest", str(manifest), "--out", str(out), "--quiet", "--scheduler", address,
             "--gate-dir", str(gate)])

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        # Both workers hold a case that waits at the gate; kill the first one seen.
        def started_pids():
            return {int(p.name.rsplit(".", 1)[1]) for p in gate.glob("started.*")}

        busy = _wait_for(lambda: started_pids() & worker_pids, 180, "a case started on a worker")
        victim = min(busy)
        killed_cases = {p.name.split(".")[1] for p in gate.glob(f"started.*.{victim}")}
        os.kill(victim, signal.SIGKILL)
        next(p for p in dask_processes.workers if p.pid == victim).wait(timeout=30)
    finally:
        (gate / "open").touch()
        thread.join(timeout=300)
    assert not thread.is_alive(), "the cohort did not finish within 300 s"
    assert outcome["rc"] == 0

    feats = pd.read_parquet(out)
    assert sorted(feats["slide_id"]) == ids and feats["slide_id"].is_unique  # none lost
    done = [p.name for p in gate.glob("done.*")]
    per_case = {sid: sum(n.split(".")[1] == sid for n in done) for sid in ids}
    assert per_case == {sid: 1 for sid in ids}, per_case  # each case finished exactly once
    assert not any(n.endswith(f".{victim}") for n in done)  # nothing finished on the dead worker
    for sid in killed_cases:  # the killed worker's case ran again elsewhere
        starts = [p for p in gate.glob(f"started.{sid}.*")]
        assert len(starts) == 2 and any(not p.name.endswith(f".{victim}") for p in starts)
    sizes = feats.set_index("slide_id")["n_bytes"]
    assert sizes.to_dict() == {sid: 40.0 + i for i, sid in enumerate(ids)}


def test_a_worker_that_cannot_see_an_input_gives_a_clear_per_case_error(
        dask_processes, tmp_path, monkeypatch, capsys):
    from fusion.cli import main

    here = tmp_path / "runner_view"        # where the command runs: has every file
    blind = tmp_path / "worker_view"       # where the worker runs: no files
    here.mkdir()
    blind.mkdir()
    rows = [("visible", *[str(here / n) for n in write_case(here, "visible", size=(16, 16, 8))])]
    img, msk = write_case(here, "unmounted", size=(16, 16, 8), seed=1)
    rows.append(("unmounted", f"/proc/self/cwd/{img}", str(here / msk)))
    manifest = tmp_path / "cases.csv"
    pd.DataFrame(rows, columns=["case_id", "image", "mask"]).to_csv(manifest, index=False)
    (tmp_path / "p.yaml").write_text("imageType:\n  Original: {}\nfeatureClass:\n  firstorder:\n"
                                     "setting:\n  binWidth: 25\n")
    out = tmp_path / "features.parquet"

    address = dask_processes.start_scheduler()
    dask_processes.start_worker("blind", cwd=blind)
    dask_processes.wait_for_workers(1)
    monkeypatch.chdir(here)
    rc = main(["radiomics", "--manifest", str(manifest), "--out", str(out), "--params",
               str(tmp_path / "p.yaml"), "--scheduler", address, "--quiet"])
    text = capsys.readouterr().out
    assert rc == 2, text
    assert "1 of 2 cases succeeded (1 computed, 0 from cache), 1 failed" in text
    assert pd.read_parquet(out)["case_id"].tolist() == ["visible"]
    err = pd.read_csv(tmp_path / "features.parquet.errors.csv").set_index("case_id")
    msg = err.loc["unmounted", "message"]
    assert err.loc["unmounted", "stage"] == "read"
    assert err.loc["unmounted", "error_type"] == "FileNotFoundError"
    assert msg.startswith(f"case 'unmounted': image file '/proc/self/cwd/{img}' not found on worker")
    assert "shared file system" in msg
