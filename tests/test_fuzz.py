"""Property-based tests (Hypothesis) over what people type and upload (issue 14).

Generated messages, form answers, CSV files and exported text: no exception escapes, what is accepted is stored
exactly as cleaned, what is refused says why and stores nothing, and every export reads back to the same text.
A few hundred cases each here; `python -m bench.fuzz` runs 10,000 in all (FUZZ_EXAMPLES sets the count per test).
"""

from __future__ import annotations

import csv
import io
import json
import os
import string
import zipfile

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core import conversation
from core.accounts import register
from core.cells import defused
from core.db import open_database
from core.export import export_session
from core.forms import FIELD_TYPES, FormField, validate_answers, validate_definition
from core.importer import ImportProblem, ImportSpec, import_responses
from core.repos import participants as prepo
from core.text import clean_message
from tests.helpers import launched_session

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
FUZZ_IMPORTS = settings(FUZZ, max_examples=max(10, EXAMPLES // 4))   # an import and five exports each: ~0.3 s

# people's text: any Unicode (control characters, combining marks, RTL, emoji, surrogates excluded), with the
# characters that mean something to CSV, Markdown, HTML and spreadsheets over-represented
SPECIAL = list(",;\"'\n\r\t=+-@#*_`[]()<>!|\\&\u200b\u202e\u0000\u0007\ufeff")
people_text = st.text(st.one_of(st.characters(exclude_categories=["Cs"]), st.sampled_from(SPECIAL)),
                      max_size=300)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One database for all the examples of this module (a fresh one per example would be ~100x slower)."""
    path = tmp_path_factory.mktemp("fuzz") / "h.duckdb"
    os.environ.setdefault("HARMONICA_BACKUP_EVERY_H", "0")
    db = open_database(path)
    owner = register(db, "fuzzer", "fuzzer@example.org", "Fuzzer", "long enough pw", "long enough pw")
    return db, owner, launched_session(db, owner)


@FUZZ
@given(text=people_text)
def test_any_message_is_stored_as_cleaned_or_refused_with_a_reason(world, text):
    db, _, session = world
    p = conversation.join(db, session.id)
    before = prepo.list_messages(db, p.id)
    result = conversation.record_answer(db, p.token, text, seen_seq=before[-1].seq)
    after = prepo.list_messages(db, p.id)
    expected = clean_message(text)
    if expected.error:
        assert result.error == expected.error and after == before          # refused: nothing stored
    else:
        assert result.error is None and len(after) == len(before) + 1
        assert after[-1].content == expected.text and after[-1].role == "participant"


field_defs = st.builds(
    FormField,
    key=st.text(string.ascii_lowercase, min_size=1, max_size=8),
    label=people_text.filter(lambda t: t.strip()),
    type=st.sampled_from(list(FIELD_TYPES)),
    required=st.booleans(),
    options=st.lists(people_text, max_size=5),
    min=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
    max=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)))
answers = st.one_of(st.none(), people_text, st.lists(people_text, max_size=4), st.booleans(), st.integers(),
                    st.floats(), st.text("0123456789.,-+eE ", max_size=12))


@FUZZ
@given(field=field_defs, value=answers)
def test_form_definitions_and_answers_are_judged_without_exceptions(field, value):
    if validate_definition([field]):
        return                                   # the editor says what to fix; nothing to answer
    clean, errors = validate_answers([field], {field.key: value})
    assert set(clean) | set(errors) <= {field.key} and not (set(clean) & set(errors))
    assert all(isinstance(m, str) and m for m in errors.values())
    if field.key in clean:
        stored = clean[field.key]
        assert isinstance(stored, str)
        if field.type == "single_choice":
            assert stored in field.options
        if field.type == "multiple_choice":
            assert set(json.loads(stored)) <= set(field.options)
        if field.type == "number":
            number = float(stored)
            assert (field.min is None or number >= field.min) and (field.max is None or number <= field.max)
    elif field.required or value not in (None, "", [], False):
        assert field.key in errors or (isinstance(value, str) and not value.strip())


header = st.text(st.characters(exclude_categories=["Cs", "Cc"]), min_size=1, max_size=30).filter(
    lambda h: h.strip() and h.strip() == h)
tables = st.integers(1, 6).flatmap(lambda rows: st.tuples(
    st.lists(header, min_size=1, max_size=3, unique_by=str.casefold),
    st.lists(st.lists(people_text, min_size=3, max_size=3), min_size=rows, max_size=rows)))


def cleaned(cell: str) -> str:
    """How a cell is stored: as a chat message is (NFC, no control or direction characters, trimmed)."""
    return clean_message(cell, max_chars=10**9).text


@FUZZ_IMPORTS
@given(table=tables, attribute=st.lists(people_text, min_size=6, max_size=6))
@example(table=(["0"], [["", "", ""]]), attribute=["\n\r0", "", "", "", "", ""])   # found: a CR crashed check_quotes
def test_a_csv_import_keeps_every_answer_and_its_exports_read_back_the_same(world, table, attribute):
    db, owner, _ = world
    headers, rows = table
    frame = pd.DataFrame([row[:len(headers)] for row in rows], columns=headers)
    frame["Group attr"] = attribute[:len(frame)]
    # every field quoted: a bare carriage return in an unquoted field is a line break to any CSV reader
    data = frame.to_csv(index=False, quoting=csv.QUOTE_ALL).encode("utf-8")
    try:
        result = import_responses(db, owner, data, ImportSpec("Fuzzed import", headers, None, ["Group attr"]))
    except ImportProblem as problem:
        assert problem.messages and all(isinstance(m, str) and m for m in problem.messages)
        return
    # every non-empty cell is one answer, stored as cleaned (NFC, no control characters, trimmed)
    stored = [m["content"] for p in json.loads(export_session(db, owner, result.session_id, "transcripts-json"))[
        "participants"] for m in p["messages"] if m["role"] == "participant"]
    expected = [cleaned(c) for c in frame[headers].astype(str).to_numpy().ravel()]
    assert sorted(stored) == sorted(c for c in expected if c)
    # the attribute reads back from the CSV (raw and defused) and the XLSX as it was stored
    values = {cleaned(v) for v in attribute[:len(frame)]} - {""}
    raw = pd.read_csv(io.BytesIO(export_session(db, owner, result.session_id, "participants-csv", raw_cells=True)),
                      dtype=str, keep_default_na=False)
    safe = pd.read_csv(io.BytesIO(export_session(db, owner, result.session_id, "participants-csv")),
                       dtype=str, keep_default_na=False)
    column = next(c for c in raw.columns if c.startswith("Group attr"))
    assert set(raw[column]) - {""} == values
    assert [defused(v) for v in raw[column]] == list(safe[next(c for c in safe.columns if "Group attr" in c)])
    book = openpyxl.load_workbook(io.BytesIO(export_session(db, owner, result.session_id, "participants-xlsx")))
    sheet = book.worksheets[0]
    col = [c.value for c in sheet[1]].index(column) + 1
    assert {sheet.cell(r, col).value for r in range(2, sheet.max_row + 1)} - {None, ""} == values
    # the REFI-QDA project holds every answer in its plain-text sources
    with zipfile.ZipFile(io.BytesIO(export_session(db, owner, result.session_id, "qdpx"))) as project:
        sources = "\n".join(project.read(n).decode("utf-8") for n in project.namelist() if n.endswith(".txt"))
    assert all(answer in sources for answer in stored)
