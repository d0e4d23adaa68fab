"""Themes from statement embeddings: a Ward tree cut at a human number of themes, an honest "Other", sub-themes
where a theme has more structure, and a stability figure per theme. Works on any unit-normalised embedding (a
sentence model's, TF-IDF + LSA) and is a function of the input and the seed.

- Tree: Ward's agglomerative clustering on the statements (on unit vectors Ward's criterion is cosine-based). Up to
  DIRECT_MAX statements it runs on the statements themselves; above, on MICRO k-means micro-clusters weighted by
  their size (exact Ward with initial sizes), so 10k statements cost about as much as 3k. Ward needs no seed: the
  seed only drives the micro-clusters, so below DIRECT_MAX two seeds give the same themes. On Banking77 with
  MiniLM, Ward's cut beats KMeans at every k (k=77: NMI 0.81 vs 0.80; k=40: 0.76 vs 0.74).
- Bootstrap: BOOTSTRAPS subsamples of BOOT_FRACTION of the statements, drawn with a fixed design (BOOT_SEED), each
  with its own Ward tree. They serve twice:
  - k: by default between MIN_K = 4 and MAX_K = 12 top-level themes (a person can read and present them; callers
    with more categories widen the range). Among the candidate cuts, those the subsamples reproduce best (mean ARI
    within STABILITY_TOLERANCE of the best) are kept, and the best separated of them (cosine silhouette, on a sample
    of at most SILHOUETTE_SAMPLE statements) is chosen. Silhouette alone keeps rising with k on sentence embeddings
    (it splits near-duplicates: 4 clear topics written in 20 sentences gave k=12); stability alone is flat on
    one-topic data (Polis). Every candidate's silhouette and agreement is returned so the choice can be shown. A cut
    whose largest theme holds more than MAX_THEME_SHARE of the statements (TF-IDF's coarse cuts on Banking77: one
    theme of 89 %, stable and meaningless) is not a candidate; nor is one whose catch-alls dissolve (below) to fewer
    than min_k themes while another cut keeps min_k.
  - stability per theme: the mean best-match Jaccard of its statements with the themes found the same way in each
    subsample (Hennig's clusterwise bootstrap). SOLID (≥ 0.6: the best-matching subsample theme shares most of its
    statements and adds few others) is shown as "solid", below as "tentative". Hennig reads ≥ 0.75 as clearly
    stable and ≤ 0.5 as dissolved; on the seeded demo (MiniLM) themes a person would call one topic score
    0.60-0.86 and mixed ones 0.29-0.50.
- Other: statements that fit no theme go to "Other" (-1) instead of a catch-all: themes too small to stand
  (MIN_SIZE); catch-alls — a theme looser than the median theme whose statements are on average hardly closer to
  its centre than to the centre of all themes (mean *lift* under CATCHALL_RATIO of the median theme's), dissolved
  into the nearest other theme where a statement is as close as that theme's own members are (Tukey's lower
  fence), else Other (unless that would put more than OTHER_MAX_SHARE of all statements in Other: then it stays,
  tentative); and statements whose similarity to every centre is below the fence of all statements' similarity to
  their own centre. A *loose*
  theme (its statements' mean similarity to its centre an outlier low among the themes' — below Tukey's fence and
  LOOSE_GAP under the median theme's: a few unrelated statements the tree had to put somewhere) is dissolved the
  same way. Last, a theme the subsamples do not find again (stability under DISSOLVED: Hennig's "dissolved"; on
  the seeded demo a 31-statement mix of deploys and customers at 0.30) is dissolved the same way, once.
- Sub-themes: a theme larger than the average theme (and SUB_MIN) is split by its own Ward tree into 2-4 sub-themes
  when that split separates better than the top level does (local silhouette above the top level's and above
  SUB_SIL_MIN), each part keeping at least SUB_PART_MIN statements (topic → subtopic, as in Talk to the City).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.sparse import csr_matrix
from scipy.spatial.distance import squareform
from sklearn.cluster import MiniBatchKMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score

from core.text import plural

MIN_K = 4
MAX_K = 12
SILHOUETTE_SAMPLE = 2000
DIRECT_MAX = 3500          # statements clustered directly; above, micro-clusters first
MICRO = 400                # micro-clusters above DIRECT_MAX
MIN_SIZE = 2               # a theme needs at least this many statements (else: Other)
OTHER_MAX_SIM = 0.5        # never call a statement this close to a theme centre "Other"
CATCHALL_RATIO = 0.5
LOOSE_GAP = 0.1
OTHER_MAX_SHARE = 0.2
MAX_THEME_SHARE = 0.6
SUB_MIN = 12
SUB_PART_MIN = 3
SUB_MAX = 4
SUB_SIL_MIN = 0.1
BOOTSTRAPS = 6
BOOT_FRACTION = 0.8
STABILITY_TOLERANCE = 0.03
BOOT_SEED = 20240601       # the bootstrap design is fixed: the same statements always get the same k and figures
SOLID = 0.6
DISSOLVED = 0.35         # below: the theme dissolves into its neighbours and Other


def stability_word(value: float | None) -> str:
    """How a theme's stability is shown to the researcher."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "not measured"
    return "solid" if value >= SOLID else "tentative"


@dataclass
class Clustering:
    labels: np.ndarray                       # theme per statement, 0..k-1; -1 = Other
    centroids: np.ndarray                    # (k, d) unit vectors of the themes
    k: int
    scores: dict[int, float] = field(default_factory=dict)   # k -> silhouette
    reason: str = ""
    stability: list[float] = field(default_factory=list)     # per theme, 0..1 (empty when not measured)
    sub_labels: np.ndarray | None = None     # sub-theme per statement within its theme (0..), -1 = none
    similarity: np.ndarray | None = None     # each statement's cosine to its theme centre (to the nearest for Other)
    other_threshold: float | None = None     # below this similarity to every centre: Other
    agreement: dict[int, float] = field(default_factory=dict)  # k -> mean ARI of bootstrap subsamples' cuts
    cut: int = 0                             # the k the tree was cut at (before Other took what fits no theme)

    @property
    def other(self) -> int:
        return int((self.labels < 0).sum())


def candidate_ks(n: int, min_k: int = MIN_K, max_k: int = MAX_K) -> list[int]:
    """The k tried: min_k..max_k (at most n // 3, so a theme has a few statements), on a grid of at most 24."""
    upper = max(2, min(max_k, n // 3, n - 1))
    lower = max(2, min(min_k, upper))
    if upper - lower <= 24:
        return list(range(lower, upper + 1))
    grid = np.unique(np.round(np.geomspace(lower, upper, 24)).astype(int))
    return [int(k) for k in grid]


# ---------------------------------------------------------------------------------------------- the tree


def _normalise(x: np.ndarray) -> np.ndarray:
    """Unit rows, float32 (400k statements × 384 dims are 0.6 GB); rows already unit are not copied."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    if len(x) and np.abs(norms - 1.0).max() < 1e-4:
        return x
    norms[norms == 0] = 1.0
    return x / norms


def _weighted_ward(centres: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Ward's linkage (scipy's format) of points that each stand for `weights` statements (Lance-Williams)."""
    m = len(centres)
    centres = np.asarray(centres, dtype=np.float64)
    sq = (centres ** 2).sum(axis=1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * centres @ centres.T, 0.0)
    size = weights.astype(np.float64).copy()
    d2 = 2 * (size[:, None] * size[None, :]) / (size[:, None] + size[None, :]) * d2
    np.fill_diagonal(d2, np.inf)
    active = np.ones(m, dtype=bool)
    node = np.arange(m)
    members = np.ones(m)                    # units under each node (scipy's count column)
    z = np.zeros((m - 1, 4))
    for step in range(m - 1):
        flat = int(np.argmin(d2))
        i, j = divmod(flat, m)
        if i > j:
            i, j = j, i
        dij = d2[i, j]
        ni, nj = size[i], size[j]
        nk = size
        new = ((ni + nk) * d2[i] + (nj + nk) * d2[j] - nk * dij) / (ni + nj + nk)
        z[step] = (min(node[i], node[j]), max(node[i], node[j]), math.sqrt(max(dij, 0.0)), members[i] + members[j])
        members[i] += members[j]
        d2[i, :] = new
        d2[:, i] = new
        d2[i, i] = np.inf
        d2[j, :] = np.inf
        d2[:, j] = np.inf
        active[j] = False
        size[i] = ni + nj
        node[i] = m + step
    return z


@dataclass
class _Tree:
    z: np.ndarray              # linkage of the units
    unit: np.ndarray           # statement -> unit (identity when clustered directly)
    micro: bool = False        # units are micro-clusters

    def cut(self, k: int) -> np.ndarray:
        """Labels 0..k-1 per statement, numbered by the tree (deterministic)."""
        units = fcluster(self.z, k, criterion="maxclust") - 1
        return units[self.unit]


def _tree(x: np.ndarray, seed: int, micro: np.ndarray | None = None, rows: np.ndarray | None = None) -> _Tree:
    """The Ward tree of unit vectors `x` (of its `rows` when given); above DIRECT_MAX statements over micro-clusters
    (given for those rows, or fitted)."""
    if rows is not None and micro is None:
        x, rows = x[rows], None
    n = len(x) if rows is None else len(rows)
    if n <= DIRECT_MAX and micro is None:
        return _Tree(_ward(x), np.arange(n))
    if micro is None:
        # random initial centres: k-means++ over 400 centres costs more than everything else here, and micro-clusters
        # only need to be small and tight, not optimal
        model = MiniBatchKMeans(n_clusters=min(MICRO, n), init="random", random_state=seed, n_init=2,
                                batch_size=2048, max_iter=50)
        micro = model.fit_predict(x)
    used, unit = np.unique(micro, return_inverse=True)
    weights = np.bincount(unit).astype(np.float64)
    if rows is None:
        centres = _sums(x, unit, len(used)) / weights[:, None]
    else:   # the subsample's micro-cluster centres without copying its rows
        onehot = csr_matrix((np.ones(len(rows)), (unit, rows)), shape=(len(used), len(x)))
        centres = np.asarray(onehot @ x) / weights[:, None]
    if len(used) < 2:
        return _Tree(np.zeros((0, 4)), unit, True)
    return _Tree(_weighted_ward(centres, weights), unit, True)


def _ward(x: np.ndarray) -> np.ndarray:
    """Ward's linkage of unit vectors, with the distances computed by one matrix product (scipy's own pdist is
    ~20x slower at a few thousand 384-d vectors)."""
    x = np.asarray(x, dtype=np.float64)
    d2 = np.maximum(2.0 - 2.0 * (x @ x.T), 0.0)
    np.fill_diagonal(d2, 0.0)
    return linkage(squareform(np.sqrt(d2), checks=False), method="ward")


def _cosine_distances(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    d = np.maximum(1.0 - x @ x.T, 0.0)
    np.fill_diagonal(d, 0.0)
    return d


def _silhouette(x: np.ndarray, labels: np.ndarray, sample: np.ndarray | None,
                distances: np.ndarray | None = None) -> float | None:
    """Cosine silhouette of `labels` (on `sample` rows when given; `distances`: their precomputed distances)."""
    ls = labels[sample] if sample is not None else labels
    if len(np.unique(ls)) < 2 or len(np.unique(ls)) >= len(ls):
        return None
    if distances is None:
        distances = _cosine_distances(x[sample] if sample is not None else x)
    return float(silhouette_score(distances, ls, metric="precomputed"))


def _centroids(x: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    return _normalise(_sums(x, labels, k))


# ------------------------------------------------------------------------------------------- clustering


def cluster(x: np.ndarray, seed: int = 0, k: int | None = None, min_k: int = MIN_K, max_k: int = MAX_K,
            other: bool = True, subthemes: bool = True, stability: bool = True) -> Clustering:
    """Themes of the rows of `x` (one embedding per statement). `k` fixes the number of top-level themes."""
    x = np.asarray(x)
    n = len(x)
    if n == 0:
        return Clustering(np.zeros(0, dtype=int), np.zeros((0, x.shape[1] if x.ndim == 2 else 1)), 0, {},
                          "no statements", [], np.zeros(0, dtype=int), np.zeros(0))
    x = _normalise(x)
    if n < 6 or (k is not None and k <= 1):
        cent = _centroids(x, np.zeros(n, dtype=int), 1)
        return Clustering(np.zeros(n, dtype=int), cent, 1, {}, f"{n} statement(s): too few to separate themes",
                          [], np.full(n, -1), x @ cent[0])
    tree = _tree(x, seed)
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(n, size=SILHOUETTE_SAMPLE, replace=False)) if n > SILHOUETTE_SAMPLE else None
    boots = _bootstrap_trees(x, tree, seed) if (stability or k is None) else []
    distances = _cosine_distances(x[sample] if sample is not None else x) if k is None else None
    scores: dict[int, float] = {}
    agreement: dict[int, float] = {}
    kept: dict[int, int] = {}            # themes left once Other has what fits no theme
    largest: dict[int, float] = {}       # the largest theme's share of the statements
    if k is not None:
        chosen = min(k, n - 1)
        reason = f"k={chosen} fixed by the caller"
    else:
        for cand in candidate_ks(n, min_k, max_k):
            full = tree.cut(cand)
            s = _silhouette(x, full, sample, distances)
            if s is None:
                continue
            scores[cand] = round(s, 4)
            agreement[cand] = round(float(np.mean([adjusted_rand_score(full[idx], bt.cut(cand)) for idx, bt in boots]))
                                    if boots else 1.0, 4)
            largest[cand] = float(np.bincount(full).max() / n)
        if not scores:
            cent = _centroids(x, np.zeros(n, dtype=int), 1)
            return Clustering(np.zeros(n, dtype=int), cent, 1, scores, "no split separated the statements", [],
                              np.full(n, -1), x @ cent[0])
        # a cut with one theme holding most statements (a catch-all the tree could not split: stable, and
        # meaningless) is not a candidate (unless every cut has one)
        allowed = [c for c in scores if largest[c] <= max(MAX_THEME_SHARE, min(largest.values()))]
        top = max(agreement[c] for c in allowed)
        steady = [c for c in allowed if agreement[c] >= top - STABILITY_TOLERANCE]
        # preferred order: the steady cuts by silhouette, then the others by agreement; the first whose catch-alls
        # do not dissolve below min_k themes is chosen (else the one keeping most themes)
        order = sorted(steady, key=lambda c: (-scores[c], c)) + \
            sorted(set(allowed) - set(steady), key=lambda c: (-agreement[c], -scores[c], c))
        chosen = None
        for cand in order:
            kept[cand] = int(_with_other(x, tree.cut(cand), cand, other)[1].shape[0])
            if kept[cand] >= min_k:
                chosen = cand
                break
        if chosen is None:
            chosen = max(order, key=lambda c: (kept[c], -order.index(c)))
        reason = (f"k={chosen}: among the cuts of a Ward tree (k in {min(scores)}..{max(scores)}) that "
                  f"{BOOTSTRAPS} bootstrap subsamples reproduce best (ARI {agreement[chosen]:.2f}, best "
                  f"{top:.2f}), the best separated (silhouette {scores[chosen]:.3f})")
    raw = tree.cut(chosen)
    labels, cents, sim, threshold, folded = _with_other(x, raw, chosen, other)
    k_final = len(cents)
    if k_final != chosen or folded:
        other_part = f" and Other ({plural(folded, 'statement')} fitting no theme)" if folded else ""
        reason = f"k={k_final} themes{other_part}, from the cut at {reason}"
    stab = _stability(x, labels, k_final, chosen, boots, other) if stability and k_final > 1 and boots else []
    if other and stab and k is None:
        # a theme the subsamples do not find again (Hennig: dissolved) is a catch-all the cut happened to make
        dissolved = np.array(stab) < DISSOLVED
        if dissolved.any() and (~dissolved).sum() >= min(min_k, k_final):
            merged = _dissolve(x, labels, dissolved, x @ cents.T,
                               sorted(np.flatnonzero(dissolved), key=lambda c: (stab[c], c)))
            if not np.array_equal(merged, labels):
                labels = _renumber(merged)
                cents = _member_centroids(x, labels)
                sims = x @ cents.T
                sim = np.where(labels >= 0, sims[np.arange(n), np.maximum(labels, 0)], sims.max(axis=1))
                k_final = len(cents)
                stab = _stability(x, labels, k_final, chosen, boots, other)
                reason += (f"; {int(dissolved.sum())} theme(s) the subsamples did not find again (stability under "
                           f"{DISSOLVED}) dissolved into the nearest themes"
                           + (f" and Other ({int((labels < 0).sum())} statement(s) now)" if (labels < 0).any() else ""))
    top_sil = scores.get(chosen)
    if top_sil is None:
        top_sil = _silhouette(x, raw, sample) or 0.0
    subs = _subthemes(x, labels, k_final, max(top_sil, SUB_SIL_MIN), seed) if subthemes else np.full(n, -1)
    return Clustering(labels, cents, k_final, scores, reason, stab, subs, sim, threshold, agreement, chosen)


def _bootstrap_trees(x: np.ndarray, tree: _Tree, seed: int) -> list[tuple[np.ndarray, _Tree]]:
    """BOOTSTRAPS subsamples (BOOT_FRACTION of the statements, drawn with the seed) and their Ward trees (over the
    same micro-clusters when the full tree has them)."""
    n = len(x)
    rng = np.random.default_rng(BOOT_SEED)
    size = max(2, int(round(BOOT_FRACTION * n)))
    micro = tree.unit if tree.micro else None
    out = []
    for _ in range(BOOTSTRAPS):
        idx = np.sort(rng.choice(n, size=size, replace=False))
        sub = _tree(x, seed, micro=None if micro is None else micro[idx], rows=idx)
        if len(sub.z):
            out.append((idx, sub))
    return out


def _renumber(labels: np.ndarray) -> np.ndarray:
    """Themes numbered 0.. in the order of their first label (Other stays -1)."""
    kept = sorted(set(labels[labels >= 0].tolist()))
    remap = np.full(max(kept, default=-1) + 2, -1)
    for new, old in enumerate(kept):
        remap[old] = new
    return np.where(labels >= 0, remap[np.maximum(labels, 0)], -1)


def _sums(x: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Row sums of `x` per label 0..k-1 (rows labelled < 0 left out): one pass per label for a few labels, a sparse
    one-hot product for many (micro-clusters)."""
    if k <= 64:
        out = np.zeros((k, x.shape[1]))
        for c in range(k):
            out[c] = x[labels == c].sum(axis=0, dtype=np.float64)
        return out
    rows = np.flatnonzero(labels >= 0)
    onehot = csr_matrix((np.ones(len(rows)), (labels[rows], rows)), shape=(k, len(x)))
    return np.asarray(onehot @ x)


def _member_centroids(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    k = int(labels.max()) + 1 if len(labels) else 0
    return _normalise(_sums(x, labels, k))


def _with_other(x: np.ndarray, raw: np.ndarray, k: int, other: bool):
    """Themes numbered 0..k'-1 in the tree's order, with what fits no theme in Other (-1): themes too small to stand,
    catch-alls dissolved, and far-off statements. Returns (labels, centroids, similarity to own centre, threshold,
    statements in Other).

    A statement's *lift* is its similarity to its theme's centre minus its similarity to the centre of all statements:
    how much better its theme describes it than "anything said". A catch-all (a theme whose centre is close to the
    centre of everything, made of statements that are alike in nothing) has a mean lift under CATCHALL_RATIO of the
    median theme's; it is dissolved: each of its statements joins the nearest other theme where its lift reaches
    that bar, or Other."""
    labels = raw.copy()
    threshold = None
    if other:
        sizes = np.bincount(labels, minlength=k)
        labels[sizes[labels] < MIN_SIZE] = -1
        if (labels >= 0).any():
            labels = _renumber(labels)
            labels = _dissolve_catchalls(x, labels)
        for _ in range(2):     # the centres move once far-off statements leave them
            if not (labels >= 0).any():
                break
            labels = _renumber(labels)
            cents = _member_centroids(x, labels)
            sims = x @ cents.T
            own = sims[np.flatnonzero(labels >= 0), labels[labels >= 0]]
            q1, q3 = np.percentile(own, [25, 75])
            threshold = float(min(q1 - 1.5 * (q3 - q1), OTHER_MAX_SIM))
            far = (labels >= 0) & (sims.max(axis=1) < threshold)
            if not far.any():
                break
            labels[far] = -1
    if not (labels >= 0).any():     # nothing holds together: one theme rather than all "Other"
        labels = np.zeros(len(x), dtype=int)
        threshold = None
    labels = _renumber(labels)
    cents = _member_centroids(x, labels)
    sims = x @ cents.T
    sim = np.where(labels >= 0, sims[np.arange(len(x)), np.maximum(labels, 0)], sims.max(axis=1))
    return labels, cents, sim, threshold, int((labels < 0).sum())


def _dissolve_catchalls(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    k = int(labels.max()) + 1
    if k < 3:
        return labels
    cents = _member_centroids(x, labels)
    overall = cents.mean(axis=0)           # every theme counts once: a big theme is no catch-all for its size
    overall /= np.linalg.norm(overall) or 1.0
    base = x @ overall
    sims = x @ cents.T
    lift = sims - base[:, None]                       # lift of every statement in every theme
    theme_lift = np.array([lift[labels == c, c].mean() for c in range(k)])
    bar = CATCHALL_RATIO * float(np.median(theme_lift))
    # a theme whose statements are far less alike than other themes' (a few unrelated statements the tree had to
    # put somewhere) is no theme either
    cohesion = np.array([sims[labels == c, c].mean() for c in range(k)])
    q1, q3 = np.percentile(cohesion, [25, 75])
    loose = (cohesion < q1 - 1.5 * (q3 - q1)) & (cohesion < float(np.median(cohesion)) - LOOSE_GAP)
    # a catch-all is also looser than the median theme: a tight theme close to the centre of everything is a theme
    catchall = ((theme_lift < bar) & (cohesion < np.median(cohesion))) | loose
    if not catchall.any() or catchall.all() or bar <= 0:
        return labels
    return _dissolve(x, labels, catchall, sims, sorted(np.flatnonzero(catchall), key=lambda c: (theme_lift[c], c)))


def _dissolve(x: np.ndarray, labels: np.ndarray, gone: np.ndarray, sims: np.ndarray, order: list[int]) -> np.ndarray:
    """Themes `gone` (a mask over themes), taken in `order`, give each statement to the nearest kept theme where it
    is as close as that theme's own members are (Tukey's lower fence), else to Other."""
    keep = ~gone[np.maximum(labels, 0)] & (labels >= 0)
    own = sims[np.flatnonzero(keep), labels[keep]]
    q1, q3 = np.percentile(own, [25, 75])
    fence = q1 - 1.5 * (q3 - q1)            # what the kept themes' own members reach
    target = sims.copy()
    target[:, gone] = -np.inf
    out = labels.copy()
    # a theme whose dissolving would leave more than OTHER_MAX_SHARE of all statements in Other stays a theme (its
    # stability shows it is tentative): an embedding that cannot separate them (TF-IDF on short texts) is better
    # shown as one loose theme than as an Other holding most of what was said
    budget = int(OTHER_MAX_SHARE * len(x)) - int((labels < 0).sum())
    for c in order:
        rows = np.flatnonzero(labels == c)
        best = target[rows].argmax(axis=1)
        fits = target[rows, best] >= fence
        if int((~fits).sum()) > budget:
            continue
        out[rows] = np.where(fits, best, -1)
        budget -= int((~fits).sum())
    return out


def _stability(x: np.ndarray, labels: np.ndarray, k_final: int, k_cut: int,
               boots: list[tuple[np.ndarray, _Tree]], other: bool) -> list[float]:
    """Mean best-match Jaccard of each theme with the themes found the same way (same k) in the bootstrap
    subsamples. A theme's statements in Other in a subsample count as unmatched."""
    totals = np.zeros(k_final)
    for idx, sub_tree in boots:
        kb = min(k_cut, len(sub_tree.z) + 1)
        boot = _with_other(x[idx], sub_tree.cut(kb), kb, other)[0]
        mine = labels[idx]
        for c in range(k_final):
            a = mine == c
            if not a.any():
                continue
            best = 0.0
            for b in np.unique(boot[a]):
                if b < 0:
                    continue
                bb = boot == b
                best = max(best, np.count_nonzero(a & bb) / np.count_nonzero(a | bb))
            totals[c] += best
    return [round(float(v) / max(len(boots), 1), 3) for v in totals]


def _subthemes(x: np.ndarray, labels: np.ndarray, k: int, bar: float, seed: int = 0) -> np.ndarray:
    """Sub-theme index per statement within its theme (-1: the theme has no sub-themes, or Other). Only themes
    larger than the average theme (and than SUB_MIN) are split, by their own Ward tree, and only when the split
    separates better than `bar` (the top level's silhouette, at least SUB_SIL_MIN)."""
    subs = np.full(len(x), -1)
    average = (labels >= 0).sum() / max(k, 1)
    rng = np.random.default_rng(seed)
    for c in range(k):
        idx = np.flatnonzero(labels == c)
        if len(idx) < max(SUB_MIN, average):
            continue
        # a large theme: its sub-themes are found on a sample and the rest joins the nearest one
        chosen = np.sort(rng.choice(idx, size=SILHOUETTE_SAMPLE, replace=False)) \
            if len(idx) > SILHOUETTE_SAMPLE else idx
        xs = x[chosen]
        z = _ward(xs)
        dist = _cosine_distances(xs)
        best: tuple[float, np.ndarray] | None = None
        for parts in range(2, min(SUB_MAX, len(chosen) // SUB_PART_MIN) + 1):
            cut = fcluster(z, parts, criterion="maxclust") - 1
            if np.bincount(cut, minlength=parts).min() < SUB_PART_MIN:
                continue
            s = _silhouette(xs, cut, None, dist)
            if s is not None and (best is None or s > best[0] + 1e-9):
                best = (s, cut)
        if best is not None and best[0] >= bar:
            if len(chosen) == len(idx):
                subs[idx] = best[1]
            else:
                cents = _normalise(_sums(xs, best[1], int(best[1].max()) + 1).astype(np.float32))
                subs[idx] = (x[idx] @ cents.T).argmax(axis=1)
    return subs
