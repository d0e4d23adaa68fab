"""The app's entry point: `streamlit run Home.py` serves the pages and the REST API in one process and port.

Streamlit imports this file to look for an ASGI app (`app = st.App(...)`): then it serves `app`, which runs this
same file as the main page of every browser session. So the file is read in two ways: imported, it builds the app
with the API routes (core/api); run as a page, it draws the entry page (sign-in, or the session dashboard).
"""

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

if get_script_run_ctx(suppress_warning=True) is None:
    from core.api.routes import api_routes
    from ui.nav import HOME

    app = st.App(HOME.path, routes=api_routes())
else:
    from ui.home import show

    st.set_page_config(page_title="Harmonica", page_icon=":material/forum:", layout="wide")
    show()
