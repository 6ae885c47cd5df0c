#!/usr/bin/env bash
# Runs the pre-apply gate on the bundled example plans, then rehearses the bundled node-pool cycles, and
# shows each verdict and exit code.
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
