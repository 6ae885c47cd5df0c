"""The outside world (terraform, Rego, files, renderers), each behind a port of guardrail.core.ports."""
