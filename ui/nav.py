"""Every page of the app, declared once: links and switches go through these, never through a path string.

The pages are the files of `pages/` (Streamlit's own multipage folder), so a page's URL is its file name. These are
plain data, not `st.Page` objects: an `st.Page` can only be built during a script run (outside one it is left
half-made), while these constants are read at import and by tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NoReturn

import streamlit as st
from streamlit.delta_generator import DeltaGenerator


@dataclass(frozen=True)
class PageRef:
    path: str           # relative to the app's root, as st.page_link and st.switch_page take it
    label: str          # its name in the menu
    icon: str | None = None

    def link(self, label: str | None = None, icon: str | None = None, *, where: DeltaGenerator | None = None,
             **kwargs: Any) -> None:
        """An st.page_link (in `where`, a column say, or the current container): with no label, the page's menu entry
        (label and icon); with a label, exactly the label and icon given."""
        page_link = where.page_link if where is not None else st.page_link
        page_link(self.path, label=label or self.label, icon=icon if label else icon or self.icon, **kwargs)

    def switch(self, query_params: dict[str, str] | None = None) -> NoReturn:
        st.switch_page(self.path, query_params=query_params)


HOME = PageRef("Home.py", "Dashboard", ":material/dashboard:")
NEW = PageRef("pages/new.py", "New session", ":material/add_circle:")
IMPORT = PageRef("pages/import.py", "Import answers (CSV)", ":material/upload_file:")
PROJECTS = PageRef("pages/projects.py", "Projects", ":material/folder:")
ACCOUNT = PageRef("pages/account.py", "Account", ":material/person:")
ADMIN = PageRef("pages/admin.py", "Admin", ":material/settings:")
USERS = PageRef("pages/users.py", "Users and audit", ":material/admin_panel_settings:")
BACKUPS = PageRef("pages/backups.py", "Backups", ":material/backup:")
DESIGN = PageRef("pages/design.py", "Design")
RESULTS = PageRef("pages/results.py", "Results")
PROJECT_RESULTS = PageRef("pages/project_results.py", "Project synthesis", ":material/hub:")
CHAT = PageRef("pages/chat.py", "Conversation")             # participants arrive by the share link
PUBLIC = PageRef("pages/public.py", "Public results")       # reached by a public link only

PAGES = (HOME, NEW, IMPORT, PROJECTS, ACCOUNT, ADMIN, USERS, BACKUPS, DESIGN, RESULTS, PROJECT_RESULTS, CHAT, PUBLIC)
MENU = (HOME, NEW, IMPORT, PROJECTS, ACCOUNT)
ADMIN_MENU = (ADMIN, USERS, BACKUPS)
