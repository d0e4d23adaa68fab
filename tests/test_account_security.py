"""Issue 15, points 1, 5, 10 and 11: one username form for the lockout, revocable sign-ins, a forced change
after a password reset, and a database readable by its owner only."""

from __future__ import annotations

import os
import stat
import time
from contextlib import contextmanager
from datetime import timedelta

import duckdb
import pytest

from core import accounts
from core.accounts import (
    LOCK_AFTER_FAILURES,
    change_password,
    cookie_issued_at,
    credentials,
    end_sessions,
    login_locked,
    record_login_result,
    register,
    reset_password,
    set_disabled,
    sign_in_valid,
)
from core.clock import utcnow
from core.db import Database
from core.repos import users as urepo
from core.repos.login_failures import login_failures
from tests.helpers import database_before
from tests.pages.apptest import app, texts

pytestmark = pytest.mark.both_backends

MIX_PASSWORD = "mixed case pw"


@pytest.fixture
def mixuser(db, creator):
    return register(db, "MixUser1", "mix@example.org", "Mix", MIX_PASSWORD, MIX_PASSWORD)


def sign_in_attempt(at, username, password):
    form = [t for t in at.text_input if t.label in ("Username", "Password")]
    form[0].input(username)
    form[1].input(password)
    next(b for b in at.button if b.label == "Sign in").click().run()
    return at


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@contextmanager
def umask(value: int):
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


# --- 1. one canonical username -------------------------------------------------------------------------

def test_usernames_are_stored_and_found_lower_case(db, mixuser):
    assert mixuser.username == "mixuser1"
    assert db.fetchone("SELECT username FROM users WHERE id = ?", [mixuser.id])[0] == "mixuser1"
    for typed in ("MixUser1", "MIXUSER1", " mixuser1 "):
        assert urepo.get_by_username(db, typed).id == mixuser.id
    assert "mixuser1" in credentials(db)["usernames"]


def test_failures_typed_in_any_case_lock_the_one_account(db, mixuser):
    for typed in ("mixuser1", "MixUser1", "MIXUSER1", "mixUSER1", "MixUser1"):
        assert not login_locked(db, "MixUser1")
        record_login_result(db, typed, False)
    assert set(login_failures(db)) == {"mixuser1"}
    assert login_locked(db, "MixUser1") and login_locked(db, "mixuser1")
    # what streamlit-authenticator is given: the lower-case key (the form it looks up) at the attempt limit
    assert credentials(db)["usernames"]["mixuser1"]["failed_login_attempts"] == LOCK_AFTER_FAILURES


def test_mixed_case_account_is_locked_after_six_wrong_passwords_apptest(db, mixuser):
    at = app().run()
    for _ in range(6):
        sign_in_attempt(at, "MixUser1", "wrong password")
        assert not at.exception
        assert "incorrect" in texts(at) or "locked" in texts(at)
    sign_in_attempt(at, "MixUser1", MIX_PASSWORD)
    assert "locked" in texts(at) and "Your sessions" not in texts(at)
    fresh = sign_in_attempt(app().run(), "MixUser1", MIX_PASSWORD)  # another browser: the lock is stored
    assert "locked" in texts(fresh) and "Your sessions" not in texts(fresh)


def _old_database(path, users, failures):
    """A database at schema version 5 (before this change) holding `users` and `login_failures` rows."""
    conn = database_before(path, 6)
    start = utcnow() - timedelta(days=10)
    for i, (user_id, username) in enumerate(users):
        conn.execute("INSERT INTO users VALUES (?, ?, ?, ?, '$2b$04$x', FALSE, FALSE, ?)",
                     [user_id, username, f"{user_id}@example.org", username, start + timedelta(hours=i)])
    for username, count in failures:
        conn.execute("INSERT INTO login_failures VALUES (?, ?, ?)", [username, count, utcnow()])
    conn.close()


def test_migration_lower_cases_usernames_and_renames_case_twins(tmp_path):
    path = tmp_path / "old.duckdb"
    # created in this order: 'Bob' is older than 'bob'; 'BOB-2' takes the first free suffix's name
    _old_database(path, [("u1", "MixUser1"), ("u2", "Bob"), ("u3", "BOB-2"), ("u4", "bob"), ("u5", "carol")],
                  [("MixUser1", 2), ("mixuser1", 5), ("Carol", 1)])
    db = Database(path)
    names = dict(db.fetchall("SELECT id, username FROM users"))
    assert names == {"u1": "mixuser1", "u2": "bob", "u3": "bob-2", "u4": "bob-3", "u5": "carol"}
    # the highest count survives the merge, so the migration lifts no lock
    assert {k: v[0] for k, v in login_failures(db).items()} == {"mixuser1": 5, "carol": 1}
    assert login_locked(db, "MixUser1")
    renames = db.fetchall("SELECT resource_id, detail FROM audit_log WHERE action = 'user.rename'")
    assert [r[0] for r in renames] == ["u4"] and '"from": "bob"' in renames[0][1] and "bob-3" in renames[0][1]
    user = urepo.get_by_username(db, "BOB")
    assert user.id == "u2" and not user.must_change_password and user.sessions_valid_after is None
    db.close()


# --- 5. revocable sign-ins ------------------------------------------------------------------------------

def test_sign_in_validity_follows_the_users_cutoff(db, creator, other_user):
    before = time.time()  # epoch seconds, like the cookie's claims
    assert sign_in_valid(other_user, before)
    assert not sign_in_valid(other_user, None)
    assert not sign_in_valid(other_user, before + 3600)  # issued in the future: not one of ours
    end_sessions(db, "BOB")
    bob = urepo.get_by_username(db, "bob")
    assert not sign_in_valid(bob, before)
    after = accounts.sign_in_floor(bob.sessions_valid_after)
    assert sign_in_valid(bob, after)
    # the library's cookie holds exp_date = issue time + expiry days
    assert cookie_issued_at({"username": "bob", "exp_date": before + 7 * 86400}, 7) == pytest.approx(before)
    assert cookie_issued_at({"username": "bob"}, 7) is None


@pytest.mark.parametrize("action", ["change", "reset", "disable"])
def test_password_change_reset_and_disabling_end_every_sign_in(db, creator, other_user, action):
    before = time.time()
    assert sign_in_valid(urepo.get_by_id(db, other_user.id), before)
    if action == "change":
        assert change_password(db, other_user, "battery staple", "a new password", "a new password") == {}
    elif action == "reset":
        reset_password(db, "bob", actor=creator)
    else:
        set_disabled(db, creator, other_user.id, True)
    assert not sign_in_valid(urepo.get_by_id(db, other_user.id), before)


def test_a_revoked_browser_session_is_signed_out_on_its_next_run(db, creator, other_user):
    at = app(user=other_user).run()
    assert "Your sessions" in texts(at)
    end_sessions(db, "bob")  # e.g. signed out in another browser
    at.run()
    assert not at.exception
    assert [t.label for t in at.tabs] == ["Sign in", "Create account"] and "Your sessions" not in texts(at)


def test_a_revoked_session_cannot_open_a_protected_page(db, creator, other_user):
    at = app("pages/account.py", user=other_user).run()
    assert "Your account" in texts(at)
    assert change_password(db, other_user, "battery staple", "another password", "another password") == {}
    at.run()
    assert "Please sign in" in texts(at) and "Your account" not in texts(at)


def test_sign_out_ends_every_session_of_the_user(db, creator, other_user):
    at = app(user=other_user).run()
    other = app(user=other_user).run()  # a second browser (or a copied cookie) of the same user
    assert urepo.get_by_id(db, other_user.id).sessions_valid_after is None
    next(b for b in at.sidebar.button if b.label == "Sign out").click().run()
    assert urepo.get_by_id(db, other_user.id).sessions_valid_after is not None
    other.run()
    assert "Your sessions" not in texts(other) and [t.label for t in other.tabs] == ["Sign in", "Create account"]


def test_own_password_change_keeps_this_browser_signed_in(db, creator, other_user):
    at = app("pages/account.py", user=other_user).run()
    fields = {t.label: t for t in at.text_input}
    fields["Current password"].input("battery staple")
    fields["New password"].input("a new password")
    fields["Repeat new password"].input("a new password")
    at.button(key="FormSubmitter:password-Change password").click().run()
    assert "Your new password is set. You are signed out everywhere else." in texts(at)
    at.run()
    assert "Your account" in texts(at) and "Please sign in" not in texts(at)


# --- 10. a reset password must be changed ---------------------------------------------------------------

def test_reset_flags_the_account_and_a_change_clears_it(db, creator, other_user):
    temporary = reset_password(db, "bob", actor=creator)
    bob = urepo.get_by_id(db, other_user.id)
    assert bob.must_change_password
    assert change_password(db, bob, temporary, temporary, temporary) == {
        "new": "Choose a password different from the current one."}
    assert change_password(db, bob, temporary, "my own password", "my own password") == {}
    assert not urepo.get_by_id(db, other_user.id).must_change_password
    # the demo and other non-temporary resets do not force a change
    reset_password(db, "alice", temporary=False)
    assert not urepo.get_by_id(db, creator.id).must_change_password


def test_temporary_password_opens_only_the_change_form(db, creator, other_user):
    temporary = reset_password(db, "bob", actor=creator)
    at = sign_in_attempt(app().run(), "bob", temporary)
    assert not at.exception
    assert "Choose a new password" in texts(at) and "Your sessions" not in texts(at)
    for page in ("pages/account.py", "pages/new.py", "pages/projects.py"):
        at.switch_page(page).run()
        assert "Choose a new password" in texts(at), page
        assert "Your account" not in texts(at) and "New session" not in [t.value for t in at.title], page
    at.switch_page("Home.py").run()
    fields = {t.label: t for t in at.text_input}
    fields["Temporary password"].input(temporary)
    fields["New password"].input("my own password")
    fields["Repeat new password"].input("my own password")
    at.button(key="FormSubmitter:forced_password_change-Set my password").click().run()
    assert not at.exception
    assert "Your sessions" in texts(at)
    assert not urepo.get_by_id(db, other_user.id).must_change_password
    at.switch_page("pages/account.py").run()
    assert "Your account" in texts(at)


def test_admin_users_page_reset_forces_the_change(db, creator, other_user):
    at = app("pages/users.py", user=creator).run()
    at.button(key=f"reset_{other_user.id}").click().run()
    assert "temporary password for bob" in texts(at)
    assert urepo.get_by_id(db, other_user.id).must_change_password


# --- 11. private database files -------------------------------------------------------------------------

def test_database_and_wal_are_created_owner_only(tmp_path):
    path = tmp_path / "h.duckdb"
    with umask(0o022):  # the usual umask: DuckDB alone would create both files 0644
        db = Database(path)
        assert mode(path) == 0o600
        with db.write() as cur:
            cur.execute("INSERT INTO app_settings VALUES ('k', 'v')")
        assert mode(f"{path}.wal") == 0o600
        with db.write() as cur:
            cur.execute("CHECKPOINT")  # removes the log; the next write must not recreate it world-readable
        with db.write() as cur:
            cur.execute("INSERT INTO app_settings VALUES ('k2', 'v')")
        assert mode(f"{path}.wal") == 0o600
        db.close()


def test_an_existing_world_readable_database_is_made_private(tmp_path):
    path = tmp_path / "old.duckdb"
    with umask(0o022):
        duckdb.connect(str(path)).close()
        assert mode(path) == 0o644
        Database(path).close()
    assert mode(path) == 0o600
