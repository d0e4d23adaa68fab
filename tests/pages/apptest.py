"""Running pages with streamlit.testing.v1.AppTest as a given user."""

from __future__ import annotations

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


def app(page: str | None = None, *, user=None, query: dict | None = None) -> AppTest:
    """An AppTest of Home.py switched to `page`, signed in as `user` (a core User) when given."""
    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60)
    if user is not None:
        at.session_state["authentication_status"] = True
        at.session_state["username"] = user.username
        at.session_state["name"] = user.name
        at.session_state["logout"] = None
    for key, value in (query or {}).items():
        at.query_params[key] = value
    if page:
        at.switch_page(page)
    return at


def texts(at: AppTest) -> str:
    """All visible text of common elements, for assertions."""
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "text", "info", "warning", "error",
                 "success", "code"):
        parts += [str(getattr(e, "value", "")) for e in at.get(kind)]
    # Participant text is shown with every punctuation mark backslash-escaped (ui.safe): read it back plain.
    return re.sub(r"\\([^\w\s])", r"\1", "\n".join(parts)).replace("  \n", "\n").replace("\u2060", "")


def open_tab(at: AppTest, name: str) -> AppTest:
    """Switch the page's bound tabs (key "tab") to `name` and rerun: the results page computes only the open tab."""
    at.session_state["tab"] = name
    at.query_params["tab"] = name        # bound tabs: the address says which is open, as the browser's would
    return at.run()


def open_expanders(at: AppTest, prefix: str) -> AppTest:
    """Open every expander whose key starts with `prefix` (as a click would) and rerun: lazy expanders
    (`on_change="rerun"`) draw their content only while open."""
    keys = [k for k in at.session_state.keys() if k.startswith(prefix)]
    assert keys, f"no expander with a key starting {prefix!r}"
    for key in keys:
        at.session_state[key] = True
    return at.run()



def place_of(at: AppTest, node) -> list[int]:
    """Where `node` sits on the page: the indices from the main area down to it, as Streamlit numbers elements (a
    fragment's id includes this place)."""
    def search(block, path):
        for index, child in getattr(block, "children", {}).items():
            if child is node:
                return path + [index]
            found = search(child, path + [index])
            if found:
                return found
        return None

    found = search(at.main, [])
    assert found is not None, "the element is not in the page's main area"
    return found
