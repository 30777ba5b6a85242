"""Writers of one plan take turns from the moment a save or an agree holds the plan
(`versions.hold_plan`): what they read after it is what the version records, so
a partner's write cannot slip in between and be left out of the agreed plan."""

import threading

import pytest

from backend.consent import agreed, versions
from backend.consent import service as consent
from backend.db import new_session
from backend.entries import service
from backend.models import Entry, Plan
from tests.factories import make_account, make_entry, make_plan

WAIT = 10.0  # seconds: a bound on each step, never reached when all is well


def _snapshot_without_stamps(snapshot):
    return {k: v for k, v in snapshot.items() if k not in {"version", "created_at"}}


@pytest.mark.real_engine
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_partners_agree_waits_for_a_save_that_holds_the_plan(
    real_engine, monkeypatch
):
    with new_session(real_engine) as session:
        sam, alex = make_account(session, "Sam"), make_account(session, "Alex")
        plan = make_plan(session, sam, alex)
        mine = make_entry(session, plan, sam, text="lighthouse")
        theirs = make_entry(session, plan, sam, text="harbour")
        consent.agree(session, plan, mine, account_id=alex.id, version=1)
        plan_id, mine_id, theirs_id = plan.id, mine.id, theirs.id

    # the save stops just after it holds the plan, before it reads the partners
    held, go_on = threading.Event(), threading.Event()
    reading = service.people_of

    def people_of(session, plan_id):
        held.set()
        assert go_on.wait(WAIT)
        return reading(session, plan_id)

    monkeypatch.setattr(service, "people_of", people_of)
    failed: list[BaseException] = []

    def run(work):
        def body():
            try:
                with new_session(real_engine, write=True) as writing:
                    work(writing)
            except BaseException as error:  # reported below, in the test's thread
                failed.append(error)

        thread = threading.Thread(target=body)
        thread.start()
        return thread

    def save(writing):
        plan = writing.get(Plan, plan_id)
        service.edit_entry(
            writing,
            plan,
            str(mine_id),
            author_id=sam.id,
            base_version=1,
            text="lighthouse, and the harbour",
        )

    def agree(writing):
        plan = writing.get(Plan, plan_id)
        entry = service.get_entry(
            writing, plan, str(theirs_id), alex.id, for_update=True
        )
        consent.agree(writing, plan, entry, account_id=alex.id, version=1)

    saving = run(save)
    assert held.wait(WAIT)
    agreeing = run(agree)
    # the agree cannot hold the plan while the save does
    agreeing.join(0.5)
    assert agreeing.is_alive()
    go_on.set()
    saving.join(WAIT)
    agreeing.join(WAIT)
    assert not saving.is_alive()
    assert not agreeing.is_alive()
    assert failed == []

    with new_session(real_engine) as session:
        plan = session.get(Plan, plan_id)
        newest = versions.latest_version(session, plan_id)
        assert newest is not None
        # the agreed plan holds the agree, and the save's proposal left the
        # agreed wording of the other entry in force: as worked out whole
        whole = agreed.agreed_snapshot(session, plan)
        assert _snapshot_without_stamps(newest.snapshot) == (
            _snapshot_without_stamps(whole)
        )
        texts = {e["id"]: e["text"] for e in whole["entries"]}
        assert texts == {str(mine_id): "lighthouse", str(theirs_id): "harbour"}
        assert session.get(Entry, mine_id).version == 2
