"""The tables, as the queries see them. Migrations under migrations/versions create them; a test checks
that the two agree on both dialects."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# Times are UTC ISO-8601 text of fixed width (guardrail.core.audit.iso_utc): identical on both dialects,
# sortable as text, and hashed byte for byte in the audit chain.
TIME = sa.String(32)

audit_events = sa.Table(
    "audit_events",
    metadata,
    # Not autoincrement: the writer computes seq from the head under the write lock, so a gap is tampering.
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("time", TIME, nullable=False),
    sa.Column("actor", sa.String(320), nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("fingerprint", sa.String(128), nullable=True),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Index("ix_audit_events_actor", "actor"),
    sa.Index("ix_audit_events_kind", "kind"),
    # revision 0003: a plan's approvals, passes and first check (its author) are found without reading its
    # other checks; seq is in the index because SQLite's BIGINT key is not the rowid an index entry holds.
    sa.Index("ix_audit_events_fingerprint_kind", "fingerprint", "kind", "seq"),
)

# Revision 0003. Each record names the event that recorded it (see core/ledger.py): `event_seq`, and
# `release_seq` / `used_seq` for a lock's release and a pass's use. NULL: no event backs it.
EVENT_SEQ = sa.BigInteger

# Revision 0003: the last event the store verified the chain up to; every write verifies the events since.
chain_checkpoint = sa.Table(
    "chain_checkpoint",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),  # always 1: a single row
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

locks = sa.Table(
    "locks",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("target", sa.String(16), nullable=False),
    sa.Column("pattern", sa.Text, nullable=False),
    sa.Column("owner", sa.String(320), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("created_at", TIME, nullable=False),
    sa.Column("expires_at", TIME, nullable=True),
    sa.Column("released_at", TIME, nullable=True),
    sa.Column("released_by", sa.String(320), nullable=True),
    sa.Column("release_reason", sa.Text, nullable=True),
    sa.Column("event_seq", EVENT_SEQ, nullable=True),
    sa.Column("release_seq", EVENT_SEQ, nullable=True),
)

plans = sa.Table(
    "plans",
    metadata,
    sa.Column("fingerprint", sa.String(128), primary_key=True),
    sa.Column("author", sa.String(320), nullable=False),
    sa.Column("first_seen", TIME, nullable=False),
    sa.Column("event_seq", EVENT_SEQ, nullable=True),  # its first check
)

approvals = sa.Table(
    "approvals",
    metadata,
    sa.Column("fingerprint", sa.String(128), primary_key=True),
    sa.Column("actor", sa.String(320), primary_key=True),
    sa.Column("time", TIME, nullable=False),
    sa.Column("comment", sa.Text, nullable=False),
    sa.Column("signature", sa.Text, nullable=True),
    sa.Column("event_seq", EVENT_SEQ, nullable=True),
)

break_glass = sa.Table(
    "break_glass",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("fingerprint", sa.String(128), nullable=False),
    sa.Column("actor", sa.String(320), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("created_at", TIME, nullable=False),
    sa.Column("expires_at", TIME, nullable=False),
    sa.Column("used_at", TIME, nullable=True),
    sa.Column("signature", sa.Text, nullable=True),  # revision 0002
    sa.Column("event_seq", EVENT_SEQ, nullable=True),
    sa.Column("used_seq", EVENT_SEQ, nullable=True),
    sa.Index("ix_break_glass_fingerprint", "fingerprint"),
)

apply_locks = sa.Table(
    "apply_locks",
    metadata,
    sa.Column("workspace", sa.String(256), primary_key=True),
    sa.Column("token", sa.String(64), nullable=False),
    sa.Column("actor", sa.String(320), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("hostname", sa.String(256), nullable=False),
    sa.Column("acquired_at", TIME, nullable=False),
    sa.Column("expires_at", TIME, nullable=False),
    sa.Column("fingerprint", sa.String(128), nullable=True),
    sa.Column("event_seq", EVENT_SEQ, nullable=True),  # its apply-start
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("subject", sa.String(512), nullable=False),
    # The subject while the run is active, NULL once it ended: unique, so two active runs never share one.
    sa.Column("active_subject", sa.String(512), nullable=True),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("step", sa.BigInteger, nullable=False),
    sa.Column("state", sa.Text, nullable=False),  # the engine's plain-JSON state
    sa.Column("actor", sa.String(320), nullable=False),
    sa.Column("created_at", TIME, nullable=False),
    sa.Column("updated_at", TIME, nullable=False),
    sa.Column("requested", sa.String(16), nullable=True),
    sa.Index("ix_runs_active_subject", "active_subject", unique=True),
    sa.Index("ix_runs_kind", "kind"),
)

# Revision 0005: the rollback point of each Kubernetes apply, and each object as it lived before it.
kube_applies = sa.Table(
    "kube_applies",
    metadata,
    sa.Column("apply_id", sa.String(64), primary_key=True),
    sa.Column("fingerprint", sa.String(128), nullable=False),
    sa.Column("actor", sa.String(320), nullable=False),
    sa.Column("saved_at", TIME, nullable=False),
    sa.Column("rollback_of", sa.String(64), nullable=True),
)

kube_apply_objects = sa.Table(
    "kube_apply_objects",
    metadata,
    sa.Column("apply_id", sa.String(64), sa.ForeignKey("kube_applies.apply_id"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("cluster", sa.String(256), nullable=False),
    sa.Column("api_version", sa.String(256), nullable=False),
    sa.Column("kind", sa.String(256), nullable=False),
    sa.Column("namespace", sa.String(256), nullable=True),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    # The object as it lived, JSON (a Secret's values included: this is what a rollback puts back); null for
    # an object the apply creates.
    sa.Column("live_manifest", sa.Text, nullable=True),
)
