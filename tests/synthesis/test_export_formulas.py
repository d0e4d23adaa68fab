"""Formula injection (issue 14): answers and imported cells never reach a spreadsheet app as formulas."""

import io
import re
import zipfile

import openpyxl
import pandas as pd
import pytest

from core.cells import defused
from core.export import export_session
from core.importer import ImportSpec, import_responses
from core.synthesis.pipeline import Params, synthesize
from tests.synthesis.helpers import TOPICS

BAITS = ['=HYPERLINK("http://evil.example/x","click me")', "=cmd|' /C calc'!A0", "+SUM(1+1)", "-2+3",
         "@SUM(A1:A9)", "\t=1+1", "＝1+1"]
FORMULA = re.compile(r"^[=+\-@\t\r＝＋－＠]")


@pytest.fixture
def baited(db, creator):
    topics = list(TOPICS)
    rows = [{"id": f"+R{i}" if i == 0 else f"R{i}", "What should change?": TOPICS[topics[i % 4]][i % 5] + ".",
             "Region": BAITS[4] if i == 1 else "North"} for i in range(24)]
    for i, bait in enumerate(BAITS):
        rows[i]["What should change?"] = f"{bait} {rows[i]['What should change?']}"
    data = pd.DataFrame(rows).to_csv(index=False).encode("utf-8")
    result = import_responses(db, creator, data, ImportSpec("Baited survey", ["What should change?"], "id", ["Region"]),
                              filename="baited.csv")
    synthesize(db, [result.session_id], params=Params(k=4))
    return result.session_id


def cells_of(csv: bytes) -> list[str]:
    frame = pd.read_csv(io.BytesIO(csv), dtype=str, keep_default_na=False)
    return list(frame.columns) + [v for row in frame.itertuples(index=False) for v in row]


# themes-csv: labels and joined quotes start with the bait only when the clustering picks it, so it is checked for
# safety but not required to carry the bait
@pytest.mark.parametrize("fmt, carries_bait", [("participants-csv", True), ("themes-csv", False),
                                               ("assignments-csv", True)])
def test_csv_cells_that_start_like_formulas_start_with_a_quote(db, creator, baited, fmt, carries_bait):
    safe = cells_of(export_session(db, creator, baited, fmt))
    assert not [c for c in safe if FORMULA.match(c) and not re.fullmatch(r"[+-]?\d+([.,]\d+)?", c)]
    raw = cells_of(export_session(db, creator, baited, fmt, raw_cells=True))
    started = [c for c in raw if FORMULA.match(c)]
    assert started or not carries_bait, "the bait reaches this export"
    assert sorted("'" + c for c in started) == sorted(c for c in safe if c.startswith("'"))  # same text, quoted


def test_xlsx_has_no_formula_cells_and_keeps_the_text(db, creator, baited):
    data = export_session(db, creator, baited, "participants-xlsx")
    book = openpyxl.load_workbook(io.BytesIO(data))
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells if isinstance(c.value, str)}
    assert "+R0" in texts and BAITS[4] in texts                  # as typed: no quote added in a string cell
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheets = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/")]
    assert sheets and not any("<f>" in s or "<f " in s for s in sheets)


@pytest.mark.parametrize("value, expected", [
    ("=1+1", "'=1+1"), ("-2+3", "'-2+3"), ("@x", "'@x"), ("\t=1", "'\t=1"), ("＠x", "'＠x"),
    ("-5", "-5"), ("+3.2", "+3.2"), ("plain", "plain"), ("", ""), (None, None), (7, 7)])
def test_defused(value, expected):
    assert defused(value) == expected
