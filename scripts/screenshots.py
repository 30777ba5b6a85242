"""Screenshots of every kind of page, for the docs and for people to look at.

`make screenshots` runs this. It seeds the demo plan (two partners, Sam and
Alex) into a fresh database of its own, starts the app on a free port, signs
in as Sam in the system's Chromium, and saves

    docs/screenshots/<page>-phone.png     390 x 844
    docs/screenshots/<page>-desktop.png   1280 x 800

for the home page, sign-in, a first visit to a new plan, my plans, the plan,
the agreed plan, the versions page and reflective feedback (whole pages, not
just the first screen), a hot button paired with what we'll do when it happens
(its card), plus pdf-page1.png, the agreed plan's PDF, first page, as pdftoppm
renders it, pdf-card.png, the pocket card cut out of its sheet, and the
right-now view on a phone in both themes: now-phone-light.png and
now-phone-dark.png (whole pages) and now-phone-screen.png (the first screen,
light).

Screenshots depend on the machine's fonts and Chromium build: they are for
people to look at, not for comparing pixels.
"""

import argparse
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("MUTUAL_CHROMIUM") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run"]
HOST = "127.0.0.1"
SERVE = [sys.executable, "-m", "backend.cli", "serve"]
PDFTOPPM = ["pdftoppm", "-png", "-r", "110", "-f", "1", "-l", "1", "-singlefile"]
VIEWPORTS = {
    "phone": {"width": 390, "height": 844},
    "desktop": {"width": 1280, "height": 800},
}
SIGN_IN = re.compile(r"^\s*(?P<name>\w+): (?P<email>\S+@\S+) / (?P<password>.+)$")
SETTLED = """() => document.fonts.ready.then(() => Promise.all(
  document.getAnimations()
    .filter((a) => a.effect && a.effect.getComputedTiming().endTime !== Infinity)
    .map((a) => a.finished)))"""


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def app_env(database_url: str, base_url: str) -> dict[str, str]:
    """The app's settings for this run only: none of the developer's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUTUAL_")}
    env.update(
        MUTUAL_DATABASE_URL=database_url,
        MUTUAL_SECRET_KEY=secrets.token_urlsafe(32),
        MUTUAL_BASE_URL=base_url,
        MUTUAL_RATE_LIMITS="false",
        PYTHONUNBUFFERED="1",
    )
    return env


def mutual(env: dict[str, str], *args: str) -> str:
    """Run the `mutual` command with these settings; returns what it printed."""
    done = subprocess.run(  # noqa: S603 (our own fixed command)
        [sys.executable, "-m", "backend.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(
            f"`mutual {' '.join(args)}` failed:\n{done.stdout}{done.stderr}"
        )
    return done.stdout


@contextmanager
def running_app(env: dict[str, str], port: int, log: Path) -> Iterator[str]:
    """The app in a subprocess, stopped (by its own pid) when done."""
    url = f"http://{HOST}:{port}"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 (our own fixed command)
            [*SERVE, "--host", HOST, "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                raise SystemExit(f"the app stopped:\n{log.read_text()}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"the app did not start:\n{log.read_text()}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="My plans", level=1)).to_be_visible()


def open_plan(page: Page) -> None:
    page.goto("/")
    page.get_by_role("heading", level=2).get_by_role("link").first.click()
    expect(page.get_by_role("region").first).to_be_visible()


def open_agreed(page: Page) -> None:
    open_plan(page)
    page.get_by_role("link", name="read the agreed plan").click()
    expect(page.get_by_role("link", name="Download the PDF")).to_be_visible()


def open_versions(page: Page) -> None:
    open_plan(page)
    page.get_by_role("link", name="Versions", exact=True).click()
    compare = page.get_by_role("button", name="Compare")
    if compare.count():  # two versions or more: show what changed between them
        compare.click()
        expect(
            page.get_by_role("heading", name=re.compile("^From version"))
        ).to_be_visible()


def open_first_visit(page: Page) -> None:
    """Someone new starts a plan: it opens one part at a time."""
    page.goto("/signup")
    page.get_by_label("Your name").fill("Robin")
    page.get_by_label("Email").fill(f"robin.{secrets.token_hex(4)}@example.org")
    page.get_by_label("Password").fill(secrets.token_urlsafe(16))
    page.get_by_role("button", name="Make my account").click()
    page.get_by_label("A name for the plan").fill("Robin and Kai")
    page.get_by_role("button", name="Start the plan").click()
    expect(page.get_by_role("heading", name="One part at a time")).to_be_visible()


def paired_hot_button(page: Page, out: Path, size: str) -> Path:
    """A hot button on the plan page with what we'll do when it happens."""
    open_plan(page)
    hot_buttons = page.locator("#section-hot_buttons")
    card = hot_buttons.get_by_role("article").filter(has_text="Being told to calm")
    card.get_by_text("Propose what we'll do").click()
    expect(card.get_by_label("What we'll do when this happens")).to_be_visible()
    path = out / f"paired-hot-button-{size}.png"
    card.screenshot(path=path, animations="disabled")
    return path


def new_context(browser, base_url: str, size: str, scheme: str):
    """A browser context of one of VIEWPORTS, in the light or the dark theme."""
    context = browser.new_context(
        base_url=base_url,
        viewport=VIEWPORTS[size],
        color_scheme=scheme,
        locale="en-GB",
        timezone_id="Europe/London",
        is_mobile=size == "phone",
        has_touch=size == "phone",
    )
    context.set_default_timeout(10_000)
    return context


def open_now(page: Page) -> None:
    open_plan(page)
    page.get_by_role("link", name="We're near the edge now").click()
    expect(page.get_by_role("heading", name="Right now", level=1)).to_be_visible()


def right_now(browser, base_url: str, who: dict, out: Path) -> list[Path]:
    """The right-now view as it is reached in a hard moment: on a phone, light and
    dark whatever the theme of the other pictures."""
    saved = []
    for scheme in ("light", "dark"):
        context = new_context(browser, base_url, "phone", scheme)
        page = context.new_page()
        sign_in(page, who["email"], who["password"])
        open_now(page)
        page.evaluate(SETTLED)
        path = out / f"now-phone-{scheme}.png"
        page.screenshot(path=path, full_page=True, animations="disabled")
        saved.append(path)
        say(f"  {shown(path)}")
        if scheme == "light":
            # the first screen a phone shows, for the README
            top = out / "now-phone-screen.png"
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=top, animations="disabled")
            saved.append(top)
            say(f"  {shown(top)}")
        context.close()
    return saved


def open_feedback(page: Page) -> None:
    open_plan(page)
    page.get_by_role("link", name="Reflective feedback").click()
    expect(page.get_by_role("heading", name="Reflective feedback")).to_be_visible()


# (file name, signed in?, how to get there)
PAGES: list[tuple[str, bool, Callable[[Page], None]]] = [
    ("home", False, lambda page: page.goto("/")),
    ("sign-in", False, lambda page: page.goto("/login")),
    ("first-visit", False, open_first_visit),
    ("my-plans", True, lambda page: page.goto("/")),
    ("plan", True, open_plan),
    ("agreed", True, open_agreed),
    ("versions", True, open_versions),
    ("feedback", True, open_feedback),
]


def shoot(browser, base_url: str, who: dict, out: Path, scheme: str) -> list[Path]:
    saved = []
    for size in VIEWPORTS:
        for signed_in in (False, True):
            context = new_context(browser, base_url, size, scheme)
            page = context.new_page()
            if signed_in:
                sign_in(page, who["email"], who["password"])
            for name, needs_account, visit in PAGES:
                if needs_account != signed_in:
                    continue
                visit(page)
                page.evaluate(SETTLED)
                path = out / f"{name}-{size}.png"
                page.screenshot(path=path, full_page=True, animations="disabled")
                saved.append(path)
                say(f"  {shown(path)}")
                if name == "plan" and size == "desktop":
                    # what fits on one screen, for the README
                    top = out / "plan-desktop-screen.png"
                    page.evaluate("window.scrollTo(0, 0)")
                    page.screenshot(path=top, animations="disabled")
                    saved.append(top)
            if signed_in:
                saved.append(paired_hot_button(page, out, size))
                say(f"  {shown(saved[-1])}")
            context.close()
    return saved


def download(browser, base_url: str, who: dict, link: str, pdf: Path) -> Path:
    """Sign in as Sam would and download a PDF from the agreed plan's page."""
    context = browser.new_context(base_url=base_url, accept_downloads=True)
    context.set_default_timeout(30_000)  # the first PDF starts the render worker
    page = context.new_page()
    sign_in(page, who["email"], who["password"])
    open_agreed(page)
    with page.expect_download() as download:
        page.get_by_role("link", name=link).click()
    download.value.save_as(pdf)
    context.close()
    return pdf


def pdf_first_page(browser, base_url: str, who: dict, out: Path, tmp: Path) -> Path:
    """The agreed plan's PDF: its first page."""
    pdf = download(browser, base_url, who, "Download the PDF", tmp / "agreed.pdf")
    target = out / "pdf-page1.png"
    subprocess.run(  # noqa: S603 (a fixed command on our own file)
        [*PDFTOPPM, str(pdf), str(target.with_suffix(""))],
        check=True,
        timeout=60,
    )
    say(f"  {shown(target)}")
    return target


def pocket_card(browser, base_url: str, who: dict, out: Path, tmp: Path) -> Path:
    """The pocket card, cut out of its sheet."""
    pdf = download(browser, base_url, who, "Pocket card (PDF)", tmp / "card.pdf")
    target = out / "pdf-card.png"
    # at 110 dpi the card (170 x 110 mm, 15 mm from the top of an A4 sheet) and
    # the folding note under it
    crop = ["-x", "70", "-y", "45", "-W", "770", "-H", "555"]
    subprocess.run(  # noqa: S603 (a fixed command on our own file)
        [*PDFTOPPM, *crop, str(pdf), str(target.with_suffix(""))],
        check=True,
        timeout=60,
    )
    say(f"  {shown(target)}")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help="where to save them")
    parser.add_argument(
        "--color-scheme",
        choices=["light", "dark"],
        default="light",
        help="the theme the pages are shown in (the PDF is always light)",
    )
    args = parser.parse_args(argv)
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        raise SystemExit(f"no Chromium at {CHROMIUM}: set MUTUAL_CHROMIUM")
    if shutil.which("pdftoppm") is None:
        raise SystemExit("pdftoppm is missing: apt-get install poppler-utils")
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="mutual-screenshots-") as scratch:
        tmp = Path(scratch)
        port = free_port()
        env = app_env(f"sqlite:///{tmp / 'demo.db'}", f"http://{HOST}:{port}")
        mutual(env, "migrate")
        people = [
            found.groupdict()
            for line in mutual(env, "demo").splitlines()
            if (found := SIGN_IN.match(line))
        ]
        if not people:
            raise SystemExit("`mutual demo` did not say how to sign in")
        who = people[0]
        say(f"Signed in as {who['name']}, saving into {out}:")
        with (
            running_app(env, port, tmp / "app.log") as base_url,
            sync_playwright() as p,
        ):
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            try:
                shoot(browser, base_url, who, out, args.color_scheme)
                right_now(browser, base_url, who, out)
                pdf_first_page(browser, base_url, who, out, tmp)
                pocket_card(browser, base_url, who, out, tmp)
            finally:
                browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
