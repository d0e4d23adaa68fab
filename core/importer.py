"""Import a CSV of open-ended answers (Qualtrics / Google Forms / Typeform-style exports) into a new session.

Each chosen text column becomes a guide step (its header is the question and a critical item); each row is a
participant (rows sharing a participant id are one participant); attribute columns become pre-session form
fields, so they are segments on the results page. The session is created closed (no one can join it), and
everything is inserted in bulk through DataFrames.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from core.brief import ITEM_MAX, ITEMS_MAX, NAME_MAX, Brief
from core.clock import utcnow
from core.db import Database
from core.forms import FormField
from core.guide import Step
from core.ids import TOKEN_BYTES, new_ids
from core.repos import sessions as srepo
from core.repos import synthesis as synrepo
from core.repos.users import User
from core.sessions import create_session
from core.text import _CONTROL, count_tokens, word_count

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
    warnings: list[str] = field(default_factory=list)   # read, but worth a look (see check_quotes)


def read_table(data: bytes | str | Path) -> pd.DataFrame:
    """The CSV as text cells, with clear messages for an empty file, a wrong encoding or a broken CSV.

    A quote left open that swallows the following rows is refused (see `check_quotes`); a quoted answer that runs
    over lines which each look like a row of their own is read, with a warning in `frame.attrs["warnings"]`.
    """
    if isinstance(data, (str, Path)):
        data = Path(data).read_bytes()
    if not data or not data.strip():
        raise ImportProblem(["The file is empty."])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportProblem([f"The file is not UTF-8 text (byte {exc.start} cannot be read). Export it as "
                             "'CSV UTF-8' (Excel: Save As → CSV UTF-8) and try again."]) from None
    warnings = check_quotes(text)
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ImportProblem([f"The file could not be read as CSV: {exc}"]) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise ImportProblem(["The file has a header row but no answers."])
    frame.attrs["warnings"] = warnings
    return frame


def check_quotes(text: str) -> list[str]:
    """Refuse (ImportProblem) a CSV whose quoting swallows rows; return warnings for quoted answers that merely look
    like swallowed rows.

    A quote opened at the start of a field runs until the next lone quote, across line ends. When that quote is never
    closed, or is closed by a quote that cannot end a field (`"third"` on a later row: a letter follows it), pandas
    reads every line in between as one cell: several rows become one participant, silently. Python's csv module in
    strict mode reports both; a record that started several lines before the error is such a case, and the message
    names the line where its quote opened. (A stray quote inside one line, `"hello" there`, loses no row: it is read
    as pandas always read it.) Nothing is imported; the user fixes the file and uploads it again.

    A well-formed quoted answer may span lines; when every later line of it has exactly the header's number of fields,
    a missing closing quote is likely, but the file is valid CSV, so it is only a warning.
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    problems: list[str] = []
    warnings: list[str] = []
    lines: list[str] | None = None
    width, end = 0, 0
    while len(problems) < MAX_ERRORS:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            start, stop = end + 1, reader.line_num
            end = stop
            if stop <= start:
                continue
            lines = lines if lines is not None else io.StringIO(text, newline="").readlines()
            opened = start + _quote_opening(lines[start - 1:stop])
            if "end of data" in str(exc):
                problems.append(f"Line {opened}: a quoted field opens here and is never closed, so lines "
                                f"{opened}–{stop} (the end of the file) would be read as one answer.")
            else:
                problems.append(f"Line {opened}: a quoted field opens here and is only closed on line {stop}, so "
                                f"lines {opened}–{stop} would be read as one row (one participant).")
            continue
        start, end = end + 1, reader.line_num
        width = width or len(record)
        if end > start and width > 1 and len(warnings) < MAX_ERRORS:
            for cell in record:
                later = re.split(r"\r\n|\r|\n", cell)[1:]   # a bare CR ends a line too (csv.reader refuses it)
                if later and all(len(next(csv.reader([line]), [])) == width for line in later):
                    warnings.append(f"Line {start}: one answer runs over lines {start}–{end}, and each of its later "
                                    f"lines looks like a row of its own ({width} fields). If a closing quote is "
                                    "missing there, fix the file and upload it again.")
                    break
    if problems:
        raise ImportProblem(problems + ["Nothing was imported. A quote inside a field is written as two quotes (\"\"); "
                                        "fix the file and upload it again."])
    return warnings


def _quote_opening(lines: list[str]) -> int:
    """Index, within `lines` (one CSV record and what it swallowed), of the line whose quote is never properly closed:
    the last quoted field opened before the end, or before a closing quote that a field separator does not follow."""
    in_quotes, field_start, opened = False, True, 0
    for i, line in enumerate(lines):
        j = 0
        while j < len(line):
            c = line[j]
            if in_quotes:
                if c == '"':
                    if line[j + 1:j + 2] == '"':
                        j += 2
                        continue
                    in_quotes, field_start = False, False
                    if line[j + 1:j + 2] not in (",", "\r", "\n", ""):
                        return opened
            elif c in ",\r\n":
                field_start = True
            elif c == '"' and field_start:
                in_quotes, opened = True, i
            else:
                field_start = False
            j += 1
    return opened


def _clean(value: str) -> str:
    text = unicodedata.normalize("NFC", value or "").replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text).strip()


def _cleaned(column: pd.Series) -> pd.Series:
    """`_clean` of every cell, computed once per distinct value (attribute columns repeat a few values)."""
    distinct = column.unique()
    if len(distinct) * 2 > len(column):
        return column.map(_clean)
    return column.map({value: _clean(value) for value in distinct})


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
        values = sorted(set(_cleaned(frame[col])) - {""})
        kind = "single_choice" if 0 < len(values) <= CHOICE_MAX_OPTIONS else "short_text"
        fields.append(FormField(_key(col, used), col[:200], kind, False, values if kind == "single_choice" else []))
    srepo.replace_form(db, session.id, fields)
    srepo.update_session(db, session.id, status="closed")

    now = utcnow()
    rows = _rows(frame, spec, steps, fields, session.id, version, now)
    synrepo.bulk_insert_import(db, *rows)
    participants, answers, messages, _ = rows
    return ImportResult(session.id, len(participants), len(messages) // 2,
                        len(frame) * len(spec.text_columns) - len(messages) // 2, frame.attrs.get("warnings", []))


_TOKENS = re.compile(r"(\w+)|[^\w\s]")   # core.text.count_tokens' pattern, words captured


def _token_and_word_counts(text: str) -> tuple[int, int]:
    """(core.text.count_tokens(text), core.text.word_count(text)) in one scan of the text."""
    found = _TOKENS.findall(text)
    return len(found), sum(1 for word in found if word)


def _rows(frame: pd.DataFrame, spec: ImportSpec, steps: list[Step], fields: list[FormField], session_id: str,
          version: int, now) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The import as DataFrames (participants, form answers, messages, import sources), built column-wise: a
    participant per distinct participant id (or per row), in order of first appearance; their attributes from that
    first row; per non-empty answer cell, in row then column order, the question and the answer as two messages."""
    n = len(frame)
    row_labels = pd.Series([f"row {i + 2}" for i in range(n)])
    if spec.participant_column:
        ids = _cleaned(frame[spec.participant_column]).reset_index(drop=True)
        ids = ids.where(ids != "", row_labels)
    else:
        ids = row_labels
    codes, uniques = pd.factorize(ids)
    count = len(uniques)
    first = np.unique(codes, return_index=True)[1]          # the first row of each participant, in order
    pids = np.array(new_ids(count), dtype=object)
    participants = pd.DataFrame({
        "id": pids, "session_id": session_id, "token": new_ids(count, TOKEN_BYTES),
        "number": np.arange(1, count + 1), "user_id": None, "status": "finished", "guide_version": version,
        "step": max(len(steps) - 1, 0), "probed": False, "simulated": False, "included": True, "started_at": now,
        "finished_at": now})
    imports = pd.DataFrame({"participant_id": pids,
                            "external_id": list(uniques) if spec.participant_column else None,
                            "source_row": first + 2})
    answers = []
    for f, col in zip(fields, spec.attribute_columns):
        values = _cleaned(frame[col].iloc[first]).to_numpy()
        keep = values != ""
        answers.append(pd.DataFrame({"participant_id": pids[keep], "field_key": f.key, "value": values[keep]}))
    answers = pd.concat(answers, ignore_index=True) if answers else pd.DataFrame(
        columns=["participant_id", "field_key", "value"])
    cells = []
    for step, col in enumerate(spec.text_columns):
        text = _cleaned(frame[col]).to_numpy()
        keep = np.flatnonzero(text != "")
        cells.append(pd.DataFrame({"row": keep, "step": step, "content": text[keep]}))
    cells = pd.concat(cells, ignore_index=True).sort_values(["row", "step"], kind="stable", ignore_index=True)
    owner = codes[cells["row"].to_numpy()]
    seq = cells.groupby(owner, sort=False).cumcount().to_numpy() * 2 + 1
    questions = [s.question for s in steps]
    question_tokens = [count_tokens(q) for q in questions]
    question_words = [word_count(q) for q in questions]
    asked = pd.DataFrame({"participant_id": pids[owner], "seq": seq, "role": "facilitator", "kind": "question",
                          "step": cells["step"], "content": [questions[i] for i in cells["step"]],
                          "tokens": [question_tokens[i] for i in cells["step"]]})
    counts = [_token_and_word_counts(text) for text in cells["content"]]
    said = pd.DataFrame({"participant_id": pids[owner], "seq": seq + 1, "role": "participant", "kind": "answer",
                         "step": cells["step"], "content": cells["content"], "tokens": [c[0] for c in counts]})
    messages = pd.concat([asked, said], ignore_index=True)
    messages["words"] = [question_words[i] for i in asked["step"]] + [c[1] for c in counts]
    messages.insert(0, "id", new_ids(len(messages)))
    messages["source"] = "import"
    messages["created_at"] = now
    return participants, answers, messages, imports
