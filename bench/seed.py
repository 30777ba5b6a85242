"""A seeded database, made through the domain services as people would make it.

Plans of two partners: each partner writes entries in every section, rewrites
each one a few times, and the other partner agrees to (or acknowledges) most of
them. The read plan stays fixed during a run; writes go to plans of their own.
"""

import random
import time
import uuid
from dataclasses import asdict, dataclass, field

from sqlalchemy import Engine
from sqlmodel import Session

from backend.auth.passwords import Hasher
from backend.auth.service import create_account
from backend.config import Settings
from backend.consent import service as consent
from backend.consent import versions as agreed
from backend.db import new_session
from backend.entries import service as entries
from backend.entries.sections import PERSONAL, RESPONSES, SHARED
from backend.models import Plan
from backend.plans import service as plans

PASSWORD = "a calm and quiet harbour in the bench"  # noqa: S105  (bench only)
WORDS = (  # noqa: SIM905  (prose reads better than a list of words)
    "when I go quiet it is not that I stop caring I need a little time and a glass "
    "of water before I can talk again please stay near sit with me and keep your "
    "voice low if I say our word we stop and take a walk around the block together "
    "I will text you the lighthouse word and you will call me back within the hour "
    "old stories come back when plans change at the last minute without a word "
    "being told to calm down makes it worse we each call someone we trust"
).split()


@dataclass
class Scale:
    """How much to seed; `full` for the benchmark, `smoke` for the test suite."""

    entries_per_partner: int = 40
    revisions: int = 3
    write_plans: int = 16
    live_plans: int = 100
    pdf_entries: int = 12  # three A4 pages

    @classmethod
    def smoke(cls) -> "Scale":
        return cls(
            entries_per_partner=4,
            revisions=2,
            write_plans=2,
            live_plans=2,
            pdf_entries=6,
        )


@dataclass
class Person:
    id: str
    email: str
    name: str
    token: str  # the session cookie's value


@dataclass
class EntryRef:
    id: str
    version: int
    writer: int  # 0 or 1: the partner who may change it (owner or creator)


@dataclass
class PlanRef:
    id: str
    partners: list[Person]
    entries: list[EntryRef] = field(default_factory=list)


@dataclass
class Seeded:
    read: PlanRef
    writes: list[PlanRef]
    live: list[PlanRef]
    pdf: PlanRef
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


class Seeder:
    def __init__(self, engine: Engine, settings: Settings, *, seed: int = 7) -> None:
        self.engine = engine
        self.settings = settings
        self.hasher = Hasher(settings)
        self.random = random.Random(seed)
        self.people = 0

    def text(self, words: int = 30) -> str:
        start = self.random.randrange(len(WORDS))
        picked = [WORDS[(start + i) % len(WORDS)] for i in range(words)]
        return " ".join(picked).capitalize() + "."

    def person(self, session: Session) -> Person:
        self.people += 1
        n = self.people
        email = f"bench{n}@example.org"
        name = f"Partner {n}"
        account, token = create_account(
            session,
            self.hasher,
            self.settings,
            email=email,
            display_name=name,
            password=PASSWORD,
        )
        return Person(str(account.id), email, name, token)

    def pair_plan(self, session: Session, title: str) -> tuple[PlanRef, Plan]:
        a, b = self.person(session), self.person(session)
        plan = plans.create_plan(session, account_id=uuid.UUID(a.id), title=title)
        invite = plans.make_invite(session, plan, account_id=uuid.UUID(a.id), days=7)
        plans.accept_invite(session, invite, account_id=uuid.UUID(b.id))
        return PlanRef(str(plan.id), [a, b]), plan

    def fill(
        self,
        session: Session,
        ref: PlanRef,
        plan: Plan,
        *,
        per_partner: int,
        revisions: int,
        agree_share: float,
    ) -> None:
        """Each partner writes `per_partner` entries across every section, rewrites
        each `revisions - 1` times; the other agrees to `agree_share` of them."""
        sections = [s.key for s in (*PERSONAL, *SHARED)]
        ids = [uuid.UUID(p.id) for p in ref.partners]
        made: list[tuple[uuid.UUID, int]] = []
        for i in range(per_partner * 2):
            writer = i % 2
            section = sections[(i // 2) % len(sections)]
            entry = entries.add_entry(
                session, plan, author_id=ids[writer], section=section, text=self.text()
            )
            for _ in range(revisions - 1):
                entry = entries.edit_entry(
                    session,
                    plan,
                    str(entry.id),
                    author_id=ids[writer],
                    base_version=entry.version,
                    text=self.text(),
                )
            made.append((entry.id, writer))
            ref.entries.append(EntryRef(str(entry.id), entry.version, writer))
        for n, (entry_id, writer) in enumerate(made):
            if (n % 100) >= agree_share * 100:
                continue
            entry = entries.get_entry(session, plan, entry_id, ids[1 - writer])
            consent.agree(
                session,
                plan,
                entry,
                account_id=ids[1 - writer],
                version=entry.version,
            )

    def link_some(self, session: Session, ref: PlanRef, plan: Plan) -> None:
        """A few shared responses say which personal entry they answer."""
        responses = [e for e in ref.entries if self._section(session, e) == RESPONSES]
        personal = [e for e in ref.entries if self._section(session, e) != RESPONSES]
        for response, target in zip(responses[:3], personal[:3], strict=False):
            entries.link_response(
                session,
                plan,
                response.id,
                target_id=target.id,
                account_id=uuid.UUID(ref.partners[0].id),
            )

    def _section(self, session: Session, ref: EntryRef) -> str:
        from backend.models import Entry

        return session.get_one(Entry, uuid.UUID(ref.id)).section


def seed(engine: Engine, settings: Settings, scale: Scale) -> Seeded:
    started = time.perf_counter()
    seeder = Seeder(engine, settings)
    with new_session(engine, write=True) as session:
        read, plan = seeder.pair_plan(session, "Our plan")
        seeder.fill(
            session,
            read,
            plan,
            per_partner=scale.entries_per_partner,
            revisions=scale.revisions,
            agree_share=0.75,
        )
        seeder.link_some(session, read, plan)
        writes = []
        for n in range(scale.write_plans):
            ref, plan = seeder.pair_plan(session, f"Writing plan {n + 1}")
            # everything agreed, so every save re-opens an entry and every agree
            # closes one again: each write makes a new plan version, as in life
            seeder.fill(
                session,
                ref,
                plan,
                per_partner=scale.entries_per_partner,
                revisions=scale.revisions,
                agree_share=1.0,
            )
            writes.append(ref)
        live = []
        for n in range(scale.live_plans):
            ref, plan = seeder.pair_plan(session, f"Live plan {n + 1}")
            seeder.fill(session, ref, plan, per_partner=2, revisions=1, agree_share=1.0)
            live.append(ref)
        pdf, plan = seeder.pair_plan(session, "Our printed plan")
        seeder.fill(
            session,
            pdf,
            plan,
            per_partner=scale.pdf_entries // 2,
            revisions=2,
            agree_share=1.0,
        )
    return Seeded(read, writes, live, pdf, time.perf_counter() - started)


def pdf_snapshot(engine: Engine, plan_id: str) -> dict:
    """The newest agreed snapshot of a plan, as the PDF route reads it."""
    with new_session(engine) as session:
        found = agreed.latest_version(session, uuid.UUID(plan_id))
        if found is None:
            raise RuntimeError("the PDF plan has nothing agreed")
        return dict(found.snapshot)
