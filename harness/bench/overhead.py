"""Where the harness's time over a bare loop goes, each part timed on its own (printed by
`harness bench grid`, never asserted).

The grid's harness run and its bare loop differ by the harness's own work; this module calls
the same harness code for the same runs and trial counts, one part at a time, so that the parts
can be set against that difference (whatever they do not cover is printed as the remainder):
per run, its start and finish (status, manifest, start, lease claim and release, the replay
read, finish); per trial, the store write (lease-checked insert; the runner commits cheap
trials together) and the runner's bookkeeping (canonical key, the stored row, the incumbent).
Apart from the grid: building the plan (names, settings, run identity, input hashing: cold in a
fresh process and warm here), the strategy wrappers against their libraries driven directly
(inside both loops, so not part of the difference), and the start-up of `harness run --method
tpe --trials 1`.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness.runner import Plan, RunSpec


@dataclass
class Part:
    """One measured part: seconds in all, how many times it ran, and what it covers."""

    name: str
    seconds: float
    count: int
    covers: str


def _spec_objects(spec: RunSpec) -> tuple[Any, Any, Any]:
    from harness.proxies import make_proxy
    from harness.spaces import SPACES

    benchmark = spec.resolve_benchmark()
    return benchmark, SPACES.get(benchmark.space), make_proxy(spec.proxy, **spec.proxy_settings)


def run_parts(plan: Plan, url: str) -> list[Part]:
    """The grid's harness work, part by part, on a scratch store at `url` (a fresh database)."""
    from harness.leases import claim, owner_id
    from harness.runner import _environment, _Writes, manifest
    from harness.store import open_store

    store = open_store(url)
    owner = owner_id()
    setup = writes = 0.0
    n_trials = 0
    try:
        for spec in plan.runs:
            proxy = _spec_objects(spec)[2]
            _environment()  # its first read per process state is start-up, not a run's cost
            t0 = time.perf_counter()
            run_id = spec.run_id
            store.run_status(run_id)
            fields = dict(
                method=spec.method,
                benchmark=spec.benchmark,
                proxy=spec.proxy,
                strategy=spec.strategy,
                repetition=spec.repetition,
                seed=spec.seed,
            )
            store.start_run(run_id, fields, manifest(spec, dict(spec.strategy_settings), proxy))
            lease = claim(store, run_id, owner, 60.0)
            assert not isinstance(lease, tuple) and hasattr(lease, "stop")
            store.trials(run_id)  # the replay read (empty here, as in a fresh run)
            t1 = time.perf_counter()
            writes_ = _Writes(store, owner, run_id)  # the runner's path: cheap trials together
            for number in range(spec.trials or 0):
                writes_.add(_row(run_id, number), time.perf_counter())
            writes_.flush()
            t2 = time.perf_counter()
            lease.stop()
            store.finish_run(run_id, owner)
            t3 = time.perf_counter()
            setup += (t1 - t0) + (t3 - t2)
            writes += t2 - t1
            n_trials += spec.trials or 0
    finally:
        store.close()
    return [
        Part(
            "run start and finish",
            setup,
            len(plan.runs),
            "status, manifest, start, lease claim and release, replay read, finish",
        ),
        Part(
            "store writes",
            writes,
            n_trials,
            "lease-checked inserts, cheap trials committed together",
        ),
        Part(
            "runner bookkeeping",
            bookkeeping(plan),
            n_trials,
            "canonical key, stored row, incumbent (decode and lookup are the bare loop's too)",
        ),
    ]


def _row(run_id: str, number: int) -> dict[str, Any]:
    """A stored trial of the NB201 grid's shape."""
    arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|"
    return dict(
        run_id=run_id,
        number=number,
        params={f"edge_{i}": "nor_conv_3x3" for i in range(6)},
        arch=arch,
        arch_key="(((0)c3)|((0)c3)+((0)c3)a3)",
        status="ok",
        score=84.5,
        direction="maximize",
        truth=93.1,
        best_score=84.5,
        best_arch=arch,
        best_truth=93.1,
        regret=1.2,
        wall_s=0.003,
        simulated_s=170.0,
        cum_wall_s=0.1,
        cum_simulated_s=5000.0,
        labels_used=25000,
        cached=False,
    )


def bookkeeping(plan: Plan) -> float:
    """The runner's per-trial work besides ask, evaluate, tell and store, on the grid's trial
    count: `_start` (decode, canonical key, the pending evaluation) and `_row` (the stored row,
    the incumbent), minus the decode the bare loop does too."""
    from harness.runner import _Candidate, _EvalContext, _Incumbent, _row, _start
    from harness.strategies.base import Suggestion

    total = 0.0
    rng = np.random.default_rng(0)
    for spec in plan.runs:
        benchmark, space, proxy = _spec_objects(spec)
        context = _EvalContext(spec, None, proxy, "{}", "", benchmark, None)  # type: ignore[arg-type]
        context.hoist()
        best = _Incumbent()
        n = spec.trials or 0
        params = [space.encode(space.sample(rng)) for _ in range(n)]
        evs = [proxy.evaluate(space.decode(p), benchmark, 0) for p in params]
        t0 = time.perf_counter()
        for number, (p, ev) in enumerate(zip(params, evs)):
            candidate = _start(_Candidate(Suggestion(number, p)), space, context)
            _row(context, space, candidate, ev, 90.0, 0.001, best)
        t1 = time.perf_counter()
        for p in params:
            space.decode(p)
        total += (t1 - t0) - (time.perf_counter() - t1)
    return max(total, 0.0)


def plan_parts(build: Callable[[], Plan], code: str) -> list[Part]:
    """Building the plan: warm in this process (names, settings, identities already read once)
    and cold in a fresh interpreter (`code` builds the same plan there; imports excluded)."""
    t0 = time.perf_counter()
    plan = build()
    warm = time.perf_counter() - t0
    script = (
        "import time\nfrom harness.runner import make_plan\nfrom harness.bench.grid import *\n"
        f"t0 = time.perf_counter()\n{code}\nprint(time.perf_counter() - t0)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    cold = float(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else float("nan")
    return [
        Part(
            "plan building, cold",
            cold,
            len(plan.runs),
            "a fresh process: table read, code and library identities hashed, run ids",
        ),
        Part("plan building, warm", warm, len(plan.runs), "the same in this process again"),
    ]


def wrapper_parts(trials: int, seeds: int = 3) -> list[Part]:
    """Each TPE wrapper's ask + tell against its library driven directly with the same
    sampler on the same table lookups (inside both the harness and the bare loop)."""
    from harness.benchmarks import BENCHMARKS
    from harness.spaces import SPACES
    from harness.strategies import make_strategy

    benchmark: Any = BENCHMARKS.get("nb201-cifar10")  # a table benchmark: it has `lookup`
    space = SPACES.get(benchmark.space)
    pspace = space.param_space

    def loss(params: dict[str, Any]) -> float:
        return -benchmark.lookup(space.decode(params), 12, 0)[0]

    out = []
    for name in ("tpe-optuna", "tpe-hyperopt"):
        _direct(name, pspace, 99, 25, loss)  # first calls (imports, caches) timed in neither
        wrapped = direct = 0.0
        for seed in range(seeds):
            strategy: Any = make_strategy(name, pspace, seed)
            t0 = time.perf_counter()
            for _ in range(trials):
                s = strategy.ask()
                strategy.tell(s.number, loss(s.params))
            wrapped += time.perf_counter() - t0
            direct += _direct(name, pspace, seed, trials, loss)
        out.append(
            Part(
                f"wrapper {name}",
                wrapped - direct,
                seeds * trials,
                f"wrapper {wrapped:.2f} s - library alone {direct:.2f} s",
            )
        )
    return out


def _direct(name: str, pspace: Any, seed: int, trials: int, loss: Callable[..., float]) -> float:
    """The library's own loop: optuna's study.ask/tell on a sampler built as the wrapper
    builds it; hyperopt's fmin (the loop the wrapper replays step by step)."""
    if name == "tpe-optuna":
        from harness.strategies import make_strategy

        wrapper: Any = make_strategy(name, pspace, seed)
        study, dists = wrapper._study, wrapper._distributions
        t0 = time.perf_counter()
        for _ in range(trials):
            trial = study.ask(dists)
            study.tell(trial, loss(trial.params))
        return time.perf_counter() - t0
    import hyperopt
    from hyperopt import hp

    space = {p.name: hp.choice(p.name, list(p.choices)) for p in pspace.params}
    t0 = time.perf_counter()
    hyperopt.fmin(
        loss,
        space,
        algo=hyperopt.tpe.suggest,
        max_evals=trials,
        trials=hyperopt.Trials(),
        rstate=np.random.default_rng(seed),
        show_progressbar=False,
        verbose=False,
    )
    return time.perf_counter() - t0


def startup(repeats: int = 3) -> dict[str, float]:
    """Wall seconds (best of `repeats`) of a bare interpreter, of importing the CLI, and of
    `harness run --method tpe --trials 1 --seeds 1` on a new SQLite file, in subprocesses."""
    run = [
        sys.executable,
        "-m",
        "harness.cli",
        "run",
        "--method",
        "tpe",
        "--trials",
        "1",
        "--seeds",
        "1",
        "--storage",
    ]
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        commands: dict[str, Callable[[int], list[str]]] = {
            "python -c pass": lambda i: [sys.executable, "-c", "pass"],
            "import harness.cli": lambda i: [sys.executable, "-c", "import harness.cli"],
            "harness run --method tpe --trials 1": lambda i: [
                *run,
                f"sqlite:///{Path(tmp) / f'startup{i}.db'}",
            ],
        }
        for label, argv in commands.items():
            best = float("inf")
            for i in range(repeats):
                t0 = time.perf_counter()
                subprocess.run(argv(i), capture_output=True, check=True)
                best = min(best, time.perf_counter() - t0)
            out[label] = best
    return out


def table(parts: list[Part], bare: float, harness: float) -> list[str]:
    """The parts as printed lines: seconds, per call, share of the harness-over-bare gap."""
    gap = harness - bare
    in_gap = [p for p in parts if p.name in GAP_PARTS]
    lines = [f"  {'part':28s} {'seconds':>8s} {'count':>7s} {'us each':>9s} {'of gap':>7s}  covers"]
    for p in parts:
        each = 1e6 * p.seconds / p.count if p.count else float("nan")
        share = f"{100 * p.seconds / gap:6.0f}%" if p in in_gap and gap > 0 else "      -"
        lines.append(
            f"  {p.name:28s} {p.seconds:8.3f} {p.count:7d} {each:9.1f} {share}  {p.covers}"
        )
    rest = gap - sum(p.seconds for p in in_gap)
    share = f"{100 * rest / gap:6.0f}%" if gap > 0 else "      -"
    lines.append(
        f"  {'remainder of the gap':28s} {rest:8.3f} {'':7s} {'':9s} {share}  "
        "the gap's seconds no part above covers (loop, timing noise)"
    )
    return lines


#: the parts that make up the harness's difference from the bare loop (the others are
#: outside the timed grid or inside both loops)
GAP_PARTS = ("run start and finish", "store writes", "runner bookkeeping")
