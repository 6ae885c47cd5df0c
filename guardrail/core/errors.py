"""The errors every layer may raise; the CLI edge maps each family to one exit code."""

from __future__ import annotations


class GuardrailError(Exception):
    """Base of every error guardrail raises on purpose."""


class BadInputError(GuardrailError):
    """The user gave something guardrail cannot use (exit 3): the message names what and where."""


class ConfigError(BadInputError):
    """guardrail.yaml or a command-line option is invalid (exit 3)."""


class PolicyError(BadInputError):
    """A policy could not be loaded or evaluated (exit 3): never a silent pass."""


class StoreError(BadInputError):
    """The store is unreachable, corrupt or of an unknown schema (exit 3): never read as "allow"."""


class StoreMissingError(StoreError):
    """The store named does not exist (no SQLite file, no guardrail schema in the database): a store is
    created only on purpose, so that a mistyped path never becomes an empty store that knows no locks."""


class DeniedError(GuardrailError):
    """An action the rules refuse (exit 1): an author approving their own plan, an apply lock held."""


class StalePlanError(DeniedError):
    """A saved plan that no longer applies: the state changed after it was planned (exit 1)."""


class TransientError(GuardrailError):
    """A failure that may go away if retried (a busy store, a network hiccup)."""


class CommandError(GuardrailError):
    """An external command failed; carries everything needed to understand why."""

    def __init__(self, command: list[str], returncode: int, stdout: str, stderr: str) -> None:
        self.command = command
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        last_line = next((ln.strip() for ln in reversed(stderr.splitlines()) if ln.strip()), "")
        super().__init__(f"{command[0]} {' '.join(command[1:2])} exited {returncode}: {last_line}")


class ClusterError(GuardrailError):
    """A Kubernetes API server refused a request guardrail expected it to accept (exit 3 at the CLI: the
    cluster, the kubeconfig or the change is not what it needs to be). Carries the cluster's name and,
    when the API server answered, its HTTP status and the reason of its Status (`Forbidden`, `Invalid`),
    so that a caller can tell a refused mechanism (dry-run, server-side apply) from a refused object."""

    def __init__(self, cluster: str, message: str, *, status: int | None = None, reason: str = "") -> None:
        self.cluster = cluster
        self.status = status
        self.reason = reason
        super().__init__(f"cluster {cluster}: {message}")


class ClusterUnreachableError(ClusterError, TransientError):
    """The API server did not answer (connection refused, timeout, 5xx): worth retrying, never "allow"."""
