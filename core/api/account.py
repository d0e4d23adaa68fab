"""The key's user: who they are (v1's /me) and their projects (ours)."""

from __future__ import annotations

from core.api.http import Call
from core.api.sessions import stamp
from core.projects import my_projects


def me(call: Call) -> dict:
    u, k = call.user, call.key
    return {"id": u.id, "email": u.email, "name": u.name or None, "username": u.username,
            "subscription_status": "FREE",   # no plans here: every feature is available to every account
            "api_key": {"name": k.name, "key_prefix": k.key_prefix, "created_at": stamp(k.created_at),
                        "last_used_at": stamp(k.last_used_at)}}


def projects(call: Call) -> dict:
    return {"data": [{"id": p.id, "title": p.title, "description": p.description or None, "role": role,
                      "created_at": stamp(p.created_at)} for p, role in my_projects(call.db, call.user)]}

