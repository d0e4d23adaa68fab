"""Themes by segment: multiple-choice fields give one segment per option; repeated labels never break a table."""

import math

import pandas as pd
import pytest
from scipy.stats import fisher_exact

from core import results
from core.forms import FormField
from core.synthesis.figures import segment_heatmap
from core.synthesis.pipeline import Params, synthesize
from core.synthesis.segments import NO_ANSWER, finding, holm, multiple_choice_table, segment_table
from tests.helpers import launched_session
from tests.synthesis.helpers import add_participants

TOOLS = ["Jira", "GitHub", "Slack"]


def _members(pairs):
    return pd.DataFrame(pairs, columns=["participant_id", "theme_id"])


def test_holm_on_a_known_example():
    # m = 4: sorted p 0.01, 0.02, 0.03, 0.04 -> 0.04, 0.06, 0.06 (monotone), 0.06
    assert holm([0.04, 0.01, 0.03, 0.02]) == pytest.approx([0.06, 0.04, 0.06, 0.06])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


def test_multiple_choice_one_segment_per_option_with_a_known_answer():
    # 20 participants who answered. Jira: p0..p9 (p0..p4 also picked GitHub); GitHub: p0..p4 and p10..p14;
    # Slack: everyone from p5 to p19. Theme T1 ("Tickets") is raised by exactly the Jira users; T2 by p0, p10, p15.
    choices = {}
    for i in range(20):
        picked = (["Jira"] if i < 10 else []) + (["GitHub"] if i < 5 or 10 <= i < 15 else []) + \
                 (["Slack"] if i >= 5 else [])
        choices[f"p{i}"] = picked
    choices["p20"] = []                                   # analysed, did not answer the question
    members = _members([(f"p{i}", "T1") for i in range(10)] + [("p0", "T2"), ("p10", "T2"), ("p15", "T2"),
                                                               ("p20", "T1")])
    table = multiple_choice_table(members, pd.Series(choices, dtype=object), [("T1", "Tickets"), ("T2", "Chat")],
                                  "Tools", TOOLS)
    # one column per option, in form order, never a combination; people in several options count in each
    assert table.multiple and table.groups == ["Jira", "GitHub", "Slack", NO_ANSWER]
    assert table.sizes == {"Jira": 10, "GitHub": 10, "Slack": 15, NO_ANSWER: 1}
    assert not any("," in g for g in table.groups)
    assert table.counts.loc["T1"].tolist() == [10, 5, 5, 1]
    assert table.shares.loc["T1", "Jira"] == 1.0 and table.shares.loc["T1", "Slack"] == pytest.approx(5 / 15)
    # each option against those who answered without it, Fisher's exact test, Holm over the 6 tests
    by = {(t.theme_id, t.group): t for t in table.tests}
    assert len(table.tests) == 6 and all(t.test == "Fisher's exact test" for t in table.tests)
    jira = by[("T1", "Jira")]
    raw = fisher_exact([[10, 0], [0, 10]])[1]             # 2 / C(20, 10)
    assert jira.p_value == pytest.approx(raw) and raw == pytest.approx(2 / math.comb(20, 10))
    expected = holm([by[k].p_value for k in sorted(by)])
    assert [by[k].p_adjusted for k in sorted(by)] == pytest.approx(expected)
    assert jira.p_adjusted == pytest.approx(6 * raw)      # the smallest p is multiplied by the number of tests
    assert jira.notable and (jira.share_in, jira.share_out) == (1.0, 0.0)
    assert by[("T1", "GitHub")].p_value == pytest.approx(fisher_exact([[5, 5], [5, 5]])[1]) == pytest.approx(1.0)
    slack = by[("T1", "Slack")]                           # 5/15 with Slack against 5/5 without: p ~ 0.03
    assert slack.p_value == pytest.approx(fisher_exact([[5, 10], [5, 0]])[1]) and slack.p_value < 0.05
    assert slack.p_adjusted > 0.05 and not slack.notable  # ... which Holm does not keep
    assert [t.group for t in table.tests if t.notable] == ["Jira"]
    assert "more often" in finding(jira) and "“Jira”" in finding(jira) and "Holm" in finding(jira)
    assert "Holm" in table.caveat and "6 tests" in table.caveat
    fig = segment_heatmap(table)
    assert list(fig.data[0].y)[0].startswith("★ Tickets") and "★" in fig.data[0].text[0][0]


def test_repeated_labels_do_not_break_a_segment_table():
    groups = pd.Series({f"a{i}": "A" for i in range(6)} | {f"b{i}": "B" for i in range(6)})
    members = _members([(f"a{i}", "T1") for i in range(6)] + [(f"b{i}", "T2") for i in range(3)])
    themes = [("T1", "Answer"), ("T2", "Answer"), ("T3", "Answer")]
    table = segment_table(members, groups, themes, "Team")
    assert list(table.counts.index) == ["T1", "T2", "T3"]
    assert [table.label(t) for t in table.counts.index] == ["Answer", "Answer (2)", "Answer (3)"]
    assert table.counts.loc["T2"].tolist() == [0, 3] and [t.theme_id for t in table.tests] == ["T1", "T2", "T3"]
    assert table.tests[0].notable
    assert len(set(segment_heatmap(table).data[0].y)) == 3   # three rows, none merged
    multi = multiple_choice_table(members, pd.Series({p: [g] for p, g in groups.items()}, dtype=object), themes,
                                  "Team", ["A", "B"])
    assert list(multi.counts.index) == ["T1", "T2", "T3"]


def test_a_multiple_choice_field_of_a_session_segments_by_option(db, creator):
    form = [FormField("tools", "Tools", "multiple_choice", False, TOOLS)]
    s = launched_session(db, creator, form=form)
    deploy = "Honestly, the deploy pipeline is slow and breaks every week."
    meetings = "Too many meetings eat the whole calendar every single day."
    picks = ['["Jira", "GitHub"]'] * 6 + ['["Jira", "Slack"]'] * 2 + ['["Slack"]'] * 8
    add_participants(db, s, [[deploy]] * 8 + [[meetings]] * 8, groups=picks, field_key="tools")
    synthesize(db, [s.id], params=Params(k=2))
    opened = results.open(db, creator, s.id)
    view = opened.synthesis_view()
    table = opened.segments(view, "tools")
    assert table.multiple and table.field == "Tools"
    assert table.groups == ["Jira", "GitHub", "Slack"]       # no "Jira, GitHub" group
    assert table.sizes == {"Jira": 8, "GitHub": 6, "Slack": 10}
    deploy_theme = next(t.theme_id for t in view.themes if t.mentions == 8 and
                        view.statements.loc[view.statements["theme_id"] == t.theme_id, "text"].str.contains(
                            "deploy").all())
    assert table.counts.loc[deploy_theme].tolist() == [8, 6, 2]
    notable = {(t.theme_id, t.group) for t in table.tests if t.notable}
    assert (deploy_theme, "Jira") in notable and (deploy_theme, "Slack") in notable
