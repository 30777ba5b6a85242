"""Notes between the partners: see, feel, need; drafts kept; replies; live signals."""

import pytest

from tests.helpers import soup
from tests.web.test_debriefs import record_signals, talk_path
from tests.web.test_entries import add, entry_id


@pytest.fixture
def signals(app, monkeypatch):
    return record_signals(app, monkeypatch)


def write(client, path, action="send", *, htmx=False, **parts):
    return client.post_form(f"{path}/notes", {"action": action, **parts}, htmx=htmx)


def thread_id(response) -> str:
    return response.headers["location"].rsplit("#thread-", 1)[1]


def test_the_composer_has_three_parts_each_with_a_hint(partners):
    page = soup(partners.sam.get(f"{partners.path}/notes"))
    composer = page.find(id="composer")
    assert composer.h2.text == "Write to Alex"
    labels = [label.text for label in composer.select(".field > label")]
    assert labels[:3] == ["What I see", "What I feel", "What I need"]
    assert len(composer.select(".field > .hint")) == 3
    buttons = [b.text for b in composer.find_all("button")]
    assert buttons == ["Send to Alex", "Keep as draft"]
    assert soup(partners.sam.get(partners.path)).find(
        "a", href=f"{partners.path}/notes"
    )


def test_a_sent_note_reaches_the_partner(partners, signals):
    response = write(
        partners.sam,
        partners.path,
        what_i_see="You came back after ten minutes.",
        what_i_need="To keep doing this.",
    )
    assert response.status_code == 303
    root = thread_id(response)
    thread = soup(partners.alex.get(f"{partners.path}/notes")).find(id=f"thread-{root}")
    parts = [dt.text for dt in thread.select(".note-parts dt")]
    assert parts == ["What I see", "What I need"]
    assert "You came back after ten minutes." in thread.text
    assert "Sam" in thread.select_one(".byline").text
    (signal,) = [s for s in signals if s[1] == "note"]
    assert signal[2] == {"id": root}  # the thread's id: no words


def test_sending_with_htmx_returns_a_fresh_composer_and_the_new_thread(partners):
    response = write(partners.sam, partners.path, htmx=True, what_i_feel="Closer.")
    assert response.status_code == 200
    page = soup(response)
    assert page.find(id="composer").find("textarea", {"name": "what_i_feel"}).text == ""
    oob = page.find(attrs={"hx-swap-oob": "afterbegin:#thread-list"})
    assert "Closer." in oob.find("article", class_="thread").text


def test_three_empty_parts_are_refused_with_the_rest_kept(partners):
    response = write(
        partners.sam,
        partners.path,
        htmx=True,
        what_i_see="  ",
        about="nonsense",
    )
    assert response.status_code == 422
    assert "at least one of the three" in response.text
    assert "<html" not in response.text
    long = write(partners.sam, partners.path, what_i_see="x" * 2500, what_i_need="Me")
    assert long.status_code == 422
    page = soup(long)
    assert page.find("textarea", {"name": "what_i_see"}).text == "x" * 2500
    assert page.find("textarea", {"name": "what_i_need"}).text == "Me"


def test_a_draft_is_kept_for_its_writer_only(partners, signals):
    kept = write(partners.sam, partners.path, "draft", htmx=True, what_i_see="DRAFT-1")
    assert kept.status_code == 200
    assert "Kept as a draft" in kept.text
    again = soup(partners.sam.get(f"{partners.path}/notes"))
    assert again.find("textarea", {"name": "what_i_see"}).text == "DRAFT-1"
    assert "Your draft, as you left it" in again.text
    draft_id = again.find("input", {"name": "draft_id"})["value"]
    assert "DRAFT-1" not in partners.alex.get(f"{partners.path}/notes").text
    assert not [s for s in signals if s[1] == "note"]
    sent = write(
        partners.sam,
        partners.path,
        what_i_see="DRAFT-1, finished",
        draft_id=draft_id,
    )
    assert thread_id(sent) == draft_id
    fresh = soup(partners.sam.get(f"{partners.path}/notes"))
    assert fresh.find("textarea", {"name": "what_i_see"}).text == ""
    assert "DRAFT-1, finished" in partners.alex.get(f"{partners.path}/notes").text


def test_a_plain_draft_post_comes_back_to_the_composer(partners):
    response = write(partners.sam, partners.path, "draft", what_i_need="Later.")
    assert response.headers["location"] == f"{partners.path}/notes?kept=1#composer"
    page = soup(partners.sam.get(response.headers["location"]))
    assert "Kept as a draft" in page.find(id="composer").text


def test_someone_elses_draft_id_is_never_touched(partners):
    write(partners.sam, partners.path, "draft", what_i_see="SAM-DRAFT")
    page = soup(partners.sam.get(f"{partners.path}/notes"))
    draft_id = page.find("input", {"name": "draft_id"})["value"]
    sent = write(partners.alex, partners.path, what_i_see="Mine.", draft_id=draft_id)
    assert thread_id(sent) != draft_id
    page = soup(partners.sam.get(f"{partners.path}/notes"))
    assert page.find("textarea", {"name": "what_i_see"}).text == "SAM-DRAFT"


def test_replies_and_reply_drafts(partners, signals):
    root = thread_id(write(partners.sam, partners.path, what_i_feel="Relieved."))
    url = f"{partners.path}/notes/{root}/replies"
    kept = partners.alex.post_form(url, {"body": "REPLY-DRAFT", "action": "draft"})
    assert kept.status_code == 303
    alex_page = soup(partners.alex.get(f"{partners.path}/notes"))
    box = alex_page.find(id=f"thread-{root}").find("textarea", {"name": "body"})
    assert box.text == "REPLY-DRAFT"
    assert "REPLY-DRAFT" not in partners.sam.get(f"{partners.path}/notes").text
    draft = alex_page.find(id=f"thread-{root}").find("input", {"name": "draft_id"})
    sent = partners.alex.post_form(
        url,
        {"body": "Me too.", "action": "send", "draft_id": draft["value"]},
        headers={"HX-Request": "true"},
    )
    assert sent.status_code == 200
    thread = soup(sent).find("article", id=f"thread-{root}")
    assert [r.select_one(".entry-text").text for r in thread.select(".reply")] == [
        "Me too."
    ]
    # the note, then the sent reply (not its draft), each named by the thread
    assert [s[2] for s in signals if s[1] == "note"] == [{"id": root}, {"id": root}]
    fetched = partners.sam.get(
        f"{partners.path}/notes/{root}", headers={"HX-Request": "true"}
    )
    assert "Me too." in fetched.text
    assert "<html" not in fetched.text


def test_an_empty_reply_keeps_the_page_and_says_why(partners):
    root = thread_id(write(partners.sam, partners.path, what_i_feel="Relieved."))
    response = partners.alex.post_form(
        f"{partners.path}/notes/{root}/replies",
        {"body": " "},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert "nothing written here yet" in response.text


def test_only_sent_notes_start_threads(partners):
    write(partners.sam, partners.path, "draft", what_i_see="not sent")
    page = soup(partners.sam.get(f"{partners.path}/notes"))
    draft_id = page.find("input", {"name": "draft_id"})["value"]
    for client in (partners.sam, partners.alex):
        assert client.get(f"{partners.path}/notes/{draft_id}").status_code == 404
        reply = client.post_form(
            f"{partners.path}/notes/{draft_id}/replies", {"body": "hello"}
        )
        assert reply.status_code == 404


def test_a_note_about_an_entry_or_a_talk(partners):
    eid = entry_id(add(partners.sam, partners.path, "signals", "lighthouse"))
    page = soup(partners.alex.get(f"{partners.path}/notes?entry={eid}"))
    chosen = page.find("select", {"name": "about"}).find("option", selected=True)
    assert chosen["value"] == f"entry:{eid}"
    root = thread_id(
        write(partners.alex, partners.path, what_i_need="Yes.", about=f"entry:{eid}")
    )
    about = soup(partners.sam.get(f"{partners.path}/notes")).find(id=f"thread-{root}")
    assert "lighthouse" in about.select_one(".about").text
    talk = talk_path(partners.sam, partners.path)
    talk_id = talk.rsplit("/", 1)[1]
    root = thread_id(
        write(partners.sam, partners.path, what_i_feel="OK", about=f"debrief:{talk_id}")
    )
    about = soup(partners.alex.get(f"{partners.path}/notes")).find(id=f"thread-{root}")
    assert about.select_one(".about a")["href"] == talk


def test_a_note_cannot_be_about_a_private_draft(partners):
    secret = entry_id(
        add(partners.sam, partners.path, "hot_buttons", "SENTINEL-DRAFT", draft=True)
    )
    root = thread_id(
        write(partners.sam, partners.path, what_i_see="x", about=f"entry:{secret}")
    )
    page = partners.alex.get(f"{partners.path}/notes")
    assert "SENTINEL-DRAFT" not in page.text
    assert not soup(page).find(id=f"thread-{root}").select_one(".about")
