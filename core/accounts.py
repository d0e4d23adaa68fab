"""User accounts: registration with checks, bcrypt hashes, and the credentials streamlit-authenticator reads."""

from __future__ import annotations

import re
import secrets

import bcrypt

from core.db import Database
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


def register(db: Database, username: str, email: str, name: str, password: str, password_repeat: str) -> User:
    """Create an account; the first account of a database is the site admin."""
    username, email, name = username.strip(), email.strip(), name.strip()
    errors: dict[str, str] = {}
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


def reset_password(db: Database, username: str) -> str:
    """Give a user a new random password (command line / demo); returns it once."""
    user = urepo.get_by_username(db, username)
    if user is None:
        raise KeyError(username)
    password = secrets.token_urlsafe(12)
    urepo.set_password_hash(db, user.id, hash_password(password))
    return password


def credentials(db: Database) -> dict:
    """The `credentials` mapping streamlit-authenticator expects, built from the database on each run.

    Disabled users are left out, so they cannot sign in and an existing cookie no longer resolves.
    """
    return {
        "usernames": {
            u.username: {"email": u.email, "name": u.name, "password": u.password_hash, "failed_login_attempts": 0,
                         "logged_in": False}
            for u in urepo.list_users(db)
            if not u.disabled
        }
    }
