"""Rendering: a whole page, or one named block of it for htmx."""

import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, cast
from urllib.parse import quote

from jinja2_fragments.fastapi import Jinja2Blocks
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import NoMatchFound

from backend import changes, timezones
from backend.auth.tokens import sign
from backend.config import ROOT, Settings
from backend.consent.snapshots import attribution
from backend.models import Plan

STATIC_DIR = ROOT / "static"


@cache
def _static_version(path: str) -> str:
    try:
        return hashlib.sha256((STATIC_DIR / path).read_bytes()).hexdigest()[:10]
    except OSError:
        return "0"


def static_url(path: str) -> str:
    """A static file's URL, versioned by its content so browsers may cache it long."""
    return f"/static/{path}?v={_static_version(path)}"


MARK = "\x1f"  # never in a real path parameter; used only to find where one goes


def _template(app: Any, name: str, keys: tuple[str, ...]) -> str | None:
    """The route's path with a marker where each parameter goes, or None when its
    parameters are not plain strings; asked of Starlette once per app and name."""
    cache: dict[tuple[str, tuple[str, ...]], str | None] | None = getattr(
        app.state, "path_templates", None
    )
    if cache is None:
        cache = app.state.path_templates = {}
    if (name, keys) not in cache:
        marks = {key: f"{MARK}{key}{MARK}" for key in keys}
        try:
            template: str | None = str(app.url_path_for(name, **marks))
        except (AssertionError, ValueError, NoMatchFound):
            template = None
        if template is not None and any(template.count(m) != 1 for m in marks.values()):
            template = None
        cache[(name, keys)] = template
    return cache[(name, keys)]


def path_for(request: Request, name: str, **params: Any) -> str:
    """A route's path, never an absolute URL: links must not trust the Host header.

    Starlette's url_path_for tries every route in turn, and a plan page asks for
    hundreds of links; so each route's path is looked up once and filled in after.
    """
    values = {k: str(v) for k, v in params.items()}
    template = _template(request.app, name, tuple(sorted(values)))
    plain = all(v and "/" not in v and MARK not in v for v in values.values())
    if template is None or not plain:
        return str(request.app.url_path_for(name, **values))
    for key, value in values.items():
        template = template.replace(f"{MARK}{key}{MARK}", value)
    return template


def request_globals(request: Request) -> dict[str, Any]:
    state = request.state
    return {
        "url_for": lambda name, **params: path_for(request, name, **params),
        "account": getattr(state, "account", None),
        "csrf_token": getattr(state, "csrf_token", ""),
        "settings": request.app.state.settings,
        "static_url": static_url,
    }


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """'just now', '5 minutes ago', '3 days ago', or the reader's date for older."""
    if moment is None:
        return ""
    elapsed = (now or datetime.now(UTC)) - timezones.as_utc(moment)
    seconds = int(elapsed.total_seconds())
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            count = seconds // size
            if unit == "day" and count > 6:
                return local(moment).strftime("%-d %b %Y")
            _turns(moment, (count + 1) * size)
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    _turns(moment, 60)
    return "just now"


def _turns(moment: datetime, seconds: int) -> None:
    # the words said of `moment` change when this much time has passed since it
    changes.expires(timezones.as_utc(moment) + timedelta(seconds=seconds))


def exact(moment: datetime | None) -> str:
    """The date and time on the reader's clock, or in UTC saying so."""
    return timezones.exact(moment, timezones.reader_zone()) if moment else ""


def local(moment: datetime) -> datetime:
    """`moment` on the reader's clock (UTC when their zone is unknown)."""
    return timezones.local(moment, timezones.reader_zone())


templates = Jinja2Blocks(
    directory=str(ROOT / "templates"), context_processors=[request_globals]
)
# read once per process, like the code: not checked on disk at every use (a page
# uses some thirty templates, and each check is a stat of its file)
templates.env.auto_reload = False
templates.env.filters["ago"] = ago
templates.env.filters["exact"] = exact
templates.env.filters["local"] = local
templates.env.filters["isotime"] = timezones.isotime
templates.env.filters["fromiso"] = datetime.fromisoformat
# whose words an entry is, said as the printed plan says it
templates.env.filters["attribution"] = attribution


def client_address(request: Request) -> str:
    """The sender's address (a proxy's forwarded one, when uvicorn trusts it)."""
    return request.client.host if request.client else "unknown"


def sender_key(request: Request) -> str:
    """The sender's address as rate limits keep it: a hash keyed with the app's
    secret, so no table holds an address, and none can be tried back from it."""
    return sign(request.app.state.secret, f"address:{client_address(request)}")


def origin_of(request: Request, settings: Settings) -> str:
    """The address people use to reach Mutual, e.g. for a link in an invitation."""
    return settings.origin(f"{request.url.scheme}://{request.url.netloc}")


def is_fragment(request: Request) -> bool:
    """True for htmx requests that swap part of a page (not history restores)."""
    return asks_for_part(request.headers)


def asks_for_part(headers: Headers) -> bool:
    """`is_fragment`, from the request's headers alone."""
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-History-Restore-Request") != "true"
        and headers.get("HX-Boosted") != "true"
    )


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    block: str | None = None,
    blocks: list[str] | None = None,
    status: int = 200,
    shows: Plan | None = None,
) -> HTMLResponse:
    """Render a page, or only `block` (plus out-of-band `blocks`) for htmx.

    A page of a plan (`shows`) that was built inside `changes.watching` is tagged
    by the plan's stamp and when its words turn (`shown_before` answers a repeat
    view from that tag); any other page by a digest of what was rendered.
    """
    kwargs: dict[str, Any] = {}
    if is_fragment(request):
        if blocks:
            kwargs["block_names"] = [block, *blocks] if block else blocks
        elif block:
            kwargs["block_name"] = block
    reader = timezones.zone(request.cookies.get(timezones.COOKIE))
    with timezones.reading_in(reader):
        response = cast(
            HTMLResponse,
            templates.TemplateResponse(
                request, template, context or {}, status_code=status, **kwargs
            ),
        )
    response.headers.append("Vary", "HX-Request")
    if request.method == "GET" and status == 200:
        if shows is not None:
            response.headers["ETag"] = _shown_tag(request, shows, changes.soonest())
            return response
        return _unless_unchanged(request, response)
    return response


# a tag stands for a day at most, even where nothing on the page turns with time
LONGEST = timedelta(days=1)
SHOWN_TAG = re.compile(r'W/"(?P<key>[0-9a-f]{32})\.(?P<until>[0-9]{1,12})"')


@cache
def _build() -> str:
    """This code, its templates and static files: a tag made by another build of
    Mutual never matches one made by this."""
    digest = hashlib.sha256()
    for folder in ("backend", "templates", "static"):
        for path in sorted((ROOT / folder).rglob("*")):
            if (
                path.suffix in {".py", ".html", ".css", ".js", ".svg"}
                and path.is_file()
            ):
                digest.update(path.relative_to(ROOT).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def shown_key(
    *,
    plan_id: str,
    stamp: int,
    csrf_token: str,
    zone: str,
    path: str,
    query: str,
    part: bool,
) -> str:
    """What a page of a plan shows depends on: the plan's stamp, this build, the
    session (its own token, never another's), the reader's zone, the address and
    whether htmx asked for a part of it. The repeat view answered before the app
    (backend.repeat) works it out from the same values."""
    digest = hashlib.sha256()
    for value in (
        _build(),
        plan_id,
        str(stamp),
        csrf_token,
        zone,
        path,
        query,
        "part" if part else "page",
    ):
        digest.update(value.encode())
        digest.update(b"\x00")
    return digest.hexdigest()[:32]


def _shown_key(request: Request, plan: Plan) -> str:
    visitor = getattr(request.state, "visitor", None)
    return shown_key(
        plan_id=str(plan.id),
        stamp=plan.stamp,
        csrf_token=str(getattr(visitor, "csrf_token", "")),
        zone=request.cookies.get(timezones.COOKIE, ""),
        path=request.url.path,
        query=request.url.query,
        part=is_fragment(request),
    )


def _shown_tag(request: Request, plan: Plan, turns: datetime | None) -> str:
    latest = datetime.now(UTC) + LONGEST
    until = min(turns, latest) if turns else latest
    return f'W/"{_shown_key(request, plan)}.{int(until.timestamp())}"'


def shown_tags(asked: str | None, now: float) -> list[tuple[str, str]]:
    """The shown tags in an If-None-Match that still stand at `now` (a
    timestamp): each as it was sent and its key."""
    if not asked:
        return []
    found = []
    for tag in asked.split(","):
        match = SHOWN_TAG.fullmatch(tag.strip())
        if match and now < int(match["until"]):
            found.append((match.group(0), match["key"]))
    return found


def unchanged_tag(tags: list[tuple[str, str]], key: str) -> str | None:
    """The tag of `tags` whose key is `key`, compared in constant time."""
    for tag, asked in tags:
        if hmac.compare_digest(asked, key):
            return tag
    return None


# the headers of a repeat view's 304 before the middleware adds its own
UNCHANGED_VARY = "HX-Request"


def shown_before(request: Request, plan: Plan) -> Response | None:
    """304 Not Modified when the viewer's tag for this page of `plan` still
    stands: nothing of the plan has changed since (its stamp), and no word on it
    has turned with time; else None, and the page is built."""
    tags = shown_tags(
        request.headers.get("if-none-match"), datetime.now(UTC).timestamp()
    )
    if not tags:
        return None
    tag = unchanged_tag(tags, _shown_key(request, plan))
    if tag is None:
        return None
    return Response(status_code=304, headers={"ETag": tag, "Vary": UNCHANGED_VARY})


OPENED = re.compile(rb"opened=[^\"&]*")


def _unless_unchanged(request: Request, response: HTMLResponse) -> HTMLResponse:
    """Tag what this viewer sees; a repeat view of the same gets 304, no body.

    The tag is a digest of the HTML without its masked CSRF token (fresh in
    every response) but with the session's own token, so a page cached in one
    session never stands for another's.
    """
    masked = getattr(request.state, "csrf_token", "")
    visitor = getattr(request.state, "visitor", None)
    body = bytes(response.body)
    if masked:
        body = body.replace(masked.encode(), b"")
    # when this page was opened says nothing about what it shows
    body = OPENED.sub(b"", body)
    digest = hashlib.sha256(body)
    digest.update(str(getattr(visitor, "csrf_token", "")).encode())
    tag = f'W/"{digest.hexdigest()[:32]}"'
    response.headers["ETag"] = tag
    asked = request.headers.get("if-none-match", "")
    if tag in (t.strip() for t in asked.split(",")):
        unchanged = HTMLResponse(status_code=304)
        unchanged.raw_headers = [
            (k, v)
            for k, v in response.raw_headers
            if k not in (b"content-length", b"content-type")
        ]
        return unchanged
    return response


def redirect(request: Request, url: str) -> Response:
    """After a successful form post: 303 for plain forms, HX-Redirect for htmx."""
    if is_fragment(request):
        # a header holds only ASCII: a path like /你 goes as /%E4%BD%A0
        location = quote(url, safe="/?#&=%:;,+@!$'()*~")
        return Response(status_code=204, headers={"HX-Redirect": location})
    return RedirectResponse(url, status_code=303)
