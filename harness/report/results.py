"""Everything a report reads from a store: the trials frame, the cell evaluations (`harness
evaluate`) and the run manifests, with the scale of every trained number labelled.

A store may hold only evaluations (`harness evaluate --arch ...`): they are results too. Each
evaluation carries `scale`: "full" when it ran its protocol's published setup (the `paper`
profile, nothing shortened), else what it was, e.g. "smoke: 1 epoch, C=4, layers=3, 256
train images". A run's report metric follows the protocol it was actually trained under.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from harness import HarnessError
from harness.report.frame import experiment_key, mark_experiments

if TYPE_CHECKING:
    from harness.store.base import Store

FULL = "full"

#: the evaluation table's columns (one row per trained cell); `curve` rides along in exports
EVALUATION_COLUMNS: tuple[str, ...] = (
    "benchmark",
    "arch",
    "protocol",
    "profile",
    "scale",
    "test_acc",
    "params",
    "wall_s",
    "device",
    "epochs",
    "status",
    "run_id",
    "eval_id",
)

#: settings whose change from the published setup makes a result "another scale"
_SCALE_KEYS = ("epochs", "C", "layers", "N", "train_images", "batch_size")


@dataclass(frozen=True)
class Results:
    """The report's whole input. `trials` may be empty when the store holds only evaluations."""

    trials: pd.DataFrame
    evaluations: pd.DataFrame = field(default_factory=lambda: empty_evaluations())
    #: one manifest per experiment (every run's: `harness export --manifests`)
    manifests: list[dict[str, Any]] = field(default_factory=list)
    source: str = "the frame"
    #: what is kept of every run's manifest (None for a frame given directly)
    runs: RunIndex | None = None

    @property
    def empty(self) -> bool:
        return len(self.trials) == 0 and len(self.evaluations) == 0


def empty_evaluations() -> pd.DataFrame:
    return pd.DataFrame(columns=[*EVALUATION_COLUMNS, "curve"])


def _published(protocol: str, space: str | None) -> dict[str, Any]:
    """The protocol's `paper` settings (its native scale included), or {} if unknown."""
    from harness.evaluate.protocols import PROTOCOLS

    try:
        proto = PROTOCOLS.get(protocol)
    except Exception:  # a protocol from a plugin that is not loaded: nothing to compare with
        return {}
    out = {"epochs": 1, **proto.profiles["paper"]}
    if space is None or space in proto.native_spaces:
        out.update(proto.scales["paper"])
    return out


def scale_label(protocol: str, settings: dict[str, Any], space: str | None = None) -> str:
    """ "full" for the published setup, else the profile and what differs from it."""
    paper = _published(protocol, space)
    profile = str(settings.get("profile", "?"))
    diffs = []
    for key in _SCALE_KEYS:
        if key in settings and key in paper and settings[key] != paper[key]:
            v = settings[key]
            diffs.append(f"{v} epoch{'s' if v != 1 else ''}" if key == "epochs" else f"{key}={v}")
    if settings.get("train_images") is not None:
        diffs.append(f"{settings['train_images']} train images")
    if settings.get("data") == "sample":
        diffs.append("shipped sample")
    if profile == "paper" and not diffs:
        return FULL
    return f"{profile}: {', '.join(diffs)}" if diffs else profile


def evaluations_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Store rows of `cell_evaluations` -> one labelled row per trained cell (curve kept)."""
    from harness.benchmarks import BENCHMARKS

    out = []
    for r in rows:
        settings = r.get("settings") or {}
        try:
            space = BENCHMARKS.get(str(r["benchmark"])).space
        except Exception:
            space = None
        out.append(
            {
                "benchmark": r["benchmark"],
                "arch": r["arch"],
                "protocol": r["protocol"],
                "profile": settings.get("profile"),
                "scale": scale_label(str(r["protocol"]), settings, space),
                "test_acc": r.get("test_acc"),
                "params": r.get("params"),
                "wall_s": r.get("wall_s"),
                "device": r.get("device"),
                "epochs": settings.get("epochs"),
                "status": r.get("status"),
                "run_id": r.get("run_id"),
                "eval_id": r.get("eval_id"),
                "curve": r.get("curve") or [],
                "manifest": r.get("manifest"),
                "created": r.get("created"),
            }
        )
    if not out:
        return empty_evaluations()
    return pd.DataFrame(out).sort_values("created", kind="stable").reset_index(drop=True)


#: the columns of `harness export --curves` (the trainer's per-epoch record, keyed by cell):
#: an empty export still has its header
CURVE_COLUMNS = (
    "eval_id", "benchmark", "scale", "epoch", "lr", "drop_path", "train_loss", "train_acc",
    "test_acc", "epoch_s", "images_per_s", "checkpoint_s",
)  # fmt: skip


def evaluation_curves(evaluations: pd.DataFrame) -> pd.DataFrame:
    """Long format: one row per (evaluation, epoch) with the per-epoch record's fields."""
    rows = [
        {"eval_id": e.eval_id, "benchmark": e.benchmark, "scale": e.scale, **rec}
        for e in evaluations.itertuples()
        for rec in (e.curve or [])
    ]
    return pd.DataFrame(rows) if rows else pd.DataFrame(columns=list(CURVE_COLUMNS))


def protocol_metric(protocol: str, scale: str, fallback: str) -> str:
    """The report metric's description for a cell trained under `protocol` at `scale`."""
    if scale == FULL:
        return fallback
    return f"test accuracy after the {protocol} protocol at reduced scale ({scale}) (%)"


#: whole manifests a report keeps: one per experiment, up to this many (the page shows them)
KEPT_MANIFESTS = 200


@dataclass
class RunIndex:
    """What a report keeps of each run's manifest (a manifest is several KB; a store may hold
    tens of thousands): creation time, search proxy profile, experiment, master seed, and one
    whole manifest per experiment (the page shows those; `harness export --manifests` all)."""

    created: dict[str, float] = field(default_factory=dict)
    profiles: dict[str, Any] = field(default_factory=dict)
    experiments: dict[str, str] = field(default_factory=dict)
    master_seeds: set[str] = field(default_factory=set)
    manifests: list[dict[str, Any]] = field(default_factory=list)
    #: experiment key -> its run count and repetitions (for the page's manifest labels)
    members: dict[str, list[int]] = field(default_factory=dict)

    def add(self, run: dict[str, Any]) -> None:
        run_id, manifest = str(run["run_id"]), run.get("manifest") or {}
        config = manifest.get("config")
        self.created[run_id] = float(run["created"])
        self.profiles[run_id] = ((config or {}).get("proxy_settings") or {}).get("profile")
        self.master_seeds.add(str((config or {}).get("master_seed")))
        key = experiment_key(config) if isinstance(config, dict) else f"run:{run_id}"
        if isinstance(config, dict):
            self.experiments[run_id] = key
        if key not in self.members and len(self.manifests) < KEPT_MANIFESTS:
            self.manifests.append({"run_id": run_id, **manifest})
        self.members.setdefault(key, []).append(int((config or {}).get("repetition", -1)))

    def shown(self) -> list[str]:
        """The run ids whose manifests the index keeps."""
        return [str(m["run_id"]) for m in self.manifests]

    @property
    def n_experiments(self) -> int:
        return len(self.members)


def run_index(runs: Iterable[dict[str, Any]]) -> RunIndex:
    index = RunIndex()
    for run in runs:
        index.add(run)
    return index


def attach_evaluations(
    trials: pd.DataFrame, evaluations: pd.DataFrame, runs: list[dict[str, Any]] | RunIndex
) -> pd.DataFrame:
    """The trials frame with each run's trained result chosen and labelled.

    Per run, the evaluation that counts is its latest finished one at full scale, else its
    latest finished one at any scale (a smoke number never hides a full one). Adds
    `evaluated_truth`, `evaluated_protocol`, `evaluated_scale`, `run_created` and
    `proxy_profile` (the search proxy's profile: smoke, quick, paper; None for lookups); a run whose
    report metric is trained at reduced scale gets that protocol and scale in `report_metric`.
    Each run's experiment (its spec less the seed index) is recorded for `one_identity`.
    """
    if len(trials) == 0:
        return trials
    index = runs if isinstance(runs, RunIndex) else run_index(runs)
    t = mark_experiments(trials.copy(), index.experiments)
    t["run_created"] = t["run_id"].map(index.created)
    t["proxy_profile"] = t["run_id"].map(index.profiles)
    done = evaluations[(evaluations["status"] == "done") & evaluations["test_acc"].notna()]
    done = done[done["run_id"].notna()]
    chosen: dict[str, Any] = {}
    for e in (
        done.assign(full=done["scale"].eq(FULL)).sort_values(["full"], kind="stable").itertuples()
    ):
        chosen[str(e.run_id)] = e  # later rows win: full after reduced, newer after older
    t["evaluated_truth"] = t["run_id"].map(lambda r: getattr(chosen.get(r), "test_acc", None))
    t["evaluated_protocol"] = t["run_id"].map(lambda r: getattr(chosen.get(r), "protocol", None))
    t["evaluated_scale"] = t["run_id"].map(lambda r: getattr(chosen.get(r), "scale", None))
    trained = t["best_truth"].isna() & t["evaluated_truth"].notna()
    t.loc[trained, "report_metric"] = [
        protocol_metric(str(p), str(s), str(m))
        for p, s, m in zip(
            t.loc[trained, "evaluated_protocol"],
            t.loc[trained, "evaluated_scale"],
            t.loc[trained, "report_metric"],
        )
    ]
    return t


def read_store(
    store: Store, run_ids: list[str] | None = None, *, incumbents: bool = True
) -> Results:
    """Trials (with their evaluations attached), evaluations and one manifest per experiment.

    `incumbents` (the default, what reports read): each run's incumbent rows and aggregates
    only (`Store.trials_frame`), so memory follows the runs, not the trials; False reads every
    trial row (`harness.trials()`, exports)."""
    index = run_index(store.iter_runs(run_ids, keys=("config",)))
    shown = {str(r["run_id"]): r["manifest"] for r in store.iter_runs(list(index.shown()))}
    index.manifests = [{"run_id": m["run_id"], **shown[m["run_id"]]} for m in index.manifests]
    evaluations = evaluations_frame(store.cell_evaluations())
    if run_ids is not None:
        keep = evaluations["run_id"].isin(run_ids) | evaluations["run_id"].isna()
        evaluations = evaluations[keep].reset_index(drop=True)
    trials = store.trials_frame(run_ids, incumbents=incumbents)
    trials = attach_evaluations(trials, evaluations, index) if len(trials) else pd.DataFrame()
    return Results(trials, evaluations, index.manifests, store.url, index)


def load(storage: str, run_ids: list[str] | None = None) -> Results:
    """Open the store read-only and read everything a report needs."""
    from harness.store import open_store

    store = open_store(storage, create=False)
    try:
        results = read_store(store, run_ids)
    finally:
        store.close()
    return results


def results_of(source: str | pd.DataFrame | Results) -> Results:
    """A storage URL, a trials frame or Results -> Results; nothing at all is one error line."""
    if isinstance(source, Results):
        results = source
    elif isinstance(source, str):
        results = load(source)
    elif isinstance(source, pd.DataFrame):
        from harness.report.frame import check_trials

        results = Results(check_trials(source) if len(source) else source)
    else:
        raise HarnessError(f"cannot report on {type(source).__name__}: give a URL or a frame")
    if results.empty:
        raise HarnessError(
            f"nothing to report in {results.source}: no trials and no evaluations "
            "(run `harness run` or `harness evaluate` first)"
        )
    return results
