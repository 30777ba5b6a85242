"""Delete my account: everything I wrote goes, everywhere; my partner keeps theirs."""

import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from backend.auth.saved import save_form
from backend.auth.tokens import email_key
from backend.consent import versions
from backend.crypto import keyring
from backend.db import write_session
from backend.export.pdf import build_view
from backend.models import Account, EarlierEntry, Plan, RateEvent
from backend.notes.service import own_draft
from tests.helpers import PASSWORD, soup
from tests.web.steps import add, agree, answer, entry_id, talk_path


def _join(owner, joiner, plan_path: str) -> None:
    link = soup(owner.post_form(f"{plan_path}/invite")).find("input", id="invite-link")
    token = link["value"].rsplit("/", 1)[1]
    assert joiner.post_form(f"/invite/{token}").status_code == 303


def _rows_holding(bind, needle: str) -> list[str]:
    """Every table whose rows hold `needle` anywhere, JSON columns included."""
    found = []
    with bind.connect() if hasattr(bind, "connect") else bind as conn:
        for table in SQLModel.metadata.sorted_tables:
            for row in conn.execute(select(table)):
                if needle in repr(tuple(row)):
                    found.append(table.name)
    return found


def _files_holding(db_url: str, needle: str) -> list[str]:
    database = Path(make_url(db_url).database or "")
    files = [Path(f"{database}{tail}") for tail in ("", "-wal", "-shm", "-journal")]
    return [f.name for f in files if f.exists() and needle.encode() in f.read_bytes()]


def _everything_of_sam(client, make_client, engine, mark: str, secret: str):
    """Sam writes `mark` into every field that holds Sam's words; Alex writes too."""
    sam = client.sign_up(f"Sam {mark}", email=f"{mark}@example.org")
    plan = sam.post_form("/plans", {"title": f"Our plan {mark}"}).headers["location"]
    alex = make_client().sign_up("Alex")
    _join(sam, alex, plan)
    mine = {
        key: entry_id(add(sam, plan, key, f"{key} {mark}"))
        for key in ("comes_up", "bottom_lines", "hot_buttons", "reactions")
    }
    add(sam, plan, "comes_up", f"draft {mark}", draft=True)
    theirs = entry_id(add(alex, plan, "hot_buttons", "Alex: being rushed."))
    agree(sam, plan, theirs)
    # a shared entry Alex wrote and Sam reworded: Alex's wording stays
    shared = entry_id(add(alex, plan, "signals", "Alex: the blue mug."))
    agree(sam, plan, shared)
    sam.post_form(
        f"{plan}/entries/{shared}",
        {"text": f"signal {mark}", "base_version": "1"},
        htmx=True,
    )
    response = entry_id(add(sam, plan, "edge_responses", f"response {mark}"))
    agree(alex, plan, response)
    for eid in mine.values():
        agree(alex, plan, eid)
    # an agreed entry whose yes Sam takes back, with a note
    taken = entry_id(add(alex, plan, "feel_safe", "Alex: saying how long."))
    agree(sam, plan, taken)
    sam.post_form(f"{plan}/entries/{taken}/withdraw", {"note": f"back {mark}"})
    sam.post_form(f"{plan}/entries/{theirs}/flag", {"note": f"flag {mark}"})
    gone = entry_id(add(alex, plan, "differently", "Alex: slower mornings."))
    sam.post_form(f"{plan}/entries/{gone}/delete", {"note": f"why {mark}"})
    talk = talk_path(sam, plan, title=f"talk {mark}")
    answer(
        sam,
        talk,
        what_happened=f"a {mark}",
        how_it_felt=f"b {mark}",
        what_would_help=f"c {mark}",
        what_to_change=f"d {mark}",
    )
    sent = sam.post_form(
        f"{plan}/notes",
        {"what_i_see": f"see {mark}", "what_i_feel": f"feel {mark}", "what_i_need": ""},
    )
    alex_note = alex.post_form(f"{plan}/notes", {"what_i_need": "Alex: a walk."})
    thread = alex_note.headers["location"].split("#thread-")[1]
    sam.post_form(f"{plan}/notes/{thread}/replies", {"body": f"reply {mark}"})
    assert sent.status_code == 303
    # Alex answers Sam's note twice, Sam answers in between, and Alex keeps a
    # reply unsent: all of Alex's stays Alex's
    sams = sent.headers["location"].split("#thread-")[1]
    for who, body, action in (
        (alex, "Alex: I hear you.", "send"),
        (sam, f"again {mark}", "send"),
        (alex, "Alex: and one more thing.", "send"),
        (alex, "Alex: still thinking.", "draft"),
    ):
        replied = who.post_form(
            f"{plan}/feedback/{sams}/replies", {"body": body, "action": action}
        )
        assert replied.status_code == 303
    # printed: the version that holds Sam's words is sealed
    with write_session(engine) as session:
        account = session.exec(select(Account).where(Account.email == sam.email))
        sam_id = account.scalar_one().id
        save_form(
            session,
            account_id=sam_id,
            path=plan,
            fields=[("text", f"saved {mark}")],
        )
        for bucket in (
            f"login:failed:{email_key(secret, sam.email)}",
            f"forgot:email:{email_key(secret, sam.email)}",
            f"pdf:account:{sam_id}",
        ):
            session.add(RateEvent(bucket=bucket))
        # an earlier plan's words Sam brought into a plan: Sam's to take away
        session.add(
            EarlierEntry(
                plan_id=uuid.UUID(plan.rsplit("/", 1)[1]),
                brought_by=sam_id,
                section="signals",
                text=f"earlier words {mark}",
            )
        )
        session.commit()
    return sam, alex, plan, sam_id


@pytest.mark.real_engine
def test_nothing_of_mine_is_left_anywhere(client, make_client, app, db_url):
    """The sentinel: a unique string in every field Sam owns; after Sam deletes
    the account, no table holds it, and on SQLite neither do the database file,
    its write-ahead log or a journal."""
    engine = app.state.engine
    mark = f"sentinel{uuid.uuid4().hex[:12]}"
    sam, alex, plan, sam_id = _everything_of_sam(
        client, make_client, engine, mark, app.state.secret
    )
    assert len(_rows_holding(engine, mark)) >= 10  # the test really wrote them

    deleted = sam.post_form("/account/delete", {"password": PASSWORD})

    assert deleted.status_code == 303
    assert deleted.headers["location"] == "/?deleted=1"
    # this process holds none of them: no kept card, no token's words (read
    # before the rows are looked through, which opens every token left)
    assert len(app.state.shelf) == 0
    assert keyring().held() == 0
    assert _rows_holding(engine, mark) == []
    if engine.dialect.name == "sqlite":
        assert _files_holding(db_url, mark) == []
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Account)).scalar() == 1
        buckets = conn.execute(select(RateEvent.bucket)).scalars().all()
        kept_under = (email_key(app.state.secret, sam.email), str(sam_id))
        assert [b for b in buckets if any(key in b for key in kept_under)] == []
    # Alex keeps every word Alex wrote, and is told what happened
    page = alex.get(plan)
    for words in ("Alex: being rushed.", "Alex: the blue mug.", "Alex: a walk."):
        assert words in page.text or words in alex.get(f"{plan}/feedback").text
    marker = soup(page).find(id="words-removed")
    assert marker.get_text(" ", strip=True).startswith(
        "Words of a former partner were removed on"
    )
    assert sam.get("/account").status_code in (303, 401)
    # Alex's replies to Sam's note stay, together, where Sam's note was
    feedback = soup(alex.get(f"{plan}/feedback"))
    kept = next(
        t for t in feedback.select("article.thread") if "Alex: I hear you." in t.text
    )
    said = kept.select_one(".words-removed").get_text(" ", strip=True)
    assert said.startswith("This answered words of a former partner, which were")
    assert [p.text for p in kept.select(".entry-text")] == [
        "Alex: I hear you.",
        "Alex: and one more thing.",
        "Alex: still thinking.",
    ]
    assert kept.find("textarea") is None  # nobody is left to answer there
    # the thread Alex started says a reply in it was removed
    walk = next(
        t for t in feedback.select("article.thread") if "Alex: a walk." in t.text
    )
    assert (
        walk.select_one(".words-removed")
        .get_text(" ", strip=True)
        .startswith(
            "A reply from a former partner was removed from this conversation on"
        )
    )


def test_a_partners_replies_outlive_my_note_when_i_leave(partners, session):
    """Leaving a plan takes my notes, never my partner's answers to them."""
    p = partners.path
    sent = partners.sam.post_form(f"{p}/feedback", {"what_i_feel": "Tired."})
    root = sent.headers["location"].split("#thread-")[1]
    partners.alex.post_form(f"{p}/feedback/{root}/replies", {"body": "Me too."})
    partners.alex.post_form(
        f"{p}/feedback/{root}/replies", {"body": "Later.", "action": "draft"}
    )

    assert partners.sam.post_form(f"{p}/leave").status_code == 303

    page = soup(partners.alex.get(f"{p}/feedback"))
    assert "Tired." not in page.text
    (thread,) = page.select("article.thread")
    assert thread.select_one(".words-removed") is not None
    assert thread.select_one(".entry-text").text == "Me too."
    # a kept reply starts no conversation, and is no draft of a new note
    kept = thread["id"].removeprefix("thread-")
    answer = partners.alex.post_form(f"{p}/feedback/{kept}/replies", {"body": "Hi"})
    assert answer.status_code == 404
    # the plan's timeline still calls it a reply, and leads to its thread
    line = soup(partners.alex.get(f"{p}/timeline")).find("a", string="Me too.")
    assert "Alex replied" in line.parent.get_text(" ", strip=True)
    assert line["href"].endswith(f"#thread-{kept}")
    # Alex's unsent reply is kept in the same thread, never a new note's draft
    assert thread.select_one(".kept-draft").text == "Later."
    plan = session.get_one(Plan, uuid.UUID(partners.plan_id))
    alex = session.exec(select(Account).where(Account.email == partners.alex.email))
    assert own_draft(session, plan, alex.scalar_one().id) is None


def test_a_wrong_password_deletes_nothing(partners, session):
    add(partners.sam, partners.path, "signals", "Quiet days")
    refused = partners.sam.post_form(
        "/account/delete", {"password": "not my password at all"}
    )
    assert refused.status_code == 422
    error = soup(refused).find(class_="field-error")
    assert "Nothing has been deleted" in error.text
    assert "Quiet days" in partners.sam.get(partners.path).text
    assert session.exec(select(func.count()).select_from(Account)).one()[0] == 2


def test_agreed_versions_are_sealed_again_without_my_words_and_say_so(
    partners, session
):
    p = partners.path
    mine = entry_id(add(partners.sam, p, "bottom_lines", "No shouting, ever."))
    agree(partners.alex, p, mine)
    theirs = entry_id(add(partners.alex, p, "signals", "The blue mug."))
    agree(partners.sam, p, theirs)
    before = partners.alex.get(f"{p}/agreed?version=1").text
    assert "No shouting, ever." in before

    partners.sam.post_form("/account/delete", {"password": PASSWORD})

    old = session.exec(
        select(versions.PlanVersion).where(versions.PlanVersion.number == 1)
    ).scalar_one()
    assert old.sealed_at is not None
    assert "words_removed_at" in old.snapshot
    page = partners.alex.get(f"{p}/agreed?version=1")
    assert "No shouting, ever." not in page.text
    assert "The blue mug." in page.text
    said = soup(page).find(id="words-removed").get_text(" ", strip=True)
    assert said.startswith("This version was sealed again when words of a former")
    # the newest version, with nothing agreed now, says why
    newest = soup(partners.alex.get(f"{p}/agreed")).find(id="words-removed")
    assert newest.get_text(" ", strip=True).startswith(
        "Words of a former partner were removed from this plan on"
    )
    # and the PDF of that version says so on its status line
    status = build_view(old.snapshot, draft=False).status
    assert "Words of a former partner were removed on" in status


def test_a_plan_only_i_was_in_is_deleted_with_me(client, session):
    sam = client.sign_up("Sam")
    plan = sam.post_form("/plans", {"title": "Alone"}).headers["location"]
    add(sam, plan, "signals", "Just me")
    sam.post_form("/account/delete", {"password": PASSWORD})
    assert session.exec(select(func.count()).select_from(versions.Plan)).one()[0] == 0
