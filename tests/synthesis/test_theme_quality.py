"""Offline theme quality (issue 8): only participants' words are clustered and cleaned, themes come at a human
granularity with an honest "Other", a stability figure and sub-themes, deterministic for a seed, and labels are
short phrases of member statements, shown first among the quotes."""

import hashlib
import json
import random

import numpy as np
import pandas as pd
import pytest

from core.guide import Step
from core.repos import synthesis as repo
from core.sessions import create_session, save_guide, set_status
from core.synthesis.cluster import DISSOLVED, cluster, stability_word
from core.synthesis.embed import FunctionEmbedder
from core.synthesis.labels import ctfidf_keywords, name_pieces, stem, theme_labels
from core.synthesis.pipeline import OTHER_ID, synthesize
from core.synthesis.units import clean_text, feature_texts, is_boilerplate
from tests.helpers import BRIEF, launched_session
from tests.synthesis.helpers import TOPICS, add_participants, sentence, topic_answers


def themes_of(db, run_id):
    return repo.themes_frame(db, run_id), repo.statements_frame(db, run_id)


# ------------------------------------------------------------------------------------------------ cleaner


def test_cleaner_drops_urls_handles_entities_emails_and_tags():
    assert clean_text("Great service &amp; friendly staff!! https://t.co/x1Yz @AcmeHelp #love") == \
        "Great service and friendly staff!! love"
    assert clean_text("Mail me at jane.doe+x@example.org or see www.acme.com/help and acme.io") == \
        "Mail me at or see and"
    assert clean_text("&amp;amp; &lt;b&gt;bold&lt;/b&gt; &#39;quoted&#39; &nbsp;") == "and bold 'quoted'"
    assert clean_text("Q&A sessions helped") == "Q&A sessions helped"


def test_boilerplate_says_nothing_and_leaves_no_feature():
    for text in ("I don't know", "N/A", "Nothing really.", "Skip", "Not sure", "no idea", "Fine I guess", "-"):
        assert is_boilerplate(text), text
    for text in ("Meetings", "Nothing works after a deploy", "Not enough focus time"):
        assert not is_boilerplate(text), text
    st = pd.DataFrame({"session_id": "s", "step": 0, "question": "What hurt?", "critical_item": None,
                       "text": ["I don't know", "I don't know, maybe the meetings", "@bob see https://x.io"]})
    assert feature_texts(st).texts == ["", "maybe the meetings", ""]


def test_quotes_stay_verbatim_while_urls_handles_and_entities_never_name_a_theme(db, creator):
    s = launched_session(db, creator)
    rng = random.Random(4)
    answers = []
    for i in range(24):
        topic = list(TOPICS)[i % 3]
        noise = rng.choice(["@AcmeHelp ", "&amp; ", "https://acme.example.com/t/1 ", "#fail ", ""])
        answers.append([noise + sentence(topic, rng) + " " + rng.choice(["&amp;", "@AcmeHelp", "see acme.com"])])
    add_participants(db, s, answers)
    out = synthesize(db, [s.id])
    themes, st = themes_of(db, out.run_id)
    contents = repo.message_contents(db, list(st["message_id"].unique()))
    for r in st.itertuples():   # statements are stored as said, entities and handles included
        assert contents[r.message_id][r.start_pos:r.end_pos] == r.text
    assert st["text"].str.contains("&amp;|@AcmeHelp", regex=True).any()
    shown = " ".join(themes["label"]) + " " + " ".join(" ".join(json.loads(k)) for k in themes["keywords"])
    for junk in ("amp", "acmehelp", "http", "acme.com", "#"):
        assert junk not in shown.lower(), (junk, shown)


# ------------------------------------------------------------------------------ facilitator wording


def stands_out_session(db, creator):
    session = create_session(db, creator, BRIEF)
    save_guide(db, creator, session.id, [
        Step("Looking back at the sprint, what stands out?", "What else stands out to you, and why?", "What hurt"),
        Step("What stands out as the one change to make?", "Why does that stand out?", "One change"),
    ])
    return set_status(db, creator, session.id, "launched")


def test_facilitator_wording_never_reaches_features_or_labels(db, creator):
    s = stands_out_session(db, creator)
    rng = random.Random(2)
    names = list(TOPICS)
    answers = []
    for i in range(24):
        a, b = names[i % 4], names[(i + 1) % 4]
        answers.append([f"What stands out is this. {sentence(a, rng)}", f"It stands out to me that {sentence(b, rng)}"])
    add_participants(db, s, answers)
    out = synthesize(db, [s.id])
    themes, st = themes_of(db, out.run_id)
    run = repo.get_run(db, out.run_id)
    assert all("stand" in words for words in run.stats["feature_echo"].values())
    # the facilitator's questions are context (kept with each statement), never features
    assert st["question"].str.contains("stands out").all()
    features = feature_texts(st, {(s.id, 0): ["What else stands out to you, and why?"]}).texts
    assert not any(stem(w) == "stand" for f in features for w in f.split())
    shown = list(themes["label"]) + [w for k in themes["keywords"] for w in json.loads(k)]
    shown += [sub["label"] for subs in themes["subthemes"] for sub in json.loads(subs)]
    assert shown and not any(stem(w.strip(".,:")) == "stand" for phrase in shown for w in phrase.split()), shown
    # the topics participants raised are the themes, not the probe's wording
    assert len(themes) >= 3


def test_a_word_participants_use_everywhere_is_kept_even_if_one_question_has_it():
    st = pd.DataFrame({"session_id": "s", "critical_item": None,
                       "step": [0, 0, 1, 1, 2, 2],
                       "question": ["How were the meetings?"] * 2 + ["What hurt?"] * 2 + ["What helped?"] * 2,
                       "text": ["Meetings ran long", "Too many meetings", "Meetings all day", "Slow deploys",
                                "Fewer meetings", "Meetings with an agenda"]})
    f = feature_texts(st)
    assert "meeting" not in f.banned and "Too many meetings" in f.texts


# ------------------------------------------------------------------------- granularity, Other, seed


def blobs(seed=3, outliers=3, d=64):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(4, d))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    groups = np.repeat(np.arange(4), 15)
    x = centres[groups] + 0.15 * rng.normal(size=(60, d)) / np.sqrt(d)
    return np.vstack([x, rng.normal(size=(outliers, d))]), groups


def test_far_off_statements_go_to_other_not_to_a_theme():
    x, groups = blobs()
    c = cluster(x)
    assert c.k == 4 and list(c.labels[60:]) == [-1, -1, -1] and (c.labels[:60] >= 0).all()
    # the four groups are the four themes, each solid
    assert pd.crosstab(groups, c.labels[:60]).gt(0).sum(axis=1).eq(1).all()
    assert len(c.stability) == 4 and all(stability_word(v) == "solid" for v in c.stability)
    assert stability_word(0.5) == "tentative" and stability_word(None) == "not measured"


def test_a_theme_the_subsamples_do_not_find_again_is_dissolved():
    # four tight groups, and twelve statements each halfway between two of them: the cut at 8 makes small themes
    # of in-between statements that no subsample finds again
    rng = np.random.default_rng(2)
    centres = rng.normal(size=(4, 64))
    groups = np.repeat(np.arange(4), 15)
    x = centres[groups] + 0.15 * rng.normal(size=(60, 64))
    pairs = rng.integers(0, 4, size=(12, 2))
    mix = np.array([centres[a] * w + centres[b] * (1 - w) for (a, b), w in zip(pairs, rng.uniform(0.3, 0.7, 12))])
    c = cluster(np.vstack([x, mix + 0.3 * rng.normal(size=mix.shape)]))
    assert c.cut > c.k and "did not find again" in c.reason
    assert min(c.stability) >= DISSOLVED and (c.labels[60:] == -1).sum() >= 6
    assert pd.crosstab(groups, c.labels[:60]).gt(0).sum(axis=1).eq(1).all()     # each group whole, in one theme


def test_same_input_and_seed_give_the_same_clustering_figures_and_subthemes():
    x, _ = blobs(seed=5, outliers=2)
    a, b = cluster(x, seed=7), cluster(x, seed=7)
    assert np.array_equal(a.labels, b.labels) and np.array_equal(a.sub_labels, b.sub_labels)
    assert a.stability == b.stability and a.scores == b.scores and a.agreement == b.agreement
    assert a.reason == b.reason


def test_k_stays_in_the_range_and_can_be_widened():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 32))
    assert 4 <= cluster(x).k + 0 <= 12
    assert cluster(x, min_k=15, max_k=30).k >= 10       # Other may take a thin theme or two


def embedder_for(topic_of: dict[str, int]) -> FunctionEmbedder:
    """Vectors by topic (a known answer), an unrelated direction for anything else."""
    d = 48
    rng = np.random.default_rng(11)
    centres = rng.normal(size=(5, d))

    def vec(text: str) -> np.ndarray:
        h = int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)
        noise = np.random.default_rng(h).normal(size=d)
        t = next((i for w, i in topic_of.items() if w in text.lower()), None)
        return noise if t is None else centres[t] * 4 + 0.4 * noise

    return FunctionEmbedder("test-topics", lambda texts: np.vstack([vec(t) for t in texts]))


def test_pipeline_stores_other_last_stability_and_deterministic_themes(db, creator):
    s = launched_session(db, creator)
    answers, _ = topic_answers(32)
    answers += [["My cat sleeps on the warm printer every afternoon."], ["Quantum chromodynamics is fascinating."],
                ["The parking garage elevator squeaks loudly."]]
    add_participants(db, s, answers)
    emb = embedder_for({"deploy": 0, "release": 0, "build": 0, "meeting": 1, "onboarding": 2, "hire": 2,
                        "newcomer": 2, "coffee": 3, "espresso": 3, "kitchen": 3})
    first = synthesize(db, [s.id], embedder=emb, allow_incremental=False)
    second = synthesize(db, [s.id], embedder=emb, allow_incremental=False)
    (ta, sa), (tb, sb) = themes_of(db, first.run_id), themes_of(db, second.run_id)
    assert list(sa["theme_id"]) == list(sb["theme_id"]) and list(sa["subtheme_id"]) == list(sb["subtheme_id"])
    for col in ("label", "quotes", "stability", "subthemes", "keywords"):
        assert list(ta[col].astype(str)) == list(tb[col].astype(str)), col
    other = ta[ta["theme_id"] == OTHER_ID]
    assert len(other) == 1 and other.iloc[0]["label"] == "Other" and other.index[0] == ta.index[-1]
    odd = sa[sa["text"].str.contains("printer|Quantum|garage")]
    assert (odd["theme_id"] == OTHER_ID).all()
    real = ta[ta["origin"] != "other"]
    assert len(real) == 4 and real["stability"].between(0, 1).all()
    assert first.stats["in_other"] == 3 and first.stats["k"] == 4


# ------------------------------------------------------------------------------------------------ labels


def test_labels_are_phrases_of_member_statements_shown_first_among_quotes(db, creator):
    s = launched_session(db, creator)
    answers, _ = topic_answers(40)
    add_participants(db, s, answers)
    out = synthesize(db, [s.id])
    themes, st = themes_of(db, out.run_id)
    by_id = st.set_index("statement_id")
    for r in themes.itertuples():
        if r.origin == "other":
            continue
        assert " · " not in r.label and 1 <= len(r.label.split()) <= 7
        members = st[st["theme_id"] == r.theme_id]
        said = [" ".join(clean_text(t).split()).casefold() for t in members["text"]]
        assert any(r.label.casefold() in t for t in said), (r.label, said[:3])
        quotes = json.loads(r.quotes)
        assert r.label.casefold() in clean_text(by_id.loc[quotes[0], "text"]).casefold()
        # quotes: different participants, the most central first apart from the label's own
        people = [by_id.loc[q, "participant_id"] for q in quotes]
        assert len(set(people)) == len(people)


def test_phrase_labels_prefer_whole_short_clauses_and_never_repeat():
    groups = [["Too many meetings every day.", "We default to meetings for everything.", "Meetings run long."],
              ["Priorities kept changing.", "Priorities shifted twice mid-sprint and nobody said why."],
              ["Priorities kept changing.", "Clearer priorities would help."]]
    labels = theme_labels(groups, [[0.9, 0.8, 0.7], [0.9, 0.8], [0.9, 0.8]])
    assert labels[0].text.lower().endswith("meetings") or "meetings" in labels[0].text.lower()
    assert labels[1].text == "Priorities kept changing"
    assert labels[2].text.lower() != labels[1].text.lower()
    assert stem("Meetings") == "meeting" and stem("priorities") == "priority"


@pytest.mark.parametrize("banned", [{"meeting"}])
def test_a_banned_word_never_labels(banned):
    labels = theme_labels([["Too many meetings every day.", "Long meetings drain energy."]], [[0.9, 0.8]], banned)
    assert labels[0] is None or "meeting" not in labels[0].text.lower()


def test_a_brand_named_everywhere_is_dropped_but_a_frequent_common_word_stays():
    texts = [f"My Acme order {i} never arrived" if i % 2 else f"The Acme app crashes when I pay {i}" for i in range(40)]
    texts += ["The kitchen coffee machine is broken"] * 30
    st = pd.DataFrame({"session_id": "s", "step": 0, "question": "Tell us", "critical_item": None, "text": texts})
    f = feature_texts(st)
    assert f.dominant == {"acme"}
    assert f.texts[0] == "The app crashes when I pay 0" and f.texts[-1] == "The kitchen coffee machine is broken"


def test_keyphrases_pair_only_words_written_side_by_side():
    """A pair keyphrase is two words someone wrote next to each other, not two words a stop word or a full stop
    separated ("habit writing", "writing decisions")."""
    themes = [["No habit of writing. Decisions get lost in chat.", "We have no habit of writing; decisions vanish."],
              ["The deploy pipeline broke twice.", "Our deploy pipeline is slow."]]
    words = ctfidf_keywords(themes, top=10)
    assert "deploy pipeline" in words[1]
    pairs = [w for theme in words for w in theme if " " in w]
    assert pairs and not {"habit writing", "writing decisions", "pipeline broke deploy"} & set(pairs)
    for pair in pairs:
        assert any(pair in " ".join(t.lower().split()) for theme in themes for t in theme)


def test_name_pieces_are_one_or_two_words_that_read_as_a_name():
    pieces = name_pieces("Reviewed each other's pull requests quickly")
    assert "pull requests" in pieces and "requests quickly" not in pieces and "quickly" not in pieces
    assert name_pieces("Priorities kept changing") == ["Priorities", "changing"]
    assert "No habit" in name_pieces("No habit of writing things down")
    assert all(len(p.split()) <= 2 for p in name_pieces("Meetings scattered across the day, every week"))
