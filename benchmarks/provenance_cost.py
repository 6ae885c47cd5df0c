#!/usr/bin/env python3
"""What provenance costs a check: GitPython's import, and `guardrail check` outside and inside a repository.

Runs, alternating to share the machine's noise, each as a whole process:
  - import git: `python -c 'import git'` against `python -c 'pass'` (the interpreter alone)
  - guardrail --help
  - guardrail check PLAN with the plan outside any repository (GitPython must not even be imported)
  - the same plan committed in a repository (clean), and in one whose audit log holds N earlier applies
and prints the median wall time of each and the difference inside vs outside. The plan is small (the
example needing approval) so that the cost of provenance is not hidden under a large parse.

    python benchmarks/provenance_cost.py [--runs 15] [--applies 2000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import REPO

PLAN = REPO / "examples" / "needs-approval" / "plan.json"
GUARDRAIL = [str(Path(sys.executable).parent / "guardrail")]
BARE, IMPORT_GIT, OUTSIDE = "python -c pass", "python -c 'import git'", "check, outside a repository"
GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def seed_applies(store: str, workspace: str, count: int) -> None:
    """An audit log of `count` applies, as they are recorded (a check, apply-start, apply-end each), half of
    them of this workspace and half of another: what the check reads to find the last one of its own."""
    script = (
        "import sys\n"
        "from guardrail.adapters.store import open_store\n"
        "from guardrail.core.audit import EventDraft, EventKind\n"
        "store = open_store(sys.argv[1])\n"
        "for n in range(int(sys.argv[3])):\n"
        "    where = sys.argv[2] if n % 2 else '/elsewhere#default'\n"
        "    plan = f'sha256:{n:064x}'\n"
        "    store.append(EventDraft('bench', EventKind.CHECK, {'addresses': ['a.b'] * 20}, plan))\n"
        "    store.append(EventDraft('bench', EventKind.APPLY_START, {'workspace': where}, plan))\n"
        "    made = {'repository': '/r', 'commit': f'{n:040x}'}\n"
        "    payload = {'workspace': where, 'status': 'succeeded', 'provenance': made}\n"
        "    store.append(EventDraft('bench', EventKind.APPLY_END, payload, plan))\n"
        "store.close()\n"
    )
    subprocess.run([sys.executable, "-c", script, store, workspace, str(count)], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--applies", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="guardrail-provenance-bench-") as temp:
        root = Path(temp)
        outside, inside, logged = root / "outside", root / "repo", root / "logged"
        for folder in (outside, inside, logged):
            (folder / "stack").mkdir(parents=True)
            shutil.copyfile(PLAN, folder / "stack" / "plan.json")
            (folder / "stack" / "main.tf").write_text("# the configuration the plan came from\n")
        for repo in (inside, logged):
            for git in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "bench"]):
                subprocess.run(["git", *git], cwd=repo, env=GIT_ENV, check=True)
        env = {**GIT_ENV, "GUARDRAIL_ACTOR": "bench"}
        stores = {name: f"sqlite:///{root / name}.db" for name in ("outside", "inside", "logged")}
        seed_applies(stores["logged"], f"{(logged / 'stack').resolve()}#default", args.applies)
        cases = {
            BARE: ([sys.executable, "-c", "pass"], root),
            IMPORT_GIT: ([sys.executable, "-c", "import git"], root),
            "guardrail --help": ([*GUARDRAIL, "--help"], root),
            OUTSIDE: (
                [*GUARDRAIL, "check", "stack/plan.json", "--store", stores["outside"]],
                outside,
            ),
            "check, in a clean repository": (
                [*GUARDRAIL, "check", "stack/plan.json", "--store", stores["inside"]],
                inside,
            ),
            f"check, in a repository, {args.applies} applies logged": (
                [*GUARDRAIL, "check", "stack/plan.json", "--store", stores["logged"]],
                logged,
            ),
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.runs):
            for name, (argv, cwd) in cases.items():
                times[name].append(timed(argv, cwd, env))
    medians = {name: statistics.median(found) for name, found in times.items()}
    width = max(len(name) for name in medians)
    for name, median in medians.items():
        print(f"{name:<{width}}  {median * 1000:7.1f} ms")
    base = medians[OUTSIDE]
    print(f"import git over the bare interpreter: {(medians[IMPORT_GIT] - medians[BARE]) * 1000:.1f} ms")
    for name in list(medians)[-2:]:
        print(f"{name} vs outside: {(medians[name] - base) * 1000:+.1f} ms ({medians[name] / base:.2f}x)")


if __name__ == "__main__":
    main()
