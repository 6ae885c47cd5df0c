#!/usr/bin/env python3
"""How fast the TUI opens an 11,000-change plan and how fast its filter answers.

Builds (or reuses) the plan with ../shared/tools/gen_plan.py --stacks 200, then, in one process, runs the
app headless (App.run_test, 120x40) several times on a fresh SQLite store and reports medians of:

  first paint  : from starting the app until run_test hands over: the Review screen is mounted and its first
                 frame composed (header saying the plan is being checked, change list still empty); the
                 headless driver composes frames but writes them nowhere. The check runs in a worker.
  populated    : from starting the app to the Review screen showing the verdict and all 11,000 changes
                 (check + locks + approvals gate + list filled + a frame painted).
  filter       : one filter round-trip on the populated list: `action:delete` put in the filter box until
                 the narrowed list is painted, then cleared back to all changes.
  reference    : the bare `check` service on the same plan in the same process (parse, rules, blast radius),
                 without the store, the app or any drawing.

Target: first paint <= 1 s; the populated figure is reported against the reference (ratio).

    python benchmarks/tui_first_paint.py [--runs 3] [--stacks 200] [--keep DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchlib import CONFIG, generate_plan

from guardrail.config import load_settings
from guardrail.services.check import CheckRequest, check
from guardrail.services.session import OperatorSession
from guardrail.services.store import initialise
from guardrail.tui.app import GuardrailApp, make_app
from guardrail.tui.widgets.change_list import ChangeList

SIZE = (120, 40)


async def one_run(plan: Path, work: Path, run: int) -> tuple[float, float, float, int]:
    settings = load_settings(work / "guardrail.yaml", required=True)
    store_url = f"sqlite:///{work / f'store-{run}.db'}"
    initialise(store_url, settings)  # a fresh store each run, created on purpose as `guardrail store init` does
    session = OperatorSession(settings, store_url=store_url)
    start = time.perf_counter()
    app: GuardrailApp = make_app(session, [plan])
    async with app.run_test(size=SIZE) as pilot:
        first_paint = time.perf_counter() - start  # run_test hands over once the first screen is up
        changes = app.screen.query_one(ChangeList)
        while app.review is None or changes.row_count == 0:
            if app.review_problem:
                raise SystemExit(app.review_problem)
            await asyncio.sleep(0.005)
        await pilot.pause()
        populated = time.perf_counter() - start
        rows = changes.row_count
        box = app.screen.query_one("#filter")
        began = time.perf_counter()
        box.value = "action:delete"  # type: ignore[attr-defined]
        await pilot.pause()
        box.value = ""  # type: ignore[attr-defined]
        await pilot.pause()
        filtered = (time.perf_counter() - began) / 2
    return first_paint, populated, filtered, rows


def reference(plan: Path, work: Path) -> float:
    settings = load_settings(work / "guardrail.yaml", required=True)
    start = time.perf_counter()
    check(CheckRequest(plan=plan, settings=settings, freeze=False))
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--stacks", type=int, default=200)
    parser.add_argument("--keep", type=Path, help="work (and keep the generated plan) in this folder")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.gettempdir()) / "guardrail-bench-tui"
    work.mkdir(parents=True, exist_ok=True)
    (work / "guardrail.yaml").write_text(CONFIG)
    plan = generate_plan(args.stacks, work / f"plan-{args.stacks}.json")  # built once per folder and size
    reference(plan, work)  # warm the page cache and the imports
    refs, paints, fills, filters = [], [], [], []
    rows = 0
    for run in range(args.runs):
        refs.append(reference(plan, work))
        first, populated, filtered, rows = asyncio.run(one_run(plan, work, run))
        paints.append(first)
        fills.append(populated)
        filters.append(filtered)
        (work / f"store-{run}.db").unlink(missing_ok=True)
    ref = statistics.median(refs)
    paint, fill, filt = statistics.median(paints), statistics.median(fills), statistics.median(filters)
    print(f"plan: {plan} ({plan.stat().st_size / 1e6:.1f} MB), {rows:,} changes listed, {args.runs} runs, {SIZE}")
    print(f"reference check()      : {ref:6.3f} s")
    print(f"TUI first paint        : {paint:6.3f} s  (first frame composed, headless; plan still being checked)")
    print(f"TUI populated          : {fill:6.3f} s  ({fill / ref:.2f}x the reference: check + gate + list)")
    print(f"filter round-trip      : {filt * 1000:6.1f} ms (narrow to action:delete, painted)")
    print(f"target first paint <= 1.0 s: {'met' if paint <= 1.0 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
