"""What participants and public links see: no participant's verbatim words unless the owner allows quotes, and then
never from a theme raised by fewer than k people (core/audience.py, core.results.participant_view / public_view)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core import results
from core.audience import WITHHELD, QuotePolicy, Said, audience_label, audience_view, scrub
from core.permissions import AccessDenied
from core.repos import sessions as srepo
from core.repos.audit import audit_frame
from core.results import participant_view, public_view
from core.results.synthesis import SubThemeView, ThemeView
from core.sharing import SharingError, create_public_link, set_audience_quotes, set_visibility
from core.synthesis.summary import SummaryTheme, templated_summary
from tests.audience_data import PLAN, populate, said
from tests.helpers import grant, launched_session

pytestmark = pytest.mark.both_backends


@pytest.fixture(autouse=True)
def no_background_synthesis(monkeypatch):
    monkeypatch.setenv("HARMONICA_AUTO_SYNTHESIS", "0")


@pytest.fixture
def shared(db, creator):
    """The audience session (tests/audience_data.py): three themes of 4, 3 and 1 people; (session, tokens)."""
    return populate(db, creator)


def words_shown(view) -> str:
    """Everything of a view an audience can read: summary, theme names, descriptions, quotes, statements."""
    parts = [view.run.summary]
    for t in view.themes:
        parts += [t.label, t.description] + [q.text for q in t.quotes]
        for sub in t.subthemes:
            parts += [sub.label] + [q.text for q in sub.quotes]
    parts += view.statements["text"].astype(str).tolist()
    return "\n".join(parts)


def verbatim_in(text: str, answers: list[str]) -> list[str]:
    """The answers (or their first seven words, as said) that appear in `text`."""
    found = []
    for a in answers:
        head = " ".join(a.rstrip(".").split()[:7])
        if a.rstrip(".") in text or head in text:
            found.append(a)
    return found


def test_the_members_view_quotes_participants_so_the_audience_view_must_not(db, creator, shared):
    s, tokens = shared
    full = results.open(db, creator, s.id).synthesis_view()
    answers = [said(i) for i in range(len(PLAN))]
    assert verbatim_in(full.run.summary, answers)       # the offline summary quotes: the case to guard against
    set_visibility(db, creator, s.id, "participants")
    view = participant_view(db, tokens[0])
    assert view.themes and sum(t.participants for t in view.themes) >= len(PLAN) - 1   # themes with counts stay
    assert verbatim_in(words_shown(view), answers) == []
    assert all(not t.quotes for t in view.themes)
    assert view.statements.empty and view.runs == []
    assert "raised by" in view.run.summary               # the summary keeps its counts
    for theme in view.themes:     # offline names are phrases taken from the answers: shown if k (3) people wrote them
        assert len(theme.label.split()) < 3 or sum(theme.label.lower() in a.lower() for a in answers) >= 3
        assert "·" not in theme.label                      # a piece of a name stands in, never an "a · b" pair


def test_allowed_quotes_come_only_from_themes_of_at_least_k_people(db, creator, shared):
    s, tokens = shared
    set_visibility(db, creator, s.id, "participants")
    set_audience_quotes(db, creator, s.id, True, 3)
    view = participant_view(db, tokens[0])
    quoted = [t for t in view.themes if t.quotes]
    assert quoted, "with quotes allowed, themes of three or more people show their quotes"
    assert all(t.participants >= 3 for t in quoted)
    small = [t for t in view.themes if t.participants < 3]
    full = {t.theme_id: t for t in results.open(db, creator, s.id).synthesis_view().themes}
    hidden = [q.text for t in small for q in full[t.theme_id].quotes]
    assert hidden, "the single person's theme has a quote for members"
    assert verbatim_in(words_shown(view), hidden) == []
    assert "zebulon" not in words_shown(view).lower().replace(small[0].label.lower(), "")
    assert all(t.description == "" and t.keywords == [] and t.label == f"Theme {t.position + 1}" for t in small)

    set_audience_quotes(db, creator, s.id, True, 5)      # no theme has five people
    view = participant_view(db, tokens[0])
    assert all(not t.quotes for t in view.themes)
    assert verbatim_in(words_shown(view), [said(i) for i in range(len(PLAN))]) == []


def test_a_public_link_shows_quotes_only_when_allowed_and_chosen(db, creator, shared):
    s, _ = shared
    answers = [said(i) for i in range(len(PLAN))]
    set_visibility(db, creator, s.id, "public")
    summary_only = create_public_link(db, creator, s.id, ["summary"])
    everything = create_public_link(db, creator, s.id, ["summary", "themes", "quotes", "transcripts"])

    for token in (summary_only, everything):         # quotes not allowed: no one's words, whatever was ticked
        shared_ = public_view(db, token)
        assert verbatim_in(words_shown(shared_.view), answers) == [] and shared_.transcripts == []
    assert public_view(db, everything).withheld == ("quotes", "transcripts")

    set_audience_quotes(db, creator, s.id, True, 3)
    assert verbatim_in(words_shown(public_view(db, summary_only).view), answers) == []   # Quotes not ticked
    shown = public_view(db, everything)
    assert any(t.quotes for t in shown.view.themes)
    assert all(t.participants >= 3 for t in shown.view.themes if t.quotes)
    assert "Zebulon" not in words_shown(shown.view)
    assert len(shown.transcripts) == len(PLAN) and shown.withheld == ()


def test_only_owners_set_the_quote_setting_with_k_at_least_two(db, creator, other_user):
    s = launched_session(db, creator)
    assert QuotePolicy.of(srepo.get_session(db, s.id)) == QuotePolicy(False, 3)   # default: off, k = 3
    with pytest.raises(SharingError):
        set_audience_quotes(db, creator, s.id, True, 1)
    grant(db, creator, "session", s.id, other_user, "editor")
    with pytest.raises(AccessDenied):
        set_audience_quotes(db, other_user, s.id, True, 3)
    set_audience_quotes(db, creator, s.id, True, 4)
    assert QuotePolicy.of(srepo.get_session(db, s.id)) == QuotePolicy(True, 4)
    assert "session.audience_quotes" in set(audit_frame(db)["action"])


def test_scrub_removes_template_quote_clauses_unless_allowed():
    themes = [SummaryTheme("Coffee", 4, 5, "The kitchen coffee machine is broken again", "Q1.1"),
              SummaryTheme("Zebulon", 1, 1, "My manager Zebulon ignores every request", "Q2.1")]
    text = templated_summary(themes, 5, 5, 6)
    out = scrub(text, Said([]), set(), [], ["Coffee", "Zebulon"])
    assert "kitchen coffee machine" not in out and "ignores every request" not in out
    assert "[Q" not in out and "“Coffee” was raised by 4 of 5" in out
    allowed = scrub(text, Said([]), {"Q1.1"}, ["The kitchen coffee machine is broken again"], ["Coffee", "Zebulon"])
    assert "“The kitchen coffee machine is broken again” [Q1.1]" in allowed
    assert "ignores every request" not in allowed


def test_scrub_withholds_quotations_citations_and_unquoted_copies_in_model_text():
    corpus = ["Honestly the deploy pipeline breaks every single Friday afternoon without warning",
              "Meetings are fine"]
    text = ("Deploys worry people, one saying “the deploy pipeline breaks every single Friday” [T1, Q1.1]. "
            "Someone wrote that the deploy pipeline breaks every single Friday afternoon [Q1.2]. "
            "The theme “Deploy pipeline” [T1] and “fine” stay.")
    out = scrub(text, Said(corpus), set(), [], ["Deploy pipeline"])
    assert "breaks every single" not in out
    assert out.count(WITHHELD) == 2
    assert "[T1]" in out and "Q1." not in out
    assert "“Deploy pipeline”" in out and "“fine”" in out


def test_sub_themes_show_no_ones_words_unless_their_themes_quotes_are_shown(db, creator, shared):
    """A sub-theme's quote and its name (a participant's phrase) are participants' words like a theme's."""
    s, tokens = shared
    full = results.open(db, creator, s.id).synthesis_view()
    big = max(full.themes, key=lambda t: t.participants)
    quote = big.quotes[0]
    phrase = " ".join(said(1).rstrip(".").split()[-4:])    # a name taken from one answer ("tastes burnt this sprint")
    subs = [SubThemeView("s1", phrase, big.participants, 3, [quote]), SubThemeView("s2", "Fridays", 2, 2, [quote]),
            SubThemeView("s3", "Tuesdays", big.participants, 2, [quote])]
    themed = replace(full, themes=[replace(t, subthemes=subs) if t is big else t for t in full.themes])

    hidden = audience_view(themed, QuotePolicy(False, 3))
    shown_subs = next(t for t in hidden.themes if t.theme_id == big.theme_id).subthemes
    assert [sub.label for sub in shown_subs] == ["Tuesdays"]       # not the phrase, not a sub-theme of 2 people
    assert all(not sub.quotes for sub in shown_subs)
    assert verbatim_in(words_shown(hidden), [quote.text]) == []

    allowed = audience_view(themed, QuotePolicy(True, 3))
    shown_subs = next(t for t in allowed.themes if t.theme_id == big.theme_id).subthemes
    assert [sub.label for sub in shown_subs] == [phrase, "Tuesdays"]
    assert all(sub.quotes == [quote] for sub in shown_subs)
    no_quotes = audience_view(themed, QuotePolicy(True, 3), quotes=False)   # a public link that shows no quotes
    assert all(not sub.quotes for t in no_quotes.themes for sub in t.subthemes)


def test_a_name_k_people_wrote_is_shown_and_one_persons_phrase_gives_way_to_a_piece_of_it(db, creator, shared):
    """A phrase that k participants wrote points at none of them; one written by fewer is replaced by its best piece
    of one or two words."""
    s, _ = shared
    full = results.open(db, creator, s.id).synthesis_view()
    coffee = next(t for t in full.themes if "coffee" in t.label.lower())
    assert len(coffee.label.split()) >= 3 and coffee.participants == 4   # the 4 people's shared sentence names it
    for k, shown in ((3, coffee.label), (4, coffee.label), (5, "Theme 1")):
        view = audience_view(full, QuotePolicy(False, k))
        assert next(t for t in view.themes if t.theme_id == coffee.theme_id).label == shown

    own = " ".join(said(1).rstrip(".").split()[-5:])          # "coffee tastes burnt this sprint": one person's words
    renamed = replace(full, themes=[replace(t, label=own.capitalize()) if t is coffee else t for t in full.themes])
    view = audience_view(renamed, QuotePolicy(False, 3))
    name = next(t for t in view.themes if t.theme_id == coffee.theme_id).label
    assert name.lower() in own and len(name.split()) <= 2      # a piece of it its four people wrote ("Tastes
    assert "sprint" not in name.lower() and "this" not in name.lower()   # burnt"), not one person's ending
    assert "tastes burnt this sprint" not in words_shown(view).lower()
    shown = audience_view(renamed, QuotePolicy(True, 3))      # its quotes are shown: so is its name
    assert next(t for t in shown.themes if t.theme_id == coffee.theme_id).label == own.capitalize()

    other = replace(full.themes[-1], theme_id="other", label="Other", origin="other", participants=1)
    small = audience_view(replace(full, themes=[*full.themes, other]), QuotePolicy(False, 3)).themes
    assert small[-1].label == "Other" and small[-2].label.startswith("Theme ")   # no one's words, unlike a name


def test_a_short_name_is_never_a_word_only_one_person_wrote():
    """A word or two is not a quote, but one only one person wrote (a name, a rare term) can still point at them."""
    written = Said(["Zebulon ignores my desk request", "my desk is too low", "the desk wobbles", "a desk that works",
                   "a standing desk please"], [f"p{i}" for i in range(5)], ["T1"] * 5)
    theme = ThemeView("T1", 0, "Zebulon ignores my desk request", "", ["zebulon", "desk"], 5, 5, 100.0, {})
    assert audience_label(theme, 3, False, written) == "Desk"
    assert audience_label(theme, 3, True, written) == theme.label            # its quotes are shown: so is its name
