"""`--output FILE`: a new or regular file is replaced atomically with the usual permissions; a symlink is
written through to its target; a FIFO or a terminal is written to; anything else is refused (exit 3)."""

from __future__ import annotations

import os
import socket
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from guardrail.cli.output import write_atomically
from guardrail.core.errors import BadInputError
from tests.cli.conftest import Result

REPORT = '{"verdict": "allow"}\n'


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_file_gets_the_permissions_the_umask_allows(tmp_path: Path, umask_022: None) -> None:
    target = tmp_path / "report.json"
    write_atomically(target, REPORT)
    assert target.read_text() == REPORT
    assert _mode(target) == 0o644
    assert sorted(tmp_path.iterdir()) == [target]


def test_a_new_file_follows_a_stricter_umask(tmp_path: Path) -> None:
    previous = os.umask(0o077)
    try:
        write_atomically(tmp_path / "report.json", REPORT)
    finally:
        os.umask(previous)
    assert _mode(tmp_path / "report.json") == 0o600


def test_a_regular_file_is_replaced_and_keeps_its_permissions(tmp_path: Path, umask_022: None) -> None:
    target = tmp_path / "report.json"
    target.write_text("old report, longer than the new one\n")
    target.chmod(0o640)
    write_atomically(target, REPORT)
    assert target.read_text() == REPORT
    assert _mode(target) == 0o640
    assert sorted(tmp_path.iterdir()) == [target]


def test_a_symlink_is_written_through_to_its_target_atomically(tmp_path: Path, umask_022: None) -> None:
    (tmp_path / "reports").mkdir()
    target = tmp_path / "reports" / "latest.json"
    target.write_text("old")
    target.chmod(0o664)
    link = tmp_path / "report.json"
    link.symlink_to(Path("reports") / "latest.json")
    write_atomically(link, REPORT)
    assert link.is_symlink(), "the link is kept"
    assert os.readlink(link) == str(Path("reports") / "latest.json")
    assert target.read_text() == REPORT
    assert _mode(target) == 0o664
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["latest.json", "report.json", "reports"]


def test_a_dangling_symlink_creates_its_target(tmp_path: Path, umask_022: None) -> None:
    link = tmp_path / "report.json"
    link.symlink_to(tmp_path / "made.json")
    write_atomically(link, REPORT)
    assert link.is_symlink()
    assert (tmp_path / "made.json").read_text() == REPORT
    assert _mode(tmp_path / "made.json") == 0o644


def test_a_fifo_is_written_to_and_stays_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "report.pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def read() -> None:
        with fifo.open("rb") as reader:  # blocks until the writer opens its end
            received.append(reader.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    write_atomically(fifo, REPORT)
    reader.join(timeout=30)
    assert received == [REPORT.encode()]
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert sorted(tmp_path.iterdir()) == [fifo]


def test_a_terminal_device_is_written_to(tmp_path: Path) -> None:
    controller, terminal = os.openpty()
    try:
        device = Path(os.ttyname(terminal))
        write_atomically(device, "verdict: allow\n")
        assert stat.S_ISCHR(device.stat().st_mode)
        assert os.read(controller, 1024).replace(b"\r\n", b"\n") == b"verdict: allow\n"
    finally:
        os.close(terminal)
        os.close(controller)


def test_a_symlink_to_a_terminal_is_written_to_the_terminal(tmp_path: Path) -> None:
    controller, terminal = os.openpty()
    try:
        link = tmp_path / "stdout"
        link.symlink_to(os.ttyname(terminal))
        write_atomically(link, "x\n")
        assert link.is_symlink()
        assert os.read(controller, 1024).replace(b"\r\n", b"\n") == b"x\n"
    finally:
        os.close(terminal)
        os.close(controller)


def test_a_directory_or_a_socket_is_refused(tmp_path: Path) -> None:
    (tmp_path / "report.d").mkdir()
    with pytest.raises(BadInputError, match=r"report\.d: a directory"):
        write_atomically(tmp_path / "report.d", REPORT)
    listening = socket.socket(socket.AF_UNIX)
    try:
        listening.bind(str(tmp_path / "s"))
        with pytest.raises(BadInputError, match=r"s: a socket"):
            write_atomically(tmp_path / "s", REPORT)
    finally:
        listening.close()
    assert stat.S_ISSOCK((tmp_path / "s").stat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.d", "s"]


@pytest.mark.skipif(os.geteuid() != 0, reason="making a block device node needs root")
def test_a_block_device_is_refused(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    os.mknod(disk, stat.S_IFBLK | 0o600, os.makedev(7, 0))
    with pytest.raises(BadInputError, match=r"disk: a block device"):
        write_atomically(disk, REPORT)
    assert stat.S_ISBLK(disk.lstat().st_mode)


def test_the_cli_refuses_a_socket_with_exit_3(cli: Callable[..., Result], examples: Path, tmp_path: Path) -> None:
    listening = socket.socket(socket.AF_UNIX)
    try:
        listening.bind(str(tmp_path / "s"))
        result = cli("check", examples / "allowed" / "plan.json", "--output", tmp_path / "s")
    finally:
        listening.close()
    assert result.code == 3
    assert result.stderr.strip() == f"guardrail: {tmp_path / 's'}: a socket: cannot write a report to it"
