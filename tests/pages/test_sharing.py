"""The owner's side of sharing, through Home.py: invitations issue a link and code shown once; leaving public
revokes public links."""

import re

import pytest

from core.permissions import AccessDenied
from core.projects import create_project
from core.repos import memberships as mrepo
from core.repos import public_links as linkrepo
from core.sessions import create_session
from core.sharing import claim_invitation, create_public_link, open_public_link, set_visibility
from tests.helpers import BRIEF
from tests.pages.apptest import app, texts


def issued_code(at) -> str:
    """The code of the invitation the page just showed, read from its link."""
    return re.search(r"/\?invite=([\w-]+)", texts(at)).group(1)


def test_owner_gets_an_invitation_link_once_and_it_grants_the_role(db, creator, other_user):
    s = create_session(db, creator, BRIEF)
    at = app("pages/design.py", user=creator, query={"s": s.id, "tab": "Members & privacy"}).run()
    next(t for t in at.text_input if t.label == "Invite: who is it for?").input("bob@example.org")
    at.button(key=f"FormSubmitter:invite_{s.id}-Create invitation").click().run()
    assert not at.exception
    code = issued_code(at)
    assert f"Code: {code}" in texts(at) and "shown only now" in texts(at)
    assert "invitation for bob@example.org as viewer" in texts(at)  # the pending list, with its expiry

    next(b for b in at.button if b.label == "Done: hide the code").click().run()
    assert code not in texts(at)
    # a new visit: never shown again
    again = app("pages/design.py", user=creator, query={"s": s.id, "tab": "Members & privacy"}).run()
    assert code not in texts(again) and "invitation for bob@example.org" in texts(again)

    claim_invitation(db, other_user, code)
    assert mrepo.roles_of(db, other_user.id, [("session", s.id)]) == ["viewer"]


def test_owner_revokes_an_invitation_and_its_code_stops_working(db, creator, other_user):
    project = create_project(db, creator, "Community 2027")
    at = app("pages/projects.py", user=creator, query={"p": project.id}).run()
    next(t for t in at.text_input if t.label == "Invite: who is it for?").input("bob")
    at.selectbox[0].select("viewer")
    at.button(key=f"FormSubmitter:invite_{project.id}-Create invitation").click().run()
    code = issued_code(at)
    next(b for b in at.button if b.label == "Revoke").click().run()
    assert "Invitation revoked" in texts(at) and "invitation for bob" not in texts(at)
    at = app(user=other_user, query={"invite": code}).run()
    assert "not valid" in texts(at) and "invited to" not in texts(at)
    assert mrepo.roles_of(db, other_user.id, [("project", project.id)]) == []


def test_leaving_public_on_the_design_page_revokes_the_links(db, creator):
    s = create_session(db, creator, BRIEF)
    set_visibility(db, creator, s.id, "public")
    token = create_public_link(db, creator, s.id, ["summary"])
    at = app("pages/design.py", user=creator, query={"s": s.id, "tab": "Members & privacy"}).run()
    assert "revokes these links for good" in texts(at)
    at.radio(key="visibility").set_value("members").run()
    assert "1 public link revoked for good" in texts(at)
    set_visibility(db, creator, s.id, "public")
    at = app("pages/design.py", user=creator, query={"s": s.id, "tab": "Members & privacy"}).run()
    assert token not in texts(at)
    assert linkrepo.get_public_link(db, token).revoked_at is not None
    with pytest.raises(AccessDenied):  # back to public, the old link stays dead
        open_public_link(db, token)
