"""Versions are patched one entry at a time; what a write stores is the agreed
plan worked out whole, over any sequence of writing, agreeing, taking back and
removing. (A change that leaves the signature as it was writes nothing, with
either way of working it out.)

Entries are picked anywhere in the plan (not only the newest), so a patch has to
put an entry back in its place among the others; responses answer hot buttons,
so the answers each version lists are checked too.
"""

import contextlib

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from backend.consent import agreed, versions
from backend.consent import service as consent
from backend.entries import service
from backend.errors import DomainError
from backend.models import Entry
from tests.factories import make_account, make_plan

WHO = st.integers(0, 1)
PICK = st.integers(0, 7)
STEP = st.one_of(
    st.tuples(
        st.just("add"),
        WHO,
        st.sampled_from(["signals", "edge_responses", "hot_buttons"]),
    ),
    st.tuples(st.just("agree"), WHO, PICK),
    st.tuples(st.just("agree"), WHO, PICK),
    st.tuples(st.just("edit"), WHO, PICK),
    st.tuples(st.just("take_back"), WHO, PICK),
    st.tuples(st.just("withdraw_proposal"), WHO, PICK),
    st.tuples(st.just("remove"), WHO, PICK),
    st.tuples(st.just("restore"), WHO, PICK),
)


def step(session, plan, people, entries, action, who, arg):
    me = people[who]
    if action == "add":
        entry = service.add_entry(
            session, plan, author_id=me, section=arg, text=f"words {len(entries)}"
        )
        targets = [e for e in entries if e.section == "hot_buttons"]
        if arg == "edge_responses" and targets:
            # linked before anyone agrees: no version lists the response yet
            service.link_response(
                session,
                plan,
                str(entry.id),
                target_id=str(targets[-1].id),
                account_id=me,
            )
        entries.append(entry)
        return
    if not entries:
        return
    entry = session.get(Entry, entries[arg % len(entries)].id)
    session.refresh(entry)
    if action == "agree":
        consent.agree(session, plan, entry, account_id=me, version=entry.version)
    elif action == "edit":
        service.edit_entry(
            session,
            plan,
            str(entry.id),
            author_id=me,
            base_version=entry.version,
            text=f"{entry.text} again",
        )
    elif action == "take_back":
        consent.take_back(session, plan, entry, account_id=me, note="let's talk")
    elif action == "withdraw_proposal":
        consent.withdraw_proposal(session, plan, entry, account_id=me)
    elif action == "remove":
        service.remove_entry(session, plan, str(entry.id), account_id=me, note="")
    else:
        service.restore_entry(session, plan, str(entry.id), account_id=me)


@pytest.mark.slow
def test_patched_versions_equal_a_full_rebuild(session):
    @settings(
        max_examples=15,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.function_scoped_fixture,
        ],
    )
    @given(st.lists(STEP, min_size=1, max_size=14))
    @example(  # a response agreed after the hot button it answers; then reworded
        [
            ("add", 0, "hot_buttons"),
            ("agree", 1, 0),
            ("add", 0, "edge_responses"),
            ("agree", 1, 1),
            ("add", 1, "signals"),
            ("agree", 0, 2),
            ("edit", 0, 0),
            ("agree", 1, 0),
        ]
    )
    @example(  # both take a yes back, then one agrees to another entry
        [
            ("add", 1, "signals"),
            ("add", 0, "signals"),
            ("agree", 0, 0),
            ("take_back", 0, 0),
            ("take_back", 1, 0),
            ("agree", 1, 1),
        ]
    )
    def run(steps):
        a, b = make_account(session, "A"), make_account(session, "B")
        plan = make_plan(session, a, b)
        people, entries = [a.id, b.id], []
        written = None
        for action, who, arg in steps:
            with contextlib.suppress(DomainError):
                step(session, plan, people, entries, action, who, arg)
            session.rollback()
            newest = versions.latest_version(session, plan.id)
            if newest is None:
                continue
            whole = agreed.agreed_snapshot(session, plan)
            # what decides whether a version is written is the same either way
            assert versions.signature_of(newest) == [
                list(pair) for pair in agreed.signature(whole)
            ], (action, who, arg)
            now = (newest.number, newest.updated_at)
            if now != written and (written is None or now[0] >= written[0]):
                # written by this step: exactly what a full rebuild writes
                kept = {
                    k: v
                    for k, v in newest.snapshot.items()
                    if k not in ("version", "created_at")
                }
                assert kept == whole, (action, who, arg)
            written = now

    run()
