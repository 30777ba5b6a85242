"""Random sequences of writing and agreeing, checked against a simple model.

After every step: an entry is agreed iff both partners have a standing yes to its
current version; a one-partner plan has nothing agreed; a new plan version exists
exactly when the agreed set changed; the newest snapshot is the agreed view.
"""

import os
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlmodel import col, select

from backend.consent import agreed
from backend.consent import service as consent
from backend.db import new_session
from backend.entries import service
from backend.errors import FormError, NotFound
from backend.models import Entry, PlanVersion
from tests.factories import make_account, make_plan

EXAMPLES = int(os.environ.get("MUTUAL_MACHINE_EXAMPLES", "200"))
SECTIONS = ["hot_buttons", "reactions", "edge_responses", "signals"]
PERSONAL = {"hot_buttons", "reactions"}


@dataclass
class Model:
    """What should be true, kept without the database."""

    owner: object | None
    draft: bool
    version: int = 1
    deleted: bool = False
    text: str = ""
    yes: dict = field(default_factory=dict)  # account id -> version of a standing yes


def machine(engine, partners_count: int):
    class ConsentMachine(RuleBasedStateMachine):
        @initialize()
        def start(self):
            self.session = new_session(engine, write=True)
            a = make_account(self.session, "A")
            b = make_account(self.session, "B")
            self.people = [a.id, b.id][:partners_count]
            self.outsider = b.id if partners_count == 1 else None
            self.plan = make_plan(self.session, a, b if partners_count == 2 else None)
            self.entries: dict = {}
            self.versions_seen = 0
            self.last_signature: list = []
            self.counter = 0

        def teardown(self):
            self.session.close()

        def _pick(self, index):
            if not self.entries:
                return None, None
            key = sorted(self.entries)[index % len(self.entries)]
            return key, self.entries[key]

        def _visible(self, model, who):
            return not model.draft or model.owner == who

        @rule(
            who=st.integers(0, 1),
            section=st.sampled_from(SECTIONS),
            draft=st.booleans(),
        )
        def add(self, who, section, draft):
            who = self.people[who % len(self.people)]
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
                owner=who if personal else None,
                draft=draft and personal,
                text=text,
                yes={who: 1},
            )

        @rule(who=st.integers(0, 1), index=st.integers(0, 50), stale=st.booleans())
        def edit(self, who, index, stale):
            who = self.people[who % len(self.people)]
            key, model = self._pick(index)
            if key is None:
                return
            self.counter += 1
            text = f"wording {self.counter}"
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
            except FormError:
                assert model.owner not in (None, who) or model.deleted
                self.session.rollback()
            except service.StaleEdit:
                assert stale
                self.session.rollback()
            else:
                assert self._visible(model, who)
                assert model.owner in (None, who)
                assert not model.deleted
                assert not stale
                model.version += 1
                model.text = text
                model.yes[who] = model.version

        @rule(who=st.integers(0, 1), index=st.integers(0, 50), stale=st.booleans())
        def agree(self, who, index, stale):
            who = self.people[who % len(self.people)]
            key, model = self._pick(index)
            if key is None:
                return
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
            else:
                assert not stale
                model.yes[who] = model.version

        @rule(who=st.integers(0, 1), index=st.integers(0, 50))
        def withdraw(self, who, index):
            who = self.people[who % len(self.people)]
            key, model = self._pick(index)
            if key is None or not self._visible(model, who):
                return
            entry = service.get_entry(self.session, self.plan, str(key), who)
            consent.withdraw(self.session, self.plan, entry, account_id=who, note="")
            if model.yes.get(who) == model.version:
                del model.yes[who]

        @rule(who=st.integers(0, 1), index=st.integers(0, 50), restore=st.booleans())
        def delete_or_restore(self, who, index, restore):
            who = self.people[who % len(self.people)]
            key, model = self._pick(index)
            if key is None:
                return
            action = service.restore_entry if restore else service.delete_entry
            try:
                action(self.session, self.plan, str(key), account_id=who)
            except NotFound:
                assert not self._visible(model, who)
            except FormError:
                assert model.owner not in (None, who)
                self.session.rollback()
            else:
                model.deleted = not restore

        @rule(index=st.integers(0, 50))
        def share(self, index):
            key, model = self._pick(index)
            if key is None or not model.draft:
                return
            service.share_draft(
                self.session, self.plan, str(key), account_id=model.owner
            )
            model.draft = False

        def _expected(self):
            if len(self.people) != 2:
                return set()
            return {
                key
                for key, m in self.entries.items()
                if not m.deleted
                and not m.draft
                and all(m.yes.get(p) == m.version for p in self.people)
            }

        @invariant()
        def agreed_iff_both_said_yes_to_the_current_version(self):
            if not hasattr(self, "session"):
                return
            actual = {
                e.id for e, _ in agreed.agreed_entries(self.session, self.plan.id)
            }
            assert actual == self._expected()

        @invariant()
        def a_version_exactly_when_the_agreed_set_changed(self):
            if not hasattr(self, "session"):
                return
            signature = sorted(
                (str(k), self.entries[k].version) for k in self._expected()
            )
            versions = self.session.exec(
                select(PlanVersion)
                .where(PlanVersion.plan_id == self.plan.id)
                .order_by(col(PlanVersion.number))
            ).all()
            changed = signature != self.last_signature
            assert len(versions) == self.versions_seen + (1 if changed else 0)
            assert [v.number for v in versions] == list(range(1, len(versions) + 1))
            if versions:
                newest = versions[-1].snapshot
                assert agreed.signature(newest) == [tuple(s) for s in signature]
                texts = {e["id"]: e["text"] for e in newest["entries"]}
                assert texts == {str(k): self.entries[k].text for k in self._expected()}
            self.versions_seen = len(versions)
            self.last_signature = signature

        @invariant()
        def entry_rows_match_the_model(self):
            if not hasattr(self, "session"):
                return
            for entry in self.session.exec(
                select(Entry).where(Entry.plan_id == self.plan.id)
            ).all():
                model = self.entries[entry.id]
                assert entry.version == model.version
                assert entry.text == model.text
                assert (entry.deleted_at is not None) == model.deleted

    return ConsentMachine


@pytest.mark.slow
@pytest.mark.parametrize("partners_count", [2, 1])
def test_agreement_rules_hold_for_any_sequence(engine, partners_count):
    examples = EXAMPLES if partners_count == 2 else max(20, EXAMPLES // 10)
    run_state_machine_as_test(
        machine(engine, partners_count),
        settings=settings(
            max_examples=examples,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
            database=None,
        ),
    )
