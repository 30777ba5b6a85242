"""Every route of the app, walked from the app itself so new ones are never missed."""

from fastapi.routing import APIRoute

PUBLIC = {
    "never",
    "healthz",
    "favicon",
    "home",
    "auth.signup",
    "signup",
    "auth.login",
    "login",
    "auth.logout",
    "auth.forgot",
    "forgot",
    "auth.reset",
    "reset_password",
    "plans.invite_page",
    "now.worker",
    "now.forget_device",
}


def all_routes(app) -> list[APIRoute]:
    def walk(routes):
        for route in routes:
            if hasattr(route, "original_router"):
                yield from walk(route.original_router.routes)
            elif isinstance(route, APIRoute):
                yield route

    return list(walk(app.routes))


def fill(path: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"no test value for a parameter of {path}"
    return path
