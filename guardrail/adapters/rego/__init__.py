"""Custom policies in Rego, conftest-compatible, evaluated with regorus (see docs/rego.md)."""

from __future__ import annotations

from guardrail.adapters.rego.engine import RegoPolicyEngine, load_policies
from guardrail.adapters.rego.results import enforcement_of

__all__ = ["RegoPolicyEngine", "enforcement_of", "load_policies"]
