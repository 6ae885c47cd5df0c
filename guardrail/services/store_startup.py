"""Start preparing the store before anything heavy is imported: kept apart from services/store.py, whose
imports (the configuration, pydantic) are exactly the work the helper should overlap."""

from __future__ import annotations

from guardrail.adapters.store_helper import StoreHelper


def start_store_helper() -> StoreHelper | None:
    """Begin importing the store adapter in a forked helper while the caller reads its configuration and
    the plan (see adapters/store_helper.py); None where forking is unsafe: the store then opens in-process."""
    return StoreHelper.start()
