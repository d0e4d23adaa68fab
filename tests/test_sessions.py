import pytest

from core import conversation
from core.brief import Brief
from core.forms import FormField
from core.guide import Step
from core.permissions import AccessDenied, Permission, can
from core.repos import sessions as srepo
from core.sessions import (
    InvalidInput,
    SessionSettings,
    clone_session,
    create_session,
    delete_session,
    get_for,
    list_for,
    regenerate_guide,
    restore_guide,
    save_form,
    save_guide,
    save_settings,
    set_status,
    update_brief,
)
from core.templates import load_templates
from tests.helpers import BRIEF, LONG, launched_session

pytestmark = pytest.mark.both_backends


def test_create_from_blank_brief_generates_guide_version_1(db, creator):
    s = create_session(db, creator, BRIEF)
    assert s.status == "draft" and s.guide_version == 1 and len(s.id) >= 16
    versions = srepo.list_guide_versions(db, s.id)
    assert [v.version for v in versions] == [1]
    assert [st.critical_item for st in versions[0].steps][:3] == BRIEF.critical_items


def test_create_from_template_uses_its_guide_and_form(db, creator):
    t = load_templates()["retrospective"]
    s = create_session(db, creator, t.brief, template_key="retrospective")
    assert srepo.get_guide_version(db, s.id, 1).steps == t.guide
    assert srepo.get_form(db, s.id) == t.form


def test_invalid_brief_and_settings_create_nothing(db, creator):
    with pytest.raises(InvalidInput) as exc:
        create_session(db, creator, Brief("x", "short", []), settings=SessionSettings(max_turns=1, language="xx"))
    assert set(exc.value.errors) == {"name", "objective", "critical_items", "max_turns", "language"}
    assert list_for(db, creator) == []


def test_guide_versions_save_view_and_restore(db, creator):
    s = create_session(db, creator, BRIEF)
    v1 = srepo.get_guide_version(db, s.id, 1).steps
    edited = [Step("Budget first: what is it?", "", "What hurt")] + v1
    assert save_guide(db, creator, s.id, edited, "ask about budget first") == 2
    assert srepo.get_session(db, s.id).guide_version == 2
    assert restore_guide(db, creator, s.id, 1) == 3
    assert srepo.get_guide_version(db, s.id, 3).steps == v1
    assert [v.note for v in srepo.list_guide_versions(db, s.id)] == [
        "restored version 1", "ask about budget first", "generated from the brief"]
    with pytest.raises(InvalidInput):
        save_guide(db, creator, s.id, [Step("  ")])
    assert regenerate_guide(db, creator, s.id) == 4


def test_new_participants_get_the_current_guide_version_existing_keep_theirs(db, creator):
    s = launched_session(db, creator)
    early = conversation.join(db, s.id)
    save_guide(db, creator, s.id, [Step("Only question?", "", None)])
    late = conversation.join(db, s.id)
    assert len(conversation.load_chat(db, early.token).steps) == 4
    assert len(conversation.load_chat(db, late.token).steps) == 1


def test_form_definition_is_validated_on_save(db, creator):
    s = create_session(db, creator, BRIEF)
    with pytest.raises(InvalidInput):
        save_form(db, creator, s.id, [FormField("t", "Team", "single_choice", options=["only one"])])
    save_form(db, creator, s.id, [FormField("t", "Team", "single_choice", True, [" A ", "B", ""])])
    assert srepo.get_form(db, s.id)[0].options == ["A", "B"]


def test_settings_saved(db, creator):
    s = create_session(db, creator, BRIEF)
    save_settings(db, creator, s.id, SessionSettings(max_turns=12, anonymous=False, language="fr"))
    s = srepo.get_session(db, s.id)
    assert (s.max_turns, s.anonymous, s.language) == (12, False, "fr")


def test_lifecycle_transitions(db, creator):
    s = create_session(db, creator, BRIEF)
    with pytest.raises(InvalidInput):
        set_status(db, creator, s.id, "closed")  # a draft cannot be closed
    assert set_status(db, creator, s.id, "launched").status == "launched"
    assert set_status(db, creator, s.id, "closed").status == "closed"
    assert set_status(db, creator, s.id, "launched").status == "launched"  # reopen


def test_clone_copies_design_not_participants(db, creator):
    s = launched_session(db, creator)
    conversation.send(db, conversation.join(db, s.id).token, LONG)
    copy = clone_session(db, creator, s.id)
    assert copy.id != s.id and copy.status == "draft" and copy.name == "Copy of Team retro"
    assert srepo.get_guide_version(db, copy.id, copy.guide_version).steps == \
        srepo.get_guide_version(db, s.id, s.guide_version).steps
    stats = {r["id"]: r for r in list_for(db, creator)}
    assert stats[copy.id]["started"] == 0 and stats[s.id]["started"] == 1


def test_delete_removes_everything(db, creator):
    s = launched_session(db, creator, form=[FormField("t", "Team", "single_choice", options=["A", "B"])])
    token = conversation.join(db, s.id, {"t": "A"}).token
    conversation.send(db, token, LONG)
    delete_session(db, creator, s.id)
    for table in ("sessions", "guide_versions", "form_fields", "participants", "form_answers", "messages"):
        assert db.fetchone(f"SELECT count(*) FROM {table}")[0] == 0, table


def test_other_users_cannot_see_or_change_a_session(db, creator, other_user):
    s = create_session(db, creator, BRIEF)
    for action in (lambda: get_for(db, other_user, s.id, Permission.VIEW_RESULTS),
                   lambda: update_brief(db, other_user, s.id, BRIEF),
                   lambda: delete_session(db, other_user, s.id),
                   lambda: set_status(db, other_user, s.id, "launched"),
                   lambda: get_for(db, None, s.id, Permission.VIEW_RESULTS)):
        with pytest.raises(AccessDenied):
            action()
    assert list_for(db, other_user) == []
    assert srepo.get_session(db, s.id).status == "draft"


def test_admins_get_no_implicit_access_and_disabled_users_nothing(db, creator, other_user):
    assert creator.is_admin and not other_user.is_admin
    s = create_session(db, other_user, BRIEF)
    assert not can(db, creator, Permission.VIEW_RESULTS, s)
    assert list_for(db, creator) == []
    from dataclasses import replace

    assert can(db, other_user, Permission.EDIT, s)
    assert not can(db, replace(other_user, disabled=True), Permission.VIEW_RESULTS, s)


def test_unknown_and_foreign_sessions_get_the_same_message(db, creator, other_user):
    s = create_session(db, creator, BRIEF)
    with pytest.raises(AccessDenied) as a:
        get_for(db, other_user, s.id, Permission.VIEW_RESULTS)
    with pytest.raises(AccessDenied) as b:
        get_for(db, other_user, "no-such-session", Permission.VIEW_RESULTS)
    assert str(a.value) == str(b.value)
