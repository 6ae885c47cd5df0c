"""Scrubbing free text of a plan's secrets: every marked value, whatever its length; addresses kept whole."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from guardrail.adapters.terraform.parse import parse_plan
from guardrail.core.audit import GENESIS_HASH, EventDraft, seal
from guardrail.core.change import ChangeSet
from guardrail.core.secrets import Scrubber, literal_secrets, plan_scrubber
from guardrail.core.values import SENSITIVE_PLACEHOLDER as HIDDEN
from tests.unit.factories import change

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def test_a_one_character_secret_is_scrubbed_where_it_stands_alone() -> None:
    literals = literal_secrets(["7"])
    assert literals == {"7"}
    scrub = Scrubber(literals)
    assert scrub("the pin is 7") == f"the pin is {HIDDEN}"
    assert scrub("pin=7, again 7.") == f"pin={HIDDEN}, again {HIDDEN}."
    # Inside a word or a number it is left: scrubbing every "7" of "17" would garble all text.
    assert scrub("17 copies of x7") == "17 copies of x7"


def test_short_and_numeric_values_are_all_kept_for_scrubbing() -> None:
    assert literal_secrets(["ab", 7, 2.5, "", "  ", None, True]) == {"ab", "7", "2.5"}


def test_scrubbing_twice_changes_nothing_even_when_a_secret_is_part_of_the_placeholder() -> None:
    scrub = Scrubber(literal_secrets(["value", "e"]))
    once = scrub("the value is e")
    assert once == f"the {HIDDEN} is {HIDDEN}"
    assert scrub(once) == once


def test_a_plan_s_addresses_stay_whole_in_a_message_and_its_secret_goes() -> None:
    bucket = change("aws_s3_bucket.prod_logs", ["delete"], {"tags": {"env": "prod"}})
    changeset = ChangeSet("p.json", "sha256:x", "1.2", changes=(bucket,), sensitive_literals=frozenset({"prod"}))
    scrub = plan_scrubber(changeset)
    assert scrub("aws_s3_bucket.prod_logs is tagged prod") == f"aws_s3_bucket.prod_logs is tagged {HIDDEN}"
    assert scrub("prod everywhere: production") == f"{HIDDEN} everywhere: {HIDDEN}uction"


def test_a_secret_longer_than_an_address_it_contains_is_still_scrubbed() -> None:
    scrub = Scrubber(["aws_s3_bucket.logs-password"], keep=["aws_s3_bucket.logs"])
    assert scrub("got aws_s3_bucket.logs-password") == f"got {HIDDEN}"
    assert scrub("got aws_s3_bucket.logs") == "got aws_s3_bucket.logs"


def test_a_name_that_is_itself_a_secret_is_not_kept() -> None:
    assert Scrubber(["aws_x.y"], keep=["aws_x.y"])("aws_x.y") == HIDDEN


def test_audit_payload_addresses_are_recorded_whole_and_messages_scrubbed() -> None:
    payload = {
        "addresses": ["aws_s3_bucket.prod_logs"],
        "findings": [{"address": "aws_s3_bucket.prod_logs", "message": "aws_s3_bucket.prod_logs carries prod"}],
        "note": "prod",
    }
    event = seal(EventDraft("a", "check", payload), 1, NOW, GENESIS_HASH, Scrubber(["prod"]))
    recorded = event.payload
    assert recorded["addresses"] == ["aws_s3_bucket.prod_logs"]
    assert recorded["findings"][0]["address"] == "aws_s3_bucket.prod_logs"
    assert recorded["findings"][0]["message"] == f"aws_s3_bucket.prod_logs carries {HIDDEN}"
    assert recorded["note"] == HIDDEN


def _plan(**sections: object) -> bytes:
    return json.dumps({"format_version": "1.2", "resource_changes": [], **sections}).encode()


def test_values_only_the_prior_state_marks_sensitive_are_scrubbed() -> None:
    state = {
        "values": {
            "outputs": {"token": {"sensitive": True, "value": "out-secret"}},
            "root_module": {
                "resources": [],
                "child_modules": [
                    {
                        "resources": [
                            {
                                "address": "module.db.aws_db_instance.main",
                                "values": {"password": "state-only-pw", "port": 5432},
                                "sensitive_values": {"password": True},
                            }
                        ]
                    }
                ],
            },
        }
    }
    literals = parse_plan(_plan(prior_state=state), "p.json").changeset.sensitive_literals
    assert {"state-only-pw", "out-secret"} <= literals
    assert "5432" not in literals


def test_values_a_drift_record_marks_sensitive_are_scrubbed() -> None:
    drift = [
        {
            "address": "aws_db_instance.main",
            "change": {
                "actions": ["update"],
                "before": {"password": "drifted-pw"},
                "after": {"password": "x"},
                "before_sensitive": {"password": True},
                "after_sensitive": {"password": True},
            },
        }
    ]
    literals = parse_plan(_plan(resource_drift=drift), "p.json").changeset.sensitive_literals
    assert {"drifted-pw", "x"} <= literals


def test_output_seen_line_by_line_loses_every_line_of_a_secret_and_keeps_addresses() -> None:
    key = "-----BEGIN KEY-----\nc2VjcmV0LWtleS1saW5l\n-----END KEY-----"
    scrub = Scrubber([key, "blue"]).keeping(["terraform_data.blue_app"]).line_by_line()
    shown = [scrub(line) for line in f"terraform_data.blue_app: Creating...\nkey:\n{key}\ncolour=blue".splitlines()]
    assert shown == [
        "terraform_data.blue_app: Creating...",
        "key:",
        HIDDEN,
        HIDDEN,
        HIDDEN,
        f"colour={HIDDEN}",
    ]


def test_a_scrubber_without_secrets_of_several_lines_is_itself_line_by_line() -> None:
    scrub = Scrubber(["blue"])
    assert scrub.line_by_line() is scrub
