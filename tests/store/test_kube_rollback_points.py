"""The rollback points of Kubernetes applies, kept by the store on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from guardrail.adapters.store import SqlStore
from guardrail.core.audit import EventDraft, EventKind
from guardrail.core.change import Action
from guardrail.core.errors import BadInputError, StoreError
from guardrail.core.kube.objects import ObjectRef
from guardrail.core.kube.rollback import RollbackPoint, SavedObject

SECRET = {
    "apiVersion": "v1",
    "kind": "Secret",
    "metadata": {"name": "db", "namespace": "shop", "uid": "u-1"},
    "data": {"password": "b2xkLXBhc3N3b3Jk"},
}
CONFIG = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "flags", "namespace": "shop"}, "data": {}}


def _point(apply_id: str = "ka-1", rollback_of: str | None = None) -> RollbackPoint:
    objects = (
        SavedObject("prod", ObjectRef("", "Namespace", None, "shop"), "v1", Action.CREATE),
        SavedObject("prod", ObjectRef("", "Secret", "shop", "db"), "v1", Action.UPDATE, SECRET),
        SavedObject("prod", ObjectRef("", "ConfigMap", "shop", "flags"), "v1", Action.DELETE, CONFIG),
        SavedObject("prod", ObjectRef("apps", "Deployment", "shop", "web"), "apps/v1", Action.CREATE),
    )
    saved_at = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    return RollbackPoint(apply_id, "sha256:abc", "alice@example.com", saved_at, objects, rollback_of)


def _event(point: RollbackPoint) -> EventDraft:
    payload = {"apply_id": point.apply_id, "addresses": [o.ref.address for o in point.objects]}
    return EventDraft(point.actor, EventKind.KUBE_ROLLBACK_POINT, payload, point.fingerprint)


def test_a_rollback_point_is_kept_whole_and_in_order(store: SqlStore) -> None:
    point = _point()
    event = store.save_kube_rollback(point, _event(point))
    assert (event.kind, event.fingerprint) == ("kube-rollback-point", "sha256:abc")
    assert store.kube_rollback("ka-1") == point
    read = store.kube_rollback("ka-1")
    assert read is not None
    assert read.objects[1].live == SECRET  # the values a rollback must put back
    assert read.objects[0].live is None  # created by the apply: a rollback deletes it
    assert store.kube_rollback("ka-2") is None
    undo = _point("ka-2", rollback_of="ka-1")
    store.save_kube_rollback(undo, _event(undo))
    assert store.kube_rollback("ka-2") == undo


def test_an_apply_id_is_used_once(store: SqlStore) -> None:
    point = _point()
    store.save_kube_rollback(point, _event(point))
    with pytest.raises(BadInputError, match="apply id ka-1 is already taken"):
        store.save_kube_rollback(point, _event(point))
    assert [e.kind for e in store.events()] == ["kube-rollback-point"]  # nothing recorded for the refusal


def test_a_damaged_rollback_point_is_refused_not_half_read(store: SqlStore) -> None:
    point = _point()
    store.save_kube_rollback(point, _event(point))
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE kube_apply_objects SET live_manifest = '{not json' WHERE position = 1"))
    with pytest.raises(StoreError, match="rollback point ka-1: unreadable record"):
        store.kube_rollback("ka-1")
