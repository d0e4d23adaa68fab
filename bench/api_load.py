"""The REST API under load, on the real server: `python -m bench.api_load`.

A seeded demo plus a session of `--participants` finished participants (10 messages each, bulk-loaded as in the
other benches), an API key, and `streamlit run Home.py` serving pages and /api/v1 in one process:

1. **Responses**: `GET /sessions/{id}/responses` on the big session, one client after another (latency) and
   `--clients` clients at once for `--seconds` (requests/s, and the size of one reply).
2. **Chat**: API participants run whole conversations through `POST /sessions/{id}/chat` (offline facilitator),
   first alone, then while a participant in headless Chromium answers on the chat page at the same time:
   p50/p95/p99 of one `/chat` turn, and the browser's Send → reply beside it.

The client, the browser and the server share the machine's cores; the load average is printed with the figures.
The per-key rate limit is raised for the bench (HARMONICA_API_RPM), automatic synthesis is off so a background
refresh does not land in one phase and not the other.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench._setup import TextBank, bulk_load, format_summary, print_footer, print_header
from tests.e2e import harness

ANSWER = ("Turn {turn}: the deploy pipeline was slow again and reviews took two days, so the team lost focus and "
          "we shipped late; a clear owner for the release would help.")


class Client:
    """A keep-alive-free JSON client for one key (urllib, as a script would write it)."""

    def __init__(self, base: str, key: str):
        self.base, self.key = base + "/api/v1", key
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def call(self, path: str, body: dict | None = None) -> tuple[int, bytes]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method="GET" if body is None else "POST")
        req.add_header("Authorization", f"Bearer {self.key}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with self.opener.open(req, timeout=120) as reply:
                return reply.status, reply.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def timed(self, path: str, body: dict | None = None) -> tuple[float, dict, int]:
        """(seconds, parsed reply, bytes) of one call; a non-2xx reply stops the bench."""
        started = time.perf_counter()
        status, raw = self.call(path, body)
        seconds = time.perf_counter() - started
        if status >= 300:
            raise SystemExit(f"{path}: HTTP {status}: {raw[:300]!r}")
        return seconds, json.loads(raw), len(raw)


def prepare(participants: int):
    """Before the server starts: the big session, an API key, and a chat token for the browser participant."""
    def run(path: Path, demo: harness.Demo) -> None:
        from bench._setup import make_session
        from core import apikeys, conversation
        from core.db import open_database
        from core.repos import sessions as srepo
        from core.repos import users as urepo

        db = open_database(path)
        owner = urepo.get_by_username(db, demo.username)
        big = make_session(db, owner, f"API bench, {participants} participants")
        bulk_load(db, big, participants, 10, TextBank(), finished_share=1.0)
        prepare.big_session = big.id
        prepare.key = apikeys.create_key(db, owner, "bench")[0]
        form = {f.key: (f.options[0] if f.options else 5 if f.type == "number" else "Bench")
                for f in srepo.get_form(db, demo.session_id)}
        prepare.chat_token = conversation.join(db, demo.session_id, form).token
        db.close()
    return run


def measure_responses(client: Client, session_id: str, sequential: int, clients: int, seconds: float) -> None:
    path = f"/sessions/{session_id}/responses"
    _, reply, size = client.timed(path)   # warm: the first read fills DuckDB's buffers
    messages = sum(len(p["messages"]) for p in reply["data"])
    print(f"  one reply: {len(reply['data'])} participants, {messages} messages, {size / 1e6:.2f} MB")
    one_by_one = [client.timed(path)[0] for _ in range(sequential)]
    print("  " + format_summary("GET responses, one client", one_by_one))
    print(f"    = {1 / statistics.fmean(one_by_one):.2f} requests/s")

    done: list[float] = []
    deadline = time.perf_counter() + seconds

    def worker() -> None:
        while time.perf_counter() < deadline:
            done.append(client.timed(path)[0])
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for _ in range(clients):
            pool.submit(worker)
    wall = time.perf_counter() - started
    print("  " + format_summary(f"GET responses, {clients} clients at once", done))
    print(f"    = {len(done) / wall:.2f} requests/s over {wall:.0f} s")


def run_chats(client: Client, session_id: str, conversations: int, tag: str) -> list[float]:
    """Whole conversations through /chat, one turn at a time; every turn's seconds."""
    turns: list[float] = []
    for n in range(conversations):
        seq, turn = 0, 0
        while True:
            body = {"participant_id": f"{tag}-{n}", "content": ANSWER.format(turn=turn)}
            if seq:
                body["seen_seq"] = seq
            seconds, reply, _ = client.timed(f"/sessions/{session_id}/chat", body)
            turns.append(seconds)
            seq, turn = reply["seq"], turn + 1
            if reply["message"]["is_final"] or turn >= 40:
                break
    return turns


def browser_chat(url: str, stop: threading.Event, ready: threading.Event, out: list[float]) -> None:
    """A participant in headless Chromium answering on the chat page until `stop`; Send → reply seconds."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = harness.launch_browser(pw)
        page = harness.new_context(browser).new_page()
        harness.goto(page, url)
        box = page.get_by_placeholder("Type your answer…")
        expect(box).to_be_visible(timeout=60_000)
        harness.wait_idle(page)
        ready.set()
        turn = 0
        while not stop.is_set() and box.is_visible():
            before = page.locator('[data-testid="stChatMessage"]').count()
            started = time.perf_counter()
            box.fill(ANSWER.format(turn=turn))
            page.get_by_role("button", name="Send").click()
            expect(page.locator('[data-testid="stChatMessage"]')).to_have_count(before + 2, timeout=60_000)
            out.append(time.perf_counter() - started)
            turn += 1
            harness.wait_idle(page)
        browser.close()


def measure_chat(client: Client, server: harness.Server, demo: harness.Demo, conversations: int) -> None:
    _, session, _ = client.timed("/sessions", {"topic": "API chat bench", "goal": "How the last release went",
                                              "critical": "What slowed the release\nWho owns a release\n"
                                                          "What to change next time"})
    alone = run_chats(client, session["id"], conversations, "alone")
    print("  " + format_summary("POST chat, alone", alone))

    browser_turns: list[float] = []
    stop, ready = threading.Event(), threading.Event()
    url = f"{server.url}/chat?s={demo.session_id}&p={prepare.chat_token}"
    browser = threading.Thread(target=browser_chat, args=(url, stop, ready, browser_turns), daemon=True)
    browser.start()
    if not ready.wait(120):
        raise SystemExit("the browser participant's chat page did not open")
    beside = run_chats(client, session["id"], conversations, "beside")
    stop.set()
    browser.join(120)
    print("  " + format_summary("POST chat, with a browser participant chatting", beside))
    if browser_turns:
        print("  " + format_summary("  the browser participant's Send → reply meanwhile", browser_turns))
    else:
        print("  (the browser participant finished no turn while the API chats ran)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--participants", type=int, default=1000)
    parser.add_argument("--sequential", type=int, default=20, help="GET responses one after another")
    parser.add_argument("--clients", type=int, default=4, help="GET responses clients at once")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--conversations", type=int, default=10, help="API conversations per chat phase")
    args = parser.parse_args()
    os.environ["HARMONICA_OFFLINE"] = "1"
    print_header(f"REST API: responses on {args.participants} participants, /chat with a browser chat beside")
    with tempfile.TemporaryDirectory(prefix="harmonica_api_") as tmp:
        started = time.perf_counter()
        env = {"HARMONICA_API_RPM": "1000000", "HARMONICA_AUTO_SYNTHESIS": "0"}
        with harness.demo_server(Path(tmp), participants=5, prepare=prepare(args.participants), env=env) as (
                server, demo):
            print(f"  set-up (seed, load, server): {time.perf_counter() - started:.0f} s")
            client = Client(server.url, prepare.key)
            measure_responses(client, prepare.big_session, args.sequential, args.clients, args.seconds)
            measure_chat(client, server, demo, args.conversations)
    print_footer()


if __name__ == "__main__":
    main()
