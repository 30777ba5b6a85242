"""The agreed plan paints first on a slow phone: it fetches its stylesheet and only
our own small scripts, deferred, and none of htmx, which it has no use for.

On a slow line every file fetched at once shares the bandwidth with the stylesheet
the first paint waits for (docs/performance.md, "Phone").
"""

from tests.helpers import soup
from tests.web.steps import add, agree, entry_id


def scripts(page):
    return [s["src"].split("?")[0] for s in page.select("head script[src]")]


def test_the_agreed_plan_fetches_no_htmx_and_still_offers_its_pdf(partners):
    p = partners.path
    eid = entry_id(add(partners.sam, p, "edge_responses", "We sit together."))
    agree(partners.alex, p, eid)
    page = soup(partners.sam.get(f"{p}/agreed"))
    assert "We sit together." in page.select_one("main").get_text()
    assert scripts(page) == ["/static/js/app.js", "/static/js/copy.js"]
    assert all(s.has_attr("defer") for s in page.select("head script"))
    assert not page.select("[hx-get], [hx-post], [sse-connect]")
    # what the page offers works as links and plain forms
    assert page.find("a", string="Download the PDF")["href"].startswith(
        f"{p}/agreed.pdf"
    )
    assert page.select_one("[data-share-pdf]")  # shown by app.js where it can share
    sign_out = page.select_one("form[action='/logout']")
    assert sign_out.select_one("input[name=csrf_token]")["value"]


def test_the_working_plan_still_has_htmx_for_its_live_cards(partners):
    page = soup(partners.sam.get(f"{partners.path}?all=1"))
    assert scripts(page)[:3] == [
        "/static/vendor/htmx.min.js",
        "/static/vendor/sse.min.js",
        "/static/vendor/idiomorph-ext.min.js",
    ]
