"""Browser tests: the real app in a subprocess, driven by the system's Chromium.

The app runs with uvicorn on a free port of 127.0.0.1, over a fresh SQLite
database, once per test session. pytest-playwright's `page`, `context` and
`new_context` fixtures open pages against it: `page.goto("/signup")` works.

Chromium is Debian's (/usr/bin/chromium, or the path in MUTUAL_CHROMIUM);
`playwright install` is never needed. Without it these tests skip, except in CI
(CI=true), where they fail: a skip there would hide that nothing was tested.

These tests talk to the live server only; they never use the root conftest's
`app`, `client`, `settings`, `engine` or `session` fixtures.
"""

import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("MUTUAL_CHROMIUM") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
HOST = "127.0.0.1"
SECRET = "browser-tests-secret-key-0123456789abcde"  # 40 characters
PASSWORD = "quiet harbour lantern morning"
STARTUP_SECONDS = 60.0  # a busy machine starts a server slowly; a broken one never
ACTION_TIMEOUT_MS = 10_000  # Playwright's default of 30 s only slows a failing run

# Installed in every page before its own scripts run: records what the page
# itself reports, so tests can ask afterwards.
PAGE_RECORDER = """
(() => {
  if (window.__mutualSeen) return;
  const seen = { cspViolations: [], sseOpen: 0 };
  Object.defineProperty(window, "__mutualSeen", { value: seen });
  document.addEventListener("securitypolicyviolation", (event) => {
    seen.cspViolations.push({
      directive: event.violatedDirective,
      blocked: event.blockedURI,
      source: event.sourceFile + ":" + event.lineNumber,
      sample: event.sample,
    });
  }, true);
  document.addEventListener("htmx:sseOpen", () => { seen.sseOpen += 1; }, true);
})();
"""


def chromium_present() -> bool:
    return os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)


# ------------------------------------------------------------------ collection


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Every test in this folder is a browser test: `-m "not browser"` leaves it."""
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session", autouse=True)
def _chromium_is_there() -> None:
    """Skip without Chromium; in CI, fail, so a missing browser is never silent."""
    if chromium_present():
        return
    reason = (
        f"no Chromium at {CHROMIUM}: install it with `apt-get install chromium`, "
        "or set MUTUAL_CHROMIUM to its path"
    )
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: the browser tests must run here)")
    pytest.skip(reason)


# ------------------------------------------------------------------ the app


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen
    log_path: Path
    _log_read: int = 0

    def new_log(self) -> str:
        """What the server has logged since the last call."""
        with self.log_path.open("rb") as log:
            log.seek(self._log_read)
            data = log.read()
        self._log_read += len(data)
        return data.decode("utf-8", "replace")

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text("utf-8", "replace")
        return "\n".join(text.splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _server_env(database_url: str, base_url: str) -> dict[str, str]:
    # none of the developer's own MUTUAL_* settings: the server is the same everywhere
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUTUAL_")}
    env.update(
        MUTUAL_DATABASE_URL=database_url,
        MUTUAL_SECRET_KEY=SECRET,
        MUTUAL_BASE_URL=base_url,
        MUTUAL_RATE_LIMITS="false",
        # cheap password hashing, as in the root conftest: sign-ups stay quick
        MUTUAL_ARGON2_TIME_COST="1",
        MUTUAL_ARGON2_MEMORY_KIB="1024",
        MUTUAL_ARGON2_PARALLELISM="1",
        PYTHONUNBUFFERED="1",
    )
    return env


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    if not (ROOT / "static" / "vendor" / "htmx.min.js").is_file():
        pytest.fail(
            "static/vendor/htmx.min.js is missing: run `make static/vendor/.stamp`"
        )
    tmp = tmp_path_factory.mktemp("live")
    port = _free_port()
    url = f"http://{HOST}:{port}"
    env = _server_env(f"sqlite:///{tmp / 'b.db'}", url)
    log_path = tmp / "server.log"

    migrate = subprocess.run(
        [sys.executable, "-m", "backend.cli", "migrate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if migrate.returncode != 0:
        pytest.fail(
            f"`mutual migrate` failed ({migrate.returncode}):\n"
            f"{migrate.stdout}{migrate.stderr}"
        )

    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 (our own fixed command)
            [
                sys.executable,
                "-m",
                "backend.cli",
                "serve",
                "--host",
                HOST,
                "--port",
                str(port),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(url=url, process=process, log_path=log_path)
    try:
        _wait_until_healthy(server)
        yield server
    finally:
        _stop(process)


def _wait_until_healthy(server: LiveServer) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    with httpx.Client(timeout=1.0) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                pytest.fail(
                    f"the app exited with {server.process.returncode} while "
                    f"starting:\n{server.log_tail()}"
                )
            try:
                if client.get(f"{server.url}/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
    pytest.fail(
        f"the app did not answer /healthz within {STARTUP_SECONDS:.0f} s:\n"
        f"{server.log_tail()}"
    )


@pytest.fixture(scope="session")
def base_url(live_server: LiveServer) -> str:
    """pytest-playwright's own fixture, pointed at the live server."""
    return live_server.url


@pytest.fixture(autouse=True)
def _server_stays_well(live_server: LiveServer) -> Iterator[None]:
    """A test fails if the app answered 5xx or logged a traceback while it ran."""
    live_server.new_log()
    yield
    time.sleep(0.05)  # let the access log of the last request land
    log = live_server.new_log()
    problems = [
        line
        for line in log.splitlines()
        if re.search(r'" 5\d\d\b', line) or "Traceback" in line or "ERROR" in line
    ]
    assert live_server.process.poll() is None, f"the app died:\n{log}"
    assert not problems, "the app went wrong during this test:\n" + log


# ------------------------------------------------------------------ the browser


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict:
    """pytest-playwright's launch arguments, with the system Chromium."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": CHROMIUM_FLAGS,
    }


@pytest.fixture
def new_context(new_context):
    """pytest-playwright's `new_context`, with actions that give up sooner."""

    def make(**kwargs: Any) -> BrowserContext:
        context = new_context(**kwargs)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        return context

    return make


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict:
    return {**browser_context_args, "locale": "en-GB", "timezone_id": "UTC"}


# ------------------------------------------------------------------ helpers


@dataclass
class Watch:
    """What happened in a page: console errors and requests, by the browser's word."""

    page: Page
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def csp_violations(self) -> list[dict]:
        return self.page.evaluate("() => window.__mutualSeen.cspViolations")

    def foreign_requests(self) -> list[str]:
        """Requests to anywhere but the live server's host."""
        return [
            url
            for url in self.requests
            if not url.startswith(("data:", "blob:", "about:"))
            and httpx.URL(url).host != HOST
        ]


def watch(page: Page) -> Watch:
    """Record the page's console errors, uncaught errors, requests and CSP reports.

    Call it before the first `goto`.
    """
    seen = Watch(page)
    page.add_init_script(PAGE_RECORDER)
    page.on(
        "console",
        lambda msg: (
            seen.console_errors.append(f"{msg.text} ({msg.location})")
            if msg.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda error: seen.page_errors.append(str(error)))
    page.on("request", lambda request: seen.requests.append(request.url))
    return seen


@dataclass
class Person:
    name: str
    email: str
    password: str
    context: BrowserContext
    page: Page


def unique_email(name: str) -> str:
    return f"{name.lower()}-{uuid.uuid4().hex[:10]}@example.org"


def sign_up(page: Page, name: str, email: str, password: str = PASSWORD) -> None:
    """Fill in the sign-up form on the current page, as a person would."""
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Make my account").click()


def partner(new_context, name: str, **context_args: Any) -> Person:
    """One person in a context of their own (their own cookies), signed up.

    Returns with their page on "My plans". Every page of the context records
    CSP violations and `htmx:sseOpen` (see `wait_for_sse_open`).
    """
    context = new_context(**context_args)
    context.add_init_script(PAGE_RECORDER)
    page = context.new_page()
    email = unique_email(name)
    page.goto("/signup")
    sign_up(page, name, email)
    expect(page.get_by_role("heading", name="My plans", level=1)).to_be_visible()
    return Person(name, email, PASSWORD, context, page)


def start_plan(page: Page, title: str) -> str:
    """From "My plans", start a plan; returns the plan page's path."""
    page.get_by_label("A name for the plan").fill(title)
    page.get_by_role("button", name="Start the plan").click()
    page.wait_for_url(re.compile(r"/plans/[^/]+$"))
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    return httpx.URL(page.url).path


def make_invitation_link(page: Page) -> str:
    """On a plan page, make an invitation link and read it from its field."""
    page.get_by_role("button", name="Make an invitation link").click()
    link = page.get_by_label("Invitation link")
    expect(link).to_have_value(re.compile(r"/invite/\S+$"))
    return link.input_value()


def wait_for_sse_open(page: Page, timeout: float = 5000) -> None:
    """Wait until the page's htmx SSE stream is open.

    Nothing sent before then reaches the page (the stream has no replay), so act
    only after this. The recorder must be in the page before it loads: contexts
    made by `partner` have it; for any other page this installs it and reloads.
    """
    if not page.evaluate("() => Boolean(window.__mutualSeen)"):
        page.add_init_script(PAGE_RECORDER)
        page.reload()
    page.wait_for_function("() => window.__mutualSeen.sseOpen > 0", timeout=timeout)
