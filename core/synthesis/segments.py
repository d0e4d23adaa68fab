"""Themes by segment: share of each answer group raising each theme, with a named significance test.

For each theme, the participants of each group are split into "raised it" / "did not"; the groups × 2 table
is tested with Fisher's exact test when there are two groups and any expected count is below 5, otherwise
with Pearson's chi-square test (flagged as approximate when expected counts are small). A theme is flagged
when p < 0.05; p-values are not corrected for the number of themes tested, and say so. Groups smaller than
SMALL_GROUP are marked, not hidden. Counts describe this sample only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency, fisher_exact

SMALL_GROUP = 5
ALPHA = 0.05
NO_ANSWER = "(no answer)"


@dataclass
class ThemeTest:
    theme_id: str
    label: str
    test: str
    p_value: float | None
    notable: bool
    note: str = ""


@dataclass
class SegmentTable:
    field: str
    groups: list[str]
    sizes: dict[str, int]
    small: list[str]
    shares: pd.DataFrame            # index theme label, columns groups, values 0..1
    counts: pd.DataFrame            # participants raising the theme, same shape
    tests: list[ThemeTest] = field(default_factory=list)
    caveat: str = ("p-values are per theme and not corrected for multiple comparisons; counts describe this "
                   "sample only.")


def significance_test(table: np.ndarray) -> tuple[str, float | None, str]:
    """(test name, p, note) for a groups × [raised, not raised] table."""
    table = np.asarray(table, dtype=float)
    table = table[table.sum(axis=1) > 0]
    if table.shape[0] < 2 or (table.sum(axis=0) == 0).any():
        return "none", None, "no variation to test"
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    if table.shape[0] == 2 and (expected < 5).any():
        _, p = fisher_exact(table.astype(int))
        return "Fisher's exact test", float(p), ""
    _, p, _, _ = chi2_contingency(table, correction=table.shape[0] == 2)
    note = "approximate: some expected counts are below 5" if (expected < 5).any() else ""
    return "chi-square test", float(p), note


def segment_table(memberships: pd.DataFrame, groups: pd.Series, themes: list[tuple[str, str]],
                  field_name: str) -> SegmentTable:
    """memberships: (participant_id, theme_id) pairs; groups: participant_id -> group value (the analysed
    participants; those without an answer are put in "(no answer)"); themes: (theme_id, label) in order."""
    groups = groups.fillna(NO_ANSWER).astype(str).replace("", NO_ANSWER)
    order = sorted(groups.unique(), key=lambda g: (g == NO_ANSWER, g))
    sizes = groups.value_counts().to_dict()
    raised = memberships[memberships["participant_id"].isin(groups.index)].drop_duplicates()
    raised = raised.assign(group=raised["participant_id"].map(groups))
    counts = pd.DataFrame(0, index=[lbl for _, lbl in themes], columns=order, dtype=int)
    by = raised.groupby(["theme_id", "group"])["participant_id"].nunique()
    tests = []
    for theme_id, lbl in themes:
        for g in order:
            counts.loc[lbl, g] = int(by.get((theme_id, g), 0))
        table = np.array([[counts.loc[lbl, g], sizes[g] - counts.loc[lbl, g]] for g in order if g != NO_ANSWER])
        name, p, note = significance_test(table) if len(table) >= 2 else ("none", None, "needs two groups")
        tests.append(ThemeTest(theme_id, lbl, name, p, p is not None and p < ALPHA, note))
    shares = counts.astype(float).div(pd.Series(sizes).reindex(order).astype(float), axis=1)
    small = [g for g in order if sizes[g] < SMALL_GROUP]
    return SegmentTable(field_name, order, {g: int(sizes[g]) for g in order}, small, shares, counts, tests)


def session_breakdown(statements: pd.DataFrame, themes: list[tuple[str, str]]) -> pd.DataFrame:
    """Distinct participants per theme and session (for project-level synthesis across several sessions)."""
    assigned = statements.dropna(subset=["theme_id"])
    counts = assigned.groupby(["theme_id", "session_id"])["participant_id"].nunique().unstack(fill_value=0)
    order = [t for t, _ in themes if t in counts.index]
    out = counts.reindex(order).fillna(0).astype(int)
    out.index = [dict(themes)[t] for t in order]
    return out
