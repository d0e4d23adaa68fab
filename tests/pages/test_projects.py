"""The Projects page: an owner deletes a project after confirming; its sessions stay; others cannot."""

from core.projects import add_session, create_project, my_projects
from core.repos import sessions as srepo
from core.sessions import create_session
from core.sharing import claim_invitation, invite
from tests.helpers import BRIEF
from tests.pages.apptest import app, texts


def test_an_owner_deletes_a_project_after_confirming_and_its_sessions_stay(db, creator):
    project = create_project(db, creator, "Community 2027")
    s = create_session(db, creator, BRIEF)
    add_session(db, creator, project.id, s.id)
    at = app("pages/projects.py", user=creator, query={"p": project.id}).run()
    at.button(key="delete_project").click().run()
    assert "Its sessions stay" in texts(at) and my_projects(db, creator)     # asked first, nothing deleted yet
    at.button(key="delete_project_cancelled").click().run()
    assert my_projects(db, creator) and "Its sessions stay" not in texts(at)
    at.button(key="delete_project").click().run()
    at.button(key="delete_project_confirmed").click().run()
    assert not at.exception
    assert my_projects(db, creator) == [] and "Project “Community 2027” deleted" in texts(at)
    assert srepo.get_session(db, s.id).project_id is None                    # the session itself is kept


def test_a_member_who_is_not_the_owner_is_not_offered_delete(db, creator, other_user):
    project = create_project(db, creator, "Community 2027")
    claim_invitation(db, other_user, invite(db, creator, "project", project.id, "Bob", "editor").code)
    at = app("pages/projects.py", user=other_user, query={"p": project.id}).run()
    assert not at.exception and "Community 2027" in texts(at)
    assert not [b for b in at.button if b.key == "delete_project"]
