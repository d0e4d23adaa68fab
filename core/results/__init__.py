"""What the results pages show, computed from the database: one module per view (like datasette's
datasette/views/), each taking a session whose access its caller checked.

Access is checked once per page load: `open(db, user, session_id)` returns a SessionResults (session.py) for a
session whose results the user may see (AccessDenied otherwise), whose methods read without checking again and
check each write against the role `open` found. Public links and participants (public.py) and project synthesis
(project.py) check their own access.
"""

from core.results.codebook import EditView
from core.results.coverage import COVERAGE_GRID_MAX, COVERAGE_STATUSES
from core.results.overview import Overview
from core.results.participants import PAGE_SIZE, ParticipantsPage, Results
from core.results.project import (
    ProjectSynthesisError,
    ProjectView,
    project_scope,
    project_view,
    run_project_synthesis,
)
from core.results.public import PublicResults, participant_view, public_view
from core.results.session import LAZY_TABS_ABOVE, SessionResults, open
from core.results.synthesis import QuoteView, SubThemeView, SynthesisView, ThemeView

__all__ = [
    "COVERAGE_GRID_MAX", "COVERAGE_STATUSES", "LAZY_TABS_ABOVE", "PAGE_SIZE", "EditView", "Overview",
    "ParticipantsPage", "ProjectSynthesisError", "ProjectView", "PublicResults", "QuoteView", "Results",
    "SessionResults", "SubThemeView", "SynthesisView", "ThemeView", "open", "participant_view", "project_scope",
    "project_view", "public_view", "run_project_synthesis",
]
