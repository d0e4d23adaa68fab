"""Model-mode synthesis at scale, against the fake OpenAI server (a real HTTP server on 127.0.0.1): bounded
concurrency, the circuit breaker, a run labelled "model" only when model output is in it, summary citations
checked against the theme table, theme names validated."""

from __future__ import annotations

import json

import pytest

from core import results
from core.llm.gate import forget_gates
from core.repos import synthesis as repo
from core.synthesis.model_mode import Breaker, ModelUnavailable, check_label, concurrency
from core.synthesis.pipeline import Params
from core.synthesis.summary import SummaryTable, TableTheme, check_citations
from tests.helpers import launched_session
from tests.synthesis.helpers import add_participants

CHAT = "/v1/chat/completions"
DEPLOY = ["The deploy pipeline is slow and breaks every week", "Deploys take hours of waiting for the build",
          "Our release pipeline fails on flaky builds", "Rolling back a broken deploy takes the afternoon",
          "The build server times out during every deploy"]
COFFEE = ["The coffee machine in the kitchen leaks water", "The kitchen coffee tastes burnt every morning",
          "The espresso machine is broken again this week", "Fresh coffee in the kitchen would be lovely",
          "We need better coffee beans for the machine"]
SUMMARY = "cross-participant summary"      # in the summary prompt (and its repair)
NAMING = "Name the theme shared"            # in the naming prompt (and its repair)


def answers(n: int) -> list[str]:
    return [f"{DEPLOY[i % 5]}. {COFFEE[(i * 3) % 5]}." for i in range(n)]


def claims(answer: str, delay: float = 0.0) -> dict:
    """The extraction reply for the participant who said `answer`: its two sentences, verbatim."""
    quotes = [q for q in answer.rstrip(".").split(". ")]
    reply = {"match": answer, "content": json.dumps({"claims": [{"quote": q, "point": "p"} for q in quotes]})}
    return {**reply, "delay": delay} if delay else reply


def purposes(fake, text: str) -> list[dict]:
    return [r for r in fake.requests(CHAT) if text in json.dumps(r["body"])]


@pytest.fixture
def workers(monkeypatch):
    def set_to(n: int) -> None:
        monkeypatch.setenv("HARMONICA_SYNTHESIS_CONCURRENCY", str(n))
    return set_to


# ----------------------------------------------------------------------------------------------- concurrency


def test_extraction_runs_concurrently_within_the_bound(db, creator, model_env, workers):
    assert concurrency() == 4                         # the default
    workers(3)
    s = launched_session(db, creator)
    texts = answers(10)
    add_participants(db, s, [[a] for a in texts])
    model_env.script(*[claims(a, delay=0.3) for a in texts])
    out = results.open(db, creator, s.id).run_synthesis(mode="model", params=Params(k=2))
    assert model_env.max_in_flight() == 3             # measured by the server: never more than 3 at once
    assert out.stats["model_calls"]["max_in_flight"] == 3 and out.stats["model_calls"]["concurrency"] == 3
    assert out.stats["extraction_calls"] == 10 and out.stats["model_use"]["extraction"]["model"] == 10
    # every participant got their own reply although the requests were answered in any order
    st = repo.statements_frame(db, out.run_id)
    assert len(st) == 20 and out.stats["extraction_dropped"] == 0
    # the extractions are cached: one new participant costs one extraction
    model_env.reset()
    extra = "The build server times out during every deploy. We need better coffee beans for the machine."
    add_participants(db, s, [[extra]])
    model_env.script(claims(extra))
    again = results.open(db, creator, s.id).run_synthesis(mode="model", params=Params(k=2))
    assert len(purposes(model_env, "You extract the distinct claims")) == 1
    assert again.stats["model_use"]["extraction"] == {"model": 11, "participants": 11, "cached": 10, "calls": 1,
                                                      "skipped": 0}


# ------------------------------------------------------------------------------------------- circuit breaker


def test_breaker_opens_after_failures_in_a_row_and_the_run_is_not_labelled_model(db, creator, model_env):
    s = launched_session(db, creator)
    add_participants(db, s, [[a] for a in answers(12)])
    model_env.script(*[{"status": 500, "message": "model overloaded"}] * 40)
    out = results.open(db, creator, s.id).run_synthesis(mode="model", params=Params(k=2))
    # 3 failures open the breaker; at most the calls already in flight (4 at once) fail too, then no more calls:
    # no naming, summary or sentiment request at all
    sent = model_env.requests(CHAT)
    # a failed call is asked at most twice: with response_format, then with the schema in words (a server that
    # fails on response_format, as llama.cpp's does, answers the second), unless the endpoint's own breaker
    # (core/llm/gate.py, 5 failures in a row) already stopped it
    tried = [r for r in sent if "response_format" in r["body"]]
    assert 3 <= len(tried) <= 3 + concurrency() - 1 and len(tried) <= len(sent) <= 2 * len(tried)
    assert all("You extract the distinct claims" in json.dumps(r["body"]) for r in sent)
    calls = out.stats["model_calls"]
    opened = calls["opened"]
    assert opened["failures_in_a_row"] == 3 and ("internal error" in opened["error"] or "paused" in opened["error"])
    skipped = calls["by_purpose"]["synthesis.extract"]["skipped"]     # never started (refused ones did start)
    assert calls["skipped"] > 0 and 12 - (3 + concurrency() - 1) <= skipped <= 12 - 3
    run = repo.get_run(db, out.run_id)
    assert run.status == "done" and run.mode == "offline" and run.model is None
    assert run.stats["model_label"] == "offline (model unavailable)" and run.stats["requested_mode"] == "model"
    assert "the model was unavailable" in run.summary and "3 failed model calls in a row" in run.summary
    assert run.summary.startswith("This summary was generated without an AI model")
    assert out.stats["extraction_fallbacks"] == 12 and out.stats["sentiment"] == "lexicon"
    # the run is what an offline run would be, and the results page sees it as up to date
    view = results.open(db, creator, s.id).synthesis_view()
    assert view.up_to_date and len(view.themes) == 2
    assert view.run.summary == run.summary


def test_a_run_with_some_model_output_is_model_and_says_how_much(db, creator, model_env, workers):
    workers(1)    # one at a time: the order of successes and failures is fixed
    s = launched_session(db, creator)
    texts = answers(6)
    add_participants(db, s, [[a] for a in texts])
    model_env.script(claims(texts[0]), claims(texts[1]), *[{"status": 503}] * 20)
    out = results.open(db, creator, s.id).run_synthesis(mode="model", params=Params(k=2))
    run = repo.get_run(db, out.run_id)
    assert run.mode == "model" and run.model == "fake-chat"
    assert run.stats["model_label"] == "model (partial)"
    assert run.stats["model_use"]["extraction"]["model"] == 2
    assert run.stats["model_use"]["summary"] == "templated (model unavailable)"
    note = run.stats["model_note"]
    assert "2 of 6 participants extracted by the model" in note and "0 of 2 themes named" in note
    assert "3 failed model calls in a row" in note and note in run.summary
    # 2 successes, 3 failures (each tried at most twice, unless the endpoint's breaker stopped it), then nothing
    assert 2 + 3 <= len(model_env.requests(CHAT)) <= 2 + 3 * 2


def test_a_rejected_key_opens_the_breaker_at_once():
    from core.llm.errors import LLMAuthError, LLMServerError

    b = Breaker(limit=3)

    def fail(exc):
        def call():
            raise exc
        return call

    with pytest.raises(LLMServerError):
        b.call("x", fail(LLMServerError("boom")))
    assert b.call("x", lambda: 1) == 1 and b.in_a_row == 0 and not b.is_open
    with pytest.raises(LLMAuthError):
        b.call("x", fail(LLMAuthError("HTTP 401")))
    assert b.is_open
    with pytest.raises(ModelUnavailable):
        b.call("y", lambda: 1)
    assert b.stats()["skipped"] == 1


# ------------------------------------------------------------------------------------------------ citations


TABLE = SummaryTable([TableTheme(1, "Slow deploys", 7, 9, {"Q1.1": "The deploy pipeline is slow and breaks",
                                                            "Q1.2": "Deploys take hours of waiting"}),
                      TableTheme(2, "Coffee machine", 3, 3, {"Q2.1": "The coffee machine leaks water"})],
                     analysed=8, total_themes=2)


def test_citation_check_accepts_a_summary_true_to_the_table():
    text = ("Slow deploys came up most: 7 of 8 participants (88%) mentioned them [T1], e.g. “Deploys take hours of "
            "waiting” [Q1.2].\n- A few people (3) want the coffee machine fixed [T2][Q2.1].\n"
            "Counts describe this sample only.")
    assert check_citations(text, TABLE) == []


@pytest.mark.parametrize("text, problem", [
    ("Deploys are slow for 7 of 8 people [Q1.3].", "[Q1.3] cites a quote that is not in the table"),
    ("Parking was raised too [T5].", "[T5] cites a theme that is not in the table"),
    ("Deploys are slow [3].", "[3] is not a citation of the table"),
    ("7 of 8 participants find deploys slow.", "makes a claim without a citation"),
    ("Slow deploys worry people.", "makes a claim without a citation"),
    ("Slow deploys worry 6 of 8 participants [T1].", "the number 6 is not in the table"),
    ("Deploys worry 40% of participants [T1].", "the number 40% is not in the table"),
    ("One said “the pipeline is a disaster” [Q1.1].", "is not in any quote of the table"),
    ("The coffee machine matters to 3 people [T1].", "names theme 2 (“Coffee machine”) but cites only [T1]"),
    ("People had things to say.", "the summary cites nothing from the table"),
])
def test_citation_check_rejects_fabricated_and_uncited_claims(text, problem):
    problems = check_citations(text, TABLE)
    assert any(problem in p for p in problems), problems


def test_a_fabricated_citation_is_repaired_once_then_the_templated_summary_is_used(db, creator, model_env):
    s = launched_session(db, creator)
    add_participants(db, s, [[a] for a in answers(6)])
    fabricated = {"match": SUMMARY, "content": json.dumps({"summary": "Everyone hates parking [Q7.1] [T9]."})}
    model_env.script(fabricated, fabricated)
    out = results.open(db, creator, s.id).run_synthesis(mode="model", params=Params(k=2))
    run = repo.get_run(db, out.run_id)
    requests = purposes(model_env, SUMMARY)
    assert len(requests) == 2                                   # the summary, and one repair
    repair = requests[1]["body"]["messages"][-1]["content"]
    assert "[Q7.1] cites a quote that is not in the table" in repair and "[T9] cites a theme" in repair
    assert run.stats["summary_source"] == "templated" and run.stats["summary_rejected"]
    assert "parking" not in run.summary and run.summary.startswith("This summary was generated without an AI model")
    assert "the summary templated (the model's did not pass the citation check)" in run.stats["model_note"]


def test_a_summary_repaired_after_one_bad_citation_is_kept(db, creator, model_env):
    s = launched_session(db, creator)
    add_participants(db, s, [[a] for a in answers(6)])
    model_env.script({"match": SUMMARY, "content": json.dumps({"summary": "Most mention deploys [Q1.9]."})},
                     {"match": SUMMARY, "content": json.dumps({"summary": "Most mention the first theme [T1]."})})
    out = results.open(db, creator, s.id).run_synthesis(mode="model", params=Params(k=2))
    run = repo.get_run(db, out.run_id)
    assert run.stats["summary_source"] == "model (repaired)"
    assert run.summary.startswith("Most mention the first theme [T1].")
    assert "its citations were checked against the table" in run.summary


# ---------------------------------------------------------------------------------------------- theme names


def test_check_label():
    taken = {"T1": "Slow deploys"}
    assert check_label("  “Coffee machine.” ", taken, "T2") == ("Coffee machine", None)
    assert "empty" in check_label("  ", taken, "T2")[1]
    assert "too long" in check_label("a b c d e f g", taken, "T2")[1]
    assert "generic" in check_label("Theme 3", taken, "T2")[1] and "generic" in check_label("Other", taken, "T2")[1]
    assert "already called" in check_label("slow  DEPLOYS", taken, "T2")[1]
    assert check_label("Slow deploys", taken, "T1")[1] is None      # its own name


def test_theme_names_from_the_model_are_validated_with_one_repair_then_the_offline_label(db, creator, model_env,
                                                                                        workers):
    workers(1)    # the naming requests in theme order: T1, T2, then the repairs in the same order
    s = launched_session(db, creator)
    add_participants(db, s, [[a] for a in answers(6)])
    offline = results.open(db, creator, s.id).run_synthesis(mode="offline", params=Params(k=2))
    offline_view = results.open(db, creator, s.id).synthesis_view(offline.run_id)
    offline_labels = {t.theme_id: t.label for t in offline_view.themes}

    def name(label):
        return {"match": NAMING, "content": json.dumps({"label": label, "description": "d"})}

    model_env.script(name("Theme 1"), name("A very long name that goes on and on and on"),
                     name("Broken deploys"), name("broken  DEPLOYS"))
    out = results.open(db, creator, s.id).run_synthesis(mode="model", params=Params(k=2))
    labels = {t.theme_id: t.label for t in results.open(db, creator, s.id).synthesis_view(out.run_id).themes}
    assert labels["T1"] == "Broken deploys"              # repaired: "Theme 1" is generic
    assert labels["T2"] == offline_labels["T2"]          # too long, then a duplicate: the offline label stays
    assert len(purposes(model_env, NAMING)) == 4
    naming = out.stats["model_use"]["naming"]
    assert naming["model"] == 1 and naming["themes"] == 2
    assert naming["rejected"] == ["T2: another theme is already called “Broken deploys”"]
    repair = purposes(model_env, NAMING)[2]["body"]["messages"][-1]["content"]
    assert "“Theme 1” cannot be used: it is too generic" in repair


def test_the_automatic_refresh_tries_the_model_again_after_an_outage(db, creator, model_env):
    from core.refresh import _default_runner

    s = launched_session(db, creator)
    texts = answers(6)
    add_participants(db, s, [[a] for a in texts])
    model_env.script(*[{"status": 500}] * 10)
    out = results.open(db, creator, s.id).run_synthesis(mode="model", params=Params(k=2))
    assert repo.get_run(db, out.run_id).mode == "offline"
    model_env.reset()                                   # the model is back
    forget_gates()                                      # ... after the endpoint's breaker pause (30 s)
    _default_runner(db, s.id, "test")
    assert repo.latest_run(db, s.id).id == out.run_id   # nothing changed: no new run
    extra = "Our release pipeline fails on flaky builds. The kitchen coffee tastes burnt every morning."
    add_participants(db, s, [[extra]])
    model_env.script(*[claims(a) for a in [*texts, extra]])
    _default_runner(db, s.id, "test")
    run = repo.latest_run(db, s.id)
    assert run.id != out.run_id and run.mode == "model" and run.kind == "full"
    assert run.stats["model_use"]["extraction"]["model"] == 7
