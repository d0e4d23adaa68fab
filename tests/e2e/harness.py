"""Running a real Harmonica server and driving it with Playwright (shared by conftest.py and screenshot.py).

Nothing here is a test. The server runs as `python -m streamlit run Home.py` from the repository root, in its
own process group, against a database and secrets folder in a temporary directory, with no model configured
(offline mode) and no network other than 127.0.0.1.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
STARTUP_TIMEOUT_S = 40
# Generous: the machine that runs CI may be slow and busy. 30 s was not enough with two suites at once on 2 cores
# (a Results page's first Plotly chart, a page going idle): waits end as soon as the page is there, so only a
# failing test takes longer.
TIMEOUT_MS = 60_000


def missing_browser() -> str | None:
    """Why a browser test cannot run here, or None when it can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed (pip install playwright)"
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    return None


def clean_env(workdir: Path) -> dict[str, str]:
    """The environment of a server or command: its own database and secrets, nothing model-related."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPENAI_", "HARMONICA_", "STREAMLIT_"))
           and k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    env["HARMONICA_DB"] = str(workdir / "h.duckdb")
    env["HARMONICA_SECRETS_DIR"] = str(workdir / "secrets")
    env["HARMONICA_OFFLINE"] = "1"  # even if a developer's secrets.toml names a model
    env["HARMONICA_BACKUP_EVERY_H"] = "0"  # no snapshot at start (asked-for ones are still taken)
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass(frozen=True)
class Demo:
    username: str
    password: str
    session_id: str


# Seeding runs a command that imports everything and synthesises (~10 s); its result is the same every time, so
# each test process seeds each size once and copies the files for every later test.
_seeded: dict[int | None, tuple[Path, Demo]] = {}


def seed_demo(workdir: Path, participants: int | None = None) -> Demo:
    """The demo (`python -m core seed-demo`) in the work dir's database, before any server holds the file."""
    if participants not in _seeded:
        template = Path(tempfile.mkdtemp(prefix="harmonica-seeded-"))
        atexit.register(shutil.rmtree, template, True)
        _seeded[participants] = (template, _run_seed_demo(template, participants))
    template, demo = _seeded[participants]
    workdir.mkdir(parents=True, exist_ok=True)
    for path in template.iterdir():
        if path.is_dir():
            shutil.copytree(path, workdir / path.name, dirs_exist_ok=True)
        else:
            shutil.copy2(path, workdir / path.name)
    return demo


def _run_seed_demo(workdir: Path, participants: int | None) -> Demo:
    cmd = [sys.executable, "-m", "core", "seed-demo"]
    if participants is not None:
        cmd += ["--participants", str(participants)]
    done = subprocess.run(cmd, cwd=REPO, env=clean_env(workdir), capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"seed-demo failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    login = re.search(r"Sign in as\s+username:\s*(\S+)\s+password:\s*(\S+)", done.stdout)
    session = re.search(r"Session id:\s*(\S+)", done.stdout)
    if not (login and session):
        raise RuntimeError(f"unexpected seed-demo output:\n{done.stdout}")
    return Demo(login.group(1), login.group(2), session.group(1))


@contextmanager
def demo_server(workdir: Path, participants: int = 0, prepare: Callable[[Path, Demo], None] | None = None,
                env: dict[str, str] | None = None) -> Iterator[tuple[Server, Demo]]:
    """A seeded demo (`participants` finished), `prepare(database path, demo)` run on its file before any server
    holds it, then a server on it (the automatic synthesis off unless `env` says otherwise); stopped on exit."""
    demo = seed_demo(workdir, participants=participants)
    if prepare is not None:
        prepare(workdir / "h.duckdb", demo)
    server = start_server(workdir, {"HARMONICA_AUTO_SYNTHESIS": "0", **(env or {})})
    try:
        yield server, demo
    finally:
        server.stop()


def as_creator(page, server: Server, demo: Demo, path: str):
    """`page` signed in as the demo's creator, then at `path` (e.g. "/results?s=…&tab=Themes"); returns it."""
    sign_in(page, server.url, demo.username, demo.password)
    goto(page, server.url + path)
    return page


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    workdir: Path
    port: int
    process: subprocess.Popen
    log_path: Path
    _log: object = field(repr=False, default=None)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def errors(self) -> list[str]:
        """The last line of every traceback the server logged so far (e.g. "ImportError: ...")."""
        errors, in_traceback = [], False
        for line in self.log_tail(10_000_000).splitlines():
            if line.startswith("Traceback (most recent call last):"):
                in_traceback = True
            elif in_traceback and line and not line.startswith((" ", "\t")):
                if not line.startswith(("During handling", "The above exception")):
                    errors.append(line.strip())
                    in_traceback = False
        return errors

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.process.wait(timeout=10)
        if self._log:
            self._log.close()


def _healthy(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200 and response.read().decode().strip() == "ok"
    except OSError:
        return False


def start_server(workdir: Path, extra_env: dict[str, str] | None = None) -> Server:
    """Start Streamlit on a free port and wait until /_stcore/health answers ok."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = workdir / "server.log"
    log = log_path.open("w")
    cmd = [sys.executable, "-m", "streamlit", "run", "Home.py",
           "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(port),
           "--browser.gatherUsageStats", "false",
           # Another engineer may edit pages while tests run: no reruns on file changes.
           "--server.fileWatcherType", "none"]
    env = {**clean_env(workdir), **(extra_env or {})}
    process = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, start_new_session=True)
    server = Server(workdir, port, process, log_path, log)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            server.stop()
            raise RuntimeError(f"the server exited with {process.returncode}:\n{server.log_tail()}")
        if _healthy(server.url):
            return server
        time.sleep(0.25)
    server.stop()
    raise RuntimeError(f"the server did not answer /_stcore/health within {STARTUP_TIMEOUT_S} s:\n{server.log_tail()}")


def launch_browser(playwright):
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def unexpected(errors: list[str]) -> list[str]:
    """Errors that fail a test (kept as a hook for known, reported bugs; none today)."""
    return list(errors)


# --- Streamlit page helpers ----------------------------------------------------------------------------

_IDLE_JS = """(quietMs) => {
  const app = document.querySelector('[data-testid="stApp"]');
  const status = document.querySelector('[data-testid="stStatusWidget"]');
  const busy = !app
    || app.getAttribute('data-test-connection-state') !== 'CONNECTED'
    || ['running', 'rerunRequested', 'stopRequested'].includes(app.getAttribute('data-test-script-state'))
    || document.querySelector('[data-stale="true"]') !== null
    || (status !== null && status.getClientRects().length > 0)
    // an element whose script is still loading (a Suspense placeholder): on a busy machine these outlast the run
    || [...document.querySelectorAll('[data-testid="stSkeleton"]')].some(e => e.getClientRects().length > 0);
  const now = performance.now();
  if (busy || window.__harmonicaIdleSince === undefined) {
    window.__harmonicaIdleSince = busy ? undefined : now;
    return false;
  }
  return now - window.__harmonicaIdleSince >= quietMs;
}"""


def wait_idle(page, timeout: int = TIMEOUT_MS, quiet_ms: int = 250) -> None:
    """Wait until the app is connected and has been idle for `quiet_ms`: no script run in progress, no
    stale elements, no placeholder of an element still loading, the running indicator (stStatusWidget) hidden.

    The quiet period matters: a page that calls st.rerun() goes "not running" for a moment between its
    two runs. Streamlit also starts a run a moment after a click, so callers follow an action with an
    expectation on its visible outcome first, then call this.
    """
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    page.evaluate("delete window.__harmonicaIdleSince")
    page.wait_for_function(_IDLE_JS, arg=quiet_ms, timeout=timeout, polling=50)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=timeout)


def goto(page, url: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector('[data-testid="stApp"]', timeout=TIMEOUT_MS)
    # The first run of a fresh page: wait for some app content before checking that it finished.
    page.wait_for_selector('[data-testid="stMain"] [data-testid="stElementContainer"]', timeout=TIMEOUT_MS)
    wait_idle(page)


def sign_in(page, base_url: str, username: str, password: str) -> None:
    """Sign in through the stauth form on the home page and wait for the dashboard."""
    from playwright.sync_api import expect

    goto(page, base_url + "/")
    page.get_by_role("tab", name="Sign in").click()
    form = page.locator('[data-testid="stForm"]').filter(has=page.get_by_role("button", name="Sign in"))
    form.get_by_label("Username", exact=True).fill(username)
    form.get_by_label("Password", exact=True).fill(password)
    form.get_by_role("button", name="Sign in").click()
    # .first: while the sign-in run is replaced by the signed-in one, the heading can briefly be there twice.
    expect(page.get_by_role("heading", name="Your sessions").first).to_be_visible(timeout=TIMEOUT_MS)
    wait_idle(page)
    expect(page.get_by_role("heading", name="Your sessions")).to_have_count(1)
    wait_for_cookie(page)


def wait_for_cookie(page, name: str = "harmonica_auth") -> None:
    """Wait until the browser holds the sign-in cookie: a browser component writes it after the run that signed
    in, and a page opened by address (a new Streamlit session) before then would be signed out."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while not any(c["name"] == name for c in page.context.cookies()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the {name} cookie was never written")
        page.wait_for_timeout(50)


# Reports every Streamlit exception box (stException) the moment it appears, even one that the next run
# replaces a fraction of a second later, to the Python side (see `new_context`).
_EXCEPTION_WATCH = """
(() => {
  const seen = new WeakSet();
  const report = () => document.querySelectorAll('[data-testid="stException"], .st-key-harmonica-error')\
.forEach((el) => {
    if (seen.has(el)) return;
    seen.add(el);
    window.__harmonicaException(location.pathname + location.search, (el.innerText || "").slice(0, 300));
  });
  new MutationObserver(report).observe(document, {subtree: true, childList: true});
})();
"""


def new_context(browser, exceptions: list[str] | None = None):
    """A browser context (a visitor with their own cookies). With `exceptions`, every exception box the app
    shows, however briefly, is appended to that list as "path: message"."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    if exceptions is not None:
        context.expose_binding("__harmonicaException",
                               lambda source, path, text: exceptions.append(f"{path}: {text}"))
        context.add_init_script(_EXCEPTION_WATCH)
    return context
