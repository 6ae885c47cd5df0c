"""Connecting to the store: URLs, engines tuned per dialect, serialised writes, errors and migrations.

Writes are serialised on both dialects so the audit chain cannot fork: SQLite takes the database write
lock at BEGIN (BEGIN IMMEDIATE), PostgreSQL a transaction-level advisory lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc, make_url
from sqlalchemy.engine import URL, Connection, Engine

from guardrail.core.errors import StoreError, StoreMissingError

# The newest schema revision this version knows; tests check it is the head of migrations/versions.
SCHEMA_HEAD = "0005"
KNOWN_REVISIONS = frozenset({"0001", "0002", "0003", "0004", "0005"})
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Any fixed 64-bit number: every guardrail writer on a PostgreSQL database takes this one lock.
_PG_WRITE_LOCK = 0x67756172_64726C31
_WRITE = "guardrail_write"
_SQLITE_BUSY_SECONDS = 60.0
_PG_CONNECT_SECONDS = 10


def normalise_url(url: str, cwd: Path) -> URL:
    """The SQLAlchemy URL for a store URL: sqlite:///PATH (relative to `cwd`) or postgresql://...

    Raises StoreError for another scheme or an unparsable URL.
    """
    try:
        parsed = make_url(url)
    except (exc.ArgumentError, ValueError):
        raise StoreError(f"store URL {url!r}: not a URL (expected sqlite:///PATH or postgresql://...)") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise StoreError("store URL: SQLite needs a file path (sqlite:///PATH): a memory store keeps nothing")
        path = Path(parsed.database)
        return parsed.set(drivername="sqlite+pysqlite", database=str(path if path.is_absolute() else cwd / path))
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg")
    raise StoreError(f"store URL {describe(parsed)}: unsupported scheme {backend!r} (use sqlite or postgresql)")


def describe(url: URL) -> str:
    """The URL for messages: scheme without the driver, password masked."""
    return url.set(drivername=url.get_backend_name()).render_as_string(hide_password=True)


def create(url: URL, *, new: bool = False) -> Engine:
    """An engine for `url`, set up so that write transactions are serialised (see the module docstring).

    With `new`, a SQLite file's folder is created when missing. Raises StoreError when it cannot be, and
    StoreMissingError when, without `new`, the SQLite file does not exist (connecting would create it).
    """
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, new=new)
    engine = sa.create_engine(url, connect_args={"connect_timeout": _PG_CONNECT_SECONDS}, pool_pre_ping=True)

    @sa.event.listens_for(engine, "begin")
    def _serialise(conn: Connection) -> None:
        if conn.get_execution_options().get(_WRITE):
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _signed64(_PG_WRITE_LOCK)})

    return engine


def _sqlite_engine(url: URL, *, new: bool) -> Engine:
    path = Path(url.database or "")
    if not new and not path.exists():
        raise StoreMissingError(f"store {describe(url)}: no such store (the file does not exist)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(f"store {path}: cannot create its folder: {error.strerror or error}") from None
    engine = sa.create_engine(url, connect_args={"timeout": _SQLITE_BUSY_SECONDS}, poolclass=sa.pool.NullPool)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own transaction handling would issue a deferred BEGIN; we issue ours below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(_SQLITE_BUSY_SECONDS * 1000)}")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # IMMEDIATE takes the write lock up front: two writers never both read the same chain head.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")

    return engine


def _signed64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


@contextmanager
def translated(where: str) -> Iterator[None]:
    """Turn database failures into StoreError naming the store and the reason."""
    try:
        yield
    except exc.DBAPIError as error:
        raise StoreError(f"store {where}: {_reason(error)}") from None
    except exc.SQLAlchemyError as error:
        raise StoreError(f"store {where}: {error}") from None


def _reason(error: exc.DBAPIError) -> str:
    text = str(error.orig).strip() or type(error.orig).__name__
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else text


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A serialised write transaction: committed on success, rolled back on any error."""
    with engine.connect() as conn:
        conn.execution_options(**{_WRITE: True})
        with conn.begin():
            yield conn


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A read transaction that never blocks writers for longer than it lasts, and sees one state of the
    store throughout (records and the events behind them are compared within it): SQLite's read lock
    gives that, PostgreSQL needs REPEATABLE READ (its default lets each statement see newer commits)."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


def ensure_schema(engine: Engine, where: str, *, create: bool = False) -> str | None:
    """Upgrade the schema to SCHEMA_HEAD (and, with `create`, create it in an empty store), once, even
    with many processes starting together. Returns the revision found: None for a store created now.

    Raises StoreMissingError when the store holds no guardrail schema and `create` is false, StoreError
    when it is unreachable or corrupt, or was migrated by a newer guardrail.
    """
    with translated(where):
        with reading(engine) as conn:
            try:
                if _revision(conn, where) == SCHEMA_HEAD:
                    return SCHEMA_HEAD
            except StoreError:
                # Without the lock, another process's migration can commit between our catalog queries
                # (tables seen, version not yet): judge damage only under the write lock below.
                pass
        with writing(engine) as conn:
            # Re-read under the write lock: another process may have migrated meanwhile.
            found = _revision(conn, where)
            if found == SCHEMA_HEAD:
                return found
            if found is None and not create:
                raise StoreMissingError(f"store {where}: no such store (no guardrail schema in this database)")
            _upgrade(conn)
            return found


def _revision(conn: Connection, where: str) -> str | None:
    if not sa.inspect(conn).has_table("alembic_version"):
        if sa.inspect(conn).has_table("audit_events"):
            raise StoreError(f"store {where}: has guardrail tables but no schema version (damaged)")
        return None
    rows = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
    if len(rows) != 1:
        raise StoreError(f"store {where}: schema version table holds {len(rows)} rows (damaged)")
    revision = str(rows[0])
    if revision not in KNOWN_REVISIONS:
        raise StoreError(f"store {where}: schema revision {revision!r} is newer than this guardrail knows: upgrade it")
    return revision


def _upgrade(conn: Connection) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = conn
    command.upgrade(config, SCHEMA_HEAD)
