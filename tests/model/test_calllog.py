"""The call log: one row per model call, totals per session and purpose, cost from the price table."""

from __future__ import annotations

from core import calllog, conversation, modes
from core.calllog import Price, estimate_cost, load_prices
from core.config import load_settings
from core.llm import CallRecord, call_scope
from core.repos import calls as crepo
from tests.helpers import LONG, launched_session


def _record(purpose: str, model: str, tokens: tuple[int, int], outcome: str = "ok", **scope) -> CallRecord:
    error = None if outcome == "ok" else "It failed."
    return CallRecord(purpose, model, "example.org", "v1", tokens[0], tokens[1], 12, outcome, error, 1,
                      scope.get("session_id"), scope.get("participant_id"))


def test_totals_per_purpose_and_session_with_estimated_cost(db, creator, tmp_path):
    s = launched_session(db, creator)
    prices_file = tmp_path / "prices.toml"
    prices_file.write_text('[default]\ninput = 1.0\noutput = 1.0\n["big"]\ninput = 10.0\noutput = 20.0\n')
    prices = load_prices(prices_file)
    for record in [_record("facilitation.turn", "big", (1000, 100), session_id=s.id, participant_id="p1"),
                   _record("facilitation.turn", "small", (2000, 0), "timeout", session_id=s.id),
                   _record("generation.guide", "big", (500, 500), session_id=s.id),
                   _record("ping", "small", (5, 1))]:
        crepo.insert_call(db, record)
    by_purpose = calllog.totals(db, "purpose", prices).set_index("key")
    turn = by_purpose.loc["facilitation.turn"]
    assert (turn.calls, turn.failed, turn.input_tokens, turn.output_tokens) == (2, 1, 3000, 100)
    assert abs(turn.estimated_cost_usd - (1000 * 10 + 100 * 20 + 2000 * 1) / 1e6) < 1e-12
    by_session = calllog.totals(db, "session", prices).set_index("key")
    assert by_session.loc[s.id].calls == 3 and by_session.loc[s.id].session_name == s.name
    assert by_session.loc["(no session)"].calls == 1
    assert abs(by_session["estimated_cost_usd"].sum() - by_purpose["estimated_cost_usd"].sum()) < 1e-12


def test_price_table_defaults_and_missing_file(tmp_path):
    assert load_prices(tmp_path / "missing.toml") == {}
    assert estimate_cost("any", 10**6, 10**6, {}) == 0.0
    assert estimate_cost("x", 10**6, 0, {"default": Price(2.0, 0)}) == 2.0
    shipped = load_prices(load_settings({}).prices_file)
    assert shipped["gpt-4o-mini"].input > 0 and "default" in shipped
    custom = load_settings({"HARMONICA_PRICES_FILE": str(tmp_path / "p.toml")})
    assert custom.prices_file == tmp_path / "p.toml"


def test_every_kind_of_call_is_logged_with_its_scope(db, creator, model_env):
    s = launched_session(db, creator)
    fac = modes.facilitator(db)
    p = conversation.join(db, s.id, ask_first=False)
    conversation.respond(db, p.token, fac)
    conversation.send(db, p.token, LONG, fac)
    ok, message = modes.check_connection(db)
    assert ok and "Connected to 127.0.0.1" in message
    with call_scope(s.id):
        modes.client(db).complete([{"role": "user", "content": "hi"}], purpose="synthesis.test", prompt_version="t")
    frame = crepo.calls_frame(db).sort_values("created_at")
    assert list(frame["purpose"]) == ["facilitation.turn", "facilitation.turn", "ping", "synthesis.test"]
    assert list(frame["participant_id"].fillna("")) == [p.id, p.id, "", ""]
    assert list(frame["session_id"].fillna("")) == [s.id, s.id, "", s.id]
    assert set(frame["endpoint_host"]) == {model_env.base_url.split("//")[1].split("/")[0]}
    assert (frame["latency_ms"] >= 0).all() and frame["input_tokens"].notna().all()
    assert set(frame["outcome"]) == {"ok"}


def test_the_log_outlives_a_deleted_session(db, creator):
    s = launched_session(db, creator)
    crepo.insert_call(db, _record("facilitation.turn", "m", (10, 1), session_id=s.id, participant_id="p"))
    from core.sessions import delete_session

    delete_session(db, creator, s.id)
    row = calllog.totals(db, "session", {}).set_index("key").loc[s.id]
    assert row.calls == 1 and row.session_name == "(deleted session)"


def test_synthesis_and_ask_calls_are_logged_under_their_session(db, creator, model_env):
    from core import results
    from core.synthesis.pipeline import Params
    from tests.synthesis.helpers import add_participants, topic_answers

    s = launched_session(db, creator)
    add_participants(db, s, topic_answers(8, seed=3)[0])
    opened = results.open(db, creator, s.id)
    opened.run_synthesis(mode="model", params=Params(k=2))
    opened.ask(opened.synthesis_view(), "coffee in the kitchen", mode="model")
    frame = crepo.calls_frame(db)
    synthesis = frame[frame["purpose"].str.startswith("synthesis")]
    # extraction (per participant), naming, summary, sentiment and the answer: none under "(no session)"
    assert {"synthesis.extract", "synthesis.ask"} <= set(synthesis["purpose"])
    assert set(synthesis["session_id"]) == {s.id}
    extracted = synthesis[synthesis["purpose"] == "synthesis.extract"]
    assert extracted["participant_id"].notna().all()       # the extractor's narrower scope is kept


def test_the_owner_sees_the_sessions_model_use_on_the_design_page_and_an_editor_does_not(db, creator, other_user):
    import pytest

    from core.permissions import AccessDenied
    from tests.helpers import grant
    from tests.pages.apptest import app, texts

    s = launched_session(db, creator)
    crepo.insert_call(db, _record("facilitation.turn", "m", (1000, 200), session_id=s.id, participant_id="p"))
    crepo.insert_call(db, _record("synthesis.extract", "m", (3000, 400), "timeout", session_id=s.id))
    crepo.insert_call(db, _record("facilitation.turn", "m", (99, 9), session_id="another"))
    usage = calllog.session_usage(db, creator, s.id, {"default": Price(1.0, 2.0)}).set_index("key")
    assert set(usage.index) == {"facilitation.turn", "synthesis.extract"}         # this session's calls only
    assert usage.loc["synthesis.extract"].failed == 1 and usage["input_tokens"].sum() == 4000
    grant(db, creator, "session", s.id, other_user, "editor")
    with pytest.raises(AccessDenied):
        calllog.session_usage(db, other_user, s.id, {})
    owner = app("pages/design.py", user=creator, query={"s": s.id, "tab": "Share & status"}).run()
    assert not owner.exception and "2 calls to the model for this session" in texts(owner)
    editor = app("pages/design.py", user=other_user, query={"s": s.id, "tab": "Share & status"}).run()
    assert not editor.exception and "calls to the model for this session" not in texts(editor)
