"""The pair on the working plan: under a hot button, what we agreed to do when it
happens comes first, and what still waits for a yes says so."""

from tests.helpers import soup
from tests.web.steps import add, agree, entry_id, respond


def pair(client, path, eid):
    """The pair's responses as the viewer reads them: (mark, words), in order."""
    card = soup(client.get(f"{path}?all=1")).select_one(f"#entry-{eid}")
    return [
        (li.select_one(".state").get_text(strip=True), li.a.get_text(strip=True))
        for li in card.select(".pairing li")
    ]


def response_id(client, path, eid, words):
    card = soup(client.get(f"{path}?all=1")).select_one(f"#entry-{eid}")
    link = card.select_one(".pairing").find("a", string=words)
    return link["href"].removeprefix("#entry-")


def test_agreed_responses_come_first_and_waiting_ones_say_whose_yes(partners):
    p, sam, alex = partners.path, partners.sam, partners.alex
    button = entry_id(add(sam, p, "hot_buttons", "Being told to calm down."))
    respond(alex, p, button, "I ask what you need instead.")
    respond(alex, p, button, "We take a walk.")
    walk = response_id(sam, p, button, "We take a walk.")
    agree(sam, p, walk)

    # the later one, agreed, before the earlier one still waiting
    assert pair(sam, p, button) == [
        ("Agreed", "We take a walk."),
        ("Waiting for your yes", "I ask what you need instead."),
    ]
    assert pair(alex, p, button) == [
        ("Agreed", "We take a walk."),
        ("Waiting for Sam's yes", "I ask what you need instead."),
    ]
    # set apart by more than words: a solid line for agreed, a dashed one waiting
    lines = soup(sam.get(f"{p}?all=1")).select(f"#entry-{button} .pairing li")
    assert [li["class"] for li in lines] == [["pairing-agreed"], ["pairing-waiting"]]


def test_a_change_waiting_leaves_the_agreed_words_in_the_pair(partners):
    p, sam, alex = partners.path, partners.sam, partners.alex
    button = entry_id(add(sam, p, "hot_buttons", "Doors slammed."))
    respond(alex, p, button, "We take a walk.")
    walk = response_id(sam, p, button, "We take a walk.")
    agree(sam, p, walk)
    changed = alex.post_form(
        f"{p}/entries/{walk}", {"text": "We take a long walk.", "base_version": "1"}
    )
    assert changed.status_code in {200, 303}
    # in force until both say yes to the change (invariant 6)
    assert pair(sam, p, button) == [("Agreed", "We take a walk.")]


def test_a_yes_taken_back_is_marked_as_something_to_talk_about(partners):
    p, sam, alex = partners.path, partners.sam, partners.alex
    button = entry_id(add(sam, p, "reactions", "I go quiet for days."))
    respond(alex, p, button, "I leave a note and wait.")
    note = response_id(sam, p, button, "I leave a note and wait.")
    agree(sam, p, note)
    taken = sam.post_form(f"{p}/entries/{note}/withdraw", {"note": "Not days."})
    assert taken.status_code in {200, 303}
    assert pair(alex, p, button) == [
        ("A yes was taken back: to talk about", "I leave a note and wait.")
    ]


def test_with_nothing_proposed_the_pair_says_so(partners):
    p = partners.path
    button = entry_id(add(partners.sam, p, "hot_buttons", "Being rushed."))
    card = soup(partners.alex.get(f"{p}?all=1")).select_one(f"#entry-{button}")
    assert card.select(".pairing li") == []
    assert "Nothing yet." in card.select_one(".pairing").text


def test_the_pair_asks_again_when_one_of_its_responses_changes(partners):
    p, sam, alex = partners.path, partners.sam, partners.alex
    button = entry_id(add(sam, p, "hot_buttons", "Being rushed."))
    respond(alex, p, button, "We slow down.")
    slow = response_id(sam, p, button, "We slow down.")
    page = soup(sam.get(f"{p}?all=1"))
    live = page.select_one(f"#pairing-list-{button}")
    # the response's own signal re-asks the card, and only the pair is taken
    assert live["hx-trigger"] == f"sse:entry-{slow}"
    assert live["hx-get"] == f"{p}/entries/{button}"
    assert live["hx-select"] == f"#pairing-list-{button}"
    agree(sam, p, slow)
    fresh = soup(sam.get(live["hx-get"], headers={"HX-Request": "true"}))
    mark = fresh.select_one(f"#pairing-list-{button} li .state")
    assert mark.get_text(strip=True) == "Agreed"


def fields(form, **typed):
    """What the form sends: its own hidden fields, and what a person typed."""
    sent = {i["name"]: i.get("value", "") for i in form.select("input[type=hidden]")}
    return {**sent, **typed}


def test_the_form_to_propose_comes_when_asked_for_and_its_proposal_lands(partners):
    p, sam, alex = partners.path, partners.sam, partners.alex
    button = entry_id(add(sam, p, "hot_buttons", "Being rushed."))
    card = soup(alex.get(f"{p}?all=1")).select_one(f"#entry-{button}")
    # the card carries a disclosure with a link in it, not the form
    propose = card.select_one(".pairing details[data-load]")
    assert propose.summary.get_text(strip=True) == "Propose what we'll do"
    assert not card.select("textarea")
    link = propose.select_one(".more-slot > a")["href"]
    assert link == f"{p}/entries/{button}/respond"

    # opened: the form, kept through live updates of the card like an editor
    loaded = soup(alex.get(link, headers={"HX-Request": "true"}))
    assert loaded.select_one(".more-forms")["data-editing"] == "true"
    form = loaded.form
    assert form.find("label").get_text() == "What we'll do when this happens"
    assert "waits for Sam's yes" in form.get_text()
    sent = alex.post(
        form["hx-post"],
        data=fields(form, response_text="We slow down together."),
        headers={"HX-Request": "true"},
    )
    assert sent.status_code == 200
    assert pair(sam, p, button) == [("Waiting for your yes", "We slow down together.")]


def test_without_javascript_the_form_to_propose_is_a_page_of_its_own(partners):
    p, sam, alex = partners.path, partners.sam, partners.alex
    button = entry_id(add(sam, p, "reactions", "I go quiet."))
    card = soup(alex.get(f"{p}?all=1")).select_one(f"#entry-{button}")
    page = soup(alex.get(card.select_one(".pairing .more-slot > a")["href"]))
    assert "I go quiet." in page.select_one("main").get_text()
    form = page.select_one("main form")
    sent = alex.post(form["action"], data=fields(form, response_text="We sit close."))
    assert sent.status_code == 303
    assert sent.headers["location"] == f"{p}#entry-{button}"
    assert pair(sam, p, button) == [("Waiting for your yes", "We sit close.")]


def test_a_refused_proposal_comes_back_open_with_the_words_typed(partners):
    p, alex = partners.path, partners.alex
    button = entry_id(add(partners.sam, p, "hot_buttons", "Doors slammed."))
    refused = respond(alex, p, button, " " * 5 + "x" * 4001)
    assert refused.status_code == 422
    box = soup(refused).select_one(f"#entry-{button} .pairing details[open] textarea")
    assert box.get_text().strip() == "x" * 4001
    assert box["aria-invalid"] == "true"
