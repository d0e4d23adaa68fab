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
    errors = " ".join(e.value for e in at.error)
    assert "Username" in errors and "Email" in errors and "Password" in errors
    assert urepo.list_users(db) == []

    form = {t.label: t for t in at.text_input}
    form["Email"].input("ann@example.org")
    form["Username"].input("ann")
    form["Password"].input("long enough pw")
    form["Repeat password"].input("long enough pw")
    at.button(key="FormSubmitter:register-Create account").click().run()
    assert "site admin" in " ".join(s.value for s in at.success)
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


def test_invitations_are_accepted_on_the_dashboard(db, creator, other_user):
    from core.sharing import invite

    s = create_session(db, creator, BRIEF)
    invite(db, creator, "session", s.id, "bob", "editor")
    at = app(user=other_user).run()
    assert "invited to the session “Team retro” as editor" in texts(at)
    next(b for b in at.button if b.label == "Accept").click().run()
    assert "Team retro" in texts(at) and "invited" not in texts(at)
