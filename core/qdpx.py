"""REFI-QDA project export (.qdpx): a zip with `project.qde` (XML, namespace urn:QDA-XML:project:1.0) and one
plain-text source per participant transcript under `sources/`, so QualCoder, NVivo or ATLAS.ti open the coded data.

Structure, in the order of the REFI-QDA Project schema:
  Project > Users > User
          > CodeBook > Codes > Code (one per theme, with Description)
          > Variables > Variable (one per pre-session form field)
          > Cases > Case (one per participant: VariableValue*, SourceRef)
          > Sources > TextSource (plainTextPath="internal://<guid>.txt")
                        > PlainTextSelection (startPosition/endPosition: 0-based character offsets, end exclusive)
                            > Coding > CodeRef (the theme's Code)
"""

from __future__ import annotations

import io
import uuid
import xml.etree.ElementTree as ET
import zipfile

from core.clock import utcnow
from core.db import Database
from core.repos import sessions as srepo
from core.repos import synthesis as synrepo
from core.repos.users import User
from core.text import plural

NS = "urn:QDA-XML:project:1.0"
COLORS = ["#4f46e5", "#16a34a", "#dc2626", "#d97706", "#0891b2", "#9333ea", "#db2777", "#65a30d", "#475569",
          "#ea580c"]


def _guid() -> str:
    return str(uuid.uuid4())


def transcript_text(messages) -> tuple[str, dict[str, int]]:
    """A participant's transcript as plain text, and where each message's content starts in it."""
    parts, offsets, pos = [], {}, 0
    for m in messages.itertuples(index=False):
        prefix = ("Facilitator" if m.role == "facilitator" else "Participant") + ": "
        offsets[m.message_id] = pos + len(prefix)
        chunk = prefix + m.content + "\n\n"
        parts.append(chunk)
        pos += len(chunk)
    return "".join(parts), offsets


def build_qdpx(db: Database, user: User | None, session_id: str, view) -> bytes:
    """The .qdpx bytes for a session (access is checked by the caller, core.export)."""
    session = srepo.get_session(db, session_id)
    now = utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
    user_guid = _guid()
    ET.register_namespace("", NS)
    q = lambda tag: f"{{{NS}}}{tag}"  # noqa: E731
    project = ET.Element(q("Project"), {"name": session.name, "origin": "Harmonica", "creatingUserGUID": user_guid,
                                        "creationDateTime": now})
    users = ET.SubElement(project, q("Users"))
    ET.SubElement(users, q("User"), {"guid": user_guid, "name": user.username if user else "operator"})

    code_guid: dict[str, str] = {}
    codebook = ET.SubElement(project, q("CodeBook"))
    codes = ET.SubElement(codebook, q("Codes"))
    for i, t in enumerate(view.themes if view else []):
        code_guid[t.theme_id] = _guid()
        code = ET.SubElement(codes, q("Code"), {"guid": code_guid[t.theme_id], "name": t.label, "isCodable": "true",
                                                "color": COLORS[i % len(COLORS)]})
        counts = f"{plural(t.participants, 'participant')}, {plural(t.mentions, 'mention')}"
        ET.SubElement(code, q("Description")).text = f"{t.description} {counts} (Harmonica theme {t.theme_id})."

    form = srepo.get_form(db, session_id)
    answers = synrepo.form_answers_frame(db, [session_id])
    var_guid = {f.key: _guid() for f in form}
    if form:
        variables = ET.SubElement(project, q("Variables"))
        for f in form:
            ET.SubElement(variables, q("Variable"), {"guid": var_guid[f.key], "name": f.label,
                                                     "typeOfVariable": "Text"})

    people = synrepo.participants_frame(db, [session_id])
    messages = synrepo.transcripts_frame(db, [session_id])
    by_p = {pid: g for pid, g in messages.groupby("participant_id", sort=False)}
    statements = view.statements.dropna(subset=["theme_id"]) if view is not None else None
    st_by_p = {pid: g for pid, g in statements.groupby("participant_id", sort=False)} if statements is not None else {}
    source_guid = {p: _guid() for p in people["participant_id"]}

    if len(people):
        cases = ET.SubElement(project, q("Cases"))
        values = {}
        for r in answers.itertuples(index=False):
            values.setdefault(r.participant_id, {})[r.field_key] = r.value
        for p in people.itertuples(index=False):
            case = ET.SubElement(cases, q("Case"), {"guid": _guid(), "name": f"Participant {p.number}"})
            for key, value in values.get(p.participant_id, {}).items():
                if key in var_guid:
                    vv = ET.SubElement(case, q("VariableValue"))
                    ET.SubElement(vv, q("VariableRef"), {"targetGUID": var_guid[key]})
                    ET.SubElement(vv, q("TextValue")).text = value
            ET.SubElement(case, q("SourceRef"), {"targetGUID": source_guid[p.participant_id]})

    sources = ET.SubElement(project, q("Sources"))
    files: dict[str, str] = {}
    for p in people.itertuples(index=False):
        g = by_p.get(p.participant_id)
        if g is None:
            continue
        text, offsets = transcript_text(g)
        guid = source_guid[p.participant_id]
        files[f"sources/{guid}.txt"] = text
        src = ET.SubElement(sources, q("TextSource"), {"guid": guid, "name": f"Participant {p.number}",
                                                       "plainTextPath": f"internal://{guid}.txt",
                                                       "creatingUser": user_guid, "creationDateTime": now})
        mine = st_by_p.get(p.participant_id)
        for s in ([] if mine is None else mine.itertuples(index=False)):
            if s.theme_id not in code_guid or s.message_id not in offsets:
                continue
            start = offsets[s.message_id] + int(s.start_pos)
            end = offsets[s.message_id] + int(s.end_pos)
            if text[start:end] != s.text:  # the verbatim check, again, in the exported source
                continue
            sel = ET.SubElement(src, q("PlainTextSelection"), {
                "guid": _guid(), "name": s.text[:60], "startPosition": str(start), "endPosition": str(end),
                "creatingUser": user_guid, "creationDateTime": now})
            coding = ET.SubElement(sel, q("Coding"), {"guid": _guid(), "creatingUser": user_guid,
                                                      "creationDateTime": now})
            ET.SubElement(coding, q("CodeRef"), {"targetGUID": code_guid[s.theme_id]})
    ET.SubElement(project, q("Description")).text = (f"Exported from Harmonica; session {session_id}"
                                                     + (f", synthesis run {view.run.id}." if view else "."))

    xml = ET.tostring(project, encoding="utf-8", xml_declaration=True)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("project.qde", xml)
        for name, text in files.items():
            z.writestr(name, text.encode("utf-8"))
    return buf.getvalue()
