from core import sharing
from core.repos import users as urepo
from core.sessions import create_session
from tests.helpers import BRIEF
from tests.pages.apptest import app, texts


def test_visitor_sees_sign_in_and_registration(db):
    at = app().run()
    assert not at.exception
    assert [t.label for t in at.tabs] == ["Sign in", "Create account"]
    assert "Your sessions" not in texts(at)


def test_registration_validates_then_creates_the_first_admin(db):
    at = app().run()
    form = {t.label: t for t in at.text_input}
    form["Your name"].input("Ann")
    form["Email"].input("not-an-email")
    form["Username"].input("a")
    form["Password"].input("short")
    form["Repeat password"].input("short")
    at.button(key="FormSubmitter:register-Create account").click().run()
    errors = [e.value for e in at.error]
    # first, at the top of the form, what happened; then each problem under its own field, typed values kept
    assert errors[0].startswith("The account was not created")
    assert any("3 to 32 characters" in e for e in errors) and any("valid email" in e for e in errors)
    assert any("8 characters" in e or "too short" in e.lower() for e in errors[1:])
    assert {t.label: t.value for t in at.text_input}["Your name"] == "Ann"
    assert urepo.list_users(db) == []

    form = {t.label: t for t in at.text_input}
    form["Email"].input("ann@example.org")
    form["Username"].input("ann")
    form["Password"].input("long enough pw")
    form["Repeat password"].input("long enough pw")
    at.button(key="FormSubmitter:register-Create account").click().run()
    assert not at.error
    # signed in at once: the dashboard, no second round of typing on the Sign in tab
    assert "site admin" in " ".join(s.value for s in at.success) and "Your sessions" in texts(at)
    assert urepo.get_by_username(db, "ann").is_admin


def test_dashboard_lists_only_own_sessions(db, creator, other_user):
    create_session(db, creator, BRIEF)
    mine = app(user=other_user).run()
    assert not mine.exception
    assert "No sessions yet" in texts(mine)
    theirs = app(user=creator).run()
    assert "Team retro" in texts(theirs)


def test_disabled_user_is_signed_out(db, other_user):
    with db.write() as cur:
        cur.execute("UPDATE users SET disabled = TRUE WHERE id = ?", [other_user.id])
    at = app(user=other_user).run()
    assert [t.label for t in at.tabs] == ["Sign in", "Create account"]


def sign_in_attempt(at, username, password):
    form = [t for t in at.text_input if t.label in ("Username", "Password")]
    form[0].input(username)
    form[1].input(password)
    next(b for b in at.button if b.label == "Sign in").click().run()
    return at


def test_failed_sign_ins_are_counted_and_lock_the_account(db, creator):
    at = app().run()
    for _ in range(5):
        sign_in_attempt(at, "alice", "wrong password")
        assert "incorrect" in texts(at)
    from core.accounts import login_locked

    assert login_locked(db, "alice")
    at = app().run()  # a new browser session: the count is in the database, not in memory
    sign_in_attempt(at, "alice", "correct horse")
    assert "locked" in texts(at) and "Your sessions" not in texts(at)


def test_sign_in_with_the_right_password_shows_the_dashboard(db, creator):
    at = sign_in_attempt(app().run(), "alice", "correct horse")
    assert not at.exception and "Your sessions" in texts(at)


def test_invitations_are_accepted_from_their_link_not_by_email(db, creator, other_user):
    from core.repos import memberships as mrepo
    from core.sharing import invite

    s = create_session(db, creator, BRIEF)
    issued = invite(db, creator, "session", s.id, "bob@example.org", "editor")
    plain = app(user=other_user).run()  # bob, the invited email, without the code: nothing to accept
    assert "invited" not in texts(plain) and not [b for b in plain.button if b.label == "Accept"]

    at = app(user=other_user, query={"invite": issued.code}).run()
    assert not at.exception
    assert "invited to the session “Team retro” as editor" in texts(at)
    next(b for b in at.button if b.label == "Accept").click().run()
    assert "Invitation accepted: you are now editor" in texts(at)
    assert "Team retro" in texts(at) and "invited to" not in texts(at)
    assert "invite" not in at.query_params
    assert mrepo.roles_of(db, other_user.id, [("session", s.id)]) == ["editor"]

    again = app(user=other_user, query={"invite": issued.code}).run()  # used: said plainly, nothing granted
    assert "invited to" not in texts(again)


def test_a_used_link_says_so_and_a_typed_code_is_accepted(db, creator, other_user):
    from core.accounts import register
    from core.repos import memberships as mrepo
    from core.sharing import claim_invitation, invite

    s = create_session(db, creator, BRIEF)
    used = invite(db, creator, "session", s.id, "someone", "viewer")
    carol = register(db, "carol", "carol@example.org", "Carol", "password123", "password123")
    claim_invitation(db, carol, used.code)
    at = app(user=other_user, query={"invite": used.code}).run()
    assert "not valid" in texts(at)

    issued = invite(db, creator, "session", s.id, "bob", "viewer")
    at = app(user=other_user).run()
    next(t for t in at.text_input if t.label == "Invitation code or link").input(issued.code)
    at.button(key="FormSubmitter:invitation_code-Accept invitation").click().run()
    assert "Invitation accepted: you are now viewer" in texts(at)
    assert mrepo.roles_of(db, other_user.id, [("session", s.id)]) == ["viewer"]


def test_invite_only_registration_takes_the_code_from_the_link(db, creator):
    from core.accounts import set_registration_policy
    from core.repos import memberships as mrepo
    from core.sharing import invite

    set_registration_policy(db, creator, "invite")
    s = create_session(db, creator, BRIEF)
    issued = invite(db, creator, "session", s.id, "zed@example.org", "editor")

    def fill(at, username, email):
        form = {t.label: t for t in at.text_input}
        form["Your name"].input("Zed")
        form["Email"].input(email)
        form["Username"].input(username)
        form["Password"].input("long enough pw")
        form["Repeat password"].input("long enough pw")
        at.button(key="FormSubmitter:register-Create account").click().run()
        return at

    stranger = fill(app().run(), "zed", "zed@example.org")  # the invited email, but no code
    assert "by invitation" in " ".join(e.value for e in stranger.error)
    assert urepo.get_by_username(db, "zed") is None

    made_up = app(query={"invite": "A" * len(issued.code)}).run()
    assert "You have an invitation" not in texts(made_up)
    assert sharing.INVALID_CODE in [w.value for w in made_up.warning]
    assert next(t for t in made_up.text_input if t.label.startswith("Invitation code")).value == ""

    at = app(query={"invite": issued.code}).run()
    assert "You have an invitation" in texts(at)
    assert next(t for t in at.text_input if t.label.startswith("Invitation code")).value == issued.code
    fill(at, "realzed", "other@example.net")
    assert "Your invitation is accepted" in " ".join(m.value for m in at.success)
    invitee = urepo.get_by_username(db, "realzed")
    assert mrepo.roles_of(db, invitee.id, [("session", s.id)]) == ["editor"]
