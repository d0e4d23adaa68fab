"""User accounts: registration with checks, bcrypt hashes, and the credentials streamlit-authenticator reads."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timezone

import bcrypt

from core import sharing
from core.clock import utcnow
from core.db import Database
from core.repos import memberships as mrepo
from core.repos import projects as projrepo
from core.repos import users as urepo
from core.repos.app_settings import get_setting, set_setting
from core.repos.audit import audit_frame, insert_audit
from core.repos.login_failures import add_login_failure, clear_login_failures, login_failures
from core.repos.users import User, canonical_username

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,32}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PASSWORD_MIN = 8
PASSWORD_MAX_BYTES = 72  # bcrypt ignores (newer versions reject) anything past 72 bytes
BCRYPT_ROUNDS = 12  # tests lower it: each round doubles the cost of every hash


class RegistrationError(Exception):
    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(errors.values()))


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(BCRYPT_ROUNDS)).decode("ascii")


def check_password(password: str, password_hash: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode("utf-8"), password_hash.encode("ascii"))
    except ValueError:
        return False


def password_problem(password: str) -> str | None:
    if len(password) < PASSWORD_MIN:
        return f"Use at least {PASSWORD_MIN} characters."
    if len(password.encode("utf-8")) > PASSWORD_MAX_BYTES:
        return f"Use at most {PASSWORD_MAX_BYTES} bytes (a shorter password)."
    return None


REGISTRATION_POLICIES = {"open": "Anyone can create an account",
                         "invite": "Only people with an invitation code",
                         "closed": "Nobody (admins reset passwords for existing users)"}
LOCK_AFTER_FAILURES = 5
LOCK_MINUTES = 15


def registration_policy(db: Database) -> str:
    return get_setting(db, "registration", "open")


def register(db: Database, username: str, email: str, name: str, password: str, password_repeat: str,
             invite_code: str = "") -> User:
    """Create an account; the first account of a database is the site admin.

    With `invite_code` (required when registration is by invitation) the new account also claims that
    invitation. Invitations are never matched by username or email: emails are not verified.
    """
    username, email, name = canonical_username(username), email.strip(), name.strip()
    errors: dict[str, str] = {}
    policy = registration_policy(db)
    first = not urepo.list_users(db)
    if not first and policy == "closed":
        raise RegistrationError({"registration": "Registration is closed on this server."})
    if not first and policy == "invite" and not invite_code.strip():
        raise RegistrationError({"registration": "Registration is by invitation: open the invitation link you "
                                                 "were given, or enter its code."})
    if invite_code.strip() and sharing.usable_invitation(db, invite_code) is None:
        errors["invitation_code"] = sharing.INVALID_CODE
    if not USERNAME.match(username):
        errors["username"] = "3 to 32 characters: letters, digits, '.', '_' or '-'."
    elif urepo.get_by_username(db, username):
        errors["username"] = "This username is taken."
    if not EMAIL.match(email) or len(email) > 254:
        errors["email"] = "Enter a valid email address."
    elif urepo.get_by_email(db, email):
        errors["email"] = "An account with this email already exists."
    if not 1 <= len(name) <= 80:
        errors["name"] = "Enter your name (up to 80 characters)."
    problem = password_problem(password)
    if problem:
        errors["password"] = problem
    if password != password_repeat:     # said at once too: one round of fixes, not two
        errors["password_repeat"] = "The passwords do not match."
    if errors:
        raise RegistrationError(errors)
    password_hash = hash_password(password)
    create = lambda: urepo.insert_user(db, username, email, name, password_hash)  # noqa: E731
    if not invite_code.strip():
        return create()
    try:  # checked again, with the account created and the invitation claimed under one lock
        return sharing.register_with_invitation(db, invite_code, create)
    except sharing.SharingError as exc:
        raise RegistrationError({"invitation_code": str(exc)}) from exc


def authenticate(db: Database, username: str, password: str) -> User | None:
    user = urepo.get_by_username(db, username)
    if user is None or user.disabled or not check_password(password, user.password_hash):
        return None
    return user


def reset_password(db: Database, username: str, actor: User | None = None, temporary: bool = True) -> str:
    """Give a user a new random password and return it once (admins, the command line, the demo).

    Every sign-in of the user ends. A `temporary` password (the default) opens only the change-password
    form: the user must choose their own at the next sign-in, so whoever saw it cannot use it for more.
    """
    user = urepo.get_by_username(db, username)
    if user is None:
        raise KeyError(username)
    if actor is not None and not actor.is_admin:
        raise PermissionError("Only administrators can reset passwords.")
    password = secrets.token_urlsafe(12)
    urepo.set_password_hash(db, user.id, hash_password(password), must_change=temporary)
    clear_login_failures(db, user.username)
    insert_audit(db, actor.id if actor else None, "user.reset_password", "user", user.id,
                       {"username": user.username})
    return password


def change_password(db: Database, user: User, current: str, new: str, repeat: str) -> dict[str, str]:
    """Errors by field; empty when the password was changed.

    A change ends every sign-in of the user issued until now (this one too: the caller renews its own) and
    clears a pending forced change. The new password must differ from the current (temporary) one.
    """
    if not check_password(current, urepo.get_by_id(db, user.id).password_hash):
        return {"current": "The current password is not correct."}
    problem = password_problem(new)
    if problem:
        return {"new": problem}
    if new != repeat:
        return {"repeat": "The passwords do not match."}
    if new == current:
        return {"new": "Choose a password different from the current one."}
    urepo.set_password_hash(db, user.id, hash_password(new), must_change=False)
    insert_audit(db, user.id, "user.change_password", "user", user.id, {})
    return {}


def set_disabled(db: Database, admin: User, user_id: str, disabled: bool) -> None:
    if not admin.is_admin:
        raise PermissionError("Only administrators can disable accounts.")
    if admin.id == user_id:
        raise ValueError("You cannot disable your own account.")
    urepo.set_disabled(db, user_id, disabled)
    insert_audit(db, admin.id, "user.disable" if disabled else "user.enable", "user", user_id, {})


def set_registration_policy(db: Database, admin: User, policy: str) -> None:
    if not admin.is_admin:
        raise PermissionError("Only administrators can change registration.")
    if policy not in REGISTRATION_POLICIES:
        raise ValueError(f"Unknown policy '{policy}'.")
    set_setting(db, "registration", policy)
    insert_audit(db, admin.id, "settings.registration", "app", "registration", {"policy": policy})


def login_locked(db: Database, username: str) -> bool:
    """Too many failed sign-ins in a row lock the username (in any letter case) for LOCK_MINUTES."""
    failures, last = login_failures(db).get(canonical_username(username), (0, None))
    if failures < LOCK_AFTER_FAILURES or last is None:
        return False
    return (utcnow() - last).total_seconds() < LOCK_MINUTES * 60


def record_login_result(db: Database, username: str, success: bool) -> None:
    """Count a failed sign-in (or clear the count after a success) under the canonical username."""
    username = canonical_username(username)
    if urepo.get_by_username(db, username) is None:
        return  # never store names of accounts that do not exist
    if success:
        clear_login_failures(db, username)
    else:
        add_login_failure(db, username)


CLOCK_SKEW_SECONDS = 60


def end_sessions(db: Database, username: str) -> None:
    """Sign the user out everywhere: every sign-in issued until now (cookie or open session) is refused."""
    user = urepo.get_by_username(db, username)
    if user is not None:
        urepo.end_sessions(db, user.id)


def cookie_issued_at(token: dict | None, expiry_days: float) -> float | None:
    """When a streamlit-authenticator cookie was issued (epoch seconds), from its `exp_date` claim.

    The library's signed token holds only `username` and `exp_date` = issue time + `expiry_days`.
    """
    exp_date = (token or {}).get("exp_date")
    if not isinstance(exp_date, (int, float)) or isinstance(exp_date, bool):
        return None
    return float(exp_date) - expiry_days * 86400


def sign_in_valid(user: User, issued_at: float | None, now: float | None = None) -> bool:
    """Whether a sign-in issued at `issued_at` (epoch seconds) may still act as `user`.

    Refused: an unknown issue time, one in the future (a cookie made under another expiry setting), and one
    at or before the user's `sessions_valid_after` (sign-out, password change or reset, disabling).
    """
    if issued_at is None or user.disabled:
        return False
    now = datetime.now(timezone.utc).timestamp() if now is None else now
    if issued_at > now + CLOCK_SKEW_SECONDS:
        return False
    return issued_at >= sign_in_floor(user.sessions_valid_after)


def sign_in_floor(cutoff: datetime | None) -> float:
    """The earliest issue time (epoch seconds) that a sign-in needs to pass `sessions_valid_after`."""
    # One microsecond past the cutoff: the stored resolution, and more than float rounding of epoch seconds.
    return 0.0 if cutoff is None else cutoff.replace(tzinfo=timezone.utc).timestamp() + 1e-6


def export_user_data(db: Database, user: User) -> dict:
    """Everything stored about the user as an account holder (JSON-ready), audited."""
    from core.sessions import list_for

    sessions = list_for(db, user)
    insert_audit(db, user.id, "user.export", "user", user.id, {})
    return {
        "account": {"username": user.username, "email": user.email, "name": user.name,
                    "created_at": user.created_at.isoformat(), "is_admin": user.is_admin},
        "memberships": [{"session": r["name"], "role": r["role"]} for r in sessions],
        "projects": [{"title": p.title, "role": role} for p, role in projrepo.projects_of_user(db, user.id)],
        "audit": [
            {"at": str(row["created_at"]), "action": row["action"], "resource": row["resource_type"]}
            for row in audit_frame(db).to_dict("records") if row["actor"] == user.username
        ],
    }


def delete_account(db: Database, user: User, password: str) -> None:
    """Delete the account once no session or project depends on it as the only owner."""
    if not check_password(password, urepo.get_by_id(db, user.id).password_hash):
        raise ValueError("The password is not correct.")
    blocking = mrepo.sole_ownerships(db, user.id)
    if blocking:
        raise ValueError("Transfer or delete these first (you are their only owner): " + ", ".join(blocking))
    mrepo.delete_user_memberships(db, user.id)
    urepo.erase_user(db, user.id)
    insert_audit(db, None, "user.delete", "user", user.id, {"username": user.username})


def credentials(db: Database) -> dict:
    """The `credentials` mapping streamlit-authenticator expects, built from the database on each run.

    Disabled users are left out, so they cannot sign in and an existing cookie no longer resolves.
    Failed attempts are counted in the database (streamlit-authenticator only counts in memory).
    """
    locked = {canonical_username(name) for name in login_failures(db) if login_locked(db, name)}
    usernames = {}
    for u in urepo.list_users(db):
        if u.disabled:
            continue
        # Keyed by the canonical name, the form the library looks up (it lower-cases what is typed); a locked
        # username starts at the attempt limit, so streamlit-authenticator refuses it.
        name = canonical_username(u.username)
        usernames[name] = {"email": u.email, "name": u.name, "password": u.password_hash,
                           "failed_login_attempts": LOCK_AFTER_FAILURES if name in locked else 0,
                           "logged_in": False}
    return {"usernames": usernames}
