"""Coverage: critical items × participants — answered, thin, skipped, or not reached."""

from __future__ import annotations

import pandas as pd

from core.facilitation.tracker import is_thin

ANSWERED, THIN, SKIPPED, NOT_REACHED = "answered", "thin", "skipped", "not reached"


def coverage_matrix(messages: pd.DataFrame, step_items: dict[tuple[str, int, int], str | None],
                    participants: pd.DataFrame) -> pd.DataFrame:
    """messages: participant messages (participant_id, session_id, guide_version, step, kind, content);
    participants: (participant_id, label) in display order. Returns rows = critical items, columns = labels."""
    items: list[str] = []
    for item in step_items.values():
        if item and item not in items:
            items.append(item)
    status: dict[tuple[str, str], str] = {}
    rank = {NOT_REACHED: 0, SKIPPED: 1, THIN: 2, ANSWERED: 3}
    for m in messages.itertuples(index=False):
        item = step_items.get((m.session_id, int(m.guide_version), int(m.step)))
        if not item:
            continue
        value = SKIPPED if m.kind == "skip" else THIN if is_thin(m.content) else ANSWERED
        key = (item, m.participant_id)
        if rank[value] > rank[status.get(key, NOT_REACHED)]:
            status[key] = value
    data = {row.label: [status.get((item, row.participant_id), NOT_REACHED) for item in items]
            for row in participants.itertuples(index=False)}
    return pd.DataFrame(data, index=items)
