"""No address is claimed by two routes: which route answers never depends on the
order the routers are included in (the busiest are looked through first)."""

import uuid

from starlette.routing import Match

from backend.config import Settings
from backend.main import create_app
from tests.conftest import TEST_SECRET
from tests.routes import all_routes, fill

SAMPLE = str(uuid.UUID(int=7))
# a value for every parameter, as an address would carry it: an id, a token, a key
VALUES = {
    "plan_id": SAMPLE,
    "entry_id": SAMPLE,
    "target_id": SAMPLE,
    "debrief_id": SAMPLE,
    "note_id": SAMPLE,
    "token": "a-token",
    "key": "bottom_lines",
}


def test_every_address_has_one_route():
    app = create_app(Settings(secret_key=TEST_SECRET, _env_file=None))
    routes = all_routes(app)
    assert len(routes) > 50
    for route in routes:
        path = fill(route.path, VALUES)
        for method in route.methods:
            scope = {"type": "http", "path": path, "method": method, "root_path": ""}
            claimed = [r for r in routes if r.matches(scope)[0] == Match.FULL]
            assert claimed == [route], f"{method} {path}"


def test_hot_routers_come_first():
    """The card, its actions and the plan's own pages are looked for first."""
    app = create_app(Settings(secret_key=TEST_SECRET, _env_file=None))
    names = [r.name for r in all_routes(app)]
    assert names.index("entries.card") < names.index("plans.detail")
    assert names.index("plans.detail") < names.index("auth.login")
    assert names.index("plans.detail") < names.index("healthz")
