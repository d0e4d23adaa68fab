"""One session's results as one user may see them: `open` checks access once (one role lookup per page load), and
the methods of the SessionResults it returns read without checking again. Reads that need more than the results
(transcripts) and every write (re-run the synthesis, include/exclude, pins, codebook) are checked against the role
`open` found, without another database read."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from core.db import Database
from core.permissions import Permission, require_role, role_allows, session_role
from core.repos import participants as prepo
from core.repos import sessions as srepo
from core.repos.sessions import SessionRow
from core.repos.users import User
from core.results import ask as asking
from core.results import codebook, coverage, overview, participants, segments, synthesis
from core.results.codebook import EditView
from core.results.overview import Overview
from core.results.participants import PAGE_SIZE, ParticipantsPage, Results
from core.results.synthesis import SynthesisView
from core.synthesis import pipeline
from core.synthesis.ask import AskAnswer
from core.synthesis.segments import SegmentTable

# Above this many participants, the results page computes only the open tab (each tab switch reruns the page
# anyway). 0: always. Computing every tab doubled what a page load and each rerun cost even at 30 participants
# (bench/page_speed.py: settled 1.7 s -> 0.7 s from the dashboard's link); a switch then computes its tab.
LAZY_TABS_ABOVE = 0


def open(db: Database, user: User | None, session_id: str) -> SessionResults:
    """The results of `session_id` as `user` may see them (AccessDenied otherwise, whether or not it exists): the
    one access check of a page load."""
    session = srepo.get_session(db, session_id)
    role = session_role(db, user, session)
    require_role(user, role, Permission.VIEW_RESULTS, session)
    return SessionResults(db, user, session, role)


@dataclass(frozen=True)
class SessionResults:
    """A session whose results `user` may see (made by `open`); `role` is theirs on it, found once."""
    db: Database = field(repr=False)
    user: User
    session: SessionRow
    role: str

    def may(self, permission: Permission) -> bool:
        """Whether the user holds `permission` on the session (from the role found by `open`)."""
        return role_allows(self.role, permission, self.session.visibility)

    def require(self, permission: Permission) -> None:
        """AccessDenied unless the user holds `permission` (from the role found by `open`: no database read)."""
        require_role(self.user, self.role, permission, self.session)

    @property
    def capabilities(self) -> dict[str, bool]:
        """What the results page may offer this user: transcripts, edits (include/exclude, codebook), exports, and
        `write`: changing shared results (re-run the synthesis, pin and unpin insights)."""
        return {name: self.may(permission) for name, permission in
                (("transcripts", Permission.VIEW_TRANSCRIPTS), ("edit", Permission.WRITE_RESULTS),
                 ("export", Permission.EXPORT), ("write", Permission.WRITE_RESULTS))}

    def _own(self, view: SynthesisView) -> SynthesisView:
        """`view`, when it is of this session (a view of another session was never checked here)."""
        if view.session is None or view.session.id != self.session.id:
            raise ValueError("This synthesis view is not of the session opened.")
        return view

    # ---------------------------------------------------------------------------------------------- participants
    def participants(self) -> Results:
        """Participation and the participants table; identifying answers only for those who may see them."""
        return participants.participants(self.db, self.session, self.may(Permission.VIEW_IDENTIFYING))

    def participants_page(self, page: int = 0, size: int = PAGE_SIZE) -> ParticipantsPage:
        return participants.participants_page(self.db, self.session, self.may(Permission.VIEW_IDENTIFYING), page,
                                              size)

    def participant_page_of(self, participant_id: str | None, size: int = PAGE_SIZE) -> int | None:
        return participants.participant_page_of(self.db, self.session, participant_id, size)

    def transcript(self, participant_id: str) -> list[prepo.Message]:
        """A participant's messages (editors and owners: transcripts are more than the results)."""
        self.require(Permission.VIEW_TRANSCRIPTS)
        return participants.transcript(self.db, self.session, participant_id)

    def set_included(self, participant_id: str, included: bool) -> None:
        """Include or exclude a participant from the analysis (editors and owners: it changes shared results)."""
        self.require(Permission.WRITE_RESULTS)
        participants.set_included(self.db, self.session, participant_id, included)

    def overview(self) -> Overview:
        return overview.overview(self.db, self.session)

    # ------------------------------------------------------------------------------------------------- synthesis
    def synthesis_view(self, run_id: str | None = None) -> SynthesisView | None:
        return synthesis.synthesis_view(self.db, self.session, run_id)

    def synthesis_status(self) -> dict:
        return synthesis.synthesis_status(self.db, self.session)

    def synthesis_progress(self):
        return synthesis.synthesis_progress(self.db, self.session)

    def run_synthesis(self, *, mode: str = "offline", progress: pipeline.Progress | None = None,
                      trigger: str = "manual", params: pipeline.Params | None = None) -> pipeline.RunOutcome:
        """Run and store a synthesis now (editors and owners: every member sees the latest run)."""
        self.require(Permission.WRITE_RESULTS)
        return synthesis.run_synthesis(self.db, self.session, mode=mode, progress=progress, trigger=trigger,
                                       params=params)

    def start_synthesis(self, *, mode: str = "offline", trigger: str = "manual") -> bool:
        """Start a synthesis in the background (editors and owners); False when one is already running."""
        self.require(Permission.WRITE_RESULTS)
        return synthesis.start_synthesis(self.db, self.session, mode=mode, trigger=trigger)

    # ---------------------------------------------------------------------------------------- segments, coverage
    def segment_fields(self) -> dict[str, str]:
        return segments.segment_fields(self.db, self.session)

    def segments(self, view: SynthesisView, field_key: str) -> SegmentTable:
        return segments.segments(self.db, self.session, self._own(view), field_key)

    def coverage(self) -> pd.DataFrame:
        return coverage.coverage(self.db, self.session)

    def coverage_counts(self) -> pd.DataFrame:
        return coverage.coverage_counts(self.db, self.session)

    # ------------------------------------------------------------------------------------- ask the data, pins
    def ask(self, view: SynthesisView, question: str, mode: str = "auto") -> AskAnswer:
        return asking.ask(self.db, self.session, self._own(view), question, mode)

    def pinned_insights(self) -> list[dict]:
        return asking.pinned_insights(self.db, self.session)

    def pin_insight(self, answer: AskAnswer, run_id: str | None) -> str:
        """Pin an answer for every member to see (editors and owners)."""
        self.require(Permission.WRITE_RESULTS)
        return asking.pin_insight(self.db, self.session, self.user, answer, run_id)

    def unpin_insight(self, pin_id: str) -> None:
        """Remove a pinned insight for everyone (editors and owners)."""
        self.require(Permission.WRITE_RESULTS)
        asking.unpin_insight(self.db, self.session, pin_id)

    # -------------------------------------------------------------------------------------------------- codebook
    def codebook_edits(self) -> list[EditView]:
        return codebook.codebook_edits(self.db, self.session)

    def edit_codebook(self, op: str, **args) -> tuple[str, str | None]:
        """Edit the themes (editors and owners); see core.results.codebook.edit_codebook."""
        self.require(Permission.WRITE_RESULTS)
        return codebook.edit_codebook(self.db, self.session, self.user.id, op, args)

    def reapply_codebook_edit(self, edit_id: str, targets: list[str]) -> tuple[str | None, str | None]:
        self.require(Permission.WRITE_RESULTS)
        return codebook.reapply_codebook_edit(self.db, self.session, self.user.id, edit_id, targets)

    def discard_codebook_edit(self, edit_id: str) -> str | None:
        self.require(Permission.WRITE_RESULTS)
        return codebook.discard_codebook_edit(self.db, self.session, edit_id)
