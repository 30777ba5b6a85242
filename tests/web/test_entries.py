"""Writing the plan over HTTP: fragments for htmx, plain forms without it."""

import re

from tests.helpers import soup
from tests.web.steps import add, entry_id


def test_plan_page_has_every_section_with_prompts(partners):
    page = soup(partners.sam.get(f"{partners.path}?all=1"))
    headings = [h.text for h in page.select("section.section h2")]
    assert "What tends to come up" in headings
    assert "What we'll do if one of us gets to the edge" in headings
    assert "Power between us" in headings
    prompts = page.select("details.section-prompt")
    assert len(prompts) == 9
    # each comes when it opens, from the link inside it (a page without JavaScript)
    for prompt in prompts:
        link = prompt.select_one(".more-slot > a")["href"]
        shown = soup(partners.sam.get(link, headers={"HX-Request": "true"}))
        assert shown.select_one(".why-we-ask")
        assert soup(partners.sam.get(link)).select_one(".why-we-ask")
    personal = page.select_one("#section-hot_buttons")
    columns = [h.get_text(" ", strip=True) for h in personal.select(".column-heading")]
    assert columns == ["Sam (you)", "Alex"]


def test_plan_page_waits_for_the_partner(client):
    client.sign_up("Sam")
    path = client.post_form("/plans", {"title": "Us"}).headers["location"]
    text = soup(client.get(path)).get_text(" ")
    assert "Waiting for your partner to join" in text


def test_add_returns_the_card_and_a_fresh_form(partners):
    response = add(
        partners.sam, partners.path, "hot_buttons", "Being told to calm down."
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    page = soup(response)
    form = page.find("form", id="add-hot_buttons")
    assert form.find("textarea").text == ""
    oob = page.find(attrs={"hx-swap-oob": re.compile("^beforeend:#list-hot_buttons-")})
    card = oob.find("article")
    assert "Being told to calm down." in card.text
    assert "Written by" in card.text
    assert "Sam" in card.select_one(".byline").text


def test_add_without_javascript_redirects_to_the_entry(partners):
    response = add(partners.sam, partners.path, "signals", "lighthouse", htmx=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"{partners.path}#entry-")
    assert "lighthouse" in partners.alex.get(partners.path).text


def test_empty_entry_keeps_the_form_and_says_why(partners):
    response = add(partners.sam, partners.path, "signals", "   ")
    assert response.status_code == 422
    assert "nothing written" in response.text


def test_too_long_entry_keeps_the_text(partners):
    long_text = "word " * 900
    response = add(partners.sam, partners.path, "signals", long_text)
    assert response.status_code == 422
    assert soup(response).find("textarea").text.strip() == long_text.strip()


def test_text_is_escaped_with_line_breaks_kept(partners):
    text = '<script>alert(1)</script>\n<b hx-get="/x">bold</b>'
    add(partners.sam, partners.path, "signals", text)
    html = partners.alex.get(partners.path).text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<b hx-get="/x">' not in html
    card = soup(partners.alex.get(partners.path)).select_one(
        "#section-signals .entry-text"
    )
    assert card.text == text


def test_edit_inline_and_see_who_changed_it(partners):
    eid = entry_id(add(partners.sam, partners.path, "feel_safe", "Saying when."))
    editor = partners.alex.get(
        f"{partners.path}/entries/{eid}/edit", headers={"HX-Request": "true"}
    )
    form = soup(editor).find("form")
    assert form.find("input", {"name": "base_version"})["value"] == "1"
    response = partners.alex.post_form(
        f"{partners.path}/entries/{eid}",
        {"text": "Saying when, and when we'll be back.", "base_version": "1"},
        htmx=True,
    )
    assert response.status_code == 200
    byline = soup(response).select_one(".byline").get_text(" ", strip=True)
    assert byline == "Written by Sam · this wording by Alex"


def test_edit_without_javascript(partners):
    eid = entry_id(add(partners.sam, partners.path, "feel_safe", "First."))
    page = partners.sam.get(f"{partners.path}/entries/{eid}/edit")
    assert "<html" in page.text
    response = partners.sam.post_form(
        f"{partners.path}/entries/{eid}", {"text": "Second.", "base_version": "1"}
    )
    assert response.status_code == 303
    assert "Second." in partners.alex.get(partners.path).text


def test_stale_edit_shows_both_texts_and_keeps_mine(partners):
    eid = entry_id(add(partners.sam, partners.path, "edge_responses", "Stay."))
    partners.sam.post_form(
        f"{partners.path}/entries/{eid}",
        {"text": "Stay with me.", "base_version": "1"},
        htmx=True,
    )
    response = partners.alex.post_form(
        f"{partners.path}/entries/{eid}",
        {"text": "Stay near, but give me room.", "base_version": "1"},
        htmx=True,
    )
    assert response.status_code == 409
    page = soup(response)
    assert "changed while you were writing" in page.text
    assert page.select_one(".conflict-side .entry-text").text == "Stay with me."
    assert page.find("textarea").text == "Stay near, but give me room."
    assert page.find("input", {"name": "base_version"})["value"] == "2"
    merged = partners.alex.post_form(
        f"{partners.path}/entries/{eid}",
        {"text": "Stay with me, but give me room.", "base_version": "2"},
        htmx=True,
    )
    assert merged.status_code == 200
    history = partners.sam.get(
        f"{partners.path}/entries/{eid}/history", headers={"HX-Request": "true"}
    )
    text = soup(history).get_text(" ")
    assert "Version 3" in text
    assert "Version 2" in text


def test_partner_cannot_edit_my_personal_entry(partners):
    eid = entry_id(add(partners.sam, partners.path, "hot_buttons", "Mine."))
    editor = partners.alex.get(
        f"{partners.path}/entries/{eid}/edit", headers={"HX-Request": "true"}
    )
    assert soup(editor).find("textarea", attrs={"name": "text"}) is None
    response = partners.alex.post_form(
        f"{partners.path}/entries/{eid}",
        {"text": "Theirs.", "base_version": "1"},
        htmx=True,
    )
    assert response.status_code == 422
    assert "Mine." in partners.sam.get(partners.path).text
    assert "Theirs." not in partners.sam.get(partners.path).text


def test_remove_and_restore(partners):
    eid = entry_id(add(partners.sam, partners.path, "differently", "No silent nights."))
    removed = partners.alex.post_form(
        f"{partners.path}/entries/{eid}/delete", htmx=True
    )
    assert "Removed" in removed.text
    page = soup(partners.sam.get(partners.path))
    assert page.select_one("#removed").find(id=f"entry-{eid}")
    partners.sam.post_form(f"{partners.path}/entries/{eid}/restore", htmx=True)
    page = soup(partners.sam.get(partners.path))
    assert page.select_one("#removed") is None
    assert page.select_one(f"#list-differently-shared #entry-{eid}")


def test_history_lists_every_wording_with_word_diff(partners):
    eid = entry_id(add(partners.sam, partners.path, "signals", "the blue mug"))
    partners.alex.post_form(
        f"{partners.path}/entries/{eid}",
        {"text": "the green mug", "base_version": "1"},
        htmx=True,
    )
    page = soup(
        partners.sam.get(
            f"{partners.path}/entries/{eid}/history", headers={"HX-Request": "true"}
        )
    )
    items = page.select("ol.revisions li")
    assert len(items) == 2
    assert items[0].find("del").text == "removed: the blue mug"
    assert items[0].find("ins").text == "added: the green mug"
    assert items[0].select_one("del mark").text == "blue"
    assert items[0].select_one("ins mark").text == "green"
    assert "Alex" in items[0].text


def test_the_times_of_each_yes_are_in_the_history_not_on_the_card(partners):
    p = partners.path
    eid = entry_id(add(partners.sam, p, "edge_responses", "sit with me"))
    partners.alex.post_form(f"{p}/entries/{eid}/agree", {"version": "1"}, htmx=True)
    partners.alex.post_form(f"{p}/entries/{eid}/withdraw", {"note": "Not yet."})
    card = soup(partners.sam.get(p)).find(id=f"entry-{eid}")
    assert card.select_one(".byline time") is None
    assert card.select_one(".state") is not None
    history = soup(
        partners.sam.get(f"{p}/entries/{eid}/history", headers={"HX-Request": "true"})
    )
    (yes,) = history.select(".yes-time")  # Sam's own yes is the writing itself
    assert yes.get_text(" ", strip=True).startswith("Alex agreed just now")
    assert "took it back just now : Not yet." in yes.get_text(" ", strip=True)
    assert len(yes.find_all("time")) == 2


def test_private_draft_is_invisible_to_the_partner(partners):
    response = add(
        partners.sam, partners.path, "reactions", "DRAFT-SENTINEL", draft=True
    )
    eid = entry_id(response)
    assert "Private draft" in response.text
    assert "DRAFT-SENTINEL" not in partners.alex.get(partners.path).text
    for suffix in ("", "/edit", "/history"):
        r = partners.alex.get(
            f"{partners.path}/entries/{eid}{suffix}", headers={"HX-Request": "true"}
        )
        assert r.status_code == 404
        assert "DRAFT-SENTINEL" not in r.text
    shared = partners.sam.post_form(f"{partners.path}/entries/{eid}/share", htmx=True)
    assert "Private draft" not in shared.text
    assert "DRAFT-SENTINEL" in partners.alex.get(partners.path).text


def test_partner_cannot_act_on_my_draft(partners):
    eid = entry_id(add(partners.sam, partners.path, "reactions", "quiet", draft=True))
    for action in (
        "delete",
        "restore",
        "share",
        "agree",
        "withdraw",
        "withdraw-proposal",
        "flag",
    ):
        r = partners.alex.post_form(
            f"{partners.path}/entries/{eid}/{action}", {"version": "1"}, htmx=True
        )
        assert r.status_code == 404, action


def test_link_a_response_to_what_it_answers(partners):
    hot = entry_id(add(partners.alex, partners.path, "hot_buttons", "Being ignored."))
    response = entry_id(
        add(partners.sam, partners.path, "edge_responses", "I answer, always.")
    )
    card = partners.sam.post_form(
        f"{partners.path}/entries/{response}/links", {"target_id": hot}, htmx=True
    )
    assert "This answers" in card.text
    assert "Being ignored." in soup(card).select_one(".answers").text
    page = soup(partners.alex.get(partners.path))
    assert "I answer, always." in page.select_one(f"#entry-{hot} .answers").text


def test_fragment_and_full_page_are_the_same_card(partners):
    eid = entry_id(add(partners.sam, partners.path, "signals", "lighthouse"))
    fragment = partners.sam.get(
        f"{partners.path}/entries/{eid}", headers={"HX-Request": "true"}
    )
    assert "<html" not in fragment.text
    assert "HX-Request" in fragment.headers["vary"]
    full = partners.sam.get(f"{partners.path}/entries/{eid}")
    assert "<html" in full.text
    assert soup(full).find(id=f"entry-{eid}")


def test_times_are_relative_with_the_exact_time_at_hand(partners):
    eid = entry_id(add(partners.sam, partners.path, "signals", "lighthouse"))
    history = soup(
        partners.sam.get(
            f"{partners.path}/entries/{eid}/history", headers={"HX-Request": "true"}
        )
    )
    moment = history.select_one(".revisions .byline time")
    assert moment.text == "just now"
    assert moment["datetime"].startswith("20")
    assert "UTC" in moment["title"]
    assert moment["tabindex"] == "0"  # reachable by keyboard, shown on focus
