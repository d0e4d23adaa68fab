from datetime import timedelta

import pytest

from core import conversation
from core.accounts import (
    RegistrationError,
    authenticate,
    change_password,
    delete_account,
    export_user_data,
    login_locked,
    record_login_result,
    register,
    reset_password,
    set_disabled,
    set_registration_policy,
)
from core.permissions import AccessDenied, Permission, can
from core.privacy import delete_participation, redact
from core.projects import add_session, create_project, my_projects, remove_session
from core.repos import invitations as irepo
from core.repos import memberships as mrepo
from core.repos import public_links as linkrepo
from core.repos import sessions as srepo
from core.repos import users as urepo
from core.repos.audit import audit_frame
from core.repos.login_failures import login_failures
from core.sessions import create_session, list_for
from core.sharing import (
    INVITATION_DAYS,
    SharingError,
    change_role,
    claim_invitation,
    create_public_link,
    decline_invitation,
    invitation_for_code,
    invite,
    open_public_link,
    pending_invitations,
    public_links,
    remove_member,
    revoke_invitation,
    revoke_public_link,
    set_visibility,
    transfer_ownership,
)
from tests.helpers import BRIEF, LONG, grant, launched_session

pytestmark = pytest.mark.both_backends


@pytest.fixture
def carol(db, creator):
    return register(db, "carol", "carol@example.org", "Carol", "password123", "password123")


def test_invitation_is_claimed_with_its_code_once(db, creator, other_user):
    s = create_session(db, creator, BRIEF)
    issued = invite(db, creator, "session", s.id, "BOB@example.org", "viewer")
    assert issued.code not in str(db.fetchall("SELECT * FROM invitations"))  # only a hash is stored
    assert not can(db, other_user, Permission.VIEW_RESULTS, s)  # not before accepting
    inv, name = invitation_for_code(db, issued.code)
    assert "Team retro" in name and inv.role == "viewer"
    claim_invitation(db, other_user, f"http://example.org/?invite={issued.code}")  # the pasted link works too
    assert mrepo.roles_of(db, other_user.id, [("session", s.id)]) == ["viewer"]
    with pytest.raises(SharingError, match="not valid"):
        claim_invitation(db, other_user, issued.code)  # used already
    assert pending_invitations(db, creator, "session", s.id) == []


def test_a_stranger_with_the_invited_email_gets_nothing(db, creator):
    s = create_session(db, creator, BRIEF)
    issued = invite(db, creator, "session", s.id, "zed@example.org", "editor")
    stranger = register(db, "zed", "zed@example.org", "Zed", "password123", "password123")
    assert mrepo.roles_of(db, stranger.id, [("session", s.id)]) == []
    assert not can(db, stranger, Permission.EDIT, srepo.get_session(db, s.id))
    assert len(pending_invitations(db, creator, "session", s.id)) == 1  # still waiting for its code
    holder = register(db, "real", "real@example.net", "Real", "password123", "password123")
    claim_invitation(db, holder, issued.code)
    assert can(db, holder, Permission.EDIT, srepo.get_session(db, s.id))


@pytest.mark.parametrize("code", ["", "made-up", "a b", "x" * 65])
def test_unknown_codes_are_refused(db, creator, other_user, code):
    with pytest.raises(SharingError, match="not valid"):
        claim_invitation(db, other_user, code)


def test_revoked_declined_and_expired_codes_are_refused(db, creator, other_user, carol, monkeypatch):
    s = create_session(db, creator, BRIEF)
    revoked = invite(db, creator, "session", s.id, "bob", "editor")
    with pytest.raises(AccessDenied):
        revoke_invitation(db, other_user, revoked.invitation.id)  # only owners revoke
    revoke_invitation(db, creator, revoked.invitation.id)
    with pytest.raises(SharingError, match="not valid"):
        claim_invitation(db, other_user, revoked.code)

    declined = invite(db, creator, "session", s.id, "bob", "editor")
    decline_invitation(db, other_user, declined.code)
    with pytest.raises(SharingError, match="not valid"):
        claim_invitation(db, carol, declined.code)

    late = invite(db, creator, "session", s.id, "carol", "viewer")
    from core import clock

    real_now = clock.utcnow()
    monkeypatch.setattr(clock, "utcnow", lambda: real_now + timedelta(days=INVITATION_DAYS, minutes=1))
    with pytest.raises(SharingError, match="not valid"):
        claim_invitation(db, carol, late.code)
    assert mrepo.roles_of(db, other_user.id, [("session", s.id)]) == []
    assert mrepo.roles_of(db, carol.id, [("session", s.id)]) == []
    monkeypatch.setattr(clock, "utcnow", lambda: real_now + timedelta(days=INVITATION_DAYS - 1))
    claim_invitation(db, carol, late.code)  # the day before it expires
    assert mrepo.roles_of(db, carol.id, [("session", s.id)]) == ["viewer"]


def test_members_cannot_use_up_an_invitation_meant_for_someone_else(db, creator, other_user):
    s = create_session(db, creator, BRIEF)
    issued = invite(db, creator, "session", s.id, "dave", "editor")
    with pytest.raises(SharingError, match="already a member"):
        claim_invitation(db, creator, issued.code)  # e.g. the owner tries their own link
    claim_invitation(db, other_user, issued.code)
    assert mrepo.roles_of(db, other_user.id, [("session", s.id)]) == ["editor"]


def test_pending_email_invitations_are_void_after_the_migration(tmp_path):
    from core.db import open_database
    from tests.helpers import database_before

    path = tmp_path / "old.duckdb"
    conn = database_before(path, 7)
    conn.execute("INSERT INTO invitations VALUES ('i1', 'session', 's1', 'bob@example.org', 'editor', 'u1', "
                 "'pending', current_timestamp, NULL)")
    conn.close()
    db = open_database(path)
    assert db.fetchone("SELECT status FROM invitations WHERE id = 'i1'")[0] == "expired"
    assert irepo.pending_of_resource(db, "session", "s1") == []


def test_only_owners_invite_and_duplicates_are_refused(db, creator, other_user, carol):
    s = create_session(db, creator, BRIEF)
    grant(db, creator, "session", s.id, other_user, "editor")
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
    grant(db, creator, "session", s.id, other_user, "viewer")
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
    grant(db, creator, "project", project.id, other_user, "editor")
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
    roles = {m.username: m.role for m in mrepo.members(db, "session", s.id)}
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


def test_leaving_public_revokes_links_for_good(db, creator):
    s = create_session(db, creator, BRIEF)
    set_visibility(db, creator, s.id, "public")
    first = create_public_link(db, creator, s.id, ["summary"])
    second = create_public_link(db, creator, s.id, ["themes"])
    set_visibility(db, creator, s.id, "members")
    assert linkrepo.get_public_link(db, first).revoked_at is not None
    assert linkrepo.get_public_link(db, second).revoked_at is not None
    set_visibility(db, creator, s.id, "public")  # back to public: the old links stay dead
    for token in (first, second):
        with pytest.raises(AccessDenied):
            open_public_link(db, token)
    assert public_links(db, creator, s.id) == []
    audit = audit_frame(db)
    revocations = audit[audit["action"] == "public_link.revoke"]
    assert len(revocations) == 2 and all("visibility" in d for d in revocations["detail"])
    fresh = create_public_link(db, creator, s.id, ["summary"])  # a new link is needed, and works
    assert open_public_link(db, fresh).sections == ["summary"]
    set_visibility(db, creator, s.id, "public")  # no change of visibility: nothing revoked
    assert open_public_link(db, fresh).sections == ["summary"]


@pytest.mark.parametrize("text, expected", [
    ("mail me at ann.lee+x@example.co.uk please", "mail me at [email] please"),
    ("call +44 20 7946 0958 or 555-123-4567", "call [phone] or [phone]"),
    ("Ann Lee said Ann was right", "[name] said [name] was right"),
    ("in 2024 we had 3 teams", "in 2024 we had 3 teams"),
    ("see https://linkedin.com/in/ann-lee-77 or www.annlee.me/cv", "see [link] or [link]"),
    ("I live at 221B Baker Street, London", "I live at [address], London"),
    ("my badge is EMP-204877 and passport X1234567", "my badge is [id] and passport [id]"),
    ("Hi, my name is Tom Price. Tom again.", "Hi, my name is [name]. [name] again."),
    ("we shipped v2 in Q3 for 40 people", "we shipped v2 in Q3 for 40 people"),
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
    assert audit_frame(db)["action"].tolist()[0] == "participant.delete"


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
    issued = invite(db, creator, "session", s.id, "zed@example.org", "viewer")
    with pytest.raises(RegistrationError, match="invitation"):  # the invited email alone opens nothing
        register(db, "zed", "zed@example.org", "Zed", "password123", "password123")
    with pytest.raises(RegistrationError) as exc:
        register(db, "zed", "zed@example.org", "Zed", "password123", "password123", "wrong-code")
    assert "invitation_code" in exc.value.errors
    with pytest.raises(RegistrationError) as exc:  # a bad field leaves the code unused
        register(db, "zed", "zed@example.org", "Zed", "short", "short", issued.code)
    assert set(exc.value.errors) == {"password"}
    zed = register(db, "zed", "zed@example.org", "Zed", "password123", "password123", issued.code)
    assert mrepo.roles_of(db, zed.id, [("session", s.id)]) == ["viewer"]  # the code's invitation, claimed
    with pytest.raises(RegistrationError) as exc:  # single use: no second account from the same code
        register(db, "zed2", "zed2@example.org", "Zed", "password123", "password123", issued.code)
    assert "invitation_code" in exc.value.errors
    assert urepo.get_by_username(db, "zed2") is None


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
    actions = set(audit_frame(db)["action"])
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
    assert "ghost" not in login_failures(db)


def test_sensitive_actions_are_audited(db, creator, other_user):
    s = create_session(db, creator, BRIEF)
    grant(db, creator, "session", s.id, other_user, "viewer")
    change_role(db, creator, "session", s.id, other_user.id, "editor")
    set_visibility(db, creator, s.id, "members")
    from core.sessions import delete_session

    delete_session(db, creator, s.id)
    actions = audit_frame(db)["action"].tolist()
    for action in ("member.invite", "member.accept", "member.role", "session.visibility", "session.delete"):
        assert action in actions
    assert db.fetchone("SELECT count(*) FROM memberships WHERE resource_id = ?", [s.id])[0] == 0
