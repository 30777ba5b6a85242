"""The plan's timeline: versions, talks, notes and flags, newest first, with who."""

from tests.helpers import soup
from tests.web.steps import add, agree, answer, entry_id, talk_path


def moments(client, path):
    page = soup(client.get(f"{path}/timeline"))
    return [
        (
            li.select_one(".moment-when time")["datetime"],
            li.select_one(".moment-what").get_text(" ", strip=True),
        )
        for li in page.select("#timeline_list > li.moment")
        if li.select_one(".moment-when time")
    ]


def test_everything_in_one_list_newest_first(partners):
    p = partners.path
    eid = entry_id(add(partners.sam, p, "signals", "lighthouse"))
    agree(partners.alex, p, eid)
    partners.sam.post_form(f"{p}/entries/{eid}/flag", {"note": "later"})
    partners.alex.post_form(f"{p}/entries/{eid}/unflag")
    talk = talk_path(partners.sam, p, title="The party")
    answer(partners.sam, talk, "share", what_happened="We left early.")
    sent = partners.alex.post_form(f"{p}/notes", {"what_i_feel": "Closer."})
    root = sent.headers["location"].rsplit("#thread-", 1)[1]
    partners.sam.post_form(f"{p}/notes/{root}/replies", {"body": "Me too."})
    partners.sam.post_form(f"{p}/revisit/request")
    listed = moments(partners.alex, p)
    texts = [text for _, text in listed]
    assert texts == [
        "Sam asked to look at the plan again",
        "Sam replied: Me too.",
        "Alex wrote reflective feedback: Closer.",
        "Sam shared their answers about “The party”, 12 March",
        "Sam started a talk about “The party”, 12 March",
        "Alex said you've talked about “lighthouse”",
        "Sam asked to talk about “lighthouse”",
        "Version 1 of the agreed plan · 1 added · agreed together",
    ]
    stamps = [when for when, _ in listed]
    assert stamps == sorted(stamps, reverse=True)
    assert moments(partners.sam, p) == listed


def test_nothing_private_of_the_partner_appears(partners):
    p = partners.path
    talk = talk_path(partners.sam, p)
    answer(partners.sam, talk, what_happened="SENTINEL-ANSWER")
    partners.sam.post_form(
        f"{p}/notes", {"what_i_see": "SENTINEL-NOTE", "action": "draft"}
    )
    secret = entry_id(add(partners.sam, p, "hot_buttons", "SENTINEL-DRAFT", draft=True))
    partners.sam.post_form(f"{p}/entries/{secret}/flag", {"note": "x"})
    page = partners.alex.get(f"{p}/timeline")
    assert "SENTINEL" not in page.text
    texts = [text for _, text in moments(partners.alex, p)]
    assert texts == ["Sam started a talk about 12 March"]
    mine = [text for _, text in moments(partners.sam, p)]
    assert "Sam asked to talk about “SENTINEL-DRAFT”" in mine


def test_an_empty_timeline_says_so_and_refreshes_live(partners):
    page = soup(partners.sam.get(f"{partners.path}/timeline"))
    assert "Nothing here yet" in page.find(id="timeline_list").text
    fragment = partners.sam.get(
        f"{partners.path}/timeline", headers={"HX-Request": "true"}
    )
    assert "<html" not in fragment.text
    block = soup(fragment).find(id="timeline_list")
    assert block["hx-get"] == f"{partners.path}/timeline"
    assert "sse:debrief" in block["hx-trigger"]
    assert soup(partners.sam.get(partners.path)).find(
        "a", href=f"{partners.path}/timeline"
    )
