"""A card carries its yes and one "More" menu; the rest is fetched when it opens.

Edit, history, remove (or ask to take it out), feedback, take back, let's talk
and say what this answers are not shipped on every card: the card carries a
menu that loads them (htmx), with a link to a page of them inside it (without
JavaScript), and every form on it still works as a plain post.
"""

from tests.helpers import soup
from tests.web.steps import add, agree, entry_id


def card(client, path, eid):
    return soup(client.get(f"{path}/entries/{eid}", headers={"HX-Request": "true"}))


def test_a_card_carries_a_menu_not_the_forms(partners):
    p = partners.path
    hot = entry_id(add(partners.alex, p, "hot_buttons", "Being rushed."))
    eid = entry_id(add(partners.sam, p, "edge_responses", "We slow down."))
    agree(partners.alex, p, eid)
    shown = card(partners.alex, p, eid)
    menu = shown.select_one("details.card-more")
    assert menu.summary.get_text(" ", strip=True).startswith("More")
    # a screen reader hears what is in it before opening it
    assert "take back my yes" in menu.summary.get_text()
    assert "say what this answers" in menu.summary.get_text()
    # opening it fetches what is behind its link (static/js/app.js); without
    # JavaScript, the link itself is there to follow: a page of the same
    assert menu.has_attr("data-load")
    assert menu.select_one(".more-slot > a")["href"] == f"{p}/entries/{eid}/more"
    for action in ("withdraw", "flag", "links", "delete"):
        assert not shown.select(f'form[action$="/{action}"]'), action
    assert not shown.select('a[href$="/history"]')
    assert not shown.select("textarea")
    assert not shown.select("select")
    assert hot not in str(shown)  # the list of what it could answer stays out


def test_the_menu_holds_the_forms_this_viewer_may_use(partners):
    p = partners.path
    hot = entry_id(add(partners.alex, p, "hot_buttons", "Being rushed."))
    eid = entry_id(add(partners.sam, p, "edge_responses", "We slow down."))
    agree(partners.alex, p, eid)
    menu = soup(
        partners.alex.get(f"{p}/entries/{eid}/more", headers={"HX-Request": "true"})
    )
    assert menu.select_one(".more-forms")["data-editing"] == "true"
    assert menu.find("a", string="History")["hx-target"] == f"#history-{eid}"
    assert menu.select_one(f"#history-{eid}")
    assert menu.find("a", string="Say how this lands for me")
    assert menu.select_one(f'form[action="{p}/entries/{eid}/withdraw"]')
    assert menu.select_one(f'form[action="{p}/entries/{eid}/flag"]')
    options = menu.select(f'form[action="{p}/entries/{eid}/links"] option')
    assert [o["value"] for o in options] == [hot]
    assert menu.find("label", string="A note for Sam (optional)")
    # not for a yes I never gave, nor on my partner's own words
    theirs = entry_id(add(partners.sam, p, "hot_buttons", "Loud rooms."))
    menu = soup(
        partners.alex.get(f"{p}/entries/{theirs}/more", headers={"HX-Request": "true"})
    )
    assert not menu.select('form[action$="/withdraw"]')
    assert not menu.select('form[action$="/links"]')
    assert not menu.select('form[action$="/delete"]')
    assert not menu.find("a", string="Edit")
    assert menu.select('form[action$="/flag"]')


def test_the_menu_holds_edit_and_remove_for_what_i_may_change(partners):
    p = partners.path
    mine = entry_id(add(partners.alex, p, "hot_buttons", "Being rushed."))
    shown = card(partners.alex, p, mine)
    summary = shown.select_one("details.card-more summary").get_text()
    assert summary == "More: edit, history, remove, let's talk, feedback"
    menu = soup(
        partners.alex.get(f"{p}/entries/{mine}/more", headers={"HX-Request": "true"})
    )
    edit = menu.find("a", string="Edit")
    assert edit["href"] == edit["hx-get"] == f"{p}/entries/{mine}/edit"
    assert edit["hx-target"] == f"#entry-{mine}"
    assert menu.select_one("details summary").get_text() == "Remove"
    assert menu.find("label", string="Why, for Sam (optional)")
    # agreed shared words: a change is proposed, and taking it out is asked for
    ours = entry_id(add(partners.alex, p, "edge_responses", "We slow down."))
    agree(partners.sam, p, ours)
    menu = soup(
        partners.alex.get(f"{p}/entries/{ours}/more", headers={"HX-Request": "true"})
    )
    assert menu.find("a", string="Propose a change")
    assert menu.find("summary", string="Ask to take this out")
    asked = partners.alex.post_form(
        f"{p}/entries/{ours}/delete", {"note": "We never use it."}, htmx=True
    )
    assert "You asked to take this out" in soup(asked).get_text()
    # asked already: no second asking in the menu
    menu = soup(
        partners.alex.get(f"{p}/entries/{ours}/more", headers={"HX-Request": "true"})
    )
    assert not menu.select('form[action$="/delete"]')


def test_without_javascript_the_menu_is_a_page_and_its_forms_post(partners):
    p = partners.path
    eid = entry_id(add(partners.sam, p, "edge_responses", "We slow down."))
    agree(partners.alex, p, eid)
    page = soup(partners.alex.get(f"{p}/entries/{eid}/more"))
    assert page.h1.get_text() == "More for this entry"
    assert "We slow down." in page.get_text()
    form = page.select_one(f'form[action="{p}/entries/{eid}/withdraw"]')
    token = form.select_one('input[name="csrf_token"]')["value"]
    sent = partners.alex.post(
        form["action"], data={"csrf_token": token, "note": "Not yet."}
    )
    assert sent.status_code == 303
    assert sent.headers["location"].endswith(f"{p}#entry-{eid}")
    assert "took back the yes" in card(partners.sam, p, eid).get_text()


def test_alone_in_a_plan_the_menu_holds_only_what_needs_no_partner(client):
    sam = client.sign_up("Sam")
    p = sam.post_form("/plans", {"title": "Us"}).headers["location"]
    eid = entry_id(add(sam, p, "signals", "Lighthouse."))
    summary = card(sam, p, eid).select_one("details.card-more summary").get_text()
    assert summary == "More: edit, history, remove"
    menu = soup(sam.get(f"{p}/entries/{eid}/more", headers={"HX-Request": "true"}))
    assert not menu.select('form[action$="/flag"], form[action$="/withdraw"]')
    assert not menu.find("a", string="Say how this lands for me")
    assert menu.find("label", string="Why (optional)")
