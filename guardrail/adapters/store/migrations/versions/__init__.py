"""One module per schema revision, applied in order by guardrail.adapters.store.engine."""
