import pytest

from core import conversation, results
from core.forms import FormField
from core.permissions import AccessDenied
from core.repos import memberships as mrepo
from core.repos import participants as prepo
from core.repos import synthesis as synrepo
from core.results import participant_view
from core.sharing import remove_member, set_visibility
from core.synthesis.pipeline import synthesize
from tests.helpers import LONG, grant, launched_session

pytestmark = pytest.mark.both_backends

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
    r = results.open(db, creator, s.id).participants()
    assert (r.started, r.finished, r.included) == (3, 1, 3)
    assert list(r.participants["Team"]) == ["B", "A", "A"]
    assert list(r.participants["Email"]) == ["p0@example.org", "p1@example.org", "p2@example.org"]
    assert list(r.participants["messages"]) == [1, 1, 1]


def test_identifying_answers_and_transcripts_stay_with_owners_and_editors(db, creator, other_user):
    s = launched_session(db, creator, form=FORM)
    p = conversation.join(db, s.id, {"team": "A", "mail": "secret@example.org"})
    grant(db, creator, "session", s.id, other_user, "viewer")
    set_visibility(db, creator, s.id, "members")
    table = results.open(db, other_user, s.id).participants().participants
    assert "Team" in table.columns and "Email" not in table.columns
    assert "secret@example.org" not in table.to_csv()
    with pytest.raises(AccessDenied):
        results.open(db, other_user, s.id).transcript(p.id)


def test_excluding_a_participant_removes_them_from_counts(db, creator):
    s = launched_session(db, creator)
    ids = []
    for text in ANSWERS:
        p = conversation.join(db, s.id)
        conversation.send(db, p.token, text)
        ids.append(p.id)
    results.open(db, creator, s.id).set_included(ids[0], False)
    assert results.open(db, creator, s.id).participants().included == 2


def test_results_and_transcripts_are_private(db, creator, other_user):
    s = launched_session(db, creator)
    p = conversation.join(db, s.id)
    with pytest.raises(AccessDenied):   # neither the results nor, through them, a transcript
        results.open(db, other_user, s.id)
    with pytest.raises(AccessDenied, match="sign in"):
        results.open(db, None, s.id)
    s2 = launched_session(db, creator)
    assert results.open(db, creator, s2.id).transcript(p.id) == []  # not reachable through another session's id


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
    assert any(t.quotes for t in results.open(db, creator, s.id).synthesis_view().themes)  # the owner still sees quotes
    with pytest.raises(AccessDenied):
        participant_view(db, "not-a-token")


def _answered(db, creator, form=None):
    """A launched session with three answering participants and a synthesis; returns (session, participant ids)."""
    s = launched_session(db, creator, form=form)
    ids = []
    for text in ANSWERS:
        p = conversation.join(db, s.id)
        conversation.send(db, p.token, f"{text} {LONG}")
        ids.append(p.id)
    synthesize(db, [s.id])
    return s, ids


def test_open_looks_the_role_up_once_for_every_read_and_write_of_a_page_load(db, creator, monkeypatch):
    monkeypatch.setenv("HARMONICA_AUTO_SYNTHESIS", "0")   # excluding a participant would start a timed refresh
    s, ids = _answered(db, creator)
    lookups = []
    roles_of = mrepo.roles_of
    monkeypatch.setattr(mrepo, "roles_of", lambda *args: lookups.append(args) or roles_of(*args))
    opened = results.open(db, creator, s.id)
    assert len(lookups) == 1
    view = opened.synthesis_view()
    assert opened.capabilities == {"transcripts": True, "edit": True, "export": True, "write": True}
    opened.participants(), opened.participants_page(), opened.participant_page_of(ids[0]), opened.overview()
    opened.synthesis_status(), opened.synthesis_progress(), opened.coverage(), opened.coverage_counts()
    opened.segment_fields(), opened.codebook_edits(), opened.pinned_insights(), opened.transcript(ids[0])
    pin = opened.pin_insight(opened.ask(view, "deploys", mode="offline"), view.run.id)
    opened.unpin_insight(pin)
    opened.set_included(ids[0], False)
    assert len(lookups) == 1      # a rerun of the results page used to look it up about ten times


def test_the_object_keeps_the_role_found_by_open_and_a_new_open_sees_the_change(db, creator, other_user):
    s, _ = _answered(db, creator)
    grant(db, creator, "session", s.id, other_user, "viewer")
    set_visibility(db, creator, s.id, "members")
    opened = results.open(db, other_user, s.id)
    remove_member(db, creator, "session", s.id, other_user.id)
    assert opened.synthesis_view().themes            # what this page load opened stays open until its end
    with pytest.raises(AccessDenied):                # the next page load checks again
        results.open(db, other_user, s.id)


def test_a_viewers_object_reads_but_refuses_every_write(db, creator, other_user):
    s, ids = _answered(db, creator)
    grant(db, creator, "session", s.id, other_user, "viewer")
    set_visibility(db, creator, s.id, "members")
    owners = results.open(db, creator, s.id)
    owners_view = owners.synthesis_view()
    pin = owners.pin_insight(owners.ask(owners_view, "deploys", mode="offline"), owners_view.run.id)
    opened = results.open(db, other_user, s.id)
    view = opened.synthesis_view()
    answer = opened.ask(view, "deploys", mode="offline")       # reading is what a viewer does
    assert answer.citations and [p["id"] for p in opened.pinned_insights()] == [pin]
    assert opened.capabilities == {"transcripts": False, "edit": False, "export": False, "write": False}
    runs = len(synrepo.list_runs(db, s.id))
    theme = view.themes[0].theme_id
    for attempt in (opened.run_synthesis, opened.start_synthesis, lambda: opened.set_included(ids[0], False),
                    lambda: opened.pin_insight(answer, view.run.id), lambda: opened.unpin_insight(pin),
                    lambda: opened.edit_codebook("rename", theme_id=theme, label="Renamed by a viewer"),
                    lambda: opened.reapply_codebook_edit("any", [theme]), lambda: opened.discard_codebook_edit("any"),
                    lambda: opened.transcript(ids[0])):
        with pytest.raises(AccessDenied):
            attempt()
    assert len(synrepo.list_runs(db, s.id)) == runs and [p["id"] for p in synrepo.list_pins(db, s.id)] == [pin]
    assert synrepo.list_edits(db, s.id) == [] and prepo.get_participant(db, ids[0]).included


def test_a_view_of_another_session_is_refused(db, creator):
    s, _ = _answered(db, creator)
    other, _ = _answered(db, creator)
    view = results.open(db, creator, other.id).synthesis_view()
    with pytest.raises(ValueError):
        results.open(db, creator, s.id).ask(view, "deploys", mode="offline")
