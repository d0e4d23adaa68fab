"""One browser journey in model mode: a real Streamlit server pointed at the fake OpenAI server; a participant
gets model replies streamed into the chat, then a failing model hands the turn to the offline facilitator."""

from __future__ import annotations

import json

import pytest

from tests.browser import require_browser
from tests.e2e import harness
from tests.model.conftest import API_KEY, CHAT

pytestmark = pytest.mark.e2e

OPENING = "Hello from the model! What went well for you in the last iteration?"
FOLLOW_UP = "Thanks, that is clear. What slowed the team down?"
ANSWER = "Pairing on the payment service worked really well and the standups were short and focused."


@pytest.fixture
def model_server(tmp_path, fake_openai):
    require_browser()
    demo = harness.seed_demo(tmp_path, participants=0)  # before the server holds the database file
    server = harness.start_server(tmp_path, {
        "OPENAI_BASE_URL": fake_openai.base_url, "OPENAI_API_KEY": API_KEY, "HARMONICA_MODEL": "fake-chat",
        "HARMONICA_OFFLINE": "0",
        "HARMONICA_LLM_TIMEOUT": "5", "HARMONICA_LLM_RETRIES": "1"})
    yield server, demo
    server.stop()


def test_participant_chat_streams_model_replies_then_falls_back_offline(model_server, fake_openai, new_page):
    from playwright.sync_api import expect

    server, demo = model_server
    fake_openai.script({"content": OPENING}, {"content": FOLLOW_UP, "delay": 3}, {"status": 500}, {"status": 500})
    page = new_page()
    harness.goto(page, f"{server.url}/chat?s={demo.session_id}")
    expect(page.get_by_text("AI facilitator", exact=False)).to_be_visible()
    page.get_by_text("Engineering", exact=True).click()
    page.get_by_text("1 to 3 years", exact=True).click()
    page.get_by_text("I have read the above and agree to take part").click()
    page.get_by_role("button", name="Start the conversation").click()
    messages = page.locator('[data-testid="stChatMessage"]')
    expect(messages.first).to_contain_text(OPENING)
    harness.wait_idle(page)

    page.locator('[data-testid="stForm"] textarea').fill(ANSWER)
    page.get_by_role("button", name="Send", exact=True).click()
    expect(messages).to_have_count(3)
    expect(messages.nth(2)).to_contain_text("Thinking…")       # at once, while the model takes 3 s
    expect(messages.nth(2)).to_contain_text(FOLLOW_UP)
    harness.wait_idle(page)

    # the model fails twice (first try and one retry): the offline facilitator asks the next step
    page.locator('[data-testid="stForm"] textarea').fill(ANSWER + " Also the reviews.")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(messages).to_have_count(5)
    expect(messages.nth(4)).to_contain_text("the AI model did not answer")
    harness.wait_idle(page)
    text = page.locator('[data-testid="stMain"]').inner_text()
    assert "HTTP" not in text and "internal error" not in text and API_KEY not in text
    sent = fake_openai.requests(CHAT)
    assert len(sent) == 4 and all(r["body"]["stream"] for r in sent)
    assert all("Engineering" not in json.dumps(r["body"]) for r in sent)  # form fields are not shared by default
