"""What synthesis asks of a model, as one object: `synthesis_model(db, session_ids, mode)` always returns one.

    SynthesisModel   the protocol pipeline.synthesize calls: extract statements, name themes, summarise, judge
                     sentiment, and say afterwards how much of the run it made
    OfflineSynthesis the offline behaviour (statements split by rules, keyphrase labels, the templated summary,
                     the lexicon's sentiment); a base for a model that does only some steps (tests do)
    ModelSynthesis   (model_mode.py) a chat model for every step, each falling back to the offline result

The pipeline never asks which kind it has: a model lists the `steps` it does itself (the pipeline says so in its
progress and times them); every other step is the offline one, and `mode` is the mode the run is started with.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import pandas as pd

from core.db import Database
from core.synthesis.units import build_statements

if TYPE_CHECKING:
    from core.synthesis.codebook import ThemeState
    from core.synthesis.embed import FunctionEmbedder
    from core.synthesis.pipeline import Inputs

EXTRACT, NAME, SUMMARY, SENTIMENT = "extract", "name", "summary", "sentiment"


class SynthesisModel(Protocol):
    """The model a synthesis run uses (offline included)."""

    mode: str                            # "offline" or "model": the mode the run is started with
    model: str | None                    # the model's name, recorded on the run (None offline)
    prompt_version: str | None           # the naming prompt's version, recorded on the run
    embedder: FunctionEmbedder | None    # its own embedder (the endpoint's), or None: the pipeline's default
    steps: frozenset[str]                # EXTRACT, NAME, SUMMARY, SENTIMENT: the steps it does itself

    def extract(self, answers: pd.DataFrame, questions: dict, min_words: int) -> pd.DataFrame:
        """The statements the answers make (units.STATEMENT_COLUMNS)."""

    def name_themes(self, themes: dict[str, ThemeState], statements: pd.DataFrame) -> None:
        """Rename themes in place (label, description); a theme a person renamed keeps its name."""

    def summarize(self, theme_rows: pd.DataFrame, statements: pd.DataFrame, inputs: Inputs,
                  stats: dict) -> str | None:
        """The run's summary, or None for the templated one; says in `stats` which was used."""

    def judge_sentiment(self, statements: pd.DataFrame) -> list[str | None]:
        """A sentiment label per statement, None where the lexicon's stays."""

    def extraction_stats(self) -> dict:
        """Counters of the extraction step, stored in the run's stats as extraction_<name>."""

    def sentiment_stats(self) -> dict:
        """Counters of the sentiment step, stored in the run's stats as sentiment_<name>."""

    def account(self, stats: dict, *, named: bool, inherited: dict | None) -> str:
        """Write into the run's stats how much of it this model made, and return the mode to store."""


class OfflineSynthesis:
    """Every step offline: no network, deterministic."""

    mode = "offline"
    model: str | None = None
    prompt_version: str | None = None
    embedder: FunctionEmbedder | None = None
    steps: frozenset[str] = frozenset()

    def extract(self, answers: pd.DataFrame, questions: dict, min_words: int) -> pd.DataFrame:
        return build_statements(answers, questions, min_words)

    def name_themes(self, themes: dict[str, ThemeState], statements: pd.DataFrame) -> None:
        return None         # the keyphrase labels stay

    def summarize(self, theme_rows: pd.DataFrame, statements: pd.DataFrame, inputs: Inputs,
                  stats: dict) -> str | None:
        return None         # the templated summary stays

    def judge_sentiment(self, statements: pd.DataFrame) -> list[str | None]:
        return [None] * len(statements)

    def extraction_stats(self) -> dict:
        return {}

    def sentiment_stats(self) -> dict:
        return {}

    def account(self, stats: dict, *, named: bool, inherited: dict | None) -> str:
        return self.mode    # nothing came from a model: nothing to say


def synthesis_model(db: Database, session_ids: list[str], mode: str = "model") -> SynthesisModel:
    """The model for a run in `mode`: the configured chat model in model mode (its calls redacted and logged as
    the sessions need), else, or when no model is configured, OfflineSynthesis."""
    if mode != "model":
        return OfflineSynthesis()
    from core.synthesis.model_mode import model_synthesis

    return model_synthesis(db, session_ids)
