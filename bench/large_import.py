"""Large CSV import and the Results page at 20k / 50k / 200k rows (issue 15, point 7): import time, the first
Results load (the core calls the page makes), each tab's calls, the background synthesis, peak RSS of each phase.

Each size runs in its own process (peak RSS is per process). Within it, in order:

1. a CSV of N rows (respondent id, one open answer of 5-30 words from the Polis comments or the generated
   vocabulary, a team attribute) is built in memory;
2. **import**: `core.importer.import_responses` (parse, quote check, column-wise frames, bulk DataFrame inserts);
3. **first Results load before any synthesis**, on a freshly reopened database (cold): what pages/results.py calls
   on its first run with the Summary tab open, in the page's order: `results_session`, `capabilities`,
   `synthesis_view`, `synthesis_progress`, `overview`; then each other tab's calls on opening it
   (Participants: `participants_page`; Coverage: `coverage_counts`; By segment: `segment_fields`);
4. with `--synthesize`: **the offline synthesis** the import page starts in the background
   (`core.results.run_synthesis`, timed here in the foreground), then **the first Results load with that run
   stored**, cold again (the same calls, plus `segments` for the By segment tab and `codebook_edits`);
5. with `--page`: the whole results page through Streamlit's AppTest (Home.py + switch_page, rendering included),
   Summary tab, then the Participants tab, after the last state above.

Peak RSS is measured per phase (VmHWM, reset to the current RSS through /proc/self/clear_refs before each phase,
Linux >= 4.0), so the synthesis' peak does not hide the page's; the RSS a phase starts from is printed beside it
(memory the import freed is not always returned to the system). Wall and process CPU times are printed: on a busy
machine CPU time moves much less. Nothing here asserts a time; figures go to bench/RESULTS.md.

    python -m bench.large_import [--sizes 20000,50000,200000] [--synthesize] [--page]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from bench._setup import SEED, TextBank, make_owner, print_footer, print_header, reopen, temp_database
from core import results
from core.importer import ImportSpec, import_responses

ROOT = Path(__file__).resolve().parents[1]
FIRST_LOAD = ("synthesis_view", "synthesis_progress", "overview")   # after results.open (access, capabilities)
TEXT = "What should change?"


def _status(name: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1]) // 1024
    return 0


def reset_peak() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def peak_mb() -> int:
    return _status("VmHWM")


def rss_mb() -> int:
    return _status("VmRSS")


def build_csv(n: int) -> bytes:
    bank, rng = TextBank(SEED), random.Random(SEED)
    return pd.DataFrame({"Respondent": [f"R{i:06d}" for i in range(n)],
                         TEXT: [bank.answer(5, 30) for _ in range(n)],
                         "Team": [rng.choice(["North", "South", "East", "West"]) for _ in range(n)]}
                        ).to_csv(index=False).encode()


def timed_calls(opened: results.SessionResults, calls: list[tuple[str, tuple]]) -> dict[str, float]:
    out = {}
    for name, args in calls:
        started = time.perf_counter()
        getattr(opened, name)(*args)
        out[name] = time.perf_counter() - started
    return out


def timed_first_load(db, owner, session_id: str) -> tuple[results.SessionResults, dict[str, float]]:
    """What the page's first rerun calls: results.open (its one access check), then FIRST_LOAD."""
    started = time.perf_counter()
    opened = results.open(db, owner, session_id)
    return opened, {"open": time.perf_counter() - started} | timed_calls(opened, [(n, ()) for n in FIRST_LOAD])


def page_load(path: Path, owner, session_id: str, with_run: bool) -> dict:
    """Cold first load (the Summary tab), then each tab's own calls; wall seconds and this phase's peak RSS."""
    start_mb = rss_mb()
    reset_peak()
    db = reopen(path)
    opened, first = timed_first_load(db, owner, session_id)
    view = opened.synthesis_view()
    tabs = {"participants_page": timed_calls(opened, [("participants_page", (0,))]),
            "coverage_counts": timed_calls(opened, [("coverage_counts", ())])}
    if with_run and view is not None:
        fields = opened.segment_fields()
        started = time.perf_counter()
        opened.segments(view, next(iter(fields)))
        tabs["segments"] = {"segments": time.perf_counter() - started}
        tabs["codebook_edits"] = timed_calls(opened, [("codebook_edits", ())])
    warm = timed_first_load(db, owner, session_id)[1]
    return {"first": first, "first_total": sum(first.values()), "warm_total": sum(warm.values()),
            "tabs": {k: sum(v.values()) for k, v in tabs.items()}, "peak_mb": peak_mb(), "rss_mb": rss_mb(),
            "start_mb": start_mb,
            "themes": len(view.themes) if view is not None else 0}


def apptest_page(path: Path, session_id: str) -> dict:
    """The whole page through AppTest (rendering included): Summary tab, then Participants."""
    from streamlit.testing.v1 import AppTest

    os.environ["HARMONICA_DB"] = str(path)
    out = {}
    reset_peak()
    for tab in ("Summary", "Participants"):
        at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=1800)
        for key, value in {"authentication_status": True, "username": "bench", "name": "Bench Creator",
                           "logout": None}.items():
            at.session_state[key] = value
        at.query_params["s"], at.query_params["tab"] = session_id, tab
        at.switch_page("pages/results.py")
        started = time.perf_counter()
        at.run()
        out[tab] = time.perf_counter() - started
        if at.exception:
            raise RuntimeError(f"the results page raised: {at.exception}")
    out["peak_mb"] = peak_mb()
    return out


def one(n: int, synthesize: bool, page: bool) -> dict:
    os.environ["HARMONICA_AUTO_SYNTHESIS"] = "0"
    figures: dict = {"rows": n}
    data = build_csv(n)
    figures["csv_mb"] = len(data) / 1e6
    figures["rss_before_import_mb"] = rss_mb()
    with temp_database("harmonica-bench-import-") as (db, path):
        owner = make_owner(db)
        reset_peak()
        started, cpu = time.perf_counter(), time.process_time()
        imported = import_responses(db, owner, data, ImportSpec("Large import", [TEXT], "Respondent", ["Team"]),
                                    filename="large.csv")
        figures["import"] = {"wall": time.perf_counter() - started, "cpu": time.process_time() - cpu,
                             "peak_mb": peak_mb(), "participants": imported.participants,
                             "answers": imported.answers}
        del data
        figures["before_run"] = page_load(path, owner, imported.session_id, False)
        if synthesize:
            db = reopen(path)
            reset_peak()
            started, cpu = time.perf_counter(), time.process_time()
            outcome = results.open(db, owner, imported.session_id).run_synthesis(trigger="import")
            figures["synthesis"] = {"wall": time.perf_counter() - started, "cpu": time.process_time() - cpu,
                                    "peak_mb": peak_mb(), "statements": outcome.stats.get("statements", 0),
                                    "themes": outcome.stats.get("themes", 0)}
            figures["with_run"] = page_load(path, owner, imported.session_id, True)
        if page:
            figures["apptest"] = apptest_page(path, imported.session_id)
    return figures


def report(f: dict) -> None:
    ms = lambda s: f"{s * 1000:,.0f} ms" if s < 10 else f"{s:,.1f} s"  # noqa: E731
    imp = f["import"]
    print(f"-- {f['rows']:,} rows (CSV {f['csv_mb']:.0f} MB; process RSS before the import "
          f"{f['rss_before_import_mb']:,} MB)")
    print(f"   import: {ms(imp['wall'])} wall, {ms(imp['cpu'])} CPU; peak RSS {imp['peak_mb']:,} MB; "
          f"{imp['participants']:,} participants, {imp['answers']:,} answers")
    for key, label in (("before_run", "before any synthesis"), ("with_run", "with the synthesis run stored")):
        if key not in f:
            continue
        p = f[key]
        print(f"   first Results load, {label} (cold): {ms(p['first_total'])}  "
              + "  ".join(f"{k}={ms(v)}" for k, v in p["first"].items()))
        print(f"      warm rerun {ms(p['warm_total'])}; tabs on opening: "
              + "  ".join(f"{k}={ms(v)}" for k, v in p["tabs"].items())
              + f"; RSS {p['start_mb']:,} MB before, peak {p['peak_mb']:,} MB, {p['rss_mb']:,} MB after")
    if "synthesis" in f:
        s = f["synthesis"]
        print(f"   offline synthesis (background on the server): {ms(s['wall'])} wall, {ms(s['cpu'])} CPU; "
              f"peak RSS {s['peak_mb']:,} MB; {s['statements']:,} statements, {s['themes']} themes")
    if "apptest" in f:
        a = f["apptest"]
        print(f"   whole page via AppTest (rendering included): Summary {ms(a['Summary'])}, Participants "
              f"{ms(a['Participants'])}; peak RSS {a['peak_mb']:,} MB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000,50000,200000")
    parser.add_argument("--synthesize", action="store_true", help="also time the offline synthesis (minutes at 200k)")
    parser.add_argument("--page", action="store_true", help="also render the whole page through AppTest")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one(args.one, args.synthesize, args.page)))
        return 0
    print_header("large_import: CSV import and the Results page at " + ", ".join(
        f"{int(n):,}" for n in args.sizes.split(",")) + " rows")
    for n in (int(x) for x in args.sizes.split(",")):
        cmd = [sys.executable, "-m", "bench.large_import", "--one", str(n)] + \
            (["--synthesize"] if args.synthesize else []) + (["--page"] if args.page else [])
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        if done.returncode != 0:
            print(f"-- {n:,} rows: failed\n{done.stderr[-3000:]}")
            continue
        report(json.loads(done.stdout.strip().splitlines()[-1]))
    print_footer()
    return 0


if __name__ == "__main__":
    sys.exit(main())
