"""A repeat view of what a viewer already has is answered 304 Not Modified.

The tag is taken from what that viewer sees: a partner's change or a yes changes
it, and a tag from another session never matches.
"""

from tests.web.steps import add, agree, entry_id


def again(client, path, tag, **headers):
    return client.get(path, headers={"If-None-Match": tag, **headers})


def test_an_unchanged_page_and_card_are_not_sent_again(partners):
    p = partners.path
    eid = entry_id(add(partners.sam, p, "edge_responses", "We slow down."))
    partners.alex.get(p)  # the visit is noted once: a later look is the same page
    for path, headers in ((p, {}), (f"{p}/entries/{eid}", {"HX-Request": "true"})):
        first = partners.alex.get(path, headers=headers)
        tag = first.headers["etag"]
        assert first.status_code == 200
        repeat = again(partners.alex, path, tag, **headers)
        assert repeat.status_code == 304
        assert repeat.content == b""
        assert repeat.headers["etag"] == tag
        assert repeat.headers["cache-control"] == "no-store"


def test_a_change_or_a_yes_changes_the_tag(partners):
    p = partners.path
    eid = entry_id(add(partners.sam, p, "edge_responses", "We slow down."))
    card = f"{p}/entries/{eid}"
    htmx = {"HX-Request": "true"}
    tag = partners.sam.get(card, headers=htmx).headers["etag"]
    agree(partners.alex, p, eid)
    assert again(partners.sam, card, tag, **htmx).status_code == 200
    tag = partners.sam.get(card, headers=htmx).headers["etag"]
    partners.alex.post_form(f"{card}/flag", {"note": "Soon?"}, htmx=True)
    assert again(partners.sam, card, tag, **htmx).status_code == 200


def test_another_sessions_tag_never_matches(partners, make_client):
    p = partners.path
    tag = partners.sam.get(p).headers["etag"]
    other = make_client()
    other.cookies = partners.sam.cookies  # same person, so same page
    assert again(other, p, tag).status_code == 304
    fresh = make_client().sign_up("Sam again")
    assert again(fresh, "/", partners.sam.get("/").headers["etag"]).status_code == 200
