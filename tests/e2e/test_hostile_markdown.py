"""Markdown and HTML typed into any field people control never load or link anything (issue 14).

Every user- or data-controlled field of a seeded session (brief, guide, guide note, form labels and options,
consent text, participants' answers, a codebook label, a project, an imported file's title, headers and values)
holds a markdown image, a markdown link, a bare URL and an <img> tag, all pointing at a canary HTTP server on
127.0.0.1. Chromium then opens every page and tab that shows them, as their owner, as a participant and as a
signed-out visitor of a public link: the canary must receive no request and no page may hold an <img> or a link
to it, while the bait's text itself is shown.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import pandas as pd
import pytest

from tests.browser import require_browser
from tests.e2e import harness

DESIGN_TABS = ["Brief", "Facilitation guide", "Pre-session form", "Settings", "Share & status", "Members & privacy"]
RESULT_TABS = ["Summary", "Themes", "By segment", "Coverage", "Sentiment", "Codebook", "Participants"]


class Canary:
    """An HTTP server that only records that someone asked it for something."""

    def __init__(self) -> None:
        hits = self.hits = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server naming
                hits.append(self.path)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def short(self, tag: str) -> str:
        """A bait that fits a name (at most 120 characters)."""
        return f"{tag} ![i](http://{self.host}/{tag}.png)"

    def long(self, tag: str) -> str:
        return (f"{tag} ![i](http://{self.host}/{tag}-md.png) [click](http://{self.host}/{tag}-link) "
                f"http://{self.host}/{tag}-auto <img src=\"http://{self.host}/{tag}-html.png\"> and more words")


@pytest.fixture
def baited(tmp_path, monkeypatch):
    require_browser()
    monkeypatch.setenv("HARMONICA_AUTO_SYNTHESIS", "0")    # prepare() writes synchronously, then closes the file
    canary = Canary()
    found = {}

    def prepare(path: Path, demo: harness.Demo) -> None:
        from core import conversation, results
        from core.brief import Brief
        from core.db import open_database
        from core.forms import FormField
        from core.guide import Step
        from core.importer import ImportSpec, import_responses
        from core.projects import add_session, create_project
        from core.repos import sessions as srepo
        from core.repos import users as urepo
        from core.sessions import save_form, save_guide, save_privacy, update_brief
        from core.sharing import PUBLIC_SECTIONS, create_public_link, set_audience_quotes, set_visibility
        from core.synthesis.pipeline import synthesize

        db = open_database(path)
        owner = urepo.get_by_username(db, demo.username)
        sid = demo.session_id
        item = canary.short("item")
        update_brief(db, owner, sid, Brief(canary.short("name"), canary.long("objective"),
                                           [item, *srepo.get_session(db, sid).critical_items],
                                           canary.long("context")))
        steps = srepo.get_guide_version(db, sid, srepo.get_session(db, sid).guide_version).steps
        save_guide(db, owner, sid, [Step(canary.long("question"), canary.long("probe"), item), *steps[1:]],
                   note=canary.short("note"))
        save_form(db, owner, sid, [
            FormField("team", canary.short("label"), "single_choice", True, [canary.short("option"), "Plain"]),
            FormField("why", canary.short("text-label"), "short_text")])
        save_privacy(db, owner, sid, canary.long("consent"), False)
        for i in range(4):
            p = conversation.join(db, sid, {"team": canary.short("option") if i % 2 else "Plain", "why": ""})
            conversation.send(db, p.token, canary.long(f"answer{i}") + " The deploys are slow and reviews wait.")
            conversation.finish(db, p.token)
        found["chat"] = conversation.join(db, sid, {"team": "Plain", "why": ""}).token
        synthesize(db, [sid])
        opened = results.open(db, owner, sid)
        view = opened.synthesis_view()
        opened.edit_codebook("rename", theme_id=view.themes[0].theme_id, label=canary.short("theme"))
        set_visibility(db, owner, sid, "public")
        set_audience_quotes(db, owner, sid, True, 2)
        found["public"] = create_public_link(db, owner, sid, list(PUBLIC_SECTIONS))
        project = create_project(db, owner, canary.short("project"), canary.long("project-description"))
        add_session(db, owner, project.id, sid)
        found["project"] = project.id
        rows = [{"id": f"R{i}", canary.short("header"): canary.long(f"cell{i}") + " Meetings eat the afternoon.",
                 "Region": canary.short("region") if i % 2 else "North"} for i in range(8)]
        imported = import_responses(db, owner, pd.DataFrame(rows).to_csv(index=False).encode(),
                                    ImportSpec(canary.short("import"), [canary.short("header")], "id", ["Region"]),
                                    filename="baited.csv")
        synthesize(db, [imported.session_id])
        found["imported"] = imported.session_id
        db.close()

    with harness.demo_server(tmp_path, participants=0, prepare=prepare) as (server, demo):
        yield server, demo, canary, found
    canary.server.shutdown()


def test_no_field_loads_or_links_anything_on_any_page(baited, new_page):
    server, demo, canary, found = baited
    sid, imported = demo.session_id, found["imported"]
    owner = harness.as_creator(new_page(), server, demo, "/")
    visits = [(owner, "/")]
    visits += [(owner, f"/design?s={sid}&tab={quote(t)}") for t in DESIGN_TABS]
    visits += [(owner, f"/results?s={sid}&tab={quote(t)}") for t in RESULT_TABS]
    visits += [(owner, f"/results?s={imported}&tab={quote(t)}") for t in ("Summary", "Themes", "By segment",
                                                                                    "Participants")]
    visits += [(owner, "/projects"), (owner, f"/projects?p={found['project']}"),
               (owner, f"/project_results?p={found['project']}")]
    visitor = new_page()
    visits += [(visitor, f"/public?t={found['public']}"), (visitor, f"/chat?s={sid}"),
               (visitor, f"/chat?s={sid}&p={found['chat']}")]
    shown = []
    for page, path in visits:
        harness.goto(page, server.url + path)
        links = page.locator(f'img[src*="{canary.host}"], a[href*="{canary.host}"], '
                             f'iframe[src*="{canary.host}"], source[src*="{canary.host}"]')
        assert links.count() == 0, f"{path}: {links.first.evaluate('e => e.outerHTML')}"
        shown.append(page.locator("body").inner_text())
    assert canary.hits == [], f"the browser asked the canary for {canary.hits}"
    # the bait itself is on the pages, as text (so the test would see it act)
    everything = "\n".join(shown)
    for tag in ("name", "objective", "question", "note", "label", "option", "consent", "theme", "project", "import",
                "header", "region", "cell", "answer"):
        assert f"/{tag}" in everything, f"the {tag} bait is shown nowhere"
