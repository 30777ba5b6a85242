"""What a partner does in a plan, the way the pages do it: shared by the web tests."""

from tests.helpers import soup


def add(client, path, section, text, *, htmx=True, draft=False):
    data = {"section": section, "text": text}
    if draft:
        data["draft"] = "1"
    return client.post_form(f"{path}/entries", data, htmx=htmx)


def entry_id(response) -> str:
    card = soup(response).find("article", class_="entry")
    return card["id"].removeprefix("entry-")


def agree(client, path, eid, version=1):
    return client.post_form(
        f"{path}/entries/{eid}/agree", {"version": str(version)}, htmx=True
    )


def start_talk(client, path, *, day="2026-03-12", title="", htmx=False):
    return client.post_form(
        f"{path}/debriefs", {"happened_on": day, "title": title}, htmx=htmx
    )


def talk_path(client, path, **kw) -> str:
    return start_talk(client, path, **kw).headers["location"]


def answer(client, talk, action="save", *, htmx=True, **texts):
    return client.post_form(f"{talk}/answers", {"action": action, **texts}, htmx=htmx)


def record_signals(app, monkeypatch) -> list:
    """Every signal published from now on, as (plan id, kind, data)."""
    sent = []
    broker = app.state.broker
    original = broker.publish

    def publish(plan_id, kind, **data):
        sent.append((str(plan_id), kind, data))
        original(plan_id, kind, **data)

    monkeypatch.setattr(broker, "publish", publish)
    return sent


def respond(client, path, eid, text, *, htmx=True):
    """Propose what we'll do when the entry `eid` (a hot button, a reaction) happens."""
    return client.post_form(
        f"{path}/entries/{eid}/responses", {"response_text": text}, htmx=htmx
    )
