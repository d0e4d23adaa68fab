"""The Codebook tab through AppTest (Home.py + switch_page, a real database): edits made in the page survive the
automatic refresh after a new participant and an exclusion; a pending edit is explained, re-applied or discarded;
themes with the same label never break the Results page."""

from core import refresh, results
from core.forms import FormField
from core.repos import synthesis as repo
from core.synthesis import pipeline
from core.synthesis.pipeline import Params, synthesize
from tests.helpers import launched_session
from tests.pages.apptest import app, open_tab, texts
from tests.synthesis.helpers import Naming, add_participants, labels, said, theme_of, topic_participants

TEAM = [FormField("team", "Team", "single_choice", False, ["A", "B"]),
        FormField("tools", "Tools", "multiple_choice", False, ["Jira", "GitHub", "Slack"])]
TABS = ["Summary", "Themes", "By segment", "Coverage", "Sentiment", "Ask the data", "Codebook", "Participants",
        "Export"]


def results_page(user, session_id, tab: str = "Codebook"):
    at = app("pages/results.py", user=user, query={"s": session_id, "tab": tab}).run()
    assert not at.exception, at.exception
    return at


def rename_in_page(at, theme_id: str, label: str):
    at.selectbox(key="cb_op").set_value("rename").run()
    at.selectbox(key="cb_theme").set_value(theme_id)
    at.text_input(key="cb_label").input(label)
    at.button(key="cb_apply").click().run()
    assert not at.exception, at.exception
    return at


def test_edits_made_in_the_codebook_tab_survive_the_automatic_refresh(db, creator):
    s = launched_session(db, creator)
    ids, _ = topic_participants(db, s, 40)
    synthesize(db, [s.id], params=Params(k=4))
    view = results.open(db, creator, s.id).synthesis_view()
    coffee, meetings, onboarding = (theme_of(view, w) for w in ("coffee", "meeting", "onboarding"))
    at = rename_in_page(results_page(creator, s.id), coffee, "Kitchen gripes")
    at.selectbox(key="cb_op").set_value("merge").run()
    at.multiselect(key="cb_merge").set_value([meetings, onboarding])
    at.text_input(key="cb_merge_label").input("People and time")
    at.button(key="cb_apply").click().run()
    assert not at.exception, at.exception
    shown = texts(at)
    assert "**Kitchen gripes** ·" in shown and "**People and time** ·" in shown
    assert "**#1** · applied" in shown and "**#2** · applied" in shown

    # a new participant, then an exclusion, each followed by the automatic refresh (run synchronously here)
    topic_participants(db, s, 1, start=40)
    refresh._default_runner(db, s.id, "participant finished")
    assert repo.latest_run(db, s.id).trigger == "auto:participant finished"
    results.open(db, creator, s.id).set_included(ids[0], False)
    refresh._default_runner(db, s.id, "participant excluded")
    run = repo.latest_run(db, s.id)
    assert run.trigger == "auto:participant excluded" and run.kind == "full"

    at = results_page(creator, s.id)
    shown = texts(at)
    assert "**Kitchen gripes** ·" in shown and "**People and time** ·" in shown
    assert "**#1** · applied" in shown and "**#2** · applied" in shown and "pending:" not in shown
    view = results.open(db, creator, s.id).synthesis_view()
    assert len(view.themes) == 3 and labels(view)[theme_of(view, "coffee")] == "Kitchen gripes"
    assert theme_of(view, "meeting") == theme_of(view, "onboarding")


def test_a_pending_edit_is_explained_and_can_be_reapplied_or_discarded_in_the_page(db, creator):
    s = launched_session(db, creator)
    ids, topics = topic_participants(db, s, 40)
    synthesize(db, [s.id], params=Params(k=4))
    view = results.open(db, creator, s.id).synthesis_view()
    coffee = theme_of(view, "coffee")
    at = rename_in_page(results_page(creator, s.id), coffee, "Kitchen gripes")
    at.selectbox(key="cb_op").set_value("delete").run()
    at.selectbox(key="cb_theme").set_value(coffee)
    at.button(key="cb_apply").click().run()
    assert not at.exception, at.exception
    for pid, t in zip(ids, topics):          # everyone who talked about coffee is excluded
        if t == "coffee":
            results.open(db, creator, s.id).set_included(pid, False)
    refresh._default_runner(db, s.id, "participant excluded")

    at = results_page(creator, s.id)
    shown = texts(at)
    assert "2 of your edits no longer fit the themes" in shown
    assert "**#1** · pending: no longer fits the themes" in shown
    assert "you renamed to “Kitchen gripes” no longer exists: none of its statements are in the analysis" in shown
    rename, delete = results.open(db, creator, s.id).codebook_edits()
    view = results.open(db, creator, s.id).synthesis_view()
    target = theme_of(view, "deploy")
    at.selectbox(key=f"cb_target_{rename.id}").set_value(target)
    at.button(key=f"cb_reapply_{rename.id}").click().run()
    assert not at.exception, at.exception
    shown = texts(at)
    assert f"Re-applied edit #{rename.seq}." in shown and "**Kitchen gripes** ·" in shown
    assert labels(results.open(db, creator, s.id).synthesis_view())[target] == "Kitchen gripes"
    assert "1 of your edits no longer fit" in shown
    at.button(key=f"cb_discard_{delete.id}").click().run()
    assert not at.exception, at.exception
    shown = texts(at)
    assert f"Discarded edit #{delete.seq}." in shown and "no longer fit the themes" not in shown
    assert "discarded" in shown
    edits = results.open(db, creator, s.id).codebook_edits()
    assert [e.status for e in edits] == ["discarded", "applied"]   # replay order


def test_two_themes_with_one_label_never_break_the_results_page(db, creator, monkeypatch):
    s = launched_session(db, creator, form=TEAM)
    names = ["coffee", "meetings", "deploy", "onboarding"]
    add_participants(db, s, [said(names[i % 4], i) for i in range(24)], groups=["A", "B"] * 12, field_key="team")
    picks = ['["Jira", "GitHub"]', '["Slack"]', '["Jira"]']
    add_participants(db, s, [said(names[i % 4], i) for i in range(12)], groups=picks * 4, field_key="tools")

    def namer(themes, statements):         # three and more themes called "Answer", as on an import
        for th in themes.values():
            th.label = "Answer"

    # a run stored before labels were made unique (the pipeline no longer stores one)
    with monkeypatch.context() as m:
        m.setattr(pipeline, "unique_labels", lambda names: list(names))
        synthesize(db, [s.id], params=Params(k=4), model=Naming(namer))
    stored = repo.themes_frame(db, repo.latest_run(db, s.id).id)["label"].tolist()
    assert stored == ["Answer"] * 4

    at = results_page(creator, s.id)
    assert [t.label for t in at.tabs] == TABS
    assert at.selectbox(key="cb_op").options[:2] == ["Rename a theme", "Merge themes"]   # words, not keys
    shown = texts(at)
    assert "**Answer (2)** ·" in shown and "**Answer (4)** ·" in shown
    assert open_tab(at, "Export").selectbox(key="export_fmt") is not None
    open_tab(at, "By segment")
    for field in ("team", "tools"):
        at.selectbox(key="segment_field").set_value(field).run()
        assert not at.exception, at.exception
    assert "Holm-adjusted" in texts(at)
    open_tab(at, "Codebook")
    # a rename to a label in use is refused with a clear message; the page stays whole
    view = results.open(db, creator, s.id).synthesis_view()
    at = rename_in_page(at, view.themes[0].theme_id, "answer (3)")
    assert "Another theme is already called “Answer (3)”. Choose a different name, or merge the two themes." in \
        texts(at)
    assert [t.label for t in at.tabs] == TABS
    # a new run stores unique labels
    synthesize(db, [s.id], params=Params(k=4), model=Naming(namer), allow_incremental=False)
    assert sorted(repo.themes_frame(db, repo.latest_run(db, s.id).id)["label"]) == \
        ["Answer", "Answer (2)", "Answer (3)", "Answer (4)"]
    at = results_page(creator, s.id)
    assert [t.label for t in at.tabs] == TABS
