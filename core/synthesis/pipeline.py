"""The synthesis pipeline (no Streamlit): answers → statements → embeddings → themes → quotes → stored run.

    synthesize(db, [session_id, ...]) -> run id

- Units: every included participant answer with its question and guide step, split into statements.
- Embeddings: TF-IDF + LSA fitted per full run (its fitted state stored for updates), or a corpus-independent
  embedder whose vectors are cached by content hash.
- Full run: clustering with an automatic bounded k (see cluster.py), c-TF-IDF labels, then the codebook
  edits re-applied where they still fit.
- Update ("incremental"): when the previous run's statements are all still there and the new ones are at most
  `incremental_share` of them, only the new statements are embedded (with the previous run's fitted model) and
  assigned to the nearest theme; counts, sentiment and quotes are recomputed from the stored statements.
- Quotes: a statement is shown only if it is an exact substring of its stored message, checked before saving;
  failures are dropped and counted in the run's stats.
- Runs are stored with their input hash, mode, embedder, parameters and timings; earlier runs stay readable.

Project-level synthesis is the same call with the project's session ids and a `project:<id>` scope.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from core.db import Database
from core.repos import sessions as srepo
from core.repos import synthesis as repo
from core.synthesis import sentiment as senti
from core.synthesis.cluster import MAX_K, MIN_K, cluster
from core.synthesis.codebook import ThemeState, apply_edit, relabel
from core.synthesis.embed import FunctionEmbedder, TfidfLsa, blob_to_vector, embed_with_cache, vector_to_blob
from core.synthesis.summary import SummaryTheme, templated_summary
from core.synthesis.units import MIN_STATEMENT_WORDS, build_statements, is_verbatim

PIPELINE_VERSION = "offline-1"
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class Params:
    seed: int = 0
    k: int | None = None                 # None: automatic
    min_k: int = MIN_K
    max_k: int = MAX_K
    lsa_dims: int = 200
    quotes: int = 5                      # at most, per theme (3-5 when the theme has them)
    min_words: int = MIN_STATEMENT_WORDS
    incremental_share: float = 0.10
    include_simulated: bool = False

    def key(self) -> dict:
        d = asdict(self)
        d.pop("incremental_share")
        return d


def scope_for(session_ids: list[str]) -> str:
    ids = sorted(set(session_ids))
    if len(ids) == 1:
        return ids[0]
    return "sessions:" + hashlib.sha256(",".join(ids).encode()).hexdigest()[:16]


# --------------------------------------------------------------------------------------- inputs


@dataclass
class Inputs:
    session_ids: list[str]
    answers: pd.DataFrame          # answer + skip messages of analysed participants
    statements: pd.DataFrame
    participants: list[str]        # analysed participants (included, real, with at least one answer)
    finished: int
    input_hash: str
    language: str


def question_map(db: Database, session_ids: list[str]) -> dict[tuple[str, int, int], tuple[str, str | None]]:
    out = {}
    for sid in session_ids:
        for gv in srepo.list_guide_versions(db, sid):
            for i, step in enumerate(gv.steps):
                out[(sid, gv.version, i)] = (step.question, step.critical_item)
    return out


def _analysed_answers(db: Database, session_ids: list[str], params: Params) -> pd.DataFrame:
    frame = repo.answers_frame(db, session_ids)
    keep = frame["included"] & (params.include_simulated | ~frame["simulated"])
    return frame[keep]


def _hash_answers(frame: pd.DataFrame, params: Params, mode: str, embedder_name: str) -> str:
    """The input hash: what was said (answer ids and their text) and how it is analysed."""
    h = hashlib.sha256(json.dumps([PIPELINE_VERSION, mode, embedder_name, params.key()], sort_keys=True).encode())
    answers = frame[frame["kind"] == "answer"].sort_values("message_id")
    for mid, content in zip(answers["message_id"], answers["content"]):
        h.update(f"{mid}\x00{content}\x01".encode("utf-8"))
    return h.hexdigest()[:32]


def load_inputs(db: Database, session_ids: list[str], params: Params, mode: str = "offline",
                embedder_name: str = TfidfLsa.name, extractor=None) -> Inputs:
    """Answers of included (real) participants and their statements: split offline, or extracted by the model
    (`extractor(answers) -> statements frame`, cached per transcript)."""
    frame = _analysed_answers(db, session_ids, params)
    answers = frame[frame["kind"] == "answer"]
    questions = question_map(db, session_ids)
    if extractor is not None:
        statements = extractor(answers, questions)
    else:
        statements = build_statements(answers, questions, params.min_words)
    participants = sorted(answers["participant_id"].unique())
    finished = int(frame.loc[frame["participant_id"].isin(participants)].drop_duplicates("participant_id")["status"]
                   .eq("finished").sum())
    session = srepo.get_session(db, session_ids[0])
    return Inputs(session_ids, frame, statements, participants, finished,
                  _hash_answers(frame, params, mode, embedder_name), session.language if session else "en")


def current_input_hash(db: Database, session_ids: list[str], params: Params | None = None, mode: str = "offline",
                       embedder_name: str | None = None) -> str:
    """The input hash the next run would have (cheap: no splitting, no model call)."""
    params = params or Params()
    if embedder_name is None:
        from core.synthesis.embed import packaged_embedder

        packaged = packaged_embedder()
        embedder_name = packaged.name if packaged else TfidfLsa.name
    return _hash_answers(_analysed_answers(db, session_ids, params), params, mode, embedder_name)


# ------------------------------------------------------------------------------------ embedders

_models: OrderedDict[str, TfidfLsa] = OrderedDict()
_models_lock = threading.Lock()


def _load_fitted(db: Database, model_id: str) -> TfidfLsa | None:
    with _models_lock:
        if model_id in _models:
            _models.move_to_end(model_id)
            return _models[model_id]
    blob = repo.load_model(db, model_id)
    if blob is None:
        return None
    model = TfidfLsa.loads(blob)
    with _models_lock:
        _models[model_id] = model
        while len(_models) > 4:
            _models.popitem(last=False)
    return model


def _cached_embed(db: Database, embedder: FunctionEmbedder, statements: pd.DataFrame) -> tuple[np.ndarray, int]:
    return embed_with_cache(embedder, statements["content_hash"].tolist(), statements["text"].tolist(),
                            lambda key, hashes: repo.load_embeddings(db, key, hashes),
                            lambda key, vectors: repo.save_embeddings(db, key, vectors))


# ------------------------------------------------------------------------------------------- run


@dataclass
class RunOutcome:
    run_id: str
    kind: str
    embedded: int
    stats: dict = field(default_factory=dict)


class _Timer:
    def __init__(self):
        self.timings: dict[str, float] = {}
        self._t = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round(self.timings.get(name, 0.0) + now - self._t, 4)
        self._t = now


def synthesize(db: Database, session_ids: list[str], *, params: Params | None = None, mode: str = "offline",
               trigger: str = "manual", progress: Progress | None = None, embedder: FunctionEmbedder | None = None,
               allow_incremental: bool = True, scope: str | None = None, namer=None, extractor=None,
               summarizer=None, sentimenter=None) -> RunOutcome:
    """Run synthesis over the sessions and store the run; returns its id, kind and how many texts were embedded.

    `embedder`: a corpus-independent embedder (cached by content hash); default TF-IDF + LSA.
    Model-mode hooks (core.synthesis.model_mode): `namer(themes, statements)` rewrites labels and descriptions;
    `extractor(answers, questions)` returns statements (verbatim claim spans, cached per transcript);
    `summarizer(theme rows, statements, inputs, stats)` writes the summary from the theme table and quotes;
    `sentimenter(statements)` judges each statement's sentiment (a label or None per row, cached by content hash);
    where it gives None, or without it, the offline lexicon's label stays. The run's stats say which was used.
    """
    params = params or Params()
    scope = scope or scope_for(session_ids)
    step = progress or (lambda _f, _m: None)
    if embedder is None:
        from core.synthesis.embed import packaged_embedder

        embedder = packaged_embedder()
    timer = _Timer()
    embedder_name = embedder.name if embedder else TfidfLsa.name
    step(0.02, "Reading answers" + (" and extracting claims with the model (cached per participant)"
                                    if extractor is not None else ""))
    inputs = load_inputs(db, session_ids, params, mode, embedder_name, extractor)
    timer.lap("load")
    previous = repo.latest_run(db, scope)
    kind = "full"
    if allow_incremental and previous is not None and _can_update(db, previous, inputs, params, embedder_name, mode):
        kind = "incremental"
    run_id = repo.start_run(db, scope, list(session_ids), kind, mode, embedder_name,
                            {**params.key(), "incremental_share": params.incremental_share}, inputs.input_hash,
                            trigger, parent_run_id=previous.id if previous else None,
                            model=getattr(namer, "model", None), prompt_version=getattr(namer, "prompt_version", None))
    try:
        if kind == "incremental":
            themes, st, embedded, model_id, extra = _update(db, previous, inputs, embedder, step, timer)
        else:
            themes, st, embedded, model_id, extra = _full(db, scope, inputs, params, embedder, step, timer)
        if namer is not None and kind == "full":
            step(0.8, "Naming themes with the model")
            namer(themes, st)
            timer.lap("naming")
        step(0.85, "Checking quotes and counting")
        theme_rows, st, stats = _finalize(db, run_id, themes, st, inputs, params)
        stats.update(extra)
        stats["embedded"] = embedded
        for name in ("calls", "dropped", "fallbacks"):
            if hasattr(extractor, name):
                stats[f"extraction_{name}"] = getattr(extractor, name)
        timer.lap("finalize")
        summary = _summary(theme_rows, st, inputs, stats)
        if summarizer is not None:
            step(0.9, "Writing the summary with the model")
            summary = summarizer(theme_rows, st, inputs, stats) or summary
            timer.lap("summary")
        stats.update(_judge_sentiment(sentimenter, theme_rows, st, step))
        timer.lap("sentiment")
        step(0.95, "Saving")
        repo.finish_run(db, run_id, theme_rows, st.assign(run_id=run_id), summary=summary,
                        timings=timer.timings, stats=stats, model_id=model_id)
        if kind == "full" and model_id:
            repo.prune_models(db, scope)
    except Exception as exc:
        repo.fail_run(db, run_id, f"{type(exc).__name__}: {exc}")
        raise
    step(1.0, "Done")
    return RunOutcome(run_id, kind, embedded, stats)


def _can_update(db: Database, previous: repo.Run, inputs: Inputs, params: Params, embedder_name: str,
                mode: str) -> bool:
    """An update is enough when nothing the previous run used has changed and few statements are new."""
    if previous.embedder != embedder_name or previous.mode != mode or previous.input_hash == inputs.input_hash:
        return False
    if {k: v for k, v in previous.params.items() if k != "incremental_share"} != params.key():
        return False
    if embedder_name == TfidfLsa.name and not (previous.model_id and repo.model_exists(db, previous.model_id)):
        return False
    old = repo.statement_hashes(db, previous.id)
    if not old:
        return False
    current = dict(zip(inputs.statements["statement_id"], inputs.statements["content_hash"]))
    if any(current.get(sid) != h for sid, h in old.items()):
        return False  # a statement was removed or changed (exclusion, edit): recluster
    # measured from the last full clustering, so successive updates cannot drift far from it
    base = int(previous.stats.get("base_statements", len(old)))
    return len(current) > len(old) and len(current) - base <= max(1, params.incremental_share * base)


def _full(db, scope, inputs: Inputs, params: Params, embedder, step, timer):
    st = inputs.statements.copy()
    st["sentiment"] = [senti.label(t) for t in st["text"]]
    if st.empty:
        return {}, st.assign(theme_id=None, score=0.0), 0, None, {"k": 0, "k_reason": "no statements"}
    step(0.1, f"Embedding {len(st):,} statements")
    model_id = None
    if embedder is None:
        model = TfidfLsa(params.lsa_dims, params.seed)
        x = model.fit_embed(st["text"].tolist())
        embedded = len(st)
        timer.lap("embed")
        model_id = repo.save_model(db, model.name, model.dumps())
        with _models_lock:
            _models[model_id] = model
        embed_fn = model.embed
    else:
        x, embedded = _cached_embed(db, embedder, st)
        timer.lap("embed")
        embed_fn = embedder.embed
    step(0.35, "Finding themes")
    c = cluster(x, seed=params.seed, k=params.k, min_k=params.min_k, max_k=params.max_k)
    timer.lap("cluster")
    # themes numbered by size (distinct participants, then mentions), deterministic
    sizes = []
    for lab in range(c.k):
        mask = c.labels == lab
        sizes.append((-st.loc[mask, "participant_id"].nunique(), -int(mask.sum()), lab))
    order = {lab: i for i, (_, _, lab) in enumerate(sorted(sizes))}
    themes: dict[str, ThemeState] = {}
    st["theme_id"] = [f"T{order[lab] + 1}" for lab in c.labels]
    st["score"] = 0.0
    for lab in range(c.k):
        tid = f"T{order[lab] + 1}"
        mask = c.labels == lab
        if not mask.any():
            continue
        centroid = x[mask].mean(axis=0)
        centroid = centroid / (np.linalg.norm(centroid) or 1.0)
        st.loc[mask, "score"] = x[mask] @ centroid
        themes[tid] = ThemeState(tid, tid, "", [], centroid)
    themes = dict(sorted(themes.items(), key=lambda kv: int(kv[0][1:])))
    step(0.6, "Labelling themes")
    relabel(themes, st)
    timer.lap("label")
    result = _apply_edits(db, scope, themes, st, embed_fn, params.seed)
    timer.lap("edits")
    return themes, st, embedded, model_id, {"k": c.k, "k_scores": {str(k): v for k, v in c.scores.items()},
                                            "k_reason": c.reason, "base_statements": int(len(st)), **result}


def _apply_edits(db, scope, themes, st, embed_fn, seed) -> dict:
    applied, skipped = [], []
    for e in repo.list_edits(db, scope):
        why = apply_edit(e.op, e.payload, themes, st, embed_fn, seed)
        (skipped if why else applied).append(why or f"{e.op} #{e.seq}")
    return {"edits_applied": applied, "edits_skipped": skipped}


def _update(db, previous: repo.Run, inputs: Inputs, embedder, step, timer):
    old = repo.statements_frame(db, previous.id)
    theme_frame = repo.themes_frame(db, previous.id)
    timer.lap("load_previous")
    st = inputs.statements
    old_ids = set(old["statement_id"].tolist())
    new = st[[sid not in old_ids for sid in st["statement_id"].tolist()]].copy()
    step(0.2, f"Embedding {len(new):,} new statement(s)")
    if embedder is None:
        model = _load_fitted(db, previous.model_id)
        x = model.embed(new["text"].tolist())
        embedded = len(new)
    else:
        x, embedded = _cached_embed(db, embedder, new)
    timer.lap("embed")
    themes: dict[str, ThemeState] = {}
    for r in theme_frame.itertuples(index=False):
        centroid = blob_to_vector(bytes(r.centroid)) if r.centroid is not None else None
        themes[r.theme_id] = ThemeState(r.theme_id, r.label, r.description, json.loads(r.keywords), centroid, r.origin)
    with_centroid = [t for t in themes.values() if t.centroid is not None]
    new["sentiment"] = [senti.label(t) for t in new["text"]]
    if with_centroid and len(new):
        cents = np.vstack([t.centroid for t in with_centroid])
        sims = x @ cents.T
        best = sims.argmax(axis=1)
        new["theme_id"] = [with_centroid[i].theme_id for i in best]
        new["score"] = sims[np.arange(len(new)), best]
    else:
        new["theme_id"], new["score"] = None, 0.0
    current_ids = set(st["statement_id"].tolist())
    keep_old = old[[sid in current_ids for sid in old["statement_id"].tolist()]]
    merged = pd.concat([keep_old, new[keep_old.columns]], ignore_index=True)
    timer.lap("assign")
    extra = {"k": len(themes), "k_reason": previous.stats.get("k_reason", ""), "updated_from": previous.id,
             "new_statements": len(new), "base_statements": int(previous.stats.get("base_statements", len(old)))}
    return themes, merged, embedded, previous.model_id, extra


def _finalize(db, run_id, themes: dict[str, ThemeState], st: pd.DataFrame, inputs: Inputs, params: Params):
    """Counts, sentiment and verified quotes per theme; returns (themes frame, statements, stats)."""
    contents = dict(zip(inputs.answers["message_id"], inputs.answers["content"]))
    missing = [m for m in st["message_id"].unique() if m not in contents]
    if missing:
        contents.update(repo.message_contents(db, list(missing)))
    st = st.reset_index(drop=True)
    st["theme_id"] = st["theme_id"].astype(object).where(st["theme_id"].notna(), None)
    st["_ok"] = st["text"].str.count(r"\w+").between(5, 80)
    assigned = st[st["theme_id"].notna()]
    grouped = {tid: g for tid, g in assigned.groupby("theme_id", sort=False)}
    rows, dropped = [], 0
    for tid, th in themes.items():
        g = grouped.get(tid)
        if g is None or g.empty:
            continue
        quotes, d = _pick_quotes(g, contents, params.quotes)
        dropped += d
        sent = g["sentiment"].value_counts().to_dict()
        rows.append({"theme_id": tid, "label": th.label, "description": th.description,
                     "keywords": json.dumps(th.keywords), "participants": int(g["participant_id"].nunique()),
                     "mentions": int(len(g)),
                     "sentiment": json.dumps({k: int(sent.get(k, 0)) for k in ("positive", "neutral", "negative")}),
                     "quotes": json.dumps(quotes),
                     "centroid": vector_to_blob(th.centroid) if th.centroid is not None else None,
                     "origin": th.origin})
    rows.sort(key=lambda r: (-r["participants"], -r["mentions"], r["label"]))
    frame = pd.DataFrame(rows, columns=["theme_id", "label", "description", "keywords", "participants", "mentions",
                                        "sentiment", "quotes", "centroid", "origin"])
    frame.insert(1, "position", range(len(frame)))
    frame.insert(0, "run_id", run_id)
    st = st.drop(columns=["_ok"])
    st["score"] = st["score"].astype(float)
    answered = inputs.answers[inputs.answers["participant_id"].isin(inputs.participants)]
    by_session = answered.groupby("session_id")["participant_id"].nunique()
    stats = {"statements": int(len(st)), "assigned": int(len(assigned)), "participants": len(inputs.participants),
             "participants_by_session": {str(k): int(v) for k, v in by_session.items()},
             "finished": inputs.finished, "themes": int(len(frame)), "quotes_dropped": dropped,
             "answers": int((inputs.answers["kind"] == "answer").sum())}
    return frame, st, stats


SENTIMENT_LABELS = ("positive", "neutral", "negative")


def _judge_sentiment(sentimenter, theme_rows: pd.DataFrame, st: pd.DataFrame, step: Progress) -> dict:
    """Model-judged sentiment where the model gave a label, the lexicon's elsewhere (in place: statements and the
    themes' counts). Runs after the summary, so the model calls of earlier steps keep their order.
    Returns the stats saying which was used: sentiment = "lexicon", "model" or "model+lexicon"."""
    if sentimenter is None or st.empty:
        return {"sentiment": "lexicon"}
    step(0.92, "Judging sentiment with the model (cached per statement)")
    try:
        judged = list(sentimenter(st))
    except Exception:   # the hook falls back by itself; anything unexpected keeps the lexicon too
        judged = [None] * len(st)
    ok = [j in SENTIMENT_LABELS for j in judged] if len(judged) == len(st) else [False] * len(st)
    by_model = int(sum(ok))
    if by_model:
        st["sentiment"] = [j if good else old for j, good, old in zip(judged, ok, st["sentiment"])]
        counts = st[st["theme_id"].notna()].groupby(["theme_id", "sentiment"]).size()
        theme_rows["sentiment"] = [json.dumps({k: int(counts.get((tid, k), 0)) for k in SENTIMENT_LABELS})
                                   for tid in theme_rows["theme_id"]]
    source = "lexicon" if not by_model else "model" if by_model == len(st) else "model+lexicon"
    out = {"sentiment": source, "sentiment_model": by_model, "sentiment_lexicon": int(len(st) - by_model)}
    for name in ("calls", "failures", "cached"):
        if hasattr(sentimenter, name):
            out[f"sentiment_{name}"] = getattr(sentimenter, name)
    return out


def _pick_quotes(g: pd.DataFrame, contents: dict[str, str], n: int, at_least: int = 3) -> tuple[list[str], int]:
    """Up to n statements closest to the theme centre, one per participant, preferring 5-80 words and new
    wording (a repeated wording only to reach `at_least`); each verified verbatim against its stored message."""
    ranked = g.sort_values(["_ok", "score", "statement_id"], ascending=[False, False, True])
    cols = list(zip(*[ranked[c].tolist() for c in ("statement_id", "participant_id", "message_id", "text",
                                                    "start_pos")]))
    chosen, seen, texts, bad = [], set(), set(), set()
    for allow_repeats, limit in ((False, n), (True, min(n, at_least))):
        for sid, pid, mid, text, start in cols:
            if len(chosen) >= limit:
                break
            if pid in seen or sid in bad or (text in texts and not allow_repeats):
                continue
            if not is_verbatim(text, contents.get(mid), int(start)):
                bad.add(sid)
                continue
            chosen.append(sid)
            seen.add(pid)
            texts.add(text)
    return chosen, len(bad)


def _summary(theme_rows: pd.DataFrame, st: pd.DataFrame, inputs: Inputs, stats: dict) -> str:
    by_id = st.set_index("statement_id")
    items = []
    for r in theme_rows.itertuples(index=False):
        q = json.loads(r.quotes)
        text = by_id.loc[q[0], "text"] if q else None
        items.append(SummaryTheme(r.label, int(r.participants), int(r.mentions), text,
                                  f"Q{r.position + 1}.1" if q else None))
    return templated_summary(items, len(inputs.participants), inputs.finished, stats["statements"], inputs.language)


# ---------------------------------------------------------------------------------- codebook edits


def load_state(db: Database, run: repo.Run) -> tuple[dict[str, ThemeState], pd.DataFrame]:
    theme_frame = repo.themes_frame(db, run.id)
    themes = {}
    for r in theme_frame.itertuples(index=False):
        centroid = blob_to_vector(bytes(r.centroid)) if r.centroid is not None else None
        themes[r.theme_id] = ThemeState(r.theme_id, r.label, r.description, json.loads(r.keywords), centroid,
                                        r.origin)
    st = repo.statements_frame(db, run.id)
    st["theme_id"] = st["theme_id"].astype(object).where(st["theme_id"].notna(), None)
    return themes, st


def edit_codebook(db: Database, session_ids: list[str], op: str, args: dict, user_id: str | None,
                  scope: str | None = None) -> tuple[str, str | None]:
    """Apply a codebook edit to the latest run, store the edit (re-applied after every re-synthesis) and the
    edited result as a new run of kind "edit". Returns (run id, None) or (latest run id, why not applied)."""
    from core.synthesis.codebook import snapshot_payload

    scope = scope or scope_for(session_ids)
    run = repo.latest_run(db, scope)
    if run is None:
        raise ValueError("Run a synthesis first.")
    themes, st = load_state(db, run)
    for key in ("theme_id", "to_theme_id"):
        if key in args and args[key] not in themes:
            return run.id, "That theme is not in the current synthesis."
    if op == "merge" and (len(args.get("theme_ids", [])) < 2 or any(t not in themes for t in args["theme_ids"])):
        return run.id, "Choose at least two themes of the current synthesis to merge."
    payload = snapshot_payload(op, themes, st, **args)
    embed_fn = None
    if run.model_id:
        model = _load_fitted(db, run.model_id)
        embed_fn = model.embed if model else None
    params = Params(**{k: v for k, v in run.params.items() if k in Params.__dataclass_fields__})
    why = apply_edit(op, payload, themes, st, embed_fn, params.seed)
    if why:
        return run.id, why
    repo.add_edit(db, scope, op, payload, user_id)
    timer = _Timer()
    inputs = load_inputs(db, run.session_ids, params, run.mode, run.embedder)
    new_id = repo.start_run(db, scope, run.session_ids, "edit", run.mode, run.embedder, run.params, run.input_hash,
                            f"edit:{op}", parent_run_id=run.id, model=run.model, prompt_version=run.prompt_version)
    try:
        theme_rows, st, stats = _finalize(db, new_id, themes, st, inputs, params)
        stats.update({k: run.stats[k] for k in ("k", "k_scores", "k_reason", "base_statements", "sentiment",
                                                "sentiment_model", "sentiment_lexicon") if k in run.stats})
        stats.update({"embedded": 0, "edit": op})
        timer.lap("finalize")
        repo.finish_run(db, new_id, theme_rows, st.assign(run_id=new_id), summary=_summary(theme_rows, st, inputs,
                                                                                          stats),
                        timings=timer.timings, stats=stats, model_id=run.model_id)
    except Exception as exc:
        repo.fail_run(db, new_id, f"{type(exc).__name__}: {exc}")
        raise
    return new_id, None
