"""Platform limits hold after every transformation (the persona's name, defusing, cutting), for any
text: long lines, code fences, emoji, 4,000-character words, sizes around the limits."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters import (
    Button,
    OutboundMessage,
    Persona,
    defuse_mass_mentions,
    limit_mentions,
    show_link_targets,
    split_markdown,
)
from adapters.discord.render import MESSAGE_LIMIT as DISCORD_LIMIT
from adapters.discord.render import find_key as find_discord_key
from adapters.discord.render import key_marker, thread_name, utf16_len
from adapters.discord.render import message_pieces as discord_pieces
from adapters.slack.render import (
    BLOCKS_LIMIT,
    BUTTON_LABEL_LIMIT,
    MARKDOWN_LIMIT,
    message_files,
    message_payload,
    update_payload,
)

SECTION_LIMIT = 3_000  # what Slack shows of a section block's text
ACROSS_BLOCKS = 13_000  # Slack's limit for the text of all blocks of one message together

_FENCE = re.compile(r"^\s*(```+|~~~+)")

words = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)
emoji = st.sampled_from(["🙂", "👩‍💻", "🇫🇷", "❤️", "𝄞"])
pieces = st.one_of(
    words,
    emoji,
    st.sampled_from(["\n", "\n\n", "```python\n", "```\n", "\n```\n", "~~~\n", "@here ", "<!channel> ", "**b** "]),
    st.sampled_from(["<@U1> ", "<@U999|bob> ", "[docs](https://x.example/a) ", "<https://y.example|here> "]),
    st.integers(1, 4_000).map(lambda n: "x" * n),  # one long word
    st.integers(1, 200).map(lambda n: "a line of text " * n + "\n"),
)
texts = st.one_of(
    st.lists(pieces, max_size=60).map("".join),
    st.integers(MARKDOWN_LIMIT - 40, MARKDOWN_LIMIT + 40).map(lambda n: "y" * n),  # around the limit
    st.integers(MARKDOWN_LIMIT - 40, MARKDOWN_LIMIT + 40).map(lambda n: ("word " * n)[:n]),
    st.tuples(st.integers(0, 3_000), st.integers(MARKDOWN_LIMIT - 3_100, MARKDOWN_LIMIT)).map(
        lambda t: "```python\n" + "print(1)\n" * (t[0] // 9) + "```\n" + "z" * t[1]
    ),
)
personas = st.builds(
    Persona,
    name=st.text(min_size=1, max_size=20),
    display_name=st.one_of(st.none(), st.text(max_size=120)),
)
buttons = st.lists(
    st.builds(Button, label=st.text(min_size=1, max_size=120), action_id=st.just("choose"), value=words),
    max_size=60,
)

checked = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def block_texts(payload: dict) -> list[str]:
    found = []
    for block in payload["blocks"]:
        if block["type"] == "markdown":
            found.append(block["text"])
        for element in block.get("elements", ()):
            found.append(element["text"]["text"])
    return found


def assert_within_slack_limits(payload: dict) -> None:
    blocks = payload["blocks"]
    assert 1 <= len(blocks) <= BLOCKS_LIMIT
    markdown = [b["text"] for b in blocks if b["type"] == "markdown"]
    assert sum(len(t) for t in markdown) <= MARKDOWN_LIMIT
    assert sum(len(t) for t in block_texts(payload)) <= ACROSS_BLOCKS + BLOCKS_LIMIT * BUTTON_LABEL_LIMIT
    for block in blocks:
        elements = block.get("elements", ())
        assert len(elements) <= 25
        for element in elements:
            assert len(element["text"]["text"]) <= BUTTON_LABEL_LIMIT
            assert len(element["value"]) <= 2_000
            assert len(element["action_id"]) <= 255
    assert len(payload["text"]) <= 40_000
    assert len(payload.get("username", "")) <= 80


@checked
@given(texts, personas, buttons, st.booleans())
def test_every_slack_post_is_within_slacks_limits_and_loses_nothing(
    text: str, persona: Persona, pressed: list[Button], with_personas: bool
) -> None:
    text = show_link_targets(limit_mentions(defuse_mass_mentions(text), "thread", {"U1"}))  # as the bot renders
    message = OutboundMessage(persona, text, key="tc-1", buttons=tuple(pressed))
    payload = message_payload(message, personas=with_personas)
    assert_within_slack_limits(payload)
    assert_within_slack_limits(update_payload(message))
    shown = payload["blocks"][0]["text"]
    whole = defuse_mass_mentions(text)
    if shown.endswith("is in the file below)_"):  # cut: the whole text goes as a file
        [file] = message_files(message, personas=with_personas)
        assert file.data.decode() == whole
    else:
        assert message_files(message, personas=with_personas) == []
        assert whole.strip() in shown or not whole.strip()


def test_a_reply_just_under_the_limit_without_personas_is_cut_with_its_name_counted() -> None:
    persona = Persona("coder", "Coder")
    message = OutboundMessage(persona, "x" * 11_995)
    payload = message_payload(message, personas=False)
    assert len(payload["blocks"][0]["text"]) <= MARKDOWN_LIMIT  # was 12,009: the name came after the cut
    assert payload["blocks"][0]["text"].startswith("**Coder:** ")
    [file] = message_files(message, personas=False)
    assert file.data.decode() == "x" * 11_995
    assert message_files(message, personas=True) == []  # with personas it fits


def fence_lines(text: str) -> int:
    return sum(1 for line in text.split("\n") if _FENCE.match(line))


def without_fences(text: str) -> str:
    kept = [line for line in text.split("\n") if not _FENCE.match(line)]
    return "".join("".join(kept).split())


@checked
@given(texts, st.sampled_from([20, 100, 2_000, SECTION_LIMIT]))
def test_split_markdown_keeps_every_piece_within_the_limit_and_every_character(text: str, limit: int) -> None:
    cut = split_markdown(text, limit)
    assert all(len(piece) <= limit for piece in cut)
    if fence_lines(text) % 2 == 0 and "~~~" not in text:  # a text whose code blocks are closed...
        assert all(fence_lines(piece) % 2 == 0 for piece in cut)  # ...is cut into pieces whose blocks are
    assert without_fences("\n".join(cut)) == without_fences(text)


@checked
@given(texts, personas, st.booleans(), st.integers(0, 10**12), st.lists(st.text(max_size=200), max_size=3))
def test_every_discord_message_is_within_discords_limit_and_loses_nothing(
    text: str, persona: Persona, with_personas: bool, message_id: int, notes: list[str]
) -> None:
    key = f"tc-{message_id}" if message_id else ""  # the keys the outbox gives (none: a message of no outbox)
    text = show_link_targets(limit_mentions(defuse_mass_mentions(text), "thread", {"U1"}))  # as the bot renders
    message = OutboundMessage(persona, text, key=key)
    pieces = discord_pieces(message, personas=with_personas, notes=tuple(notes))
    assert all(utf16_len(piece) <= DISCORD_LIMIT for piece in pieces)
    assert find_discord_key(pieces[0]) == (key or None)
    assert pieces[0].endswith(key_marker(key))
    whole = defuse_mass_mentions(text)
    shown = "\n".join([pieces[0].removesuffix(key_marker(key)), *pieces[1:]])
    assert without_fences(whole) in without_fences(shown)  # every character, in order
    assert all(without_fences(note) in without_fences(shown) for note in notes)
    assert 1 <= len(thread_name(text)) <= 100
