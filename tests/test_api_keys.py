"""API keys: shown once, stored as a hash, listed with prefix and last use, revoked; a key acts as its user."""

from datetime import datetime, timedelta

import pytest

from core import apikeys
from core.accounts import delete_account
from core.apikeys import ApiKeyError
from core.repos import api_keys as keyrepo
from core.repos.audit import audit_frame

pytestmark = pytest.mark.both_backends


def test_a_key_is_shown_once_and_stored_only_as_its_hash(db, creator, db_path):
    plain, key = apikeys.create_key(db, creator, "  my   agent ")
    assert apikeys.KEY_PATTERN.fullmatch(plain)
    assert key.name == "my agent" and plain.startswith(key.key_prefix) and len(key.key_prefix) == 12
    stored = db.fetchall("SELECT * FROM api_keys")
    assert stored and all(plain not in str(value) for row in stored for value in row)
    assert apikeys.user_for_key(db, plain)[0].id == creator.id


def test_a_key_acts_as_its_own_user_only(db, creator, other_user):
    alice_key, _ = apikeys.create_key(db, creator, "alice's script")
    bob_key, _ = apikeys.create_key(db, other_user, "bob's script")
    assert apikeys.user_for_key(db, alice_key)[0].username == "alice"
    assert apikeys.user_for_key(db, bob_key)[0].username == "bob"
    for wrong in (None, "", "hm_live_" + "0" * 32, alice_key.upper(), alice_key + "0", "Bearer " + alice_key):
        assert apikeys.user_for_key(db, wrong) is None


def test_listing_shows_last_use_and_revoked_keys_stop_working(db, creator, other_user):
    plain, key = apikeys.create_key(db, creator, "ci")
    assert apikeys.list_keys(db, creator)[0].last_used_at is None
    apikeys.user_for_key(db, plain)
    assert apikeys.list_keys(db, creator)[0].last_used_at is not None
    with pytest.raises(ApiKeyError, match="No such key"):
        apikeys.revoke_key(db, other_user, key.id)   # someone else's key: as if it did not exist
    assert apikeys.user_for_key(db, plain) is not None
    apikeys.revoke_key(db, creator, key.id)
    assert apikeys.user_for_key(db, plain) is None
    assert [k.active for k in apikeys.list_keys(db, creator)] == [False]
    actions = list(audit_frame(db)["action"])
    assert actions.count("api_key.create") == 1 and actions.count("api_key.revoke") == 1


def test_names_are_required_and_bounded_and_keys_are_capped(db, creator):
    for bad, message in (("", "Give the key a name"), ("   ", "Give the key a name"),
                         ("x" * (apikeys.MAX_NAME + 1), "too long")):
        with pytest.raises(ApiKeyError, match=message):
            apikeys.create_key(db, creator, bad)
    keys = [apikeys.create_key(db, creator, f"key {i}")[1] for i in range(apikeys.MAX_KEYS)]
    with pytest.raises(ApiKeyError, match="revoke one"):
        apikeys.create_key(db, creator, "one too many")
    apikeys.revoke_key(db, creator, keys[0].id)
    apikeys.create_key(db, creator, "room again")


def test_a_deleted_account_s_keys_stop_working(db, creator, other_user):
    plain, _ = apikeys.create_key(db, other_user, "bob's script")
    delete_account(db, other_user, "battery staple")
    assert apikeys.user_for_key(db, plain) is None


def test_the_rate_limit_counts_a_keys_requests_in_the_last_minute(db):
    t0 = datetime(2026, 12, 1, 9, 0, 0)
    admitted = [keyrepo.admit_request(db, "k1", 3, t0 + timedelta(seconds=s)) for s in (0, 10, 20)]
    assert admitted == [None, None, None]
    assert keyrepo.admit_request(db, "k1", 3, t0 + timedelta(seconds=30)) == t0 + timedelta(seconds=60)
    assert keyrepo.admit_request(db, "k2", 3, t0 + timedelta(seconds=30)) is None     # per key
    assert keyrepo.admit_request(db, "k1", 3, t0 + timedelta(seconds=61)) is None     # the first left the window
    assert keyrepo.admit_request(db, "k1", 3, t0 + timedelta(seconds=62)) == t0 + timedelta(seconds=70)
