"""Fixtures shared by every test: where the repository and the real-world corpus are, and terraform."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from tests.store.postgres import PostgresServer, find_pg_bin, start_server

REPO_ROOT = Path(__file__).resolve().parents[1]
DIALECTS = ["sqlite", "postgresql"]
# Read in place, never copied into the project (see its README for where the plans come from).
CORPUS_DIR = REPO_ROOT.parent / "shared" / "corpus"
PLANS_DIR = CORPUS_DIR / "terraform-plans"


def corpus_plans() -> list[Path]:
    """Every plan file of the corpus, sorted; empty when the corpus is absent."""
    if not PLANS_DIR.is_dir():
        return []
    return sorted(p for p in PLANS_DIR.rglob("*") if p.is_file() and p.suffix == ".json")


def corpus_params() -> list[object]:
    """corpus_plans() as pytest parameters named after the files, or one skipped parameter when absent."""
    plans = corpus_plans()
    if not plans:
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"real-world corpus not found at {PLANS_DIR}"))]
    return [pytest.param(p, id=f"{p.parent.name}/{p.name}") for p in plans]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The real-world corpus (`<repo>/../shared/corpus`); skips the test when it is absent."""
    if not CORPUS_DIR.is_dir():
        pytest.skip(f"real-world corpus not found at {CORPUS_DIR}")
    return CORPUS_DIR


def find_terraform() -> str:
    """The terraform binary ($GUARDRAIL_TERRAFORM or on PATH); skips, or fails in CI where it is required."""
    wanted = os.environ.get("GUARDRAIL_TERRAFORM") or "terraform"
    found = shutil.which(wanted)
    if found is None:
        reason = f"terraform CLI not found ({wanted!r} is not on PATH; set GUARDRAIL_TERRAFORM to its path)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: CI must run the terraform tests")
        pytest.skip(reason)
    return found


@pytest.fixture(scope="session")
def terraform_bin() -> str:
    """Absolute path of the terraform binary (see find_terraform)."""
    return find_terraform()


def terraform_data_config(resources: Mapping[str, str], extra: str = "") -> str:
    """HCL for `terraform_data` resources (built in: planning them needs no provider download).

    `resources` maps a resource name to the body of its block, e.g. {"web": 'input = "v1"'}.
    """
    blocks = [f'resource "terraform_data" "{name}" {{\n  {body}\n}}\n' for name, body in resources.items()]
    return extra + "\n" + "\n".join(blocks)


def write_config(directory: Path, resources: Mapping[str, str], extra: str = "") -> Path:
    """Write main.tf with terraform_data_config() into `directory`; returns the directory."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "main.tf").write_text(terraform_data_config(resources, extra))
    return directory


@pytest.fixture
def terraform_data_dir(tmp_path: Path) -> Callable[..., Path]:
    """A function writing a terraform_data configuration into this test's tmp_path (see write_config)."""

    def write(resources: Mapping[str, str], extra: str = "") -> Path:
        return write_config(tmp_path, resources, extra)

    return write


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One server per xdist worker (session scope is per worker), stopped at the end."""
    if find_pg_bin() is None:
        reason = "PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or in /usr/lib/postgresql"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: CI must run the PostgreSQL tests")
        pytest.skip(reason)
    server = start_server()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture(scope="session")
def store_templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Stores made once with `guardrail store init`'s code, that each test's store is copied from: a store
    is never created by merely opening it."""
    return {"sqlite": initialised_sqlite(tmp_path_factory.mktemp("template") / "guardrail.db")}


def initialised_sqlite(path: Path) -> Path:
    """A new SQLite store at `path`, as `guardrail store init` makes it."""
    from guardrail.adapters.store import initialise_store

    initialise_store(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> str:
    """The name of a database holding a new store, that each test's database is copied from."""
    from guardrail.adapters.store import initialise_store

    url = postgres_server.new_database()
    initialise_store(url)  # disposes of its connections: the template must have none to be copied
    return url.rsplit("/", 1)[1]


@pytest.fixture(params=DIALECTS)
def blank_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a store of each dialect could be, with nothing there yet: a SQLite path in tmp_path, an empty
    database on the test server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / '.guardrail' / 'guardrail.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.new_database()


@pytest.fixture(params=DIALECTS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path, store_templates: dict[str, Path]) -> str:
    """A new, empty store of each dialect, initialised: a SQLite file in tmp_path, a database on the test
    server."""
    if request.param == "sqlite":
        path = tmp_path / ".guardrail" / "guardrail.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(store_templates["sqlite"], path)
        return f"sqlite:///{path}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.new_database(template=request.getfixturevalue("postgres_template"))
