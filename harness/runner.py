"""The runner: a plan (methods x benchmarks x repetitions) executed run by run, resumably.

A trial: `params = strategy.ask()`, `arch = space.decode(params)`, `ev = cache or
proxy.evaluate(arch)`, `strategy.tell(loss)`, `truth = benchmark.report(arch)`, `store.add`.
Each trial is committed as it ends, except that trials ending less than `WRITE_EVERY_S` apart
(table lookups, cache hits) are committed together (`_Writes`). Resume replays the stored trials
through a freshly seeded strategy (checking that it proposes the same parameters), then goes
on: a run killed at any point finishes with exactly the requested trials, none lost and none
duplicated; what a kill can take is a fraction of a second of cheap trials, which resume
computes again, identically.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from harness import HarnessError, __version__
from harness.benchmarks import BENCHMARKS, Benchmark
from harness.candidates import Deferred, Done, Evaluator, Job
from harness.environment import KERNEL_VARIABLES, differences, environment, libraries
from harness.identity import cache_version, run_inputs
from harness.leases import DEFAULT_SECONDS, Lease, claim, describe, owner_id
from harness.methods import METHODS, Method, compose
from harness.proxies import Evaluation, make_proxy
from harness.seeds import derive_seed
from harness.spaces import SPACES
from harness.store import Store, evaluation_key, redact
from harness.strategies import STRATEGIES, make_strategy

log = logging.getLogger("harness.runner")


@dataclass(frozen=True)
class RunSpec:
    """Everything that determines a run's trials. Its hash is the run id."""

    method: str
    benchmark: str
    repetition: int
    master_seed: int
    strategy: str
    proxy: str
    trials: int | None
    budget_seconds: float | None = None
    strategy_settings: dict[str, Any] = field(default_factory=dict)
    proxy_settings: dict[str, Any] = field(default_factory=dict)
    benchmark_settings: dict[str, Any] = field(default_factory=dict)
    #: table / image sha256 and the proxy's code version (harness.identity.run_inputs)
    inputs: dict[str, Any] = field(default_factory=dict)
    #: candidates in flight (`--parallel`); 1 asks, evaluates and tells one at a time
    parallel: int = 1

    def config(self) -> dict[str, Any]:
        """The spec as stored (manifest `config`) and hashed (run id). `parallel` at 1 is left
        out, so runs made before it existed keep their ids and experiments."""
        out = asdict(self)
        if out["parallel"] == 1:
            del out["parallel"]
        return out

    def resolve_benchmark(self) -> Benchmark:
        benchmark = BENCHMARKS.get(self.benchmark)
        return (
            benchmark.configure(**self.benchmark_settings) if self.benchmark_settings else benchmark
        )

    @property
    def seed(self) -> int:
        """Strategy seed: independent per (method, benchmark, repetition)."""
        return derive_seed(
            self.master_seed, "strategy", self.method, self.benchmark, self.repetition
        )

    @property
    def proxy_seed(self) -> int:
        """Proxy seed: shared by every method at one repetition, so they see the same noise
        (common random numbers) and share cached evaluations."""
        return derive_seed(self.master_seed, "proxy", self.repetition)

    @property
    def run_id(self) -> str:
        blob = json.dumps(self.config(), sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:20]


@dataclass
class Plan:
    runs: list[RunSpec]
    #: plugin modules (harness.plugins) the runs' names need: every worker imports them
    plugins: list[str] = field(default_factory=list)

    @property
    def run_ids(self) -> list[str]:
        return [r.run_id for r in self.runs]


#: far beyond any real study, and small enough that a typo fails at once instead of building
#: a plan until memory runs out
MAX_SEEDS = 100_000
MAX_RUNS = 1_000_000
MAX_TRIALS = 10_000_000


def check_plan_sizes(
    seeds: int, master_seed: int, trials: int | None, budget_seconds: float | None
) -> None:
    """Counts and seeds in range, each named by its option: one line, before any work."""
    for flag, value in (("--seeds", seeds), ("--master-seed", master_seed)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise HarnessError(f"{flag} must be an integer, got {value!r}")
    if not 1 <= seeds <= MAX_SEEDS:
        raise HarnessError(f"--seeds must be between 1 and {MAX_SEEDS:,}, got {seeds}")
    if not 0 <= master_seed < 2**63:
        raise HarnessError(f"--master-seed must be between 0 and 2**63 - 1, got {master_seed}")
    if trials is not None and not 1 <= trials <= MAX_TRIALS:
        raise HarnessError(f"--trials must be between 1 and {MAX_TRIALS:,}, got {trials}")
    if budget_seconds is not None and not (0 < budget_seconds < math.inf):
        raise HarnessError(f"--budget-seconds must be positive and finite, got {budget_seconds}")


def make_plan(
    methods: list[str],
    benchmarks: list[str],
    seeds: int,
    master_seed: int = 0,
    trials: int | None = None,
    budget_seconds: float | None = None,
    proxy: str | None = None,
    proxy_settings: dict[str, Any] | None = None,
    benchmark_settings: dict[str, Any] | None = None,
    table: str | None = None,
    plugins: list[str] | None = None,
    strategies: list[str] | None = None,
    strategy_settings: dict[str, Any] | None = None,
    parallel: int = 1,
) -> Plan:
    """Resolve names, settings and input files up front, so bad input fails before anything
    is stored. `table` is an NB201 table file for the benchmarks that read one: it becomes a
    benchmark setting, so the path and its sha256 are part of each run's identity. `plugins`
    (with $HARNESS_PLUGINS) are imported first, and the plan carries them to its workers.

    `strategies` pair each strategy with `proxy` (default `lookup-12`) and `strategy_settings`
    (harness.methods.compose), beside the named `methods`, whose proxy `proxy` overrides.
    `parallel` candidates are kept in flight per run (harness.runner._search)."""
    from harness import plugins as plugin_modules

    loaded = plugin_modules.load([*plugin_modules.from_environment(), *(plugins or [])])
    check_plan_sizes(seeds, master_seed, trials, budget_seconds)
    check_parallel(parallel)
    entries = _entries(methods, strategies or [], proxy, strategy_settings or {})
    n_runs = len(entries) * len(benchmarks) * seeds
    if n_runs > MAX_RUNS:
        raise HarnessError(f"the plan has {n_runs:,} runs, more than {MAX_RUNS:,}: fewer --seeds?")
    runs: list[RunSpec] = []
    shared = _shared_settings(entries, proxy, proxy_settings or {})
    for method in entries:
        composed = method.name not in METHODS or METHODS.get(method.name) != method
        proxy_name = method.proxy if composed else (proxy or method.proxy)
        settings = dict(method.proxy_settings) if proxy is None or composed else {}
        settings.update(shared[proxy_name])
        resolved = make_proxy(proxy_name, **settings)  # validates settings
        n_trials = trials
        if n_trials is None and budget_seconds is None:
            n_trials = _default_trials(method.default_trials, resolved.settings())
        for bench_name in benchmarks:
            bench_settings = _benchmark_settings(bench_name, benchmark_settings, table)
            inputs = _checked_inputs(method, proxy_name, resolved, bench_name, bench_settings)
            strategy_overrides = _strategy_settings(method, bench_name, parallel, composed)
            template = RunSpec(
                method=method.name,
                benchmark=bench_name,
                repetition=0,
                master_seed=master_seed,
                strategy=method.strategy,
                proxy=proxy_name,
                trials=n_trials,
                budget_seconds=budget_seconds,
                strategy_settings=strategy_overrides,
                proxy_settings=resolved.settings(),
                benchmark_settings=bench_settings,
                inputs=inputs,
                parallel=parallel,
            )
            runs.extend(replace(template, repetition=rep) for rep in range(seeds))
    return Plan(runs, plugins=loaded)


#: more candidates in flight than any executor here has workers for
MAX_PARALLEL = 1024


def check_parallel(parallel: int) -> None:
    if isinstance(parallel, bool) or not isinstance(parallel, int):
        raise HarnessError(f"--parallel must be an integer, got {parallel!r}")
    if not 1 <= parallel <= MAX_PARALLEL:
        raise HarnessError(f"--parallel must be between 1 and {MAX_PARALLEL}, got {parallel}")


def _entries(
    methods: list[str], strategies: list[str], proxy: str | None, settings: dict[str, Any]
) -> list[Method]:
    """The plan's methods: the named presets, then each strategy composed with the proxy."""
    if settings and not strategies:
        raise HarnessError("--strategy-set needs --strategy (a named method has its settings)")
    if not methods and not strategies:
        raise HarnessError("nothing to run: give --method NAME or --strategy NAME")
    out = [METHODS.get(m) for m in methods]  # `proxy` overrides theirs (make_plan)
    for name in strategies:
        STRATEGIES.get(name)  # an unknown name: one line listing the known ones
        out.append(compose(name, proxy or "lookup-12", settings))
    names = [m.name for m in out]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise HarnessError(f"method {twice[0]!r} is in the plan twice (a preset and a pairing?)")
    return out


def _strategy_settings(
    method: Method, bench_name: str, parallel: int, check: bool
) -> dict[str, Any]:
    """The method's strategy settings, checked by building the strategy on the benchmark's
    space where they are the user's (a setting the strategy does not take: one line). With
    several candidates in flight a strategy that has a constant liar gets it turned on and
    one that plans for a number of workers (nevergrad's `num_workers`) gets k, in the
    settings and so in the run id (the others see pending candidates their own way)."""
    settings = dict(method.strategy_settings)
    if not check and parallel == 1:
        return settings
    space = SPACES.get(BENCHMARKS.get(bench_name).space).param_space
    try:
        strategy = make_strategy(method.strategy, space, 0, **settings)
    except (TypeError, ValueError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise HarnessError(f"strategy {method.strategy}: {first}") from None
    resolved = getattr(strategy, "settings", {}) or {}
    close = getattr(strategy, "close", None)
    if callable(close):
        close()
    if parallel > 1 and resolved.get("constant_liar") is False and "constant_liar" not in settings:
        settings["constant_liar"] = True
    workers = resolved.get("num_workers")  # nevergrad plans for this many pending asks
    if isinstance(workers, int) and workers < parallel and "num_workers" not in settings:
        settings["num_workers"] = parallel
    return settings


def _checked_inputs(
    method: Any, proxy_name: str, proxy: Any, bench_name: str, bench_settings: dict[str, Any]
) -> dict[str, Any]:
    """The benchmark configured (failing early), the proxy allowed on it, the run's inputs."""
    benchmark = BENCHMARKS.get(bench_name)
    if bench_settings:
        benchmark = benchmark.configure(**bench_settings)
    SPACES.get(benchmark.space)
    if getattr(proxy, "needs_table", False) and benchmark.truth_source != "table":
        raise HarnessError(
            f"proxy {proxy_name} (method {method.name}) reads a benchmark table, and "
            f"{bench_name} has none: use a trained or zero-cost proxy there"
        )
    return run_inputs(benchmark, proxy, method.strategy)


def _benchmark_settings(
    name: str, settings: dict[str, Any] | None, table: str | None
) -> dict[str, Any]:
    out = dict(settings or {})
    if table is not None and hasattr(BENCHMARKS.get(name), "table_path"):
        out["table"] = str(Path(table).resolve())
    return out


def _shared_settings(
    methods: list[Method], proxy: str | None, settings: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Plan-wide proxy settings (`--profile`, `--set`) go to every proxy that takes them, so a
    plan can mix trained and lookup proxies; a setting no proxy of the plan takes is an error."""
    names = list(dict.fromkeys(proxy or m.proxy for m in methods))
    known = {n: set(make_proxy(n).settings()) for n in names}  # trained ones list `profile`
    unknown = sorted(set(settings) - set().union(*known.values()))
    if unknown:
        raise HarnessError(
            f"unknown setting {unknown[0]!r}: no proxy of this plan ({', '.join(names)}) takes it"
        )
    return {n: {k: v for k, v in settings.items() if k in known[n]} for n in names}


def _default_trials(method_default: int, proxy_settings: dict[str, Any]) -> int:
    """Trained proxies take the trial count their profile recommends; lookups the method's."""
    if "profile" in proxy_settings:
        from harness.proxies.profiles import recommended_trials

        return recommended_trials(str(proxy_settings["profile"]))
    return method_default


def manifest(spec: RunSpec, strategy_settings: dict[str, Any], proxy: Any) -> dict[str, Any]:
    benchmark = spec.resolve_benchmark()
    return {
        "run_id": spec.run_id,
        "config": spec.config(),
        "seed": spec.seed,
        "proxy_seed": spec.proxy_seed,
        "strategy_settings": strategy_settings,
        "proxy_settings": proxy.settings(),
        "proxy_direction": proxy.direction,
        "benchmark": {
            "name": benchmark.name,
            "search_metric": benchmark.search_metric,
            "report_metric": benchmark.report_metric,
            "optimum": benchmark.optimum,
            "truth_source": benchmark.truth_source,
            "space": benchmark.space,
            **benchmark.manifest(),
        },
        "versions": {"csnas-harness": __version__, **libraries()},
        "environment": _environment(),
        "argv": [redact(a) for a in sys.argv],
    }


_ENVIRONMENTS: dict[tuple[Any, ...], dict[str, Any]] = {}


def _environment() -> dict[str, Any]:
    """The manifest's environment record: torch's build and kernels where the run uses torch
    (its proxy imported it; a lookup run never does). Without torch it is read once per
    process state, not once per run (threadpoolctl's scan of the loaded libraries cost about
    5 ms a run in the lookup grid): keyed by the kernel variables and by how many modules are
    imported, since an import can load another BLAS that the record lists."""
    if "torch" in sys.modules:
        return environment(with_torch=True)
    key = _environment_key()
    if key not in _ENVIRONMENTS:
        record = environment(with_torch=False)
        _ENVIRONMENTS.clear()
        _ENVIRONMENTS[_environment_key()] = record  # after: reading it may import
        return record
    return _ENVIRONMENTS[key]


def _environment_key() -> tuple[Any, ...]:
    return (len(sys.modules), *(os.environ.get(k) for k in KERNEL_VARIABLES))


class LeaseLost(Exception):
    """Another worker took this run's lease (ours lapsed): stop without writing more."""


def check_inputs(spec: RunSpec, benchmark: Any, proxy: Any) -> None:
    """The inputs here must be the ones the plan was made with (files, code)."""
    if not spec.inputs:
        return
    here = _flat(run_inputs(benchmark, proxy, spec.strategy))
    for key, planned in sorted(_flat(spec.inputs).items()):
        if here.get(key) != planned:
            raise HarnessError(
                f"run {spec.run_id}: {key} is {str(here.get(key))[:16]} here but "
                f"{str(planned)[:16]} in the plan: a file or the code changed since the plan "
                "was made (or this worker runs other files or code)"
            )


def _flat(inputs: dict[str, Any]) -> dict[str, Any]:
    """Nested inputs (the libraries) as `libraries.optuna`-style keys, so a difference names
    the one library that differs."""
    out: dict[str, Any] = {}
    for key, value in inputs.items():
        if isinstance(value, dict):
            out.update({f"{key}.{k}": v for k, v in value.items()})
        elif key != "proxy_libraries":  # the same versions, for the cache key
            out[key] = value
    return out


def execute_run(
    spec: RunSpec,
    store: Store,
    on_trial: Callable[[int], None] | None = None,
    owner: str | None = None,
    lease_seconds: float = DEFAULT_SECONDS,
    evaluator: Evaluator | None = None,
) -> str:
    """Run (or resume) one run under a lease. Returns 'done', 'resumed', 'skipped' (already
    done), 'busy' (another live worker holds it) or 'lost' (our lease was taken meanwhile).
    `evaluator`: where the candidates of a run with `parallel` > 1 are evaluated (the
    executor's workers); without one they are evaluated here, one after another."""
    run_id = spec.run_id
    if store.run_status(run_id) == "done":
        log.debug("run %s (%s): already complete in the store, skipped", run_id, _name(spec))
        return "skipped"
    benchmark = spec.resolve_benchmark()
    space = SPACES.get(benchmark.space)
    strategy = make_strategy(spec.strategy, space.param_space, spec.seed, **spec.strategy_settings)
    proxy = make_proxy(spec.proxy, **spec.proxy_settings)
    check_inputs(spec, benchmark, proxy)
    store.start_run(
        run_id,
        dict(
            method=spec.method,
            benchmark=spec.benchmark,
            proxy=spec.proxy,
            strategy=spec.strategy,
            repetition=spec.repetition,
            seed=spec.seed,
        ),
        manifest(spec, getattr(strategy, "settings", {}), proxy),
    )
    lease = claim(store, run_id, owner or owner_id(), lease_seconds)
    if not isinstance(lease, Lease):
        if lease.status == "done":
            log.debug("run %s (%s): completed by another worker, skipped", run_id, _name(spec))
            return "skipped"
        log.debug("run %s (%s): %s", run_id, _name(spec), describe(lease, time.time()))
        return "busy"
    try:
        resumed = _search(
            spec, store, lease, benchmark, space, strategy, proxy, on_trial, evaluator
        )
    except LeaseLost:
        log.info("run %s (%s): lease taken by another worker, stopped", run_id, _name(spec))
        return "lost"
    finally:
        lease.stop()
    if lease.lost.is_set():
        log.info("run %s (%s): lease taken by another worker, stopped", run_id, _name(spec))
        return "lost"
    store.finish_run(run_id, lease.owner)
    return "resumed" if resumed else "done"


def _name(spec: RunSpec) -> str:
    return f"{spec.method} on {spec.benchmark}, repetition {spec.repetition}"


@dataclass
class _Incumbent:
    """The run's best trial so far (by loss) and its running costs, as stored per trial."""

    loss: float | None = None
    score: float = math.nan
    truth: float | None = None
    arch: str | None = None
    cum_wall: float = 0.0
    cum_sim: float = 0.0

    def offer(self, loss: float | None, score: Any, truth: float | None, arch: str) -> None:
        if loss is not None and (self.loss is None or loss < self.loss):
            self.loss, self.score, self.truth, self.arch = loss, score, truth, arch


@dataclass
class _Candidate:
    """A suggestion asked and not yet told: its cell and its evaluation under way."""

    suggestion: Any
    arch: Any = None
    arch_key: str = ""
    pending: Any = None  # harness.candidates.Pending
    cached: bool = False
    asked_at: float = 0.0


def _search(
    spec: RunSpec,
    store: Store,
    lease: Lease,
    benchmark: Any,
    space: Any,
    strategy: Any,
    proxy: Any,
    on_trial: Callable[[int], None] | None,
    evaluator: Evaluator | None = None,
) -> bool:
    """Replay the stored trials, then search until the run is complete. True if resumed.

    Up to `spec.parallel` candidates are in flight: the run asks until k are open, then tells
    (and stores) the oldest once its evaluation is done, then asks again. Asks and tells
    therefore interleave the same way whatever finishes first, and resume replays them so.
    At k = 1 this is ask, evaluate, tell, store: the loop as it always was."""
    best = _Incumbent()
    open_ = _replay(spec, store, strategy, best)
    replayed = open_.told
    settings_json = json.dumps(proxy.settings(), sort_keys=True)
    version = cache_version(spec.inputs)
    context = _EvalContext(spec, store, proxy, settings_json, version, benchmark, evaluator)
    context.hoist()
    inflight: deque[_Candidate] = deque()
    writes = _Writes(store, lease.owner, spec.run_id)
    try:
        _loop(
            spec,
            lease,
            benchmark,
            space,
            strategy,
            on_trial,
            open_,
            context,
            inflight,
            best,
            writes,
        )
        writes.flush()
    except LeaseLost:
        raise
    except BaseException:  # an error or an interrupt: the trials that ended are kept
        writes.flush_kept()
        raise
    finally:  # the run stops (done, budget, lease lost, error): drop what is still in flight
        for candidate in inflight:
            candidate.pending.cancel()
    return bool(replayed)


#: trials ending less than this apart are committed together (a table lookup's trial takes
#: about 1.5 ms, its commit 0.05-0.1 ms: see `harness bench grid`); a slower trial is committed
#: at once, so the trials a kill can take cost at most about twice this much work together,
#: which resume recomputes
WRITE_EVERY_S = 0.2


class _Writes:
    """A run's finished trials on their way to the store: each committed as it ends unless
    it ended within `WRITE_EVERY_S` of the oldest one waiting and took less than that itself.
    Before an evaluation that may take long (not a table lookup or a cache hit) the runner
    commits what waits, so the store does not lag behind a slow trial."""

    def __init__(self, store: Store, owner: str, run_id: str) -> None:
        self.store, self.owner, self.run_id = store, owner, run_id
        self.rows: list[dict[str, Any]] = []
        self.since = 0.0

    def add(self, row: dict[str, Any], now: float) -> None:
        if not self.rows:
            self.since = now
        self.rows.append(row)
        if row["wall_s"] >= WRITE_EVERY_S or now - self.since >= WRITE_EVERY_S:
            self.flush()

    def flush(self) -> None:
        rows, self.rows = self.rows, []
        if rows and not self.store.add_trials(rows, self.owner):
            raise LeaseLost(self.run_id)

    def flush_kept(self) -> None:
        """On an error: store what ended, unless storing fails too (the error is the news)."""
        waiting = len(self.rows)
        try:
            self.flush()
        except Exception as exc:
            log.warning("run %s: %d finished trials not stored: %s", self.run_id, waiting, exc)


def _loop(
    spec: RunSpec,
    lease: Lease,
    benchmark: Any,
    space: Any,
    strategy: Any,
    on_trial: Callable[[int], None] | None,
    open_: _Replayed,
    context: _EvalContext,
    inflight: deque[_Candidate],
    best: _Incumbent,
    writes: _Writes,
) -> None:
    """Ask until k are in flight, tell and store the oldest, until the run is complete."""
    for suggestion in open_.outstanding:  # asked before the stop, never told: evaluate again
        inflight.append(
            _start(_Candidate(suggestion, asked_at=time.perf_counter()), space, context)
        )
    asked = open_.asked
    last_end = 0.0
    while True:
        if lease.lost.is_set():
            raise LeaseLost(spec.run_id)
        while len(inflight) < spec.parallel and (spec.trials is None or asked < spec.trials):
            t0 = time.perf_counter()
            candidate = _Candidate(strategy.ask(), asked_at=t0)
            inflight.append(_start(candidate, space, context))
            asked += 1
        if not inflight:
            break
        candidate = inflight.popleft()
        if not (candidate.cached or context.table):
            writes.flush()  # an evaluation that may take long: the trials waiting go first
        ev = context.finish(candidate)
        if spec.budget_seconds is not None and best.cum_sim + ev.simulated_s > spec.budget_seconds:
            break  # the next evaluation would exceed the simulated budget
        strategy.tell(candidate.suggestion.number, ev.loss)
        truth = benchmark.report(candidate.arch)
        end = time.perf_counter()
        wall = end - max(candidate.asked_at, last_end)  # overlapping candidates counted once
        last_end = end
        writes.add(_row(context, space, candidate, ev, truth, wall, best), end)
        if on_trial is not None:
            on_trial(1)


@dataclass
class _EvalContext:
    """What starting and finishing a candidate's evaluation needs (the store's cache)."""

    spec: RunSpec
    store: Store
    proxy: Any
    settings_json: str
    version: str
    benchmark: Any
    evaluator: Evaluator | None
    #: the run's constants, computed once per run rather than once per trial (each derives a
    #: hash: the run id hashes the whole spec; see `harness bench grid`'s breakdown)
    run_id: str = ""
    proxy_seed: int = 0
    optimum: float | None = None
    table: bool = False  # a table lookup (`needs_table`, absent: False): never a long wait

    def hoist(self) -> None:
        self.run_id = self.spec.run_id
        self.proxy_seed = self.spec.proxy_seed
        self.optimum = self.benchmark.optimum
        self.table = bool(getattr(self.proxy, "needs_table", False))

    def key(self, arch_key: str) -> str:
        return evaluation_key(
            self.proxy.name, self.settings_json, arch_key, self.proxy_seed, self.version
        )

    def finish(self, candidate: _Candidate) -> Evaluation:
        """The candidate's evaluation, stored in the cache when it was computed."""
        ev: Evaluation = candidate.pending.result()
        if not candidate.cached and not self.proxy.deterministic:
            self.store.cache_evaluation(
                self.key(candidate.arch_key),
                self.proxy.name,
                self.settings_json,
                candidate.arch_key,
                self.proxy_seed,
                ev.to_dict(),
                self.version,
            )
        return ev


def _start(candidate: _Candidate, space: Any, context: _EvalContext) -> _Candidate:
    """Decode the candidate and start its evaluation: a table lookup or a cache hit at once,
    else in this process when its turn comes, or on the executor's workers."""
    spec, proxy, seed = context.spec, context.proxy, context.proxy_seed
    candidate.arch = space.decode(candidate.suggestion.params)
    candidate.arch_key = space.canonical_key(candidate.arch)
    if proxy.deterministic:
        candidate.pending = Deferred(proxy, candidate.arch, context.benchmark, seed)
        return candidate
    hit = context.store.cached_evaluation(context.key(candidate.arch_key))
    if hit is not None:
        log.debug("cache hit: %s on %s (proxy seed %d)", proxy.name, candidate.arch_key, seed)
        candidate.pending, candidate.cached = Done(Evaluation(**hit)), True
    elif context.evaluator is None or spec.parallel == 1:
        candidate.pending = Deferred(proxy, candidate.arch, context.benchmark, seed)
    else:
        job = Job(
            spec.proxy,
            spec.proxy_settings,
            candidate.arch,
            spec.benchmark,
            spec.benchmark_settings,
            seed,
        )
        candidate.pending = context.evaluator.submit(job)
    return candidate


def _row(
    context: _EvalContext,
    space: Any,
    candidate: _Candidate,
    ev: Evaluation,
    truth: float | None,
    wall: float,
    best: _Incumbent,
) -> dict[str, Any]:
    """The trial as stored, the incumbent updated with it."""
    arch = space.format(candidate.arch)
    best.offer(ev.loss, ev.score, truth, arch)
    best.cum_wall += wall
    best.cum_sim += ev.simulated_s
    return dict(
        run_id=context.run_id,
        number=candidate.suggestion.number,
        params=candidate.suggestion.params,
        arch=arch,
        arch_key=candidate.arch_key,
        status=ev.status,
        score=ev.score,
        direction=ev.direction,
        truth=truth,
        **_best_columns(best, context.optimum),
        wall_s=wall,
        simulated_s=ev.simulated_s,
        labels_used=ev.labels_used,
        cached=candidate.cached,
    )


@dataclass
class _Replayed:
    """Where replay leaves a run: trials told, suggestions asked, and those still open."""

    told: int
    asked: int
    outstanding: list[Any]


def _replay(spec: RunSpec, store: Store, strategy: Any, best: _Incumbent) -> _Replayed:
    """Feed the stored trials to the freshly seeded strategy, asking ahead as the search did
    (k open before each tell); each must be proposed exactly as stored."""
    done = store.trials(spec.run_id)
    open_: deque[Any] = deque()
    asked = 0
    for row in done:
        while len(open_) < spec.parallel and (spec.trials is None or asked < spec.trials):
            open_.append(strategy.ask())
            asked += 1
        suggestion = open_.popleft()
        if suggestion.params != row["params"] or suggestion.number != row["number"]:
            raise HarnessError(_replay_mismatch(store, spec.run_id, row, suggestion.params))
        loss = _loss(row["status"], row["score"], row["direction"])
        strategy.tell(suggestion.number, loss)
        best.offer(loss, row["score"], row["truth"], row["arch"])
        best.cum_wall, best.cum_sim = row["cum_wall_s"], row["cum_simulated_s"]
    return _Replayed(len(done), asked, list(open_))


def _best_columns(best: _Incumbent, optimum: float | None) -> dict[str, Any]:
    return dict(
        best_score=best.score,
        best_arch=best.arch,
        best_truth=best.truth,
        regret=_regret(optimum, best.truth),
        cum_wall_s=best.cum_wall,
        cum_simulated_s=best.cum_sim,
    )


def _replay_mismatch(store: Store, run_id: str, row: dict[str, Any], params: Any) -> str:
    """One line: the first stored trial this environment does not propose again, and how this
    environment differs from the one that stored it (same code and libraries: the run id says
    so; what is left is the CPU's kernels)."""
    runs = store.runs([run_id])
    recorded = runs[0]["manifest"].get("environment") if runs else None
    here = environment(with_torch=False)
    diff = "; ".join(differences(recorded, here)) if recorded else "no environment recorded"
    changed = {k: (row["params"].get(k), v) for k, v in params.items() if row["params"].get(k) != v}
    return (
        f"run {run_id} does not replay here: stored trial {row['number']} has "
        f"{', '.join(f'{k}={a}' for k, (a, _) in changed.items()) or row['params']} but this "
        f"environment proposes {', '.join(f'{k}={b}' for k, (_, b) in changed.items()) or params}"
        f" (environments: {diff or 'no difference found'}); resume it on a host like the one "
        "that started it, or use a fresh --storage"
    )


def _regret(optimum: float | None, truth: float | None) -> float | None:
    """Regret needs both a known optimum and the incumbent's truth (a table); else None."""
    if optimum is None or truth is None:
        return None
    return optimum - truth


def _loss(status: str, score: float | None, direction: str) -> float | None:
    if status != "ok" or score is None or not math.isfinite(score):
        return None
    return score if direction == "minimize" else -score


def cached_evaluate(
    store: Store,
    proxy: Any,
    settings_json: str,
    version: str,
    arch: Any,
    arch_key: str,
    benchmark: Any,
    seed: int,
) -> tuple[Evaluation, bool]:
    """Evaluate through the store's cache, keyed by (proxy, settings, canonical arch, seed, code
    version); returns (evaluation, served from cache). Table lookups need no cache."""
    if proxy.deterministic:
        return proxy.evaluate(arch, benchmark, seed), False
    key = evaluation_key(proxy.name, settings_json, arch_key, seed, version)
    hit = store.cached_evaluation(key)
    if hit is not None:
        log.debug("cache hit: %s on %s (proxy seed %d)", proxy.name, arch_key, seed)
        return Evaluation(**hit), True
    ev = proxy.evaluate(arch, benchmark, seed)
    store.cache_evaluation(key, proxy.name, settings_json, arch_key, seed, ev.to_dict(), version)
    return ev, False
