"""Form-style editors for creators: one card per guide step or form field, with plain labels and Add / Move up /
Move down / Delete buttons. Edits are a draft in the session state until Save; the stored guide or form changes
only through the page's save handler.

A draft is named for what it was made from (the guide version, the stored form), so a save or another editor's
change starts a fresh draft, and unsaved edits survive reruns, tab switches and the table view.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import streamlit as st

from core.forms import CHOICE_TYPES, FIELD_TYPES, FormField
from core.guide import Step
from ui.editors import field_items, step_items


class Draft:
    """An ordered list of items (dicts of field -> value) under stable ids; widget values are copied in on every
    run, so a widget Streamlit drops while it is not shown (table view) comes back with its last value."""

    def __init__(self, name: str, original: list[dict[str, Any]]) -> None:
        self.name, self.original = name, original
        if name not in st.session_state:
            st.session_state[name] = {"order": [], "values": {}, "next": 0}
            for item in original:
                self.add(item)
        data = self.data
        for uid in data["order"]:
            for field in data["values"][uid]:
                if (key := self.key(uid, field)) in st.session_state:
                    data["values"][uid][field] = st.session_state[key]

    @property
    def data(self) -> dict[str, Any]:
        return st.session_state[self.name]

    def key(self, uid: str, field: str) -> str:
        return f"{self.name}:{uid}:{field}"

    def widget(self, uid: str, field: str) -> str:
        """The widget key of an item's field, seeded from the draft when Streamlit has no value for it."""
        key = self.key(uid, field)
        if key not in st.session_state:
            st.session_state[key] = self.data["values"][uid][field]
        return key

    def add(self, item: dict[str, Any]) -> None:
        uid = f"i{self.data['next']}"
        self.data["next"] += 1
        self.data["values"][uid] = dict(item)
        self.data["order"].append(uid)

    def move(self, uid: str, delta: int) -> None:
        order = self.data["order"]
        i = order.index(uid)
        j = min(max(i + delta, 0), len(order) - 1)
        order.insert(j, order.pop(i))

    def remove(self, uid: str) -> None:
        self.data["order"].remove(uid)

    def discard(self) -> None:
        """Forget the draft and its widgets' values (a button callback: before the widgets exist)."""
        for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(f"{self.name}:")]:
            del st.session_state[key]
        st.session_state.pop(self.name, None)

    def items(self) -> list[dict[str, Any]]:
        return [dict(self.data["values"][uid]) for uid in self.data["order"]]

    def unsaved_note(self) -> None:
        """Say that the draft differs from what is stored, with a way back."""
        if self.items() != self.original:
            note, undo = st.columns([4, 1], vertical_alignment="center")
            note.caption("Unsaved changes: they are kept while you work here, and take effect when you save.")
            undo.button("Discard changes", key=f"{self.name}:discard", on_click=self.discard, width="stretch")

    def card_header(self, uid: str, title: str) -> None:
        """The card's title and its Move up / Move down / Delete buttons."""
        order = self.data["order"]
        i = order.index(uid)
        head, up, down, delete = st.columns([5, 1.2, 1.4, 1.1], vertical_alignment="center")
        head.markdown(f"**{title}**")
        up.button("Move up", key=f"{self.key(uid, '_')}up", disabled=i == 0, on_click=self.move, args=(uid, -1),
                  width="stretch")
        down.button("Move down", key=f"{self.key(uid, '_')}down", disabled=i == len(order) - 1,
                    on_click=self.move, args=(uid, 1), width="stretch")
        delete.button("Delete", key=f"{self.key(uid, '_')}delete", on_click=self.remove, args=(uid,),
                      width="stretch")


def _fingerprint(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:12]


# ------------------------------------------------------------------------------------------------ guide


def guide_draft(session_id: str, version: int, steps: list[Step]) -> Draft:
    """The draft of a guide version's steps. Made on every run, also while its tab is closed, so typing sent with a
    tab switch reaches it before Streamlit forgets the undrawn widgets."""
    return Draft(f"guide_cards:{session_id}:{version}", step_items(steps))


def guide_cards(draft: Draft, critical_items: list[str]) -> None:
    """One card per step: question, follow-up probe, the critical item it covers."""
    for n, uid in enumerate(draft.data["order"], start=1):
        with st.container(border=True):
            draft.card_header(uid, f"Question {n}")
            st.text_area("Question", key=draft.widget(uid, "question"), height=80,
                         placeholder="What participants are asked, in your words")
            st.text_input("Follow-up if the answer is short (optional)", key=draft.widget(uid, "probe"),
                          placeholder="e.g. Could you give an example?")
            current = draft.data["values"][uid]["critical_item"]
            options = [""] + critical_items + ([current] if current and current not in critical_items else [])
            st.selectbox("Covers this critical item", options, key=draft.widget(uid, "critical_item"),
                         format_func=lambda v: v or "None", help="From the brief's list of what is critical "
                         "to gather; Coverage in the results counts who spoke to each.")
    st.button("Add a question", icon=":material/add:", key=f"{draft.name}:add",
              on_click=draft.add, args=({"question": "", "probe": "", "critical_item": ""},))
    draft.unsaved_note()


# ------------------------------------------------------------------------------------------------- form

FIELD_HELP = {
    "share_with_model": "The AI facilitator may see this answer. Leave off for names, emails and anything "
                        "identifying.",
    "identifying": "Names, emails…: shown to owners and editors only, and never sent to the AI.",
}


def form_draft(session_id: str, fields: list[FormField]) -> Draft:
    """The draft of the stored form's fields (made on every run, like guide_draft)."""
    original = field_items(fields)
    return Draft(f"form_cards:{session_id}:{_fingerprint(original)}", original)


def form_cards(draft: Draft) -> None:
    """One card per field: label, type in plain words, required, and what the type needs (options, limits)."""
    for n, uid in enumerate(draft.data["order"], start=1):
        with st.container(border=True):
            draft.card_header(uid, f"Field {n}")
            left, right = st.columns([3, 2])
            left.text_input("Label", key=draft.widget(uid, "label"), placeholder="What participants see")
            right.selectbox("Type", list(FIELD_TYPES), key=draft.widget(uid, "type"), format_func=FIELD_TYPES.get)
            kind = st.session_state[draft.key(uid, "type")]
            if kind in CHOICE_TYPES:
                st.text_area("Options (one per line)", key=draft.widget(uid, "options"), height=120)
            elif kind == "number":
                low, high = st.columns(2)
                # "%g": a scale of 1 to 10 reads "1" and "10", not "1.00" and "10.00"
                low.number_input("Smallest allowed (optional)", step=1.0, format="%g", key=draft.widget(uid, "min"))
                high.number_input("Largest allowed (optional)", step=1.0, format="%g", key=draft.widget(uid, "max"))
            a, b, c = st.columns(3)
            a.checkbox("Required", key=draft.widget(uid, "required"))
            b.checkbox("Share with the AI", key=draft.widget(uid, "share_with_model"), help=FIELD_HELP[
                "share_with_model"])
            c.checkbox("Identifying", key=draft.widget(uid, "identifying"), help=FIELD_HELP["identifying"])
    st.button("Add a field", icon=":material/add:", key=f"{draft.name}:add", on_click=draft.add,
              args=({"key": "", "label": "", "type": "short_text", "required": False, "options": "", "min": None,
                     "max": None, "share_with_model": False, "identifying": False},))
    draft.unsaved_note()

