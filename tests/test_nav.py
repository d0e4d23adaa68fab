"""ui.nav declares every page once: the list cannot drift from pages/, and nothing else names a page by path."""

import re
from pathlib import Path

from ui import nav

ROOT = Path(__file__).resolve().parents[1]


def test_every_page_file_is_declared_once_and_every_declared_page_exists():
    declared = [page.path for page in nav.PAGES]
    on_disk = {"Home.py"} | {f"pages/{f.name}" for f in (ROOT / "pages").glob("*.py") if f.name != "__init__.py"}
    assert len(declared) == len(set(declared))
    assert set(declared) == on_disk
    assert set(nav.MENU + nav.ADMIN_MENU) <= set(nav.PAGES)


def test_no_page_is_named_by_its_path_outside_ui_nav():
    quoted_path = re.compile(r"""(["'])(pages/\w+\.py|Home\.py)\1""")
    sources = [ROOT / "Home.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*.py"),
               *(ROOT / "core").rglob("*.py")]
    found = [f"{source.relative_to(ROOT)}: {match.group(0)}" for source in sources if source != ROOT / "ui/nav.py"
             for match in quoted_path.finditer(source.read_text())]
    assert not found, "link through ui.nav instead: " + ", ".join(found)
