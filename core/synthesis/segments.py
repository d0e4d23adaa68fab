"""Themes by segment: share of each answer group raising each theme, with a named significance test.

Single-choice fields (and any one-value answer): each participant is in one group. For each theme, the participants
of each group are split into "raised it" / "did not"; the groups × 2 table is tested with Fisher's exact test when
there are two groups and any expected count is below 5, otherwise with Pearson's chi-square test (flagged as
approximate when expected counts are small). A theme is flagged when p < 0.05; p-values are not corrected for the
number of themes tested, and say so.

Multiple-choice fields: one segment per option, and a participant who picked several options is in several
segments (the columns overlap and do not add up). One group per exact combination ("Jira, GitHub, Slack") would
split the sample into tiny groups nobody asked about. For each theme and each option, the participants who picked
the option are compared with those who answered the question but did not pick it, a 2 × 2 table tested with
Fisher's exact test (exact at any sample size). Testing every option multiplies the tests, so the p-values of
the field (themes × options) are adjusted with Holm's step-down method, which keeps the chance of any false flag
in the field at 5% without assuming the tests are independent (Benjamini–Hochberg would flag more but controls
only the share of false flags). A cell is flagged when its adjusted p < 0.05.

Groups smaller than SMALL_GROUP are marked, not hidden. Counts describe this sample only. Tables are keyed by theme
id (labels are for display only and may repeat in runs stored before labels were made unique).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency, fisher_exact

from core.synthesis.theme_names import unique_labels

SMALL_GROUP = 5
ALPHA = 0.05
NO_ANSWER = "(no answer)"
FISHER = "Fisher's exact test"

SINGLE_CAVEAT = ("p-values are per theme and not corrected for multiple comparisons; counts describe this sample "
                 "only.")


def multiple_caveat(n_tests: int) -> str:
    return (f"Participants could pick several options, so each option is a segment and one person can be in several "
            f"(columns overlap and do not add up). Each theme is tested per option: those who picked it against "
            f"those who answered but did not ({FISHER}); p-values are Holm-adjusted over the {n_tests} tests of this "
            "field. Counts describe this sample only.")


@dataclass
class ThemeTest:
    theme_id: str
    label: str
    test: str
    p_value: float | None
    notable: bool
    note: str = ""
    group: str | None = None            # multiple choice: the option tested against those who did not pick it
    p_adjusted: float | None = None     # multiple choice: Holm-adjusted over the field's tests (notable: < ALPHA)
    share_in: float | None = None       # multiple choice: share raising the theme among those who picked it
    share_out: float | None = None      # ... and among those who answered without picking it


@dataclass
class SegmentTable:
    field: str
    groups: list[str]
    sizes: dict[str, int]
    small: list[str]
    shares: pd.DataFrame            # index theme id, columns groups, values 0..1
    counts: pd.DataFrame            # participants raising the theme, same shape
    tests: list[ThemeTest] = field(default_factory=list)
    caveat: str = SINGLE_CAVEAT
    labels: dict[str, str] = field(default_factory=dict)   # theme id -> label shown (unique within the table)
    multiple: bool = False          # one segment per option of a multiple-choice field

    def label(self, theme_id: str) -> str:
        return self.labels.get(theme_id, theme_id)


def finding(t: ThemeTest) -> str:
    """What a notable test says, in words, after the theme's label (plain text: escape it where it is shown)."""
    if t.group is None:
        return f"differs between groups ({t.test}, p = {t.p_value:.3g}{'; ' + t.note if t.note else ''})."
    more = "more" if (t.share_in or 0.0) >= (t.share_out or 0.0) else "less"
    return (f"is raised {more} often by those who picked “{t.group}”: {t.share_in or 0.0:.0%}, against "
            f"{t.share_out or 0.0:.0%} of those who answered without it ({t.test}, Holm-adjusted p = "
            f"{t.p_adjusted:.3g}).")


def significance_test(table: np.ndarray) -> tuple[str, float | None, str]:
    """(test name, p, note) for a groups × [raised, not raised] table."""
    table = np.asarray(table, dtype=float)
    table = table[table.sum(axis=1) > 0]
    if table.shape[0] < 2 or (table.sum(axis=0) == 0).any():
        return "none", None, "no variation to test"
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    if table.shape[0] == 2 and (expected < 5).any():
        _, p = fisher_exact(table.astype(int))
        return FISHER, float(p), ""
    _, p, _, _ = chi2_contingency(table, correction=table.shape[0] == 2)
    note = "approximate: some expected counts are below 5" if (expected < 5).any() else ""
    return "chi-square test", float(p), note


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the given order."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def _labels(themes: list[tuple[str, str]]) -> dict[str, str]:
    ids = [t for t, _ in themes]
    return dict(zip(ids, unique_labels([lbl for _, lbl in themes])))


def segment_table(memberships: pd.DataFrame, groups: pd.Series, themes: list[tuple[str, str]],
                  field_name: str) -> SegmentTable:
    """memberships: (participant_id, theme_id) pairs; groups: participant_id -> group value (the analysed
    participants; those without an answer are put in "(no answer)"); themes: (theme_id, label) in order."""
    groups = groups.fillna(NO_ANSWER).astype(str).replace("", NO_ANSWER)
    order = sorted(groups.unique(), key=lambda g: (g == NO_ANSWER, g))
    sizes = groups.value_counts().to_dict()
    raised = memberships[memberships["participant_id"].isin(groups.index)].drop_duplicates()
    raised = raised.assign(group=raised["participant_id"].map(groups))
    labels = _labels(themes)
    theme_ids = list(labels)
    by = raised.groupby(["theme_id", "group"])["participant_id"].nunique()
    counts = pd.DataFrame([[int(by.get((tid, g), 0)) for g in order] for tid in theme_ids], index=theme_ids,
                          columns=order, dtype=int)
    tests = []
    for tid in theme_ids:
        table = np.array([[counts.at[tid, g], sizes[g] - counts.at[tid, g]] for g in order if g != NO_ANSWER])
        name, p, note = significance_test(table) if len(table) >= 2 else ("none", None, "needs two groups")
        tests.append(ThemeTest(tid, labels[tid], name, p, p is not None and p < ALPHA, note))
    shares = counts.astype(float).div(pd.Series(sizes).reindex(order).astype(float), axis=1)
    small = [g for g in order if sizes[g] < SMALL_GROUP]
    return SegmentTable(field_name, order, {g: int(sizes[g]) for g in order}, small, shares, counts, tests,
                        labels=labels)


def multiple_choice_table(memberships: pd.DataFrame, choices: pd.Series, themes: list[tuple[str, str]],
                          field_name: str, options: list[str] | None = None) -> SegmentTable:
    """One segment per option of a multiple-choice field. choices: participant_id -> the options they picked
    (a list; empty or missing: no answer), for the analysed participants; options: the field's options in form
    order (options nobody picked are left out; values not among them follow, sorted)."""
    picked = {p: [str(v) for v in (vals if isinstance(vals, (list, tuple)) else []) if str(v).strip()]
              for p, vals in choices.items()}
    answered = {p for p, vals in picked.items() if vals}
    present = {v for vals in picked.values() for v in vals}
    order = [o for o in (options or []) if o in present] + sorted(present - set(options or []))
    members_of = {g: {p for p in answered if g in picked[p]} for g in order}
    no_answer = set(picked) - answered
    if no_answer:
        order.append(NO_ANSWER)
        members_of[NO_ANSWER] = no_answer
    sizes = {g: len(members_of[g]) for g in order}
    labels = _labels(themes)
    theme_ids = list(labels)
    raised = memberships[memberships["participant_id"].isin(picked.keys())].drop_duplicates()
    raisers = {tid: set(g["participant_id"]) for tid, g in raised.groupby("theme_id")}
    counts = pd.DataFrame([[len(raisers.get(tid, set()) & members_of[g]) for g in order] for tid in theme_ids],
                          index=theme_ids, columns=order, dtype=int)
    tests: list[ThemeTest] = []
    for tid in theme_ids:
        by_theme = raisers.get(tid, set()) & answered
        for g in order:
            if g == NO_ANSWER:
                continue
            inside, outside = members_of[g], answered - members_of[g]
            a, c = len(by_theme & inside), len(by_theme & outside)
            share_in = a / len(inside) if inside else None
            share_out = c / len(outside) if outside else None
            if not outside:
                tests.append(ThemeTest(tid, labels[tid], "none", None, False, "everyone who answered picked it", g,
                                       None, share_in, share_out))
                continue
            table = np.array([[a, len(inside) - a], [c, len(outside) - c]])
            if (table.sum(axis=0) == 0).any():
                tests.append(ThemeTest(tid, labels[tid], "none", None, False, "no variation to test", g, None,
                                       share_in, share_out))
                continue
            _, p = fisher_exact(table)
            tests.append(ThemeTest(tid, labels[tid], FISHER, float(p), False, "", g, None, share_in, share_out))
    tested = [t for t in tests if t.p_value is not None]
    for t, adj in zip(tested, holm([t.p_value for t in tested])):
        t.p_adjusted = adj
        t.notable = adj < ALPHA
    shares = counts.astype(float).div(pd.Series(sizes).reindex(order).astype(float), axis=1)
    small = [g for g in order if sizes[g] < SMALL_GROUP]
    return SegmentTable(field_name, order, sizes, small, shares, counts, tests, multiple_caveat(len(tested)),
                        labels=labels, multiple=True)


def session_breakdown(statements: pd.DataFrame, themes: list[tuple[str, str]]) -> pd.DataFrame:
    """Distinct participants per theme and session (for project-level synthesis across several sessions)."""
    assigned = statements.dropna(subset=["theme_id"])
    counts = assigned.groupby(["theme_id", "session_id"])["participant_id"].nunique().unstack(fill_value=0)
    order = [t for t, _ in themes if t in counts.index]
    out = counts.reindex(order).fillna(0).astype(int)
    labels = _labels(themes)
    out.index = [labels[t] for t in order]
    return out
