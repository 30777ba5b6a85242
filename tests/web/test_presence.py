"""Being seen as "here now": each person's choice, per plan, off until chosen."""

from tests.helpers import soup


def choice(client, path):
    return soup(client.get(path)).find(id="presence_choice")


def test_presence_is_off_until_a_person_turns_it_on(partners):
    form = choice(partners.sam, partners.path)
    assert "Alex doesn't see when you're here." in form.text
    assert form.find("button").text == "Let Alex see when I'm here"
    turned = partners.sam.post_form(f"{partners.path}/presence", {"show": "1"})
    assert turned.status_code == 303  # a plain form works without JavaScript
    assert turned.headers["location"] == f"{partners.path}#presence_choice"
    form = choice(partners.sam, partners.path)
    assert "Alex can see when you're here." in form.text
    assert form.find("button").text == "Stop showing it"
    # one person's choice is theirs alone
    assert (
        "Sam doesn't see when you're here." in choice(partners.alex, partners.path).text
    )


def test_the_choice_is_per_plan(partners):
    partners.sam.post_form(f"{partners.path}/presence", {"show": "1"})
    other = partners.sam.post_form("/plans", {"title": "Another"}).headers["location"]
    link = soup(partners.sam.post_form(f"{other}/invite")).find(
        "input", id="invite-link"
    )
    partners.alex.post_form(f"/invite/{link['value'].rsplit('/', 1)[1]}")
    assert "Alex doesn't see" in choice(partners.sam, other).text
    assert "Alex can see" in choice(partners.sam, partners.path).text


def test_turning_it_off_again_with_htmx_returns_the_choice(partners):
    partners.sam.post_form(f"{partners.path}/presence", {"show": "1"})
    off = partners.sam.post_form(f"{partners.path}/presence", {"show": ""}, htmx=True)
    assert off.status_code == 200
    assert "<html" not in off.text
    assert (
        "Alex doesn't see when you're here."
        in soup(off).find(id="presence_choice").text
    )


def test_before_a_partner_joins_there_is_nothing_to_choose(client):
    sam = client.sign_up("Sam")
    path = sam.post_form("/plans", {"title": "Us"}).headers["location"]
    assert choice(sam, path) is None
