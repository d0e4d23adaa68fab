"""Results page data load for a session with 1,000 participants x 10 messages, a synthesis run stored. Target < 1 s.

The results page (pages/results.py) reads stored synthesis runs; on every Streamlit rerun it loads, all from
core/results/ and in this order:

    results.open (its one access check, with the capabilities), then participants, synthesis_status,
    synthesis_view (the latest stored run), overview, pinned_insights

This script builds the session (bench/_setup.bulk_load), stores one offline synthesis run with
`core.synthesis.pipeline.synthesize(db, [session_id])` (timed separately and printed: it is not part of a page
load), then times that sequence: the first load after opening the file ("cold") and the p50 of 10 warm loads,
wall clock and process CPU, with the warm p50 of each call. It also times, warm, what the page's tabs compute
beside it (segment_fields, segments for the first form field, coverage, codebook_edits), reported apart.
By default everything is measured a second time with the session inside a database that also holds ~100k
messages of other sessions (--no-background skips it).

    python -m bench.results_load [--participants 1000] [--messages 10] [--no-background] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import time
from pathlib import Path

from bench._setup import (
    SEED,
    TextBank,
    build_database,
    make_owner,
    ms,
    print_footer,
    print_header,
    reopen,
    temp_database,
    timed_cpu,
)
from core import results
from core.repos import synthesis as synrepo
from core.synthesis.pipeline import synthesize

TARGET_S = 1.0
WARM_CALLS = 10
PAGE_CALLS = ("participants", "synthesis_status", "synthesis_view", "overview", "pinned_insights")   # after open


def page_load(db, owner, session_id: str) -> dict[str, tuple[float, float]]:
    """The calls of one results-page rerun, in the page's order: {name: (wall s, CPU s)}; checks what they return."""
    opened, wall, cpu = timed_cpu(results.open, db, owner, session_id)
    times: dict[str, tuple[float, float]] = {"open": (wall, cpu)}
    for name in PAGE_CALLS:
        out, wall, cpu = timed_cpu(getattr(opened, name))
        if name == "synthesis_view" and (out is None or not out.themes):
            raise RuntimeError("synthesis_view returned no stored run with themes")
        times[name] = (wall, cpu)
    return times


def tab_load(db, owner, session_id: str) -> dict[str, float]:
    """What the page's tabs compute beside the load (wall s each): segment table of the first field, coverage."""
    opened = results.open(db, owner, session_id)
    view = opened.synthesis_view()
    times = {}
    fields, times["segment_fields"] = timed_cpu(opened.segment_fields)[:2]
    if fields:
        times["segments"] = timed_cpu(opened.segments, view, next(iter(fields)))[1]
    times["coverage"] = timed_cpu(opened.coverage)[1]
    times["codebook_edits"] = timed_cpu(opened.codebook_edits)[1]
    return times


def measure(path: Path, owner, session_id: str, profile: bool) -> dict:
    db = reopen(path)  # cold: a freshly opened file, nothing in DuckDB's buffer cache
    cold = page_load(db, owner, session_id)
    warm = [page_load(db, owner, session_id) for _ in range(WARM_CALLS)]
    tabs = [tab_load(db, owner, session_id) for _ in range(5)]

    opened = results.open(db, owner, session_id)
    res, view = opened.participants(), opened.synthesis_view()
    total = lambda t, i: sum(v[i] for v in t.values())  # noqa: E731
    figures = {
        "participants": len(res.participants), "counted": res.included, "themes": len(view.themes),
        "statements": len(view.statements), "up_to_date": view.up_to_date,
        "cold": total(cold, 0), "cold_cpu": total(cold, 1),
        "warm_p50": statistics.median(total(w, 0) for w in warm), "warm_max": max(total(w, 0) for w in warm),
        "warm_cpu_p50": statistics.median(total(w, 1) for w in warm),
        "cold_parts": {k: v[0] for k, v in cold.items()},
        "warm_parts": {k: statistics.median(w[k][0] for w in warm) for k in ("open", *PAGE_CALLS)},
        "tabs": {k: statistics.median(t[k] for t in tabs) for k in tabs[0]},
    }
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        page_load(db, owner, session_id)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("cumulative").print_stats(25)
        figures["profile"] = out.getvalue()
    return figures


def report(label: str, f: dict) -> None:
    print(f"-- {label}")
    print(f"   session: {f['participants']:,} participants ({f['counted']:,} counted); stored run: "
          f"{f['statements']:,} statements -> {f['themes']} themes; up to date: {f['up_to_date']}")
    print(f"   page data load ({' + '.join(('open', *PAGE_CALLS))}):")
    print(f"     cold (first load after open) {ms(f['cold']):.0f} ms; warm p50 of {WARM_CALLS} "
          f"{ms(f['warm_p50']):.0f} ms (max {ms(f['warm_max']):.0f} ms)")
    print(f"     process CPU time: cold {ms(f['cold_cpu']):.0f} ms; warm p50 {ms(f['warm_cpu_p50']):.0f} ms "
          f"(less sensitive to other load)")
    print("     per call, cold: " + "  ".join(f"{k}={ms(v):.0f}" for k, v in f["cold_parts"].items()) + " ms")
    print("     per call, warm p50: " + "  ".join(f"{k}={ms(v):.0f}" for k, v in f["warm_parts"].items()) + " ms")
    print("   tabs beside the load (warm p50, not in the figure above): "
          + "  ".join(f"{k}={ms(v):.0f}" for k, v in f["tabs"].items()) + " ms")
    worst = max(f["cold"], f["warm_p50"])
    print(f"   target < {TARGET_S:.0f} s: {'PASS' if worst < TARGET_S else 'OVER TARGET'} "
          f"(worst of cold/warm = {ms(worst):.0f} ms)")
    if "profile" in f:
        print(f["profile"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=10, help="messages per participant")
    parser.add_argument("--no-background", action="store_true",
                        help="skip the second run inside a database with ~100k other messages")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)

    print_header(f"results_load: results page data load for {args.participants:,} participants x "
                 f"{args.messages} messages, one stored synthesis run")
    scenarios = [("alone in its database", [])]
    if not args.no_background:
        scenarios.append(("beside 100k messages of other sessions (4,000 participants x 25)", [(2000, 25)] * 2))
    for label, background in scenarios:
        bank = TextBank(SEED)
        with temp_database("harmonica-bench-results-") as (db, path):
            started = time.perf_counter()
            owner = make_owner(db)
            built = build_database(db, background + [(args.participants, args.messages)], bank, owner=owner)
            session = built.sessions[-1]
            print(f"   built {built.participants:,} participants / {built.messages:,} messages in "
                  f"{time.perf_counter() - started:.1f} s (text: {bank.source})")
            outcome, wall, cpu = timed_cpu(synthesize, db, [session.id])
            embedder = synrepo.get_run(db, outcome.run_id).embedder
            print(f"   synthesis stored beforehand (pipeline.synthesize, {outcome.kind}, offline, {embedder}): "
                  f"{wall:.1f} s wall, {cpu:.1f} s process CPU; {outcome.stats.get('statements', 0):,} statements, "
                  f"{outcome.stats.get('themes', 0)} themes")
            figures = measure(path, owner, session.id, args.profile)
            report(label, figures)
            if figures["cold"] >= TARGET_S or figures["warm_p50"] >= TARGET_S:
                if "profile" not in figures:
                    print(measure(path, owner, session.id, True)["profile"])
    print_footer()
    return 0


if __name__ == "__main__":
    sys.exit(main())
