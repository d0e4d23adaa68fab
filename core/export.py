"""Exports of a session: participants (CSV, XLSX), transcripts (JSON, Markdown), themes and assignments (CSV,
JSON), a report (Markdown, self-contained HTML with the charts) and a REFI-QDA project (.qdpx).

Every export checks access first. Participant text is escaped in Markdown and HTML (it is data, never markup), and
never becomes a spreadsheet formula: CSV cells that start like one get a leading single quote unless `raw_cells`,
XLSX cells are always string cells (core.cells).
"""

from __future__ import annotations

import html
import io
import json

import pandas as pd

from core import results
from core.cells import defused_frame, force_text_cells
from core.db import Database
from core.formats import FORMATS
from core.permissions import Permission
from core.repos import sessions as srepo
from core.repos import synthesis as synrepo
from core.repos.participants import load_json_list
from core.repos.users import User
from core.results import SessionResults, SynthesisView
from core.sessions import get_for
from core.synthesis.segments import finding
from core.text import bullet_item, markdown_text, plural, readable_refs, ref_label

ASSIGNMENT_COLUMNS = ["response_id", "participant_id", "text", "theme_id", "theme_label"]

md_escape = markdown_text  # participant text in Markdown exports: literal, never active, readable raw


def export_session(db: Database, user: User | None, session_id: str, fmt: str, *, raw_cells: bool = False) -> bytes:
    """The export `fmt` of a session. `raw_cells`: CSV cells exactly as typed, even when a spreadsheet app would run
    them as formulas (for tools that read CSV as data; never the default)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format '{fmt}'; choose one of: {', '.join(FORMATS)}")
    opened = results.open(db, user, session_id)     # access checked once for the whole export
    opened.require(Permission.EXPORT)
    if fmt.startswith("transcripts") or fmt == "qdpx":
        opened.require(Permission.VIEW_TRANSCRIPTS)
    if fmt in _CSV_TABLES:
        table = _CSV_TABLES[fmt](opened)
        return (table if raw_cells else defused_frame(table)).to_csv(index=False).encode("utf-8")
    return _BUILDERS[fmt](opened)


# ------------------------------------------------------------------------------------- participants


def participants_table(opened: SessionResults) -> pd.DataFrame:
    table = opened.participants().participants.copy()
    ext = synrepo.participants_frame(opened.db, [opened.session.id]).set_index("participant_id")["external_id"]
    table.insert(1, "external_id", table["id"].map(ext))
    table = table.rename(columns={"id": "participant_id"}).drop(columns=["number"])
    for col in table.columns:
        if pd.api.types.is_datetime64_any_dtype(table[col]):
            table[col] = table[col].dt.strftime("%Y-%m-%d %H:%M:%S")
    return table


def _participants_xlsx(opened: SessionResults) -> bytes:
    buf = io.BytesIO()
    table = participants_table(opened)
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        table.to_excel(writer, index=False, sheet_name="Participants")
        force_text_cells(writer.sheets["Participants"])   # "=…" answers stay text, never formulas
    return buf.getvalue()


# -------------------------------------------------------------------------------------- transcripts


def transcripts(db: Database, user: User | None, session_id: str) -> list[dict]:
    """Every participant's transcript, with their form answers (for those who may read transcripts)."""
    get_for(db, user, session_id, Permission.VIEW_TRANSCRIPTS)
    return _transcripts(db, session_id)


def _transcripts(db: Database, session_id: str) -> list[dict]:
    people = synrepo.participants_frame(db, [session_id])
    # one pass over each frame: slicing a frame per participant cost 1.5 s at 1,000 participants
    form: dict[str, dict] = {}
    for a in synrepo.form_answers_frame(db, [session_id]).itertuples(index=False):
        form.setdefault(a.participant_id, {})[a.field_key] = a.value
    messages: dict[str, list[dict]] = {}
    for m in synrepo.transcripts_frame(db, [session_id]).itertuples(index=False):
        messages.setdefault(m.participant_id, []).append(
            {"id": m.message_id, "seq": int(m.seq), "role": m.role, "kind": m.kind, "step": int(m.step),
             "content": m.content, "created_at": m.created_at.isoformat()})
    return [{"participant": f"Participant {p.number}", "participant_id": p.participant_id,
             "external_id": None if pd.isna(p.external_id) else p.external_id, "status": p.status,
             "included": bool(p.included), "simulated": bool(p.simulated), "form": form.get(p.participant_id, {}),
             "messages": messages.get(p.participant_id, [])}
            for p in people.itertuples(index=False)]


def _transcripts_json(opened: SessionResults) -> bytes:
    return json.dumps({"session_id": opened.session.id, "participants": _transcripts(opened.db, opened.session.id)},
                      ensure_ascii=False, indent=1).encode("utf-8")


def _transcripts_md(opened: SessionResults) -> bytes:
    lines = [f"# Transcripts: {md_escape(opened.session.name)}", ""]
    fields = {f.key: f for f in srepo.get_form(opened.db, opened.session.id)}
    for p in _transcripts(opened.db, opened.session.id):
        lines += [f"## {p['participant']}" + (f" ({md_escape(p['external_id'])})" if p["external_id"] else ""), ""]
        answers = p["form"]     # by the form's labels, in its order; a field since removed keeps its key
        for key in [k for k in fields if k in answers] + [k for k in answers if k not in fields]:
            field, value = fields.get(key), answers[key]
            if field is not None and field.type == "multiple_choice" and isinstance(value, str):
                value = ", ".join(load_json_list(value))
            lines.append(f"- {md_escape(field.label if field else key)}: {md_escape(value)}")
        if p["form"]:
            lines.append("")
        for m in p["messages"]:
            who = "Facilitator" if m["role"] == "facilitator" else "Participant"
            lines += [f"**{who}** <a id=\"m-{m['id']}\"></a>", "", md_escape(m["content"]), ""]
    return "\n".join(lines).encode("utf-8")


# --------------------------------------------------------------------------------- themes, assignments


def _view(opened: SessionResults) -> SynthesisView:
    view = opened.synthesis_view()
    if view is None:
        raise ValueError("This session has no synthesis yet: run `python -m core synthesize SESSION_ID` first.")
    return view


def themes_table(view: SynthesisView) -> pd.DataFrame:
    rows = [{"theme_id": t.theme_id, "label": t.label, "description": t.description,
             "keywords": ", ".join(t.keywords), "participants": t.participants,
             "share_pct": round(t.share, 1), "mentions": t.mentions, **{f"sentiment_{k}": v for k, v in
                                                                       t.sentiment.items()},
             "quotes": " | ".join(q.text for q in t.quotes)} for t in view.themes]
    return pd.DataFrame(rows)


def _run_info(view: SynthesisView) -> dict:
    r = view.run
    return {"id": r.id, "kind": r.kind, "mode": r.mode, "model": r.model, "embedder": r.embedder, "params": r.params,
            "input_hash": r.input_hash, "created_at": r.created_at.isoformat(), "analysed_participants": view.analysed,
            "up_to_date": view.up_to_date}


def _themes_json(opened: SessionResults) -> bytes:
    view = _view(opened)
    themes = [{"theme_id": t.theme_id, "label": t.label, "description": t.description, "keywords": t.keywords,
               "participants": t.participants, "share_pct": round(t.share, 1), "mentions": t.mentions,
               "sentiment": t.sentiment,
               "quotes": [{"ref": q.ref, "text": q.text, "participant": q.participant,
                           "participant_id": q.participant_id,
                           "message_id": q.message_id, "statement_id": q.statement_id} for q in t.quotes]}
              for t in view.themes]
    return json.dumps({"session_id": opened.session.id, "run": _run_info(view), "summary": view.run.summary,
                       "themes": themes}, ensure_ascii=False, indent=1).encode("utf-8")


def assignments_table(db: Database, view: SynthesisView) -> pd.DataFrame:
    """One row per (response, theme): a response is a participant's answer message."""
    st = view.statements.dropna(subset=["theme_id"])
    if st.empty:
        return pd.DataFrame(columns=ASSIGNMENT_COLUMNS)
    labels = {t.theme_id: t.label for t in view.themes}
    contents = synrepo.message_contents(db, list(st["message_id"].unique()))
    people = synrepo.participants_frame(db, view.run.session_ids).set_index("participant_id")["external_id"]
    pairs = st.drop_duplicates(["message_id", "theme_id"])[["message_id", "participant_id", "theme_id"]]
    pairs = pairs[pairs["theme_id"].isin(labels)]
    out = pd.DataFrame({
        "response_id": pairs["message_id"],
        "participant_id": [people.get(p) if isinstance(people.get(p), str) else p for p in pairs["participant_id"]],
        "text": pairs["message_id"].map(contents),
        "theme_id": pairs["theme_id"],
        "theme_label": pairs["theme_id"].map(labels),
    })
    return out.sort_values(["response_id", "theme_id"]).reset_index(drop=True)


def _assignments_json(opened: SessionResults) -> bytes:
    view = _view(opened)
    rows = assignments_table(opened.db, view).to_dict("records")
    return json.dumps({"session_id": opened.session.id, "run": _run_info(view), "assignments": rows},
                      ensure_ascii=False, indent=1).encode("utf-8")


# -------------------------------------------------------------------------------------------- report


def _segment_tables(opened: SessionResults, view: SynthesisView) -> list:
    out = []
    for key in opened.segment_fields():
        try:
            out.append(opened.segments(view, key))
        except Exception:  # a field nobody answered: no table
            continue
    return out


def _report_md(opened: SessionResults) -> bytes:
    view = _view(opened)
    ov = opened.overview()
    s = view.session
    lines = [f"# {md_escape(s.name)}: results", "",
             f"Synthesis run {view.run.id} ({view.run.kind}, {view.run.mode}, {view.run.embedder}), "
             f"{view.run.created_at:%Y-%m-%d %H:%M} UTC{'' if view.up_to_date else ' — not up to date'}.", "",
             f"Participants: {ov.started} started, {ov.finished - ov.ended_early} completed, {ov.ended_early} ended "
             f"early, {ov.included} included; median answer "
             f"{ov.median_answer_words:.0f} words.", "", "## Summary", ""]
    lines += [markdown_text(readable_refs(view.run.summary), bullets=True), "", "## Themes", "",
                                                                          "| # | Theme | People | Share | Mentions |",
                                                                          "|---|---|---|---|---|"]
    for t in view.themes:
        lines.append(f"| {t.position + 1} | {md_escape(t.label)} | {t.participants} | {t.share:.0f}% | {t.mentions} |")
    lines += ["", "_Counts describe this sample only._", ""]
    for t in view.themes:
        lines += [f"### {t.position + 1}. {md_escape(t.label)}", "", md_escape(t.description), ""]
        for q in t.quotes:
            lines.append(f"> **{ref_label(q.ref).capitalize()}** {md_escape(q.text)} — {q.participant}  ")
        lines.append("")
    for table in _segment_tables(opened, view):
        lines += [f"## By {md_escape(table.field)}", ""]
        for t in table.tests:
            if t.notable:
                lines.append(f"- {md_escape(t.label)} {md_escape(finding(t))}")
        lines += ["", md_escape(table.caveat), ""]
    return "\n".join(lines).encode("utf-8")


def _html_paragraphs(text: str) -> str:
    """Plain text as HTML: a line starting "- " (a summary's bullets) is a list item, any other line a paragraph."""
    blocks: list[str] = []
    for line in filter(str.strip, text.splitlines()):
        item = bullet_item(line)
        if item is None:
            blocks.append(f"<p>{html.escape(line)}</p>")
        elif blocks and blocks[-1].endswith("</ul>"):      # the list goes on
            blocks[-1] = blocks[-1].removesuffix("</ul>") + f"<li>{html.escape(item)}</li></ul>"
        else:
            blocks.append(f"<ul><li>{html.escape(item)}</li></ul>")
    return "".join(blocks)


def _report_html(opened: SessionResults) -> bytes:
    from core.results import COVERAGE_GRID_MAX
    from core.synthesis.figures import coverage_bar, coverage_heatmap, segment_heatmap, sentiment_bar, theme_bar

    view = _view(opened)
    ov = opened.overview()
    e = html.escape
    figs = []       # (title, figure, what the figure's marks mean: HTML)
    if view.themes:
        figs.append(("Themes", theme_bar(view.themes, view.analysed), ""))
        figs.append(("Sentiment per theme", sentiment_bar(view.themes), ""))
    for table in _segment_tables(opened, view):
        notable = "".join(f"<li>{e(t.label)} {e(finding(t))}</li>" for t in table.tests if t.notable)
        figs.append((f"Themes by {table.field}", segment_heatmap(table),
                     (f"<p>★ marks a theme that differs notably between groups:</p><ul>{notable}</ul>" if notable
                      else "<p>No theme differs notably between groups.</p>") + f"<p><i>{e(table.caveat)}</i></p>"))
    if ov.included > COVERAGE_GRID_MAX:   # a column per participant would be unreadable (and huge): counts
        counts = opened.coverage_counts()
        if not counts.empty:
            figs.append(("Coverage of critical items", coverage_bar(counts), ""))
    else:
        matrix = opened.coverage()
        if not matrix.empty and matrix.shape[1]:
            figs.append(("Coverage of critical items", coverage_heatmap(matrix), ""))
    chart_html = []
    for i, (title, fig, note) in enumerate(figs):
        chart_html.append(f"<h2>{e(title)}</h2>" + fig.to_html(full_html=False, include_plotlyjs=(i == 0),
                                                               default_width="100%") + note)
    themes_html = []
    for t in view.themes:
        quotes = "".join(f"<blockquote><b>{e(ref_label(q.ref).capitalize())}</b> {e(q.text)} "
                         f"<cite>— {e(q.participant)}</cite></blockquote>"
                         for q in t.quotes)
        themes_html.append(f"<h3>{t.position + 1}. {e(t.label)}</h3><p>{plural(t.participants, 'participant')} "
                           f"({t.share:.0f}%), {plural(t.mentions, 'mention')}. {e(t.description)}</p>{quotes}")
    summary = _html_paragraphs(readable_refs(view.run.summary))
    doc = f"""<!doctype html>
<html lang="{e(view.session.language)}"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; \
style-src 'unsafe-inline'; img-src data:; font-src data:">
<title>{e(view.session.name)}: results</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#111}}
blockquote{{border-left:3px solid #4f46e5;margin:.5em 0;padding:.2em .8em;color:#333}}cite{{color:#666}}</style>
</head><body>
<h1>{e(view.session.name)}: results</h1>
<p>Synthesis run {e(view.run.id)} ({e(view.run.kind)}, {e(view.run.mode)}, {e(view.run.embedder)}),
{view.run.created_at:%Y-%m-%d %H:%M} UTC{'' if view.up_to_date else ' — not up to date'}.
Participants: {ov.started} started, {ov.finished - ov.ended_early} completed, {ov.ended_early} ended early, \
{ov.included} included.</p>
<h2>Summary</h2>{summary}
{''.join(chart_html)}
<p><i>Counts describe this sample only.</i></p>
<h2>Themes and quotes</h2>{''.join(themes_html)}
</body></html>"""
    return doc.encode("utf-8")


def _qdpx(opened: SessionResults) -> bytes:
    from core.qdpx import build_qdpx

    return build_qdpx(opened.db, opened.user, opened.session.id, opened.synthesis_view())


_CSV_TABLES = {
    "participants-csv": participants_table,
    "themes-csv": lambda opened: themes_table(_view(opened)),
    "assignments-csv": lambda opened: assignments_table(opened.db, _view(opened)),
}
_BUILDERS = {
    "participants-xlsx": _participants_xlsx,
    "transcripts-json": _transcripts_json, "transcripts-md": _transcripts_md,
    "themes-json": _themes_json, "assignments-json": _assignments_json,
    "report-md": _report_md, "report-html": _report_html, "qdpx": _qdpx,
}
