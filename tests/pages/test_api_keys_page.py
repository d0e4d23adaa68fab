"""The Account page's API keys, through the page: created and shown once, listed, revoked."""

from core import apikeys
from tests.pages.apptest import app, texts


def test_a_key_is_shown_once_listed_and_revoked(db, creator):
    at = app("pages/account.py", user=creator).run()
    assert "No keys yet." in texts(at)
    at.button(key="FormSubmitter:new_key-Create key").click().run()
    assert "Give the key a name" in " ".join(e.value for e in at.error)

    next(t for t in at.text_input if t.label == "Key name").input("my agent")
    at.button(key="FormSubmitter:new_key-Create key").click().run()
    assert not at.exception
    (shown,) = [c.value for c in at.code]
    assert apikeys.KEY_PATTERN.fullmatch(shown) and apikeys.user_for_key(db, shown)[0].id == creator.id
    assert "my agent" in texts(at) and shown[:12] + "…" in texts(at)

    again = app("pages/account.py", user=creator).run()
    assert not again.code and shown not in texts(again)   # never shown again
    next(b for b in again.button if b.label == "Revoke").click().run()
    assert "revoked" in texts(again)
    assert apikeys.user_for_key(db, shown) is None
