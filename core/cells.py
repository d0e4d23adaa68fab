"""Cells that spreadsheet apps would run: participant answers and imported values are data, never formulas.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return (and their full-width forms, which some
spreadsheet apps also accept) is read as a formula by Excel, LibreOffice and Google Sheets when a CSV is opened:
`=HYPERLINK("http://…","click me")` becomes a live link, `=cmd|' /C calc'!A0` a command. OWASP's advice for CSV
("CSV Injection"): prefix such a cell with a single quote, which the apps show as text and do not run. XLSX cells
are written as string cells instead, so their text stays exactly as typed and is never a formula.
"""

from __future__ import annotations

import re

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
TEXT_PREFIX = "'"
_PLAIN_NUMBER = re.compile(r"[+-]?\d+([.,]\d+)?")   # "-5", "+3.2": a number, not a formula; kept as written


def defused(value: object) -> object:
    """The value a spreadsheet shows as text: a string that starts like a formula gets a leading single quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return TEXT_PREFIX + value
    return value


def defused_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with every text cell (and column name) defused: for CSV exports."""
    out = frame.rename(columns=defused)
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(defused)
    return out


def force_text_cells(worksheet) -> int:
    """Make every formula cell of an openpyxl worksheet a string cell holding the same text; returns how many."""
    changed = 0
    for row in worksheet.iter_rows():
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"
                changed += 1
    return changed
