"""Model mode against the fake OpenAI server: extraction cached per transcript, verbatim check, names, summary."""

import json

from core import results
from core.repos import synthesis as repo
from core.synthesis.model_mode import NAME_VERSION, summary_prompt
from core.synthesis.pipeline import Params
from tests.helpers import launched_session
from tests.synthesis.helpers import add_participants

CHAT = "/v1/chat/completions"
ANSWERS = [
    "The deploy pipeline is slow and breaks every week. Also the coffee machine leaks.",
    "Deploys take hours of waiting. The kitchen coffee tastes burnt.",
    "Our release pipeline fails on flaky builds, and the espresso machine is broken.",
    "Rolling back a broken deploy takes the afternoon. Fresh coffee would be lovely.",
]



def claims(*quotes, match=None):
    """An extraction reply; `match`: for the request containing that text (extractions run concurrently)."""
    reply = {"content": json.dumps({"claims": [{"quote": q, "critical_item": None, "point": "p"} for q in quotes]})}
    return {**reply, "match": match} if match else reply


def extraction_requests(fake):
    return [r for r in fake.requests(CHAT) if "You extract the distinct claims" in json.dumps(r["body"])]


def test_model_mode_extracts_verifies_names_and_summarises(db, creator, model_env):
    fake = model_env
    s = launched_session(db, creator)
    add_participants(db, s, [[a] for a in ANSWERS])
    replies = []
    for a in ANSWERS:
        first, second = a.split(". ", 1) if ". " in a else a.split(", and ", 1)
        replies.append(claims(first, second.rstrip("."), "Something nobody said at all", match=a))
    fake.script(*replies,
                {"content": json.dumps({"label": "Slow deploys", "description": "Deploys are slow."})},
                {"content": json.dumps({"label": "Coffee", "description": "The coffee."})},
                {"content": json.dumps({"summary": "Most people mention the first theme [T1][Q1.1]."})})
    out = results.open(db, creator, s.id).run_synthesis(mode="model", params=Params(k=2))
    run = repo.get_run(db, out.run_id)
    assert run.mode == "model" and run.model == "fake-chat" and run.prompt_version == NAME_VERSION
    assert out.stats["extraction_calls"] == 4 and out.stats["extraction_dropped"] == 4
    st = repo.statements_frame(db, out.run_id)
    assert len(st) == 8 and not st["text"].str.contains("nobody said").any()
    contents = repo.message_contents(db, list(st["message_id"]))
    assert all(contents[r.message_id][r.start_pos:r.end_pos] == r.text for r in st.itertuples())
    view = results.open(db, creator, s.id).synthesis_view()
    assert sorted(t.label for t in view.themes) == ["Coffee", "Slow deploys"]
    assert view.run.summary.startswith("Most people mention the first theme [T1][Q1.1].")
    # one new participant: one new extraction, the others come from the cache
    fake.reset()
    add_participants(db, s, [["The build server times out during deploys. The espresso machine leaks water."]])
    fake.script(claims("The build server times out during deploys", "The espresso machine leaks water"))
    results.open(db, creator, s.id).run_synthesis(mode="model", params=Params(k=2))
    assert len(extraction_requests(fake)) == 1


def test_model_mode_without_a_model_runs_offline(db, creator):
    s = launched_session(db, creator)
    add_participants(db, s, [[a] for a in ANSWERS])
    out = results.open(db, creator, s.id).run_synthesis(mode="model", params=Params(k=2))
    assert repo.get_run(db, out.run_id).mode == "offline"


def test_summary_prompt_is_bounded_by_themes_not_participants():
    import pandas as pd

    themes = pd.DataFrame([{"position": i, "label": f"T{i}", "participants": 10 * i, "mentions": 20 * i,
                            "quotes": json.dumps([f"s{i}.{j}" for j in range(5)])} for i in range(30)])
    st = pd.DataFrame({"statement_id": [f"s{i}.{j}" for i in range(30) for j in range(5)],
                       "text": ["a quote of ten words or so, give or take a few"] * 150})
    small = summary_prompt(themes, st, 10, "en")
    large = summary_prompt(themes, st, 100000, "en")
    assert abs(len(large[1]["content"]) - len(small[1]["content"])) < 200
    assert large[1]["content"].count("[Q") == 12 * 2


def test_endpoint_embeddings_are_opt_in_and_cached(db, creator, model_env, monkeypatch):
    fake = model_env
    monkeypatch.setenv("HARMONICA_SYNTHESIS_EMBEDDINGS", "endpoint")
    s = launched_session(db, creator)
    add_participants(db, s, [[a] for a in ANSWERS])
    out = results.open(db, creator, s.id).run_synthesis(mode="model", params=Params(k=2))
    run = repo.get_run(db, out.run_id)
    assert run.embedder.startswith("endpoint:") and out.embedded > 0
    assert fake.requests("/v1/embeddings")
    again = results.open(db, creator, s.id).run_synthesis(mode="model", params=Params(k=2))
    assert again.embedded == 0   # every vector from the content-hash cache


def test_ask_the_data_in_model_mode_writes_from_retrieved_quotes(db, creator, model_env):
    from core import results

    fake = model_env
    s = launched_session(db, creator)
    add_participants(db, s, [[a] for a in ANSWERS])
    opened = results.open(db, creator, s.id)
    opened.run_synthesis(mode="offline", params=Params(k=2))
    view = opened.synthesis_view()
    fake.reset()
    fake.script({"content": "Participants find deploys slow [1][2]."})
    answer = opened.ask(view, "What about deploys?")
    assert answer.mode == "model" and answer.answer == "Participants find deploys slow [1][2]."
    prompt = json.dumps(fake.requests(CHAT)[-1]["body"])
    assert all(c.text[:20] in prompt for c in answer.citations)
    offline = opened.ask(view, "What about deploys?", mode="offline")
    assert offline.mode == "offline" and "no AI model" in offline.answer
