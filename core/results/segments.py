"""Themes by segment: who raised which theme, by their answer to one pre-session form field. Each function takes a
session whose access the caller checked (core.results.SessionResults)."""

from __future__ import annotations

import pandas as pd

from core.db import Database
from core.repos import sessions as srepo
from core.repos import synthesis as synrepo
from core.repos.participants import load_json_list
from core.repos.sessions import SessionRow
from core.results.synthesis import SynthesisView
from core.synthesis.segments import SegmentTable, multiple_choice_table, segment_table


def segment_fields(db: Database, session: SessionRow) -> dict[str, str]:
    """Form field key -> label, for the fields one can segment by (not consent or email)."""
    return {f.key: f.label for f in srepo.get_form(db, session.id) if f.type not in ("consent", "email")}


def segments(db: Database, session: SessionRow, view: SynthesisView, field_key: str) -> SegmentTable:
    """Themes by the answers to one form field. A multiple-choice field gives one segment per option (a
    participant can be in several; see core.synthesis.segments); any other field one group per answer."""
    answers = synrepo.form_answers_frame(db, [session.id])
    values = answers[answers["field_key"] == field_key].set_index("participant_id")["value"]
    # No statement text: segments only count who raised what. Participants are numbered (0..n-1) for the counting,
    # which is much faster on integers than on 400,000 string ids.
    memberships = view.memberships
    ids = pd.Index(memberships["participant_id"].unique())
    analysed = pd.RangeIndex(len(ids))
    members = pd.DataFrame({"participant_id": ids.get_indexer(memberships["participant_id"]),
                            "theme_id": memberships["theme_id"]})
    members = members[members["theme_id"].notna()]
    form = {f.key: f for f in srepo.get_form(db, session.id)}
    label = segment_fields(db, session).get(field_key, field_key)
    themes = [(t.theme_id, t.label) for t in view.themes]
    spec = form.get(field_key)
    values = values[~values.index.duplicated()].reindex(ids)   # the analysed participants' answers (NaN: none)
    if spec is not None and spec.type == "multiple_choice":
        choices = pd.Series([load_json_list(v) if isinstance(v, str) else [] for v in values], index=analysed,
                            dtype=object)
        return multiple_choice_table(members, choices, themes, label, spec.options)
    values = values.map(lambda v: ", ".join(load_json_list(v)) if isinstance(v, str) and v.startswith("[") else v)
    groups = pd.Series(values.to_numpy(dtype=object), index=analysed, dtype=object)
    return segment_table(members, groups, themes, label)
