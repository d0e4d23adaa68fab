"""A CSV whose quoting swallows rows is refused with the line where the quote opened (issue 15, point 12)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from core.importer import ImportProblem, ImportSpec, import_responses, read_table
from core.sessions import list_for

ROOT = Path(__file__).resolve().parents[2]
SPEC = ImportSpec("Quotes", ["text"], "id")

# Row R1 opens a quote and never closes it; the quote that opens R3's field closes it, and a letter follows:
# pandas reads lines 2-4 as one cell, three rows as one participant.
SWALLOWED = b'id,text\nR1,"the deploy pipeline is slow\nR2,too many meetings\nR3,"coffee"\n'


def sessions(db, user) -> int:
    return len(list_for(db, user))


def test_a_quote_that_swallows_rows_is_refused_naming_its_line(db, creator):
    before = sessions(db, creator)
    with pytest.raises(ImportProblem) as err:
        import_responses(db, creator, SWALLOWED, SPEC, filename="answers.csv")
    text = " ".join(err.value.messages)
    assert text.startswith("Line 2: a quoted field opens here") and "lines 2–4" in text
    assert "Nothing was imported" in text
    assert sessions(db, creator) == before                      # nothing half-imported


def test_the_opening_line_is_found_after_a_legitimate_multi_line_answer():
    data = (b'id,text\nR1,"first line\nsecond line"\nR2,fine\nR3,He wrote ""ok"" here\n'
            b'R4,"never closed\nR5,x\nR6,y\nR7,"z"\n')
    with pytest.raises(ImportProblem) as err:
        read_table(data)
    assert (err.value.messages[0].startswith("Line 6: a quoted field opens here")
            and "lines 6–9" in err.value.messages[0])


def test_a_quote_left_open_to_the_end_of_the_file_is_refused(db, creator):
    with pytest.raises(ImportProblem) as err:
        import_responses(db, creator, b"id,text\nR1,fine\nR2,\"open\nR3,lost\nR4,lost too\n", SPEC)
    assert err.value.messages[0].startswith("Line 3: a quoted field opens here and is never closed")
    assert "lines 3–5 (the end of the file)" in err.value.messages[0]


def test_valid_quoting_still_imports(db, creator):
    data = (b'id,text\r\nR1,"Two lines,\r\nwith a comma"\r\nR2,"He said ""hi"" twice"\r\n'
            b'R3,plain\r\nR4,"quoted, one line"\r\n')
    result = import_responses(db, creator, data, SPEC)
    assert (result.participants, result.answers, result.warnings) == (4, 4, [])
    texts = [r[0] for r in db.fetchall("SELECT content FROM messages WHERE role = 'participant' ORDER BY content")]
    assert "Two lines,\nwith a comma" in texts and 'He said "hi" twice' in texts


def test_a_closed_quote_over_lines_that_look_like_rows_is_imported_with_a_warning(db, creator):
    data = b'id,text\nR1,"the deploy pipeline is slow\nR2,too many meetings\nR3,coffee"\nR4,plain\n'
    result = import_responses(db, creator, data, SPEC)
    assert result.participants == 2 and len(result.warnings) == 1
    assert result.warnings[0].startswith("Line 2: one answer runs over lines 2–4")


def test_the_command_line_refuses_it_too(tmp_path, db_path):
    path = tmp_path / "answers.csv"
    path.write_bytes(SWALLOWED)
    done = subprocess.run([sys.executable, "-m", "core", "import-responses", str(path), "--title", "Quotes",
                           "--text-column", "text", "--participant-column", "id"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Line 2: a quoted field opens here" in done.stderr
