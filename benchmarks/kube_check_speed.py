#!/usr/bin/env python3
"""Whole-process speed and memory of `guardrail kube check` on 5,000 objects against a 5,000-node inventory.

Generates the inputs: a directory of 50 manifest files (5,000 objects of the kinds a platform team applies:
namespaces, deployments with their services, config maps and secrets, RBAC, stateful sets with volume claim
templates, cron jobs, autoscalers, disruption budgets, network policies, and telemetry DaemonSets with
tolerations and node selectors), and `kubectl get nodes -o json` of 5,000 nodes in CPU, GPU and system pools
(labels, taints, conditions, images, as kubectl prints them). Then runs, alternating to share the machine's
noise:
  - reference: python -c 'yaml.load_all(..., Loader=yaml.CSafeLoader)' of the same files (the C loader)
  - guardrail kube check DIR --nodes nodes.json --format json (offline, the store included)
and prints the median wall time, CPU time, peak RSS, and the ratio to the reference. Target: <= 2 s.

    python benchmarks/kube_check_speed.py [--runs 5] [--objects 5000] [--nodes 5000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from benchlib import REPO

FILES = 50
CONFIG = """\
protect:
  - kinds: [Namespace]
    names: [payments]
    reason: money lives there
kubernetes:
  max_reach: 100
"""
# A few DaemonSet placements shared by many DaemonSets, as in a real fleet.
PLACEMENTS: list[dict[str, Any]] = [
    {"tolerations": [{"operator": "Exists"}]},
    {"nodeSelector": {"kubernetes.io/os": "linux"}},
    {"nodeSelector": {"pool": "gpu"}, "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists"}]},
    {"tolerations": [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}]},
    {
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [{"matchExpressions": [{"key": "pool", "operator": "In", "values": ["cpu"]}]}]
                }
            }
        }
    },
]


def container(name: str, i: int, secret: str | None = None, config: str | None = None) -> dict[str, Any]:
    env: list[dict[str, Any]] = [{"name": "LOG_LEVEL", "value": "info"}, {"name": "REGION", "value": "eu-west-1"}]
    if secret:
        env.append({"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": secret, "key": "password"}}})
    body: dict[str, Any] = {
        "name": name,
        "image": f"registry.example.com/team/{name}:1.{i % 40}.{i % 7}",
        "ports": [{"containerPort": 8080, "name": "http"}],
        "env": env,
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10},
    }
    if config:
        body["envFrom"] = [{"configMapRef": {"name": config}}]
    return body


def meta(name: str, namespace: str | None, app: str) -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": app, "app.kubernetes.io/part-of": "platform", "team": f"t{len(app) % 9}"}
    body: dict[str, Any] = {"name": name, "labels": labels}
    if namespace:
        body["namespace"] = namespace
    return body


def workload_objects(i: int, ns: str) -> list[dict[str, Any]]:
    app = f"svc-{i}"
    template = {
        "metadata": {"labels": {"app": app}},
        "spec": {"serviceAccountName": app, "containers": [container(app, i, f"{app}-db", f"{app}-config")]},
    }
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(app, ns, app)},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(f"{app}-config", ns, app), "data": {
            "config.yaml": "server:\n  port: 8080\n  timeout: 30s\n" * 4, "FEATURE_FLAGS": "a,b,c"}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": meta(f"{app}-db", ns, app), "type": "Opaque",
         "data": {"password": "c2VjcmV0LXBhc3N3b3JkLTEyMzQ1Ng==", "username": "YXBw"}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta(app, ns, app), "spec": {
            "replicas": 3, "selector": {"matchLabels": {"app": app}}, "template": template,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}}}},
        {"apiVersion": "v1", "kind": "Service", "metadata": meta(app, ns, app), "spec": {
            "selector": {"app": app}, "ports": [{"port": 80, "targetPort": "http", "name": "http"}]}},
        {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": meta(app, ns, app), "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": app}, "minReplicas": 3,
            "maxReplicas": 20, "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                "type": "Utilization", "averageUtilization": 70}}}]}},
        {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": meta(app, ns, app), "spec": {
            "minAvailable": 2, "selector": {"matchLabels": {"app": app}}}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta(app, ns, app), "rules": [
            {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "watch"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta(app, ns, app),
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": app},
         "subjects": [{"kind": "ServiceAccount", "name": app, "namespace": ns}]},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta(app, ns, app), "spec": {
            "podSelector": {"matchLabels": {"app": app}}, "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"team": "edge"}}}]}]}},
    ]  # fmt: skip


def special_objects(i: int, ns: str) -> list[dict[str, Any]]:
    """Every tenth group: a telemetry DaemonSet with cluster-wide RBAC, a StatefulSet, a CronJob."""
    name = f"agent-{i}"
    spec = {**PLACEMENTS[i % len(PLACEMENTS)], "serviceAccountName": name, "containers": [container(name, i)]}
    return [
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": meta(name, "kube-system", name), "spec": {
            "selector": {"matchLabels": {"app": name}}, "template": {"metadata": {"labels": {"app": name}},
                                                                     "spec": spec}}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": meta(name, None, name),
         "rules": [{"apiGroups": [""], "resources": ["pods", "nodes"], "verbs": ["get", "list", "watch"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": meta(name, None, name), "roleRef": {"apiGroup": "rbac.authorization.k8s.io",
                                                          "kind": "ClusterRole", "name": name},
         "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": "kube-system"}]},
        {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta(f"db-{i}", ns, "db"), "spec": {
            "serviceName": f"db-{i}", "replicas": 3, "selector": {"matchLabels": {"app": f"db-{i}"}},
            "template": {"metadata": {"labels": {"app": f"db-{i}"}}, "spec": {"containers": [container("db", i)]}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "100Gi"}}}}]}},
        {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta(f"backup-{i}", ns, "backup"), "spec": {
            "schedule": "0 2 * * *", "jobTemplate": {"spec": {"template": {"spec": {
                "restartPolicy": "OnFailure", "containers": [container("backup", i)]}}}}}},
    ]  # fmt: skip


def generate_manifests(folder: Path, count: int) -> int:
    """`count` objects over FILES files in `folder`; returns the number written."""
    objects: list[dict[str, Any]] = []
    group = 0
    while len(objects) < count:
        ns = f"team-{group % 50}"
        if group < 50:
            objects.append({"apiVersion": "v1", "kind": "Namespace", "metadata": meta(ns, None, ns)})
        objects.extend(workload_objects(group, ns))
        if group % 10 == 0:
            objects.extend(special_objects(group, ns))
        group += 1
    objects = objects[:count]
    folder.mkdir(parents=True, exist_ok=True)
    per_file = -(-len(objects) // FILES)
    for n in range(FILES):
        chunk = objects[n * per_file : (n + 1) * per_file]
        (folder / f"part-{n:02d}.yaml").write_text(yaml.safe_dump_all(chunk, sort_keys=False))
    return len(objects)


def generate_nodes(path: Path, count: int) -> None:
    """`kubectl get nodes -o json` of `count` nodes: 80% CPU, 18% GPU (tainted), 2% system (tainted)."""
    images = [{"names": [f"registry.example.com/base/image-{k}@sha256:{k:064x}"], "sizeBytes": 10_000_000 + k}
              for k in range(12)]  # fmt: skip
    items = []
    for i in range(count):
        pool = "system" if i % 50 == 0 else ("gpu" if i % 50 < 10 else "cpu")
        name = f"{pool}-{i:05d}"
        taints = {
            "gpu": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}],
            "system": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}],
        }.get(pool, [])
        labels = {
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            "pool": pool,
            "topology.kubernetes.io/zone": f"eu-west-1{'abc'[i % 3]}",
            "topology.kubernetes.io/region": "eu-west-1",
            "node.kubernetes.io/instance-type": f"{pool}.8xlarge",
        }
        items.append({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": labels, "creationTimestamp": "2026-01-01T00:00:00Z",
                         "uid": f"{i:08d}-0000-4000-8000-000000000000", "resourceVersion": str(100000 + i)},
            "spec": {"providerID": f"aws:///eu-west-1a/i-{i:017x}", "taints": taints},
            "status": {
                "conditions": [{"type": t, "status": "True" if t == "Ready" else "False",
                                "lastHeartbeatTime": "2026-06-01T00:00:00Z", "reason": f"Kubelet{t}"}
                               for t in ("MemoryPressure", "DiskPressure", "PIDPressure", "Ready")],
                "allocatable": {"cpu": "31850m", "memory": "123456Mi", "pods": "110",
                                **({"nvidia.com/gpu": "8"} if pool == "gpu" else {})},
                "capacity": {"cpu": "32", "memory": "130000Mi", "pods": "110"},
                "addresses": [{"type": "InternalIP", "address": f"10.{i // 65536}.{i // 256 % 256}.{i % 256}"}],
                "nodeInfo": {"kubeletVersion": "v1.32.4", "osImage": "Ubuntu 24.04 LTS", "kernelVersion": "6.8.0",
                             "containerRuntimeVersion": "containerd://1.7.20", "architecture": "amd64"},
                "images": images,
            },
        })  # fmt: skip
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items, "metadata": {}}))


def timed(argv: list[str], cwd: Path) -> tuple[float, float, float, int]:
    """Wall seconds, CPU seconds (user + system), peak RSS in MB and exit code of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--objects", type=int, default=5000)
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        return measure(args, args.keep)
    with tempfile.TemporaryDirectory(prefix="guardrail-kube-bench-") as work:
        return measure(args, Path(work))


def measure(args: argparse.Namespace, work: Path) -> int:
    manifests = work / "manifests"
    written = generate_manifests(manifests, args.objects)
    generate_nodes(work / "nodes.json", args.nodes)
    (work / "guardrail.yaml").write_text(CONFIG)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "guardrail")], check=True)
    store = f"sqlite:///{work / 'bench.db'}"
    loader = (
        "import glob, yaml\n"
        f"for f in sorted(glob.glob({str(manifests / '*.yaml')!r})):\n"
        "    list(yaml.load_all(open(f, 'rb'), Loader=yaml.CSafeLoader))\n"
    )
    reference = [sys.executable, "-c", loader]
    gate = [sys.executable, "-m", "guardrail", "kube", "check", "manifests", "--nodes", "nodes.json",
            "--config", "guardrail.yaml", "--format", "json", "--store", store]  # fmt: skip
    # A store is created on purpose, never by a command that merely names it.
    init = [sys.executable, "-m", "guardrail", "store", "init", "--store", store]
    subprocess.run(init, cwd=work, stdout=subprocess.DEVNULL, check=True)
    _, _, _, code = timed(gate, work)  # warms the page cache and checks that it works
    if code not in (0, 1, 2):
        failed = subprocess.run(gate, cwd=work, capture_output=True, text=True, check=False)
        print(f"guardrail kube check exited {code}: {failed.stderr.strip()}", file=sys.stderr)
        return 1
    ref_runs, gate_runs = [], []
    for _ in range(args.runs):
        ref_runs.append(timed(reference, work))
        gate_runs.append(timed(gate, work))
    size = sum(p.stat().st_size for p in manifests.iterdir()) / 1e6
    inventory = (work / "nodes.json").stat().st_size / 1e6
    print(f"{written:,} objects in {FILES} files ({size:.1f} MB), {args.nodes:,} nodes ({inventory:.1f} MB)")
    print(f"verdict exit code {code}; {args.runs} runs each, alternating")
    rows = (("reference CSafeLoader", ref_runs), ("guardrail kube check", gate_runs))
    for label, runs in rows:
        wall, cpu = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
        print(f"{label:<22}: {wall:6.3f} s wall  {cpu:6.3f} s cpu  peak {max(r[2] for r in runs):6.0f} MB")
    gate_wall = statistics.median(r[0] for r in gate_runs)
    ratio = gate_wall / statistics.median(r[0] for r in ref_runs)
    print(f"ratio                 : {ratio:6.2f}x the reference (wall)")
    print(f"target (<= 2.0 s whole process): {'met' if gate_wall <= 2.0 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
