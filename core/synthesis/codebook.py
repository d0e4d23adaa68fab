"""Codebook edits — rename, merge, split, delete, move a statement — applied to a run's themes.

Each edit is stored with a snapshot of the statements it was made on. It is applied again after every
re-synthesis where the data still supports it: the theme it names is the current theme whose statements
overlap the snapshot most, provided the Jaccard overlap is at least MATCH_THRESHOLD. Edits that no longer
fit are skipped and reported, never forced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans

from core.synthesis.embed import TfidfLsa
from core.synthesis.labels import ctfidf_keywords, make_description, make_label

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


@dataclass
class EditResult:
    applied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def members(statements: pd.DataFrame, theme_id: str) -> set[str]:
    return set(statements.loc[statements["theme_id"] == theme_id, "statement_id"])


def match_theme(themes: dict[str, ThemeState], statements: pd.DataFrame, snapshot: list[str]) -> str | None:
    snap = set(snapshot)
    if not snap:
        return None
    best, best_score = None, 0.0
    grouped = statements.groupby("theme_id")["statement_id"].apply(set)
    for theme_id in themes:
        current = grouped.get(theme_id, set())
        union = len(current | snap)
        score = len(current & snap) / union if union else 0.0
        if score > best_score + 1e-12:
            best, best_score = theme_id, score
    return best if best_score >= MATCH_THRESHOLD else None


def snapshot_payload(op: str, themes: dict[str, ThemeState], statements: pd.DataFrame, **args) -> dict:
    """The stored form of an edit made now on `themes` (adds the statement snapshots it is matched by)."""
    if op not in OPS:
        raise ValueError(f"unknown codebook operation: {op}")
    payload = dict(args)
    if op in ("rename", "split", "delete"):
        payload["members"] = sorted(members(statements, args["theme_id"]))
    elif op == "merge":
        payload["members"] = {t: sorted(members(statements, t)) for t in args["theme_ids"]}
    elif op == "move":
        payload["to_members"] = sorted(members(statements, args["to_theme_id"]))
    return payload


def apply_edit(op: str, payload: dict, themes: dict[str, ThemeState], statements: pd.DataFrame,
               embed: Callable[[list[str]], np.ndarray] | None = None, seed: int = 0) -> str | None:
    """Apply one edit in place; return None when applied, else why it was skipped."""
    if op == "rename":
        tid = match_theme(themes, statements, payload["members"])
        if tid is None:
            return f"rename to “{payload['label']}”: the theme is no longer in the data"
        themes[tid].label = payload["label"].strip()[:120] or themes[tid].label
        themes[tid].renamed = True
        return None
    if op == "delete":
        tid = match_theme(themes, statements, payload["members"])
        if tid is None:
            return "delete: the theme is no longer in the data"
        statements.loc[statements["theme_id"] == tid, "theme_id"] = None
        del themes[tid]
        return None
    if op == "merge":
        ids = [match_theme(themes, statements, snap) for snap in payload["members"].values()]
        if any(t is None for t in ids) or len(set(ids)) < 2:
            return "merge: the themes are no longer separate in the data"
        keep, *others = ids
        weights = []
        for tid in ids:
            weights.append(max(len(members(statements, tid)), 1))
        for tid in others:
            statements.loc[statements["theme_id"] == tid, "theme_id"] = keep
        cents = [themes[t].centroid for t in ids]
        if all(c is not None for c in cents):
            c = np.average(np.vstack(cents), axis=0, weights=weights)
            themes[keep].centroid = c / (np.linalg.norm(c) or 1.0)
        if payload.get("label"):
            themes[keep].label = payload["label"].strip()[:120]
            themes[keep].renamed = True
        themes[keep].origin = "edit"
        for tid in others:
            del themes[tid]
        relabel(themes, statements, only=[keep])
        return None
    if op == "split":
        tid = match_theme(themes, statements, payload["members"])
        if tid is None:
            return "split: the theme is no longer in the data"
        mask = statements["theme_id"] == tid
        part = statements[mask]
        k = int(payload.get("parts", 2))
        if len(part) < 2 * k:
            return "split: too few statements to split"
        x = TfidfLsa(dims=50, seed=seed).fit_embed(part["text"].tolist())
        labels = KMeans(n_clusters=k, random_state=seed, n_init=4).fit_predict(x)
        if len(set(labels)) < 2:
            return "split: the statements did not separate"
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
        return None
    if op == "move":
        sid = payload["statement_id"]
        to = match_theme(themes, statements, payload.get("to_members", []))
        if to is None or not (statements["statement_id"] == sid).any():
            return "move: the statement or the target theme is no longer in the data"
        statements.loc[statements["statement_id"] == sid, "theme_id"] = to
        return None
    return f"unknown operation {op}"


def relabel(themes: dict[str, ThemeState], statements: pd.DataFrame, only: list[str] | None = None) -> None:
    """Keyphrase labels (c-TF-IDF against every theme) for `only` (default all); renamed themes keep their name."""
    ids = list(themes)
    texts = [statements.loc[statements["theme_id"] == t, "text"].tolist() for t in ids]
    questions = [statements.loc[statements["theme_id"] == t, "question"].tolist() for t in ids]
    keywords = ctfidf_keywords(texts)
    for tid, kw, qs in zip(ids, keywords, questions):
        if only is not None and tid not in only:
            continue
        th = themes[tid]
        th.keywords = kw
        th.description = make_description(kw, qs)
        if not th.renamed:
            th.label = make_label(kw, f"Theme {tid}")
