#!/usr/bin/env bash
# Runs the pre-apply gate on the bundled example plans and shows each verdict and exit code, then
# rehearses the bundled fleet rollouts (guarded and naive).
set -u
cd "$(dirname "$0")"
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
exit $status
