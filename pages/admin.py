"""Admin settings: the active mode and endpoint (never the key), a connection test, and the model call log."""

import streamlit as st

from core import calllog, modes
from core.config import settings
from core.llm.gate import gate_states
from core.permissions import require_admin
from ui.auth import allowed_or_stop, require_user
from ui.menu import show_menu
from ui.resources import db

st.set_page_config(page_title="Admin · Harmonica", layout="wide")
user = require_user()
show_menu(user)
allowed_or_stop(lambda: require_admin(user))  # every page checks its own access, deep links included

st.title("Admin settings")
info = modes.mode_info()
if info.mode == "model":
    st.success(f"Model mode: replies and guides come from the model at **{info.endpoint_host}**.")
else:
    st.info("Offline mode: no model is configured. Facilitation and guides use rules and templates. "
            "Set OPENAI_BASE_URL and/or OPENAI_API_KEY (environment or .streamlit/secrets.toml) and restart.")

st.subheader("Configuration")
rows = {
    "Mode": info.mode,
    "Endpoint": info.endpoint_url or "(none)",
    "API key": "set (hidden)" if info.key_set else "not set",
    "Facilitation model": info.model_facilitation,
    "Generation model": info.model_generation,
    "Synthesis model": info.model_synthesis,
    "Request timeout": f"{info.timeout_s:g} s",
    "Retries": str(info.retries),
    "Price table": str(settings().prices_file),
}
st.table({"setting": list(rows), "value": list(rows.values())})

if st.button("Test connection", disabled=info.mode != "model"):
    with st.spinner("Calling the model…"):
        ok, message = modes.check_connection(db())
    (st.success if ok else st.error)(message)

if gates := gate_states():
    st.subheader("Model endpoint now")
    st.caption("Calls at once and per minute are limited per endpoint (HARMONICA_LLM_CONCURRENCY, HARMONICA_LLM_RPM): "
               "callers wait for a slot. After 5 failures in a row the endpoint is left alone for 30 s, and "
               "participants get the offline facilitator at once.")
    st.dataframe([{"endpoint": endpoint, "running": g.in_flight, "waiting": g.queued,
                   "started in the last minute": f"{g.started_last_minute}" + (f" of {g.per_minute}" if g.per_minute
                                                                               else ""),
                   "limit at once": g.concurrency, "failures in a row": g.failures_in_a_row, "breaker": g.breaker}
                  for endpoint, g in gates.items()], hide_index=True, width="stretch")

st.subheader("Model calls")
st.caption("Every call to the model is logged: purpose, model, endpoint, prompt version, tokens, latency and "
           "outcome. Costs are estimates from the price table (USD per million tokens).")
prices = calllog.load_prices(settings().prices_file)
by_purpose = calllog.totals(db(), "purpose", prices)
if by_purpose.empty:
    st.info("No model calls yet.")
    st.stop()
total_cost = float(by_purpose["estimated_cost_usd"].sum())
c1, c2, c3 = st.columns(3)
c1.metric("Calls", int(by_purpose["calls"].sum()))
c2.metric("Failed calls", int(by_purpose["failed"].sum()))
c3.metric("Estimated cost", f"${total_cost:,.4f}")
money = st.column_config.NumberColumn("Estimated cost (USD)", format="$%.4f")
st.markdown("**Per purpose**")
st.dataframe(by_purpose.rename(columns={"key": "purpose"}), hide_index=True, width="stretch",
             column_config={"estimated_cost_usd": money})
st.markdown("**Per session**")
st.dataframe(calllog.totals(db(), "session", prices).rename(columns={"key": "session"}), hide_index=True,
             width="stretch", column_config={"estimated_cost_usd": money})
with st.expander("Latest calls"):
    st.dataframe(calllog.latest_calls(db(), 200), hide_index=True, width="stretch")
