"""Codebook edits — rename, merge, split, delete, move a statement — applied to a run's themes.

Each edit is stored with a snapshot of the statements it was made on and the run it was made on. After every
re-synthesis (full or incremental) the edits are replayed in order on the new themes, each mapped by statement
membership, and never dropped silently:

- Only statements both the edit's run and the new run have are compared: a new participant's statements do not
  dilute the overlap, an excluded participant's no longer count.
- The theme an edit names is the new theme whose statements overlap the snapshot most by Jaccard overlap,
  |theme ∩ snapshot| / |theme ∪ snapshot|, provided that is at least MATCH_THRESHOLD = 0.5. Above one half at most
  one theme can match (themes are disjoint), and it is mostly made of the snapshot while keeping most of it; a theme
  that has lost half of its statements to other themes, or been folded into a theme twice its size, is not the
  theme the researcher edited any more.
- An edit that maps is applied again. One that does not is kept as *pending*, with a plain explanation of where its
  statements went ("… no longer exists: its statements are now split across “A” (5 of 9) and “B” (4 of 9)") and
  those themes as targets the researcher can re-apply it to with one click, or discard it. Nothing here discards an
  edit: only a person does (core.repos.synthesis.discard_edit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans

from core.synthesis.embed import TfidfLsa
from core.synthesis.labels import describe_themes, make_label
from core.text import plural

MATCH_THRESHOLD = 0.5
OPS = ("rename", "merge", "split", "delete", "move")


@dataclass
class ThemeState:
    theme_id: str
    label: str
    description: str
    keywords: list[str]
    centroid: np.ndarray | None
    origin: str = "cluster"
    renamed: bool = False
    stability: float | None = None       # bootstrap agreement (cluster.py); None when not measured or edited


@dataclass
class EditOutcome:
    """What replaying one edit did: applied, or pending with why (plain words) and the themes to offer instead."""
    applied: bool
    note: str = ""
    candidates: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return "applied" if self.applied else "pending"


@dataclass
class Placement:
    """Where a snapshot of statements is among the current themes."""
    best: str | None                 # the matching theme (Jaccard >= MATCH_THRESHOLD), or None
    score: float                     # its Jaccard overlap
    spread: list[tuple[str, int]]    # (theme id, snapshot statements now in it), most first
    unassigned: int                  # snapshot statements in no theme now
    missing: int                     # snapshot statements no longer in the analysis
    size: int                        # snapshot statements still in the analysis
    sizes: dict[str, int] = field(default_factory=dict)   # theme id -> its statements (those compared)


def members(statements: pd.DataFrame, theme_id: str) -> set[str]:
    return set(statements.loc[statements["theme_id"] == theme_id, "statement_id"])


def place(themes: dict[str, ThemeState], statements: pd.DataFrame, snapshot: list[str],
          universe: set[str] | None = None) -> Placement:
    """Map a snapshot to the current themes. `universe`: the statements of the run the snapshot was taken on
    (None: compare with every current statement)."""
    current = statements if universe is None else statements[statements["statement_id"].isin(universe)]
    snap = set(snapshot)
    here = current[current["statement_id"].isin(snap)]
    kept = set(here["statement_id"])
    missing = len(snap - set(statements["statement_id"]))
    grouped = current[current["theme_id"].notna()].groupby("theme_id")["statement_id"].apply(set)
    best, best_score = None, 0.0
    if kept:
        for theme_id in themes:
            members_now = grouped.get(theme_id, set())
            union = len(members_now | kept)
            score = len(members_now & kept) / union if union else 0.0
            if score > best_score + 1e-12:
                best, best_score = theme_id, score
    counts = here["theme_id"].value_counts()
    spread = sorted(((str(t), int(n)) for t, n in counts.items() if t in themes), key=lambda x: (-x[1], x[0]))
    unassigned = int(here["theme_id"].isna().sum())
    sizes = {str(t): len(v) for t, v in grouped.items()}
    return Placement(best if best_score >= MATCH_THRESHOLD else None, best_score, spread, unassigned, missing,
                     len(kept), sizes)


def _q(label: str | None, fallback: str = "a theme") -> str:
    return f"“{label}”" if label else fallback


def _the(label: str | None) -> str:
    return f"The theme “{label}”" if label else "The theme"


def where_now(p: Placement, themes: dict[str, ThemeState]) -> str:
    """Where a lost theme's statements are now, in plain words."""
    gone = (f" ({p.missing} more left the analysis: their participants were excluded or their answers changed)"
            if p.missing else "")
    if p.size == 0:
        return "none of its statements are in the analysis any more (their participants were excluded or their " \
               "answers changed)"
    if not p.spread:
        return "its statements are in no theme now" + gone
    if len(p.spread) == 1 and p.unassigned == 0:
        tid, _ = p.spread[0]
        return (f"its statements are now part of a broader theme, {_q(themes[tid].label)}, which holds "
                f"{plural(p.sizes.get(tid, 0), 'statement')} in all" + gone)
    parts = [f"{_q(themes[t].label)} ({n} of {p.size})" for t, n in p.spread[:3]]
    text = "its statements are now split across " + (", ".join(parts[:-1]) + " and " + parts[-1]
                                                       if len(parts) > 1 else parts[0])
    if len(p.spread) > 3:
        text += f" and {len(p.spread) - 3} other theme(s)"
    if p.unassigned:
        text += f"; {p.unassigned} are in no theme"
    return text + gone


def _candidates(*placements: Placement) -> list[str]:
    out: list[str] = []
    for p in placements:
        for tid in ([p.best] if p.best else []) + [t for t, _ in p.spread]:
            if tid not in out:
                out.append(tid)
    return out


def snapshot_payload(op: str, themes: dict[str, ThemeState], statements: pd.DataFrame, **args) -> dict:
    """The stored form of an edit made now on `themes`: its arguments, the statement snapshots it is matched by, and
    the names it was made on (for explanations)."""
    if op not in OPS:
        raise ValueError(f"unknown codebook operation: {op}")
    payload = dict(args)
    if op in ("rename", "split", "delete"):
        payload["members"] = sorted(members(statements, args["theme_id"]))
        payload["from_label"] = themes[args["theme_id"]].label
    elif op == "merge":
        payload["members"] = {t: sorted(members(statements, t)) for t in args["theme_ids"]}
        payload["from_labels"] = {t: themes[t].label for t in args["theme_ids"]}
    elif op == "move":
        payload["to_members"] = sorted(members(statements, args["to_theme_id"]))
        payload["to_label"] = themes[args["to_theme_id"]].label
        text = statements.loc[statements["statement_id"] == args["statement_id"], "text"]
        payload["statement_text"] = str(text.iloc[0])[:200] if len(text) else ""
    return payload


def edit_args(op: str, payload: dict, targets: list[str]) -> dict:
    """The arguments of `op` that re-apply a stored edit to the chosen current themes (`targets`: one theme, or the
    themes to merge)."""
    if op == "rename":
        return {"theme_id": targets[0], "label": payload["label"]}
    if op == "merge":
        return {"theme_ids": list(targets), "label": payload.get("label")}
    if op == "split":
        return {"theme_id": targets[0], "parts": int(payload.get("parts", 2))}
    if op == "delete":
        return {"theme_id": targets[0]}
    if op == "move":
        return {"statement_id": payload["statement_id"], "to_theme_id": targets[0]}
    raise ValueError(f"unknown codebook operation: {op}")


def describe_edit(op: str, payload: dict) -> str:
    """The edit in plain words ("Renamed “Stands · week” to “Meetings”")."""
    if op == "rename":
        return f"Renamed {_q(payload.get('from_label'))} to “{payload.get('label', '')}”"
    if op == "merge":
        names = [f"“{n}”" for n in (payload.get("from_labels") or {}).values()]
        what = (", ".join(names[:-1]) + " and " + names[-1]) if len(names) > 1 else \
            plural(len(payload.get('members', {})), 'theme')
        return f"Merged {what}" + (f" into “{payload['label']}”" if payload.get("label") else "")
    if op == "split":
        return f"Split {_q(payload.get('from_label'))} into {int(payload.get('parts', 2))}"
    if op == "delete":
        return f"Deleted {_q(payload.get('from_label'))}"
    if op == "move":
        text = payload.get("statement_text") or "a statement"
        text = f"“{text[:80]}{'…' if len(text) > 80 else ''}”" if payload.get("statement_text") else text
        return f"Moved {text} to {_q(payload.get('to_label'))}"
    return op


def apply_edit(op: str, payload: dict, themes: dict[str, ThemeState], statements: pd.DataFrame,
               embed: Callable[[list[str]], np.ndarray] | None = None, seed: int = 0,
               universe: set[str] | None = None) -> str | None:
    """Apply one edit in place; return None when applied, else why it was not (plain words)."""
    out = replay_edit(op, payload, themes, statements, embed, seed, universe)
    return None if out.applied else out.note


def replay_edit(op: str, payload: dict, themes: dict[str, ThemeState], statements: pd.DataFrame,
                embed: Callable[[list[str]], np.ndarray] | None = None, seed: int = 0,
                universe: set[str] | None = None) -> EditOutcome:
    """Apply one edit in place where it maps to the current themes; otherwise leave everything as it was and say
    why, with the themes its statements went to."""
    if op == "rename":
        p = place(themes, statements, payload["members"], universe)
        if p.best is None:
            return EditOutcome(False, f"{_the(payload.get('from_label'))} you renamed to "
                                      f"“{payload['label']}” no longer "
                                      f"exists: {where_now(p, themes)}.", _candidates(p))
        themes[p.best].label = payload["label"].strip()[:120] or themes[p.best].label
        themes[p.best].renamed = True
        return EditOutcome(True)
    if op == "delete":
        p = place(themes, statements, payload["members"], universe)
        if p.best is None:
            return EditOutcome(False, f"{_the(payload.get('from_label'))} you deleted no longer exists: "
                                      f"{where_now(p, themes)}.", _candidates(p))
        statements.loc[statements["theme_id"] == p.best, "theme_id"] = None
        del themes[p.best]
        return EditOutcome(True)
    if op == "merge":
        return _merge(payload, themes, statements, universe)
    if op == "split":
        return _split(payload, themes, statements, embed, seed, universe)
    if op == "move":
        sid = payload["statement_id"]
        if not (statements["statement_id"] == sid).any():
            return EditOutcome(False, f"The statement you moved to {_q(payload.get('to_label'))} is no longer in the "
                                      "analysis (its participant was excluded or the answer changed).")
        p = place(themes, statements, payload.get("to_members", []), universe)
        if p.best is None:
            return EditOutcome(False, f"{_the(payload.get('to_label'))} you moved a statement to no longer exists: "
                                      f"{where_now(p, themes)}.", _candidates(p))
        statements.loc[statements["statement_id"] == sid, "theme_id"] = p.best
        return EditOutcome(True)
    return EditOutcome(False, f"Unknown operation {op}.")


def _merge(payload: dict, themes: dict[str, ThemeState], statements: pd.DataFrame,
           universe: set[str] | None) -> EditOutcome:
    names = payload.get("from_labels") or {}
    places = {tid: place(themes, statements, snap, universe) for tid, snap in payload["members"].items()}
    lost = [tid for tid, p in places.items() if p.best is None]
    if lost:
        what = "; ".join(f"{_q(names.get(tid), 'one of them')} no longer exists: {where_now(places[tid], themes)}"
                         for tid in lost)
        into = f" into “{payload['label']}”" if payload.get("label") else ""
        merged = [f"“{n}”" for n in names.values()]
        which = (", ".join(merged[:-1]) + " and " + merged[-1] + " ") if len(merged) > 1 else ""
        return EditOutcome(False, f"The themes {which}you merged{into} cannot be merged again: {what}.",
                           _candidates(*places.values()))
    ids = list(dict.fromkeys(p.best for p in places.values()))
    keep, *others = ids
    if others:
        weights = [max(len(members(statements, tid)), 1) for tid in ids]
        for tid in others:
            statements.loc[statements["theme_id"] == tid, "theme_id"] = keep
        cents = [themes[t].centroid for t in ids]
        if all(c is not None for c in cents):
            c = np.average(np.vstack(cents), axis=0, weights=weights)
            themes[keep].centroid = c / (np.linalg.norm(c) or 1.0)
        themes[keep].origin = "edit"
        for tid in others:
            del themes[tid]
    if payload.get("label"):
        themes[keep].label = payload["label"].strip()[:120]
        themes[keep].renamed = True
    if others:
        relabel(themes, statements, only=[keep])
        return EditOutcome(True)
    return EditOutcome(True, "the new themes already hold these statements together")


def _split(payload: dict, themes: dict[str, ThemeState], statements: pd.DataFrame, embed, seed: int,
           universe: set[str] | None) -> EditOutcome:
    p = place(themes, statements, payload["members"], universe)
    name = payload.get("from_label")
    if p.best is None:
        return EditOutcome(False, f"{_the(name)} you split no longer exists: {where_now(p, themes)}.", _candidates(p))
    tid = p.best
    mask = statements["theme_id"] == tid
    part = statements[mask]
    k = int(payload.get("parts", 2))
    if len(part) < 2 * k:
        return EditOutcome(False, f"The theme {_q(themes[tid].label)} now has {len(part)} statement(s): too few to "
                                  f"split into {k}.", [tid])
    # the run's own embedder when there is one (the sentence model: the parts are what a reader would separate);
    # TF-IDF fitted on the theme otherwise
    texts = part["text"].tolist()
    x = embed(texts) if embed is not None else TfidfLsa(dims=50, seed=seed).fit_embed(texts)
    labels = KMeans(n_clusters=k, random_state=seed, n_init=4).fit_predict(x)
    if len(set(labels)) < 2:
        return EditOutcome(False, f"The statements of {_q(themes[tid].label)} did not separate into {k} groups.",
                           [tid])
    new_ids = [f"{tid}.{i + 1}" for i in range(k)]
    statements.loc[mask, "theme_id"] = [new_ids[i] for i in labels]
    old = themes.pop(tid)
    for i, new_id in enumerate(new_ids):
        texts = part["text"][labels == i].tolist()
        centroid = None
        if embed is not None and texts:
            c = embed(texts).mean(axis=0)
            centroid = c / (np.linalg.norm(c) or 1.0)
            idx = statements.index[statements["theme_id"] == new_id]
            vec = embed(statements.loc[idx, "text"].tolist())
            statements.loc[idx, "score"] = vec @ centroid
        themes[new_id] = ThemeState(new_id, f"{old.label} ({i + 1})", old.description, [], centroid, "edit")
    relabel(themes, statements, only=new_ids)
    return EditOutcome(True)


def relabel(themes: dict[str, ThemeState], statements: pd.DataFrame, only: list[str] | None = None) -> None:
    """Labels in participants' words (labels.describe_themes: a short phrase of the most central statements, weighed
    against every theme) for `only` (default all); renamed themes keep their name, the "Other" theme its own. A theme
    relabelled after an edit changed its statements has no stability figure any more (not measured)."""
    ids = [t for t in themes if themes[t].origin != "other"]
    described = describe_themes(statements, ids)
    for tid in ids:
        if only is not None and tid not in only:
            continue
        th, d = themes[tid], described[tid]
        th.keywords = d.keywords
        th.description = d.description
        if only is not None:
            th.stability = None
        if not th.renamed:
            th.label = d.label or make_label(d.keywords, f"Theme {tid}")
