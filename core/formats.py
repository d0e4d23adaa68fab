"""Export formats (kept apart from core.export so the command line can list them without heavy imports)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Format:
    label: str
    extension: str
    mime: str


FORMATS: dict[str, Format] = {
    "participants-csv": Format("Participants with form answers (CSV)", "csv", "text/csv"),
    "participants-xlsx": Format("Participants with form answers (Excel)", "xlsx",
                                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "transcripts-json": Format("Transcripts (JSON)", "json", "application/json"),
    "transcripts-md": Format("Transcripts (Markdown)", "md", "text/markdown"),
    "themes-csv": Format("Themes (CSV)", "csv", "text/csv"),
    "themes-json": Format("Themes with quotes (JSON)", "json", "application/json"),
    "assignments-csv": Format("Response → theme assignments (CSV)", "csv", "text/csv"),
    "assignments-json": Format("Response → theme assignments (JSON)", "json", "application/json"),
    "report-md": Format("Report (Markdown)", "md", "text/markdown"),
    "report-html": Format("Report (HTML, self-contained, with charts)", "html", "text/html"),
    "qdpx": Format("REFI-QDA project for QualCoder / NVivo / ATLAS.ti (.qdpx)", "qdpx", "application/zip"),
}


def export_filename(session_name: str, fmt: str) -> str:
    """"retro-q3-themes.csv": the session's name (ASCII, lower case, dashes) and what the file holds, so the
    exports of one session never overwrite each other and say what they are."""
    ascii_name = unicodedata.normalize("NFKD", session_name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:60].strip("-") or "harmonica-session"
    kind = fmt.rsplit("-", 1)[0] if "-" in fmt else "project"
    return f"{slug}-{kind}.{FORMATS[fmt].extension}"
