"""SQL for invitations to a session or project; only the hash of each code is stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.clock import utcnow
from core.db import Database
from core.ids import new_id


@dataclass(frozen=True)
class Invitation:
    id: str
    resource_type: str
    resource_id: str
    invitee: str
    role: str
    invited_by: str
    status: str                      # pending | accepted | declined | revoked | expired
    created_at: datetime
    expires_at: datetime | None
    accepted_by: str | None


def insert_invitation(db: Database, resource_type: str, resource_id: str, invitee: str, role: str,
                      invited_by: str, code_hash: str, expires_at: datetime) -> Invitation:
    """Store a pending invitation; only the hash of its code is kept."""
    inv = Invitation(new_id(), resource_type, resource_id, invitee, role, invited_by, "pending", utcnow(),
                     expires_at, None)
    with db.write() as cur:
        cur.execute("INSERT INTO invitations (id, resource_type, resource_id, invitee, role, invited_by, status, "
                    "created_at, code_hash, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [inv.id, inv.resource_type, inv.resource_id, inv.invitee, inv.role, inv.invited_by, inv.status,
                     inv.created_at, code_hash, expires_at])
    return inv


_INV = "id, resource_type, resource_id, invitee, role, invited_by, status, created_at, expires_at, accepted_by"


def pending_of_resource(db: Database, resource_type: str, resource_id: str) -> list[Invitation]:
    """Invitations of a session or project still pending (expired ones included, for the inviter to see)."""
    rows = db.fetchall(f"SELECT {_INV} FROM invitations WHERE status = 'pending' AND resource_type = ? "
                       "AND resource_id = ? ORDER BY created_at", [resource_type, resource_id])
    return [Invitation(*r) for r in rows]


def get_invitation(db: Database, invitation_id: str) -> Invitation | None:
    """One invitation by id."""
    row = db.fetchone(f"SELECT {_INV} FROM invitations WHERE id = ?", [invitation_id])
    return Invitation(*row) if row else None


def invitation_by_code_hash(db: Database, code_hash: str) -> Invitation | None:
    """The invitation whose code hashes to `code_hash`, whatever its status."""
    row = db.fetchone(f"SELECT {_INV} FROM invitations WHERE code_hash = ?", [code_hash])
    return Invitation(*row) if row else None


def claim_invitation(db: Database, invitation_id: str, user_id: str, now: datetime) -> bool:
    """Accept a pending, unexpired invitation for `user_id` and grant its role, in one transaction.

    False (and nothing changed) when it was already answered, revoked or expired: the status is read and
    written in one write serialised per invitation (across replicas too), so a code is claimed once even by
    concurrent requests.
    """
    with db.write(serial=f"invitation {invitation_id}") as cur:
        row = cur.execute("SELECT status, expires_at, resource_type, resource_id, role FROM invitations "
                          "WHERE id = ?", [invitation_id]).fetchone()
        if row is None or row[0] != "pending" or row[1] is None or row[1] <= now:
            return False
        _, _, resource_type, resource_id, role = row
        cur.execute("UPDATE invitations SET status = 'accepted', answered_at = ?, accepted_by = ? WHERE id = ?",
                    [now, user_id, invitation_id])
        existing = cur.execute(
            "SELECT role FROM memberships WHERE resource_type = ? AND resource_id = ? AND user_id = ?",
            [resource_type, resource_id, user_id]).fetchone()
        if existing is None:
            cur.execute("INSERT INTO memberships VALUES (?, ?, ?, ?, ?)",
                        [resource_type, resource_id, user_id, role, now])
    return True


def close_invitation(db: Database, invitation_id: str, status: str) -> bool:
    """Mark a pending invitation declined or revoked; False when it was no longer pending."""
    with db.write(serial=f"invitation {invitation_id}") as cur:
        row = cur.execute("SELECT status FROM invitations WHERE id = ?", [invitation_id]).fetchone()
        if row is None or row[0] != "pending":
            return False
        cur.execute("UPDATE invitations SET status = ?, answered_at = ? WHERE id = ?",
                    [status, utcnow(), invitation_id])
    return True
