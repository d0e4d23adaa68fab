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
