"""The plan asks in the practice's spirit: prompts, power, pairing, a gentle start."""

import re

import pytest

from backend.entries.sections import SECTIONS, START_ORDER
from tests.helpers import soup
from tests.web.steps import add, agree, answer, entry_id, respond, talk_path


def whole_plan(client, path):
    return soup(client.get(f"{path}?all=1"))


def prompt_of(client, page, key):
    """What "What to write here" shows once opened: fetched from its link."""
    link = page.select_one(f"#section-{key} .section-prompt .more-slot > a")["href"]
    shown = soup(client.get(link, headers={"HX-Request": "true"}))
    return shown.get_text(" ", strip=True)


# ------------------------------------------------------------------ prompts


def test_every_prompt_says_why_we_ask_with_real_examples():
    for spec in SECTIONS:
        assert spec.why, spec.key
        assert len(spec.examples) >= 2, spec.key


def test_prompts_ask_about_limits_plain_words_and_where_a_reaction_comes_from(
    partners,
):
    page = whole_plan(partners.sam, partners.path)
    bottom = prompt_of(partners.sam, page, "bottom_lines")
    assert "scared for your partner's life" in bottom
    assert "Why we ask:" in bottom
    # plain words are offered beside "the edge", never asked for
    for key in ("comes_up", "edge_responses"):
        text = prompt_of(partners.sam, page, key)
        assert "wanting to die" in text
        assert "edge" in text
    assert "wanting to die" not in page.select_one("#heading-edge_responses").text
    reactions = prompt_of(partners.sam, page, "reactions")
    assert "Ask yourself: Where is this reaction coming from?" in reactions


def test_a_talk_asks_what_safety_means_now_and_what_helps_regain_trust(partners):
    talk = talk_path(partners.sam, partners.path)
    page = soup(partners.sam.get(talk))
    labels = [label.text for label in page.select("#my_answers label")]
    assert "What safety and shared responsibility mean for us now" in labels
    assert "What will help us regain trust" in labels
    answer(partners.sam, talk, "share", what_safety_means="Telling, not hiding.")
    assert "Telling, not hiding." in partners.alex.get(talk).text


# ------------------------------------------------------------------ power


def test_power_between_us_is_agreed_like_any_shared_section(partners):
    p = partners.path
    headings = [h.text for h in whole_plan(partners.sam, p).select("section h2")]
    assert headings.index("Power between us") == (
        headings.index("What helps this relationship feel safe for both of us") + 1
    )
    assert headings.index("What we want to do differently this time") == (
        headings.index("Power between us") + 1
    )
    eid = entry_id(add(partners.sam, p, "power", "I earn most of the money."))
    card = soup(partners.alex.get(f"{p}/entries/{eid}", headers={"HX-Request": "true"}))
    assert card.find("button", string="Agree")
    assert "I earn most of the money." not in partners.sam.get(f"{p}/agreed").text
    agree(partners.alex, p, eid)
    agreed = soup(partners.sam.get(f"{p}/agreed"))
    section = agreed.find("h2", string="Power between us").parent
    assert "I earn most of the money." in section.text


# ------------------------------------------------------------------ pairing


def test_under_a_hot_button_a_new_response_is_proposed_in_one_step(partners):
    p = partners.path
    button = entry_id(add(partners.sam, p, "hot_buttons", "Being told to calm down."))
    response = respond(partners.alex, p, button, "I ask what you need instead.")
    assert response.status_code == 200
    card = soup(response).select_one(f"#entry-{button}")
    pairing = card.select_one(".pairing")
    assert "What we'll do when this happens" in pairing.text
    assert [a.text for a in pairing.select("li a")] == ["I ask what you need instead."]
    # it is a shared response, Alex's yes given, waiting for Sam's
    page = whole_plan(partners.sam, p)
    shared = page.select_one("#section-edge_responses")
    new = shared.find("article", class_="entry")
    assert "I ask what you need instead." in new.text
    assert new.find("button", string="Agree")
    assert f"#entry-{button}" in [a["href"] for a in new.select(".answers a")]


def test_every_hot_button_and_reaction_can_be_answered_and_nothing_else(partners):
    p = partners.path
    keys = ("comes_up", "bottom_lines", "hot_buttons", "reactions")
    for key in keys:
        add(partners.sam, p, key, f"words of {key}")
    page = whole_plan(partners.alex, p)
    answerable = {
        key for key in keys if page.select_one(f"#section-{key} .entry .pairing")
    }
    assert answerable == {"hot_buttons", "reactions"}
    # the form comes when "Propose what we'll do" opens, from the link inside it
    link = page.select_one("#section-reactions .pairing details[data-load] a")["href"]
    form = soup(partners.alex.get(link, headers={"HX-Request": "true"})).form
    assert form.find("textarea")["name"] == "response_text"
    assert form.find("label").text == "What we'll do when this happens"


def test_a_response_without_javascript_goes_back_to_the_pair(partners):
    p = partners.path
    reaction = entry_id(add(partners.sam, p, "reactions", "I go quiet."))
    response = respond(partners.sam, p, reaction, "We sit together.", htmx=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"{p}#entry-{reaction}"
    card = whole_plan(partners.alex, p).select_one(f"#entry-{reaction}")
    assert "We sit together." in card.select_one(".pairing").text


def test_an_empty_response_keeps_the_card_and_says_why(partners):
    p = partners.path
    button = entry_id(add(partners.sam, p, "hot_buttons", "Doors slammed."))
    response = respond(partners.alex, p, button, "   ")
    assert response.status_code == 422
    card = soup(response)
    assert card.select_one(".pairing details")["open"] is not None
    assert "nothing written" in card.select_one(".pairing .field-error").text
    too_long = "word " * 900
    kept = soup(respond(partners.alex, p, button, too_long))
    assert kept.select_one(".pairing textarea").text.strip() == too_long.strip()
    assert whole_plan(partners.sam, p).select("#section-edge_responses .entry") == []


def test_a_private_draft_has_no_pairing_and_cannot_be_answered(partners):
    p = partners.path
    draft = entry_id(add(partners.sam, p, "hot_buttons", "Not yet.", draft=True))
    page = whole_plan(partners.sam, p)
    assert page.select_one(f"#entry-{draft} .pairing") is None
    assert respond(partners.alex, p, draft, "Sneaky.").status_code == 404


def test_the_agreed_page_reads_each_pair_together(partners):
    p = partners.path
    button = entry_id(add(partners.sam, p, "hot_buttons", "Being told to calm down."))
    respond(partners.alex, p, button, "I ask, not tell.")
    page = whole_plan(partners.sam, p)
    response = page.select_one("#section-edge_responses article.entry")["id"]
    agree(partners.alex, p, button)  # "heard"
    assert "I ask, not tell." not in partners.alex.get(f"{p}/agreed").text
    agree(partners.sam, p, response.removeprefix("entry-"))
    agreed = soup(partners.alex.get(f"{p}/agreed"))
    pair = agreed.select_one(f"#agreed-{button}")
    assert "Being told to calm down." in pair.text
    assert [li.text for li in pair.select(".pairing li")] == ["I ask, not tell."]


# ------------------------------------------------------------------ gentle start


def sections_shown(page):
    return [s["id"].removeprefix("section-") for s in page.select("section.section")]


def test_an_empty_plan_opens_one_section_with_its_prompt_open(partners):
    page = soup(partners.sam.get(partners.path))
    assert sections_shown(page) == [START_ORDER[0].key]
    assert page.select_one(".section-prompt").has_attr("open")
    assert len(page.select("form.add-form")) == 1
    nxt = page.find("a", string=re.compile("^Next: "))
    assert nxt.text == f"Next: {START_ORDER[1].title}"
    assert page.find("a", string="See the whole plan at once")


def test_next_walks_the_plan_in_the_practices_order_and_ends_with_all(partners):
    url = partners.path
    seen = []
    for _ in START_ORDER:
        page = soup(partners.sam.get(url))
        (key,) = sections_shown(page)
        seen.append(key)
        current = page.select_one("[aria-current=step]")
        assert current["href"].endswith(f"step={key}")
        nxt = page.select_one(".start-next a")
        url = nxt["href"]
    assert seen == [s.key for s in START_ORDER]
    assert nxt.text == "See the whole plan"
    assert len(sections_shown(soup(partners.sam.get(url)))) == len(SECTIONS)


def test_any_step_can_be_opened_and_the_whole_plan_is_one_link_away(partners):
    page = soup(partners.sam.get(f"{partners.path}?step=power"))
    assert sections_shown(page) == ["power"]
    everything = page.find("a", string="See the whole plan at once")["href"]
    assert len(sections_shown(soup(partners.sam.get(everything)))) == len(SECTIONS)
    # an unknown step is the first one
    page = soup(partners.sam.get(f"{partners.path}?step=nowhere"))
    assert sections_shown(page) == [START_ORDER[0].key]


def test_writing_on_a_step_without_javascript_stays_on_that_step(partners):
    p = partners.path
    page = soup(partners.sam.get(f"{p}?step=bottom_lines"))
    assert page.select_one("form.add-form input[name=step]")["value"] == "bottom_lines"
    response = partners.sam.post_form(
        f"{p}/entries",
        {
            "section": "bottom_lines",
            "text": "I won't be shouted at.",
            "step": "bottom_lines",
        },
    )
    assert response.status_code == 303
    assert re.fullmatch(
        rf"{p}\?step=bottom_lines#entry-[\w-]+", response.headers["location"]
    )
    page = soup(partners.sam.get(response.headers["location"]))
    assert sections_shown(page) == ["bottom_lines"]
    assert "I won't be shouted at." in page.text
    # an invalid entry keeps the step, too
    refused = partners.sam.post_form(
        f"{p}/entries", {"section": "bottom_lines", "text": " ", "step": "bottom_lines"}
    )
    assert refused.status_code == 422
    assert soup(refused).select_one("input[name=step]")["value"] == "bottom_lines"


@pytest.mark.parametrize("who", ["sam", "alex"])
def test_a_plan_with_something_in_it_opens_whole(partners, who):
    add(partners.sam, partners.path, "signals", "lighthouse")
    page = soup(getattr(partners, who).get(partners.path))
    assert len(sections_shown(page)) == len(SECTIONS)
    assert page.select_one("#gentle-start") is None
    assert not page.select_one(".section-prompt").has_attr("open")


def test_a_step_asked_for_stays_when_the_page_refreshes_itself(partners):
    p = partners.path
    live = soup(partners.sam.get(p)).select_one("#plan_live")
    # the first step of an empty plan: once something is in it, the whole plan
    assert live["hx-get"] == p
    live = soup(partners.sam.get(f"{p}?step=power")).select_one("#plan_live")
    assert live["hx-get"] == f"{p}?step=power"
    live = soup(partners.sam.get(f"{p}?all=1")).select_one("#plan_live")
    assert live["hx-get"] == f"{p}?all=1"
