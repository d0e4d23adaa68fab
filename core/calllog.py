"""The model call log: recording each call in DuckDB, and totals with an estimated cost for the admin page."""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from core.db import Database
from core.llm.protocol import CallRecord, OnCall
from core.permissions import Permission
from core.repos import calls as crepo
from core.repos.users import User
from core.sessions import get_for

log = logging.getLogger(__name__)
PER_TOKENS = 1_000_000  # prices are per million tokens, as providers list them


@dataclass(frozen=True)
class Price:
    input: float = 0.0   # USD per 1M input tokens
    output: float = 0.0  # USD per 1M output tokens


def recorder(db: Database) -> OnCall:
    """An `on_call` callback for LLMClient that stores every CallRecord in `db`."""

    def on_call(record: CallRecord) -> None:
        crepo.insert_call(db, record)

    return on_call


def load_prices(path: Path) -> dict[str, Price]:
    """Model name -> Price from a TOML file; a missing or broken file means no cost estimate (all zero)."""
    try:
        with Path(path).open("rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        log.warning("price table %s not usable: %s", path, exc)
        return {}
    prices = {}
    for model, values in data.items():
        if isinstance(values, dict):
            prices[model] = Price(float(values.get("input", 0.0)), float(values.get("output", 0.0)))
    return prices


def estimate_cost(model: str, input_tokens: int, output_tokens: int, prices: dict[str, Price]) -> float:
    """Estimated USD for the tokens, from the model's price (or [default], or zero)."""
    price = prices.get(model) or prices.get("default") or Price()
    return (input_tokens * price.input + output_tokens * price.output) / PER_TOKENS


def totals(db: Database, by: str, prices: dict[str, Price], session_id: str | None = None) -> pd.DataFrame:
    """Per session or per purpose (of one session, when given): calls, failures, tokens, mean latency and estimated
    cost."""
    frame = crepo.totals_by_model(db, by, session_id)
    columns = ["key", "calls", "failed", "input_tokens", "output_tokens", "mean_latency_ms", "estimated_cost_usd"]
    if by == "session":
        columns.insert(1, "session_name")
    if frame.empty:
        return pd.DataFrame(columns=columns)
    frame["estimated_cost_usd"] = [
        estimate_cost(m, int(i), int(o), prices)
        for m, i, o in zip(frame["model"], frame["input_tokens"], frame["output_tokens"])
    ]
    # weighted mean: a (key, model) group with more calls counts more
    frame["latency_total"] = frame["mean_latency_ms"] * frame["calls"]
    grouped = frame.groupby("key", dropna=False).agg(
        session_name=("session_name", "max"), calls=("calls", "sum"), failed=("failed", "sum"),
        input_tokens=("input_tokens", "sum"), output_tokens=("output_tokens", "sum"),
        latency_total=("latency_total", "sum"), estimated_cost_usd=("estimated_cost_usd", "sum"),
    ).reset_index()
    grouped["mean_latency_ms"] = (grouped["latency_total"] / grouped["calls"]).round(0)
    if by == "session":
        no_session = grouped["key"].isna()
        grouped["key"] = grouped["key"].fillna("(no session)")
        # the log outlives a deleted session (usage and cost history), its name does not
        grouped["session_name"] = grouped["session_name"].where(
            grouped["session_name"].notna() | no_session, "(deleted session)").fillna("")
    return grouped[columns].sort_values("calls", ascending=False, kind="stable").reset_index(drop=True)


def latest_calls(db: Database, limit: int = 200, session_id: str | None = None) -> pd.DataFrame:
    """The most recent call-log rows (newest first)."""
    return crepo.calls_frame(db, session_id, limit)


def session_usage(db: Database, user: User, session_id: str, prices: dict[str, Price]) -> pd.DataFrame:
    """The session's model use per purpose, for its owner (the design page): calls, failures, tokens, cost."""
    get_for(db, user, session_id, Permission.DELETE)      # owners only: cost is the owner's business
    return totals(db, "purpose", prices, session_id)
