"""Start the fake OpenAI server as a subprocess and drive it from tests."""

from __future__ import annotations

import json
import queue
import socket
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

SERVER_SCRIPT = Path(__file__).with_name("openai_server.py")
REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 10.0


class FakeOpenAI:
    """A running fake server: `with FakeOpenAI() as fake: fake.script({"content": "hi"})`."""

    def __init__(self, delay: float = 0.0, script: Path | str = SERVER_SCRIPT, module: str | None = None) -> None:
        """`delay`: seconds every model request takes; `script`: the server to run (a variant of openai_server.py
        taking the same options); `module`: run that module instead, `python -m module` from the repository root
        (e.g. the benchmark's "bench._model_server")."""
        self._proc: subprocess.Popen[str] | None = None
        self.base_url = ""
        self.delay = delay
        self.script_path = Path(script)
        self.module = module

    def start(self) -> FakeOpenAI:
        """Launch the server and wait for its LISTENING line."""
        extra = ["--delay", str(self.delay)] if self.delay else []
        target = ["-m", self.module] if self.module else [str(self.script_path)]
        proc = self._proc = subprocess.Popen(
            [sys.executable, *target, "--port", "0", "--exit-on-stdin-eof", *extra],
            stdin=subprocess.PIPE,  # held open: the server exits if this process dies
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO_ROOT if self.module else None,
        )
        stdout = proc.stdout
        assert stdout is not None
        lines: queue.Queue[str] = queue.Queue()
        # readline blocks; a thread lets us give up after the timeout
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=START_TIMEOUT_S)
        except queue.Empty:
            self.stop()
            raise RuntimeError(f"fake OpenAI server did not start within {START_TIMEOUT_S} s") from None
        if not line.startswith("LISTENING "):
            code = proc.poll()
            self.stop()
            raise RuntimeError(f"fake OpenAI server failed to start (exit {code}): {line!r}")
        self.base_url = line.split(" ", 1)[1].strip()
        return self

    def stop(self) -> None:
        """Terminate the server process."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        """The server root, without the /v1 suffix."""
        return self.base_url.removesuffix("/v1")

    def _call(self, method: str, path: str, payload: Any = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(
            self.root_url + path, data=data, method=method, headers={"content-type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())

    def script(self, *replies: dict[str, Any]) -> None:
        """Queue replies, answered in order by the next model requests."""
        self._call("POST", "/_control/script", {"replies": list(replies)})

    def requests(self, path: str | None = None) -> list[dict[str, Any]]:
        """Requests received since the last reset, optionally only those to `path` (e.g. "/v1/chat/completions")."""
        log = self._call("GET", "/_control/requests")
        return [r for r in log if path is None or r["path"] == path]

    def reset(self) -> None:
        """Clear the reply queue, the request log and the concurrency figure."""
        self._call("POST", "/_control/reset", {})

    def max_in_flight(self) -> int:
        """The most model requests answered at once since the last reset."""
        return int(self._call("GET", "/_control/stats")["max_in_flight"])


def closed_port_url() -> str:
    """A base URL on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
