"""Backups (admins): snapshots the app takes of its own database, a snapshot now, and restoring one."""

import streamlit as st

from core import backup
from core.permissions import require_admin
from ui.auth import allowed_or_stop, require_user
from ui.confirm import ask_first
from ui.menu import show_menu
from ui.resources import db

st.set_page_config(page_title="Backups · Harmonica", layout="wide")
user = require_user()
show_menu(user)
allowed_or_stop(lambda: require_admin(user))  # every page checks its own access, deep links included

st.title("Backups")
if not backup.applies_to(db()):
    st.info(backup.ON_POSTGRESQL, icon=":material/info:")
    st.stop()
hours = backup.every_hours()
when = f"at start and every {hours:g} h" if hours else "(automatic ones are off: HARMONICA_BACKUP_EVERY_H=0)"
st.caption(f"Snapshots of the whole database (sessions, transcripts, codebook edits, accounts), taken by the app "
           f"itself so each is consistent: {when}, before any restore, and when you ask. The newest "
           f"{backup.keep_count()} are kept in {backup.folder(db())}.")
if done := st.session_state.pop("backup_done", None):
    st.success(done)

if st.button("Take a snapshot now", type="primary"):
    with st.spinner("Copying the database…"):
        snap = backup.snapshot_as(db(), user)
    st.session_state["backup_done"] = f"Snapshot {snap.path.name} taken ({snap.size / 1e6:.1f} MB)."
    st.rerun()

snapshots = backup.list_snapshots(db())
if not snapshots:
    st.info("No snapshots yet.")
    st.stop()
st.dataframe([{"snapshot": s.path.name, "taken (UTC)": f"{s.taken_at:%Y-%m-%d %H:%M:%S}", "why": s.reason,
               "size (MB)": round(s.size / 1e6, 1)} for s in snapshots], hide_index=True, width="stretch")

st.subheader("Restore")
name = st.selectbox("Snapshot", [s.path.name for s in snapshots], key="restore_name")
try:
    plan = backup.check_as(db(), user, name)   # the dry run, shown before anything can change
except backup.BackupError as exc:
    st.error(str(exc))
    st.stop()
st.write("What it holds, against the database now:")
st.dataframe([{"": label, "now": now, "in the snapshot": then} for label, (now, then) in plan.counts.items()],
             hide_index=True)
if not plan.ok:
    st.error(plan.problem)
    st.stop()


def restore() -> None:
    with st.spinner("Restoring…"):
        backup.restore_as(db(), user, name)
    st.session_state["backup_done"] = f"Restored {name}."
    st.rerun()


if st.button("Restore this snapshot…"):
    st.session_state["restoring"] = True
ask_first("restoring", "Restore this snapshot?",
          f"The database becomes {name}: everything since then is replaced (the current data is kept first, as a "
          "before-restore snapshot, so this can be undone). Pages open right now may show an error once.",
          yes="Restore", no="Cancel", key="restore", on_yes=restore)
