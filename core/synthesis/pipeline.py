"""The synthesis pipeline (no Streamlit): answers → statements → embeddings → themes → quotes → stored run.

    synthesize(db, [session_id, ...]) -> run id

- Units: every included participant answer with its question and guide step, split into statements (a sentence
  that continues the one before stays with it: units.continues_previous).
- Embeddings: the packaged sentence model (MiniLM, default) or another corpus-independent embedder whose
  vectors are cached by content hash, beside a TF-IDF + LSA of the run's own words (run_space); or TF-IDF + LSA
  alone when no model is installed or HARMONICA_EMBEDDER=tfidf (embed.py says why). The TF-IDF is fitted per full
  run and stored for updates. A statement unlike what others said is read with its answer (space.py).
- Features: only participants' words are embedded, cleaned of URLs, handles, entities, boilerplate and the words the
  facilitator's question put in their mouths (units.feature_texts); quotes and labels stay verbatim.
- Full run: a Ward tree cut at 4-12 themes (automatic, see cluster.py) with an honest "Other", sub-themes under large
  themes and a bootstrap stability per theme; labels in participants' own words from the most central statements
  (labels.py), quotes the most central statements of different participants (the label's statement first); then
  the codebook edits replayed, mapped by statement membership (an update tries the pending ones again); an edit
  that no longer fits stays stored as pending with why, never dropped (codebook.py).
- Update ("incremental"): when the previous run's statements are all still there and the new ones are at most
  `incremental_share` of them, only the new statements are embedded (with the previous run's fitted model) and
  assigned to the nearest theme (or to Other, below the full run's threshold; no sub-theme); counts, sentiment and
  quotes are recomputed from the stored statements.
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
from core.synthesis.codebook import ThemeState, apply_edit, replay_edit
from core.synthesis.embed import FunctionEmbedder, TfidfLsa, blob_to_vector, embedder_note, vector_to_blob
from core.synthesis.labels import describe_themes, theme_labels
from core.synthesis.models import EXTRACT, NAME, SENTIMENT, SUMMARY, OfflineSynthesis, SynthesisModel
from core.synthesis.space import LEXICAL_DIMS, LEXICAL_WEIGHT, placed, run_space
from core.synthesis.summary import SummaryTheme, templated_summary
from core.synthesis.theme_names import label_in_use, unique_labels
from core.synthesis.units import MIN_STATEMENT_WORDS, Features, clean_text, feature_texts, is_verbatim

PIPELINE_VERSION = "offline-4"      # 2: cleaned features, Ward themes with Other, sub-themes, phrase labels;
                                    # 3: continuing sentences join their statement, vectors carry their answer
                                    #    and the run's own words (space.py); 4: unstable themes dissolve
OTHER_ID = "other"                  # the theme of statements that fit no theme
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
    # (session id, step) -> the facilitator's wording there (guide question, probe, questions and probes as asked)
    prompts: dict[tuple[str, int], list[str]] = field(default_factory=dict)


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


def _hash_prefix(params: Params, mode: str, embedder_name: str) -> str:
    return json.dumps([PIPELINE_VERSION, mode, embedder_name, params.key()], sort_keys=True)


def _hash_answers(frame: pd.DataFrame, params: Params, mode: str, embedder_name: str) -> str:
    """The input hash: what was said (answer ids and their text) and how it is analysed. `current_input_hash`
    computes the same bytes in DuckDB (core.repos.analytics.answers_digest)."""
    h = hashlib.sha256(_hash_prefix(params, mode, embedder_name).encode())
    answers = frame[frame["kind"] == "answer"].sort_values("message_id")
    for mid, content in zip(answers["message_id"], answers["content"]):
        h.update(f"{mid}\x00{content}\x01".encode("utf-8"))
    return h.hexdigest()[:32]


def load_inputs(db: Database, session_ids: list[str], params: Params, mode: str = "offline",
                embedder_name: str = TfidfLsa.name, model: SynthesisModel | None = None) -> Inputs:
    """Answers of included (real) participants and their statements, from `model.extract`: split offline (the
    default), or extracted by the model (cached per transcript)."""
    frame = _analysed_answers(db, session_ids, params)
    answers = frame[frame["kind"] == "answer"]
    questions = question_map(db, session_ids)
    statements = (model or OfflineSynthesis()).extract(answers, questions, params.min_words)
    participants = sorted(answers["participant_id"].unique())
    finished = int(frame.loc[frame["participant_id"].isin(participants)].drop_duplicates("participant_id")["status"]
                   .eq("finished").sum())
    session = srepo.get_session(db, session_ids[0])
    return Inputs(session_ids, frame, statements, participants, finished,
                  _hash_answers(frame, params, mode, embedder_name), session.language if session else "en",
                  prompt_map(db, session_ids))


def prompt_map(db: Database, session_ids: list[str]) -> dict[tuple[str, int], list[str]]:
    """(session id, step) -> the facilitator's wording at that step: every guide version's question, probe and
    critical item, and the questions and probes as they were asked. Context for the statements, never a feature."""
    out: dict[tuple[str, int], list[str]] = {}
    for sid in session_ids:
        for gv in srepo.list_guide_versions(db, sid):
            for i, step in enumerate(gv.steps):
                out.setdefault((sid, i), []).extend(t for t in (step.question, step.probe, step.critical_item) if t)
    for r in repo.prompts_frame(db, session_ids).itertuples(index=False):
        out.setdefault((r.session_id, int(r.step)), []).append(r.content)
    return out


def current_input_hash(db: Database, session_ids: list[str], params: Params | None = None, mode: str = "offline",
                       embedder_name: str | None = None) -> str:
    """The input hash the next run would have (cheap: no splitting, no model call, no DataFrame: the answers are
    hashed in one DuckDB pass, so the results page can ask on every rerun at 200,000 answers)."""
    from core.repos.analytics import answers_digest

    params = params or Params()
    if embedder_name is None:
        from core.synthesis.embed import packaged_embedder

        packaged = packaged_embedder()
        embedder_name = packaged.name if packaged else TfidfLsa.name
    return answers_digest(db, session_ids, _hash_prefix(params, mode, embedder_name), params.include_simulated)[:32]


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


def synthesize(db: Database, session_ids: list[str], *, params: Params | None = None,
               trigger: str = "manual", progress: Progress | None = None, embedder: FunctionEmbedder | None = None,
               allow_incremental: bool = True, scope: str | None = None,
               model: SynthesisModel | None = None) -> RunOutcome:
    """Run synthesis over the sessions and store the run; returns its id, kind and how many texts were embedded.

    `embedder`: a corpus-independent embedder (cached by content hash); default the model's own (the endpoint's,
    when asked for), else the packaged sentence model (embed.packaged_embedder: MiniLM), TF-IDF + LSA when it is
    unavailable or HARMONICA_EMBEDDER=tfidf.
    `model` (models.synthesis_model; None: offline) extracts the statements, names the themes of a full run,
    writes the summary from the theme table and quotes, and judges each statement's sentiment (where it gives no
    label the offline lexicon's stays); the run is started in its mode, and stored as offline when nothing in it
    came from the model. The run's stats say which was used.
    """
    model = model or OfflineSynthesis()
    mode = model.mode
    params = params or Params()
    scope = scope or scope_for(session_ids)
    step = progress or (lambda _f, _m: None)
    if embedder is None:
        embedder = model.embedder
    if embedder is None:
        from core.synthesis.embed import packaged_embedder

        embedder = packaged_embedder()
    timer = _Timer()
    embedder_name = embedder.name if embedder else TfidfLsa.name
    step(0.02, "Reading answers" + (" and extracting claims with the model (cached per participant)"
                                    if EXTRACT in model.steps else ""))
    inputs = load_inputs(db, session_ids, params, mode, embedder_name, model)
    timer.lap("load")
    previous = repo.latest_run(db, scope)
    kind = "full"
    if allow_incremental and previous is not None and _can_update(db, previous, inputs, params, embedder_name, mode):
        kind = "incremental"
    run_id = repo.start_run(db, scope, list(session_ids), kind, mode, embedder_name,
                            {**params.key(), "incremental_share": params.incremental_share}, inputs.input_hash,
                            trigger, parent_run_id=previous.id if previous else None,
                            model=model.model, prompt_version=model.prompt_version)
    try:
        if kind == "incremental":
            themes, st, embedded, model_id, extra = _update(db, previous, inputs, embedder, step, timer)
        else:
            themes, st, embedded, model_id, extra = _full(db, scope, inputs, params, embedder, step, timer)
        if NAME in model.steps and kind == "full":     # an update keeps the names its themes have
            step(0.8, "Naming themes with the model")
            model.name_themes(themes, st)
            timer.lap("naming")
        step(0.85, "Checking quotes and counting")
        theme_rows, st, stats = _finalize(db, run_id, themes, st, inputs, params, _banned(extra))
        stats.update(extra)
        stats["embedded"] = embedded
        stats["embedder_note"] = embedder_note(embedder)   # which embedder, and why when it is the fallback
        if embedder is not None:
            stats["embedder_note"] += (f" Beside it, the run's own words (TF-IDF + LSA, weight {LEXICAL_WEIGHT}): "
                                       "it tells apart topics the model reads as alike.")
        stats.update({f"extraction_{name}": n for name, n in model.extraction_stats().items()})
        timer.lap("finalize")
        summary = _summary(theme_rows, st, inputs, stats)
        if SUMMARY in model.steps:
            step(0.9, "Writing the summary with the model")
            summary = model.summarize(theme_rows, st, inputs, stats) or summary
            timer.lap("summary")
        stats.update(_judge_sentiment(model, theme_rows, st, step))
        timer.lap("sentiment")
        # how much came from the model; none at all: stored as offline, and said so
        mode = model.account(stats, named=kind == "full", inherited=previous.stats if kind == "incremental" else None)
        if stats.get("model_note"):
            summary = f"{summary}\n\n{stats['model_note']}"
        if mode != model.mode:
            repo.relabel_run(db, run_id, mode, _hash_answers(inputs.answers, params, mode, embedder_name))
        step(0.95, "Saving")
        repo.finish_run(db, run_id, theme_rows, st.assign(run_id=run_id), summary=summary,
                        timings=timer.timings, stats=stats, model_id=model_id)
        if kind == "full" and model_id:
            repo.prune_models(db, scope)
    except Exception as exc:
        repo.fail_run(db, run_id, f"{type(exc).__name__}: {exc}")
        raise
    _record_edit_statuses(db, scope, run_id, stats)
    step(1.0, "Done")
    return RunOutcome(run_id, kind, embedded, stats)


def _can_update(db: Database, previous: repo.Run, inputs: Inputs, params: Params, embedder_name: str,
                mode: str) -> bool:
    """An update is enough when nothing the previous run used has changed and few statements are new."""
    if previous.embedder != embedder_name or previous.mode != mode or previous.input_hash == inputs.input_hash:
        return False
    if {k: v for k, v in previous.params.items() if k != "incremental_share"} != params.key():
        return False
    if previous.stats.get("pipeline") != PIPELINE_VERSION:
        return False      # its vectors live in another space: cluster again
    if not (previous.model_id and repo.model_exists(db, previous.model_id)):
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


def _features(st: pd.DataFrame, inputs: Inputs, previous: dict | None = None) -> Features:
    """What is embedded for each statement (units.feature_texts); an update reuses its full run's choices."""
    if previous and "feature_dominant" in previous:
        echo = {(k.split("\x1f")[0], int(k.split("\x1f")[1])): set(v)
                for k, v in previous.get("feature_echo", {}).items()}
        return feature_texts(st, inputs.prompts, set(previous["feature_dominant"]), echo)
    return feature_texts(st, inputs.prompts)


def _feature_stats(f: Features) -> dict:
    return {"feature_dominant": sorted(f.dominant),
            "feature_echo": {f"{k[0]}\x1f{k[1]}": sorted(v) for k, v in sorted(f.echo.items())},
            "unclustered": int(sum(1 for t in f.texts if not t))}


def _full(db, scope, inputs: Inputs, params: Params, embedder, step, timer):
    st = inputs.statements.copy()
    st["sentiment"] = [senti.label(t) for t in st["text"]]
    if st.empty:
        return {}, st.assign(theme_id=None, score=0.0, subtheme_id=None), 0, None, {"k": 0,
                                                                                   "k_reason": "no statements"}
    feats = _features(st, inputs)
    usable = np.array([bool(t) for t in feats.texts])
    texts = [t for t, ok in zip(feats.texts, usable) if ok]
    st["theme_id"], st["score"], st["subtheme_id"] = None, 0.0, None
    extra = {**_feature_stats(feats), "base_statements": int(len(st))}
    step(0.1, f"Embedding {len(texts):,} statements")
    if not texts:
        return {}, st, 0, None, {"k": 0, "k_reason": "no statement with words to analyse", **extra}
    # TF-IDF is fitted on every run: the whole space without the sentence model, its lexical part with it
    model = TfidfLsa(params.lsa_dims if embedder is None else LEXICAL_DIMS, params.seed).fit(texts)
    model_id = repo.save_model(db, model.name, model.dumps())
    with _models_lock:
        _models[model_id] = model
    space = run_space(db, embedder, model)
    x, embedded = placed(db, embedder, model, texts, st["message_id"][usable].tolist())
    timer.lap("embed")
    step(0.35, "Finding themes")
    c = cluster(x, seed=params.seed, k=params.k, min_k=params.min_k, max_k=params.max_k)
    timer.lap("cluster")
    rows = np.flatnonzero(usable)
    sub = st.iloc[rows]
    # themes numbered by size (distinct participants, then mentions, then the tree's order): deterministic
    sizes = sorted((-sub.loc[c.labels == lab, "participant_id"].nunique(), -int((c.labels == lab).sum()), lab)
                   for lab in range(c.k))
    tid_of = {lab: f"T{i + 1}" for i, (_, _, lab) in enumerate(sizes)}
    tid_of[-1] = OTHER_ID
    theme_col = st.columns.get_loc("theme_id")
    st.iloc[rows, theme_col] = [tid_of[int(v)] for v in c.labels]
    st.iloc[rows, st.columns.get_loc("score")] = c.similarity.astype(float)
    subs = c.sub_labels if c.sub_labels is not None else np.full(len(rows), -1)
    st.iloc[rows, st.columns.get_loc("subtheme_id")] = [f"{tid_of[int(t)]}.s{int(j) + 1}" if j >= 0 and t >= 0
                                                        else None for t, j in zip(c.labels, subs)]
    themes: dict[str, ThemeState] = {}
    for _, _, lab in sizes:
        tid = tid_of[lab]
        stab = c.stability[lab] if lab < len(c.stability) else None
        themes[tid] = ThemeState(tid, tid, "", [], c.centroids[lab].astype(np.float32), stability=stab)
    if c.other:
        themes[OTHER_ID] = ThemeState(OTHER_ID, "Other", OTHER_DESCRIPTION, [], None, "other")
    step(0.6, "Labelling themes")
    _label(themes, st, feats.banned)
    timer.lap("label")
    result = _apply_edits(db, scope, themes, st, lambda t: space(t)[0], params.seed)
    timer.lap("edits")
    return themes, st, embedded, model_id, {
        "pipeline": PIPELINE_VERSION, "k": c.k, "k_scores": {str(k): v for k, v in c.scores.items()},
        "k_reason": c.reason,
        "k_range": [params.min_k, params.max_k], "other": c.other, "other_threshold": c.other_threshold,
        "stability": {tid_of[lab]: c.stability[lab] for lab in range(min(c.k, len(c.stability)))},
        **extra, **result}


OTHER_DESCRIPTION = ("Statements that fit no theme: each is far from every theme's centre (or was in a theme too "
                     "small or too loose to stand). Read them: a point raised by few people can matter.")


def _label(themes: dict[str, ThemeState], st: pd.DataFrame, banned: set[str]) -> None:
    """Labels in participants' words, keyphrases and descriptions of the clustered themes (renamed ones keep their
    name; "Other" keeps its own)."""
    ids = [t for t in themes if themes[t].origin != "other"]
    for tid, d in describe_themes(st, ids, banned).items():
        th = themes[tid]
        th.keywords, th.description = d.keywords, d.description
        if not th.renamed:
            th.label = d.label or (d.keywords[0][:1].upper() + d.keywords[0][1:] if d.keywords else f"Theme {tid}")


def _apply_edits(db, scope, themes, st, embed_fn, seed, only_pending: bool = False) -> dict:
    """Replay the scope's edits (all but discarded ones, in order) on freshly built themes, each mapped to them by
    statement membership (core.synthesis.codebook). Returns run stats: what was applied, what was not and why, and
    each edit's outcome by id (`edit_status`: [applied | pending, note, candidate theme ids]), which
    `_record_edit_statuses` stores once the run is saved. Nothing is discarded here.

    `only_pending`: an update keeps the previous run's themes, so the edits applied there stay applied as they are;
    only the pending ones are tried again."""
    applied, skipped, status = [], [], {}
    universes: dict[str | None, set[str] | None] = {None: None}
    for e in repo.list_edits(db, scope, include_discarded=False):
        if only_pending and e.status != "pending":
            status[e.id] = ["applied", e.note if e.status == "applied" else "", []]
            applied.append(f"{e.op} #{e.seq}")
            continue
        base = e.payload.get("base_run")
        if base not in universes:   # compare only statements both runs have (see codebook.py)
            universes[base] = set(repo.statement_hashes(db, base)) or None
        out = replay_edit(e.op, e.payload, themes, st, embed_fn, seed, universes[base])
        status[e.id] = [out.status, out.note, out.candidates]
        (applied if out.applied else skipped).append(f"{e.op} #{e.seq}" if out.applied else f"#{e.seq}: {out.note}")
    return {"edits_applied": applied, "edits_skipped": skipped, "edit_status": status}


def _record_edit_statuses(db: Database, scope: str, run_id: str, stats: dict) -> None:
    """Store each edit's outcome in this (saved) run: applied or pending with why. A discarded edit, or one a
    person changed after the run started, keeps what they chose."""
    outcomes = stats.get("edit_status")
    if not outcomes:
        return
    run = repo.get_run(db, run_id)
    repo.record_edit_statuses(db, scope, run_id, {k: (v[0], v[1], v[2]) for k, v in outcomes.items()},
                              run.created_at)


def _update(db, previous: repo.Run, inputs: Inputs, embedder, step, timer):
    old = repo.statements_frame(db, previous.id)
    theme_frame = repo.themes_frame(db, previous.id)
    timer.lap("load_previous")
    st = inputs.statements
    old_ids = set(old["statement_id"].tolist())
    new = st[[sid not in old_ids for sid in st["statement_id"].tolist()]].copy()
    step(0.2, f"Embedding {len(new):,} new statement(s)")
    feats = _features(new, inputs, previous.stats)      # cleaned as the full run cleaned its statements
    ok = np.array([bool(t) for t in feats.texts], dtype=bool)
    texts = [t for t, good in zip(feats.texts, ok) if good]
    model = _load_fitted(db, previous.model_id)
    space = run_space(db, embedder, model)
    x, embedded = (placed(db, embedder, model, texts, new["message_id"][ok].tolist()) if texts
                   else (np.zeros((0, 1), np.float32), 0))
    timer.lap("embed")
    themes: dict[str, ThemeState] = {}
    for r in theme_frame.itertuples(index=False):
        centroid = _centroid(r.centroid)
        themes[r.theme_id] = ThemeState(r.theme_id, r.label, r.description, json.loads(r.keywords), centroid, r.origin,
                                        stability=_stability_value(getattr(r, "stability", None)))
    with_centroid = [t for t in themes.values() if t.centroid is not None and t.origin != "other"]
    new["sentiment"] = [senti.label(t) for t in new["text"]]
    new["theme_id"], new["score"], new["subtheme_id"] = None, 0.0, None
    if with_centroid and len(texts):
        cents = np.vstack([t.centroid for t in with_centroid])
        sims = x @ cents.T
        best = sims.argmax(axis=1)
        top = sims[np.arange(len(texts)), best]
        ids = [with_centroid[i].theme_id for i in best]
        limit = previous.stats.get("other_threshold")
        if limit is not None and (top < limit).any():     # far from every theme: Other, as in the full run
            ids = [OTHER_ID if v < limit else t for t, v in zip(ids, top)]
            themes.setdefault(OTHER_ID, ThemeState(OTHER_ID, "Other", OTHER_DESCRIPTION, [], None, "other"))
        new.loc[new.index[ok], "theme_id"] = ids
        new.loc[new.index[ok], "score"] = top.astype(float)
    current_ids = set(st["statement_id"].tolist())
    keep_old = old[[sid in current_ids for sid in old["statement_id"].tolist()]]
    merged = pd.concat([keep_old, new[keep_old.columns]], ignore_index=True)
    timer.lap("assign")
    # the previous run's themes carry the edits applied there; pending ones are tried again on them
    seed = int(previous.params.get("seed", 0))
    edits = _apply_edits(db, previous.scope, themes, merged, lambda t: space(t)[0], seed, only_pending=True)
    timer.lap("edits")
    extra = {"pipeline": PIPELINE_VERSION, "k": len(themes), "k_reason": previous.stats.get("k_reason", ""),
             "updated_from": previous.id,
             "new_statements": len(new), "base_statements": int(previous.stats.get("base_statements", len(old))),
             **{k: previous.stats[k] for k in ("k_scores", "k_range", "other_threshold", "stability",
                                               "feature_dominant", "feature_echo") if k in previous.stats},
             "unclustered": int(previous.stats.get("unclustered", 0)) + int((~ok).sum()), **edits}
    return themes, merged, embedded, previous.model_id, extra


def _banned(stats: dict) -> set[str] | None:
    """The stems a run's feature cleaning dropped (from its stats), or None when the run does not say."""
    if "feature_dominant" not in stats:
        return None
    out = set(stats["feature_dominant"])
    for words in stats.get("feature_echo", {}).values():
        out |= set(words)
    return out


def _finalize(db, run_id, themes: dict[str, ThemeState], st: pd.DataFrame, inputs: Inputs, params: Params,
              banned: set[str] | None = None):
    """Counts, sentiment and verified quotes per theme; returns (themes frame, statements, stats). `banned`: stems
    never to name a sub-theme (the run's dropped words; measured again when not given)."""
    contents = dict(zip(inputs.answers["message_id"], inputs.answers["content"]))
    missing = [m for m in st["message_id"].unique() if m not in contents]
    if missing:
        contents.update(repo.message_contents(db, list(missing)))
    st = st.reset_index(drop=True)
    st["theme_id"] = st["theme_id"].astype(object).where(st["theme_id"].notna(), None)
    st["_ok"] = st["text"].str.count(r"\w+").between(5, 80)
    if "subtheme_id" not in st.columns:
        st["subtheme_id"] = None
    st["subtheme_id"] = st["subtheme_id"].astype(object).where(st["subtheme_id"].notna(), None)
    assigned = st[st["theme_id"].notna()]
    grouped = {tid: g for tid, g in assigned.groupby("theme_id", sort=False)}
    rows, dropped = [], 0
    # words the facilitator put in participants' mouths never name a sub-theme either
    if banned is None:
        banned = feature_texts(st, inputs.prompts).banned if st["subtheme_id"].notna().any() else set()
    for tid, th in themes.items():
        g = grouped.get(tid)
        if g is None or g.empty:
            continue
        if th.origin == "other" and not th.renamed:
            th.label, th.description = "Other", OTHER_DESCRIPTION
        lead = None if th.origin == "other" else th.label
        quotes, d = _pick_quotes(g, contents, params.quotes, lead=lead)
        dropped += d
        subthemes, d = _subthemes(g, contents, th, banned) if th.origin != "other" else ([], 0)
        dropped += d
        sent = g["sentiment"].value_counts().to_dict()
        rows.append({"theme_id": tid, "label": th.label, "description": th.description,
                     "keywords": json.dumps(th.keywords), "participants": int(g["participant_id"].nunique()),
                     "mentions": int(len(g)),
                     "sentiment": json.dumps({k: int(sent.get(k, 0)) for k in ("positive", "neutral", "negative")}),
                     "quotes": json.dumps(quotes),
                     "centroid": vector_to_blob(th.centroid) if th.centroid is not None else None,
                     "origin": th.origin, "stability": _stability_value(th.stability),
                     "subthemes": json.dumps(subthemes)})
    # by distinct participants, then mentions, then the clustering's order (so renaming never reorders); "Other" last
    rows.sort(key=lambda r: (r["origin"] == "other", -r["participants"], -r["mentions"]))
    # labels are unique within a run (theme_names.py): a name a person gave wins, a repeated one gets " (2)"
    order = sorted(range(len(rows)), key=lambda i: not themes[rows[i]["theme_id"]].renamed)
    for i, label in zip(order, unique_labels([rows[i]["label"] for i in order])):
        rows[i]["label"] = label
    frame = pd.DataFrame(rows, columns=["theme_id", "label", "description", "keywords", "participants", "mentions",
                                        "sentiment", "quotes", "centroid", "origin", "stability", "subthemes"])
    frame["stability"] = frame["stability"].astype(float)
    frame.insert(1, "position", range(len(frame)))
    frame.insert(0, "run_id", run_id)
    st = st.drop(columns=["_ok"])
    st["score"] = st["score"].astype(float)
    answered = inputs.answers[inputs.answers["participant_id"].isin(inputs.participants)]
    by_session = answered.groupby("session_id")["participant_id"].nunique()
    stats = {"statements": int(len(st)), "assigned": int(len(assigned)), "participants": len(inputs.participants),
             "participants_by_session": {str(k): int(v) for k, v in by_session.items()},
             "finished": inputs.finished, "themes": int(len(frame)), "quotes_dropped": dropped,
             "in_other": int((st["theme_id"] == OTHER_ID).sum()),
             "answers": int((inputs.answers["kind"] == "answer").sum())}
    return frame, st, stats


SENTIMENT_LABELS = ("positive", "neutral", "negative")


def _judge_sentiment(model: SynthesisModel, theme_rows: pd.DataFrame, st: pd.DataFrame, step: Progress) -> dict:
    """Model-judged sentiment where the model gave a label, the lexicon's elsewhere (in place: statements and the
    themes' counts). Runs after the summary, so the model calls of earlier steps keep their order.
    Returns the stats saying which was used: sentiment = "lexicon", "model" or "model+lexicon"."""
    if SENTIMENT not in model.steps or st.empty:
        return {"sentiment": "lexicon"}
    step(0.92, "Judging sentiment with the model (cached per statement)")
    try:
        judged = list(model.judge_sentiment(st))
    except Exception:   # the model falls back by itself; anything unexpected keeps the lexicon too
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
    out.update({f"sentiment_{name}": n for name, n in model.sentiment_stats().items()})
    return out


def _pick_quotes(g: pd.DataFrame, contents: dict[str, str], n: int, at_least: int = 3,
                 lead: str | None = None) -> tuple[list[str], int]:
    """Up to n statements closest to the theme centre, one per participant, preferring 5-80 words and new
    wording (a repeated wording only to reach `at_least`); each verified verbatim against its stored message.
    `lead`: the theme's label; the most central statement that says it comes first, so the label reads in its
    quotes."""
    ranked = g.sort_values(["_ok", "score", "statement_id"], ascending=[False, False, True])
    if lead:
        key = " ".join(lead.split()).casefold()
        says = ranked["text"].str.casefold().str.contains(key, regex=False)
        if not says.any():     # the label was taken from cleaned text (an entity or a link removed in between)
            says = ranked["text"].map(lambda t: key in " ".join(clean_text(t).split()).casefold())
        if says.any():
            first = ranked[says].sort_values(["score", "statement_id"], ascending=[False, True]).head(1)
            ranked = pd.concat([first, ranked.drop(index=first.index)])
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


def _centroid(blob) -> np.ndarray | None:
    """A stored theme centre, or None (the "Other" theme has none; DuckDB gives a missing one as NA)."""
    return blob_to_vector(bytes(blob)) if isinstance(blob, (bytes, bytearray, memoryview)) else None


def _stability_value(value) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return None if np.isnan(v) else round(v, 3)


SUB_MIN_STATEMENTS = 3


def _subthemes(g: pd.DataFrame, contents: dict[str, str], th: ThemeState, banned: set[str]) -> tuple[list[dict], int]:
    """The sub-themes of one theme, from its statements' `subtheme_id` (cluster.py's second level): each with at
    least SUB_MIN_STATEMENTS statements, two at least or none; labelled against each other in participants' words
    (never the theme's own label), counted, with up to 3 verified quotes. Returns (sub-themes, quotes dropped)."""
    parts = [(sid, p) for sid, p in g.groupby("subtheme_id", sort=True) if len(p) >= SUB_MIN_STATEMENTS]
    if len(parts) < 2:
        return [], 0
    parts.sort(key=lambda kv: (-kv[1]["participant_id"].nunique(), -len(kv[1]), kv[0]))
    labels = theme_labels([[clean_text(t) for t in p["text"]] for _, p in parts],
                          [p["score"].astype(float).tolist() for _, p in parts], banned, avoid={th.label.lower()})
    out, dropped = [], 0
    for (sid, p), lab in zip(parts, labels):
        quotes, d = _pick_quotes(p, contents, 3, at_least=1, lead=lab.text if lab else None)
        dropped += d
        name = lab.text if lab else (_short_statement(p, banned) or f"{th.label} ({len(out) + 1})")
        out.append({"id": str(sid), "label": name,
                    "participants": int(p["participant_id"].nunique()), "mentions": int(len(p)), "quotes": quotes})
    return out, dropped


def _short_statement(g: pd.DataFrame, banned: set[str], words: int = 7) -> str | None:
    """The most central statement of a group without a banned word, cleaned and cut to `words` words: a label when
    no phrase is found (None when every statement has a banned word)."""
    from core.synthesis.units import _stems

    for text in g.sort_values(["score", "statement_id"], ascending=[False, True])["text"]:
        text = clean_text(text)
        found = _stems(text)
        if not found or found & banned:
            continue
        cut = text.split()[:words]
        label = " ".join(cut).rstrip(".,;:!?…") + ("…" if len(text.split()) > words else "")
        return label[:1].upper() + label[1:]
    return None


def _summary(theme_rows: pd.DataFrame, st: pd.DataFrame, inputs: Inputs, stats: dict) -> str:
    by_id = st.set_index("statement_id")
    items = []
    for r in theme_rows.itertuples(index=False):
        if getattr(r, "origin", "") == "other":
            continue          # the summary tells themes; "Other" is listed on the page, not summarised
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
        centroid = _centroid(r.centroid)
        themes[r.theme_id] = ThemeState(r.theme_id, r.label, r.description, json.loads(r.keywords), centroid,
                                        r.origin, stability=_stability_value(getattr(r, "stability", None)))
    st = repo.statements_frame(db, run.id)
    st["theme_id"] = st["theme_id"].astype(object).where(st["theme_id"].notna(), None)
    return themes, st


def _run_embedder(db: Database, run: repo.Run) -> Callable[[list[str]], np.ndarray] | None:
    """Vectors in the run's space (run_space), so a split theme's centre can take new statements in later updates;
    None when that space cannot be rebuilt (its model is gone, or the sentence model it used is not installed)."""
    from core.synthesis.embed import packaged_embedder

    model = _load_fitted(db, run.model_id) if run.model_id else None
    if run.embedder == TfidfLsa.name:
        return model.embed if model else None
    packaged = packaged_embedder()
    if packaged is None or packaged.name != run.embedder or run.stats.get("pipeline") != PIPELINE_VERSION:
        return None
    space = run_space(db, packaged, model)
    return lambda texts: space(texts)[0]


def _apply_to_latest(db: Database, scope: str, op: str, args: dict):
    """Apply an edit made now to the latest run's themes. Returns (run, themes, statements, stored payload, None),
    or (run, None, None, None, why not) without changing anything."""
    from core.synthesis.codebook import snapshot_payload

    run = repo.latest_run(db, scope)
    if run is None:
        raise ValueError("Run a synthesis first.")
    themes, st = load_state(db, run)
    refused = _refuse(op, args, themes, st)
    if refused:
        return run, None, None, None, refused
    payload = snapshot_payload(op, themes, st, **args)
    payload["base_run"] = run.id
    params = Params(**{k: v for k, v in run.params.items() if k in Params.__dataclass_fields__})
    why = apply_edit(op, payload, themes, st, _run_embedder(db, run), params.seed)
    if why:
        return run, None, None, None, why
    return run, themes, st, payload, None


def _refuse(op: str, args: dict, themes: dict[str, ThemeState], st: pd.DataFrame) -> str | None:
    """Why an edit cannot be made on these themes (plain words), or None."""
    for key in ("theme_id", "to_theme_id"):
        if key in args and args[key] not in themes:
            return "That theme is not in the current synthesis."
    if op == "merge" and (len(set(args.get("theme_ids", []))) < 2 or any(t not in themes for t in args["theme_ids"])):
        return "Choose at least two themes of the current synthesis to merge."
    if op == "move" and not (st["statement_id"] == args.get("statement_id")).any():
        return "That statement is not in the current synthesis."
    # as shown: a run stored before labels were unique shows a repeated one as "Answer (2)"
    labels = dict(zip(themes, unique_labels([th.label for th in themes.values()])))
    if op == "rename" or (op == "merge" and args.get("label")):
        label = str(args.get("label") or "").strip()
        if not label:
            return "Type the new name."
        own = {args["theme_id"]} if op == "rename" else set(args["theme_ids"])
        other = label_in_use(label, labels, own)
        if other is not None:
            return (f"Another theme is already called “{labels[other]}”. Choose a different name, or merge the two "
                    "themes.")
    return None


def _store_edit_run(db: Database, run: repo.Run, themes: dict[str, ThemeState], st: pd.DataFrame, op: str) -> str:
    """The edited themes as a new run of kind "edit" (its parent: `run`)."""
    params = Params(**{k: v for k, v in run.params.items() if k in Params.__dataclass_fields__})
    timer = _Timer()
    inputs = load_inputs(db, run.session_ids, params, run.mode, run.embedder)
    new_id = repo.start_run(db, run.scope, run.session_ids, "edit", run.mode, run.embedder, run.params,
                            run.input_hash, f"edit:{op}", parent_run_id=run.id, model=run.model,
                            prompt_version=run.prompt_version)
    try:
        theme_rows, st, stats = _finalize(db, new_id, themes, st, inputs, params, _banned(run.stats))
        stats.update({k: run.stats[k] for k in ("pipeline", "k", "k_scores", "k_reason", "base_statements", "sentiment",
                                                "sentiment_model", "sentiment_lexicon") if k in run.stats})
        stats.update({"embedded": 0, "edit": op})
        timer.lap("finalize")
        repo.finish_run(db, new_id, theme_rows, st.assign(run_id=new_id),
                        summary=_summary(theme_rows, st, inputs, stats), timings=timer.timings, stats=stats,
                        model_id=run.model_id)
    except Exception as exc:
        repo.fail_run(db, new_id, f"{type(exc).__name__}: {exc}")
        raise
    return new_id


def edit_codebook(db: Database, session_ids: list[str], op: str, args: dict, user_id: str | None,
                  scope: str | None = None) -> tuple[str, str | None]:
    """Apply a codebook edit to the latest run, store the edit (replayed after every re-synthesis) and the
    edited result as a new run of kind "edit". Returns (run id, None) or (latest run id, why not applied).
    A rename (or a merge's name) to a label another theme of the run has is refused."""
    scope = scope or scope_for(session_ids)
    run, themes, st, payload, why = _apply_to_latest(db, scope, op, args)
    if why:
        return run.id, why
    repo.add_edit(db, scope, op, payload, user_id)
    return _store_edit_run(db, run, themes, st, op), None


def reapply_edit(db: Database, session_ids: list[str], edit_id: str, targets: list[str], user_id: str | None,
                 scope: str | None = None) -> tuple[str | None, str | None]:
    """Re-apply a pending edit to current themes a person chose (`targets`: one theme, or the themes to merge).
    On success the edit's snapshot becomes the chosen themes', it is applied and replayed last from now on, and the
    result is stored as an "edit" run. Returns (run id, None) or (run id or None, why not)."""
    from core.synthesis.codebook import edit_args

    scope = scope or scope_for(session_ids)
    edit = repo.get_edit(db, scope, edit_id)
    latest = repo.latest_run(db, scope)
    if edit is None:
        return (latest.id if latest else None), "That edit is no longer stored."
    if edit.status != "pending":
        return (latest.id if latest else None), f"That edit is {edit.status}, not pending."
    if not targets:
        return (latest.id if latest else None), "Choose the theme(s) to apply it to."
    run, themes, st, payload, why = _apply_to_latest(db, scope, edit.op, edit_args(edit.op, edit.payload, targets))
    if why:
        return run.id, why
    new_id = _store_edit_run(db, run, themes, st, edit.op)
    repo.reapply_edit(db, scope, edit.id, payload, new_id)
    return new_id, None


def discard_edit(db: Database, session_ids: list[str], edit_id: str, scope: str | None = None) -> str | None:
    """A person discards a pending edit: it stays listed as discarded and is never replayed. Returns why not, or
    None."""
    scope = scope or scope_for(session_ids)
    edit = repo.get_edit(db, scope, edit_id)
    if edit is None:
        return "That edit is no longer stored."
    if edit.status != "pending":
        return f"Only a pending edit can be discarded; this one is {edit.status}."
    repo.discard_edit(db, scope, edit.id)
    return None
