"""Random sequences of writing, proposing, agreeing and taking back, against a model.

After every step: the agreed view is, for each entry, its newest version with a
standing yes from both partners; a one-partner plan has nothing agreed; the
newest plan version holds exactly the agreed view; no sealed version ever
changes; and one sitting makes at most one new version. Rules check on the
spot that a proposal or a request to take an entry out changes nothing agreed
until both said yes, and that a yes taken back shows on the partner's card.
"""

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlmodel import col, select

from backend.consent import agreed, versions
from backend.consent import service as consent
from backend.db import new_session
from backend.entries import service
from backend.errors import FormError, NotFound
from backend.models import Entry, PlanVersion
from backend.plans.page import plan_page
from tests.factories import make_account, make_plan

EXAMPLES = int(os.environ.get("MUTUAL_MACHINE_EXAMPLES", "100"))
SECTIONS = ["hot_buttons", "reactions", "edge_responses", "signals"]
PERSONAL = {"hot_buttons", "reactions"}
INDEX = st.integers(0, 2)
STALE = st.sampled_from([False, False, False, True])


@dataclass
class Model:
    """What should be true of one entry, kept without the database."""

    owner: object | None
    draft: bool
    texts: list[str] = field(default_factory=list)  # index = version - 1
    removal: set[int] = field(default_factory=set)  # versions asking to take it out
    yes: set[tuple[object, int]] = field(default_factory=set)  # standing yeses
    deleted: bool = False
    final: bool = False  # taken out by both: cannot be restored

    @property
    def version(self) -> int:
        return len(self.texts)

    def agreed(self, people: list) -> int | None:
        if len(people) != 2:
            return None
        both = [
            v
            for v in range(1, self.version + 1)
            if all((p, v) in self.yes for p in people)
        ]
        return max(both, default=None)

    def withdraw(self, who, *, newer_than: int = 0) -> None:
        self.yes = {(p, v) for p, v in self.yes if p != who or v <= newer_than}


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def machine(engine, partners_count: int, clock: Clock):
    class ConsentMachine(RuleBasedStateMachine):
        @initialize()
        def start(self):
            self.session = new_session(engine, write=True)
            a = make_account(self.session, "A")
            b = make_account(self.session, "B")
            self.people = [a.id, b.id][:partners_count]
            self.plan = make_plan(self.session, a, b if partners_count == 2 else None)
            self.entries: dict = {}
            self.sealed: dict[int, dict] = {}
            self.seals = 0
            self.counter = 0

        def teardown(self):
            self.session.close()

        def _pick(self, index):
            if not self.entries:
                return None, None
            # the newest few entries, so that steps meet on the same entry often
            keys = list(self.entries)
            key = keys[-1 - index % min(len(keys), 3)]
            return key, self.entries[key]

        def _who(self, who):
            return self.people[who % len(self.people)]

        def _visible(self, model, who):
            return not model.draft or model.owner == who

        def _agreed_view(self):
            return {
                str(k): m.texts[m.agreed(self.people) - 1]
                for k, m in self.entries.items()
                if not m.deleted and not m.draft and m.agreed(self.people)
            }

        def _newest_snapshot(self):
            newest = versions.latest_version(self.session, self.plan.id)
            return newest.snapshot if newest else None

        @rule(
            who=st.integers(0, 1),
            section=st.sampled_from(SECTIONS),
            draft=st.booleans(),
        )
        def add(self, who, section, draft):
            who = self._who(who)
            self.counter += 1
            text = f"entry {self.counter}"
            entry = service.add_entry(
                self.session,
                self.plan,
                author_id=who,
                section=section,
                text=text,
                draft=draft,
            )
            personal = section in PERSONAL
            self.entries[entry.id] = Model(
                owner=who if personal else None, draft=draft and personal, texts=[text]
            )
            self.entries[entry.id].yes.add((who, 1))

        @rule(
            who=st.integers(0, 1),
            index=INDEX,
            stale=STALE,
            back=st.booleans(),
        )
        @precondition(lambda self: self.entries)
        def edit(self, who, index, stale, back):
            who = self._who(who)
            key, model = self._pick(index)
            if key is None:
                return
            agreed_before = self._agreed_view()
            in_force = model.agreed(self.people)
            self.counter += 1
            text = f"wording {self.counter}"
            if back and in_force:
                text = model.texts[in_force - 1]
            base = model.version - 1 if stale else model.version
            try:
                service.edit_entry(
                    self.session,
                    self.plan,
                    str(key),
                    author_id=who,
                    base_version=base,
                    text=text,
                )
            except NotFound:
                assert not self._visible(model, who)
                return
            except FormError:
                assert model.owner not in (None, who) or model.deleted
                self.session.rollback()
                return
            except service.StaleEdit:
                assert stale
                self.session.rollback()
                return
            assert self._visible(model, who)
            assert model.owner in (None, who)
            assert not model.deleted
            assert not stale
            newest_is_removal = model.version in model.removal
            if in_force and text == model.texts[in_force - 1]:
                model.withdraw(who, newer_than=in_force)
            elif text != model.texts[-1] or newest_is_removal:
                model.texts.append(text)
                model.yes.add((who, model.version))
            # a proposal never changes what is agreed
            assert self._agreed_view() == agreed_before

        @rule(who=st.sampled_from(["waiting", 0, 1]), index=INDEX, stale=STALE)
        @precondition(lambda self: self.entries)
        def agree(self, who, index, stale):
            key, model = self._pick(index)
            if key is None:
                return
            if who == "waiting":  # most often, the one whose yes is missing
                missing = [
                    p for p in self.people if (p, model.version) not in model.yes
                ]
                who = missing[0] if missing else self.people[0]
            else:
                who = self._who(who)
            version = model.version - 1 if stale else model.version
            try:
                entry = service.get_entry(self.session, self.plan, str(key), who)
                consent.agree(
                    self.session, self.plan, entry, account_id=who, version=version
                )
            except NotFound:
                assert not self._visible(model, who) or model.deleted or model.draft
            except consent.StaleConsent:
                assert stale
                self.session.rollback()
            except FormError:
                assert model.owner == who  # one's own words need no yes
                self.session.rollback()
            else:
                assert not stale
                assert model.owner != who
                model.yes.add((who, model.version))
                if (
                    model.version in model.removal
                    and model.agreed(self.people) == model.version
                ):
                    model.deleted = model.final = True

        @rule(who=st.integers(0, 1), index=INDEX)
        @precondition(lambda self: self.entries)
        def take_back(self, who, index):
            who = self._who(who)
            key, model = self._pick(index)
            if key is None or not self._visible(model, who):
                return
            entry = service.get_entry(self.session, self.plan, str(key), who)
            try:
                consent.take_back(
                    self.session, self.plan, entry, account_id=who, note="why"
                )
            except FormError:
                assert model.owner is not None  # only shared agreements are taken back
                self.session.rollback()
                return
            assert model.owner is None
            had = any(p == who for p, _ in model.yes)
            model.withdraw(who)
            if (
                had
                and len(self.people) == 2
                and not model.deleted
                and not model.agreed(self.people)
            ):
                other = next(p for p in self.people if p != who)
                card = plan_page(self.session, self.plan, other, only=[key]).cards[key]
                assert card.taken_back is not None
                assert card.taken_back.by.id == who

        @rule(who=st.integers(0, 1), index=INDEX)
        @precondition(lambda self: self.entries)
        def withdraw_proposal(self, who, index):
            who = self._who(who)
            key, model = self._pick(index)
            if key is None or not self._visible(model, who):
                return
            agreed_before = self._agreed_view()
            entry = service.get_entry(self.session, self.plan, str(key), who)
            consent.withdraw_proposal(self.session, self.plan, entry, account_id=who)
            in_force = model.agreed(self.people)
            newest_stands = any(v == model.version for _, v in model.yes)
            if in_force and in_force != model.version and newest_stands:
                model.withdraw(who, newer_than=in_force)
            assert self._agreed_view() == agreed_before

        @rule(who=st.integers(0, 1), index=INDEX)
        @precondition(lambda self: self.entries)
        def remove(self, who, index):
            who = self._who(who)
            key, model = self._pick(index)
            if key is None:
                return
            agreed_before = self._agreed_view()
            try:
                service.remove_entry(self.session, self.plan, str(key), account_id=who)
            except NotFound:
                assert not self._visible(model, who)
                return
            except FormError:
                assert model.owner not in (None, who)
                self.session.rollback()
                return
            if model.deleted:
                return
            if model.owner is None and model.agreed(self.people):
                if model.version not in model.removal:
                    model.texts.append(model.texts[-1])
                    model.removal.add(model.version)
                    model.yes.add((who, model.version))
                # a request to take it out never removes it until both said yes
                assert self._agreed_view() == agreed_before
            else:
                model.deleted = True

        @rule(who=st.integers(0, 1), index=INDEX)
        @precondition(lambda self: self.entries)
        def restore(self, who, index):
            who = self._who(who)
            key, model = self._pick(index)
            if key is None:
                return
            try:
                service.restore_entry(self.session, self.plan, str(key), account_id=who)
            except NotFound:
                assert not self._visible(model, who)
            except FormError:
                assert model.owner not in (None, who)
                self.session.rollback()
            else:
                if not model.final:
                    model.deleted = False

        @rule(index=INDEX)
        @precondition(lambda self: self.entries)
        def share(self, index):
            key, model = self._pick(index)
            if key is None or not model.draft:
                return
            service.share_draft(
                self.session, self.plan, str(key), account_id=model.owner
            )
            model.draft = False

        @rule()
        def print_it(self):
            newest = versions.latest_version(self.session, self.plan.id)
            if newest is not None and newest.sealed_at is None:
                versions.seal(self.session, newest)
                self.session.commit()
                self.seals += 1

        @rule()
        def half_an_hour_of_quiet(self):
            clock.now += timedelta(minutes=31)
            self.seals += 1

        @invariant()
        def agreed_view_is_newest_version_with_both_yeses(self):
            if not hasattr(self, "session"):
                return
            expected = self._agreed_view()
            snapshot = agreed.agreed_snapshot(self.session, self.plan)
            assert {e["id"]: e["text"] for e in snapshot["entries"]} == expected

        @invariant()
        def newest_version_holds_the_agreed_view(self):
            if not hasattr(self, "session"):
                return
            newest = self._newest_snapshot()
            now = agreed.agreed_snapshot(self.session, self.plan)
            if newest is None:
                assert not now["entries"]
                assert not now["taken_back"]
            else:
                assert agreed.signature(newest) == agreed.signature(now)

        @invariant()
        def each_version_keeps_its_own_signature(self):
            """A version's kept signature is its snapshot's (tests/unit/
            test_versions_incremental.py checks the snapshot against a rebuild)."""
            if not hasattr(self, "session"):
                return
            for v in versions.versions(self.session, self.plan.id):
                assert versions.signature_of(v) == [
                    list(pair) for pair in agreed.signature(v.snapshot)
                ]

        @invariant()
        def sealed_versions_never_change_and_sittings_gather(self):
            if not hasattr(self, "session"):
                return
            found = self.session.exec(
                select(PlanVersion)
                .where(PlanVersion.plan_id == self.plan.id)
                .order_by(col(PlanVersion.number))
            ).all()
            assert [v.number for v in found] == list(range(1, len(found) + 1))
            assert len(found) <= self.seals + 1
            for v in found:
                if v.number in self.sealed:
                    assert v.snapshot == self.sealed[v.number]
                elif versions.is_sealed(v, now=clock.now):
                    self.sealed[v.number] = v.snapshot

        @invariant()
        def entry_rows_match_the_model(self):
            if not hasattr(self, "session"):
                return
            for entry in self.session.exec(
                select(Entry).where(Entry.plan_id == self.plan.id)
            ).all():
                model = self.entries[entry.id]
                assert entry.version == model.version
                assert (entry.deleted_at is not None) == model.deleted

    return ConsentMachine


@pytest.mark.slow
@pytest.mark.parametrize("partners_count", [2, 1])
def test_agreement_rules_hold_for_any_sequence(engine, partners_count, monkeypatch):
    clock = Clock()
    monkeypatch.setattr(versions, "utc_now", clock)
    examples = EXAMPLES if partners_count == 2 else max(20, EXAMPLES // 10)
    run_state_machine_as_test(
        machine(engine, partners_count, clock),
        settings=settings(
            max_examples=examples,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
            database=None,
        ),
    )


STORIES = {
    "a proposal waits for both": [
        ("add", 0, "signals", False),
        ("agree", "waiting", 0, False),
        ("edit", 0, 0, False, False),
        ("agree", "waiting", 0, False),
    ],
    "a request to take it out waits for both": [
        ("add", 1, "edge_responses", False),
        ("agree", "waiting", 0, False),
        ("remove", 0, 0),
        ("restore", 0, 0),
        ("agree", "waiting", 0, False),
        ("restore", 1, 0),
    ],
    "a yes taken back shows, and a proposal withdrawn changes nothing": [
        ("add", 0, "signals", False),
        ("agree", "waiting", 0, False),
        ("edit", 1, 0, False, False),
        ("withdraw_proposal", 1, 0),
        ("take_back", 1, 0),
        ("agree", "waiting", 0, False),
    ],
    "heard, then changed since it was read": [
        ("add", 0, "hot_buttons", False),
        ("agree", 1, 0, False),
        ("edit", 0, 0, False, False),
        ("take_back", 1, 0),
        ("remove", 0, 0),
        ("restore", 0, 0),
    ],
    "one sitting, one version; sealed versions stay": [
        ("add", 0, "signals", False),
        ("agree", "waiting", 0, False),
        ("add", 1, "signals", False),
        ("agree", "waiting", 0, False),
        ("print_it",),
        ("edit", 0, 0, False, False),
        ("agree", "waiting", 0, False),
        ("half_an_hour_of_quiet",),
        ("take_back", 0, 1),
        ("edit", 1, 0, False, True),
    ],
}
CHECKS = (
    "agreed_view_is_newest_version_with_both_yeses",
    "newest_version_holds_the_agreed_view",
    "each_version_keeps_its_own_signature",
    "sealed_versions_never_change_and_sittings_gather",
    "entry_rows_match_the_model",
)


@pytest.mark.parametrize("story", list(STORIES))
def test_agreement_rules_hold_for_known_stories(engine, monkeypatch, story):
    """The stories the rules exist for, step by step, so breaking a rule fails
    here every time, whatever the random run happens to try."""
    clock = Clock()
    monkeypatch.setattr(versions, "utc_now", clock)
    state = machine(engine, 2, clock)()
    state.start()
    try:
        for name, *args in STORIES[story]:
            getattr(state, name)(*args)
            for check in CHECKS:
                getattr(state, check)()
    finally:
        state.teardown()
