#!/usr/bin/env bash
# Runs the pre-apply gate on the bundled example plans and Kubernetes manifests, then rehearses the
# bundled fleet rollouts (guarded and naive) and node-pool cycles, and shows each verdict and exit code.
set -u
cd "$(dirname "$0")"
# The store of locks, approvals and the audit log: created on purpose (a mistyped store is refused).
guardrail store init --config guardrail.yaml || exit 3
status=0
for case in allowed:0 denied:1 needs-approval:2; do
  name=${case%%:*}
  expected=${case##*:}
  printf '\n==================== %s ====================\n' "$name"
  guardrail check "$name/plan.json" --config guardrail.yaml "$@"
  code=$?
  printf -- '--> exit code %s (expected %s)\n' "$code" "$expected"
  [ "$code" = "$expected" ] || status=1
done

# Kubernetes: each case is a folder, the expected exit code, and the arguments of guardrail kube check.
kube_case() {
  local name=$1 expected=$2
  shift 2
  printf '\n==================== kubernetes/%s ====================\n' "$name"
  (cd "kubernetes/$name" && guardrail kube check "$@")
  code=$?
  printf -- '--> exit code %s (expected %s)\n' "$code" "$expected"
  [ "$code" = "$expected" ] || status=1
}
# A telemetry DaemonSet that tolerates every taint, with cluster-wide list/watch RBAC: needs approval.
kube_case telemetry 2 daemonset.yaml rbac.yaml --nodes nodes.json --config guardrail.yaml "$@"
# Deleting a CustomResourceDefinition deletes every custom resource of it: needs approval.
kube_case crd-delete 2 backups.yaml --delete --config guardrail.yaml "$@"
# API versions that Kubernetes 1.33 no longer serves: denied by the deprecated-API rule.
kube_case removed-api 1 legacy.yaml --target-version 1.33 "$@"

# The December outage rehearsed on a simulated fleet: the guarded canary halts after the first canary,
# the naive apply takes the largest cluster down, and the fixed agent (node-scoped lists) completes.
for case in december:guarded:1 december:naive:1 december-node-scoped:guarded:0; do
  IFS=: read -r fleet strategy expected <<<"$case"
  printf '\n==================== rehearsal: %s, %s ====================\n' "$fleet" "$strategy"
  guardrail rollout rehearse "rollout/$fleet.yaml" --strategy "$strategy"
  code=$?
  printf -- '--> exit code %s (expected %s)\n' "$code" "$expected"
  [ "$code" = "$expected" ] || status=1
done

# GPU node-pool cycles on a simulated pool: the westus2 ND96 stratum's boot runs past the provider's
# timeout and the cycle stops at its canary; a node that rejoins short of GPUs is caught by validation.
for case in nodes/healthy:0 nodes/outage:1 nodes/missing-gpu:1; do
  name=${case%%:*}
  expected=${case##*:}
  printf '\n==================== rehearse %s ====================\n' "$name"
  guardrail nodes rehearse "$name.yaml" --config guardrail.yaml
  code=$?
  printf -- '--> exit code %s (expected %s)\n' "$code" "$expected"
  [ "$code" = "$expected" ] || status=1
done
exit $status
