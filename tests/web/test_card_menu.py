"""A card's quieter actions sit behind one "More" menu, fetched when it opens.

Take back, let's talk and say what this answers are not shipped hidden on every
card: the card carries a menu that loads them (htmx), or links to a page of
them (without JavaScript), and every form on it still works as a plain post.
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
    assert menu["hx-get"] == f"{p}/entries/{eid}/more"
    assert menu["hx-trigger"] == "toggle once"
    # without JavaScript, a plain link to the same
    assert menu.noscript is not None
    assert f"{p}/entries/{eid}/more" in str(menu.noscript)
    for action in ("withdraw", "flag", "links"):
        assert not shown.select(f'form[action$="/{action}"]'), action
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
    assert menu.select('form[action$="/flag"]')


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


def test_no_menu_where_there_is_nothing_in_it(client):
    sam = client.sign_up("Sam")
    p = sam.post_form("/plans", {"title": "Us"}).headers["location"]
    eid = entry_id(add(sam, p, "signals", "Lighthouse."))
    assert card(sam, p, eid).select_one("details.card-more") is None
