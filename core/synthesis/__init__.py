"""Synthesis: from participants' answers to themes, counts, quotes and summaries (no Streamlit).

pipeline.py   synthesize(db, session_ids) -> stored run (full or incremental), edit_codebook(...)
units.py      answers + questions -> statements with exact character spans; the verbatim check
embed.py      packaged MiniLM on onnxruntime (default) / endpoint embeddings, cached by content hash;
              TF-IDF + LSA fallback
space.py      what a statement's vector is made of (sentence model + its own words, or TF-IDF + LSA)
cluster.py    a Ward tree cut at a human number of themes, an honest "Other", sub-themes, stability per theme
labels.py     labels in participants' own words from c-TF-IDF keyphrases of the most central statements
theme_names.py two themes of one run never share a label
codebook.py   rename / merge / split / delete / move, re-applied after re-synthesis where they still fit
segments.py   theme share by pre-session answer group, chi-square / Fisher's exact test
coverage.py   critical items x participants (answered, thin, skipped, not reached)
sentiment.py  offline lexicon sentiment
summary.py    templated summary from the theme table (offline)
ask.py        ask the data: retrieval of quotes and themes
models.py     SynthesisModel: what a run asks of a model, OfflineSynthesis, synthesis_model(db, ids, mode)
model_mode.py extraction cached by transcript hash, theme naming, summary, answers (OpenAI-compatible endpoint)
figures.py    plotly figures shared by the page and the HTML report
"""
