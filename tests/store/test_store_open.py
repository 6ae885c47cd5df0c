"""Opening the store: default location, URL precedence, migrations, and failures that must stop the gate."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from guardrail.adapters.store import initialise_store, open_store
from guardrail.adapters.store.engine import MIGRATIONS_DIR, SCHEMA_HEAD
from guardrail.adapters.store.schema import metadata
from guardrail.core.audit import EventDraft
from guardrail.core.errors import BadInputError, StoreError, StoreMissingError
from guardrail.core.locks import new_lock
from guardrail.services import locks
from guardrail.services.store import BY_DEFAULT, BY_ENVIRONMENT, BY_OPTION, default_store_url, locate


def test_the_default_store_is_a_file_under_dot_guardrail_the_one_created_on_first_use(tmp_path: Path) -> None:
    location = locate(None, None, home=tmp_path, environ={})
    assert (location.url, location.is_default) == (default_store_url(tmp_path), True)
    assert not (tmp_path / ".guardrail").exists()
    store = open_store(location.url, cwd=tmp_path, create=location.is_default)
    store.close()
    assert (tmp_path / ".guardrail" / "guardrail.db").is_file()


def test_opening_never_creates_a_store(blank_store_url: str, tmp_path: Path) -> None:
    with pytest.raises(StoreMissingError, match="no such store"):
        open_store(blank_store_url, cwd=tmp_path)
    assert not (tmp_path / ".guardrail").exists()  # not even the SQLite file's folder
    where, created = initialise_store(blank_store_url, cwd=tmp_path)
    assert created
    open_store(blank_store_url, cwd=tmp_path).close()
    assert initialise_store(blank_store_url, cwd=tmp_path) == (where, False)  # again: nothing to do


def test_relative_sqlite_paths_are_relative_to_the_working_directory(tmp_path: Path) -> None:
    initialise_store("sqlite:///state/g.db", cwd=tmp_path)
    assert (tmp_path / "state" / "g.db").is_file()
    open_store("sqlite:///state/g.db", cwd=tmp_path).close()


def test_url_precedence_is_flag_then_environment_then_config() -> None:
    env = {"GUARDRAIL_STORE": "sqlite:///env.db"}
    flag = locate("sqlite:///flag.db", "sqlite:///cfg.db", home=Path("/w"), environ=env)
    assert (flag.url, flag.chosen_by, flag.is_default) == ("sqlite:///flag.db", BY_OPTION, False)
    from_env = locate(None, "sqlite:///cfg.db", home=Path("/w"), environ=env)
    assert (from_env.url, from_env.chosen_by) == ("sqlite:///env.db", BY_ENVIRONMENT)
    configured = locate(None, "sqlite:///cfg.db", home=Path("/w"), environ={"GUARDRAIL_STORE": " "})
    assert (configured.url, configured.is_default) == ("sqlite:///cfg.db", False)
    assert locate(None, None, home=Path("/w"), environ={}).chosen_by == BY_DEFAULT


@pytest.mark.parametrize("url", ["mysql://db/x", "sqlite://", "sqlite:///:memory:", "not a url at all"])
def test_unsupported_urls_are_bad_input(url: str, tmp_path: Path) -> None:
    with pytest.raises(StoreError) as refused:
        open_store(url, cwd=tmp_path)
    assert isinstance(refused.value, BadInputError)


def test_a_corrupt_sqlite_file_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "g.db"
    path.write_bytes(b"this is not a database\n" * 200)
    with pytest.raises(StoreError, match=r"g\.db: file is not a database"):
        open_store(f"sqlite:///{path}")


def test_an_unreachable_postgresql_is_a_store_error_without_the_password() -> None:
    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(StoreError, match="refused") as refused:
        open_store(f"postgresql://guard:s3cr3t-pw@127.0.0.1:{port}/guardrail")
    assert "s3cr3t-pw" not in str(refused.value)
    assert "***" in str(refused.value)


def test_migrations_create_exactly_the_schema_the_queries_use(store_url: str, tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    assert ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head() == SCHEMA_HEAD
    store = open_store(store_url, cwd=tmp_path)
    try:
        with store.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == SCHEMA_HEAD
    finally:
        store.close()
    open_store(store_url, cwd=tmp_path).close()  # a second open finds the schema current


def test_a_schema_from_a_newer_guardrail_is_refused(store_url: str, tmp_path: Path) -> None:
    store = open_store(store_url, cwd=tmp_path)
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    store.close()
    with pytest.raises(StoreError, match="newer than this guardrail knows"):
        open_store(store_url, cwd=tmp_path)


def test_a_damaged_store_fails_closed_for_locks(store_url: str, tmp_path: Path) -> None:
    store = open_store(store_url, cwd=tmp_path)
    now = datetime.now(UTC)
    store.add_lock(new_lock("lk-1", "a", "r", now, type_="t"), EventDraft("a", "lock", {}))
    with store.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE locks"))
    try:
        with pytest.raises(StoreError, match="locks"):
            locks.locks_rule(store, now)
        with store.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE audit_events"))
        with pytest.raises(StoreError):
            store.append(EventDraft("a", "note", {}))
    finally:
        store.close()


def test_an_unreadable_lock_record_fails_closed(store_url: str, tmp_path: Path) -> None:
    store = open_store(store_url, cwd=tmp_path)
    now = datetime.now(UTC)
    try:
        locks.add_lock(store, "a", now, reason="r", type_="t")
        with store.engine.begin() as conn:
            conn.execute(sa.text("UPDATE locks SET expires_at = 'someday'"))
        with pytest.raises(StoreError, match="unreadable record"):
            locks.locks_rule(store, now)
    finally:
        store.close()
