"""Designing a session: create, edit brief, guide versions, form, settings, lifecycle, clone, delete."""

from __future__ import annotations

from dataclasses import dataclass, replace

from core.brief import Brief, validate_brief
from core.clock import utcnow
from core.db import Database
from core.forms import FormField, validate_definition
from core.guide import Step, generate_offline_guide, validate_guide
from core.i18n import LANGUAGES
from core.ids import new_id
from core.permissions import Permission, require, visible_session_ids
from core.repos import memberships as mrepo
from core.repos import sessions as srepo
from core.repos.audit import insert_audit
from core.repos.sessions import SessionRow
from core.repos.users import User
from core.templates import get_template

MAX_TURNS_RANGE = (3, 200)
STATUSES = ("draft", "launched", "closed")
# status -> statuses it may move to
TRANSITIONS = {"draft": {"launched"}, "launched": {"closed"}, "closed": {"launched"}}


class InvalidInput(Exception):
    """Errors by field, for inline messages."""

    def __init__(self, errors: dict[str, str] | list[str]):
        self.errors = errors
        super().__init__("; ".join(errors.values() if isinstance(errors, dict) else errors))


@dataclass(frozen=True)
class SessionSettings:
    max_turns: int = 30
    anonymous: bool = True
    language: str = "en"
    language_choice: bool = False   # participants may choose another language for their conversation


def validate_settings(s: SessionSettings) -> dict[str, str]:
    errors = {}
    low, high = MAX_TURNS_RANGE
    if not low <= s.max_turns <= high:
        errors["max_turns"] = f"Maximum participant turns must be between {low} and {high}."
    if s.language not in LANGUAGES:
        errors["language"] = f"Choose one of: {', '.join(LANGUAGES)}."
    return errors


def _clean(brief: Brief) -> Brief:
    return Brief(brief.name.strip(), brief.objective.strip(), [i.strip() for i in brief.critical_items],
                 brief.context.strip())


def create_session(db: Database, owner: User, brief: Brief, *, template_key: str | None = None,
                   settings: SessionSettings = SessionSettings()) -> SessionRow:
    """A new draft session with its first guide version (from the template, or generated from the brief)."""
    brief = _clean(brief)
    errors = validate_brief(brief) | validate_settings(settings)
    if errors:
        raise InvalidInput(errors)
    template = get_template(template_key) if template_key else None
    if template_key and template is None:
        raise InvalidInput({"template": f"Unknown template '{template_key}'."})
    now = utcnow()
    row = SessionRow(new_id(), owner.id, brief.name, brief.objective, brief.critical_items, brief.context,
                     template_key, "draft", settings.language, settings.max_turns, settings.anonymous, None, now, now)
    srepo.insert_session(db, row)
    use_template_guide = template is not None and template.brief.critical_items == brief.critical_items
    steps = template.guide if use_template_guide else generate_offline_guide(brief, settings.language)
    srepo.add_guide_version(db, row.id, steps, "from template" if use_template_guide else "generated from the brief",
                            "template" if use_template_guide else "offline")
    if template is not None:
        srepo.replace_form(db, row.id, template.form)
    return srepo.get_session(db, row.id)


def get_for(db: Database, user: User | None, session_id: str, permission: Permission) -> SessionRow:
    """The session, if `user` holds `permission` on it (AccessDenied otherwise, whether or not it exists)."""
    return require(db, user, permission, srepo.get_session(db, session_id))


def update_brief(db: Database, user: User, session_id: str, brief: Brief) -> SessionRow:
    get_for(db, user, session_id, Permission.EDIT)
    brief = _clean(brief)
    errors = validate_brief(brief)
    if errors:
        raise InvalidInput(errors)
    srepo.update_session(db, session_id, name=brief.name, objective=brief.objective,
                         critical_items=brief.critical_items, context=brief.context)
    return srepo.get_session(db, session_id)


def regenerate_guide(db: Database, user: User, session_id: str) -> int:
    """A new guide version generated from the current brief."""
    s = get_for(db, user, session_id, Permission.EDIT)
    brief = Brief(s.name, s.objective, s.critical_items, s.context)
    current = srepo.get_guide_version(db, session_id, s.guide_version)
    steps = generate_offline_guide(brief, s.language, current.steps if current else None)
    return srepo.add_guide_version(db, session_id, steps, "generated from the brief", "offline")


def current_guide(db: Database, user: User | None, session_id: str) -> srepo.GuideVersion:
    s = get_for(db, user, session_id, Permission.VIEW_RESULTS)
    return srepo.get_guide_version(db, s.id, s.guide_version)


def save_guide(db: Database, user: User, session_id: str, steps: list[Step], note: str = "edited") -> int:
    """Validate and save the steps as a new version; returns its number."""
    s = get_for(db, user, session_id, Permission.EDIT)
    steps = [Step(st.question.strip(), st.probe.strip(), st.critical_item or None) for st in steps]
    errors, _warnings = validate_guide(steps, s.critical_items)
    if errors:
        raise InvalidInput(errors)
    return srepo.add_guide_version(db, session_id, steps, note.strip()[:200] or "edited", "edit")


def restore_guide(db: Database, user: User, session_id: str, version: int) -> int:
    get_for(db, user, session_id, Permission.EDIT)
    old = srepo.get_guide_version(db, session_id, version)
    if old is None:
        raise InvalidInput([f"Version {version} does not exist."])
    return srepo.add_guide_version(db, session_id, old.steps, f"restored version {version}", "restore")


def save_form(db: Database, user: User, session_id: str, fields: list[FormField]) -> None:
    get_for(db, user, session_id, Permission.EDIT)
    fields = [replace(f, label=f.label.strip(), options=[o.strip() for o in f.options if o.strip()]) for f in fields]
    errors = validate_definition(fields)
    if errors:
        raise InvalidInput(errors)
    srepo.replace_form(db, session_id, fields)


def save_settings(db: Database, user: User, session_id: str, settings: SessionSettings) -> None:
    get_for(db, user, session_id, Permission.EDIT)
    errors = validate_settings(settings)
    if errors:
        raise InvalidInput(errors)
    srepo.update_session(db, session_id, max_turns=settings.max_turns, anonymous=settings.anonymous,
                         language=settings.language, language_choice=settings.language_choice)


def set_status(db: Database, user: User, session_id: str, status: str) -> SessionRow:
    """Launch, close or reopen; a session needs a guide before it can be launched."""
    s = get_for(db, user, session_id, Permission.EDIT)
    if status not in TRANSITIONS.get(s.status, set()):
        raise InvalidInput([f"A {s.status} session cannot become {status}."])
    if status == "launched" and not s.guide_version:
        raise InvalidInput(["Save a facilitation guide before launching."])
    srepo.update_session(db, session_id, status=status)
    if status == "closed":  # final synthesis in the background (debounced; never blocks or raises)
        from core import refresh

        refresh.session_closed(db, session_id)
    return srepo.get_session(db, session_id)


def clone_session(db: Database, user: User, session_id: str) -> SessionRow:
    """A draft copy (brief, current guide, form, settings) owned by `user`, without participants."""
    s = get_for(db, user, session_id, Permission.VIEW_RESULTS)
    now = utcnow()
    name = f"Copy of {s.name}"[:120]
    copy = replace(s, id=new_id(), owner_id=user.id, name=name, status="draft", guide_version=None,
                   created_at=now, updated_at=now, project_id=None, visibility="editors")
    srepo.insert_session(db, copy)
    guide = srepo.get_guide_version(db, s.id, s.guide_version) if s.guide_version else None
    if guide:
        srepo.add_guide_version(db, copy.id, guide.steps, f"cloned from '{s.name}' v{guide.version}", "edit")
    srepo.replace_form(db, copy.id, srepo.get_form(db, s.id))
    return srepo.get_session(db, copy.id)


def delete_session(db: Database, user: User, session_id: str) -> None:
    """Delete the session with its participants' data, members, invitations and public links (audited)."""
    s = get_for(db, user, session_id, Permission.DELETE)
    srepo.delete_session_rows(db, session_id)
    mrepo.delete_memberships_of_resource(db, "session", session_id)
    insert_audit(db, user.id, "session.delete", "session", session_id, {"name": s.name})


def list_for(db: Database, user: User) -> list[dict]:
    """Sessions the user may open, with stats and the user's role on each."""
    roles = visible_session_ids(db, user)
    rows = srepo.list_sessions_with_stats(db, list(roles))
    for row in rows:
        row["role"] = roles[row["id"]]
    return rows


CONSENT_MAX = 4000
DEFAULT_CONSENT = (
    "Your answers will be read by the organisers of this session and summarised together with other "
    "participants' answers. You appear as a numbered participant, not by name. You can download your "
    "conversation at the end, or delete your participation at any time from this page."
)


def consent_text(session: SessionRow) -> str:
    return session.consent_text.strip() or DEFAULT_CONSENT


def save_privacy(db: Database, user: User, session_id: str, consent: str, redact: bool) -> None:
    """The consent text shown before the form, and redaction of personal details before model calls."""
    get_for(db, user, session_id, Permission.EDIT)
    if len(consent) > CONSENT_MAX:
        raise InvalidInput({"consent": f"Keep the consent text under {CONSENT_MAX} characters."})
    srepo.update_session(db, session_id, consent_text=consent.strip(), redact=redact)
