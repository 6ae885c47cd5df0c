"""A runaway policy is stopped at `policies.timeout`, in a forked child and in a spawned interpreter, and
nothing is left running; `policies:` takes a list of paths or {paths, timeout}."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from guardrail.adapters.rego import load_policies
from guardrail.config import load_settings
from guardrail.core.errors import ConfigError, PolicyError

HAS_FORK = hasattr(os, "fork")
EMPTY_PLAN = b'{"format_version": "1.2", "resource_changes": []}'

# Ten billion iterations over two small ranges: hours of work for any engine, and little memory.
LOOPING = """package main
import rego.v1
deny contains msg if {
  some i in numbers.range(1, 100000)
  some j in numbers.range(1, 100000)
  i + j < 0
  msg := "never"
}
"""
QUICK = """package main
import rego.v1
warn contains "looked at the plan" if { input.format_version }
"""


def policy(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


@pytest.mark.skipif(not HAS_FORK, reason="os.fork is not available on this platform")
def test_a_looping_policy_in_a_forked_child_is_stopped_and_reaped(tmp_path: Path) -> None:
    engine = load_policies([policy(tmp_path, "loop.rego", LOOPING)], mode="fork", timeout=1.0)
    run = engine.submit(EMPTY_PLAN)
    pid = run._pid  # type: ignore[attr-defined]
    with pytest.raises(PolicyError, match=r"ran past policies.timeout \(1 s\).*main \(.*loop\.rego\)"):
        run.findings()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # killed and already reaped: no zombie, nothing still evaluating


def test_a_looping_policy_in_a_spawned_interpreter_is_stopped(tmp_path: Path) -> None:
    engine = load_policies([policy(tmp_path, "loop.rego", LOOPING)], mode="spawn", timeout=1.0)
    with pytest.raises(PolicyError, match=r"ran past policies.timeout.*loop\.rego"):
        engine.submit(EMPTY_PLAN).findings()


def test_a_threaded_process_still_gets_the_time_limit(tmp_path: Path) -> None:
    # The TUI runs threads, so it may not fork: the policies then run in a fresh interpreter, still bounded.
    engine = load_policies([policy(tmp_path, "loop.rego", LOOPING)], timeout=1.0)
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        with pytest.raises(PolicyError, match=r"ran past policies\.timeout"):
            engine.submit(EMPTY_PLAN).findings()
    finally:
        release.set()
        other.join()


@pytest.mark.parametrize("mode", ["fork", "spawn"])
def test_a_quick_policy_answers_the_same_in_every_child(tmp_path: Path, mode: str) -> None:
    path = policy(tmp_path, "quick.rego", QUICK)
    inline = load_policies([path], mode="inline").submit(EMPTY_PLAN).findings()
    assert [f.message for f in inline] == ["looked at the plan"]
    assert load_policies([path], mode=mode, timeout=60.0).submit(EMPTY_PLAN).findings() == inline  # type: ignore[arg-type]


def test_an_evaluation_error_in_a_spawned_interpreter_names_the_namespace(tmp_path: Path) -> None:
    failing = 'package main\nimport rego.v1\ndeny contains msg if { msg := sprintf("%d", [1 / 0]) }\n'
    engine = load_policies([policy(tmp_path, "bad.rego", failing)], mode="spawn", timeout=60.0)
    with pytest.raises(PolicyError, match=r"Rego evaluation failed in namespace main \(.*bad\.rego\)"):
        engine.submit(EMPTY_PLAN).findings()


def test_policies_take_a_list_or_paths_and_a_timeout(tmp_path: Path) -> None:
    config = tmp_path / "guardrail.yaml"
    config.write_text("policies: [rego/, more.rego]\n")
    listed = load_settings(config)
    assert listed.policy_paths() == [tmp_path / "rego/", tmp_path / "more.rego"]
    assert listed.policies.timeout.total_seconds() == 30  # the default

    config.write_text("policies:\n  paths: [rego/]\n  timeout: 2m\n")
    mapped = load_settings(config)
    assert mapped.policy_paths() == [tmp_path / "rego/"]
    assert mapped.policies.timeout.total_seconds() == 120
    config.write_text("policies: {paths: [rego/], timeout: 5}\n")
    assert load_settings(config).policies.timeout.total_seconds() == 5


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("policies:\n  paths: [a]\n  timeout: soon\n", r"guardrail.yaml:3: policies.timeout: .*duration 'soon'"),
        ("policies:\n  paths: [a]\n  timeout: 0\n", r"guardrail.yaml:3: policies.timeout: .*longer than zero"),
        ("policies:\n  paths: [a]\n  timout: 5s\n", r"guardrail.yaml:3: policies.timout: unknown key"),
        ("policies: rego/\n", r"guardrail.yaml:1: policies"),
    ],
)
def test_a_bad_policies_section_names_its_line(tmp_path: Path, text: str, expected: str) -> None:
    config = tmp_path / "guardrail.yaml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=expected):
        load_settings(config)
