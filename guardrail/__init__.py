"""guardrail: a fail-closed gate, preview and brake in front of infrastructure changes."""

__version__ = "0.1.0"
