"""Page speed in a real browser (headless Chromium, Playwright): `python -m bench.page_speed [--participants 0 1000]`.

For each size, a seeded demo (`python -m core seed-demo`: 30 simulated participants of the retrospective, offline
synthesis) on a real `streamlit run Home.py` server; with `--participants N` > 0, N more finished participants x 10
messages are bulk-loaded into the demo session (bench/_setup.bulk_load) and synthesised before the server starts.
The creator is signed in once; then, `--repeats` times each (the first of each is reported apart as "first"):

- **Results**: navigation to /results?s=… (a page load: a new Streamlit session) → the tab list visible ("shown"),
  and → the page idle ("settled": no script run, no stale element, the running indicator hidden; the 250 ms quiet
  period the harness waits for is subtracted); then the same from the dashboard's Results link (in-app
  navigation, what a signed-in person does: no page load). Tabs load lazily on large sessions, so the Summary
  tab is what opens.
- **Tab switch**: a click on Themes → its chart visible, then on Participants → its table visible.
- **Public results** (a public link made before the server starts): navigation → the theme chart visible.
- **Design**: navigation → the guide tab's first question card visible; then a click on the form tab → its first
  field card visible.
- **Chat**: a participant's Send → the facilitator's next message shown.
- **Skeletons**: the longest time any Streamlit placeholder (`stSkeleton`) stayed on screen in each measurement
  (its p50 and max over the repeats).
- **Click → shown, page clock** (clicks only): from the pointer going down to the first frame in which what the
  click waited for is shown, timed in the page. Playwright's "shown" also holds its click's readiness checks and
  its expect's polling, which a person never waits for.

Every action comes 2 s after the page settled (THINK_MS), as a person reading it would: a page that stayed
drawn for 1 s loads the browser's element code (ui/warm.py), which a click at machine speed would find still busy.

Script runs per navigation are counted (a fresh page runs twice: the cookie component reports, then the page
reruns). Figures are wall clock in the browser, on the same 2 cores as the server: read them as relative.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench._setup import TextBank, bulk_load, machine_info
from tests.e2e import harness

QUIET_MS = 250
THINK_MS = 2000   # a person reads a page before the next click; the pages preload element code in that time

# Counts script runs and the longest time a placeholder skeleton stayed visible, from page load on.
_WATCH = """
(() => {
  window.__runs = 0; window.__skeletonMax = 0;
  let state = null, since = null;
  const tick = () => {
    const app = document.querySelector('[data-testid="stApp"]');
    const now = app && app.getAttribute('data-test-script-state');
    if (now === 'running' && state !== 'running') window.__runs += 1;
    state = now;
    const visible = [...document.querySelectorAll('[data-testid="stSkeleton"]')].some(e => e.getClientRects().length);
    const t = performance.now();
    if (visible && since === null) since = t;
    if (!visible && since !== null) { window.__skeletonMax = Math.max(window.__skeletonMax, t - since); since = null; }
    if (since !== null) window.__skeletonMax = Math.max(window.__skeletonMax, t - since);
  };
  setInterval(tick, 20);
  // A person's click to what they waited for, on the page's own clock: from the pointer going down to the first frame
  // where window.__want() holds (Playwright's click first checks the element is ready, and its expect polls).
  document.addEventListener('pointerdown', () => {
    const want = window.__want;
    if (!want) return;
    const down = performance.now();
    window.__seen = null;
    const frame = () => { if (want()) window.__seen = performance.now() - down; else requestAnimationFrame(frame); };
    requestAnimationFrame(frame);
  }, true);
})();
"""
# What a click waits for, tested in the page each frame: `in_tab(name, css)` an element of the tab's panel shown.
_IN_TAB = """const tab = [...document.querySelectorAll('[role=tab]')].find(t => t.textContent.trim() === %s);
const panel = tab && document.getElementById(tab.getAttribute('aria-controls'));
return !!panel && [...panel.querySelectorAll(%s)].some(e => e.getClientRects().length > 0);"""


def in_tab(name: str, css: str) -> str:
    return _IN_TAB % (json.dumps(name), json.dumps(css))


def prepare(extra: int):
    """Before the server starts: N more participants in the demo session, a synthesis, a public link."""
    def run(path: Path, demo: harness.Demo) -> None:
        os.environ.setdefault("HARMONICA_OFFLINE", "1")
        from core import conversation
        from core.db import open_database
        from core.repos import sessions as srepo
        from core.repos import users as urepo
        from core.sharing import PUBLIC_SECTIONS, create_public_link, set_visibility
        from core.synthesis.pipeline import synthesize

        db = open_database(path)
        session = srepo.get_session(db, demo.session_id)
        if extra:
            bulk_load(db, session, extra, 10, TextBank(), finished_share=1.0)
            synthesize(db, [session.id])
        owner = urepo.get_by_username(db, demo.username)
        set_visibility(db, owner, session.id, "public")
        prepare.public_token = create_public_link(db, owner, session.id, list(PUBLIC_SECTIONS))
        form = {f.key: (f.options[0] if f.options else 5 if f.type == "number" else "Bench")
                for f in srepo.get_form(db, session.id)}
        prepare.chat_tokens = [conversation.join(db, session.id, form).token for _ in range(2)]
        db.close()
    return run


def timed(page, action, ready, want: str | None = None) -> tuple[float, float, int, float, float | None]:
    """(shown s, settled s, script runs, longest skeleton s, click to shown in the page s or None) of `action()`
    until `ready()` and then idle; `want`: the body of a JS function true once what `ready` waits for is shown (a
    click's own clock, see _WATCH)."""
    page.wait_for_timeout(THINK_MS)
    page.evaluate("want => { window.__runs = 0; window.__skeletonMax = 0; window.__seen = null;"
                  " window.__want = want ? new Function(want) : null; }", want)
    start = time.perf_counter()
    action()
    ready()
    shown = time.perf_counter() - start
    harness.wait_idle(page, quiet_ms=QUIET_MS)
    settled = time.perf_counter() - start - QUIET_MS / 1000
    seen = page.evaluate("window.__seen") if want else None
    return (shown, max(settled, shown), page.evaluate("window.__runs"), page.evaluate("window.__skeletonMax") / 1000,
            seen / 1000 if seen is not None else None)


def measure(extra: int, repeats: int) -> dict[str, list[tuple[float, float, int, float]]]:
    from playwright.sync_api import expect, sync_playwright

    out: dict[str, list] = {}
    with tempfile.TemporaryDirectory(prefix="harmonica_speed_") as tmp, sync_playwright() as pw:
        started = time.perf_counter()
        with harness.demo_server(Path(tmp), participants=30, prepare=prepare(extra)) as (server, demo):
            print(f"  set-up (seed, load {extra}, synthesis, server): {time.perf_counter() - started:.0f} s")
            browser = harness.launch_browser(pw)
            context = harness.new_context(browser)
            context.add_init_script(_WATCH)
            page = context.new_page()
            harness.sign_in(page, server.url, demo.username, demo.password)
            results = f"{server.url}/results?s={demo.session_id}"

            def go(url: str):
                return lambda: page.goto(url, wait_until="commit")

            def visible(locator):
                return lambda: expect(locator).to_be_visible(timeout=120_000)

            for _ in range(repeats):
                out.setdefault("Results: open", []).append(timed(
                    page, go(results), visible(page.get_by_role("tab", name="Themes"))))
                harness.goto(page, server.url + "/")
                out.setdefault("Results: from the dashboard's link (no reload)", []).append(timed(
                    page, lambda: page.locator('[data-testid="stMain"]').get_by_role("link", name="Results").first
                    .click(), visible(page.get_by_role("tab", name="Themes"))))
                out.setdefault("Results: switch to Themes", []).append(timed(
                    page, lambda: page.get_by_role("tab", name="Themes").click(),
                    visible(page.get_by_role("tabpanel", name="Themes").locator(".js-plotly-plot").first),
                    in_tab("Themes", ".js-plotly-plot")))
                out.setdefault("Results: switch to Participants", []).append(timed(
                    page, lambda: page.get_by_role("tab", name="Participants").click(),
                    visible(page.get_by_role("tabpanel", name="Participants")
                            .locator('[data-testid="stDataFrame"], [data-testid="stTable"]').first),
                    in_tab("Participants", '[data-testid="stDataFrame"], [data-testid="stTable"]')))
                out.setdefault("Public results: open", []).append(timed(
                    page, go(f"{server.url}/public?t={prepare.public_token}"),
                    visible(page.locator(".js-plotly-plot").first)))
                out.setdefault("Design: open (guide cards)", []).append(timed(
                    page, go(f"{server.url}/design?s={demo.session_id}&tab=Facilitation+guide"),
                    visible(page.get_by_label("Question", exact=True).first)))
                out.setdefault("Design: switch to the form", []).append(timed(
                    page, lambda: page.get_by_role("tab", name="Pre-session form").click(),
                    visible(page.get_by_role("tabpanel", name="Pre-session form").get_by_label("Label", exact=True)
                            .first), in_tab("Pre-session form", '[data-testid="stTextInput"]')))
            chat = context.new_page()
            harness.goto(chat, f"{server.url}/chat?s={demo.session_id}&p={prepare.chat_tokens[0]}")
            box = chat.get_by_placeholder("Type your answer…")
            expect(box).to_be_visible(timeout=60_000)
            harness.wait_idle(chat)
            for i in range(repeats):
                before = chat.locator('[data-testid="stChatMessage"]').count()

                def send(i=i):
                    box.fill(f"Answer {i}: the deploy pipeline was slow again and we waited hours for reviews, "
                             "which made the whole team lose its focus for most of the afternoon.")
                    chat.get_by_role("button", name="Send").click()

                def replied(before=before):
                    expect(chat.locator('[data-testid="stChatMessage"]')).to_have_count(before + 2, timeout=60_000)

                out.setdefault("Chat: Send → reply", []).append(timed(
                    chat, send, replied, f"return document.querySelectorAll('[data-testid=stChatMessage]').length"
                                         f" >= {before + 2};"))
                if not box.is_visible():
                    break
            browser.close()
    return out


def _clicked(rows) -> str:
    """First / p50 of the rest / max of the page-clock times, or "-" (a navigation: no click)."""
    seen = [r[4] for r in rows]
    if any(v is None for v in seen):
        return "-"
    return f"{seen[0]:.2f} / {statistics.median(seen[1:] or seen):.2f} / {max(seen):.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, nargs="+", default=[0, 1000],
                        help="participants added to the 30 of the demo (0: the demo as seeded)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(machine_info(), "load", open("/proc/loadavg").read().split()[:3])
    for extra in args.participants:
        print(f"\n## demo + {extra} participants ({args.repeats} repeats; first | p50 of the rest | max)")
        figures = measure(extra, args.repeats)
        print("| measurement | shown: first / p50 / max | settled: first / p50 / max | script runs | skeleton on "
              "screen: p50 / max | click → shown, page clock: first / p50 / max |\n|---|---|---|---|---|---|")
        for name, rows in figures.items():
            shown = [r[0] for r in rows]
            settled = [r[1] for r in rows]
            rest = shown[1:] or shown
            rest_settled = settled[1:] or settled
            print(f"| {name} | {shown[0]:.2f} / {statistics.median(rest):.2f} / {max(shown):.2f} s "
                  f"| {settled[0]:.2f} / {statistics.median(rest_settled):.2f} / {max(settled):.2f} s "
                  f"| {statistics.median(r[2] for r in rows):.0f} | {statistics.median(r[3] for r in rows):.2f} / "
                  f"{max(r[3] for r in rows):.2f} s | {_clicked(rows)} |")
    print("load", open("/proc/loadavg").read().split()[:3])


if __name__ == "__main__":
    main()
