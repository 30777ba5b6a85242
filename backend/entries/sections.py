"""The sections of a plan, in the order they are shown, with their prompts.

Personal sections hold each partner's own entries, side by side; shared
sections hold entries both partners write and agree on.

Each prompt says why we ask, and its examples are the kind of thing people
really write, not the polite version. Where the plan speaks of "the edge", a
person may also say it plainly ("wanting to die"): `plain_words` offers that,
and never asks for it. docs/practice.md maps each prompt to the practice.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    personal: bool
    prompt: str
    why: str  # "why we ask", in a sentence or two
    examples: tuple[str, ...]
    my_title: str = ""  # how a partner reads a personal section's title about themself
    plain_words: str = ""  # an offer to say it plainly, beside "the edge"
    reflect: str = ""  # a question to ask oneself, beside what one writes

    @property
    def answerable(self) -> bool:
        """Its entries can be answered by responses: "what we'll do when this
        happens"."""
        return self.key in ANSWERABLE


SECTIONS: tuple[Section, ...] = (
    Section(
        key="comes_up",
        title="What tends to come up",
        my_title="What tends to come up for me",
        personal=True,
        prompt="When life or this relationship gets hard, what tends to come up "
        "for you? Thoughts, feelings, old stories, the places your mind goes.",
        why="Said now, while things are calm, it is something you both already "
        "know about when it comes back, not a shock in the middle of it.",
        plain_words="If wanting to die is part of what comes up for you, you can "
        "say it here in plain words, or call it the edge. Whatever words are "
        "yours.",
        examples=(
            "Some weeks I want to die. It comes and goes, and it isn't always "
            "about us.",
            "When I feel like a burden I start believing everyone would be better "
            "off without me.",
            "I replay what was said and hear it as the worst version.",
        ),
    ),
    Section(
        key="bottom_lines",
        title="Bottom lines",
        my_title="My bottom lines",
        personal=True,
        prompt="How far can you honestly go, and where do you stop? If you got "
        "scared for your partner's life, what would you do? What could you not "
        "do, or not live with, even if they asked you to?",
        why="Limits said out loud ahead of time are not rules for the other "
        "person. They let you both know what each of you can really carry, "
        "before either of you is tested on it.",
        plain_words="You can write about being scared your partner might die, "
        "or might want to. Plain words are welcome; so is the edge.",
        examples=(
            "If I'm scared for your life I will tell you so, to your face, and "
            "stay. I won't call anyone behind your back.",
            "I can be with you when you want to die. I can't be the only person "
            "you tell: I need one other person I can talk to.",
            "If I truly believed you were about to die, I would call for help, "
            "even against your wishes. I'd rather you know that now.",
        ),
    ),
    Section(
        key="hot_buttons",
        title="Hot buttons",
        my_title="My hot buttons",
        personal=True,
        prompt="Which words, tones or situations set you off faster than you'd "
        "like? Think of what your partner might do without meaning any harm.",
        why="A hot button named ahead of time is one you can both see coming, "
        "and each can get its own answer: what we'll do when it happens.",
        examples=(
            "Being told to calm down.",
            'Being asked "are you safe?" again and again.',
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
        why="Your partner sees the reaction, not where it comes from. Knowing "
        "it ahead of time helps them read it as a reaction, not as the whole of "
        "you.",
        reflect="Where is this reaction coming from? Fear for someone's life, an "
        "old experience, feeling that the other has the upper hand, being "
        "tired, a gut feeling?",
        examples=(
            "I go quiet and stop answering messages.",
            "I get sharp and say things to push you away.",
            "When you sound worried about me I hide how bad it is. I think that "
            "comes from years of being watched.",
        ),
    ),
    Section(
        key="edge_responses",
        title="What we'll do if one of us gets to the edge",
        personal=False,
        prompt="When one of you is near the edge, what will each of you actually "
        "do? Who does what, and how will you both know it's time? Write it so it "
        "holds when neither of you is at your best.",
        why="Decided together now, it is something you both chose to follow "
        "later, not one of you deciding for the other in the moment.",
        plain_words="The edge can mean wanting to die. Say it in the words that "
        "feel right to both of you.",
        examples=(
            "If I say our word, you stay with me, even if I ask you to go.",
            "If you tell me you want to die, I ask what it's like for you before "
            "I do anything else.",
            "If we can't reach each other, we each call someone we trust, and "
            "tell each other afterwards.",
        ),
    ),
    Section(
        key="signals",
        title="Our signals",
        personal=False,
        prompt='A word, a text or a sign that says "I\'m near my edge" without '
        "needing a long talk.",
        why="On a bad day explaining can be out of reach. A small sign agreed "
        "ahead of time is enough to start what you planned.",
        examples=('Texting just the word "lighthouse".', "Leaving the blue mug out."),
    ),
    Section(
        key="feel_safe",
        title="What helps this relationship feel safe for both of us",
        personal=False,
        prompt="What, day to day, helps each of you trust the other and feel "
        "trusted? What makes it safe enough to tell the truth here, the hard "
        "parts too?",
        why="Safety here is not a promise that nothing bad will happen. It is being "
        "able to say what is real and still be trusted, for both of you.",
        examples=(
            "Saying when we need space, and when we'll be back.",
            "When I tell you how bad it is, you ask before you act.",
            "Checking what the other heard before answering.",
        ),
    ),
    Section(
        key="power",
        title="Power between us",
        personal=False,
        prompt="Where does each of you have power here, and how do you use it, "
        "lose it or share it? Money, the home, who others listen to, who can walk "
        "away, who gets worried about. What will you do when it feels unequal?",
        why="Feeling safe and having power go together. Talking about it, "
        "again and again, keeps either of you from quietly deciding for the "
        "other.",
        examples=(
            "When I'm scared for you I start deciding for you. If you say "
            '"you\'re taking over", I stop and ask.',
            "I earn most of the money, so leaving is easier for me. I won't use "
            "that in an argument.",
            "When one of us feels steamrolled, we pause, and the quieter one "
            "speaks first.",
        ),
    ),
    Section(
        key="differently",
        title="What we want to do differently this time",
        personal=False,
        prompt="Looking back at hard times, together or before you met, what do "
        "you want to go differently this time?",
        why="What went wrong before is the best guide to what to change, and "
        "naming it is each of you taking your own part.",
        examples=(
            "Not leaving a fight hanging overnight without a word.",
            "Not pretending I'm fine so that you stop asking.",
        ),
    ),
)

BY_KEY = {section.key: section for section in SECTIONS}
PERSONAL = tuple(s for s in SECTIONS if s.personal)
SHARED = tuple(s for s in SECTIONS if not s.personal)
RESPONSES = "edge_responses"
# Answered by responses ("what we'll do when this happens"): the reactivity
# a response can be negotiated for.
ANSWERABLE = ("hot_buttons", "reactions")

# A first visit walks the plan one section at a time, in the order the practice
# talks things through: what comes up and what we'd change, what makes it safe,
# limits and reactions, what we'll do at the edge, then power and hot buttons.
START_ORDER: tuple[Section, ...] = tuple(
    BY_KEY[key]
    for key in (
        "comes_up",
        "differently",
        "feel_safe",
        "bottom_lines",
        "reactions",
        "edge_responses",
        "signals",
        "power",
        "hot_buttons",
    )
)
