"""The sections of a plan, in the order they are shown, with their prompts.

Personal sections hold each partner's own entries, side by side; shared
sections hold entries both partners write and agree on.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    personal: bool
    prompt: str
    examples: tuple[str, ...]
    my_title: str = ""  # how a partner reads a personal section's title about themself


SECTIONS: tuple[Section, ...] = (
    Section(
        key="comes_up",
        title="What tends to come up",
        my_title="What tends to come up for me",
        personal=True,
        prompt="What happens inside you when things get hard between you? Thoughts, "
        "feelings, old stories that come back.",
        examples=(
            "I start to believe nobody would notice if I disappeared.",
            "I replay what was said and hear it as the worst version.",
        ),
    ),
    Section(
        key="bottom_lines",
        title="Bottom lines",
        my_title="My bottom lines",
        personal=True,
        prompt="What do you need to be true for you to feel safe enough, even when "
        "you disagree? What can't you live with?",
        examples=(
            "No shouting. If it starts, I will leave the room and come back.",
            "I won't be threatened with being left.",
        ),
    ),
    Section(
        key="hot_buttons",
        title="Hot buttons",
        my_title="My hot buttons",
        personal=True,
        prompt="Which words, tones or situations light you up faster than you'd like?",
        examples=(
            "Being told to calm down.",
            "Plans changing at the last minute without a word.",
        ),
    ),
    Section(
        key="reactions",
        title="How I'm likely to react",
        my_title="How I'm likely to react when I feel untrusting or disconnected",
        personal=True,
        prompt="When you feel untrusting or far apart, what do you tend to do? "
        "Honest is more useful than kind here.",
        examples=(
            "I go quiet and stop answering messages.",
            "I get sharp and say things to push you away.",
        ),
    ),
    Section(
        key="edge_responses",
        title="What we'll do if one of us gets to the edge",
        personal=False,
        prompt="When one of you is close to the edge, what will each of you do? Keep "
        "it concrete: who does what, and how you'll know it's time.",
        examples=(
            "If I say our word, you stay with me, even if I ask you to go.",
            "We each call someone we trust if we can't reach each other.",
        ),
    ),
    Section(
        key="signals",
        title="Our signals",
        personal=False,
        prompt='A word, a text or a sign that says "I\'m near my edge" without needing '
        "a long talk.",
        examples=('Texting just the word "lighthouse".', "Leaving the blue mug out."),
    ),
    Section(
        key="feel_safe",
        title="What helps this relationship feel safe for both of us",
        personal=False,
        prompt="What, day to day, helps each of you trust the other?",
        examples=(
            "Saying when we need space, and when we'll be back.",
            "Checking what the other heard before answering.",
        ),
    ),
    Section(
        key="differently",
        title="What we want to do differently this time",
        personal=False,
        prompt="Looking back at hard times, what do you want to change?",
        examples=("Not leaving a fight hanging overnight without a word.",),
    ),
)

BY_KEY = {section.key: section for section in SECTIONS}
PERSONAL = tuple(s for s in SECTIONS if s.personal)
SHARED = tuple(s for s in SECTIONS if not s.personal)
RESPONSES = "edge_responses"
