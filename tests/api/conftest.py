"""A real app server (`streamlit run Home.py`) with the REST API, and an HTTP client for it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass

import pytest

from tests.e2e import harness

RPM = 40   # the per-key limit on the test server: low enough for the 429 test, above what any other key sends


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    text: str

    @property
    def json(self):
        return json.loads(self.text)


def request(base: str, path: str, key: str | None = None, method: str = "GET", body=None,
            raw: bytes | None = None) -> Reply:
    data = raw if raw is not None else None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if key is not None:
        req.add_header("Authorization", f"Bearer {key}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=60) as r:
            return Reply(r.status, {k.lower(): v for k, v in r.headers.items()}, r.read().decode())
    except urllib.error.HTTPError as e:
        return Reply(e.code, {k.lower(): v for k, v in e.headers.items()}, e.read().decode())


@dataclass
class Api:
    server: harness.Server
    demo: harness.Demo
    keys: dict[str, str]          # name -> key: "demo", "bob", "revoked", "limited"

    def __call__(self, path: str, key: str | None = "demo", method: str = "GET", body=None, raw=None) -> Reply:
        return request(self.server.url + "/api/v1", path, self.keys.get(key, key), method, body, raw)


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    """The seeded demo (5 participants, synthesised) and keys made before the server holds the file."""
    workdir = tmp_path_factory.mktemp("api")
    demo = harness.seed_demo(workdir, participants=5)
    from core import apikeys
    from core.accounts import register
    from core.db import Database
    from core.repos import users as urepo

    db = Database(workdir / "h.duckdb")
    owner = urepo.get_by_username(db, demo.username)
    bob = register(db, "bob", "bob@example.org", "Bob", "battery staple", "battery staple")
    keys = {"demo": apikeys.create_key(db, owner, "tests")[0], "bob": apikeys.create_key(db, bob, "bob's")[0],
            "limited": apikeys.create_key(db, owner, "rate limit test")[0]}
    keys["revoked"], revoked = apikeys.create_key(db, owner, "revoked")
    apikeys.revoke_key(db, owner, revoked.id)
    db.close()
    server = harness.start_server(workdir, {"HARMONICA_AUTO_SYNTHESIS": "0", "HARMONICA_API_RPM": str(RPM)})
    yield Api(server, demo, keys)
    server.stop()
