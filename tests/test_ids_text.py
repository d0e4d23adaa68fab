from core.ids import looks_like_id, new_id, new_token
from core.text import MAX_MESSAGE_CHARS, clean_message


def test_ids_are_random_unguessable_and_url_safe():
    ids = {new_id() for _ in range(2000)}
    assert len(ids) == 2000
    sample = next(iter(ids))
    assert len(sample) >= 16  # 12 bytes base64 = 96 bits
    assert looks_like_id(sample)
    assert len(new_token()) >= 32


def test_ids_never_start_with_a_dash(monkeypatch):
    # 1 in 64 ids used to start with '-', which the command line read as an option (a flaky CLI test).
    draws = iter(["-dash-first", "-again", "fine-id"])
    monkeypatch.setattr("core.ids.secrets.token_urlsafe", lambda n: next(draws))
    assert new_id() == "fine-id"
    monkeypatch.undo()
    assert not any(new_token().startswith("-") for _ in range(500))


def test_ids_are_not_sequential():
    a, b = new_id(), new_id()
    assert a[:-1] != b[:-1]


def test_looks_like_id_rejects_odd_input():
    assert not looks_like_id(None)
    assert not looks_like_id("")
    assert not looks_like_id("abc'; DROP TABLE x")
    assert not looks_like_id("x" * 100)


def test_clean_message_rejects_empty_and_whitespace():
    assert clean_message("").error
    assert clean_message("   \n\t ").error


def test_clean_message_rejects_too_long_but_keeps_text():
    text = "a" * (MAX_MESSAGE_CHARS + 1)
    result = clean_message(text)
    assert result.error and "4,000" in result.error
    assert result.text == text


def test_clean_message_strips_control_characters_with_notice():
    result = clean_message("hel\x00lo\u202e world\x07")
    assert result.error is None
    assert result.text == "hello world"
    assert result.notice


def test_clean_message_keeps_newlines_and_unicode():
    result = clean_message("  Première ligne\r\nsecond line 🎉 ")
    assert result.text == "Première ligne\nsecond line 🎉"
    assert result.notice is None


def test_citation_handles_read_as_words():
    from core.text import readable_refs, ref_label

    assert ref_label("Q1.2") == "theme 1, quote 2" and ref_label("T3") == "theme 3"
    assert ref_label("Q2.1.3") == "theme 2, sub-theme 1, quote 3" and ref_label("nonsense") == "nonsense"
    assert readable_refs("Slow [T2, Q2.1]. Also “x” [Q1.1]; a [link] and Q1.1 unbracketed stay.") == (
        "Slow [theme 2; theme 2, quote 1]. Also “x” [theme 1, quote 1]; a [link] and Q1.1 unbracketed stay.")


def test_labels_are_literal_with_as_few_escapes_as_it_takes():
    from core.text import escape_label

    assert escape_label("Which team are you in? (6-12 months, 1. or 2.)") == \
        "Which team are you in? (6-12 months, 1. or 2.)"          # the accessible name stays as typed
    assert escape_label("![i](http://x.example/y.png)") == "\\!\\[i\\](http:\u2060//x.example/y.png)"
    assert "\u2060" in escape_label("see www.example.org") and "<" not in escape_label("<img src=x>").replace(
        "\\<", "")
