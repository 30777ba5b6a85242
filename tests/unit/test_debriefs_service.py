"""The rules of talking it through: dates, private answers, sharing, pinning."""

from datetime import date, timedelta

import pytest

from backend.debriefs import service
from backend.entries.service import add_entry
from backend.errors import FormError, NotFound
from tests.factories import make_account, make_plan

TODAY = date(2026, 3, 20)


def test_the_date_defaults_to_today_and_the_title_is_one_line():
    assert service.checked_start("", "  the   party \n", today=TODAY) == (
        TODAY,
        "the party",
    )
    assert service.checked_start("2026-03-12", "", today=TODAY) == (
        date(2026, 3, 12),
        "",
    )
    # a day ahead is allowed: the partners may live in different time zones
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    assert service.checked_start(tomorrow, "", today=TODAY)[0] == date(2026, 3, 21)


@pytest.mark.parametrize(
    ("day", "title", "field"),
    [
        ("2026-03-25", "", "happened_on"),
        ("12/03/2026", "", "happened_on"),
        ("2026-03-12", "x" * 121, "title"),
    ],
)
def test_a_date_to_come_or_garbled_or_a_long_title_is_refused(day, title, field):
    with pytest.raises(FormError) as raised:
        service.checked_start(day, title, today=TODAY)
    assert field in raised.value.errors


@pytest.fixture
def talk(session):
    sam, alex = make_account(session, "Sam"), make_account(session, "Alex")
    plan = make_plan(session, sam, alex)
    debrief = service.start_debrief(
        session, plan, account_id=sam.id, happened_on="", title="Party"
    )
    return plan, debrief, sam, alex


def test_saving_keeps_answers_private_and_sharing_is_once(session, talk):
    plan, debrief, sam, alex = talk
    saved = service.save_answers(
        session,
        plan,
        debrief.id,
        account_id=sam.id,
        answers={"what_happened": "  We left.  ", "ignored": "x"},
        share=False,
    )
    assert saved.shared_at is None
    assert saved.what_happened == "We left."
    assert service.visible_answers(session, [debrief.id], alex.id) == []
    assert service.visible_answers(session, [debrief.id], sam.id) == [saved]
    shared = service.save_answers(
        session,
        plan,
        debrief.id,
        account_id=sam.id,
        answers={"what_happened": "We left early."},
        share=True,
    )
    assert shared.id == saved.id
    first_shared = shared.shared_at
    assert first_shared is not None
    again = service.save_answers(
        session,
        plan,
        debrief.id,
        account_id=sam.id,
        answers={"what_happened": "We left early, quietly."},
        share=False,
    )
    assert again.shared_at == first_shared
    assert again.updated_at > first_shared
    assert service.visible_answers(session, [debrief.id], alex.id) == [again]


def test_sharing_nothing_or_too_much_is_refused(session, talk):
    plan, debrief, sam, _ = talk
    with pytest.raises(FormError) as empty:
        service.save_answers(
            session, plan, debrief.id, account_id=sam.id, answers={}, share=True
        )
    assert "form" in empty.value.errors
    with pytest.raises(FormError) as long:
        service.save_answers(
            session,
            plan,
            debrief.id,
            account_id=sam.id,
            answers={"how_it_felt": "x" * (service.ANSWER_MAX + 1)},
            share=False,
        )
    assert set(long.value.errors) == {"how_it_felt"}


def test_the_view_holds_only_what_the_viewer_may_see(session, talk):
    plan, debrief, sam, alex = talk
    service.save_answers(
        session,
        plan,
        debrief.id,
        account_id=sam.id,
        answers={"what_happened": "SAM-PRIVATE"},
        share=False,
    )
    service.save_answers(
        session,
        plan,
        debrief.id,
        account_id=alex.id,
        answers={"what_happened": "ALEX-SHARED"},
        share=True,
    )
    for_alex = service.view_debrief(session, plan, debrief.id, alex.id)
    assert for_alex.mine.what_happened == "ALEX-SHARED"
    assert [(p.name, a.what_happened) for p, a in for_alex.shared] == [
        ("Alex", "ALEX-SHARED")
    ]
    assert not for_alex.partner_shared
    for_sam = service.view_debrief(session, plan, debrief.id, sam.id)
    assert for_sam.mine.what_happened == "SAM-PRIVATE"
    assert for_sam.partner_shared
    assert for_sam.started_by.name == "Sam"


def test_a_talk_can_be_pinned_once_someone_has_shared(session, talk):
    plan, debrief, sam, _ = talk
    assert service.pinnable(session, plan, str(debrief.id)) is None
    service.save_answers(
        session,
        plan,
        debrief.id,
        account_id=sam.id,
        answers={"what_to_change": "More pauses."},
        share=True,
    )
    assert service.pinnable(session, plan, str(debrief.id)) == debrief
    for raw in ("", None, "not-a-uuid", "00000000-0000-4000-8000-000000000000"):
        assert service.pinnable(session, plan, raw) is None
    other = make_plan(session, sam)
    assert service.pinnable(session, other, debrief.id) is None
    with pytest.raises(NotFound):
        service.get_debrief(session, other, debrief.id)


def test_changes_after_a_talk_leave_out_the_partners_drafts(session, talk):
    plan, debrief, sam, alex = talk
    add_entry(
        session,
        plan,
        author_id=alex.id,
        section="signals",
        text="ten minutes",
        debrief_id=debrief.id,
    )
    add_entry(
        session,
        plan,
        author_id=alex.id,
        section="hot_buttons",
        text="ALEX-DRAFT",
        draft=True,
        debrief_id=debrief.id,
    )
    for_sam = service.view_debrief(session, plan, debrief.id, sam.id)
    assert [c.entry.text for c in for_sam.changes] == ["ten minutes"]
    assert for_sam.changes[0].author.name == "Alex"
    for_alex = service.view_debrief(session, plan, debrief.id, alex.id)
    assert {c.entry.text for c in for_alex.changes} == {"ten minutes", "ALEX-DRAFT"}


def test_summaries_tell_who_shared_and_whether_i_wrote(session, talk):
    plan, debrief, sam, alex = talk
    service.save_answers(
        session,
        plan,
        debrief.id,
        account_id=alex.id,
        answers={"what_happened": "draft"},
        share=False,
    )
    (for_sam,) = service.summaries(session, plan, sam.id)
    assert for_sam.shared_by == []
    assert not for_sam.i_wrote
    (for_alex,) = service.summaries(session, plan, alex.id)
    assert for_alex.i_wrote
    assert not for_alex.i_shared
