"""Synthesis: from participants' answers to themes, counts, quotes and summaries (no Streamlit).

pipeline.py   synthesize(db, session_ids) -> stored run (full or incremental), edit_codebook(...)
units.py      answers + questions -> statements with exact character spans; the verbatim check
embed.py      packaged MiniLM on onnxruntime (default) / endpoint embeddings, cached by content hash; TF-IDF + LSA fallback
cluster.py    KMeans with an automatic, bounded, explained k
labels.py     c-TF-IDF keyphrase labels and descriptions
codebook.py   rename / merge / split / delete / move, re-applied after re-synthesis where they still fit
segments.py   theme share by pre-session answer group, chi-square / Fisher's exact test
coverage.py   critical items x participants (answered, thin, skipped, not reached)
sentiment.py  offline lexicon sentiment
summary.py    templated summary from the theme table (offline)
ask.py        ask the data: retrieval of quotes and themes
model_mode.py extraction cached by transcript hash, theme naming, summary, answers (OpenAI-compatible endpoint)
figures.py    plotly figures shared by the page and the HTML report
keywords.py   the first key-phrase version (still used by core.results.session_results for its `themes`)
"""
