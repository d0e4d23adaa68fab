"""Tabs whose content runs only when they are open: the results and design pages draw only the open tab."""

from __future__ import annotations

from typing import Iterator

import streamlit as st
from streamlit.delta_generator import DeltaGenerator


def rendered(tab: DeltaGenerator, lazy: bool) -> Iterator[None]:
    """Run a tab's body inside the tab, or not at all when `lazy` and the tab is not the open one.

    Tabs bound to the query string (`st.tabs(..., key=..., bind="query-params")`) rerun the page on a switch and
    know which one is open (`tab.open`). Used as `for _ in rendered(tabs[3], lazy):` in place of `with tabs[3]:`,
    the body keeps its indentation and runs once (inside the tab) or never. Hidden tabs then show nothing until
    opened, and Streamlit forgets their widgets' values when the user leaves them (`keep_values` holds the ones
    worth keeping; ui.forms.KeptInputs and ui.cards.Draft keep unsaved typing). The results page computes only
    the open tab above core.results.LAZY_TABS_ABOVE participants; the design page draws only the open tab.
    """
    if lazy and getattr(tab, "open", None) is False:   # None: the tabs do not track which one is open
        return
    with tab:
        yield


def keep_values(*keys: str) -> None:
    """Keep these widgets' values while their tab is closed: Streamlit drops the state of a widget that a run does
    not draw, unless the state is written again before the widget is made."""
    for key in keys:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]
