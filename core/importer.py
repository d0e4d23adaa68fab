"""Import a CSV of open-ended answers (Qualtrics / Google Forms / Typeform-style exports) into a new session.

Each chosen text column becomes a guide step (its header is the question and a critical item); each row is a
participant (rows sharing a participant id are one participant); attribute columns become pre-session form
fields, so they are segments on the results page. The session is created closed (no one can join it), and
everything is inserted in bulk through DataFrames.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from core.brief import ITEM_MAX, ITEMS_MAX, NAME_MAX, Brief
from core.clock import utcnow
from core.db import Database
from core.forms import FormField
from core.guide import Step
from core.ids import new_id, new_token
from core.repos import sessions as srepo
from core.repos import synthesis as synrepo
from core.repos.users import User
from core.sessions import create_session
from core.text import _CONTROL, count_tokens

MAX_CELL_CHARS = 10_000
MAX_ERRORS = 10
CHOICE_MAX_OPTIONS = 30


class ImportProblem(Exception):
    """The file cannot be imported; `messages` say why, fit to show as they are."""

    def __init__(self, messages: list[str]):
        self.messages = messages
        super().__init__(" ".join(messages))


@dataclass(frozen=True)
class ImportSpec:
    title: str
    text_columns: list[str]
    participant_column: str | None = None
    attribute_columns: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ImportResult:
    session_id: str
    participants: int
    answers: int
    empty_cells: int


def read_table(data: bytes | str | Path) -> pd.DataFrame:
    """The CSV as text cells, with clear messages for an empty file, a wrong encoding or a broken CSV."""
    if isinstance(data, (str, Path)):
        data = Path(data).read_bytes()
    if not data or not data.strip():
        raise ImportProblem(["The file is empty."])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportProblem([f"The file is not UTF-8 text (byte {exc.start} cannot be read). Export it as "
                             "'CSV UTF-8' (Excel: Save As → CSV UTF-8) and try again."]) from None
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ImportProblem([f"The file could not be read as CSV: {exc}"]) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise ImportProblem(["The file has a header row but no answers."])
    return frame


def _clean(value: str) -> str:
    text = unicodedata.normalize("NFC", value or "").replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text).strip()


def validate(frame: pd.DataFrame, spec: ImportSpec) -> list[str]:
    errors: list[str] = []
    if not spec.title.strip():
        errors.append("Give the new session a title.")
    if not spec.text_columns:
        errors.append("Choose at least one text column.")
    if len(spec.text_columns) > ITEMS_MAX:
        errors.append(f"At most {ITEMS_MAX} text columns can be imported into one session.")
    wanted = list(spec.text_columns) + ([spec.participant_column] if spec.participant_column else []) + \
        list(spec.attribute_columns)
    for col in dict.fromkeys(wanted):
        if col not in frame.columns:
            errors.append(f"Column '{col}' is not in the file. Columns found: {', '.join(map(str, frame.columns))}.")
    if errors:
        return errors
    overlap = set(spec.text_columns) & set(spec.attribute_columns)
    if overlap:
        errors.append(f"Column(s) {', '.join(sorted(overlap))} cannot be both text and attribute columns.")
    for col in spec.text_columns + list(spec.attribute_columns):
        lengths = frame[col].str.len()
        for row in lengths.index[lengths > MAX_CELL_CHARS][:MAX_ERRORS - len(errors)]:
            errors.append(f"Row {row + 2}, column '{col}': {int(lengths[row]):,} characters; the limit is "
                          f"{MAX_CELL_CHARS:,}.")
    if not errors and not any(frame[c].map(_clean).astype(bool).any() for c in spec.text_columns):
        errors.append("The chosen text column(s) are empty in every row.")
    return errors[:MAX_ERRORS]


def _key(label: str, used: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:40] or "field"
    key, n = base, 2
    while key in used:
        key, n = f"{base}_{n}", n + 1
    used.add(key)
    return key


def import_responses(db: Database, owner: User, data: bytes | str | Path, spec: ImportSpec,
                     filename: str = "a CSV file") -> ImportResult:
    frame = read_table(data)
    errors = validate(frame, spec)
    if errors:
        raise ImportProblem(errors)
    items = [c[:ITEM_MAX - 1] for c in spec.text_columns]
    items = [f"{c} ({i + 1})" if items.count(c) > 1 else c for i, c in enumerate(items)]
    brief = Brief(spec.title.strip()[:NAME_MAX].ljust(3, "."), f"Imported open-ended answers from {filename}."[:2000],
                  items, "Imported: the questions are the column headers of the file.")
    session = create_session(db, owner, brief)
    steps = [Step(question=col[:600], probe="", critical_item=item) for col, item in zip(spec.text_columns, items)]
    version = srepo.add_guide_version(db, session.id, steps, f"imported from {filename}"[:200], "edit")
    used: set[str] = set()
    fields = []
    for col in spec.attribute_columns:
        values = sorted({_clean(v) for v in frame[col] if _clean(v)})
        kind = "single_choice" if 0 < len(values) <= CHOICE_MAX_OPTIONS else "short_text"
        fields.append(FormField(_key(col, used), col[:200], kind, False, values if kind == "single_choice" else []))
    srepo.replace_form(db, session.id, fields)
    srepo.update_session(db, session.id, status="closed")

    now = utcnow()
    if spec.participant_column:
        ids = frame[spec.participant_column].map(_clean)
        ids = ids.where(ids != "", [f"row {i + 2}" for i in range(len(frame))])
    else:
        ids = pd.Series([f"row {i + 2}" for i in range(len(frame))])
    p_rows, i_rows, a_rows, m_rows = [], [], [], []
    pid_of: dict[str, str] = {}
    seq_of: dict[str, int] = {}
    empty = 0
    for row_no, (ext, (_, row)) in enumerate(zip(ids, frame.iterrows())):
        pid = pid_of.get(ext)
        if pid is None:
            pid = pid_of[ext] = new_id()
            p_rows.append((pid, session.id, new_token(), len(p_rows) + 1, None, "finished", version,
                           max(len(steps) - 1, 0), False, False, True, now, now))
            i_rows.append((pid, ext if spec.participant_column else None, row_no + 2))
            for f, col in zip(fields, spec.attribute_columns):
                value = _clean(row[col])
                if value:
                    a_rows.append((pid, f.key, value))
            seq_of[pid] = 0
        for step, col in enumerate(spec.text_columns):
            text = _clean(row[col])
            if not text:
                empty += 1
                continue
            for role, kind, content in (("facilitator", "question", steps[step].question),
                                        ("participant", "answer", text)):
                seq_of[pid] += 1
                m_rows.append((new_id(), pid, seq_of[pid], role, kind, step, content, count_tokens(content),
                               "import", now))
    synrepo.bulk_insert_import(db, p_rows, a_rows, m_rows, i_rows)
    return ImportResult(session.id, len(p_rows), sum(1 for m in m_rows if m[3] == "participant"), empty)
