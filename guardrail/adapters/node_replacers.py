"""The real ways to replace a node's machine (the NodeReplacer port): a command template, or deleting the
Node so that the managed pool re-creates the machine.

The template is split into arguments first (shell-like quoting, with its `{{ ... }}` expressions kept
whole) and each argument rendered on its own with jinja2, so a label value with spaces or quotes stays
one argument: nothing is ever given to a shell.
"""

from __future__ import annotations

import re
import shlex

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from guardrail.adapters.process import run_command
from guardrail.core.errors import BadInputError
from guardrail.core.kube.cluster import Cluster, NodeInfo
from guardrail.core.nodes.strata import REGION_LABEL, ZONE_LABEL

_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
_SET_ASIDE = re.compile(r"\x00(\d+)\x00")


def _restore(part: str, expressions: list[str]) -> str:
    return _SET_ASIDE.sub(lambda match: expressions[int(match.group(1))], part)


class CommandReplacer:
    """Runs `--replace-command` for a node: a jinja2 template given `name`, `provider_id`, `zone`, `region`
    and `labels`, e.g. `az vmss reimage --instance-ids {{ provider_id.split('/')[-1] }} ...`."""

    def __init__(self, template: str, *, timeout: float) -> None:
        """Raises BadInputError when the template does not parse (quotes, jinja2 syntax)."""
        # Jinja2 expressions keep their spaces and quotes through the split: each is set aside first.
        expressions: list[str] = []

        def aside(match: re.Match[str]) -> str:
            expressions.append(match.group(0))
            return f"\x00{len(expressions) - 1}\x00"

        try:
            parts = [_restore(part, expressions) for part in shlex.split(_JINJA.sub(aside, template))]
        except ValueError as exc:
            raise BadInputError(f"--replace-command: {exc}") from None
        if not parts:
            raise BadInputError("--replace-command: empty")
        environment = SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)
        try:
            self._parts = [environment.from_string(part) for part in parts]
        except jinja2.TemplateSyntaxError as exc:
            raise BadInputError(f"--replace-command: {exc.message}") from None
        self._timeout = timeout

    def argv(self, node: NodeInfo) -> list[str]:
        """The command for `node`. Raises BadInputError when the template uses something it is not given."""
        values = {
            "name": node.name,
            "provider_id": node.provider_id or "",
            "zone": node.labels.get(ZONE_LABEL, ""),
            "region": node.labels.get(REGION_LABEL, ""),
            "labels": dict(node.labels),
        }
        try:
            return [part.render(values) for part in self._parts]
        except jinja2.TemplateError as exc:
            raise BadInputError(f"--replace-command for node {node.name}: {exc}") from None

    def replace(self, node: NodeInfo) -> None:
        run_command(self.argv(node), timeout=self._timeout)

    def describe(self, node: NodeInfo) -> str:
        """The command line, quoted as a shell would need it to give the same arguments (it is never run
        through one)."""
        return shlex.join(self.argv(node))


class DeleteNodeReplacer:
    """Deletes the Node: the managed pool (or its autoscaler) replaces the machine with a new node."""

    def __init__(self, cluster: Cluster) -> None:
        self._cluster = cluster

    def replace(self, node: NodeInfo) -> None:
        self._cluster.delete_node(node.name)

    def describe(self, node: NodeInfo) -> str:
        return f"delete Node {node.name} (the pool re-creates its machine)"
