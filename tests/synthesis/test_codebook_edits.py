"""Codebook edits are never dropped silently: replayed on every re-synthesis by statement membership, pending with
why when they no longer fit, re-applied or discarded only by a person. Theme labels are unique within a run."""

from datetime import timedelta

import pandas as pd
import pytest

from core import refresh, results
from core.repos import synthesis as repo
from core.synthesis.codebook import ThemeState, place, replay_edit, where_now
from core.synthesis.pipeline import Params, synthesize
from core.synthesis.theme_names import unique_labels
from tests.helpers import launched_session
from tests.synthesis.helpers import Naming, labels, theme_of, topic_participants


def refresh_now(db, session_id: str, reason: str) -> None:
    """The automatic refresh's runner, synchronously (what the debounced timer calls)."""
    refresh._default_runner(db, session_id, reason)


@pytest.fixture
def topics(db, creator):
    s = launched_session(db, creator)
    ids, topics_ = topic_participants(db, s, 40)
    synthesize(db, [s.id], params=Params(k=4))
    return s, ids, topics_


def test_edits_survive_a_new_participant_and_an_exclusion(db, creator, topics):
    s, ids, topics_ = topics
    view = results.open(db, creator, s.id).synthesis_view()
    coffee, meetings, deploy = theme_of(view, "coffee"), theme_of(view, "meeting"), theme_of(view, "deploy")
    onboarding = theme_of(view, "onboarding")
    assert len({coffee, meetings, deploy, onboarding}) == 4
    assert results.open(db, creator, s.id).edit_codebook("rename", theme_id=coffee, label="Kitchen gripes")[1] is None
    assert results.open(db, creator, s.id).edit_codebook("merge", theme_ids=[meetings, onboarding],
                                                         label="People and time")[1] is None
    # a new participant: the refresh updates the run (incremental), edits stay
    topic_participants(db, s, 1, start=40)          # someone else about coffee
    refresh_now(db, s.id, "participant finished")
    run = repo.latest_run(db, s.id)
    assert run.trigger == "auto:participant finished" and run.kind == "incremental"
    view = results.open(db, creator, s.id).synthesis_view()
    assert sorted(labels(view).values()).count("Kitchen gripes") == 1 and "People and time" in labels(view).values()
    assert len(view.themes) == 3
    # an exclusion: a statement went away, so the refresh clusters again (full) and replays the edits
    results.open(db, creator, s.id).set_included(ids[0], False)
    refresh_now(db, s.id, "participant excluded")
    run = repo.latest_run(db, s.id)
    assert run.kind == "full" and run.stats["edits_skipped"] == []
    view = results.open(db, creator, s.id).synthesis_view()
    by_label = {t.label: t.theme_id for t in view.themes}
    assert set(by_label) >= {"Kitchen gripes", "People and time"} and len(view.themes) == 3
    assert theme_of(view, "coffee") == by_label["Kitchen gripes"]
    assert theme_of(view, "meeting") == theme_of(view, "onboarding") == by_label["People and time"]
    edits = results.open(db, creator, s.id).codebook_edits()
    assert [(e.op, e.status) for e in edits] == [("rename", "applied"), ("merge", "applied")]
    assert "to “Kitchen gripes”" in edits[0].description
    assert repo.list_edits(db, s.id)[0].run_id == run.id    # the status was recorded for this run
    # many new people about coffee: the theme more than doubles, yet the edit still maps (only statements the
    # edit's run had are compared)
    topic_participants(db, s, 16, start=100, topic="coffee")
    refresh_now(db, s.id, "participant finished")
    assert repo.latest_run(db, s.id).kind == "full"
    view = results.open(db, creator, s.id).synthesis_view()
    assert labels(view)[theme_of(view, "coffee")] == "Kitchen gripes"
    assert [e.status for e in results.open(db, creator, s.id).codebook_edits()] == ["applied", "applied"]


def test_an_edit_that_no_longer_fits_is_pending_then_reapplied_or_discarded(db, creator, topics):
    s, ids, topics_ = topics
    view = results.open(db, creator, s.id).synthesis_view()
    coffee = theme_of(view, "coffee")
    assert results.open(db, creator, s.id).edit_codebook("rename", theme_id=coffee, label="Kitchen gripes")[1] is None
    assert results.open(db, creator, s.id).edit_codebook("delete", theme_id=coffee)[1] is None
    # everyone who spoke about coffee leaves the analysis: the renamed theme no longer exists
    for pid, t in zip(ids, topics_):
        if t == "coffee":
            results.open(db, creator, s.id).set_included(pid, False)
    for _ in range(2):   # repeated automatic refreshes never discard it
        refresh_now(db, s.id, "participant excluded")
        edits = {e.op: e for e in results.open(db, creator, s.id).codebook_edits()}
        rename = edits["rename"]
        assert rename.status == "pending"
        assert rename.note.startswith("The theme “") and "you renamed to “Kitchen gripes” no longer exists" in \
            rename.note
        assert "none of its statements are in the analysis any more" in rename.note
        assert rename.can_reapply
    view = results.open(db, creator, s.id).synthesis_view()
    assert "Kitchen gripes" not in labels(view).values()
    # re-apply it to a theme the researcher chooses: applied, shown, and replayed from now on
    target = theme_of(view, "deploy")
    run_id, why = results.open(db, creator, s.id).reapply_codebook_edit(rename.id, [target])
    assert why is None and repo.get_run(db, run_id).kind == "edit"
    view = results.open(db, creator, s.id).synthesis_view()
    assert labels(view)[target] == "Kitchen gripes"
    edits = {e.op: e for e in results.open(db, creator, s.id).codebook_edits()}
    assert edits["rename"].status == "applied" and edits["rename"].seq == max(e.seq for e in edits.values())
    # the delete made before is pending too; discard it: listed as discarded, never replayed again
    assert edits["delete"].status == "pending"
    assert results.open(db, creator, s.id).discard_codebook_edit(edits["delete"].id) is None
    synthesize(db, [s.id], params=Params(k=4), allow_incremental=False)
    edits = {e.op: e for e in results.open(db, creator, s.id).codebook_edits()}
    assert edits["delete"].status == "discarded" and edits["rename"].status == "applied"
    assert "Kitchen gripes" in labels(results.open(db, creator, s.id).synthesis_view()).values()
    # only a pending edit can be re-applied or discarded
    assert results.open(db, creator, s.id).discard_codebook_edit(edits["rename"].id)
    assert results.open(db, creator, s.id).reapply_codebook_edit(edits["delete"].id, [target])[1]


def test_where_the_statements_went_is_said_in_plain_words():
    st = pd.DataFrame({"statement_id": [f"s{i}" for i in range(12)],
                       "theme_id": ["A"] * 4 + ["B"] * 4 + [None] * 2 + ["C"] * 2, "text": ["x"] * 12})
    themes = {t: ThemeState(t, name, "", [], None) for t, name in (("A", "Meetings"), ("B", "Focus time"),
                                                                   ("C", "Coffee"))}
    snapshot = [f"s{i}" for i in range(10)] + ["gone1"]   # the renamed theme's statements, one since excluded
    p = place(themes, st, snapshot)
    assert p.best is None and p.spread == [("A", 4), ("B", 4)] and p.unassigned == 2 and p.missing == 1
    text = where_now(p, themes)
    assert text.startswith("its statements are now split across “Meetings” (4 of 10) and “Focus time” (4 of 10)")
    assert "2 are in no theme" in text and "1 more left the analysis" in text
    out = replay_edit("rename", {"label": "Calendar", "members": snapshot, "from_label": "Meetings and focus"},
                      themes, st)
    assert out.status == "pending" and out.candidates == ["A", "B"]
    assert out.note.startswith("The theme “Meetings and focus” you renamed to “Calendar” no longer exists: its "
                               "statements are now split across")
    assert [t.label for t in themes.values()] == ["Meetings", "Focus time", "Coffee"]   # nothing changed
    # a new participant's statements in the theme do not dilute the match: only statements the edit's run had count
    grown = pd.concat([st, pd.DataFrame({"statement_id": [f"n{i}" for i in range(20)], "theme_id": ["A"] * 20,
                                         "text": ["x"] * 20})], ignore_index=True)
    four = [f"s{i}" for i in range(4)]
    assert place(themes, grown, four).best is None                         # 4 of 24: diluted
    assert place(themes, grown, four, universe=set(st["statement_id"])).best == "A"
    # a merge whose themes the new clustering already holds together is kept as applied
    out = replay_edit("merge", {"members": {"x": ["s0", "s1"], "y": ["s2", "s3"]}, "label": "Together"},
                      themes, st)
    assert out.applied and themes["A"].label == "Together"


def test_a_run_does_not_overwrite_a_newer_choice_of_a_person(db, creator, topics):
    s, _, _ = topics
    view = results.open(db, creator, s.id).synthesis_view()
    results.open(db, creator, s.id).edit_codebook("rename", theme_id=view.themes[0].theme_id, label="Renamed")
    edit = repo.list_edits(db, s.id)[0]
    repo.record_edit_statuses(db, s.id, "r1", {edit.id: ("pending", "why", [])},
                              edit.updated_at - timedelta(seconds=5))       # a run that started before the edit
    assert repo.list_edits(db, s.id)[0].status == "applied"
    repo.record_edit_statuses(db, s.id, "r2", {edit.id: ("pending", "why", ["T1"])},
                              edit.updated_at + timedelta(seconds=5))
    assert repo.list_edits(db, s.id)[0].status == "pending"
    repo.discard_edit(db, s.id, edit.id)
    repo.record_edit_statuses(db, s.id, "r3", {edit.id: ("applied", "", [])}, edit.updated_at + timedelta(days=1))
    assert repo.list_edits(db, s.id)[0].status == "discarded"                 # a run never revives or drops it
    with pytest.raises(ValueError):
        repo.record_edit_statuses(db, s.id, "r4", {edit.id: ("discarded", "", [])}, edit.updated_at)


# ---------------------------------------------------------------------------------------------- unique labels


def test_unique_labels():
    assert unique_labels(["Answer", "answer ", "Answer", "Answer (2)"]) == \
        ["Answer", "answer (3)", "Answer (4)", "Answer (2)"]
    assert unique_labels(["A", "B"]) == ["A", "B"]


def test_a_run_never_stores_two_themes_with_one_label_and_a_rename_to_a_used_label_is_refused(db, creator):
    s = launched_session(db, creator)
    topic_participants(db, s, 24)

    def namer(themes, statements):          # like three offline themes all called "Answer" on an import
        for th in themes.values():
            if not th.renamed:              # as the model namer: a name a person gave stays
                th.label = "Answer"

    synthesize(db, [s.id], params=Params(k=4), model=Naming(namer))
    view = results.open(db, creator, s.id).synthesis_view()
    assert sorted(labels(view).values()) == ["Answer", "Answer (2)", "Answer (3)", "Answer (4)"]
    first, second, third, _ = [t.theme_id for t in view.themes]
    run_before = repo.latest_run(db, s.id).id
    _, why = results.open(db, creator, s.id).edit_codebook("rename", theme_id=first, label="  answer (2) ")
    assert why == "Another theme is already called “Answer (2)”. Choose a different name, or merge the two themes."
    _, why = results.open(db, creator, s.id).edit_codebook("merge", theme_ids=[first, second], label="Answer (3)")
    assert why and "already called" in why
    assert repo.latest_run(db, s.id).id == run_before and repo.list_edits(db, s.id) == []
    # renaming a theme to its own name in other case, or merging under one of the merged names, is fine
    assert results.open(db, creator, s.id).edit_codebook("rename", theme_id=first, label="ANSWER")[1] is None
    assert results.open(db, creator, s.id).edit_codebook("merge", theme_ids=[second, third],
                                                         label="Answer (2)")[1] is None
    # a replayed rename that meets an automatic label of the same words keeps its name; the other gets a suffix
    synthesize(db, [s.id], params=Params(k=4), allow_incremental=False, model=Naming(namer))
    names = list(labels(results.open(db, creator, s.id).synthesis_view()).values())
    assert len(names) == len({n.casefold() for n in names}) and {"ANSWER", "Answer (2)"} <= set(names)


def test_only_editors_reapply_or_discard(db, creator, other_user, topics):
    from core.permissions import AccessDenied

    s, _, _ = topics
    view = results.open(db, creator, s.id).synthesis_view()
    results.open(db, creator, s.id).edit_codebook("rename", theme_id=view.themes[0].theme_id, label="Renamed")
    edit = repo.list_edits(db, s.id)[0]
    with pytest.raises(AccessDenied):
        results.open(db, other_user, s.id).reapply_codebook_edit(edit.id, [view.themes[0].theme_id])
    with pytest.raises(AccessDenied):
        results.open(db, other_user, s.id).discard_codebook_edit(edit.id)
    assert repo.list_edits(db, s.id)[0].status == "applied"
