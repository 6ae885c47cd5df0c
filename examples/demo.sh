#!/usr/bin/env bash
# Runs the pre-apply gate on the bundled example plans and shows each verdict and exit code.
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
exit $status
