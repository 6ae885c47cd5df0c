"""A throwaway PostgreSQL server for the store tests: initdb + pg_ctl on 127.0.0.1, a free port, a temp dir.

PostgreSQL refuses to run as root, so as root the server runs as an unprivileged user through runuser.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

TEST_USER = "guardrail-test"


def find_pg_bin() -> Path | None:
    """The folder of initdb and pg_ctl: on PATH, else the newest Debian/Ubuntu server package."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl", path=str(Path(found).parent)):
        return Path(found).parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    return None


def _unprivileged_user() -> str:
    try:
        pwd.getpwnam(TEST_USER)
        return TEST_USER
    except KeyError:
        pass
    useradd = shutil.which("useradd")
    if useradd:
        made = subprocess.run(
            [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", TEST_USER],
            capture_output=True,
            check=False,
        )
        # Another xdist worker may have created it at the same moment: what matters is that it exists.
        try:
            pwd.getpwnam(TEST_USER)
            return TEST_USER
        except KeyError:
            del made
    return "nobody"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresServer:
    """A running server; `new_database()` gives each test its own database."""

    bin_dir: Path
    root: Path
    port: int
    user: str | None  # the OS user it runs as when the tests run as root

    @property
    def data(self) -> Path:
        return self.root / "data"

    def _run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = list(argv)
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=check, timeout=120)

    def start(self) -> None:
        self._run(
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c max_connections=200"
        self._run(
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-t",
            "60",
            "-o",
            options,
            "start",
        )

    def stop(self) -> None:
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self, template: str | None = None) -> str:
        """A new database, empty or a copy of `template` (a database nobody is connected to)."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        copy = f' TEMPLATE "{template}"' if template else ""
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"{copy}')
        return self.url(name)


def start_server() -> PostgresServer:
    """Start a server, retrying on another port if a concurrent worker took the one picked."""
    bin_dir = find_pg_bin()
    assert bin_dir is not None
    user = _unprivileged_user() if os.geteuid() == 0 else None
    last_error: subprocess.CalledProcessError | None = None
    for _attempt in range(3):
        # Under /tmp rather than pytest's tmp_path: that lives under a root-only folder the server's
        # user could not enter.
        root = Path(tempfile.mkdtemp(prefix="guardrail-pg-"))
        if user is not None:
            entry = pwd.getpwnam(user)
            os.chown(root, entry.pw_uid, entry.pw_gid)
        server = PostgresServer(bin_dir, root, _free_port(), user)
        try:
            server.start()
            return server
        except subprocess.CalledProcessError as error:
            last_error = error
            server.stop()
            shutil.rmtree(root, ignore_errors=True)
            time.sleep(0.2)
    assert last_error is not None
    raise RuntimeError(f"PostgreSQL did not start: {last_error.stderr or last_error.stdout}") from last_error
