"""The Rego policy engine, against real regorus: syntax versions, rule kinds, namespaces, errors, the
forked evaluation and the real-world corpus."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from pathlib import Path

import pytest

from guardrail.adapters.rego import RegoPolicyEngine, enforcement_of, load_policies
from guardrail.adapters.rego.inputs import input_keys, prune
from guardrail.adapters.rego.loading import new_engine, syntax_trees
from guardrail.adapters.terraform.intake import read_plan_document
from guardrail.core.errors import BadInputError, PolicyError
from guardrail.core.verdict import Enforcement, Finding
from tests.conftest import REPO_ROOT, corpus_params

EXAMPLES = REPO_ROOT / "policies" / "examples"
MODES = ["fork", "inline"]
HAS_FORK = hasattr(os, "fork")


def plan(*changes: dict[str, object], **extra: object) -> bytes:
    """A minimal plan document: resource changes given as (address, type, actions, after)."""
    return json.dumps({"format_version": "1.2", "resource_changes": list(changes), **extra}).encode()


def change(address: str, type_: str, actions: list[str], after: dict[str, object] | None) -> dict[str, object]:
    return {"address": address, "mode": "managed", "type": type_, "change": {"actions": actions, "after": after}}


BUCKETS = plan(
    change("aws_s3_bucket.a", "aws_s3_bucket", ["create"], {"acl": "public-read"}),
    change("aws_s3_bucket.b", "aws_s3_bucket", ["create"], {"acl": "private"}),
    change("aws_s3_bucket.c", "aws_s3_bucket", ["delete"], None),
)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def run(paths: list[Path], document: bytes = BUCKETS, mode: str = "inline", **kwargs: object) -> list[Finding]:
    if mode == "fork" and not HAS_FORK:
        pytest.skip("os.fork is not available on this platform")
    engine = load_policies(paths, mode=mode, **kwargs)  # type: ignore[arg-type]
    return engine.submit(document).findings()


V1_PUBLIC = """package main
import rego.v1
deny contains {"msg": sprintf("%s is public", [rc.address]), "address": rc.address} if {
    some rc in input.resource_changes
    rc.change.after.acl == "public-read"
}
"""
V0_PUBLIC = """package main
deny[{"msg": sprintf("%s is public", [rc.address]), "address": rc.address}] {
    rc := input.resource_changes[_]
    rc.change.after.acl == "public-read"
}
"""
V0_FUTURE_KEYWORDS = """package main
import future.keywords.contains
import future.keywords.if
import future.keywords.in
deny contains {"msg": sprintf("%s is public", [rc.address]), "address": rc.address} if {
    some rc in input.resource_changes
    rc.change.after.acl == "public-read"
}
"""


@pytest.mark.parametrize("source", [V1_PUBLIC, V0_PUBLIC, V0_FUTURE_KEYWORDS], ids=["v1", "v0", "v0-future-keywords"])
@pytest.mark.parametrize("mode", MODES)
def test_v0_and_v1_syntax_give_the_same_findings(tmp_path: Path, source: str, mode: str) -> None:
    policy = write(tmp_path, "public.rego", source)
    found = run([policy], mode=mode)
    assert found == [
        Finding("rego:main.deny", Enforcement.HARD, "aws_s3_bucket.a", "aws_s3_bucket.a is public", source=str(policy))
    ]


def test_v0_and_v1_files_load_side_by_side(tmp_path: Path) -> None:
    write(tmp_path, "a.rego", V0_PUBLIC.replace("deny[", "deny_v0["))
    write(tmp_path, "b.rego", V1_PUBLIC.replace("deny contains", "deny_v1 contains"))
    found = run([tmp_path])
    assert [(f.rule, f.address) for f in found] == [
        ("rego:main.deny_v0", "aws_s3_bucket.a"),
        ("rego:main.deny_v1", "aws_s3_bucket.a"),
    ]
    assert {f.source for f in found} == {str(tmp_path / "a.rego"), str(tmp_path / "b.rego")}


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("deny", Enforcement.HARD),
        ("violation", Enforcement.HARD),
        ("deny_public_bucket", Enforcement.HARD),
        ("violation_x1", Enforcement.HARD),
        ("warn", Enforcement.ADVISORY),
        ("warn_tags", Enforcement.ADVISORY),
        ("require_approval", Enforcement.SOFT),
        ("require_approval_db_delete", Enforcement.SOFT),
        ("denied", None),
        ("deny_", None),
        ("warning", None),
        ("approve", None),
        ("helper", None),
    ],
)
def test_enforcement_follows_the_rule_name(rule: str, expected: Enforcement | None) -> None:
    assert enforcement_of(rule) == expected


KINDS = """package main
import rego.v1
deny contains "d" if true
violation_x contains {"msg": "v", "resource": "aws_s3_bucket.b"} if true
warn_tags contains {"msg": "w", "address": "aws_s3_bucket.a", "severity": "low"} if true
require_approval contains {"msg": "r"} if true
helper contains "never a finding" if true
denied contains "not a decision rule either" if true
"""


@pytest.mark.parametrize("mode", MODES)
def test_rule_kinds_map_to_enforcement_and_results_to_findings(tmp_path: Path, mode: str) -> None:
    policy = write(tmp_path, "kinds.rego", KINDS)
    found = {(f.rule, f.enforcement, f.address, f.message) for f in run([policy], mode=mode)}
    assert found == {
        ("rego:main.deny", Enforcement.HARD, None, "d"),
        ("rego:main.violation_x", Enforcement.HARD, "aws_s3_bucket.b", "v"),
        ("rego:main.warn_tags", Enforcement.ADVISORY, "aws_s3_bucket.a", "w"),
        ("rego:main.require_approval", Enforcement.SOFT, None, "r"),
    }


SINGLE_VALUES = """package main
import rego.v1
deny := "a single message"
deny_bool if count(input.resource_changes) > 2
deny_false := false
warn := ["from an array", {"msg": "and an object", "address": "x.y"}]
require_approval := {"msg": "one object"}
warn_undefined := "never" if false
"""


def test_single_values_arrays_and_booleans(tmp_path: Path) -> None:
    found = {(f.rule, f.address, f.message) for f in run([write(tmp_path, "single.rego", SINGLE_VALUES)])}
    assert found == {
        ("rego:main.deny", None, "a single message"),
        ("rego:main.deny_bool", None, "rego:main.deny_bool holds"),  # conftest would pass this silently
        ("rego:main.warn", None, "from an array"),
        ("rego:main.warn", "x.y", "and an object"),
        ("rego:main.require_approval", None, "one object"),
    }


@pytest.mark.parametrize(
    "value",
    ['{"message": "no msg key", "password": "hunter2-secret"}', "42", "null", '[["nested"]]', '{"msg": 7}'],
)
def test_a_result_of_the_wrong_shape_is_an_error_that_does_not_quote_it(tmp_path: Path, value: str) -> None:
    policy = write(tmp_path, "bad.rego", f"package main\nimport rego.v1\ndeny contains {value} if true\n")
    with pytest.raises(PolicyError, match=r"rego:main\.deny .*bad\.rego.*must be a string or an object") as caught:
        run([policy])
    assert "hunter2" not in str(caught.value)


def test_a_v1_ref_head_rule_is_explained(tmp_path: Path) -> None:
    policy = write(tmp_path, "refhead.rego", 'package main\nimport rego.v1\ndeny[msg] if { msg := "x" }\n')
    with pytest.raises(PolicyError, match="write `deny contains msg if`"):
        run([policy])


NAMESPACES = {
    "main.rego": 'package main\nimport rego.v1\ndeny contains "from main" if true\n',
    "aws.rego": 'package terraform.aws\nimport rego.v1\nwarn contains "from aws" if true\n',
    "lib.rego": 'package lib.helpers\nimport rego.v1\nis_delete(rc) if "delete" in rc.change.actions\n',
    "quoted.rego": 'package teams["data-platform"]\nimport rego.v1\nwarn contains "from a quoted package" if true\n',
}


@pytest.mark.parametrize(
    ("namespaces", "all_namespaces", "expected"),
    [
        (("main",), False, {"rego:main.deny"}),
        (("terraform.aws",), False, {"rego:terraform.aws.warn"}),
        (("main", "terraform.aws"), False, {"rego:main.deny", "rego:terraform.aws.warn"}),
        (("teams.data-platform",), False, {"rego:teams.data-platform.warn"}),
        (
            ("main",),
            True,
            {"rego:main.deny", "rego:terraform.aws.warn", "rego:teams.data-platform.warn"},
        ),
    ],
)
def test_namespaces(tmp_path: Path, namespaces: tuple[str, ...], all_namespaces: bool, expected: set[str]) -> None:
    for name, text in NAMESPACES.items():
        write(tmp_path, name, text)
    found = run([tmp_path], namespaces=namespaces, all_namespaces=all_namespaces)
    assert {f.rule for f in found} == expected


def test_an_unknown_namespace_is_an_error_not_a_pass(tmp_path: Path) -> None:
    for name, text in NAMESPACES.items():
        write(tmp_path, name, text)
    with pytest.raises(PolicyError, match=r"no policy declares namespace terraform\.awz .*terraform\.aws"):
        load_policies([tmp_path], namespaces=("main", "terraform.awz"))


def test_a_namespace_without_decision_rules_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "lib.rego", NAMESPACES["lib.rego"])
    write(tmp_path, "typo.rego", 'package main\nimport rego.v1\ndenied contains "x" if true\n')
    with pytest.raises(PolicyError, match=r"namespace main \(.*typo\.rego\) has no deny"):
        load_policies([tmp_path])
    with pytest.raises(PolicyError, match="no policy has a deny"):
        load_policies([tmp_path], all_namespaces=True)


@pytest.mark.parametrize(
    ("source", "where", "what"),
    [
        ("package main\nimport rego.v1\ndeny contains msg if {\n  msg := \n}\n", ":4:", "expecting"),
        ('package main\n\ndeny[msg] {\n  msg := "x"\n  input.a ==\n}\n', ":6:", "expecting"),
        ("deny contains 1 if true\n", ":1:1:", "package"),
    ],
    ids=["v1", "v0", "no-package"],
)
def test_a_parse_error_names_the_file_and_line(tmp_path: Path, source: str, where: str, what: str) -> None:
    write(tmp_path, "good.rego", 'package main\nimport rego.v1\ndeny contains "x" if true\n')
    broken = write(tmp_path, "sub/broken.rego", source)
    with pytest.raises(PolicyError) as caught:
        load_policies([tmp_path])
    message = str(caught.value)
    assert f"{broken}{where}" in message
    assert what in message
    assert "\n" not in message
    assert "backtrace" not in message.lower()


@pytest.mark.parametrize(
    ("source", "what"),
    [
        ("conflict := 1 if true\nconflict := 2 if true\ndeny contains conflict if true\n", "conflict"),
        ('deny contains to_number("not a number") if true\n', "number"),
        ("deny contains x if { x := 1 / count(input.nothing_here) }\ndeny contains 1 / 0 if true\n", "zero"),
    ],
    ids=["conflicting-values", "builtin-error", "divide-by-zero"],
)
@pytest.mark.parametrize("mode", MODES)
def test_an_evaluation_error_names_the_namespace_and_its_files(
    tmp_path: Path, source: str, what: str, mode: str
) -> None:
    failing = write(tmp_path, "failing.rego", "package terraform.checks\nimport rego.v1\n" + source)
    write(tmp_path, "other.rego", 'package main\nimport rego.v1\nwarn contains "fine" if true\n')
    with pytest.raises(PolicyError) as caught:
        run([tmp_path], mode=mode, all_namespaces=True)
    message = str(caught.value)
    assert f"namespace terraform.checks ({failing})" in message
    assert what in message
    assert f"{failing}:" in message  # and the line


def test_folders_are_searched_recursively_skipping_tests_and_hidden_files(tmp_path: Path) -> None:
    write(tmp_path, "a.rego", 'package main\nimport rego.v1\ndeny contains "a" if true\n')
    write(tmp_path, "nested/deeper/b.rego", 'package main\nimport rego.v1\nwarn contains "b" if true\n')
    write(tmp_path, "a_test.rego", "this is not rego, and must not be parsed")
    write(tmp_path, ".hidden/c.rego", "neither is this")
    write(tmp_path, "notes.md", "nor this")
    engine = load_policies([tmp_path, tmp_path / "a.rego"])  # a file named twice is loaded once
    assert [f.name for f in engine.files] == [str(tmp_path / "a.rego"), str(tmp_path / "nested/deeper/b.rego")]
    assert {f.message for f in engine.submit(BUCKETS).findings()} == {"a", "b"}


def test_a_file_named_explicitly_is_loaded_even_when_it_is_a_test(tmp_path: Path) -> None:
    policy = write(tmp_path, "x_test.rego", 'package main\nimport rego.v1\ndeny contains "t" if true\n')
    assert [f.message for f in run([policy])] == ["t"]


def test_missing_paths_and_empty_folders_are_errors(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="not found"):
        load_policies([tmp_path / "nope"])
    (tmp_path / "empty").mkdir()
    write(tmp_path, "empty/only_test.rego", "package main")
    with pytest.raises(PolicyError, match=r"no \.rego policy files"):
        load_policies([tmp_path / "empty"])
    (tmp_path / "latin1.rego").write_bytes(b"package main\n# caf\xe9\n")
    with pytest.raises(PolicyError, match=r"latin1\.rego: policy is not UTF-8"):
        load_policies([tmp_path / "latin1.rego"])


def test_no_policies_means_no_work(tmp_path: Path) -> None:
    engine = load_policies([], mode="fork")
    assert engine.submit(b"not even json").findings() == []


def test_long_lines_and_a_byte_order_mark_are_accepted(tmp_path: Path) -> None:
    names = ", ".join(f'"bucket-{i:05d}"' for i in range(200))  # one ~3,000-column line
    policy = tmp_path / "long.rego"
    text = f'package main\nimport rego.v1\nallowed := {{{names}}}\ndeny contains "long" if not "x" in allowed\n'
    policy.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert [f.message for f in run([policy])] == ["long"]


@pytest.mark.skipif(not HAS_FORK, reason="os.fork is not available on this platform")
def test_forked_and_inline_runs_agree_on_a_large_plan(tmp_path: Path) -> None:
    document = plan(
        *(
            change(
                f"module.s{i}.aws_s3_bucket.b",
                "aws_s3_bucket",
                [["create"], ["delete"]][i % 2],
                {"acl": "public-read", "force_destroy": True} if i % 2 == 0 else None,
            )
            for i in range(3000)
        )
    )
    forked = load_policies([EXAMPLES], mode="fork").submit(document).findings()
    inline = load_policies([EXAMPLES], mode="inline").submit(document).findings()
    assert forked == inline
    kinds = {f.rule for f in forked}
    assert kinds == {
        "rego:main.deny_public_bucket",
        "rego:main.warn_force_destroy",
        "rego:main.require_approval_stateful_delete",
        "rego:main.require_approval_mass_delete",
    }
    assert len(forked) == 1500 * 3 + 1


@pytest.mark.skipif(not HAS_FORK, reason="os.fork is not available on this platform")
def test_a_child_that_dies_is_an_error_not_an_empty_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = load_policies([write(tmp_path, "p.rego", V1_PUBLIC)], mode="fork")

    def die(self: RegoPolicyEngine, document: bytes) -> str:
        os.kill(os.getpid(), signal.SIGKILL)  # runs in the child only: the parent never evaluates
        return "[]"

    monkeypatch.setattr(RegoPolicyEngine, "raw_results", die)
    with pytest.raises(PolicyError, match="killed by signal 9"):
        engine.submit(BUCKETS).findings()


@pytest.mark.skipif(not HAS_FORK, reason="os.fork is not available on this platform")
def test_a_child_never_flushes_the_parents_buffers_twice(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    engine = load_policies([write(tmp_path, "p.rego", V1_PUBLIC)], mode="fork")
    sys.stdout.write("written once")  # left in the buffer: no newline, no flush
    engine.submit(BUCKETS).findings()
    sys.stdout.flush()
    assert capfd.readouterr().out.count("written once") == 1


@pytest.mark.skipif(not HAS_FORK, reason="os.fork is not available on this platform")
def test_a_run_dropped_unread_leaves_no_child_behind(tmp_path: Path) -> None:
    engine = load_policies([write(tmp_path, "p.rego", V1_PUBLIC)], mode="fork")
    pending = engine.submit(BUCKETS)
    pid = pending._pid  # type: ignore[attr-defined]
    del pending
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # already reaped


@pytest.mark.skipif(not HAS_FORK, reason="os.fork is not available on this platform")
def test_a_failed_fork_falls_back_to_evaluating_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = load_policies([write(tmp_path, "p.rego", V1_PUBLIC)], mode="fork")
    expected = engine.submit(BUCKETS).findings()

    def no_fork() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    pending = engine.submit(BUCKETS)
    assert type(pending).__name__ == "_InlineRun"
    assert pending.findings() == expected
    assert len(expected) == 1


def test_auto_mode_does_not_fork_a_threaded_process(tmp_path: Path) -> None:
    engine = load_policies([write(tmp_path, "p.rego", V1_PUBLIC)])
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        pending = engine.submit(BUCKETS)
        # A fresh interpreter instead of a fork, so that the time limit still holds (test_rego_timeout.py).
        assert type(pending).__name__ == "SpawnedRun"
        assert pending.findings() == engine.evaluate(BUCKETS)
    finally:
        release.set()
        other.join()


def test_an_engine_can_be_used_from_another_thread(tmp_path: Path) -> None:
    engine = load_policies([write(tmp_path, "p.rego", V1_PUBLIC)], mode="inline")
    results: list[list[Finding]] = []
    worker = threading.Thread(target=lambda: results.append(engine.submit(BUCKETS).findings()))
    worker.start()
    worker.join()
    assert results == [engine.submit(BUCKETS).findings()]
    assert len(results[0]) == 1


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            'a := input.resource_changes\nb := input["planned_values"].root_module\n',
            {"resource_changes", "planned_values"},
        ),
        ("import input.configuration as cfg\na := cfg.root_module\n", {"configuration"}),
        ("a := object.keys(input)\n", None),
        ('a := input[k] if some k in {"x"}\n', None),
        ("a := [x | walk(input, x)]\n", None),
    ],
)
def test_the_input_keys_policies_read(source: str, expected: set[str] | None) -> None:
    engine = new_engine()
    engine.add_policy("p.rego", "package main\nimport rego.v1\n" + source)
    keys = input_keys(syntax_trees(engine))
    assert keys == (frozenset(expected) if expected is not None else None)


def test_pruning_keeps_the_values_read_byte_for_byte() -> None:
    document = b'\xef\xbb\xbf{"a": {"x": [1, 2.50, "\\u00e9"]}, "b": 1, "c": null}'
    assert json.loads(prune(document, frozenset({"a", "c", "missing"}))) == {"a": {"x": [1, 2.5, "é"]}, "c": None}
    assert b"2.50" in prune(document, frozenset({"a"}))
    assert prune(document, None) is document
    assert prune(b"[1, 2]", frozenset({"a"})) == b"[1, 2]"


def test_a_policy_reading_the_whole_input_sees_every_key(tmp_path: Path) -> None:
    policy = write(tmp_path, "p.rego", "package main\nimport rego.v1\nwarn contains k if some k, _ in input\n")
    found = {f.message for f in run([policy], document=plan(variables={}, configuration={}))}
    assert found == {"format_version", "resource_changes", "variables", "configuration"}


def test_invalid_json_input_is_an_error() -> None:
    engine = load_policies([EXAMPLES], mode="inline")
    with pytest.raises(BadInputError, match="not valid JSON"):
        engine.submit(b'{"resource_changes": [').findings()


@pytest.mark.parametrize("plan_path", corpus_params())
def test_example_policies_on_the_real_world_corpus(plan_path: Path) -> None:
    """Every real plan evaluates; the public-bucket rule finds exactly what a plain reading of the plan
    finds."""
    try:
        document = read_plan_document(plan_path, lambda: pytest.fail("a JSON plan needs no terraform"))
    except BadInputError:
        pytest.skip("not a readable plan (the corpus has a deliberately corrupted one)")
    found = load_policies([EXAMPLES], all_namespaces=True, mode="inline").submit(document).findings()
    public = {f.address for f in found if f.rule == "rego:main.deny_public_bucket"}
    expected = {
        rc["address"]
        for rc in json.loads(document).get("resource_changes") or []
        if rc.get("mode") == "managed"
        and rc.get("type") == "aws_s3_bucket"
        and isinstance((rc.get("change") or {}).get("after"), dict)
        and rc["change"]["after"].get("acl") in {"public-read", "public-read-write", "authenticated-read"}
    }
    assert public == expected
    assert all(f.source and f.source.startswith(str(EXAMPLES)) for f in found)


@pytest.mark.parametrize("mode", MODES)
def test_a_real_plan_with_public_buckets_and_an_open_admin_port(corpus_dir: Path, mode: str) -> None:
    path = corpus_dir / "terraform-plans/checkov/terraform__runner__resources__plan__tfplan.json"
    if not path.is_file():
        pytest.skip(f"{path.name} is not in the corpus")
    document = path.read_bytes()
    found = run([EXAMPLES], document=document, mode=mode, all_namespaces=True)
    changes = json.loads(document)["resource_changes"]
    public = {
        rc["address"]
        for rc in changes
        if rc["type"] == "aws_s3_bucket" and rc["change"]["after"].get("acl") == "public-read"
    }
    open_ssh = {
        rc["address"]
        for rc in changes
        if rc["type"] == "aws_security_group"
        for rule in rc["change"]["after"].get("ingress") or []
        if "0.0.0.0/0" in (rule.get("cidr_blocks") or []) and rule["from_port"] <= 22 <= rule["to_port"]
    }
    assert public  # the plan does have both problems
    assert open_ssh
    assert {f.address for f in found if f.rule == "rego:main.deny_public_bucket"} == public
    assert {f.address for f in found if f.rule == "rego:terraform.network.deny"} == open_ssh
    assert all(f.enforcement is Enforcement.HARD for f in found if f.rule.endswith("deny") or "deny_" in f.rule)
