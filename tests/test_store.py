from __future__ import annotations

import sqlite3

import pytest

from harness import HarnessError
from harness.store import SCHEMA_VERSION, open_store


def test_new_store_has_schema_and_reopens(store_url):
    store = open_store(store_url)
    store.start_run("r1", _fields(), {"benchmark": {}})
    store.close()
    again = open_store(store_url, create=False)
    assert again.run_status("r1") == "running"
    again.finish_run("r1")
    assert again.run_status("r1") == "done"


def _fields():
    return dict(method="m", benchmark="b", proxy="p", strategy="s", repetition=0, seed=1)


def test_missing_store_without_create(tmp_path):
    with pytest.raises(HarnessError, match="no store"):
        open_store(f"sqlite:///{tmp_path / 'absent.db'}", create=False)
    assert not (tmp_path / "absent.db").exists()


def test_bad_url_is_one_clear_error():
    with pytest.raises(HarnessError, match="not a database URL"):
        open_store("results/harness.db")
    with pytest.raises(HarnessError, match="cannot use storage"):
        open_store("nosuchdb://x/y")


def test_garbage_file_is_rejected_and_left_untouched(tmp_path):
    path = tmp_path / "junk.db"
    payload = b"this is not a database, it is important notes\n" * 200
    path.write_bytes(payload)
    with pytest.raises(HarnessError, match="cannot read storage"):
        open_store(f"sqlite:///{path}")
    assert path.read_bytes() == payload


def test_foreign_sqlite_database_is_rejected_and_left_untouched(tmp_path):
    path = tmp_path / "other.db"
    con = sqlite3.connect(path)
    con.execute("create table people (name text)")
    con.execute("insert into people values ('ada')")
    con.commit()
    con.close()
    before = path.read_bytes()
    with pytest.raises(HarnessError, match="without a harness schema"):
        open_store(f"sqlite:///{path}")
    assert path.read_bytes() == before


def test_wrong_schema_version_is_rejected(store_url, tmp_path):
    open_store(store_url).close()
    con = sqlite3.connect(tmp_path / "harness.db")
    con.execute("update harness_meta set value = ? where key = 'schema_version'", ("99",))
    con.execute("drop table alembic_version")  # a store from before migrations, but newer
    con.commit()
    con.close()
    with pytest.raises(
        HarnessError, match=f"version 99, newer than this harness's {SCHEMA_VERSION}"
    ):
        open_store(store_url)
    con = sqlite3.connect(tmp_path / "harness.db")
    con.execute("create table alembic_version (version_num varchar(32) not null)")
    con.execute("insert into alembic_version values ('9999')")
    con.commit()
    con.close()
    with pytest.raises(HarnessError, match="revision '9999', unknown to this harness"):
        open_store(store_url)


def test_evaluation_cache_roundtrip_and_duplicate_insert(store_url):
    store = open_store(store_url)
    assert store.cached_evaluation("k") is None
    store.cache_evaluation("k", "contrastive", "{}", "key", 3, {"score": 1.5})
    store.cache_evaluation("k", "contrastive", "{}", "key", 3, {"score": 9.9})  # first one wins
    assert store.cached_evaluation("k") == {"score": 1.5}
