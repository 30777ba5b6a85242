"""Quick set-up through the app's own plain forms, for tests about what a page shows.

A `Writer` posts the same forms a browser without JavaScript would, with the
cookies of a signed-in browser context (Playwright's `context.request` shares
them). Tests about *doing* things use the pages instead; this only builds a
plan full of entries in every state quickly.
"""

import re
from dataclasses import dataclass

from playwright.sync_api import APIResponse, BrowserContext

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ENTRY_ID = re.compile(r"#entry-([0-9a-f-]{36})$")


@dataclass
class Writer:
    """One signed-in partner, writing to one plan through plain form posts."""

    context: BrowserContext
    plan_path: str
    _token: str = ""

    @property
    def token(self) -> str:
        if not self._token:
            html = self.context.request.get(self.plan_path).text()
            found = CSRF.search(html)
            assert found, "no CSRF token on the plan page"
            self._token = found.group(1)
        return self._token

    def post(self, path: str, **form: str | int) -> APIResponse:
        response = self.context.request.post(
            path,
            form={"csrf_token": self.token, **{k: str(v) for k, v in form.items()}},
            max_redirects=0,
        )
        assert response.status == 303, (
            f"POST {path} answered {response.status}: {response.text()[:500]}"
        )
        return response

    def seal(self) -> None:
        """Download the agreed PDF, which seals this sitting's version."""
        response = self.context.request.get(f"{self.plan_path}/agreed.pdf")
        assert response.status == 200, response.status

    def entry(self, entry_id: str) -> str:
        return f"{self.plan_path}/entries/{entry_id}"

    def add(self, section: str, text: str, *, draft: bool = False) -> str:
        form: dict[str, str | int] = {"section": section, "text": text}
        if draft:
            form["draft"] = "1"
        response = self.post(f"{self.plan_path}/entries", **form)
        found = ENTRY_ID.search(response.headers["location"])
        assert found, response.headers["location"]
        return found.group(1)

    def edit(self, entry_id: str, text: str, *, version: int) -> int:
        self.post(self.entry(entry_id), text=text, base_version=version)
        return version + 1

    def agree(self, entry_id: str, *, version: int) -> None:
        self.post(f"{self.entry(entry_id)}/agree", version=version)

    def flag(self, entry_id: str, note: str) -> None:
        self.post(f"{self.entry(entry_id)}/flag", note=note)

    def remove(self, entry_id: str) -> None:
        self.post(f"{self.entry(entry_id)}/delete")

    def link(self, response_id: str, target_id: str) -> None:
        self.post(f"{self.entry(response_id)}/links", target_id=target_id)
