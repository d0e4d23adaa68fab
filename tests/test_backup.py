"""Snapshots taken from inside the process that holds the database, and restoring one (issue 14)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from core import backup, conversation, results
from core.accounts import register
from core.permissions import AccessDenied
from core.sessions import create_session, delete_session, list_for
from core.synthesis.pipeline import synthesize
from tests.helpers import BRIEF, LONG, launched_session
from tests.pages.apptest import app, texts

ROOT = Path(__file__).resolve().parent.parent


def populated(db, creator):
    s = launched_session(db, creator)
    for i in range(4):
        p = conversation.join(db, s.id)
        conversation.send(db, p.token, f"{LONG} (person {i})")
        conversation.finish(db, p.token)
    synthesize(db, [s.id])
    theme = results.open(db, creator, s.id).synthesis_view().themes[0]
    results.open(db, creator, s.id).edit_codebook("rename", theme_id=theme.theme_id, label="Named by the researcher")
    return s


def state(db, user):
    """What a restore must bring back: sessions, transcripts, codebook edits, accounts."""
    return (sorted(s["name"] + s["id"] for s in list_for(db, user)),
            db.fetchall("SELECT participant_id, seq, role, content FROM messages ORDER BY participant_id, seq"),
            sorted(e.description for s in list_for(db, user) for e in results.open(db, user, s["id"]).codebook_edits()),
            db.fetchall("SELECT username, password_hash FROM users ORDER BY username"))


def test_a_restore_brings_back_every_session_transcript_codebook_edit_and_account(db, creator):
    s = populated(db, creator)
    create_session(db, creator, BRIEF)
    before = state(db, creator)
    snap = backup.take_snapshot(db)

    delete_session(db, creator, s.id)                       # yesterday's data lost today...
    register(db, "carol", "carol@example.org", "Carol", "long enough pw", "long enough pw")
    assert state(db, creator) != before

    plan = backup.check(db, snap.path)                     # the dry run changes nothing
    assert plan.ok and plan.counts["sessions"] == (1, 2) and plan.counts["accounts"] == (2, 1)
    assert plan.counts["codebook edits"][1] == 1 and len(list_for(db, creator)) == 1

    backup.restore(db, snap.path)
    assert state(db, creator) == before
    assert results.open(db, creator, s.id).synthesis_view().themes[0].label == "Named by the researcher"
    # what was there before the restore is kept, so the restore itself can be undone
    kept = [x for x in backup.list_snapshots(db) if x.reason == "before-restore"]
    assert len(kept) == 1
    backup.restore(db, kept[0].path)
    assert [u for (u, _) in state(db, creator)[3]] == ["alice", "carol"]


def test_only_the_newest_are_kept(db, creator, monkeypatch):
    monkeypatch.setenv("HARMONICA_BACKUP_KEEP", "2")
    taken = [backup.take_snapshot(db).path for _ in range(4)]
    assert [x.path for x in backup.list_snapshots(db)] == taken[:-3:-1]
    assert all(os.stat(p).st_mode & 0o777 == 0o600 for p in taken[-2:])


def test_a_snapshot_of_a_newer_version_or_not_a_database_is_refused_without_change(db, creator, tmp_path):
    snap = backup.take_snapshot(db).path
    with duckdb.connect(str(snap)) as other:
        other.execute("INSERT INTO schema_migrations VALUES (999, 'from the future', now())")
    plan = backup.check(db, snap)
    assert not plan.ok and "newer version" in plan.problem
    with pytest.raises(backup.BackupError, match="newer version"):
        backup.restore(db, snap)
    junk = tmp_path / "junk.duckdb"
    junk.write_text("not a database")
    with pytest.raises(backup.BackupError, match="not a database"):
        backup.check(db, junk)
    assert list_for(db, creator) == [] and not [x for x in backup.list_snapshots(db) if x.reason != "manual"]


def test_only_admins_take_or_restore_snapshots_and_it_is_audited(db, creator, other_user):
    assert creator.is_admin and not other_user.is_admin       # the first account is the site's admin
    with pytest.raises(AccessDenied):
        backup.snapshot_as(db, other_user)
    snap = backup.snapshot_as(db, creator)
    with pytest.raises(AccessDenied):
        backup.restore_as(db, other_user, snap.path.name)
    with pytest.raises(backup.BackupError):
        backup.restore_as(db, creator, "../harmonica.duckdb")        # only names in the backup folder
    backup.restore_as(db, creator, snap.path.name)
    actions = [r[0] for r in db.fetchall("SELECT action FROM audit_log WHERE action LIKE 'backup.%'")]
    assert actions == ["backup.restore"]       # the snapshot's own audit row came after the copy: restored away


def test_the_command_gets_a_snapshot_from_the_process_that_holds_the_file(db_path, tmp_path):
    env = {**os.environ, "HARMONICA_DB": str(db_path), "HARMONICA_BACKUP_EVERY_H": "0"}
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from core import backup; from core.db import open_database; "
         "backup.start_worker(open_database(sys.argv[1])); print('ready', flush=True); time.sleep(120)",
         str(db_path)], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        done = subprocess.run([sys.executable, "-m", "core", "backup", "--wait", "60"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=90)
        assert done.returncode == 0, done.stderr
        assert "The running app wrote" in done.stdout
        listed = subprocess.run([sys.executable, "-m", "core", "backup", "--list"], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=60)
        assert "harmonica-" in listed.stdout and "manual" in listed.stdout
    finally:
        holder.kill()
        holder.wait()


def test_the_backups_page_takes_checks_and_restores(db, creator):
    create_session(db, creator, BRIEF)
    at = app("pages/backups.py", user=creator).run()
    assert not at.exception and "No snapshots yet" in texts(at)
    next(b for b in at.button if b.label == "Take a snapshot now").click().run()
    assert "taken" in texts(at)
    create_session(db, creator, BRIEF)
    at.run()
    counts = at.dataframe[1].value
    assert list(counts["now"][:1]) == [2] and list(counts["in the snapshot"][:1]) == [1]
    next(b for b in at.button if b.label == "Restore this snapshot…").click().run()
    at.button(key="restore_confirmed").click().run()
    assert not at.exception and "Restored" in texts(at)
    assert len(list_for(db, creator)) == 1
