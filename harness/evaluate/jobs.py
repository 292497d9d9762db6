"""From a command to stored results: which cells to train, under which key, on which device.

A target is a returned cell (a run's final incumbent) or a given architecture on a
benchmark. Targets with the same cell, benchmark, protocol and settings share one training
(one checkpoint, named by the training key), and each gets its own row in the store's
`cell_evaluations` (eval_id = hash of key and run). A finished row is never trained again; a
`running` row with a checkpoint resumes from it. On a benchmark with a table the table's value
is recorded beside the trained accuracy (in the row's manifest), never in its place.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from harness import HarnessError, __version__
from harness.benchmarks import BENCHMARKS
from harness.evaluate.data import resolve_data
from harness.evaluate.protocols import PROTOCOLS, default_protocol
from harness.spaces import SPACES
from harness.store import DEFAULT_URL, Store, open_store


@dataclass(frozen=True)
class Target:
    """One cell to train: a run's returned cell (run_id set) or a given architecture."""

    benchmark: str
    arch: str
    run_id: str | None = None
    benchmark_settings: dict[str, Any] = field(default_factory=dict)


@dataclass
class Job:
    """One training shared by one or more targets (picklable: names and strings only)."""

    key: str
    benchmark: str
    benchmark_settings: dict[str, Any]
    arch: str
    protocol: str
    settings: dict[str, Any]
    checkpoint: str
    rows: list[tuple[str, str | None]]  # (eval_id, run_id)


def _benchmark(name: str, settings: dict[str, Any]) -> Any:
    b = BENCHMARKS.get(name)
    return b.configure(**settings) if settings else b


def _returned_cell(store: Store, run: dict[str, Any]) -> Target:
    run_id = run["run_id"]
    if run["status"] != "done":
        raise HarnessError(
            f"run {run_id} has not finished (status {run['status']}): resume it with "
            "`harness run` first, then evaluate the cell it returns"
        )
    trials = store.trials(run_id)
    arch = trials[-1]["best_arch"] if trials else None
    if arch is None:
        raise HarnessError(f"run {run_id} returned no cell (no successful trial)")
    config = run["manifest"].get("config", {})
    return Target(run["benchmark"], arch, run_id, dict(config.get("benchmark_settings") or {}))


def targets_from_store(
    store: Store, run_id: str | None, method: str | None, benchmark: str | None
) -> list[Target]:
    """`--run RUN_ID` (one run) or `--method M --benchmark B` (all finished runs of M on B)."""
    if run_id is not None:
        runs = store.runs([run_id])
        if not runs:
            raise HarnessError(f"no run {run_id!r} in {store.url}")
        return [_returned_cell(store, runs[0])]
    runs = [r for r in store.runs() if r["method"] == method and r["benchmark"] == benchmark]
    done = [r for r in runs if r["status"] == "done"]
    if not done:
        raise HarnessError(
            f"no finished runs of method {method} on {benchmark} in {store.url}"
            + (f" ({len(runs)} unfinished)" if runs else "")
        )
    done.sort(key=lambda r: (r["repetition"], r["run_id"]))
    return [_returned_cell(store, r) for r in done]


def target_from_arch(arch: str, benchmark: str) -> Target:
    b = BENCHMARKS.get(benchmark)
    space = SPACES.get(b.space)
    try:
        parsed = space.parse(arch)
    except (ValueError, HarnessError) as err:
        raise HarnessError(f"--arch {arch!r} is not a {b.space} architecture: {err}") from None
    return Target(benchmark, space.format(parsed))


def checkpoint_dir(url: str, given: str | None) -> Path:
    """--checkpoint-dir, else `checkpoints/` beside a SQLite store file, else results/."""
    if given:
        return Path(given)
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return Path(str(parsed.database)).resolve().parent / "checkpoints"
    return Path("results") / "checkpoints"


def _hash(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:20]


def make_jobs(
    targets: list[Target],
    protocol: str | None,
    profile: str,
    overrides: dict[str, Any],
    ckpt_dir: Path,
) -> list[Job]:
    """Resolve protocol and settings for every target (bad input fails here, before any
    training or store write) and group targets that share a training."""
    jobs: dict[str, Job] = {}
    for t in targets:
        b = _benchmark(t.benchmark, t.benchmark_settings)
        space = SPACES.get(b.space)
        proto = PROTOCOLS.get(protocol) if protocol else default_protocol(b.space)
        proto.stats(b.dataset)  # a protocol for this dataset
        settings = proto.resolve(profile, b.space, space.scale_keys, dict(overrides))
        settings["data"] = resolve_data(settings["data"], b.dataset, profile)
        key = _hash(
            {
                "benchmark": t.benchmark,
                "benchmark_settings": t.benchmark_settings,
                "arch": t.arch,
                "protocol": proto.name,
                "settings": settings,
            }
        )
        job = jobs.get(key)
        if job is None:
            job = jobs[key] = Job(
                key,
                t.benchmark,
                dict(t.benchmark_settings),
                t.arch,
                proto.name,
                settings,
                str(ckpt_dir / f"{key}.pt"),
                [],
            )
        eval_id = _hash({"key": key, "run_id": t.run_id})
        if all(eval_id != e for e, _ in job.rows):
            job.rows.append((eval_id, t.run_id))
    return list(jobs.values())


# -- running -------------------------------------------------------------------------------
def _table_value(b: Any, arch: Any) -> float | None:
    """The benchmark's table value for the cell, where it has one (a partial table, such as
    Yang et al.'s 214 DARTS cells, answers for its cells only)."""
    try:
        value = b.report(arch)
    except Exception:  # a table that cannot answer for this cell is no reason to stop
        return None
    return None if value is None else float(value)


def _finished(store: Store, job: Job) -> dict[str, dict[str, Any]]:
    """Rows of this job's training already done in the store, by eval_id; plus any other
    row trained under the same key (reused for new runs returning the same cell)."""
    out: dict[str, dict[str, Any]] = {}
    for r in store.cell_evaluations():
        if r["status"] == "done" and (r.get("manifest") or {}).get("train_key") == job.key:
            out[r["eval_id"]] = r
    return out


def run_job(
    job: Job, url: str, device_name: str, threads: int | None, progress: bool, position: int = 0
) -> list[dict[str, Any]]:
    """Train (or resume, or skip) one job and store a row per target; returns outcomes."""
    b = _benchmark(job.benchmark, job.benchmark_settings)
    space = SPACES.get(b.space)
    arch = space.parse(job.arch)
    table_value = _table_value(b, arch)
    store = open_store(url, create=True)
    try:
        done = _finished(store, job)
        common = dict(benchmark=job.benchmark, arch=job.arch, table_value=table_value)
        pending = [(e, r) for e, r in job.rows if e not in done]
        outcomes = [{**common, **_outcome(done[e], "skipped")} for e, _ in job.rows if e in done]
        if not pending:
            return outcomes
        for eval_id, run_id in pending:
            _start(store, job, eval_id, run_id, space.canonical_key(arch), table_value)
        if done:  # the same training is stored for another target: reuse it
            source = next(iter(done.values()))
            for eval_id, run_id in pending:
                _store_result(store, eval_id, source, reused_from=source["eval_id"])
                outcomes.append(
                    {**common, "eval_id": eval_id, "run_id": run_id, **_outcome(source, "reused")}
                )
            return outcomes
        return outcomes + _train_and_store(
            job, store, b, space, arch, table_value, pending, common, device_name, threads,
            progress, position,
        )  # fmt: skip
    finally:
        store.close()


def _train_and_store(
    job: Job,
    store: Any,
    b: Any,
    space: Any,
    arch: Any,
    table_value: float | None,
    pending: list[tuple[str, str | None]],
    common: dict[str, Any],
    device_name: str,
    threads: int | None,
    progress: bool,
    position: int,
) -> list[dict[str, Any]]:
    """Train the job's cell once and store the result for every pending target (a diverged
    training is stored as failed); the checkpoint goes only after the store has the result."""
    from harness.evaluate.device import resolve_device, torch_threads
    from harness.evaluate.trainer import Diverged, Task, train

    task = Task(
        space=space,
        arch=arch,
        num_classes=b.n_classes,
        dataset=b.dataset,
        protocol=job.protocol,
        settings=job.settings,
        checkpoint=Path(job.checkpoint),
        key=job.key,
        label=f"{job.protocol}/{job.settings['profile']} {job.key[:8]}",
        extra={"train_key": job.key, "table_value": table_value},
    )
    try:
        with torch_threads(threads):
            result = train(task, resolve_device(device_name), progress=progress, position=position)
    except Diverged as err:
        for eval_id, _ in pending:
            store.finish_cell_evaluation(eval_id, "failed", manifest=_failed(job, err))
        Path(job.checkpoint).unlink(missing_ok=True)
        return [
            {**common, "eval_id": e, "run_id": r, "status": "failed", "error": str(err)}
            for e, r in pending
        ]
    outcomes = []
    for eval_id, run_id in pending:
        store.finish_cell_evaluation(
            eval_id,
            "done",
            test_acc=result.test_acc,
            params=result.params,
            wall_s=result.wall_s,
            device=result.device,
            curve=result.curve,
            manifest={**_start_manifest(job, table_value), **result.manifest},
        )
        outcomes.append({**common, "eval_id": eval_id, "run_id": run_id, **_done(result)})
    Path(job.checkpoint).unlink(missing_ok=True)  # only after the store has the result
    return outcomes


def _done(result: Any) -> dict[str, Any]:
    """What `harness evaluate` prints of a finished training."""
    return {
        "status": "done",
        "test_acc": result.test_acc,
        "params": result.params,
        "wall_s": result.wall_s,
        "device": result.device,
        "precision": result.manifest["precision"],
        "note": result.manifest["data_note"],
        "sessions": result.manifest["sessions"],
    }


def _start_manifest(job: Job, table_value: float | None) -> dict[str, Any]:
    return {
        "train_key": job.key,
        "protocol": job.protocol,
        "profile": job.settings["profile"],
        "table_value": table_value,
        "benchmark_settings": job.benchmark_settings,
        "harness": __version__,
        "argv": sys.argv,
    }


def _start(
    store: Store, job: Job, eval_id: str, run_id: str | None, arch_key: str, table: float | None
) -> None:
    store.start_cell_evaluation(
        dict(
            eval_id=eval_id,
            run_id=run_id,
            benchmark=job.benchmark,
            arch=job.arch,
            arch_key=arch_key,
            protocol=job.protocol,
            settings=job.settings,
            seed=int(job.settings["seed"]),
            manifest=_start_manifest(job, table),
        )
    )


def _store_result(store: Store, eval_id: str, source: dict[str, Any], reused_from: str) -> None:
    manifest = {**(source.get("manifest") or {}), "reused_from": reused_from}
    store.finish_cell_evaluation(
        eval_id,
        "done",
        test_acc=source["test_acc"],
        params=source["params"],
        wall_s=source["wall_s"],
        device=source["device"],
        curve=source["curve"],
        manifest=manifest,
    )


def _failed(job: Job, err: Exception) -> dict[str, Any]:
    return {"train_key": job.key, "error": str(err), "protocol": job.protocol}


def _outcome(row: dict[str, Any], status: str) -> dict[str, Any]:
    m = row.get("manifest") or {}
    return {
        "eval_id": row["eval_id"],
        "run_id": row["run_id"],
        "status": status,
        "test_acc": row["test_acc"],
        "params": row["params"],
        "wall_s": row["wall_s"],
        "device": row["device"],
        "precision": m.get("precision"),
        "note": m.get("data_note"),
        "sessions": m.get("sessions"),
    }


def _lane(
    jobs: list[Job], url: str, device: str, threads: int, progress: bool, position: int
) -> list[dict[str, Any]]:
    """One worker process: its jobs in turn, on its device (spawned: set threads first)."""
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    out: list[dict[str, Any]] = []
    for job in jobs:
        out += run_job(job, url, device, threads, progress, position)
    return out


def run_jobs(
    jobs: list[Job],
    url: str = DEFAULT_URL,
    workers: int = 1,
    devices: str = "auto",
    threads: int | None = None,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Run every job: in this process, or in `workers` processes, job i in lane i % workers,
    lane i on the i-th placed device (several lanes may share one GPU)."""
    from harness.evaluate.device import placement

    if workers < 1:
        raise HarnessError(f"--workers must be positive, got {workers}")
    if threads is not None and threads < 1:
        raise HarnessError(f"--threads must be positive, got {threads}")
    placed = placement(workers, devices)
    if workers == 1 or len(jobs) <= 1:
        out: list[dict[str, Any]] = []
        for job in jobs:
            out += run_job(job, url, placed[0], threads, progress)
        return out
    import concurrent.futures as cf
    import multiprocessing as mp

    lanes = [jobs[i::workers] for i in range(workers)]
    per_lane = threads or max(1, (os.cpu_count() or 1) // workers)
    out = []
    with cf.ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
        futures = [
            pool.submit(_lane, lane, url, placed[i], per_lane, progress, i)
            for i, lane in enumerate(lanes)
            if lane
        ]
        for fut in futures:
            out += fut.result()
    return out
