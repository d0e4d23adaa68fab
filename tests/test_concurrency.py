import threading

import pytest

from core import conversation
from core.repos import participants as prepo
from tests.helpers import LONG, launched_session

pytestmark = pytest.mark.both_backends

THREADS = 20
TURNS = 3


def test_twenty_threads_write_turns_without_loss_or_duplicates(db, creator):
    s = launched_session(db, creator, max_turns=50)
    tokens = [conversation.join(db, s.id).token for _ in range(THREADS)]
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def participant(token: str, n: int) -> None:
        try:
            start.wait()
            for turn in range(TURNS):
                result = conversation.send(db, token, f"{LONG} (participant {n}, turn {turn})")
                assert result.error is None
        except BaseException as exc:  # collected and reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=participant, args=(t, i)) for i, t in enumerate(tokens)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for n, token in enumerate(tokens):
        messages = conversation.load_chat(db, token).messages
        assert [m.seq for m in messages] == list(range(1, len(messages) + 1))
        said = [m.content for m in messages if m.role == "participant"]
        assert said == [f"{LONG} (participant {n}, turn {turn})" for turn in range(TURNS)]
        assert len(messages) == 1 + 2 * TURNS
    total = db.fetchone("SELECT count(*), count(DISTINCT id) FROM messages")
    assert total == (THREADS * (1 + 2 * TURNS),) * 2
    assert len(prepo.list_participants(db, s.id)) == THREADS


def test_double_submit_stores_one_answer_and_one_reply(db, creator):
    """Two sends of the same view racing (a double click, two tabs): one is stored, whichever runs first."""
    s = launched_session(db, creator, max_turns=50)
    for trial in range(10):
        token = conversation.join(db, s.id).token
        seen = conversation.load_chat(db, token).messages[-1].seq
        barrier = threading.Barrier(2)
        errors: list[str | None] = []

        def send_once(n: int) -> None:
            barrier.wait()
            errors.append(conversation.send(db, token, f"{LONG} (copy {n})", seen_seq=seen).error)

        threads = [threading.Thread(target=send_once, args=(n,)) for n in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        messages = conversation.load_chat(db, token).messages
        roles = [m.role for m in messages]
        assert roles == ["facilitator", "participant", "facilitator"], (trial, roles)
        assert errors.count(None) == 1 and conversation.WAIT_FOR_REPLY in errors, errors
        assert [m.step for m in messages] == [0, 0, 1]


def test_a_resubmit_of_an_answered_view_is_refused(db, creator):
    """The second click arrives after the first was fully answered: still refused, the draft is not stored twice."""
    s = launched_session(db, creator, max_turns=50)
    token = conversation.join(db, s.id).token
    seen = conversation.load_chat(db, token).messages[-1].seq
    assert conversation.send(db, token, f"{LONG} (first)", seen_seq=seen).error is None
    assert conversation.send(db, token, f"{LONG} (again)", seen_seq=seen).error == conversation.WAIT_FOR_REPLY
    assert conversation.record_skip(db, token, seen_seq=seen).error == conversation.WAIT_FOR_REPLY
    said = [m.content for m in conversation.load_chat(db, token).messages if m.role == "participant"]
    assert said == [f"{LONG} (first)"]
