"""Model-judged sentiment in model mode: batched structured calls, cached by content hash, lexicon fallback."""

from __future__ import annotations

import json

from core import results
from core.repos import synthesis as repo
from core.synthesis.model_mode import SentimentJudge
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
# the sentiment replies are matched to the sentiment request (other calls run concurrently, and naming and the
# summary may ask again): every other request gets a reply valid for its schema
SENTIMENT = "Judge the sentiment"



def sentiment_requests(fake):
    return [r for r in fake.requests(CHAT) if SENTIMENT in json.dumps(r["body"])]


def labels(n: int, label: str = "positive", skip: set[int] = frozenset()) -> dict:
    return {"match": SENTIMENT, "content": json.dumps({"labels": [{"n": i, "sentiment": label}
                                                                  for i in range(1, n + 1) if i not in skip]})}


def test_model_mode_labels_sentiment_in_batches_and_caches_by_content(db, creator, model_env):
    fake = model_env
    s = launched_session(db, creator)
    add_participants(db, s, [[a] for a in ANSWERS])
    fake.script(labels(40, "positive"))
    out = results.open(db, creator, s.id).run_synthesis(mode="model", params=Params(k=2))
    st = repo.statements_frame(db, out.run_id)
    n = st["content_hash"].nunique()
    assert (st["sentiment"] == "positive").all()        # the lexicon would call "slow and breaks" negative
    assert out.stats["sentiment"] == "model" and out.stats["sentiment_model"] == len(st)
    assert out.stats["sentiment_calls"] == 1 and out.stats["sentiment_failures"] == 0
    (request,) = sentiment_requests(fake)
    sent = json.dumps(request["body"])
    assert "1. " in sent and "response_format" in request["body"]
    view = results.open(db, creator, s.id).synthesis_view()
    assert all(t.sentiment == {"positive": t.mentions, "neutral": 0, "negative": 0} for t in view.themes)
    # again: every label comes from the cache, no sentiment call
    fake.reset()
    out2 = results.open(db, creator, s.id).run_synthesis(mode="model", params=Params(k=2))
    assert not sentiment_requests(fake)
    assert out2.stats["sentiment"] == "model" and out2.stats["sentiment_cached"] == n
    assert out2.stats["sentiment_calls"] == 0


def test_a_failed_batch_falls_back_to_the_lexicon_and_says_so(db, creator, model_env):
    fake = model_env
    s = launched_session(db, creator)
    add_participants(db, s, [[a] for a in ANSWERS])
    fake.script({"match": SENTIMENT, "status": 500, "message": "model overloaded"})
    out = results.open(db, creator, s.id).run_synthesis(mode="model", params=Params(k=2))
    st = repo.statements_frame(db, out.run_id)
    assert out.stats["sentiment"] == "lexicon" and out.stats["sentiment_failures"] == 1
    assert out.stats["sentiment_model"] == 0 and "negative" in set(st["sentiment"])   # lexicon labels kept
    assert repo.get_run(db, out.run_id).status == "done"


def test_statements_the_model_left_out_keep_the_lexicon_label(db, creator, model_env):
    s = launched_session(db, creator)
    add_participants(db, s, [[a] for a in ANSWERS])
    model_env.script(labels(40, "neutral", skip={1}))
    out = results.open(db, creator, s.id).run_synthesis(mode="model", params=Params(k=2))
    assert out.stats["sentiment"] == "model+lexicon" and out.stats["sentiment_lexicon"] >= 1
    assert out.stats["sentiment_model"] >= 1


def test_offline_runs_record_the_lexicon(db, creator):
    s = launched_session(db, creator)
    add_participants(db, s, [[a] for a in ANSWERS])
    out = results.open(db, creator, s.id).run_synthesis(mode="offline", params=Params(k=2))
    assert out.stats["sentiment"] == "lexicon"


class _Client:
    """A stand-in client: labels by a word in the text, records batch sizes."""

    def __init__(self):
        self.batches = []

    def structured(self, messages, schema, **kwargs):
        lines = messages[-1]["content"].splitlines()
        self.batches.append(len(lines))
        return schema(labels=[{"n": i, "sentiment": "negative" if "bad" in line else "positive"}
                              for i, line in enumerate(lines, start=1)])


def test_sentiment_judge_batches_dedupes_and_maps_numbers_back(db):
    import pandas as pd

    texts = [f"statement {i} is {'bad' if i % 3 == 0 else 'fine'}" for i in range(90)] + ["statement 0 is bad"]
    frame = pd.DataFrame({"text": texts, "content_hash": [f"h{t}" for t in texts]})
    client = _Client()
    judge = SentimentJudge(db, client, "m", batch=40)
    out = judge(frame)
    assert client.batches == [40, 40, 10]             # 90 distinct texts, the duplicate asked once
    assert out == ["negative" if "bad" in t else "positive" for t in texts]
    assert SentimentJudge(db, _Client(), "m")(frame) == out   # from the cache
