"""Chat turns on 1, 2 and 4 app replicas sharing one PostgreSQL: `python -m bench.replicas`.

A throwaway PostgreSQL cluster (tests/pg.py: Debian's server, Unix socket, durability off as a test server would
have; a production server's fsync adds a few ms per commit, on its own cores) holds the seeded demo. For each
replica count, `--participants` fresh participants are joined, spread over the replicas (participant i on replica
i mod n: what a sticky proxy does), open the real chat page through Streamlit's websocket protocol
(bench/st_client.py) and answer at random moments (Poisson arrivals at each of `--rates` turns/s for `--seconds`
each, never two turns at once for one participant). Printed per rate: turns done per second, latency p50/p95/p99
from Send to the page's run finished, the replicas' CPU (cores in use, summed) and PostgreSQL's, and the CPU per
turn of each. Then nothing lost (every answer acknowledged on a page stored once, each followed by one reply),
and `copy-db` of a 1,000-participant database both ways.

Everything (clients, replicas, PostgreSQL) shares this machine's cores: the CPU per turn is the figure that
carries over to a bigger machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from bench._setup import build_database, print_footer, print_header
from bench.server_capacity import Participant, client_cpu, cpu_seconds, pct, poisson_turns, tally
from tests.e2e import harness
from tests.pg import Cluster

COOKIE_KEY = "bench-replicas-shared-cookie-key"


def postgres_cpu(cluster: Cluster) -> float:
    """CPU seconds so far of the cluster's server and every backend it started (children of the postmaster)."""
    postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
    total = cpu_seconds(postmaster)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == postmaster:
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def join(url: str, session_id: str, count: int) -> list[str]:
    from core import conversation
    from core.postgres import PostgresDatabase
    from core.repos import sessions as srepo

    db = PostgresDatabase(url, pool_size=2)
    form = {f.key: (f.options[0] if f.options else 5 if f.type == "number" else "Bench")
            for f in srepo.get_form(db, session_id)}
    tokens = [conversation.join(db, session_id, form).token for _ in range(count)]
    db.close()
    return tokens


async def run_load(servers: list[harness.Server], cluster: Cluster, people: list[Participant], rates: list[float],
                   seconds: float) -> None:
    rng = random.Random(20261201)
    pids = [s.process.pid for s in servers]
    print("   rate/s  turns  done/s   p50 ms   p95 ms   p99 ms  app cores  pg cores  client  app CPU-ms/turn  "
          "pg CPU-ms/turn")
    for rate in rates:
        app0, pg0, client0, wall0 = sum(map(cpu_seconds, pids)), postgres_cpu(cluster), client_cpu(), \
            time.perf_counter()
        latencies = await poisson_turns(people, rate, seconds, rng)
        wall = time.perf_counter() - wall0
        app, pg = sum(map(cpu_seconds, pids)) - app0, postgres_cpu(cluster) - pg0
        client = client_cpu() - client0
        ms = [1000 * x for x in latencies] or [0.0]
        n = max(1, len(latencies))
        print(f"   {rate:6.1f} {len(latencies):6d} {len(latencies) / wall:7.2f} {statistics.median(ms):8.0f} "
              f"{pct(ms, 95):8.0f} {pct(ms, 99):8.0f} {app / wall:10.2f} {pg / wall:9.2f} {client / wall:7.2f} "
              f"{1000 * app / n:16.0f} {1000 * pg / n:15.0f}")


def nothing_lost(url: str, people: list[Participant]) -> None:
    from core.postgres import PostgresDatabase

    db = PostgresDatabase(url, pool_size=1)
    rows = db.fetchall("SELECT p.token, m.role, m.content FROM messages m JOIN participants p ON p.id = "
                       "m.participant_id WHERE p.token = ANY(?) ORDER BY p.token, m.seq",
                       [[p.token for p in people]])
    db.close()
    print(f"   nothing lost: {tally(rows, people)}")


async def replicas_phase(count: int, url: str, cluster: Cluster, session_id: str, workdir: Path, args) -> None:
    tokens = join(url, session_id, args.participants + count)
    env = {"HARMONICA_DB": url, "HARMONICA_COOKIE_KEY": COOKIE_KEY, "HARMONICA_AUTO_SYNTHESIS": "0"}
    servers = [harness.start_server(workdir / f"n{count}-replica{i}", env) for i in range(count)]
    try:
        for server, token in zip(servers, tokens):   # each replica's first page run imports and warms up: apart
            warm = Participant(token)
            await warm.open(server.url)
            await warm.answer()
            await warm.client.close()
        await asyncio.sleep(5)
        people = [Participant(t) for t in tokens[count:]]
        started = time.perf_counter()
        for start in range(0, len(people), 20):
            await asyncio.gather(*(p.open(servers[(start + i) % count].url)
                                   for i, p in enumerate(people[start:start + 20])))
        print(f"\n## {count} replica{'s' if count > 1 else ''}: {len(people)} participants connected in "
              f"{time.perf_counter() - started:.1f} s")
        await run_load(servers, cluster, people, args.rates, args.seconds)
        for p in people:
            await p.client.close()
        errors = [e for s in servers for e in s.errors()]
        print(f"   server tracebacks: {len(errors)}" + (f" (last: {errors[-1]})" if errors else ""))
        nothing_lost(url, people)
    finally:
        for server in servers:
            server.stop()


def analytics(label: str, db, owner, session_id: str) -> None:
    """A synthesis of the whole session, then the results page's reads, timed on one backend."""
    from core import results
    from core.synthesis import pipeline

    started = time.perf_counter()
    pipeline.synthesize(db, [session_id], trigger="bench")
    synthesis = time.perf_counter() - started
    reads = []
    for _ in range(5):
        started = time.perf_counter()
        opened = results.open(db, owner, session_id)
        opened.overview(), opened.participants_page(), opened.synthesis_view()
        reads.append(time.perf_counter() - started)
    print(f"   {label}: synthesis {synthesis:.1f} s; results page reads (open, overview, participants page, themes) "
          f"p50 {1000 * statistics.median(reads):.0f} ms")


def copy_db_times(cluster: Cluster, workdir: Path, participants: int) -> None:
    from bench._setup import TextBank
    from core.copy_db import copy_database
    from core.db import Database
    from core.postgres import PostgresDatabase

    source = Database(workdir / "copy-source.duckdb")
    built = build_database(source, [(participants, 10)], TextBank(seed=7))
    target = PostgresDatabase(cluster.new_database(), pool_size=2)
    started = time.perf_counter()
    there = copy_database(source, target)
    to_pg = time.perf_counter() - started
    back_db = Database(workdir / "copy-back.duckdb")
    started = time.perf_counter()
    copy_database(target, back_db)
    back = time.perf_counter() - started
    print(f"\n## copy-db, {participants} participants × 10 messages ({there.rows:,} rows in {there.tables} tables, "
          f"verified)\n   DuckDB → PostgreSQL {to_pg:.1f} s; PostgreSQL → DuckDB {back:.1f} s")
    print(f"\n## analytics on the same {participants:,}-participant session")
    analytics("DuckDB file", source, built.owner, built.sessions[0].id)
    analytics("PostgreSQL", target, built.owner, built.sessions[0].id)
    for db in (source, target, back_db):
        db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--participants", type=int, default=200, help="connected at once, per replica count")
    parser.add_argument("--rates", type=float, nargs="+", default=[4, 8, 12, 16])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--copy-participants", type=int, default=1000, help="0: no copy-db and analytics phase")
    args = parser.parse_args()
    os.environ["HARMONICA_OFFLINE"] = "1"
    print_header("replicas: chat turns on 1, 2 and 4 app replicas sharing one PostgreSQL")
    folder = Path(tempfile.mkdtemp(prefix="harmonica-replicas-"))
    cluster = Cluster(folder).start()
    try:
        from core.demo import seed_demo
        from core.postgres import PostgresDatabase

        url = cluster.new_database()
        db = PostgresDatabase(url, pool_size=2)
        demo = seed_demo(db, participants=30)
        db.close()
        for count in args.replicas:
            asyncio.run(replicas_phase(count, url, cluster, demo.session_id, folder, args))
        if args.copy_participants:
            copy_db_times(cluster, folder, args.copy_participants)
    finally:
        cluster.stop()
    print_footer()


if __name__ == "__main__":
    main()
