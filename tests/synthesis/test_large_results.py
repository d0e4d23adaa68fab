"""Results at any size (issue 15, point 7): the participants table page by page, aggregates computed in DuckDB
equal to the pandas ones they replace, the synthesis in the background with the page never waiting for it, and only
the open tab computed for a large session. Sizes are a few thousand rows; the 200,000-row figures are in
bench/large_import.py and bench/RESULTS.md (no timing here)."""

from __future__ import annotations

import threading

import pandas as pd
import pytest

from core import refresh, results
from core.importer import ImportSpec, import_responses
from core.migrations import m0010_message_words
from core.repos import synthesis as synrepo
from core.synthesis import pipeline
from core.synthesis.pipeline import Params, synthesize
from core.text import word_count
from tests.helpers import launched_session
from tests.pages.apptest import app, place_of, texts
from tests.synthesis.helpers import TOPICS, add_participants, topic_answers

SPEC = ImportSpec("Big survey", ["What should change?", "Anything else?"], "Respondent", ["Team"])


def big_csv(n: int) -> bytes:
    topics = [t for group in TOPICS.values() for t in group]
    return pd.DataFrame({
        "Respondent": [f"R{i:05d}" for i in range(n)],
        "What should change?": [f"{topics[i % len(topics)]}, said person {i}." for i in range(n)],
        "Anything else?": ["" if i % 3 else "Short one." for i in range(n)],
        "Team": [["North", "South", "East"][i % 3] for i in range(n)],
    }).to_csv(index=False).encode()


def execute(db, sql: str, params: list | None = None) -> None:
    with db.write() as cur:
        cur.execute(sql, params or [])


@pytest.fixture
def big(db, creator):
    return import_responses(db, creator, big_csv(3000), SPEC, filename="big.csv")


def test_participants_table_comes_one_bounded_page_at_a_time(db, creator, big):
    page = results.open(db, creator, big.session_id).participants_page(page=2, size=50)
    assert page.total == 3000 and page.pages == 60 and len(page.rows) == 50
    assert (page.first, page.last) == (101, 150)
    assert page.rows["participant"].tolist() == [f"Participant {n}" for n in range(101, 151)]
    assert page.rows["Team"].tolist() == [["North", "South", "East"][i % 3] for i in range(100, 150)]
    assert page.rows["messages"].tolist() == [2 if i % 3 == 0 else 1 for i in range(100, 150)]
    # the same rows, columns and values as the whole table had for that slice
    whole = results.open(db, creator, big.session_id).participants().participants
    expected = whole.iloc[100:150].reset_index(drop=True)
    pd.testing.assert_frame_equal(page.rows.reset_index(drop=True)[expected.columns], expected, check_dtype=False)
    # past the end: the last page, short
    last = results.open(db, creator, big.session_id).participants_page(page=999, size=50)
    assert last.page == 59 and len(last.rows) == 50 and last.last == 3000
    odd = results.open(db, creator, big.session_id).participants_page(page=999, size=7)
    assert len(odd.rows) == 3000 % 7 and odd.pages == -(-3000 // 7)
    # a quote's link names a participant: the table opens on their page
    target = whole.iloc[2345]["id"]
    assert results.open(db, creator, big.session_id).participant_page_of(target, size=50) == 2345 // 50
    assert results.open(db, creator, big.session_id).participant_page_of("not-a-participant") is None


def test_overview_and_coverage_counts_are_the_aggregates_of_the_full_frames(db, creator, big):
    # a thin answer, a skip and an excluded participant, so every status and filter is exercised
    people = synrepo.participants_frame(db, [big.session_id])
    first, second = people["participant_id"].iloc[:2]
    execute(db, "UPDATE participants SET included = false WHERE id = ?", [second])
    execute(db, "UPDATE messages SET kind = 'skip' WHERE participant_id = ? AND role = 'participant' AND step = 1",
            [first])
    ov = results.open(db, creator, big.session_id).overview()
    answers = synrepo.answers_frame(db, [big.session_id])
    words = answers.loc[answers["kind"] == "answer", "content"].map(word_count)
    assert ov.median_answer_words == float(words.median())
    assert (ov.started, ov.finished, ov.included) == (3000, 3000, 2999)
    by_step = ov.completion_by_step.set_index("step")
    assert by_step.loc[1, "reached"] == 3000 and by_step.loc[2, "reached"] == 1000
    assert by_step.loc[2, "answered"] == 999   # the skip reached step 2 without answering it

    counts = results.open(db, creator, big.session_id).coverage_counts()
    grid = results.open(db, creator, big.session_id).coverage()   # one column per included participant
    expected = grid.apply(lambda row: row.value_counts(), axis=1).reindex(
        columns=results.COVERAGE_STATUSES).fillna(0).astype(int)
    pd.testing.assert_frame_equal(counts, expected, check_names=False)
    assert counts.loc["Anything else?", "skipped"] == 1 and counts.loc["Anything else?", "thin"] == 999


def test_the_input_hash_from_duckdb_is_the_pipelines_hash(db, creator):
    s = launched_session(db, creator)
    answers, _ = topic_answers(30, seed=3)
    ids = add_participants(db, s, answers)
    execute(db, "UPDATE participants SET included = false WHERE id = ?", [ids[0]])
    execute(db, "UPDATE participants SET simulated = true WHERE id = ?", [ids[1]])
    for params in (Params(), Params(include_simulated=True), Params(k=3)):
        for mode, embedder in (("offline", "tfidf-lsa"), ("model", "other")):
            frame = pipeline._analysed_answers(db, [s.id], params)
            assert (pipeline.current_input_hash(db, [s.id], params, mode, embedder)
                    == pipeline._hash_answers(frame, params, mode, embedder))
    run = synrepo.get_run(db, synthesize(db, [s.id], params=Params(k=4)).run_id)
    assert results.open(db, creator, s.id).synthesis_view().up_to_date
    add_participants(db, s, [["A new answer about the coffee machine in the kitchen."]])
    assert not results.open(db, creator, s.id).synthesis_view().up_to_date   # a new answer changes the digest
    assert run.input_hash != pipeline.current_input_hash(db, [s.id], Params(k=4), run.mode, run.embedder)


def test_view_reads_quotes_without_every_statement(db, creator):
    s = launched_session(db, creator)
    add_participants(db, s, topic_answers(40, seed=2)[0])
    synthesize(db, [s.id], params=Params(k=4))
    view = results.open(db, creator, s.id).synthesis_view()
    assert "statements" not in view.__dict__          # not read to show the header, themes and quotes
    quotes = [q for t in view.themes for q in t.quotes]
    assert quotes and all(q.participant.startswith("Participant ") for q in quotes)
    stored = view.statements.set_index("statement_id")   # read on first use, with the same quote texts
    assert all(stored.loc[q.statement_id, "text"] == q.text for q in quotes)
    assert all(t.sessions == {s.id: t.participants} for t in view.themes if t.participants)


def test_the_synthesis_runs_in_the_background_and_the_page_shows_its_progress(db, creator, monkeypatch):
    s = launched_session(db, creator)
    add_participants(db, s, topic_answers(24, seed=4)[0])
    synthesize(db, [s.id], params=Params(k=4))
    before = synrepo.latest_run(db, s.id)
    idle = app("pages/results.py", user=creator, query={"s": s.id}).run()
    tabs_place = place_of(idle, idle.tabs[0])
    release, reached = threading.Event(), threading.Event()
    real = results.synthesis.run_synthesis   # what the background thread runs

    def slow_run(db_, session, **kwargs):
        kwargs["progress"](0.35, "Finding themes")
        reached.set()
        assert release.wait(60)
        return real(db_, session, **kwargs)

    monkeypatch.setattr(refresh, "scheduler", refresh.RefreshScheduler(delay=60))
    monkeypatch.setattr(results.synthesis, "run_synthesis", slow_run)
    try:
        assert results.open(db, creator, s.id).start_synthesis()          # returns while the run is still going
        assert reached.wait(30)
        state = results.open(db, creator, s.id).synthesis_progress()
        assert state.running and state.fraction == 0.35 and state.message == "Finding themes"
        assert not results.open(db, creator, s.id).start_synthesis()      # one run per session at a time
        at = app("pages/results.py", user=creator, query={"s": s.id}).run()
        assert not at.exception, at.exception
        assert "Synthesis running (manual): Finding themes" in str(at.get("progress")[0].proto)
        assert before.id in texts(at)                              # the previous run is shown meanwhile
        assert at.button(key="rerun").disabled
        # the progress bar above the tabs does not move them: a theme fragment's id (its place) stays the same, so
        # a click in one is not dropped when a run starts or ends
        assert place_of(at, at.tabs[0]) == tabs_place
    finally:
        release.set()
    assert refresh.scheduler.wait_idle(60)
    state = results.open(db, creator, s.id).synthesis_progress()
    assert not state.running and state.error is None and state.fraction == 1.0
    assert synrepo.latest_run(db, s.id).id != before.id
    after = app("pages/results.py", user=creator, query={"s": s.id}).run()
    assert after.expander and "Earlier runs" in [e.label for e in after.expander]    # two runs now
    assert place_of(after, after.tabs[0]) == tabs_place


def test_a_failed_background_run_shows_a_plain_message(db, creator, monkeypatch, caplog):
    s = launched_session(db, creator)

    def broken(*args, **kwargs):
        raise RuntimeError("boom in /srv/harmonica/core/secret.py")

    monkeypatch.setattr(refresh, "scheduler", refresh.RefreshScheduler(delay=60))
    monkeypatch.setattr(results.synthesis, "run_synthesis", broken)
    assert results.open(db, creator, s.id).start_synthesis()
    assert refresh.scheduler.wait_idle(30)
    state = results.open(db, creator, s.id).synthesis_progress()
    assert not state.running and "reference" in state.error
    assert "boom" not in state.error and "/srv" not in state.error
    ref = state.error.split("reference ")[1].rstrip(".")
    assert any(ref in r.getMessage() and r.exc_info and "boom" in str(r.exc_info[1]) for r in caplog.records)


def test_a_large_session_computes_only_the_open_tab_and_pages_the_table(db, creator, monkeypatch):
    monkeypatch.setattr(results, "LAZY_TABS_ABOVE", 50)
    monkeypatch.setattr(results, "COVERAGE_GRID_MAX", 50)
    s = launched_session(db, creator)
    add_participants(db, s, topic_answers(120, seed=6)[0])
    synthesize(db, [s.id], params=Params(k=4))
    at = app("pages/results.py", user=creator, query={"s": s.id}).run()
    assert not at.exception, at.exception
    # only the summary ran: its completion table is the page's one table, and it draws no chart
    assert [list(d.value.columns)[:2] for d in at.dataframe] == [["step", "question"]]
    assert not at.get("plotly_chart") and "Participants 1–50" not in texts(at)
    assert not [w for w in at.selectbox if w.key and w.key.startswith("transcript_pick")]

    at = app("pages/results.py", user=creator, query={"s": s.id, "tab": "Participants"}).run()
    assert not at.exception, at.exception
    assert "Participants 1–50 of 120" in texts(at) and not at.get("plotly_chart")
    assert len(at.dataframe[0].value) == 50
    at.number_input(key="participants_page").set_value(3).run()
    assert not at.exception, at.exception
    assert "Participants 101–120 of 120" in texts(at) and len(at.dataframe[0].value) == 20
    picker = [w for w in at.selectbox if w.key and w.key.startswith("transcript_pick")][0]
    assert picker.value["participant"] == "Participant 101" and len(picker.options) == 20

    at = app("pages/results.py", user=creator, query={"s": s.id, "tab": "Coverage"}).run()
    assert not at.exception, at.exception
    assert "how many of the 120 included participants" in texts(at) and len(at.get("plotly_chart")) == 1


def test_words_are_stored_with_messages_and_backfilled(db, creator, big):
    stored = db.fetchall("SELECT content, words FROM messages WHERE role = 'participant' LIMIT 50")
    assert stored and all(w == word_count(c) for c, w in stored)
    execute(db, "UPDATE messages SET words = NULL")
    assert results.open(db, creator, big.session_id).overview().median_answer_words > 0   # counted when missing
    with db.write() as cur:
        m0010_message_words.run(cur)
    stored = db.fetchall("SELECT content, words FROM messages WHERE role = 'participant'")
    assert len(stored) == 4000 and all(w == word_count(c) for c, w in stored)
