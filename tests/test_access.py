import pytest

from core import conversation
from core.accounts import (RegistrationError, authenticate, change_password, delete_account, export_user_data,
                           login_locked, record_login_result, register, reset_password, set_disabled,
                           set_registration_policy)
from core.permissions import AccessDenied, Permission, can
from core.privacy import delete_participation, redact
from core.projects import add_session, create_project, my_projects, remove_session
from core.repos import access as arepo
from core.repos import sessions as srepo
from core.sessions import create_session, list_for
from core.sharing import (SharingError, answer_invitation, change_role, create_public_link, invite,
                          my_invitations, open_public_link, remove_member, revoke_public_link, set_visibility,
                          transfer_ownership)
from tests.helpers import BRIEF, LONG, launched_session


@pytest.fixture
def carol(db, creator):
    return register(db, "carol", "carol@example.org", "Carol", "password123", "password123")


def accept_all(db, user):
    for inv, _name in my_invitations(db, user):
        answer_invitation(db, user, inv.id, True)


def test_invitation_by_email_is_accepted_after_sign_in(db, creator, other_user):
    s = create_session(db, creator, BRIEF)
    invite(db, creator, "session", s.id, "BOB@example.org", "viewer")
    assert not can(db, other_user, Permission.VIEW_RESULTS, s)  # not before accepting
    (inv, name), = my_invitations(db, other_user)
    assert "Team retro" in name
    answer_invitation(db, other_user, inv.id, True)
    assert arepo.roles_of(db, other_user.id, [("session", s.id)]) == ["viewer"]
    with pytest.raises(SharingError):
        answer_invitation(db, other_user, inv.id, True)  # answered already


def test_only_owners_invite_and_duplicates_are_refused(db, creator, other_user, carol):
    s = create_session(db, creator, BRIEF)
    invite(db, creator, "session", s.id, "bob", "editor")
    accept_all(db, other_user)
    with pytest.raises(AccessDenied):
        invite(db, other_user, "session", s.id, "carol", "viewer")  # editors do not manage members
    with pytest.raises(SharingError):
        invite(db, creator, "session", s.id, "bob", "viewer")
    invite(db, creator, "session", s.id, "carol", "viewer")
    with pytest.raises(SharingError):
        invite(db, creator, "session", s.id, "carol", "viewer")
    with pytest.raises(SharingError):
        invite(db, creator, "session", s.id, "dave", "superuser")


def test_viewers_see_results_only_when_visibility_allows(db, creator, other_user):
    s = create_session(db, creator, BRIEF)
    invite(db, creator, "session", s.id, "bob", "viewer")
    accept_all(db, other_user)
    assert not can(db, other_user, Permission.VIEW_RESULTS, srepo.get_session(db, s.id))
    assert list_for(db, other_user) == []
    set_visibility(db, creator, s.id, "members")
    s = srepo.get_session(db, s.id)
    assert can(db, other_user, Permission.VIEW_RESULTS, s)
    assert not can(db, other_user, Permission.VIEW_TRANSCRIPTS, s)
    assert not can(db, other_user, Permission.EDIT, s)
    assert [r["role"] for r in list_for(db, other_user)] == ["viewer"]


def test_project_role_applies_to_sessions_added_later(db, creator, other_user):
    project = create_project(db, creator, "Community 2027", "All listening sessions")
    invite(db, creator, "project", project.id, "bob", "editor")
    accept_all(db, other_user)
    later = create_session(db, creator, BRIEF)
    assert not can(db, other_user, Permission.EDIT, later)
    add_session(db, creator, project.id, later.id)
    later = srepo.get_session(db, later.id)
    assert can(db, other_user, Permission.EDIT, later)
    assert not can(db, other_user, Permission.DELETE, later)  # editor, not owner
    assert [p.title for p, _ in my_projects(db, other_user)] == ["Community 2027"]
    remove_session(db, creator, project.id, later.id)
    assert not can(db, other_user, Permission.EDIT, srepo.get_session(db, later.id))


def test_non_members_of_a_project_get_nothing(db, creator, other_user):
    project = create_project(db, creator, "Private work")
    s = create_session(db, creator, BRIEF)
    add_session(db, creator, project.id, s.id)
    assert not can(db, other_user, Permission.VIEW_RESULTS, srepo.get_session(db, s.id))
    with pytest.raises(AccessDenied):
        add_session(db, other_user, project.id, s.id)


def test_last_owner_rule_and_transfer(db, creator, other_user):
    s = create_session(db, creator, BRIEF)
    with pytest.raises(SharingError, match="last owner"):
        remove_member(db, creator, "session", s.id, creator.id)
    with pytest.raises(SharingError, match="last owner"):
        change_role(db, creator, "session", s.id, creator.id, "editor")
    transfer_ownership(db, creator, "session", s.id, "bob")
    roles = {m.username: m.role for m in arepo.members(db, "session", s.id)}
    assert roles == {"alice": "editor", "bob": "owner"}
    with pytest.raises(AccessDenied):
        remove_member(db, creator, "session", s.id, other_user.id)  # alice is no longer owner


def test_public_link_sections_and_revocation(db, creator):
    s = create_session(db, creator, BRIEF)
    with pytest.raises(SharingError, match="public"):
        create_public_link(db, creator, s.id, ["summary"])
    set_visibility(db, creator, s.id, "public")
    with pytest.raises(SharingError):
        create_public_link(db, creator, s.id, [])
    token = create_public_link(db, creator, s.id, ["summary", "themes", "bogus"])
    assert len(token) >= 32
    assert open_public_link(db, token).sections == ["summary", "themes"]
    revoke_public_link(db, creator, s.id, token)
    with pytest.raises(AccessDenied):
        open_public_link(db, token)
    token2 = create_public_link(db, creator, s.id, ["quotes"])
    set_visibility(db, creator, s.id, "editors")  # closing visibility disables every link
    with pytest.raises(AccessDenied):
        open_public_link(db, token2)
    with pytest.raises(AccessDenied):
        open_public_link(db, "made-up")


@pytest.mark.parametrize("text, expected", [
    ("mail me at ann.lee+x@example.co.uk please", "mail me at [email] please"),
    ("call +44 20 7946 0958 or 555-123-4567", "call [phone] or [phone]"),
    ("Ann Lee said Ann was right", "[name] said [name] was right"),
    ("in 2024 we had 3 teams", "in 2024 we had 3 teams"),
])
def test_redaction(text, expected):
    assert redact(text, ["Ann Lee", "Ann"]) == expected


def test_participant_deletes_their_participation(db, creator):
    s = launched_session(db, creator)
    keep = conversation.join(db, s.id)
    gone = conversation.join(db, s.id)
    conversation.send(db, keep.token, LONG)
    conversation.send(db, gone.token, LONG + " mine")
    delete_participation(db, gone.token)
    assert db.fetchone("SELECT count(*) FROM participants WHERE id = ?", [gone.id])[0] == 0
    assert db.fetchone("SELECT count(*) FROM messages WHERE participant_id = ?", [gone.id])[0] == 0
    assert db.fetchone("SELECT count(*) FROM messages WHERE participant_id = ?", [keep.id])[0] == 3
    with pytest.raises(LookupError):
        delete_participation(db, gone.token)
    assert arepo.audit_frame(db)["action"].tolist()[0] == "participant.delete"


def test_consent_is_required_and_recorded(db, creator):
    s = launched_session(db, creator)
    with pytest.raises(conversation.FormErrors) as exc:
        conversation.join(db, s.id, consented=False)
    assert conversation.CONSENT_KEY in exc.value.errors
    p = conversation.join(db, s.id, consented=True)
    assert db.fetchone("SELECT consented_at FROM participants WHERE id = ?", [p.id])[0] is not None


def test_registration_policy(db, creator):
    set_registration_policy(db, creator, "closed")
    with pytest.raises(RegistrationError, match="closed"):
        register(db, "zed", "zed@example.org", "Zed", "password123", "password123")
    set_registration_policy(db, creator, "invite")
    with pytest.raises(RegistrationError, match="invitation"):
        register(db, "zed", "zed@example.org", "Zed", "password123", "password123")
    s = create_session(db, creator, BRIEF)
    invite(db, creator, "session", s.id, "zed@example.org", "viewer")
    assert register(db, "zed", "zed@example.org", "Zed", "password123", "password123")


def test_account_management(db, creator, other_user):
    assert change_password(db, other_user, "wrong", "newpassword1", "newpassword1") == {
        "current": "The current password is not correct."}
    assert "new" in change_password(db, other_user, "battery staple", "short", "short")
    assert change_password(db, other_user, "battery staple", "newpassword1", "newpassword1") == {}
    assert authenticate(db, "bob", "newpassword1")
    with pytest.raises(PermissionError):
        reset_password(db, "alice", actor=other_user)
    temporary = reset_password(db, "bob", actor=creator)
    assert authenticate(db, "bob", temporary)
    set_disabled(db, creator, other_user.id, True)
    assert authenticate(db, "bob", temporary) is None
    with pytest.raises(ValueError):
        set_disabled(db, creator, creator.id, True)
    actions = set(arepo.audit_frame(db)["action"])
    assert {"user.change_password", "user.reset_password", "user.disable"} <= actions


def test_export_and_delete_account(db, creator, other_user):
    s = create_session(db, other_user, BRIEF)
    data = export_user_data(db, other_user)
    assert data["account"]["email"] == "bob@example.org"
    assert data["memberships"] == [{"session": "Team retro", "role": "owner"}]
    with pytest.raises(ValueError, match="Team retro"):
        delete_account(db, other_user, "battery staple")
    transfer_ownership(db, other_user, "session", s.id, "alice")
    with pytest.raises(ValueError, match="password"):
        delete_account(db, other_user, "wrong")
    delete_account(db, other_user, "battery staple")
    assert authenticate(db, "bob", "battery staple") is None
    row = db.fetchone("SELECT username, email, disabled FROM users WHERE id = ?", [other_user.id])
    assert "bob" not in row[0] and "bob" not in row[1] and row[2]


def test_failed_logins_lock_the_username(db, creator):
    for _ in range(5):
        assert not login_locked(db, "alice")
        record_login_result(db, "alice", False)
    assert login_locked(db, "alice")
    record_login_result(db, "alice", True)
    assert not login_locked(db, "alice")
    record_login_result(db, "ghost", False)
    assert "ghost" not in arepo.login_failures(db)


def test_sensitive_actions_are_audited(db, creator, other_user):
    s = create_session(db, creator, BRIEF)
    invite(db, creator, "session", s.id, "bob", "viewer")
    accept_all(db, other_user)
    change_role(db, creator, "session", s.id, other_user.id, "editor")
    set_visibility(db, creator, s.id, "members")
    from core.sessions import delete_session

    delete_session(db, creator, s.id)
    actions = arepo.audit_frame(db)["action"].tolist()
    for action in ("member.invite", "member.accept", "member.role", "session.visibility", "session.delete"):
        assert action in actions
    assert db.fetchone("SELECT count(*) FROM memberships WHERE resource_id = ?", [s.id])[0] == 0
