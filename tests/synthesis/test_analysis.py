import threading
import time

import pandas as pd
import pytest
from scipy.stats import fisher_exact
from sklearn.metrics import adjusted_rand_score

from core import conversation, refresh, results
from core.forms import FormField
from core.repos import synthesis as repo
from core.synthesis import sentiment
from core.synthesis.pipeline import Params, synthesize
from core.synthesis.segments import segment_table, significance_test
from tests.helpers import LONG, launched_session
from tests.synthesis.helpers import add_participants, topic_answers

TEAM = [FormField("team", "Team", "single_choice", False, ["A", "B", "C"])]


# ------------------------------------------------------------------------------------ segments


def _members(pairs):
    return pd.DataFrame(pairs, columns=["participant_id", "theme_id"])


def test_segment_difference_with_small_groups_uses_fisher_and_flags_it():
    groups = pd.Series({f"a{i}": "A" for i in range(6)} | {f"b{i}": "B" for i in range(6)})
    members = _members([(f"a{i}", "T1") for i in range(6)] + [(f"b{i}", "T2") for i in range(6)] + [("a0", "T2")])
    table = segment_table(members, groups, [("T1", "Deploys"), ("T2", "Meetings")], "Team")
    t1 = table.tests[0]
    assert t1.test == "Fisher's exact test"
    assert t1.p_value == pytest.approx(fisher_exact([[6, 0], [0, 6]])[1]) and t1.notable
    assert table.shares.loc["T1", "A"] == 1.0 and table.shares.loc["T1", "B"] == 0.0   # keyed by theme id
    assert table.counts.loc["T2", "A"] == 1 and table.label("T2") == "Meetings"
    assert table.sizes == {"A": 6, "B": 6} and table.small == []


def test_no_difference_is_not_flagged_and_small_groups_are_marked_not_hidden():
    groups = pd.Series({f"a{i}": "A" for i in range(20)} | {f"b{i}": "B" for i in range(20)} | {"c0": "C", "c1": "C"})
    members = _members([(f"a{i}", "T1") for i in range(10)] + [(f"b{i}", "T1") for i in range(10)] + [("c0", "T1")])
    table = segment_table(members, groups, [("T1", "Deploys")], "Team")
    t = table.tests[0]
    assert t.test == "chi-square test" and not t.notable and t.p_value > 0.5
    assert "approximate" in t.note            # group C has expected counts below 5
    assert table.small == ["C"] and "C" in table.shares.columns


def test_chi_square_on_a_known_table():
    name, p, _ = significance_test([[30, 10], [10, 30], [20, 20]])
    assert name == "chi-square test" and p < 0.001
    from scipy.stats import chi2_contingency

    assert p == pytest.approx(chi2_contingency([[30, 10], [10, 30], [20, 20]])[1])


def test_segments_from_form_answers_on_a_session(db, creator):
    s = launched_session(db, creator, form=TEAM)
    deploy = "Honestly, the deploy pipeline is slow and breaks every week."
    meetings = "Too many meetings eat the whole calendar every single day."
    answers = [[deploy]] * 8 + [[meetings]] * 8
    add_participants(db, s, answers, groups=["A"] * 8 + ["B"] * 8)
    synthesize(db, [s.id], params=Params(k=2))
    opened = results.open(db, creator, s.id)
    table = opened.segments(opened.synthesis_view(), "team")
    assert table.field == "Team" and table.sizes == {"A": 8, "B": 8}
    assert all(t.notable for t in table.tests)
    assert sorted(table.shares.to_numpy().ravel().tolist()) == [0.0, 0.0, 1.0, 1.0]


# ------------------------------------------------------------------------------------ codebook


@pytest.fixture
def synthesized(db, creator):
    s = launched_session(db, creator, form=TEAM)
    answers, _ = topic_answers(32, seed=3)
    add_participants(db, s, answers)
    synthesize(db, [s.id], params=Params(k=4))
    return s


def test_rename_merge_delete_persist_and_survive_resynthesis(db, creator, synthesized):
    s = synthesized
    view = results.open(db, creator, s.id).synthesis_view()
    ids = [t.theme_id for t in view.themes]
    run_id, why = results.open(db, creator, s.id).edit_codebook("rename", theme_id=ids[0], label="Shipping pain")
    assert why is None
    view = results.open(db, creator, s.id).synthesis_view()
    assert view.run.id == run_id and view.run.kind == "edit" and view.themes[0].label == "Shipping pain"
    _, why = results.open(db, creator, s.id).edit_codebook("merge", theme_ids=[ids[2], ids[3]],
                                                           label="Office and people")
    assert why is None
    view = results.open(db, creator, s.id).synthesis_view()
    assert len(view.themes) == 3 and "Office and people" in [t.label for t in view.themes]
    _, why = results.open(db, creator, s.id).edit_codebook("delete", theme_id=ids[1])
    assert why is None and len(results.open(db, creator, s.id).synthesis_view().themes) == 2
    assert [e.op for e in results.open(db, creator, s.id).codebook_edits()] == ["rename", "merge", "delete"]
    # a full re-synthesis clusters again and re-applies the edits that still fit
    out = synthesize(db, [s.id], params=Params(k=4), allow_incremental=False)
    view = results.open(db, creator, s.id).synthesis_view()
    assert view.run.id == out.run_id and out.stats["edits_skipped"] == []
    assert sorted(t.label for t in view.themes) == ["Office and people", "Shipping pain"]


def test_split_and_move(db, creator, synthesized):
    s = synthesized
    view = results.open(db, creator, s.id).synthesis_view()
    before = len(view.themes)
    _, why = results.open(db, creator, s.id).edit_codebook("merge",
                                                           theme_ids=[view.themes[0].theme_id, view.themes[1].theme_id])
    assert why is None
    merged = results.open(db, creator, s.id).synthesis_view()
    big = max(merged.themes, key=lambda t: t.mentions)
    _, why = results.open(db, creator, s.id).edit_codebook("split", theme_id=big.theme_id, parts=2)
    assert why is None
    split = results.open(db, creator, s.id).synthesis_view()
    assert len(split.themes) == before
    statement = split.statements.iloc[0]
    target = next(t for t in split.themes if t.theme_id != statement["theme_id"])
    _, why = results.open(db, creator, s.id).edit_codebook("move", statement_id=statement["statement_id"],
                           to_theme_id=target.theme_id)
    assert why is None
    moved = results.open(db, creator, s.id).synthesis_view().statements.set_index("statement_id")
    assert moved.loc[statement["statement_id"], "theme_id"] == target.theme_id
    _, why = results.open(db, creator, s.id).edit_codebook("rename", theme_id="nope", label="x")
    assert why


def test_edits_need_edit_permission(db, creator, other_user, synthesized):
    from core.permissions import AccessDenied

    view = results.open(db, creator, synthesized.id).synthesis_view()
    with pytest.raises(AccessDenied):
        results.open(db, other_user, synthesized.id).edit_codebook("rename", theme_id=view.themes[0].theme_id,
                                                                   label="x")
    with pytest.raises(AccessDenied):
        results.open(db, other_user, synthesized.id).synthesis_view()


# ------------------------------------------------------------------------- ask, pins, summary


def test_ask_returns_cited_verbatim_quotes_and_pins(db, creator, synthesized):
    opened = results.open(db, creator, synthesized.id)
    view = opened.synthesis_view()
    answer = opened.ask(view, "What do people say about coffee in the kitchen?")
    assert answer.citations and all("coffee" in c.text.lower() or "kitchen" in c.text.lower()
                                    for c in answer.citations[:3])
    texts = set(view.statements["text"])
    assert all(c.text in texts for c in answer.citations)
    assert "no AI model" in answer.answer
    results.open(db, creator, synthesized.id).pin_insight(answer, view.run.id)
    pins = results.open(db, creator, synthesized.id).pinned_insights()
    assert pins[0]["question"] == answer.question and pins[0]["citations"][0]["text"] == answer.citations[0].text


def test_ask_lists_one_wording_once_whatever_its_case_and_full_stop():
    from core.synthesis.ask import retrieve

    said = ["Too many meetings.", "too many meetings", "Meetings eat the afternoon", "The coffee is fine"]
    statements = pd.DataFrame({"statement_id": [f"s{i}" for i in range(4)], "message_id": [f"m{i}" for i in range(4)],
                               "participant_id": ["p1", "p2", "p3", "p4"], "text": said, "theme_id": ["T1"] * 4})
    cited = [c.text for c in retrieve("What about meetings?", statements, {"T1": "Meetings"}).citations]
    assert len(cited) == 2 and "Meetings eat the afternoon" in cited
    assert cited[0].lower().startswith("too many meetings")


def test_summary_cites_quotes_and_does_not_grow_with_participants(db, creator):
    sizes = []
    for n in (12, 60):
        s = launched_session(db, creator)
        add_participants(db, s, topic_answers(n, seed=4)[0])
        synthesize(db, [s.id], params=Params(k=4))
        view = results.open(db, creator, s.id).synthesis_view()
        assert "[Q1.1]" in view.run.summary and "without an AI model" in view.run.summary
        assert view.themes[0].quotes[0].text in view.run.summary or "…" in view.run.summary
        sizes.append(len(view.run.summary))
    assert abs(sizes[1] - sizes[0]) < 200


# -------------------------------------------------------------------- coverage, overview, sentiment


def test_coverage_and_overview_from_real_conversations(db, creator):
    s = launched_session(db, creator)
    p1 = conversation.join(db, s.id)
    conversation.send(db, p1.token, LONG)          # step 1 answered
    conversation.send(db, p1.token, "Skip")        # step 2 skipped
    p2 = conversation.join(db, s.id)
    conversation.send(db, p2.token, "Meh.")        # thin answer (probe follows)
    matrix = results.open(db, creator, s.id).coverage()
    assert list(matrix.columns) == ["P1", "P2"]
    items = list(matrix.index)
    assert matrix.loc[items[0], "P1"] == "answered" and matrix.loc[items[1], "P1"] == "skipped"
    assert matrix.loc[items[0], "P2"] == "thin" and matrix.loc[items[2], "P2"] == "not reached"
    ov = results.open(db, creator, s.id).overview()
    assert (ov.started, ov.finished, ov.included) == (2, 0, 2)
    assert ov.completion_by_step["reached"].tolist()[:2] == [2, 1]


def test_sentiment_lexicon_with_negation():
    assert sentiment.label("The new process helped a lot and works great.") == "positive"
    assert sentiment.label("Deploys are slow and the pipeline is broken.") == "negative"
    assert sentiment.label("It was not good at all.") == "negative"
    assert sentiment.label("We met on Tuesday.") == "neutral"


# ------------------------------------------------------------------------------ automatic refresh


def test_refresh_is_debounced_and_runs_in_the_background(db):
    calls = []
    done = threading.Event()

    def runner(db_, sid, reason):
        calls.append((sid, reason, threading.current_thread().name))
        done.set()

    sched = refresh.RefreshScheduler(delay=0.2, runner=runner)
    for _ in range(5):
        sched.request(db, "s1", "participant finished")
    started = time.monotonic()
    assert done.wait(5)
    assert sched.wait_idle(5)
    assert len(calls) == 1 and calls[0][2].startswith("synthesis-refresh")
    assert time.monotonic() - started < 5


def test_finishing_and_closing_trigger_an_automatic_synthesis(db, creator, monkeypatch):
    monkeypatch.setenv("HARMONICA_AUTO_SYNTHESIS", "1")
    monkeypatch.setattr(refresh, "scheduler", refresh.RefreshScheduler(delay=0.05))
    s = launched_session(db, creator)
    for text in (LONG, "Too many meetings eat the whole calendar and nobody reads the notes afterwards."):
        p = conversation.join(db, s.id)
        conversation.send(db, p.token, text)
        conversation.finish(db, p.token)
    assert refresh.scheduler.wait_idle(30)
    run = repo.latest_run(db, s.id)
    assert run is not None and run.trigger == "auto:participant finished"
    assert results.open(db, creator, s.id).synthesis_view().up_to_date
    from core.sessions import set_status

    set_status(db, creator, s.id, "closed")
    assert refresh.scheduler.wait_idle(30)
    # nothing changed since the last run: the close does not add a run
    assert repo.latest_run(db, s.id).id == run.id


def test_offline_summary_is_written_in_the_session_language():
    from core.synthesis.summary import SummaryTheme, templated_summary

    themes = [SummaryTheme("Déploiements", 3, 5, "Trop lent, vraiment.", "Q1.1")]
    fr = templated_summary(themes, 4, 4, 10, "fr")
    assert "sans modèle d'IA" in fr and "« Trop lent, vraiment. » [Q1.1]" in fr
    assert "sin un modelo de IA" in templated_summary(themes, 4, 4, 10, "es")
    assert "written in English" in templated_summary(themes, 4, 4, 10, "de")


def test_the_summary_counts_in_words_never_with_an_s_in_brackets():
    from core.synthesis.summary import SummaryTheme, templated_summary

    one = templated_summary([SummaryTheme("Deploys", 1, 1, "Deploys are slow", "Q1.1")], 1, 1, 1)
    assert "Analysed: 1 participant (1 finished" in one and "1 statement grouped into 1 theme." in one
    assert "raised by 1 of 1 participant (100%), 1 mention," in one and "(s)" not in one
    many = templated_summary([SummaryTheme(f"T{i}", 3, 4, None, None) for i in range(7)], 30, 28, 238)
    assert "30 participants" in many and "238 statements grouped into 7 themes." in many
    assert "Smaller themes (2)" in many and "(s)" not in many


def test_a_split_on_a_sentence_model_run_separates_topics_and_takes_new_answers(db, creator, synthesized):
    """Split uses the run's own embedder: the parts of a merged pair are the two topics again, each with a centre in
    the run's space, so the next update places a new participant's answer in the right part."""
    s = synthesized
    view = results.open(db, creator, s.id).synthesis_view()
    if view.run.embedder == "tfidf-lsa":
        pytest.skip("the packaged sentence model is not installed")
    first, second = view.themes[0], view.themes[1]
    before = view.statements.set_index("statement_id")["theme_id"]
    results.open(db, creator, s.id).edit_codebook("merge", theme_ids=[first.theme_id, second.theme_id])
    merged = results.open(db, creator, s.id).synthesis_view()
    big = next(t for t in merged.themes if t.mentions == first.mentions + second.mentions)
    _, why = results.open(db, creator, s.id).edit_codebook("split", theme_id=big.theme_id, parts=2)
    assert why is None
    after = results.open(db, creator, s.id).synthesis_view()
    parts = [t for t in after.themes if t.theme_id.startswith(big.theme_id + ".")]
    assert len(parts) == 2
    st = after.statements.set_index("statement_id")
    pair = before[before.isin([first.theme_id, second.theme_id])]
    assert adjusted_rand_score(pair.tolist(), st.loc[pair.index, "theme_id"].tolist()) == 1.0
    frame = repo.themes_frame(db, after.run.id).set_index("theme_id")
    assert frame.loc[[p.theme_id for p in parts], "centroid"].notna().all()
    # one more participant who says what the first theme's people said: the update puts it in that part
    text = view.statements.loc[view.statements["theme_id"] == first.theme_id, "text"].iloc[0]
    add_participants(db, s, [[text]])
    out = synthesize(db, [s.id], params=Params(k=4))
    assert out.kind == "incremental"
    st = repo.statements_frame(db, out.run_id)
    newest = st[st["text"] == text]["theme_id"].unique().tolist()
    target = st.loc[st["statement_id"] == before[before == first.theme_id].index[0], "theme_id"].iloc[0]
    assert newest == [target]
