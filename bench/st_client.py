"""A participant's browser reduced to its websocket: Streamlit's own protocol, no page drawing.

The browser and Streamlit talk protobuf over `/_stcore/stream`: the browser sends a `BackMsg` (run the page with
these widget values), the server answers with `ForwardMsg`s (the run's elements, then `script_finished`). This
client does the same from asyncio, so one process can hold hundreds of participants where Chromium holds a few:
the server does exactly the work it does for a browser (the same script runs, callbacks and messages), and the
client's cost is a protobuf parse per message.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

FINISHED = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_SUCCESSFULLY")
TEXT_KINDS = ("markdown", "text", "heading", "alert", "progress")


@dataclass
class Run:
    """What one finished script run showed: widget ids by label, and its texts in page order."""
    widgets: dict[str, tuple[str, str]] = field(default_factory=dict)   # label → (id, kind)
    texts: list[str] = field(default_factory=list)
    seconds: float = 0.0
    runs: int = 0


class PageClient:
    """One connected page (`/page?query`) on a Streamlit server; `await run(...)` is one interaction."""

    def __init__(self, base_url: str, page: str, query: dict[str, str]):
        self.ws_url = base_url.replace("http://", "ws://") + "/_stcore/stream"
        self.origin = base_url
        self.page = page
        self.query = urlencode(query)
        self._ws = None
        self.last = Run()

    async def connect(self) -> Run:
        """Open the websocket and run the page once, as a browser's first load does."""
        self._ws = await websockets.connect(self.ws_url, subprotocols=["streamlit"], origin=self.origin,
                                            max_size=None, open_timeout=60, ping_interval=None)
        return await self.run({})

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()

    async def run(self, widgets: dict[str, object], timeout: float = 120.0) -> Run:
        """Rerun the page with these widget values (label → value; `True` for a button: a click) and wait for the
        run to finish; returns what it showed and the wall time from sending to the run finished."""
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self.query
        state.page_name = self.page
        for label, value in widgets.items():
            w = state.widget_states.widgets.add()
            w.id, kind = self.last.widgets[label]
            if kind == "button":
                w.trigger_value = True
            elif kind == "checkbox":
                w.bool_value = bool(value)
            else:
                w.string_value = str(value)
        started = time.perf_counter()
        await self._ws.send(msg.SerializeToString())
        run = Run()
        while True:
            raw = await asyncio.wait_for(self._ws.recv(), timeout)
            fwd = ForwardMsg()
            fwd.ParseFromString(raw)
            kind = fwd.WhichOneof("type")
            if kind == "new_session":
                run = Run(runs=run.runs + 1)   # st.rerun() starts another run before this one finishes
            elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                self._note(run, fwd.delta.new_element)
            elif kind == "script_finished" and fwd.script_finished == FINISHED:
                run.seconds = time.perf_counter() - started
                self.last = run
                return run

    @staticmethod
    def _note(run: Run, element) -> None:
        kind = element.WhichOneof("type")
        if kind in ("button", "text_area", "text_input", "checkbox"):
            widget = getattr(element, kind)
            run.widgets[widget.label] = (widget.id, kind)
        elif kind == "markdown":
            run.texts.append(element.markdown.body)
        elif kind == "text":
            run.texts.append(element.text.body)
        elif kind == "progress":
            run.texts.append(element.progress.text)
