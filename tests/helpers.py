"""Test helpers: a client that knows its CSRF token, and quick sign-ups."""

import itertools
import json

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

PASSWORD = "a calm and quiet harbour"
_numbers = itertools.count(1)


class Client(TestClient):
    """A browser of one person: its own cookies, and the CSRF token of its pages."""

    def __init__(self, app, *, raise_server_exceptions: bool = True) -> None:
        super().__init__(
            app,
            base_url="http://testserver",
            follow_redirects=False,
            raise_server_exceptions=raise_server_exceptions,
        )

    def csrf(self) -> str:
        page = self.get("/never")
        body = BeautifulSoup(page.text, "html.parser").body
        return json.loads(body["hx-headers"])["X-CSRF-Token"]

    def post_form(
        self, path: str, data: dict | None = None, *, htmx: bool = False, **kw
    ):
        """POST a form as the page would, with the CSRF token of this browser."""
        fields = {"csrf_token": self.csrf(), **(data or {})}
        headers = {"HX-Request": "true"} if htmx else {}
        headers.update(kw.pop("headers", {}))
        return self.post(path, data=fields, headers=headers, **kw)

    def sign_up(self, name: str | None = None, email: str | None = None):
        number = next(_numbers)
        name = name or f"Person {number}"
        email = email or f"person{number}@example.org"
        response = self.post_form(
            "/signup", {"email": email, "display_name": name, "password": PASSWORD}
        )
        assert response.status_code == 303, response.text
        self.email = email
        self.name = name
        return self

    def sign_in(self, email: str, password: str = PASSWORD):
        return self.post_form("/login", {"email": email, "password": password})


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")
