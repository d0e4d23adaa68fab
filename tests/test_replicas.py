"""Two app processes (`streamlit run Home.py` on two ports) sharing one PostgreSQL database, driven over the REST
API: participants on both, a double submit across the two, the automatic synthesis refresh run once per input,
and the same results from either replica."""

from __future__ import annotations

import threading
import time

import pytest

from core import apikeys
from core.accounts import register
from core.postgres import PostgresDatabase
from core.repos import users as urepo
from core.synthesis import pipeline
from tests.api.conftest import request
from tests.api.test_write import BRIEF
from tests.e2e import harness

PEOPLE = ["ana", "ben", "cai", "dee"]
RPM = 100   # the per-key limit: above what the conversation test sends in a minute


@pytest.fixture(scope="module")
def replicas(pg_cluster, tmp_path_factory):
    """Two replicas on one new database, shared by this module's tests (each uses its own key and data)."""
    tmp_path = tmp_path_factory.mktemp("replicas")
    url = pg_cluster.new_database()
    db = PostgresDatabase(url, pool_size=2)    # the test's own view of the shared database
    owner = register(db, "alice", "alice@example.org", "Alice", "correct horse", "correct horse")
    key = apikeys.create_key(db, owner, "replicas")[0]
    env = {"HARMONICA_DB": url, "HARMONICA_SECRETS_DIR": str(tmp_path / "secrets"),
           "HARMONICA_AUTO_SYNTHESIS": "1", "HARMONICA_SYNTHESIS_DELAY": "1", "HARMONICA_API_RPM": str(RPM)}
    servers = []
    try:
        for name in ("replica1", "replica2"):
            servers.append(harness.start_server(tmp_path / name, env))
        yield db, key, servers
    finally:
        for server in servers:
            server.stop()
        db.close()


def test_two_replicas_share_conversations_synthesis_and_results(replicas):
    db, key, servers = replicas

    def call(server, path, body=None):
        reply = request(server.url + "/api/v1", path, key, "POST" if body is not None else "GET", body)
        return reply

    sid = call(servers[0], "/sessions", BRIEF).json["id"]
    double_submits = []
    for n, person in enumerate(PEOPLE):
        turn = call(servers[n % 2], f"/sessions/{sid}/chat",
                    {"participant_id": person, "content": "Hello, I am ready to talk about the office move."}).json
        for i in range(30):
            if turn["message"]["is_final"]:
                break
            body = {"participant_id": person, "seen_seq": turn["seq"],
                    "content": f"{person} {i}: the commute is long and the open plan floor is loud, so quiet rooms "
                               "and a shorter trip would help me focus on the work that matters most."}
            if i == 0:   # the same turn sent to both replicas at once (two tabs, a double click): one is stored
                replies = _at_once([lambda s=s: call(s, f"/sessions/{sid}/chat", body) for s in servers])
                double_submits.append(sorted(r.status for r in replies))
                turn = next(r for r in replies if r.status == 200).json
            else:   # turn by turn, on alternating replicas
                turn = call(servers[(n + i) % 2], f"/sessions/{sid}/chat", body).json
        assert turn["message"]["is_final"], f"{person} never finished"
    assert double_submits == [[200, 409]] * len(PEOPLE)

    people = db.fetchall("SELECT number FROM participants WHERE session_id = ? ORDER BY 1", [sid])
    assert people == [(n,) for n in range(1, len(PEOPLE) + 1)]   # one each, numbered once, whichever replica
    seqs = db.fetchall("SELECT participant_id, seq, count(*) FROM messages GROUP BY 1, 2 HAVING count(*) > 1")
    assert seqs == []

    _until_synthesis_is_current(db, sid)
    runs = db.fetchall("SELECT input_hash, count(*) FROM synthesis_runs WHERE session_ids LIKE ? GROUP BY 1",
                       [f"%{sid}%"])
    assert runs and all(count == 1 for _, count in runs), f"the same answers synthesised twice: {runs}"

    themes = [call(s, f"/sessions/{sid}/themes") for s in servers]
    summaries = [call(s, f"/sessions/{sid}/summary") for s in servers]
    assert themes[0].status == 200 and themes[0].json["data"], themes[0].text
    assert themes[0].json == themes[1].json and summaries[0].json == summaries[1].json
    for server in servers:
        assert harness.unexpected(server.errors()) == [], server.log_tail()


def _at_once(calls: list) -> list:
    results: list = [None] * len(calls)
    ready = threading.Barrier(len(calls))

    def run(i: int) -> None:
        ready.wait()
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def _until_synthesis_is_current(db: PostgresDatabase, sid: str, timeout_s: float = 180) -> None:
    """Until the latest run covers every answer and no replica holds or waits for a synthesis lock."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        latest = pipeline.repo.latest_run(db, sid)
        if latest is not None:
            params = pipeline.Params(**{k: v for k, v in latest.params.items()
                                        if k in pipeline.Params.__dataclass_fields__})
            current = latest.input_hash == pipeline.current_input_hash(db, [sid], params, latest.mode,
                                                                       latest.embedder)
            locks = db.fetchone("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")[0]
            if current and not locks:
                return
        time.sleep(0.5)
    raise AssertionError("the automatic synthesis never caught up with the answers")


def test_the_per_key_rate_limit_counts_requests_on_both_replicas(replicas):
    db, _, servers = replicas
    key = apikeys.create_key(db, urepo.get_by_username(db, "alice"), "limited")[0]
    statuses = [request(servers[i % 2].url + "/api/v1", "/me", key).status for i in range(RPM + 10)]
    assert statuses[:RPM] == [200] * RPM and statuses[RPM:] == [429] * 10
