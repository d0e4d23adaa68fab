"""Invitations are claimed with a secret code; pending invitations matched by email become unusable.

Until now an invitation went to whoever signed in (or registered) with the invited username or email, and
emails are never verified, so a stranger could register the invited address and take the role. From now on
an invitation carries the hash of a random code (`code_hash`; the code itself is shown once to the inviter,
never stored), expires (`expires_at`), and records who claimed it (`accepted_by`). Every invitation still
pending when this migration runs has no code, so it is marked `expired` here: nobody can claim it any more,
and the inviter re-invites to get a code to pass on. `invitee` stays, as the inviter's note of who it is for.
"""

SQL = """
        ALTER TABLE invitations ADD COLUMN code_hash VARCHAR;     -- sha256 hex of the code; NULL: no code
        ALTER TABLE invitations ADD COLUMN expires_at TIMESTAMP;
        ALTER TABLE invitations ADD COLUMN accepted_by VARCHAR;   -- users.id of who claimed it
        UPDATE invitations SET status = 'expired', answered_at = current_timestamp WHERE status = 'pending';
        """
