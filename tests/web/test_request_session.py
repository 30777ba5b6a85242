"""Every request gives its database connection back once it is answered, and a
write that was refused leaves nothing open: the next writer writes."""

import pytest

from tests.web.steps import add, agree, entry_id

pytestmark = pytest.mark.real_engine


def test_every_request_gives_its_connection_back(app, partners):
    pool = app.state.engine.pool
    sam, alex, path = partners.sam, partners.alex, partners.path
    eid = entry_id(add(sam, path, "bottom_lines", "We never leave mid-sentence."))
    assert pool.checkedout() == 0

    answers = [
        sam.get(path),
        sam.get(f"{path}/entries/{eid}", headers={"HX-Request": "true"}),
        sam.post_form(
            f"{path}/entries/{eid}",
            {"text": "We pause first.", "base_version": "1"},
            htmx=True,
        ),
        # written against a wording that is no longer the newest: refused
        sam.post_form(
            f"{path}/entries/{eid}",
            {"text": "We leave.", "base_version": "1"},
            htmx=True,
        ),
        agree(alex, path, eid, version=2),
    ]
    for response in answers:
        assert pool.checkedout() == 0, response.request.url
    assert [r.status_code for r in answers] == [200, 200, 200, 409, 200]

    # the refused write held nothing: the next one went through, and this one too
    assert "We pause first." in sam.get(path).text
    again = sam.post_form(
        f"{path}/entries/{eid}",
        {"text": "We pause, then talk.", "base_version": "2"},
        htmx=True,
    )
    assert again.status_code == 200
    assert pool.checkedout() == 0
