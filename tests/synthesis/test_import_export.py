import io
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from core import results
from core.export import FORMATS, export_session
from core.importer import MAX_CELL_CHARS, ImportProblem, ImportSpec, import_responses
from core.permissions import AccessDenied
from core.repos import sessions as srepo
from core.synthesis.pipeline import Params, synthesize
from tests.synthesis.helpers import TOPICS

ROOT = Path(__file__).resolve().parents[2]
NS = {"q": "urn:QDA-XML:project:1.0"}


def survey_csv(n: int = 24) -> bytes:
    topics = list(TOPICS)
    rows = []
    for i in range(n):
        t = topics[i % 4]
        rows.append({"Respondent ID": f"R{i:03d}", "What should change?": TOPICS[t][i % 5] + ".",
                     "Anything else?": "" if i % 3 else TOPICS[topics[(i + 1) % 4]][(i + 2) % 5] + ".",
                     "Region": "North" if i % 2 else "South", "Ignored": "x"})
    rows[0]["What should change?"] = "Déploiements lents — the deploy pipeline breaks, «toujours». <b>bold</b>"
    return pd.DataFrame(rows).to_csv(index=False).encode("utf-8")


SPEC = ImportSpec("Staff survey 2026", ["What should change?", "Anything else?"], "Respondent ID", ["Region"])


@pytest.fixture
def imported(db, creator):
    result = import_responses(db, creator, survey_csv(), SPEC, filename="survey.csv")
    synthesize(db, [result.session_id], params=Params(k=4))
    return result


def test_import_creates_a_closed_session_with_steps_segments_and_participants(db, creator, imported):
    r = imported
    assert (r.participants, r.answers, r.empty_cells) == (24, 24 + 8, 16)
    s = srepo.get_session(db, r.session_id)
    assert s.status == "closed" and s.owner_id == creator.id and s.name == "Staff survey 2026"
    steps = srepo.get_guide_version(db, s.id, s.guide_version).steps
    assert [st.question for st in steps] == ["What should change?", "Anything else?"]
    form = srepo.get_form(db, s.id)
    assert [(f.label, f.type, f.options) for f in form] == [("Region", "single_choice", ["North", "South"])]
    view = results.open(db, creator, s.id).synthesis_view()
    assert view.analysed == 24 and view.themes


@pytest.mark.parametrize("data, spec, message", [
    (b"", SPEC, "empty"),
    ("a,b\n1,2\n".encode("utf-16"), SPEC, "not UTF-8"),
    (b"Respondent ID,What should change?\n", SPEC, "no answers"),
    (b"Respondent ID,Other\nR1,hello\n", SPEC, "Column 'What should change?' is not in the file"),
    (f"id,text\nR1,{'x' * (MAX_CELL_CHARS + 1)}\n".encode(), ImportSpec("T", ["text"], "id"), "Row 2, column 'text'"),
])
def test_import_validation_messages(db, creator, data, spec, message):
    with pytest.raises(ImportProblem) as err:
        import_responses(db, creator, data, spec)
    assert message in " ".join(err.value.messages)


def test_bulk_import_of_many_rows_is_fast(db, creator):
    import time

    rows = pd.DataFrame({"text": [f"Answer number {i} about the deploy pipeline and meetings." for i in range(5000)]})
    started = time.perf_counter()
    r = import_responses(db, creator, rows.to_csv(index=False).encode(), ImportSpec("Big", ["text"]))
    assert r.participants == 5000 and time.perf_counter() - started < 15


def test_round_trip_assignments_and_participants(db, creator, imported):
    sid = imported.session_id
    frame = pd.read_csv(io.BytesIO(export_session(db, creator, sid, "assignments-csv")), keep_default_na=False)
    assert list(frame.columns) == ["response_id", "participant_id", "text", "theme_id", "theme_label"]
    original = pd.read_csv(io.BytesIO(survey_csv()), dtype=str, keep_default_na=False)
    said = set(original["What should change?"]) | set(original["Anything else?"])
    assert set(frame["text"]) <= said                       # the response text, exactly as imported
    assert set(frame["participant_id"]) <= set(original["Respondent ID"])
    assert not frame.duplicated(["response_id", "theme_id"]).any()
    view = results.open(db, creator, sid).synthesis_view()
    assert set(frame["theme_label"]) <= {t.label for t in view.themes}
    people = pd.read_csv(io.BytesIO(export_session(db, creator, sid, "participants-csv")))
    assert len(people) == 24 and "Region" in people.columns and "external_id" in people.columns
    xlsx = pd.read_excel(io.BytesIO(export_session(db, creator, sid, "participants-xlsx")))
    assert list(xlsx["external_id"]) == list(people["external_id"])
    data = json.loads(export_session(db, creator, sid, "assignments-json"))
    assert len(data["assignments"]) == len(frame) and data["run"]["id"] == view.run.id
    themes = json.loads(export_session(db, creator, sid, "themes-json"))
    assert [t["label"] for t in themes["themes"]] == [t.label for t in view.themes]
    assert pd.read_csv(io.BytesIO(export_session(db, creator, sid, "themes-csv")))["participants"].sum() > 0


def test_transcripts_and_reports_escape_participant_text(db, creator, imported):
    sid = imported.session_id
    tr = json.loads(export_session(db, creator, sid, "transcripts-json"))
    assert len(tr["participants"]) == 24
    contents = [m["content"] for p in tr["participants"] for m in p["messages"]]
    assert any("«toujours»" in c and "<b>bold</b>" in c for c in contents)   # JSON keeps the exact text
    md = export_session(db, creator, sid, "transcripts-md").decode()
    assert "\\<b\\>bold\\</b\\>" in md and "<b>bold</b>" not in md
    html = export_session(db, creator, sid, "report-html").decode()
    assert "<b>bold</b>" not in html and "Plotly.newPlot" in html and "src=\"http" not in html
    summary = html.split("<h2>Summary</h2>", 1)[1].split("<div", 1)[0]
    assert "was raised by" in summary.split("<ul>", 1)[1] and "<p>- " not in html    # the summary's points: a list
    by_segment = html.split("<h2>Themes by ", 1)[1]      # its heatmap's ★ is explained under it, with the caveat
    assert "★ marks a theme" in by_segment or "No theme differs notably" in by_segment
    report = export_session(db, creator, sid, "report-md").decode()
    assert "## Themes" in report and "sample only" in report
    for text in (html, report):     # completed and ended early apart, as on the results page
        assert "24 started, 24 completed, 0 ended early" in text


def test_the_markdown_report_renders_as_written_lists_and_all_and_nothing_in_it_acts(db, creator, imported):
    """Read by a CommonMark renderer: the summary's points are a list, its words are not sprinkled with
    backslashes, and participants' text stays text (no image, link, HTML or emphasis)."""
    from markdown_it import MarkdownIt

    sid = imported.session_id
    srepo.update_session(db, sid, name="Retro: Q3, *all* teams ![x](http://tracker.example/x.png)")
    report = export_session(db, creator, sid, "report-md").decode()
    summary = report.split("## Summary", 1)[1].split("## Themes", 1)[0]
    assert "\\," not in summary and "\\:" not in summary and "\\." not in summary
    rendered = MarkdownIt("commonmark").enable("table").render(report)
    assert rendered.count("<ul>") >= 1 and "was raised by" in rendered.split("<ul>", 1)[1].split("</ul>", 1)[0]
    assert "<img" not in rendered and "<a " not in rendered
    assert "Retro: Q3, *all* teams ![x](http://tracker.example/x.png)" in \
        rendered.split("<h1>", 1)[1].split("</h1>", 1)[0].replace("&quot;", '"')


def test_every_export_of_a_session_has_its_own_file_name_after_the_session():
    from core.formats import export_filename

    names = [export_filename("Retro Q3 — Équipe", fmt) for fmt in FORMATS]
    assert len(set(names)) == len(names)
    assert export_filename("Retro Q3 — Équipe", "themes-csv") == "retro-q3-equipe-themes.csv"
    assert all(n.startswith("retro-q3-equipe-") for n in names)
    assert export_filename("!!!", "report-html") == "harmonica-session-report.html"


def test_qdpx_follows_the_refi_qda_project_structure(db, creator, imported):
    sid = imported.session_id
    z = zipfile.ZipFile(io.BytesIO(export_session(db, creator, sid, "qdpx")))
    names = z.namelist()
    assert "project.qde" in names
    root = ET.fromstring(z.read("project.qde"))
    assert root.tag == "{urn:QDA-XML:project:1.0}Project"
    order = [child.tag.split("}")[1] for child in root]
    assert order == ["Users", "CodeBook", "Variables", "Cases", "Sources", "Description"]
    codes = {c.get("guid"): c.get("name") for c in root.findall("q:CodeBook/q:Codes/q:Code", NS)}
    view = results.open(db, creator, sid).synthesis_view()
    assert sorted(codes.values()) == sorted(t.label for t in view.themes)
    sources = root.findall("q:Sources/q:TextSource", NS)
    assert len(sources) == 24
    selections = 0
    for src in sources:
        path = src.get("plainTextPath")
        assert path.startswith("internal://")
        text = z.read("sources/" + path[len("internal://"):]).decode("utf-8")
        for sel in src.findall("q:PlainTextSelection", NS):
            a, b = int(sel.get("startPosition")), int(sel.get("endPosition"))
            assert text[a:b] == sel.get("name") or text[a:b].startswith(sel.get("name"))
            ref = sel.find("q:Coding/q:CodeRef", NS)
            assert ref.get("targetGUID") in codes
            selections += 1
    assert selections == len(view.statements.dropna(subset=["theme_id"]))
    cases = root.findall("q:Cases/q:Case", NS)
    assert len(cases) == 24 and cases[0].find("q:VariableValue/q:TextValue", NS).text in ("North", "South")
    for guid in [x.get("guid") for x in root.iter() if x.get("guid")]:
        assert len(guid) == 36 and guid.count("-") == 4


def test_exports_check_access(db, creator, other_user, imported):
    with pytest.raises(AccessDenied):
        export_session(db, other_user, imported.session_id, "assignments-csv")
    with pytest.raises(ValueError):
        export_session(db, creator, imported.session_id, "pdf")
    assert set(FORMATS) >= {"participants-csv", "participants-xlsx", "transcripts-json", "transcripts-md",
                            "themes-csv", "themes-json", "assignments-csv", "assignments-json", "report-md",
                            "report-html", "qdpx"}


# ------------------------------------------------------------------------------------------------ CLI


def run_cli(*args, env):
    full = {**os.environ, **env, "HARMONICA_AUTO_SYNTHESIS": "0"}
    full.pop("OPENAI_API_KEY", None)
    full.pop("OPENAI_BASE_URL", None)
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, env=full, capture_output=True, text=True,
                          timeout=180)


def test_cli_import_synthesize_export(tmp_path):
    env = {"HARMONICA_DB": str(tmp_path / "h.duckdb"), "HARMONICA_SECRETS_DIR": str(tmp_path / "s")}
    csv_path = tmp_path / "survey.csv"
    csv_path.write_bytes(survey_csv())
    out = run_cli("import-responses", str(csv_path), "--title", "CLI survey", "--text-column", "What should change?",
                  "--participant-column", "Respondent ID", "--attribute-column", "Region", env=env)
    assert out.returncode == 0, out.stderr
    session_id = out.stdout.strip().splitlines()[-1]
    assert len(session_id) == 16
    out = run_cli("synthesize", session_id, "--mode", "offline", env=env)
    assert out.returncode == 0, out.stderr
    assert "themes from" in out.stdout
    target = tmp_path / "assign.csv"
    out = run_cli("export", session_id, "--format", "assignments-csv", "--out", str(target), env=env)
    assert out.returncode == 0, out.stderr
    frame = pd.read_csv(target, keep_default_na=False)
    assert list(frame.columns) == ["response_id", "participant_id", "text", "theme_id", "theme_label"]
    assert len(frame) >= 24 and frame["participant_id"].str.startswith("R").all()
    bad = run_cli("import-responses", str(csv_path), "--title", "x", "--text-column", "Nope", env=env)
    assert bad.returncode == 1 and "Column 'Nope' is not in the file" in bad.stderr


def test_form_answers_read_by_their_labels_in_the_forms_order(db, creator):
    """Exports a person reads: the transcripts' form answers and the participants table go by the form's labels
    and order (not its keys sorted), a multiple choice as its choices."""
    from core import conversation
    from core.forms import FormField
    from tests.helpers import launched_session

    form = [FormField("zone", "Which zone?", "single_choice", False, ["North", "South"]),
            FormField("apps", "Apps you use", "multiple_choice", False, ["Mail", "Chat", "Wiki"])]
    s = launched_session(db, creator, form=form)
    conversation.join(db, s.id, {"zone": "South", "apps": ["Chat", "Wiki"]})
    md = export_session(db, creator, s.id, "transcripts-md").decode()
    assert "- Which zone?: South\n- Apps you use: Chat, Wiki\n" in md and "zone:" not in md
    table = pd.read_csv(io.BytesIO(export_session(db, creator, s.id, "participants-csv")))
    assert [c for c in table.columns if c in ("Which zone?", "Apps you use")] == ["Which zone?", "Apps you use"]
    assert table["Apps you use"].iloc[0] == "Chat, Wiki"
