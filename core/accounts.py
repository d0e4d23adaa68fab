"""User accounts: registration with checks, bcrypt hashes, and the credentials streamlit-authenticator reads."""

from __future__ import annotations

import re
import secrets

import bcrypt

from core.db import Database
from core.clock import utcnow
from core.repos import access as arepo
from core.repos import users as urepo
from core.repos.users import User

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
                         "invite": "Only people with a pending invitation",
                         "closed": "Nobody (admins reset passwords for existing users)"}
LOCK_AFTER_FAILURES = 5
LOCK_MINUTES = 15


def registration_policy(db: Database) -> str:
    return arepo.get_setting(db, "registration", "open")


def register(db: Database, username: str, email: str, name: str, password: str, password_repeat: str) -> User:
    """Create an account; the first account of a database is the site admin."""
    username, email, name = username.strip(), email.strip(), name.strip()
    errors: dict[str, str] = {}
    policy = registration_policy(db)
    if urepo.list_users(db) and policy != "open":
        if policy == "closed" or not arepo.has_pending_invitation(db, username, email):
            raise RegistrationError({"registration": "Registration is closed on this server." if policy == "closed"
                                     else "Registration is by invitation: ask a member to invite your email."})
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
    elif password != password_repeat:
        errors["password_repeat"] = "The passwords do not match."
    if errors:
        raise RegistrationError(errors)
    return urepo.insert_user(db, username, email, name, hash_password(password))


def authenticate(db: Database, username: str, password: str) -> User | None:
    user = urepo.get_by_username(db, username)
    if user is None or user.disabled or not check_password(password, user.password_hash):
        return None
    return user


def reset_password(db: Database, username: str, actor: User | None = None) -> str:
    """Give a user a new random password and return it once (admins, the command line, the demo)."""
    user = urepo.get_by_username(db, username)
    if user is None:
        raise KeyError(username)
    if actor is not None and not actor.is_admin:
        raise PermissionError("Only administrators can reset passwords.")
    password = secrets.token_urlsafe(12)
    urepo.set_password_hash(db, user.id, hash_password(password))
    arepo.set_login_failures(db, user.username, 0)
    arepo.insert_audit(db, actor.id if actor else None, "user.reset_password", "user", user.id,
                       {"username": user.username})
    return password


def change_password(db: Database, user: User, current: str, new: str, repeat: str) -> dict[str, str]:
    """Errors by field; empty when the password was changed."""
    if not check_password(current, urepo.get_by_id(db, user.id).password_hash):
        return {"current": "The current password is not correct."}
    problem = password_problem(new)
    if problem:
        return {"new": problem}
    if new != repeat:
        return {"repeat": "The passwords do not match."}
    urepo.set_password_hash(db, user.id, hash_password(new))
    arepo.insert_audit(db, user.id, "user.change_password", "user", user.id, {})
    return {}


def set_disabled(db: Database, admin: User, user_id: str, disabled: bool) -> None:
    if not admin.is_admin:
        raise PermissionError("Only administrators can disable accounts.")
    if admin.id == user_id:
        raise ValueError("You cannot disable your own account.")
    urepo.set_disabled(db, user_id, disabled)
    arepo.insert_audit(db, admin.id, "user.disable" if disabled else "user.enable", "user", user_id, {})


def set_registration_policy(db: Database, admin: User, policy: str) -> None:
    if not admin.is_admin:
        raise PermissionError("Only administrators can change registration.")
    if policy not in REGISTRATION_POLICIES:
        raise ValueError(f"Unknown policy '{policy}'.")
    arepo.set_setting(db, "registration", policy)
    arepo.insert_audit(db, admin.id, "settings.registration", "app", "registration", {"policy": policy})


def login_locked(db: Database, username: str) -> bool:
    """Too many failed sign-ins in a row lock the username for LOCK_MINUTES."""
    failures, last = arepo.login_failures(db).get(username, (0, None))
    if failures < LOCK_AFTER_FAILURES or last is None:
        return False
    return (utcnow() - last).total_seconds() < LOCK_MINUTES * 60


def record_login_result(db: Database, username: str, success: bool) -> None:
    if urepo.get_by_username(db, username) is None:
        return  # never store names of accounts that do not exist
    failures = 0 if success else arepo.login_failures(db).get(username, (0, None))[0] + 1
    arepo.set_login_failures(db, username, failures)


def export_user_data(db: Database, user: User) -> dict:
    """Everything stored about the user as an account holder (JSON-ready), audited."""
    from core.sessions import list_for

    sessions = list_for(db, user)
    arepo.insert_audit(db, user.id, "user.export", "user", user.id, {})
    return {
        "account": {"username": user.username, "email": user.email, "name": user.name,
                    "created_at": user.created_at.isoformat(), "is_admin": user.is_admin},
        "memberships": [{"session": r["name"], "role": r["role"]} for r in sessions],
        "projects": [{"title": p.title, "role": role} for p, role in arepo.projects_of_user(db, user.id)],
        "audit": [
            {"at": str(row["created_at"]), "action": row["action"], "resource": row["resource_type"]}
            for row in arepo.audit_frame(db).to_dict("records") if row["actor"] == user.username
        ],
    }


def delete_account(db: Database, user: User, password: str) -> None:
    """Delete the account once no session or project depends on it as the only owner."""
    if not check_password(password, urepo.get_by_id(db, user.id).password_hash):
        raise ValueError("The password is not correct.")
    blocking = arepo.sole_ownerships(db, user.id)
    if blocking:
        raise ValueError("Transfer or delete these first (you are their only owner): " + ", ".join(blocking))
    arepo.delete_user_memberships(db, user.id)
    urepo.erase_user(db, user.id)
    arepo.insert_audit(db, None, "user.delete", "user", user.id, {"username": user.username})


def credentials(db: Database) -> dict:
    """The `credentials` mapping streamlit-authenticator expects, built from the database on each run.

    Disabled users are left out, so they cannot sign in and an existing cookie no longer resolves.
    Failed attempts are counted in the database (streamlit-authenticator only counts in memory).
    """
    locked = {name for name in arepo.login_failures(db) if login_locked(db, name)}
    return {
        "usernames": {
            # A locked username starts at the attempt limit, so streamlit-authenticator refuses it.
            u.username: {"email": u.email, "name": u.name, "password": u.password_hash,
                         "failed_login_attempts": LOCK_AFTER_FAILURES if u.username in locked else 0,
                         "logged_in": False}
            for u in urepo.list_users(db)
            if not u.disabled
        }
    }
