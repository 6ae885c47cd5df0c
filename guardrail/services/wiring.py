"""The one place that picks an adapter for each port.

Adapters are imported when first asked for: checking a JSON plan never loads python-terraform, and only
the markdown output loads jinja2, which keeps the gate fast to start.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from guardrail.config.nodes import seconds
from guardrail.config.pool_file import PoolFile
from guardrail.core.clock import Clock
from guardrail.core.kube.cluster import Cluster
from guardrail.core.nodes.ports import NodeReplacer
from guardrail.core.ports import PolicyEngine, Renderer, TerraformRunner

if TYPE_CHECKING:
    from guardrail.adapters.memory_runs import MemoryRunStore


def terraform_runner(binary: str | None) -> TerraformRunner:
    """The terraform CLI (or OpenTofu): `binary`, else $GUARDRAIL_TERRAFORM, else `terraform`."""
    from guardrail.adapters.terraform.run import TerraformCli

    return TerraformCli(binary)


def policy_engine(paths: Sequence[Path], namespaces: Sequence[str], all_namespaces: bool) -> PolicyEngine:
    """Rego policies, conftest-compatible. Raises PolicyError when one does not load."""
    from guardrail.adapters.rego import load_policies

    return load_policies(paths, namespaces=namespaces, all_namespaces=all_namespaces)


def renderer(output_format: str, *, color: bool) -> Renderer:
    """The renderer for `text`, `json`, `markdown`, `sarif` or `junit`."""
    from guardrail.adapters.render import renderer_for

    return renderer_for(output_format, color=color)


@dataclass(frozen=True)
class SimulatedPool:
    """A simulated node pool: its cluster, the clock that advances it, and how its machines are replaced."""

    cluster: Cluster
    clock: Clock
    replacer: NodeReplacer


def pool_simulator(pool: PoolFile) -> SimulatedPool:
    """The pool file's pool, simulated (guardrail.simulation): the rehearsal's cluster and clock."""
    from guardrail.adapters.node_replacers import DeleteNodeReplacer
    from guardrail.simulation.pool_sim import PoolSimulator, ReimageReplacer
    from guardrail.simulation.pool_spec import GroupSpec, PoolSpec, ReplaceMode, WorkloadSpec

    groups = tuple(
        GroupSpec(
            count=g.count,
            instance_type=g.instance_type,
            zone=g.zone,
            gpus=g.gpus,
            boot=seconds(g.boot),
            gpu_diag=seconds(g.gpu_diag) if g.gpu_diag is not None else 0.0,
            visible_gpus=g.visible_gpus,
            region=g.region,
            xid=g.xid,
            kubelet=g.kubelet,
            os_image=g.os_image,
            kernel=g.kernel,
            driver=g.driver,
            gpu_product=g.gpu_product,
        )
        for g in pool.groups
    )
    workloads = tuple(
        WorkloadSpec(w.name, w.replicas, w.namespace, w.gpus, w.min_available, w.max_unavailable, seconds(w.start))
        for w in pool.workloads
    )
    mode = ReplaceMode(pool.replace)
    spec = PoolSpec(pool.pool, seconds(pool.boot_timeout), groups, pool.seed, pool.jitter, mode, workloads)
    simulator = PoolSimulator(spec)
    replacer = ReimageReplacer(simulator) if mode is ReplaceMode.REIMAGE else DeleteNodeReplacer(simulator)
    return SimulatedPool(simulator, simulator.clock, replacer)


def memory_run_store(clock: Clock) -> MemoryRunStore:
    """Runs and their audit events in memory (a rehearsal's store), stamped with `clock`."""
    from guardrail.adapters.memory_runs import MemoryRunStore

    return MemoryRunStore(clock)
