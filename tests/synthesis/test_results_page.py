"""The results page through Streamlit's AppTest, signed in, with a real database."""

import re
from dataclasses import replace
from pathlib import Path

from streamlit.testing.v1 import AppTest

from core import refresh
from core.forms import FormField
from core.repos import sessions as srepo
from core.repos import synthesis as repo
from core.results.synthesis import ThemeView
from core.synthesis.figures import theme_bar, theme_order
from core.synthesis.pipeline import Params, synthesize
from tests.helpers import launched_session
from tests.pages.apptest import open_expanders, open_tab
from tests.synthesis.helpers import add_participants, topic_answers
from ui.results_view import theme_title

ROOT = Path(__file__).resolve().parents[2]
TEAM = [FormField("team", "Team", "single_choice", False, ["A", "B"])]
EVIL = "The deploy pipeline is slow <img src=x onerror=alert(1)> and [click](http://evil.example) here."


def page(user, query):
    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=90)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = user.username
    at.session_state["name"] = user.name
    at.session_state["logout"] = None
    for k, v in query.items():
        at.query_params[k] = v
    at.switch_page("pages/results.py")
    return at


def all_text(at) -> str:
    parts = []
    for kind in ("title", "markdown", "caption", "text", "info", "warning", "error", "success"):
        parts += [str(getattr(e, "value", "")) for e in at.get(kind)]
    return "\n".join(parts)


def test_results_page_shows_themes_quotes_segments_and_reruns(db, creator):
    s = launched_session(db, creator, form=TEAM)
    answers, _ = topic_answers(24, seed=5)
    answers[0] = [EVIL]
    ids = add_participants(db, s, answers, groups=["A" if i % 2 else "B" for i in range(24)])
    synthesize(db, [s.id], params=Params(k=4))
    at = page(creator, {"s": s.id}).run()
    assert not at.exception, at.exception
    assert not at.get("plotly_chart")   # the first screen needs no Plotly code in the browser (bench/page_speed.py)
    completion = at.dataframe[0].value   # completion by step: a bar beside each question
    guide = [step.question for step in srepo.get_guide_version(db, s.id, s.guide_version).steps]
    assert list(completion["question"]) == guide and list(completion["step"]) == list(range(1, len(guide) + 1))
    assert completion["reached"].iloc[0] == 24 and (completion["answered"] <= completion["reached"]).all()
    charts = 0
    text = all_text(at)
    assert "Up to date" in text and "[theme 1, quote 1]" in text and "Q1.1" not in text
    for tab in ("Themes", "By segment", "Coverage", "Sentiment"):
        open_tab(at, tab)
        if tab == "Themes":
            assert "Theme 1, quote 1" not in all_text(at)      # a closed theme draws no quotes
            open_expanders(at, "theme_")
        assert not at.exception, at.exception
        assert len(at.get("plotly_chart")) >= 1
        charts += len(at.get("plotly_chart"))
        text += all_text(at)
    assert charts >= 4   # themes, segment, coverage, sentiment
    assert "describe this" in text and "sample only" in text
    # citations in words: "Q1.1" reads as "question 1" to a researcher
    assert "Theme 1, quote 1" in text and "Q1.1" not in text
    # ask the data, then pin the answer
    open_tab(at, "Ask the data")
    at.text_input(key="ask_q").input("coffee in the kitchen")
    at.button(key="ask_go").click().run()
    assert not at.exception, at.exception
    assert "no AI model" in all_text(at)
    at.button(key="pin").click().run()
    assert "Pinned insights" in "\n".join(str(h.value) for h in at.get("subheader"))
    # rename a theme in the codebook: a new "edit" run shows it
    open_tab(at, "Codebook")
    at.text_input(key="cb_label").input("Kitchen and coffee")
    at.button(key="cb_apply").click().run()
    assert not at.exception, at.exception
    assert repo.latest_run(db, s.id).kind == "edit"
    assert "Kitchen and coffee" in set(repo.themes_frame(db, repo.latest_run(db, s.id).id)["label"])
    # prepare an export: a download button appears
    open_tab(at, "Export")
    at.selectbox(key="export_fmt").set_value("assignments-csv")
    at.button(key="export_go").click().run()
    assert not at.exception, at.exception
    assert at.get("download_button")
    # sort by mentions, then a manual re-run adds a run
    open_tab(at, "Themes")
    at.radio(key="theme_sort").set_value("mentions").run()
    assert not at.exception
    before = len(repo.list_runs(db, s.id))
    at.button(key="rerun").click().run()
    assert not at.exception, at.exception
    assert refresh.scheduler.wait_idle(60)   # the re-run runs in the background; the page did not wait for it
    assert len(repo.list_runs(db, s.id)) == before + 1
    # a quote's link opens the transcript with the quoted message marked
    statements = repo.statements_frame(db, repo.latest_run(db, s.id).id)
    quoted = statements[statements["participant_id"] == ids[0]].iloc[0]
    at2 = page(creator, {"s": s.id, "tab": "Participants", "p": ids[0], "m": quoted["message_id"]}).run()
    assert not at2.exception
    assert "Quoted message" in all_text(at2)
    # participant text is shown as text: as plain text elements, or escaped in Markdown; never live markup
    md = "\n".join(str(m.value) for m in at2.markdown)
    plain = "\n".join(str(t.value) for t in at2.text)
    assert "img src" in md + plain
    assert re.search(r"(?<!\\)<img", md) is None and re.search(r"(?<!\\)\]\(http", md) is None


def test_results_page_before_any_run_and_for_strangers(db, creator, other_user):
    s = launched_session(db, creator)
    at = page(creator, {"s": s.id}).run()
    assert not at.exception
    assert "No synthesis yet" in all_text(at)
    at = page(other_user, {"s": s.id}).run()
    assert "do not have access" in all_text(at)
    assert not at.get("plotly_chart")


def test_the_researchers_themes_show_how_solid_each_is_and_its_sub_themes(db, creator):
    from core import results

    s = launched_session(db, creator)
    answers, _ = topic_answers(40, seed=3)
    add_participants(db, s, answers)
    synthesize(db, [s.id])
    view = results.open(db, creator, s.id).synthesis_view()
    assert view.themes and all(t.stability is not None for t in view.themes if t.label != "Other")
    with_subs = [t for t in view.themes if t.subthemes]
    at = open_expanders(page(creator, {"s": s.id, "tab": "Themes"}).run(), "theme_")
    assert not at.exception, at.exception
    titles = [e.label for e in at.get("expander")]
    listed = [t for t in titles if re.search(r" mentions? ·", t)]
    assert [next(th.label for th in view.themes if title.startswith(th.label + " — ")) for title in listed] == \
        [th.label for th in theme_order(view.themes)]          # the list follows the chart: largest first
    for theme in view.themes:
        if theme.stability is not None:
            assert any(re.search(rf"mentions? · {theme.steadiness}$", t) and theme.label in t for t in titles)
    text = all_text(at)
    assert "Solid:" in text or "Tentative:" in text
    assert ("Within this theme" in text) == bool(with_subs)
    for theme in with_subs:
        assert any(sub.label in text for sub in theme.subthemes)


def test_a_count_of_one_reads_in_the_singular():
    one = ThemeView("T1", 0, "Standing desk", "", ["desk"], 1, 1, 12.5, {}, stability=0.9)
    assert theme_title(one, mentions=True) == "Standing desk — 1 participant (12%), 1 mention · solid"
    two = replace(one, participants=2, mentions=3)
    assert theme_title(two, mentions=True) == "Standing desk — 2 participants (12%), 3 mentions · solid"
    assert [row[:2] for row in theme_bar([one, two], 8).data[0].customdata] == \
        [["1 participant", "1 mention"], ["2 participants", "3 mentions"]]      # the hover's words, bottom to top


def test_other_comes_last_in_the_chart_and_the_list_whatever_its_size():
    from types import SimpleNamespace as T

    themes = [T(label="Other", origin="other", participants=19, mentions=28),
              T(label="Deploy", origin="cluster", participants=18, mentions=27),
              T(label="Meetings", origin="cluster", participants=15, mentions=30)]
    assert [t.label for t in theme_order(themes)] == ["Deploy", "Meetings", "Other"]
    assert [t.label for t in theme_order(themes, "mentions")] == ["Meetings", "Deploy", "Other"]
    assert list(theme_bar(themes, 30).data[0].y) == ["Other", "Meetings", "Deploy"]   # plotly: bottom to top


def test_only_the_open_tab_is_computed_and_a_choice_survives_leaving_its_tab(db, creator):
    s = launched_session(db, creator)
    add_participants(db, s, topic_answers(12, seed=2)[0])
    synthesize(db, [s.id], params=Params(k=4))
    at = page(creator, {"s": s.id, "tab": "Themes"}).run()
    assert not at.exception, at.exception
    assert len(at.get("plotly_chart")) == 1 and at.radio(key="theme_sort").value == "participants"
    at.radio(key="theme_sort").set_value("mentions").run()
    open_tab(at, "Coverage")
    assert not at.exception and not [r for r in at.radio if r.key == "theme_sort"]
    assert open_tab(at, "Themes").radio(key="theme_sort").value == "mentions"
