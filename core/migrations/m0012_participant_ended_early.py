"""Participants who ended before answering the guide's last step (the Finish button, or the turn limit): told so,
and counted apart from those who completed it.

Earlier conversations are backfilled: a finished participant with a closing recap and no answer or skip at the last
step of their guide version ended early. Imported answers have no recap and are left as they were."""

SQL = """
        ALTER TABLE participants ADD COLUMN IF NOT EXISTS ended_early BOOLEAN DEFAULT false;
        UPDATE participants SET ended_early = true
        WHERE status = 'finished'
          AND EXISTS (SELECT 1 FROM messages r WHERE r.participant_id = participants.id AND r.kind = 'recap')
          AND NOT EXISTS (
              SELECT 1 FROM messages m JOIN guide_versions g
                ON g.session_id = participants.session_id AND g.version = participants.guide_version
              WHERE m.participant_id = participants.id AND m.role = 'participant'
                AND m.step = json_array_length(CAST(g.steps AS JSON)) - 1);
        """
