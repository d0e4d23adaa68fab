"""What one Streamlit process costs and holds, measured at the server: `python -m bench.server_capacity`.

A seeded demo (the retrospective, 30 finished participants) on a real `streamlit run Home.py`; participants are
joined before the server starts and then driven through the real chat page by websocket clients
(bench/st_client.py: Streamlit's own protocol, the same script runs and callbacks as a browser, no drawing), so
hundreds fit beside the server on 2 cores. The server's own CPU time (user + system, /proc/PID/stat), threads
and resident memory are read before and after each phase:

1. **Page load**: `--sequential` participants open the chat page one after another: CPU-ms per page load.
2. **Chat turn**: they answer in turn (Send → the callback stores the answer → the offline facilitator's reply →
   the page runs again): CPU-ms per turn and its wall time with nothing else running. With `--profile` (needs
   `pip install py-spy`), where the server's time goes, by module family.
3. **Results**: the creator in headless Chromium switches Results tabs (`--results-switches`): CPU-ms per switch.
4. **Connected**: `--participants` more open the page and stay: threads and memory per connected participant.
5. **Under load**: those participants answer at random moments (Poisson arrivals at each `--rates` turns/s for
   `--seconds` each, never two turns at once for one participant): latency p50/p95/p99 from the click to the
   page's run finished, throughput, and the server's CPU use. The highest rate with p95 < 2 s, times how often
   one participant answers, is how many participants one process serves.
6. **Nothing lost**: after the server stops, every answer a client saw acknowledged is stored exactly once, and
   every stored answer has exactly one facilitator message after it.

The clients share the 2 cores with the server: their CPU is reported too, so the server's share is known.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import random
import re
import resource
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench._setup import machine_info
from bench.st_client import PageClient
from tests.e2e import harness

TICK = os.sysconf("SC_CLK_TCK")
ANSWER = ("{who}, turn {turn}: the deploy pipeline was slow again and reviews took two days, so the team lost focus "
          "and we shipped late; a clear owner for the release would help.")


# ------------------------------------------------------------------------------------ the server process

def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def threads_and_rss(pid: int) -> tuple[int, float]:
    """(threads, resident MiB) of a process now."""
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(status["Threads"]), int(status["VmRSS"].split()[0]) / 1024


def client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Meter:
    """Server CPU, client CPU and wall time over a phase."""
    pid: int
    started: tuple[float, float, float] = field(init=False)

    def __post_init__(self):
        self.started = (cpu_seconds(self.pid), client_cpu(), time.perf_counter())

    def read(self) -> tuple[float, float, float]:
        """(server CPU s, client CPU s, wall s) since the meter started."""
        server, client, wall = self.started
        return cpu_seconds(self.pid) - server, client_cpu() - client, time.perf_counter() - wall


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


# ------------------------------------------------------------------------------------ participants

@dataclass
class Participant:
    token: str
    client: PageClient | None = None
    turn: int = 0
    acknowledged: list[str] = field(default_factory=list)
    finished: bool = False

    async def open(self, url: str) -> float:
        self.client = PageClient(url, "chat", {"p": self.token})
        return (await self.client.connect()).seconds

    async def answer(self) -> float | None:
        """One turn through the page; its wall seconds, or None once the conversation has ended."""
        if "Send" not in self.client.last.widgets:
            self.finished = True
            return None
        self.turn += 1
        text = ANSWER.format(who=self.token[:8], turn=self.turn)
        run = await self.client.run({"Your answer": text, "Send": True})
        if text in run.texts:
            self.acknowledged.append(text)
        return run.seconds


def prepare(count: int):
    """Before the server starts: `count` participants joined to the demo session (form filled, consent given)."""
    def run(path: Path, demo: harness.Demo) -> None:
        os.environ.setdefault("HARMONICA_OFFLINE", "1")
        from core import conversation
        from core.db import open_database
        from core.repos import sessions as srepo

        db = open_database(path)
        form = {f.key: (f.options[0] if f.options else 5 if f.type == "number" else "Bench")
                for f in srepo.get_form(db, demo.session_id)}
        prepare.tokens = [conversation.join(db, demo.session_id, form).token for _ in range(count)]
        db.close()
    return run


# ------------------------------------------------------------------------------------ phases

async def sequential(url: str, pid: int, people: list[Participant], turns: int, profile: Path | None) -> None:
    meter = Meter(pid)
    loads = [await p.open(url) for p in people]
    server, client, wall = meter.read()
    print(f"\n1. Page load, {len(people)} participants one after another: server {1000 * server / len(people):.0f} "
          f"CPU-ms per load; wall p50 {1000 * statistics.median(loads):.0f} ms, max {1000 * max(loads):.0f} ms; "
          f"client {1000 * client / len(people):.0f} CPU-ms")
    spy = None
    if profile:
        spy = subprocess.Popen(["py-spy", "record", "--pid", str(pid), "--format", "raw", "--rate", "250",
                                "--output", str(profile), "--nonblocking"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        await asyncio.sleep(1.0)
    meter = Meter(pid)
    walls = [w for _ in range(turns) for p in people if (w := await p.answer()) is not None]
    server, client, wall = meter.read()
    if spy:
        spy.send_signal(2)
        spy.wait(timeout=60)
    print(f"2. Chat turn, {len(walls)} turns one at a time: server {1000 * server / len(walls):.0f} CPU-ms per turn "
          f"(= {len(walls) / server:.1f} turns per CPU-second); wall p50 {1000 * statistics.median(walls):.0f} ms, "
          f"p95 {1000 * pct(walls, 95):.0f} ms; client {1000 * client / len(walls):.0f} CPU-ms per turn")
    if profile and profile.exists():
        where_time_goes(profile)


PAGES = {p.name for p in (harness.REPO / "pages").glob("*.py")} | {"Home.py"}
FAMILIES = [  # by the frame's file (py-spy prints paths relative to the import path); the first that matches wins
    ("facilitator (core/facilitation)", ("core/facilitation/",)),
    ("database: SQL and frames (core/db, core/repos)", ("core/db.py", "core/repos/")),
    ("our page code (pages, ui, core)", ("core/", "ui/")),
    ("Streamlit: elements and widgets", ("streamlit/elements/", "streamlit/delta_generator", "streamlit/proto/",
                                         "streamlit/runtime/state/", "google/protobuf/")),
    ("Streamlit: script runner and sessions", ("streamlit/",)),
    ("web server and websocket (uvicorn, starlette, websockets, asyncio)",
     ("uvicorn/", "starlette/", "websockets/", "asyncio/")),
]
FRAME_FILE = re.compile(r"\((.+?):\d+\)$")


def family(frame: str) -> str | None:
    match = FRAME_FILE.search(frame)
    path = match.group(1) if match else ""
    if path in PAGES:
        return "our page code (pages, ui, core)"
    return next((name for name, prefixes in FAMILIES if path.startswith(prefixes)), None)


def where_time_goes(profile: Path) -> None:
    """Samples of the server's busy threads (py-spy raw stacks), by the innermost frame of a known family."""
    totals: collections.Counter = collections.Counter()
    for line in profile.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        names = (family(frame) for frame in reversed(stack.split(";")))
        totals[next((n for n in names if n), "other (threads, libraries)")] += int(count)
    total = sum(totals.values()) or 1
    print(f"   Where the server's busy time went during the turns ({total} py-spy samples, innermost known frame):")
    for name, n in totals.most_common():
        print(f"     {100 * n / total:5.1f}%  {name}")


def results_switches(url: str, pid: int, demo: harness.Demo, switches: int) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = harness.launch_browser(pw)
        page = harness.new_context(browser).new_page()
        harness.sign_in(page, url, demo.username, demo.password)
        meter = Meter(pid)
        harness.goto(page, f"{url}/results?s={demo.session_id}")
        expect(page.get_by_role("tab", name="Themes")).to_be_visible(timeout=120_000)
        harness.wait_idle(page)
        load, _, _ = meter.read()
        meter = Meter(pid)
        tabs = ["Themes", "Participants", "Summary"]
        for i in range(switches):
            page.get_by_role("tab", name=tabs[i % len(tabs)]).click()
            harness.wait_idle(page)
        server, _, _ = meter.read()
        browser.close()
    print(f"3. Results (30 participants): server {1000 * load:.0f} CPU-ms for a page load (sign-in cookie run + "
          f"page run), {1000 * server / switches:.0f} CPU-ms per tab switch ({switches} switches)")


async def connect_all(url: str, pid: int, people: list[Participant]) -> None:
    threads0, rss0 = threads_and_rss(pid)
    meter = Meter(pid)
    for start in range(0, len(people), 20):   # 20 at a time: a crowd arriving, not one burst
        await asyncio.gather(*(p.open(url) for p in people[start:start + 20]))
    server, _, wall = meter.read()
    await asyncio.sleep(5)   # let finished runs' threads end
    threads, rss = threads_and_rss(pid)
    n = len(people)
    print(f"4. Connected: {n} participants opened the page in {wall:.1f} s (server {1000 * server / n:.0f} CPU-ms "
          f"each); then idle: threads {threads0} → {threads} ({(threads - threads0) / n:+.2f} per participant), "
          f"resident memory {rss0:.0f} → {rss:.0f} MiB ({1024 * (rss - rss0) / n:.0f} KiB per participant)")


async def poisson_turns(people: list[Participant], rate: float, seconds: float, rng: random.Random,
                        on_arrival=lambda: None) -> list[float]:
    """Turns at Poisson arrival times (`rate` a second, for `seconds`), each by a participant not already answering
    nor finished; the wall seconds of every turn done."""
    busy: set[int] = set()
    latencies: list[float] = []
    tasks = []

    async def turn(p: Participant):
        try:
            if (wall := await p.answer()) is not None:
                latencies.append(wall)
        finally:
            busy.discard(id(p))

    deadline = arrival = time.perf_counter()
    deadline += seconds
    while (arrival := arrival + rng.expovariate(rate)) < deadline:   # arrival times fixed in advance
        await asyncio.sleep(max(0.0, arrival - time.perf_counter()))
        free = [p for p in people if id(p) not in busy and not p.finished]
        if free:
            p = rng.choice(free)
            busy.add(id(p))
            tasks.append(asyncio.create_task(turn(p)))
        on_arrival()
    await asyncio.gather(*tasks)
    return latencies


async def under_load(pid: int, people: list[Participant], rates: list[float], seconds: float) -> list[tuple]:
    rng = random.Random(20261201)
    rows = []
    print(f"5. Under load: Poisson arrivals over the {len(people)} connected participants, {seconds:.0f} s per rate")
    print("   rate/s  turns  done/s   p50 ms   p95 ms   p99 ms   max ms  server cores  client cores  threads  RSS MiB")
    for rate in rates:
        peak_threads = 0

        def sample_threads() -> None:
            nonlocal peak_threads
            peak_threads = max(peak_threads, threads_and_rss(pid)[0])

        meter = Meter(pid)
        latencies = await poisson_turns(people, rate, seconds, rng, sample_threads)
        server, client, wall = meter.read()
        _, rss = threads_and_rss(pid)
        ms = [1000 * x for x in latencies]
        row = (rate, len(ms), len(ms) / wall, statistics.median(ms), pct(ms, 95), pct(ms, 99), max(ms),
               server / wall, client / wall, peak_threads, rss)
        rows.append(row)
        print("   {:6.1f} {:6d} {:7.2f} {:8.0f} {:8.0f} {:8.0f} {:8.0f} {:13.2f} {:13.2f} {:8d} {:8.0f}".format(*row))
    return rows


def nothing_lost(db_path: Path, people: list[Participant]) -> None:
    import duckdb

    con = duckdb.connect(str(db_path), read_only=True)
    rows = con.execute(
        "SELECT p.token, m.role, m.content FROM messages m JOIN participants p ON p.id = m.participant_id "
        "WHERE list_contains(?, p.token) ORDER BY p.token, m.seq", [[p.token for p in people]]).fetchall()
    con.close()
    print(f"6. Nothing lost: {tally(rows, people)}")


def tally(rows: list[tuple[str, str, str]], people: list[Participant]) -> str:
    """What the stored (token, role, content) rows, in conversation order, say of what the pages acknowledged."""
    by_token = collections.defaultdict(list)
    for token, role, content in rows:
        by_token[token].append((role, content))
    acknowledged = stored = missing = doubled = unanswered = 0
    for p in people:
        messages = by_token[p.token]
        counts = collections.Counter(c for r, c in messages if r == "participant")
        acknowledged += len(p.acknowledged)
        stored += sum(counts.values())
        missing += sum(1 for a in p.acknowledged if counts[a] == 0)
        doubled += sum(1 for n in counts.values() if n > 1)
        # every answer is followed by exactly one facilitator message (the reply), never by another answer
        unanswered += sum(1 for (r1, _), (r2, _) in zip(messages, messages[1:] + [("end", "")])
                          if r1 == "participant" and r2 != "facilitator")
    return (f"{acknowledged} answers acknowledged on the page, {stored} stored; missing {missing}, "
            f"stored twice {doubled}, answers without a reply {unanswered}")


# ------------------------------------------------------------------------------------ main

async def drive(args, server: harness.Server, demo: harness.Demo, tokens: list[str]) -> list[Participant]:
    pid = server.process.pid
    await asyncio.sleep(3)   # the server's first-run imports and warm-up threads
    threads, rss = threads_and_rss(pid)
    print(f"Server at rest: {threads} threads, {rss:.0f} MiB resident")
    # The process's first page run imports the page modules and starts the warm-up (ui/resources.py): apart.
    warm = Participant(tokens[0])
    meter = Meter(pid)
    load, turn = await warm.open(server.url), await warm.answer()
    await asyncio.sleep(5)   # the warm-up thread's imports
    server_s, _, _ = meter.read()
    await warm.client.close()
    threads, rss = threads_and_rss(pid)
    print(f"First participant after the start: page load {1000 * load:.0f} ms, first turn {1000 * turn:.0f} ms, "
          f"server {server_s:.1f} CPU-s with the warm-up imports; then {threads} threads, {rss:.0f} MiB")
    tokens = tokens[1:]
    first = [Participant(t) for t in tokens[:args.sequential]]
    await sequential(server.url, pid, first, args.turns, Path(args.profile) if args.profile else None)
    for p in first:
        await p.client.close()
    await asyncio.to_thread(results_switches, server.url, pid, demo, args.results_switches)
    crowd = [Participant(t) for t in tokens[args.sequential:]]
    await connect_all(server.url, pid, crowd)
    await under_load(pid, crowd, args.rates, args.seconds)
    for p in crowd:
        await p.client.close()
    return [warm] + first + crowd


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--participants", type=int, default=200, help="connected at once in phases 4-5")
    parser.add_argument("--sequential", type=int, default=20, help="participants in phases 1-2")
    parser.add_argument("--turns", type=int, default=3, help="turns each in phase 2")
    parser.add_argument("--results-switches", type=int, default=15)
    parser.add_argument("--rates", type=float, nargs="+", default=[2, 4, 6, 8, 10, 12])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--profile", metavar="FILE", help="py-spy raw profile of phase 2 (py-spy must be installed)")
    args = parser.parse_args()
    print(machine_info())
    with tempfile.TemporaryDirectory(prefix="harmonica_capacity_") as tmp:
        workdir = Path(tmp)
        started = time.perf_counter()
        with harness.demo_server(workdir, participants=30,
                                 prepare=prepare(1 + args.sequential + args.participants)) as (server, demo):
            print(f"Set-up (seed, {1 + args.sequential + args.participants} joins, server start): "
                  f"{time.perf_counter() - started:.0f} s")
            people = asyncio.run(drive(args, server, demo, prepare.tokens))
            errors = server.errors()
        print(f"Server tracebacks: {len(errors)}" + (f" (last: {errors[-1]})" if errors else ""))
        nothing_lost(workdir / "h.duckdb", people)


if __name__ == "__main__":
    main()
