"""The policies evaluated in a fresh interpreter: `python -P -m guardrail.adapters.rego.child`.

Used by a process that must not fork (it runs other threads, like the TUI) so that a runaway policy can
still be stopped at the time limit by ending this process. Reads from stdin a pickle of what the parent
loaded (policy texts, the selected rules, the input keys) and the documents (the plan, or one per
Kubernetes object), written by the parent itself; writes the query's JSON results (an array, one per
document) on stdout, or a PolicyError's message on stderr with exit status 3.
"""

from __future__ import annotations

import pickle
import sys

from guardrail.adapters.rego.engine import RegoPolicyEngine
from guardrail.adapters.rego.spawned import CHILD_POLICY_ERROR
from guardrail.core.errors import PolicyError


def main() -> int:
    files, selection, input_keys, documents = pickle.loads(sys.stdin.buffer.read())  # written by our own parent
    engine = RegoPolicyEngine(files, selection, "inline", None, input_keys)
    try:
        result = engine.raw_results_each(documents)
    except PolicyError as error:
        sys.stderr.write(str(error))
        return CHILD_POLICY_ERROR
    sys.stdout.write(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
