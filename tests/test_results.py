import pytest

from core import conversation
from core.forms import FormField
from core.permissions import AccessDenied
from core.results import session_results, set_included, transcript
from core.synthesis.keywords import keyword_themes, templated_summary
from tests.helpers import launched_session

import pandas as pd

ANSWERS = {
    0: "Deploys are painfully slow and the deploy pipeline breaks every week.",
    1: "Our deploy pipeline is slow; meetings also eat the whole afternoon.",
    2: "Too many meetings, honestly, and the standup meetings run long.",
}


def frame(rows):
    return pd.DataFrame(rows, columns=["participant_id", "message_id", "content"])


def test_themes_count_distinct_participants_not_mentions():
    rows = [("p1", "m1", "deploy pipeline slow"), ("p1", "m2", "deploy pipeline slow again"),
            ("p2", "m3", "the deploy pipeline is slow"), ("p3", "m4", "meetings are long"),
            ("p4", "m5", "meetings everywhere")]
    themes = {t.label: t for t in keyword_themes(frame(rows))}
    assert themes["deploy pipeline"].participants == 2 and themes["deploy pipeline"].mentions == 3
    assert themes["meetings"].participants == 2
    # every quote is an exact stored message
    stored = {r[2] for r in rows}
    assert all(q["text"] in stored for t in themes.values() for q in t.quotes)


def test_themes_empty_input_and_summary_wording():
    assert keyword_themes(frame([])) == []
    assert "No one has answered" in templated_summary([], 0, 0)
    themes = keyword_themes(frame([("p1", "m1", "slow deploys"), ("p2", "m2", "slow deploys")]))
    summary = templated_summary(themes, 2, 1)
    assert "2 participant(s)" in summary and "without an AI model" in summary


def test_results_flow_from_chat_to_chart(db, creator):
    form = [FormField("team", "Team", "single_choice", True, ["A", "B"])]
    s = launched_session(db, creator, form=form)
    tokens = []
    for i in range(3):
        p = conversation.join(db, s.id, {"team": "A" if i else "B"})
        conversation.send(db, p.token, ANSWERS[i])
        tokens.append(p.token)
    conversation.finish(db, tokens[0])
    r = session_results(db, creator, s.id)
    assert (r.started, r.finished, r.included) == (3, 1, 3)
    assert list(r.participants["Team"]) == ["B", "A", "A"]
    assert list(r.participants["messages"]) == [1, 1, 1]
    labels = {t.label: t.participants for t in r.themes}
    assert labels.get("deploy pipeline") == 2 and labels.get("meetings") == 2


def test_excluding_a_participant_removes_them_from_counts(db, creator):
    s = launched_session(db, creator)
    ids = []
    for i in range(3):
        p = conversation.join(db, s.id)
        conversation.send(db, p.token, ANSWERS[i])
        ids.append(p.id)
    set_included(db, creator, s.id, ids[0], False)
    r = session_results(db, creator, s.id)
    assert r.included == 2
    assert {t.label: t.participants for t in r.themes}.get("deploy pipeline", 1) == 1


def test_results_and_transcripts_are_private(db, creator, other_user):
    s = launched_session(db, creator)
    p = conversation.join(db, s.id)
    with pytest.raises(AccessDenied):
        session_results(db, other_user, s.id)
    with pytest.raises(AccessDenied):
        transcript(db, other_user, s.id, p.id)
    # a participant of another session is not reachable through this session's id
    s2 = launched_session(db, creator)
    assert transcript(db, creator, s2.id, p.id) == []
