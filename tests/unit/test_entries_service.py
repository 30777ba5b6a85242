"""The rules of writing a plan, at the domain level (invariants 2-6 and 8)."""

import pytest
from sqlmodel import select

from backend.consent import agreed, versions
from backend.consent import service as consent
from backend.entries import service
from backend.errors import FormError, NotFound
from backend.models import Consent, Revision
from backend.plans.page import plan_page
from tests.factories import make_account, make_plan


@pytest.fixture
def pair(session):
    sam, alex = make_account(session, "Sam"), make_account(session, "Alex")
    return sam, alex, make_plan(session, sam, alex)


def _agreed_ids(session, plan):
    return {e["id"] for e in agreed.agreed_snapshot(session, plan)["entries"]}


def _agreed_texts(session, plan):
    return {
        e["id"]: e["text"] for e in agreed.agreed_snapshot(session, plan)["entries"]
    }


def test_writing_counts_as_the_writers_consent(session, pair):
    sam, _alex, plan = pair
    entry = service.add_entry(
        session, plan, author_id=sam.id, section="edge_responses", text="Stay with me."
    )
    consents = session.exec(select(Consent).where(Consent.entry_id == entry.id)).all()
    assert [(c.account_id, c.version) for c in consents] == [(sam.id, 1)]
    assert str(entry.id) not in _agreed_ids(session, plan)


def test_agreed_only_when_both_consent_to_the_current_version(session, pair):
    sam, alex, plan = pair
    entry = service.add_entry(
        session, plan, author_id=sam.id, section="edge_responses", text="Stay with me."
    )
    consent.agree(session, plan, entry, account_id=alex.id, version=1)
    assert _agreed_texts(session, plan) == {str(entry.id): "Stay with me."}
    service.edit_entry(
        session,
        plan,
        str(entry.id),
        author_id=sam.id,
        base_version=1,
        text="Stay with me, please.",
    )
    # Alex's yes was to version 1: that wording stays in force until Alex agrees
    assert _agreed_texts(session, plan) == {str(entry.id): "Stay with me."}
    consent.agree(session, plan, entry, account_id=alex.id, version=2)
    assert _agreed_texts(session, plan) == {str(entry.id): "Stay with me, please."}


def test_consent_to_an_older_version_is_refused(session, pair):
    sam, alex, plan = pair
    entry = service.add_entry(
        session, plan, author_id=sam.id, section="signals", text="lighthouse"
    )
    service.edit_entry(
        session,
        plan,
        str(entry.id),
        author_id=sam.id,
        base_version=1,
        text="lighthouse, twice",
    )
    with pytest.raises(consent.StaleConsent):
        consent.agree(session, plan, entry, account_id=alex.id, version=1)
    session.rollback()
    assert str(entry.id) not in _agreed_ids(session, plan)


def test_one_partner_plan_has_nothing_agreed(session):
    sam = make_account(session)
    plan = make_plan(session, sam)
    service.add_entry(session, plan, author_id=sam.id, section="signals", text="x")
    assert _agreed_ids(session, plan) == set()


def test_only_the_owner_changes_a_personal_entry(session, pair):
    sam, alex, plan = pair
    entry = service.add_entry(
        session,
        plan,
        author_id=sam.id,
        section="hot_buttons",
        text="Being told to calm down.",
    )
    with pytest.raises(FormError):
        service.edit_entry(
            session,
            plan,
            str(entry.id),
            author_id=alex.id,
            base_version=1,
            text="Rewritten by Alex",
        )
    with pytest.raises(FormError):
        service.remove_entry(session, plan, str(entry.id), account_id=alex.id)
    session.rollback()
    assert session.get(type(entry), entry.id).text == "Being told to calm down."


def test_either_partner_changes_a_shared_entry(session, pair):
    sam, alex, plan = pair
    entry = service.add_entry(
        session,
        plan,
        author_id=sam.id,
        section="feel_safe",
        text="Saying when we need space.",
    )
    edited = service.edit_entry(
        session,
        plan,
        str(entry.id),
        author_id=alex.id,
        base_version=1,
        text="Saying when we need space, and when we'll be back.",
    )
    assert edited.version == 2
    assert edited.updated_by == alex.id
    assert edited.created_by == sam.id


def test_stale_edit_is_refused_and_nothing_is_lost(session, pair):
    sam, alex, plan = pair
    entry = service.add_entry(
        session, plan, author_id=sam.id, section="feel_safe", text="One"
    )
    service.edit_entry(
        session,
        plan,
        str(entry.id),
        author_id=sam.id,
        base_version=1,
        text="Two by Sam",
    )
    with pytest.raises(service.StaleEdit) as caught:
        service.edit_entry(
            session,
            plan,
            str(entry.id),
            author_id=alex.id,
            base_version=1,
            text="Two by Alex",
        )
    assert caught.value.attempted == "Two by Alex"
    assert caught.value.entry.text == "Two by Sam"
    session.rollback()
    texts = [r.text for r in service.revisions(session, entry)]
    assert texts == ["One", "Two by Sam"]


def test_revisions_are_append_only(session, pair):
    sam, alex, plan = pair
    entry = service.add_entry(
        session, plan, author_id=sam.id, section="feel_safe", text="v1"
    )
    first = service.revisions(session, entry)[0]
    for n, who in ((1, alex), (2, sam), (3, alex)):
        service.edit_entry(
            session,
            plan,
            str(entry.id),
            author_id=who.id,
            base_version=n,
            text=f"v{n + 1}",
        )
    rows = service.revisions(session, entry)
    assert [(r.version, r.text) for r in rows] == [
        (1, "v1"),
        (2, "v2"),
        (3, "v3"),
        (4, "v4"),
    ]
    assert [r.author_id for r in rows] == [sam.id, alex.id, sam.id, alex.id]
    assert rows[0].id == first.id
    assert rows[0].created_at == first.created_at


def test_soft_delete_and_restore_of_shared_entries(session, pair):
    sam, alex, plan = pair
    entry = service.add_entry(
        session, plan, author_id=sam.id, section="differently", text="Talk before bed."
    )
    service.remove_entry(session, plan, str(entry.id), account_id=alex.id)
    assert session.get(type(entry), entry.id).deleted_at is not None
    service.restore_entry(session, plan, str(entry.id), account_id=sam.id)
    assert session.get(type(entry), entry.id).deleted_at is None
    assert len(service.revisions(session, entry)) == 1


def test_removing_an_agreed_entry_takes_both(session, pair):
    """Invariant 6: a request to take it out changes nothing until both said yes."""
    sam, alex, plan = pair
    entry = service.add_entry(
        session, plan, author_id=sam.id, section="signals", text="lighthouse"
    )
    consent.agree(session, plan, entry, account_id=alex.id, version=1)
    service.remove_entry(
        session, plan, str(entry.id), account_id=alex.id, note="We never use it."
    )
    assert session.get(type(entry), entry.id).deleted_at is None
    assert _agreed_texts(session, plan) == {str(entry.id): "lighthouse"}
    request = service.revisions(session, entry)[-1]
    assert (request.kind, request.note, request.author_id) == (
        "removal",
        "We never use it.",
        alex.id,
    )
    consent.agree(session, plan, entry, account_id=sam.id, version=2)
    assert session.get(type(entry), entry.id).deleted_at is not None
    assert _agreed_texts(session, plan) == {}
    # taken out by both: final, not something one person restores alone
    service.restore_entry(session, plan, str(entry.id), account_id=sam.id)
    assert session.get(type(entry), entry.id).deleted_at is not None


def test_removing_ones_own_personal_entry_is_immediate_and_undoable(session, pair):
    sam, alex, plan = pair
    entry = service.add_entry(
        session, plan, author_id=sam.id, section="hot_buttons", text="Doors slammed."
    )
    consent.agree(session, plan, entry, account_id=alex.id, version=1)
    assert str(entry.id) in _agreed_ids(session, plan)
    service.remove_entry(session, plan, str(entry.id), account_id=sam.id, note="Old")
    removed = session.get(type(entry), entry.id)
    assert (removed.deleted_by, removed.removed_note) == (sam.id, "Old")
    assert _agreed_ids(session, plan) == set()
    service.restore_entry(session, plan, str(entry.id), account_id=sam.id)
    assert str(entry.id) in _agreed_ids(session, plan)


def test_a_sitting_gathers_into_one_version_until_sealed(session, pair):
    sam, alex, plan = pair
    for text in ("one", "two", "three"):
        entry = service.add_entry(
            session, plan, author_id=sam.id, section="signals", text=text
        )
        consent.agree(session, plan, entry, account_id=alex.id, version=1)
    only = versions.versions(session, plan.id)
    assert [v.number for v in only] == [1]
    assert only[0].summary == "3 added"
    versions.seal(session, only[0])
    session.commit()
    sealed = dict(only[0].snapshot)
    entry = service.add_entry(
        session, plan, author_id=sam.id, section="signals", text="4"
    )
    consent.agree(session, plan, entry, account_id=alex.id, version=1)
    assert [v.number for v in versions.versions(session, plan.id)] == [2, 1]
    assert versions.version(session, plan.id, 1).snapshot == sealed


def test_private_draft_is_the_owners_alone(session, pair):
    sam, alex, plan = pair
    draft = service.add_entry(
        session,
        plan,
        author_id=sam.id,
        section="reactions",
        text="I go quiet.",
        draft=True,
    )
    assert service.get_entry(session, plan, str(draft.id), sam.id) == draft
    with pytest.raises(NotFound):
        service.get_entry(session, plan, str(draft.id), alex.id)
    service.share_draft(session, plan, str(draft.id), account_id=sam.id)
    assert service.get_entry(session, plan, str(draft.id), alex.id).id == draft.id


def test_shared_sections_have_no_drafts(session, pair):
    sam, _alex, plan = pair
    entry = service.add_entry(
        session, plan, author_id=sam.id, section="signals", text="x", draft=True
    )
    assert entry.is_draft is False


@pytest.mark.parametrize(
    ("raw", "problem"),
    [("", "nothing written"), ("  \n\t ", "nothing written"), ("x" * 4001, "4,000")],
)
def test_invalid_text_is_refused(session, pair, raw, problem):
    sam, _, plan = pair
    with pytest.raises(FormError) as caught:
        service.add_entry(session, plan, author_id=sam.id, section="signals", text=raw)
    assert problem in caught.value.errors["text"]


def test_control_characters_are_stripped(session, pair):
    sam, _, plan = pair
    entry = service.add_entry(
        session,
        plan,
        author_id=sam.id,
        section="signals",
        text="a\x00b\x07c\r\nd\te\u202e",
    )
    assert entry.text == "abc\nd\te"
    assert session.exec(select(Revision.text)).one() == "abc\nd\te"


def test_responses_link_to_personal_entries(session, pair):
    sam, alex, plan = pair
    hot = service.add_entry(
        session, plan, author_id=alex.id, section="hot_buttons", text="Being ignored."
    )
    response = service.add_entry(
        session,
        plan,
        author_id=sam.id,
        section="edge_responses",
        text="I answer, always.",
    )
    service.link_response(
        session, plan, str(response.id), target_id=str(hot.id), account_id=sam.id
    )
    page = plan_page(session, plan, sam.id)
    assert [e.id for e in page.cards[response.id].answers] == [hot.id]
    assert [e.id for e in page.cards[hot.id].answered_by] == [response.id]


def test_erasure_is_the_only_way_revisions_go(session, pair):
    sam, alex, plan = pair
    entry = service.add_entry(
        session, plan, author_id=sam.id, section="signals", text="by Sam"
    )
    service.edit_entry(
        session, plan, str(entry.id), author_id=alex.id, base_version=1, text="by Alex"
    )
    service.erase_words_of(session, plan.id, alex.id)
    session.commit()
    texts = [r.text for r in service.revisions(session, entry)]
    assert "by Alex" not in texts
    assert session.get(type(entry), entry.id).text == "by Sam"


def test_erasure_takes_words_out_of_old_versions(session, pair):
    sam, alex, plan = pair
    mine = service.add_entry(
        session, plan, author_id=alex.id, section="hot_buttons", text="ALEX-WORDS"
    )
    consent.agree(session, plan, mine, account_id=sam.id, version=1)
    ours = service.add_entry(
        session, plan, author_id=sam.id, section="signals", text="SAM-WORDS"
    )
    consent.agree(session, plan, ours, account_id=alex.id, version=1)
    service.erase_words_of(session, plan.id, alex.id)
    session.commit()
    from backend.models import PlanVersion

    for version in session.exec(select(PlanVersion)).all():
        texts = [e["text"] for e in version.snapshot["entries"]]
        assert "ALEX-WORDS" not in texts
    assert any(
        "SAM-WORDS" in [e["text"] for e in v.snapshot["entries"]]
        for v in session.exec(select(PlanVersion)).all()
    )


def test_erasure_blanks_the_titles_of_talks_i_started(session, pair):
    from datetime import date

    from backend.models import Debrief

    sam, alex, plan = pair
    mine = Debrief(
        plan_id=plan.id,
        started_by=alex.id,
        happened_on=date.today(),
        title="ALEX-TITLE",
    )
    theirs = Debrief(
        plan_id=plan.id, started_by=sam.id, happened_on=date.today(), title="SAM-TITLE"
    )
    session.add_all([mine, theirs])
    session.commit()
    service.erase_words_of(session, plan.id, alex.id)
    session.commit()
    session.refresh(mine)
    session.refresh(theirs)
    assert mine.title is None
    assert theirs.title == "SAM-TITLE"


def _links(session, plan):
    from backend.models import EntryLink

    return {
        (link.response_id, link.target_id)
        for link in session.exec(select(EntryLink).where(EntryLink.plan_id == plan.id))
    }


def test_a_response_to_a_hot_button_is_written_and_paired_in_one_step(session, pair):
    sam, alex, plan = pair
    button = service.add_entry(
        session, plan, author_id=sam.id, section="hot_buttons", text="Calm down."
    )
    response = service.add_response(
        session, plan, str(button.id), author_id=alex.id, text="I ask, not tell."
    )
    assert response.section == "edge_responses"
    assert response.owner_id is None
    assert _links(session, plan) == {(response.id, button.id)}
    # a shared entry like any other: Alex's wording, waiting for Sam's yes
    assert str(response.id) not in _agreed_ids(session, plan)
    consent.agree(session, plan, response, account_id=sam.id, version=1)
    assert str(response.id) in _agreed_ids(session, plan)
    page = plan_page(session, plan, sam.id)
    assert [r.id for r in page.cards[button.id].answered_by] == [response.id]


def test_an_empty_response_leaves_nothing_behind(session, pair):
    sam, alex, plan = pair
    button = service.add_entry(
        session, plan, author_id=sam.id, section="reactions", text="I go quiet."
    )
    with pytest.raises(FormError):
        service.add_response(session, plan, str(button.id), author_id=alex.id, text=" ")
    session.rollback()
    assert _links(session, plan) == set()
    assert [
        c.entry.section for c in plan_page(session, plan, sam.id).cards.values()
    ] == ["reactions"]


def test_a_private_draft_cannot_be_answered(session, pair):
    sam, alex, plan = pair
    draft = service.add_entry(
        session, plan, author_id=sam.id, section="hot_buttons", text="x", draft=True
    )
    with pytest.raises(NotFound):  # Alex cannot even see it (invariant 8)
        service.add_response(session, plan, str(draft.id), author_id=alex.id, text="y")
    with pytest.raises(FormError):
        service.add_response(session, plan, str(draft.id), author_id=sam.id, text="y")
    session.rollback()
    assert _links(session, plan) == set()


def test_power_between_us_is_a_shared_section_that_prints(session, pair):
    from backend.export.pdf import build_view

    sam, alex, plan = pair
    entry = service.add_entry(
        session, plan, author_id=sam.id, section="power", text="I earn more."
    )
    assert entry.owner_id is None
    assert str(entry.id) not in _agreed_ids(session, plan)
    consent.agree(session, plan, entry, account_id=alex.id, version=1)
    # as the PDF route hands it over: the snapshot of a numbered version
    snapshot = {
        **agreed.agreed_snapshot(session, plan),
        "created_at": "2026-11-30T08:00:00+00:00",
        "version": 1,
    }
    view = build_view(snapshot, draft=False)
    power = [s for s in view.shared if s.key == "power"]
    assert [(s.heading, [e.text for e in s.entries]) for s in power] == [
        ("Power between us", ["I earn more."])
    ]
