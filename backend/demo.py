"""Two demo partners and a realistic sample plan, to look around with."""

from sqlmodel import Session

from backend.auth import service as accounts
from backend.auth.passwords import Hasher
from backend.config import LOCAL_URL, Settings
from backend.consent import service as consent
from backend.db import make_engine, write_session
from backend.entries import service as entries
from backend.models import Account, Entry, Plan
from backend.notes import service as feedback
from backend.plans import service as plans

PEOPLE = (
    ("Sam", "sam.demo@example.org", "a quiet lighthouse by the sea"),
    ("Alex", "alex.demo@example.org", "the blue mug on the windowsill"),
)
SAM_WRITES = (
    ("comes_up", "I start to believe nobody would notice if I disappeared."),
    ("reactions", "I go quiet and stop answering messages, sometimes for a day."),
    ("bottom_lines", "No threats of leaving in the middle of a fight."),
)
ALEX_WRITES = (
    ("hot_buttons", "Being told to calm down."),
    ("reactions", "I get sharp and say things to push you away."),
    ("comes_up", "Old stories about being too much for people."),
)
# reflective feedback from Alex, asking back, and Sam's answer in the thread
FEEDBACK = {
    "what_i_see": "When the evening goes quiet, I catch myself deciding that "
    "something must be wrong, and I start reading every silence as a warning.",
    "what_i_feel": "I'm tense and I hover, and then I feel guilty for hovering.",
    "what_i_need": "To talk about what our word means, so a quiet evening can "
    "just be a quiet evening.",
}
ANSWER = "I didn't know the quiet read that way. Mostly it's me resting. Sunday?"
SHARED = (
    (
        "edge_responses",
        "If one of us texts our word, the other calls back within the "
        "hour, even if it's late, and stays on the line until we both say it's okay to "
        "hang up.",
    ),
    ("signals", 'Texting just the word "lighthouse".'),
    ("feel_safe", "Saying when we need space, and when we'll be back."),
    ("differently", "Not leaving a fight hanging overnight without a word."),
    (
        "power",
        "When I'm scared for you I start deciding for you. If you say "
        '"you\'re taking over", I stop and ask.',
    ),
)
# Sam's answer to Alex's first hot button: what we'll do when it happens
CALM_DOWN = "If I hear myself telling you to calm down, I stop and ask what you need."


def seed_demo(settings: Settings) -> str:
    """Seed once; running it again only says how to sign in."""
    engine = make_engine(settings.database_url)
    hasher = Hasher(settings)
    with write_session(engine) as session:
        if accounts.find_by_email(session, PEOPLE[0][1]) is None:
            _seed(session, hasher, settings)
    engine.dispose()
    lines = [f"  {name}: {email} / {password}" for name, email, password in PEOPLE]
    return (
        "Demo partners:\n"
        + "\n".join(lines)
        + "\n\nStart Mutual with `make run`, then open "
        f"{settings.origin(LOCAL_URL)}/login\n"
        "and sign in as one partner here and as the other in a private window."
    )


def _seed(session: Session, hasher: Hasher, settings: Settings) -> None:
    sam, alex = (
        accounts.create_account(
            session,
            hasher,
            settings,
            email=email,
            display_name=name,
            password=password,
        )[0]
        for name, email, password in PEOPLE
    )
    plan = plans.create_plan(
        session, account_id=sam.id, title="Our plan for the hard days"
    )
    token = plans.make_invite(session, plan, account_id=sam.id, days=7)
    plans.accept_invite(session, token, account_id=alex.id)
    mine = _write(session, plan, sam, SAM_WRITES)
    theirs = _write(session, plan, alex, ALEX_WRITES)
    shared = [
        entries.add_entry(
            session,
            plan,
            author_id=(sam if i % 2 else alex).id,
            section=section,
            text=text,
        )
        for i, (section, text) in enumerate(SHARED)
    ]
    entries.link_response(
        session, plan, str(shared[0].id), target_id=str(mine[0].id), account_id=alex.id
    )
    entries.link_response(
        session, plan, str(shared[0].id), target_id=str(theirs[1].id), account_id=sam.id
    )
    paired = entries.add_response(
        session, plan, str(theirs[0].id), author_id=sam.id, text=CALM_DOWN
    )
    for entry in (*mine[:2], shared[0], shared[1], shared[4], paired):
        _agree(session, plan, entry, alex if entry.created_by == sam.id else sam)
    for entry in (*theirs[:2], shared[2]):
        _agree(session, plan, entry, sam if entry.created_by == alex.id else alex)
    entries.edit_entry(
        session,
        plan,
        str(shared[2].id),
        author_id=alex.id,
        base_version=1,
        text="Saying when we need space, when we'll be back, and keeping that promise.",
    )
    consent.raise_flag(
        session,
        shared[3],
        account_id=sam.id,
        note="Can we talk about what 'a word' means at 2am?",
    )
    entries.add_entry(
        session,
        plan,
        author_id=sam.id,
        section="hot_buttons",
        text="Plans changing at the last minute. (Still thinking.)",
        draft=True,
    )
    note = feedback.write_note(
        session,
        plan,
        author_id=alex.id,
        parts=FEEDBACK,
        entry_id=str(shared[1].id),
        debrief_id=None,
        draft_id=None,
        send=True,
        asks_back=True,
    )
    feedback.write_reply(
        session,
        plan,
        str(note.id),
        author_id=sam.id,
        body=ANSWER,
        draft_id=None,
        send=True,
    )


def _write(
    session: Session, plan: Plan, who: Account, items: tuple[tuple[str, str], ...]
) -> list[Entry]:
    return [
        entries.add_entry(session, plan, author_id=who.id, section=section, text=text)
        for section, text in items
    ]


def _agree(session: Session, plan: Plan, entry: Entry, who: Account) -> None:
    consent.agree(session, plan, entry, account_id=who.id, version=entry.version)
