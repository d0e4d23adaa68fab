import pytest

from core.accounts import RegistrationError, authenticate, credentials, register, reset_password

pytestmark = pytest.mark.both_backends


def test_first_user_is_admin_and_password_is_hashed(db):
    first = register(db, "alice", "alice@example.org", "Alice", "correct horse", "correct horse")
    second = register(db, "bob", "bob@example.org", "Bob", "battery staple", "battery staple")
    assert first.is_admin and not second.is_admin
    stored = db.fetchone("SELECT password_hash FROM users WHERE username = 'alice'")[0]
    assert stored.startswith("$2") and "correct horse" not in stored


@pytest.mark.parametrize("args, field", [
    (("a", "x@y.org", "N", "password1", "password1"), "username"),
    (("good_name", "nope", "N", "password1", "password1"), "email"),
    (("good_name", "x@y.org", "", "password1", "password1"), "name"),
    (("good_name", "x@y.org", "N", "short", "short"), "password"),
    (("good_name", "x@y.org", "N", "é" * 40, "é" * 40), "password"),  # 80 bytes > bcrypt's 72
    (("good_name", "x@y.org", "N", "password1", "password2"), "password_repeat"),
])
def test_registration_errors_name_the_field(db, args, field):
    with pytest.raises(RegistrationError) as exc:
        register(db, *args)
    assert field in exc.value.errors


def test_a_short_password_typed_differently_twice_gets_both_errors_at_once(db):
    with pytest.raises(RegistrationError) as exc:
        register(db, "good_name", "x@y.org", "N", "short", "short2")
    assert set(exc.value.errors) == {"password", "password_repeat"}


def test_duplicates_rejected_case_insensitively(db, creator):
    with pytest.raises(RegistrationError) as exc:
        register(db, "ALICE", "ALICE@example.org", "A", "password1", "password1")
    assert set(exc.value.errors) == {"username", "email"}


def test_authenticate_and_reset(db, creator):
    assert authenticate(db, "alice", "correct horse").id == creator.id
    assert authenticate(db, "alice", "wrong") is None
    assert authenticate(db, "nobody", "x") is None
    new = reset_password(db, "alice")
    assert authenticate(db, "alice", "correct horse") is None
    assert authenticate(db, "alice", new)


def test_credentials_for_streamlit_authenticator(db, creator):
    creds = credentials(db)
    assert creds["usernames"]["alice"]["email"] == "alice@example.org"
    assert creds["usernames"]["alice"]["password"].startswith("$2")
    with db.write() as cur:
        cur.execute("UPDATE users SET disabled = TRUE WHERE username = 'alice'")
    assert "alice" not in credentials(db)["usernames"]
