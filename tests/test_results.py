import pytest

from core import conversation
from core.forms import FormField
from core.permissions import AccessDenied
from core.results import participant_view, session_results, set_included, synthesis_view, transcript
from core.sharing import set_visibility
from core.synthesis.pipeline import synthesize
from tests.helpers import LONG, grant, launched_session

ANSWERS = [
    "Deploys are painfully slow and the deploy pipeline breaks every week.",
    "Our deploy pipeline is slow; meetings also eat the whole afternoon.",
    "Too many meetings, honestly, and the standup meetings run long.",
]
FORM = [FormField("team", "Team", "single_choice", True, ["A", "B"]),
        FormField("mail", "Email", "email", identifying=True)]


def test_participants_table_flows_from_chat(db, creator):
    s = launched_session(db, creator, form=FORM)
    tokens = []
    for i, text in enumerate(ANSWERS):
        p = conversation.join(db, s.id, {"team": "A" if i else "B", "mail": f"p{i}@example.org"})
        conversation.send(db, p.token, text)
        tokens.append(p.token)
    conversation.finish(db, tokens[0])
    r = session_results(db, creator, s.id)
    assert (r.started, r.finished, r.included) == (3, 1, 3)
    assert list(r.participants["Team"]) == ["B", "A", "A"]
    assert list(r.participants["Email"]) == ["p0@example.org", "p1@example.org", "p2@example.org"]
    assert list(r.participants["messages"]) == [1, 1, 1]


def test_identifying_answers_and_transcripts_stay_with_owners_and_editors(db, creator, other_user):
    s = launched_session(db, creator, form=FORM)
    p = conversation.join(db, s.id, {"team": "A", "mail": "secret@example.org"})
    grant(db, creator, "session", s.id, other_user, "viewer")
    set_visibility(db, creator, s.id, "members")
    table = session_results(db, other_user, s.id).participants
    assert "Team" in table.columns and "Email" not in table.columns
    assert "secret@example.org" not in table.to_csv()
    with pytest.raises(AccessDenied):
        transcript(db, other_user, s.id, p.id)


def test_excluding_a_participant_removes_them_from_counts(db, creator):
    s = launched_session(db, creator)
    ids = []
    for text in ANSWERS:
        p = conversation.join(db, s.id)
        conversation.send(db, p.token, text)
        ids.append(p.id)
    set_included(db, creator, s.id, ids[0], False)
    assert session_results(db, creator, s.id).included == 2


def test_results_and_transcripts_are_private(db, creator, other_user):
    s = launched_session(db, creator)
    p = conversation.join(db, s.id)
    with pytest.raises(AccessDenied):
        session_results(db, other_user, s.id)
    with pytest.raises(AccessDenied):
        transcript(db, other_user, s.id, p.id)
    s2 = launched_session(db, creator)
    assert transcript(db, creator, s2.id, p.id) == []  # not reachable through another session's id


def test_participants_see_summary_and_themes_without_quotes_only_when_shared(db, creator):
    s = launched_session(db, creator)
    tokens = []
    for i in range(6):
        p = conversation.join(db, s.id)
        conversation.send(db, p.token, f"{ANSWERS[i % 3]} {LONG}")
        tokens.append(p.token)
    synthesize(db, [s.id])
    with pytest.raises(AccessDenied):
        participant_view(db, tokens[0])
    set_visibility(db, creator, s.id, "participants")
    view = participant_view(db, tokens[0])
    assert view.themes and all(t.quotes == [] for t in view.themes)
    assert any(t.quotes for t in synthesis_view(db, creator, s.id).themes)  # the owner still sees quotes
    with pytest.raises(AccessDenied):
        participant_view(db, "not-a-token")
