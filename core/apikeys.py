"""API keys for the REST API: created, named, listed and revoked by their user; the key acts as that user.

A key is `hm_live_` + 32 hex characters (the hosted Harmonica's format, so its clients work unchanged). It is
shown once, when created; only its SHA-256 is stored (a key has 128 random bits, so a plain hash is as strong as a
slow one and keeps every API request cheap), with a short prefix to tell keys apart in the list.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from core.clock import utcnow
from core.db import Database
from core.ids import new_id
from core.repos import api_keys as krepo
from core.repos import users as urepo
from core.repos.api_keys import ApiKey
from core.repos.audit import insert_audit
from core.repos.users import User

PREFIX = "hm_live_"
KEY_PATTERN = re.compile(r"hm_live_[0-9a-f]{32}")
MAX_NAME = 80
MAX_KEYS = 20                          # active keys per user: enough for every script, not a way to fill the table
TOUCH_EVERY = timedelta(minutes=1)     # "last used" is written at most this often per key (a write per request
                                       # would serialise every API call behind the write lock)


class ApiKeyError(ValueError):
    """A key request that cannot be done; the message is fit to show."""


def create_key(db: Database, user: User, name: str) -> tuple[str, ApiKey]:
    """A new key for `user`: (the key, shown once; its stored record)."""
    name = " ".join((name or "").split())
    if not name:
        raise ApiKeyError("Give the key a name, e.g. the script or agent that will use it.")
    if len(name) > MAX_NAME:
        raise ApiKeyError(f"The name is too long ({len(name)} characters; at most {MAX_NAME}).")
    if sum(k.active for k in krepo.list_keys(db, user.id)) >= MAX_KEYS:
        raise ApiKeyError(f"You have {MAX_KEYS} active keys: revoke one you no longer use first.")
    plain = PREFIX + secrets.token_hex(16)
    key = krepo.insert_key(db, new_id(), user.id, name, plain[:len(PREFIX) + 4], _hash(plain))
    insert_audit(db, user.id, "api_key.create", "api_key", key.id, {"name": name, "prefix": key.key_prefix})
    return plain, key


def list_keys(db: Database, user: User) -> list[ApiKey]:
    """The user's keys, newest first, revoked ones included (marked)."""
    return krepo.list_keys(db, user.id)


def revoke_key(db: Database, user: User, key_id: str) -> None:
    """Revoke one of the user's own keys (another user's key is "not found", not "forbidden")."""
    key = krepo.get_key(db, key_id)
    if key is None or key.user_id != user.id:
        raise ApiKeyError("No such key.")
    if key.active:
        krepo.revoke(db, key.id)
        insert_audit(db, user.id, "api_key.revoke", "api_key", key.id, {"name": key.name})


def user_for_key(db: Database, plain: str | None) -> tuple[User, ApiKey] | None:
    """The active, enabled user a presented key acts as, and the key; None for anything else."""
    if not plain or not KEY_PATTERN.fullmatch(plain):
        return None
    key = krepo.find_active_by_hash(db, _hash(plain))
    if key is None:
        return None
    user = urepo.get_by_id(db, key.user_id)
    if user is None or user.disabled:
        return None
    if key.last_used_at is None or utcnow() - key.last_used_at >= TOUCH_EVERY:
        krepo.touch(db, key.id)
    return user, key


def _hash(plain: str) -> str:
    return hashlib.sha256(plain.encode("ascii")).hexdigest()
