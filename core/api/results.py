"""Results in the v1 contract (summary, the Markdown report) and ours (themes, every export)."""

from __future__ import annotations

from starlette.responses import Response

from core import export, results
from core.api.http import Call, invalid, not_found
from core.api.sessions import latest_run, session_for, stamp
from core.formats import FORMATS
from core.permissions import Permission


def summary(call: Call) -> dict:
    session = session_for(call)
    run = latest_run(call, session)
    return {"session_id": session.id, "summary": run.summary if run else None,
            "generated_at": stamp(run.created_at) if run else None}


def session_md(call: Call) -> Response:
    session = session_for(call, Permission.EXPORT)
    if latest_run(call, session) is None:
        raise not_found("Summary")
    body = export.export_session(call.db, call.user, session.id, "report-md")
    return Response(body, media_type="text/markdown; charset=utf-8")


def export_file(call: Call) -> Response:
    fmt = call.query.get("format", "")
    if fmt not in FORMATS:
        raise invalid(f"format must be one of: {', '.join(FORMATS)}.")
    try:
        body = export.export_session(call.db, call.user, call.params["id"], fmt,
                                     raw_cells=call.query.get("raw_cells") in ("1", "true"))
    except ValueError as exc:   # a themes or report export before any synthesis
        raise not_found("Synthesis") from exc
    return Response(body, media_type=FORMATS[fmt].mime)


def themes(call: Call) -> dict:
    """The latest synthesis: themes with counts and quotes, as the Results page shows them to this user."""
    session = session_for(call)
    view = results.open(call.db, call.user, session.id).synthesis_view()
    if view is None:
        raise not_found("Synthesis")
    return {"session_id": session.id,
            "run": {"id": view.run.id, "created_at": stamp(view.run.created_at), "mode": view.run.mode,
                    "up_to_date": view.up_to_date, "analysed_participants": view.analysed},
            "data": [{"id": t.theme_id, "position": t.position + 1, "label": t.label, "description": t.description,
                      "participants": t.participants, "mentions": t.mentions, "share": round(t.share, 1),
                      "steadiness": t.steadiness,
                      "quotes": [{"ref": q.ref, "participant": q.participant, "text": q.text} for q in t.quotes]}
                     for t in view.themes]}

