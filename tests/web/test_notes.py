"""Notes between the partners: see, feel, need; drafts kept; replies; live signals."""

import pytest

from tests.helpers import soup
from tests.web.test_debriefs import record_signals, talk_path
from tests.web.test_entries import add, entry_id


@pytest.fixture
def signals(app, monkeypatch):
    return record_signals(app, monkeypatch)


def write(client, path, action="send", *, htmx=False, **parts):
    return client.post_form(f"{path}/feedback", {"action": action, **parts}, htmx=htmx)


def thread_id(response) -> str:
    return response.headers["location"].rsplit("#thread-", 1)[1]


def test_reflective_feedback_has_its_own_page_and_the_three_steps(partners):
    page = soup(partners.sam.get(f"{partners.path}/feedback"))
    assert page.h1.text == "Reflective feedback"
    assert page.title.text.startswith("Reflective feedback")
    composer = page.find(id="composer")
    assert composer.h2.text == "Write to Alex"
    labels = [label.text for label in composer.select(".field > label:not(.check)")]
    assert labels[:3] == ["What I see", "What I feel", "What I need"]
    hints = {
        part: composer.find(id=f"note-{part}-hint").text
        for part in ("what_i_see", "what_i_feel", "what_i_need")
    }
    # what I see is the story I own, not a camera's record
    assert "Not what a camera would have caught" in hints["what_i_see"]
    assert "story you find yourself telling" in hints["what_i_see"]
    assert "What that story is doing to you" in hints["what_i_feel"]
    assert "would like to be different" in hints["what_i_need"]
    asking = composer.find("input", {"name": "asks_back"})
    assert asking.has_attr("checked")  # offered, and the writer may untick it
    assert "how you see it" in asking.parent.text
    buttons = [b.text for b in composer.find_all("button")]
    assert buttons == ["Send to Alex", "Keep as draft"]
    link = soup(partners.sam.get(partners.path)).find(
        "a", href=f"{partners.path}/feedback"
    )
    assert link.text == "Reflective feedback"


def test_the_old_notes_addresses_still_work(partners):
    old = partners.sam.get(f"{partners.path}/notes?entry=abc")
    assert old.status_code == 308
    assert old.headers["location"] == f"{partners.path}/feedback?entry=abc"
    sent = partners.sam.post_form(f"{partners.path}/notes", {"what_i_feel": "Here."})
    assert sent.status_code == 303
    root = thread_id(sent)
    thread = partners.alex.get(f"{partners.path}/notes/{root}")
    assert thread.status_code == 308
    assert thread.headers["location"] == f"{partners.path}/feedback/{root}"
    reply = partners.alex.post_form(
        f"{partners.path}/notes/{root}/replies", {"body": "Heard."}
    )
    assert reply.status_code == 303
    assert "Heard." in partners.sam.get(f"{partners.path}/feedback").text


def test_asking_back_is_answered_in_the_same_thread(partners):
    root = thread_id(
        write(partners.sam, partners.path, what_i_see="A story.", asks_back="1")
    )
    alex = soup(partners.alex.get(f"{partners.path}/feedback")).find(
        id=f"thread-{root}"
    )
    assert alex.select_one(".asking-back").text == "Would you tell me how you see it?"
    assert alex.select_one(".reply-box summary").text == "Tell Sam how you see it"
    assert alex.select_one(".reply-box label").text == "How I see it"
    partners.alex.post_form(
        f"{partners.path}/feedback/{root}/replies", {"body": "I see it otherwise."}
    )
    sam = soup(partners.sam.get(f"{partners.path}/feedback")).find(id=f"thread-{root}")
    assert sam.select_one(".reply .entry-text").text == "I see it otherwise."
    # the writer's own view of the box is an ordinary reply
    assert sam.select_one(".reply-box summary").text == "Reply"


def test_without_asking_back_the_thread_does_not_ask(partners):
    root = thread_id(write(partners.sam, partners.path, what_i_see="A story."))
    alex = soup(partners.alex.get(f"{partners.path}/feedback")).find(
        id=f"thread-{root}"
    )
    assert alex.select_one(".asking-back") is None
    assert alex.select_one(".reply-box summary").text == "Reply"


def test_a_draft_keeps_whether_it_asks_back(partners):
    write(partners.sam, partners.path, "draft", what_i_see="Later.")
    composer = soup(partners.sam.get(f"{partners.path}/feedback")).find(id="composer")
    assert not composer.find("input", {"name": "asks_back"}).has_attr("checked")


def test_before_the_partner_joins_the_page_offers_inviting(client):
    sam = client.sign_up("Sam")
    path = sam.post_form("/plans", {"title": "Us"}).headers["location"]
    composer = soup(sam.get(f"{path}/feedback")).find(id="composer")
    assert composer.find("textarea") is None
    invite = composer.find("a", string="Invite your partner")
    assert invite["href"] == f"{path}#invite_panel"


def test_a_card_and_a_taken_back_yes_lead_to_feedback_about_it(partners):
    eid = entry_id(add(partners.sam, partners.path, "signals", "lighthouse"))
    card = soup(partners.alex.get(partners.path)).find(id=f"entry-{eid}")
    menu = soup(partners.alex.get(card.select_one(".card-more a")["href"]))
    link = menu.find("a", string="Say how this lands for me")
    assert link["href"] == f"{partners.path}/feedback?entry={eid}#composer"
    page = soup(partners.alex.get(link["href"]))
    chosen = page.find("select", {"name": "about"}).find("option", selected=True)
    assert chosen["value"] == f"entry:{eid}"
    partners.alex.post_form(
        f"{partners.path}/entries/{eid}/agree", {"version": "1"}, htmx=True
    )
    partners.alex.post_form(
        f"{partners.path}/entries/{eid}/withdraw", {"note": "Not yet."}
    )
    for client in (partners.alex, partners.sam):
        back = soup(client.get(partners.path)).find(id=f"entry-{eid}")
        link = back.select_one(".taken-back a")
        assert link["href"] == f"{partners.path}/feedback?entry={eid}#composer"
        assert "reflective feedback" in link.text


def test_a_sent_note_reaches_the_partner(partners, signals):
    response = write(
        partners.sam,
        partners.path,
        what_i_see="You came back after ten minutes.",
        what_i_need="To keep doing this.",
    )
    assert response.status_code == 303
    root = thread_id(response)
    thread = soup(partners.alex.get(f"{partners.path}/feedback")).find(
        id=f"thread-{root}"
    )
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
    again = soup(partners.sam.get(f"{partners.path}/feedback"))
    assert again.find("textarea", {"name": "what_i_see"}).text == "DRAFT-1"
    assert "Your draft, as you left it" in again.text
    draft_id = again.find("input", {"name": "draft_id"})["value"]
    assert "DRAFT-1" not in partners.alex.get(f"{partners.path}/feedback").text
    assert not [s for s in signals if s[1] == "note"]
    sent = write(
        partners.sam,
        partners.path,
        what_i_see="DRAFT-1, finished",
        draft_id=draft_id,
    )
    assert thread_id(sent) == draft_id
    fresh = soup(partners.sam.get(f"{partners.path}/feedback"))
    assert fresh.find("textarea", {"name": "what_i_see"}).text == ""
    assert "DRAFT-1, finished" in partners.alex.get(f"{partners.path}/feedback").text


def test_a_plain_draft_post_comes_back_to_the_composer(partners):
    response = write(partners.sam, partners.path, "draft", what_i_need="Later.")
    assert response.headers["location"] == f"{partners.path}/feedback?kept=1#composer"
    page = soup(partners.sam.get(response.headers["location"]))
    assert "Kept as a draft" in page.find(id="composer").text


def test_someone_elses_draft_id_is_never_touched(partners):
    write(partners.sam, partners.path, "draft", what_i_see="SAM-DRAFT")
    page = soup(partners.sam.get(f"{partners.path}/feedback"))
    draft_id = page.find("input", {"name": "draft_id"})["value"]
    sent = write(partners.alex, partners.path, what_i_see="Mine.", draft_id=draft_id)
    assert thread_id(sent) != draft_id
    page = soup(partners.sam.get(f"{partners.path}/feedback"))
    assert page.find("textarea", {"name": "what_i_see"}).text == "SAM-DRAFT"


def test_replies_and_reply_drafts(partners, signals):
    root = thread_id(write(partners.sam, partners.path, what_i_feel="Relieved."))
    url = f"{partners.path}/feedback/{root}/replies"
    kept = partners.alex.post_form(url, {"body": "REPLY-DRAFT", "action": "draft"})
    assert kept.status_code == 303
    alex_page = soup(partners.alex.get(f"{partners.path}/feedback"))
    box = alex_page.find(id=f"thread-{root}").find("textarea", {"name": "body"})
    assert box.text == "REPLY-DRAFT"
    assert "REPLY-DRAFT" not in partners.sam.get(f"{partners.path}/feedback").text
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
        f"{partners.path}/feedback/{root}", headers={"HX-Request": "true"}
    )
    assert "Me too." in fetched.text
    assert "<html" not in fetched.text


def test_an_empty_reply_keeps_the_page_and_says_why(partners):
    root = thread_id(write(partners.sam, partners.path, what_i_feel="Relieved."))
    response = partners.alex.post_form(
        f"{partners.path}/feedback/{root}/replies",
        {"body": " "},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert "nothing written here yet" in response.text


def test_only_sent_notes_start_threads(partners):
    write(partners.sam, partners.path, "draft", what_i_see="not sent")
    page = soup(partners.sam.get(f"{partners.path}/feedback"))
    draft_id = page.find("input", {"name": "draft_id"})["value"]
    for client in (partners.sam, partners.alex):
        assert client.get(f"{partners.path}/feedback/{draft_id}").status_code == 404
        reply = client.post_form(
            f"{partners.path}/feedback/{draft_id}/replies", {"body": "hello"}
        )
        assert reply.status_code == 404


def test_a_note_about_an_entry_or_a_talk(partners):
    eid = entry_id(add(partners.sam, partners.path, "signals", "lighthouse"))
    page = soup(partners.alex.get(f"{partners.path}/feedback?entry={eid}"))
    chosen = page.find("select", {"name": "about"}).find("option", selected=True)
    assert chosen["value"] == f"entry:{eid}"
    root = thread_id(
        write(partners.alex, partners.path, what_i_need="Yes.", about=f"entry:{eid}")
    )
    about = soup(partners.sam.get(f"{partners.path}/feedback")).find(
        id=f"thread-{root}"
    )
    assert "lighthouse" in about.select_one(".about").text
    talk = talk_path(partners.sam, partners.path)
    talk_id = talk.rsplit("/", 1)[1]
    root = thread_id(
        write(partners.sam, partners.path, what_i_feel="OK", about=f"debrief:{talk_id}")
    )
    about = soup(partners.alex.get(f"{partners.path}/feedback")).find(
        id=f"thread-{root}"
    )
    assert about.select_one(".about a")["href"] == talk


def test_a_note_cannot_be_about_a_private_draft(partners):
    secret = entry_id(
        add(partners.sam, partners.path, "hot_buttons", "SENTINEL-DRAFT", draft=True)
    )
    root = thread_id(
        write(partners.sam, partners.path, what_i_see="x", about=f"entry:{secret}")
    )
    page = partners.alex.get(f"{partners.path}/feedback")
    assert "SENTINEL-DRAFT" not in page.text
    assert not soup(page).find(id=f"thread-{root}").select_one(".about")
