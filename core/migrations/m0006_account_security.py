"""Accounts: one lower-case username form, revocable sign-ins, a forced change after a password reset.

1. Usernames are stored, compared and counted lower-case. streamlit-authenticator lower-cases what is typed
   at sign-in, so failed attempts of `MixUser1` were counted under `mixuser1` while the lock was looked up
   under `MixUser1`: such accounts could be guessed without limit. Every stored username is lower-cased here
   (row by row: DuckDB 2.0 accepts an UPDATE of the UNIQUE `username` column since nothing references
   `users` by foreign key). Two accounts that differ only by case (possible in databases written before
   registration compared names case-insensitively, or edited by hand) cannot both keep the name: the account
   created first (ties: the smaller id) keeps the lower-cased name; each other one is renamed to the first
   free `<name>-2`, `<name>-3`, ... (cut to 32 characters), with a `user.rename` entry in the audit log
   (detail: from, to) so an administrator can tell its owner. Their password, email and memberships are
   unchanged; they sign in with the new name. Failed-attempt counts in `login_failures` are re-keyed to the
   lower-case name; when several merge, the highest count and the latest time win, so no lock is lifted.
2. `users.sessions_valid_after`: a sign-in (the 7-day cookie, or a browser session already signed in) that
   was issued at or before this time is refused. Sign-out, a password change or reset and disabling an
   account set it to now, ending every session of that user. NULL: no cutoff.
3. `users.must_change_password`: set by a password reset; until the user chooses a new password, signing
   in opens only the change-password form.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

SQL = """
        ALTER TABLE users ADD COLUMN sessions_valid_after TIMESTAMP;
        ALTER TABLE users ADD COLUMN must_change_password BOOLEAN DEFAULT FALSE;
        """

USERNAME_MAX = 32


def _free_name(base: str, taken: set[str]) -> str:
    """The first `<base>-N` (N >= 2) not in `taken`, cut to USERNAME_MAX characters."""
    n = 2
    while True:
        suffix = f"-{n}"
        candidate = base[: USERNAME_MAX - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
        n += 1


def run(cur) -> None:
    """Lower-case usernames (renaming case-only duplicates) and re-key login failures."""
    from core.ids import new_id

    now = datetime.now(timezone.utc).replace(tzinfo=None)
    rows = cur.execute("SELECT id, username FROM users ORDER BY created_at, id").fetchall()
    taken = {username.lower() for _, username in rows}
    keepers: dict[str, tuple[str, str]] = {}  # lower-case name -> (id, current name) of the account keeping it
    renames: list[tuple[str, str, str]] = []  # (id, from, to) of the accounts that cannot keep their name
    for user_id, username in rows:
        canonical = username.lower()
        if canonical not in keepers:
            keepers[canonical] = (user_id, username)
            continue
        target = _free_name(canonical, taken)
        taken.add(target)
        renames.append((user_id, username, target))
    # Renamed accounts first: a keeper's lower-case name may be the current name of one of them.
    for user_id, old, new in renames:
        cur.execute("UPDATE users SET username = ? WHERE id = ?", [new, user_id])
        cur.execute("INSERT INTO audit_log VALUES (?, ?, NULL, 'user.rename', 'user', ?, ?)",
                    [new_id(), now, user_id, json.dumps({"from": old, "to": new,
                                                         "reason": "usernames are now case-insensitive"})])
    for canonical, (user_id, username) in keepers.items():
        if username != canonical:
            cur.execute("UPDATE users SET username = ? WHERE id = ?", [canonical, user_id])

    merged: dict[str, tuple[int, datetime]] = {}
    changed = False
    rows = cur.execute("SELECT username, failures, last_at FROM login_failures").fetchall()
    for username, failures, last_at in rows:
        key = username.lower()
        changed = changed or key != username or key in merged
        before = merged.get(key)
        merged[key] = (max(failures, before[0]), max(last_at, before[1])) if before else (failures, last_at)
    if changed:
        cur.execute("DELETE FROM login_failures")
        for key, (failures, last_at) in merged.items():
            cur.execute("INSERT INTO login_failures VALUES (?, ?, ?)", [key, failures, last_at])
