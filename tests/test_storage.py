"""Storage conformance: every test runs on an embedded SQLite file and on a real PostgreSQL
server (started by the `postgres_server` fixture in conftest.py), through the Store protocol."""

from __future__ import annotations

import json
import math
import sqlite3
import time

import pytest
import sqlalchemy as sa

from harness import HarnessError
from harness.store import SCHEMA_VERSION, Holder, open_store, schema_version
from harness.store.schema import HEAD


def _fields(rep: int = 0) -> dict:
    return dict(method="m", benchmark="b", proxy="p", strategy="s", repetition=rep, seed=1)


def _trial(run_id: str, number: int, score: float = 1.0) -> dict:
    return dict(
        run_id=run_id,
        number=number,
        params={"edge": number},
        arch=f"a{number}",
        arch_key=f"k{number}",
        status="ok",
        score=score,
        direction="maximize",
        truth=None if number % 2 else 90.0 + number,
        best_score=score,
        best_arch=f"a{number}",
        best_truth=None,
        regret=math.nan,  # stored as NULL on every backend
        wall_s=0.1,
        simulated_s=1.0,
        cum_wall_s=0.1 * (number + 1),
        cum_simulated_s=1.0 * (number + 1),
        labels_used=0,
        cached=False,
    )


@pytest.fixture
def store(storage_url):
    s = open_store(storage_url)
    yield s
    s.close()


def test_runs_are_created_once_and_keep_their_first_manifest(store, storage_url):
    store.start_run("r1", _fields(), {"benchmark": {}, "n": 1})
    store.start_run("r1", _fields(), {"benchmark": {}, "n": 2})  # idempotent, no error
    store.close()
    again = open_store(storage_url, create=False)
    (run,) = again.runs()
    assert run["manifest"]["n"] == 1 and run["status"] == "running"
    again.finish_run("r1")
    assert again.run_status("r1") == "done" and again.run_status("nope") is None
    again.close()


def test_trial_inserts_are_idempotent_and_never_abort_the_transaction(store):
    store.start_run("r1", _fields(), {"benchmark": {}})
    store.add_trial(_trial("r1", 0, score=5.0))
    # a batch holding a stored trial and a new one: the duplicate is skipped without aborting
    # the transaction (a plain INSERT would fail the whole batch on PostgreSQL)
    store.add_trials([_trial("r1", 0, score=-1.0), _trial("r1", 1, score=6.0)])
    rows = store.trials("r1")
    assert [r["number"] for r in rows] == [0, 1]
    assert rows[0]["score"] == 5.0  # first writer wins
    assert rows[0]["params"] == {"edge": 0} and rows[1]["truth"] is None
    assert rows[0]["regret"] is None
    assert store.count_trials(["r1", "other"]) == 2
    assert store.counts() == {"runs": 1, "trials": 2, "evaluations": 0, "cell_evaluations": 0}


def test_trials_frame_joins_runs_and_orders_trials(store):
    manifest = {
        "benchmark": {
            "search_metric": "s",
            "report_metric": "r",
            "optimum": 95.0,
            "space": "nb201",
            "truth_source": "table",
        }
    }
    for rep in (1, 0):
        store.start_run(f"r{rep}", _fields(rep), manifest)
        store.add_trials([_trial(f"r{rep}", n) for n in (2, 0, 1)])
    df = store.trials_frame()
    assert list(zip(df.repetition, df.number)) == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    assert df.cached.dtype == bool and not df.cached.any()
    assert (df.optimum == 95.0).all() and (df.space == "nb201").all()
    assert len(store.trials_frame(["r1"])) == 3


def test_evaluation_cache_first_writer_wins_and_records_the_code_version(store):
    assert store.cached_evaluation("k") is None
    store.cache_evaluation("k", "contrastive", "{}", "key", 3, {"score": 1.5}, version="v1")
    store.cache_evaluation("k", "contrastive", "{}", "key", 3, {"score": 9.9}, version="v1")
    assert store.cached_evaluation("k") == {"score": 1.5}
    assert store.counts()["evaluations"] == 1


def test_cell_evaluations_roundtrip(store):
    row = dict(
        eval_id="e1",
        run_id="r1",
        benchmark="b",
        arch="a",
        arch_key="k",
        protocol="p",
        settings={"epochs": 1},
        seed=0,
        manifest={"x": 1},
    )
    store.start_cell_evaluation(row)
    store.start_cell_evaluation(row)  # a rerun resumes it
    assert store.evaluated_truth(["r1"]) == {}
    store.finish_cell_evaluation("e1", "done", test_acc=91.5, curve=[{"epoch": 1}])
    (cell,) = store.cell_evaluations(["r1"])
    assert cell["settings"] == {"epochs": 1} and cell["curve"] == [{"epoch": 1}]
    assert store.evaluated_truth(["r1"]) == {"r1": (91.5, "p")}


def test_leases_exclude_other_owners_until_they_lapse(store):
    store.start_run("r1", _fields(), {"benchmark": {}})
    assert store.claim_run("r1", "A", 60) is None
    assert store.claim_run("r1", "A", 60) is None  # the owner may reclaim its own lease
    held = store.claim_run("r1", "B", 60)
    assert isinstance(held, Holder) and held.owner == "A" and held.expires > time.time()
    assert store.renew_lease("r1", "A", 60) and not store.renew_lease("r1", "B", 60)
    assert not store.take_over("r1", "B", "C", 60)  # compare and swap on the dead owner
    assert store.take_over("r1", "B", "A", 60)
    assert not store.renew_lease("r1", "A", 60)  # A has lost it and must stop
    store.release_run("r1", "B")
    assert store.claim_run("r1", "C", -1) is None  # C's lease has already lapsed...
    assert store.claim_run("r1", "D", 60) is None  # ...so D takes it
    store.finish_run("r1", "D")
    assert store.claim_run("r1", "E", 60) == Holder("done", None, None)
    assert store.claim_run("absent", "E", 60) == Holder("absent", None, None)


def _alembic(storage_url: str, revision: str, drop_alembic: bool = False) -> None:
    """A store exactly as schema `revision` left it (the migrations themselves build it)."""
    from alembic import command

    from harness.store.connect import _alembic_config, _engine, _parse

    engine = _engine(storage_url, _parse(storage_url))
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), revision)
        if drop_alembic:  # stores written before migrations existed carry no alembic table
            conn.exec_driver_sql("DROP TABLE alembic_version")
    engine.dispose()


@pytest.mark.parametrize("legacy", [False, True])
def test_old_stores_are_upgraded_and_keep_their_trials(storage_url, legacy):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from harness.store.connect import _engine, _parse
    from harness.store.schema import metadata

    _alembic(storage_url, "0001", drop_alembic=legacy)
    engine = _engine(storage_url, _parse(storage_url))
    with engine.begin() as conn:
        assert schema_version(conn, storage_url) == 1
        conn.exec_driver_sql(
            "INSERT INTO runs VALUES ('r1','m','b','p','s',0,1,'done',0,1,'{\"benchmark\": {}}')"
        )
        conn.exec_driver_sql(
            "INSERT INTO trials VALUES ('r1',0,'{}','a','k','ok',1.0,'maximize',90.0,1.0,'a',"
            "90.0,4.0,0.1,1.0,0.1,1.0,0,false,0)"
        )
    store = open_store(storage_url, create=False)
    assert store.trials("r1")[0]["truth"] == 90.0 and store.run_status("r1") == "done"
    with engine.connect() as conn:  # schema 4: the finished run's report head and summary
        head, summary = conn.exec_driver_sql("SELECT report_head, summary FROM runs").one()
    assert json.loads(head) == {"benchmark": {}}
    assert json.loads(summary) == {
        "kept": [0],
        "run_trials": 1,
        "run_labels_used": 0,
        "run_cached_share": 0.0,
    }
    store.add_trial(_trial("r1", 1))  # schema 2: truth may be NULL now
    assert store.claim_run("r1", "A", 60) == Holder("done", None, None)  # schema 3: leases
    store.close()
    with engine.connect() as conn:
        assert schema_version(conn, storage_url) == SCHEMA_VERSION
        # the migrated schema is the one a new store gets: no differences at all
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    engine.dispose()
    if storage_url.startswith("sqlite"):
        path = storage_url.removeprefix("sqlite:///")
        assert sqlite3.connect(f"{path}.v1.bak").execute("select count(*) from trials").fetchone()


def test_a_new_store_has_the_schema_the_migrations_build(storage_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from harness.store.connect import _engine, _parse
    from harness.store.schema import metadata

    open_store(storage_url).close()
    engine = _engine(storage_url, _parse(storage_url))
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == HEAD
    engine.dispose()


def test_newer_and_foreign_databases_are_refused_unchanged(storage_url):
    from harness.store.connect import _engine, _parse

    engine = _engine(storage_url, _parse(storage_url))
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE people (name TEXT)")
    with pytest.raises(HarnessError, match="without a harness schema"):
        open_store(storage_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE people")
    open_store(storage_url).close()
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0042'")
    with pytest.raises(HarnessError, match="revision '0042', unknown to this harness") as err:
        open_store(storage_url)
    assert "\n" not in str(err.value)
    with engine.connect() as conn:
        assert sa.inspect(conn).get_table_names()  # nothing dropped or rewritten
    engine.dispose()


def test_unreachable_server_is_one_line_without_the_password():
    url = "postgresql+psycopg://alice:s3cr3t-pw@127.0.0.1:1/results"
    with pytest.raises(HarnessError) as err:
        open_store(url)
    message = str(err.value)
    assert "s3cr3t-pw" not in message and "***" in message and "\n" not in message
    assert message.startswith("cannot read storage")
