"""The Discord platform: the real discord.py client against the fake Discord (REST and gateway)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from adapters import Button, OutboundMessage, Persona, PlatformError, ThreadEvent, ThreadRef
from adapters.discord import DiscordPlatform, MemoryStateStore
from tests.fakes.discord_api import BOT, CHANNEL, FORUM, GUILD, OTHER_CHANNEL, PEOPLE, FakeDiscord

PLANNER = Persona("planner", display_name="Plan Bot", icon_url="https://example.invalid/plan.png")


@dataclass
class Running:
    fake: FakeDiscord
    platform: DiscordPlatform
    events: list[ThreadEvent] = field(default_factory=list)
    seen: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def next_event(self, count: int = 1, within: float = 10) -> ThreadEvent:
        async with asyncio.timeout(within), self.seen:
            await self.seen.wait_for(lambda: len(self.events) >= count)
        return self.events[count - 1]


@asynccontextmanager
async def running(fake: FakeDiscord, **config: Any) -> AsyncIterator[Running]:
    platform = DiscordPlatform(fake.config(**config), store=MemoryStateStore())
    state = Running(fake, platform)
    snapshots: list[list[dict[str, Any]]] = []

    async def on_event(event: ThreadEvent) -> None:
        snapshots.append([dict(r) for i in fake.interactions for r in i.responses])
        async with state.seen:
            state.events.append(event)
            state.seen.notify_all()

    task = asyncio.create_task(platform.run(on_event))
    try:
        await fake.wait_connected()  # events flow from here (discord.py says "ready" 2 s later)
        yield state
    finally:
        await platform.close()
        await task


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as found:
        yield found


async def test_a_mention_in_a_channel_opens_a_thread_on_it_and_becomes_a_mention(fake: FakeDiscord) -> None:
    async with running(fake) as bot:
        said = await fake.say(CHANNEL, "alice", f"<@{BOT}> chart the **first ten** squares")
        event = await bot.next_event()
    assert event.kind == "mention"
    assert event.thread == ThreadRef("discord", GUILD, CHANNEL, said.id)
    assert event.text == "chart the **first ten** squares"
    assert event.author.id == PEOPLE["alice"]
    assert event.author.display_name == "alice"
    assert fake.threads[said.id]["name"] == "chart the first ten squares"
    assert fake.threads[said.id]["parent_id"] == CHANNEL


async def _thread(fake: FakeDiscord, bot: Running) -> ThreadRef:
    """A thread opened by a mention (the bot's first event)."""
    await fake.say(CHANNEL, "alice", f"<@{BOT}> chart the squares")
    return (await bot.next_event()).thread


async def test_every_message_in_a_thread_is_a_message_and_the_bots_own_are_ignored(fake: FakeDiscord) -> None:
    async with running(fake) as bot:
        thread = await _thread(fake, bot)
        await bot.platform.post(thread, OutboundMessage(PLANNER, "Plan: bars."))  # the webhook's post: ignored
        await fake.say(thread.thread_id, "bob", "Bars, please.")
        reply = await bot.next_event(2)
        await fake.say(thread.thread_id, "carol", f"<@{BOT}> and a line")
        mention = await bot.next_event(3)
    assert (reply.kind, reply.text, reply.thread) == ("message", "Bars, please.", thread)
    assert reply.author.roles == ("400",)  # bob is an approver by role
    assert (mention.kind, mention.text, mention.thread) == ("mention", "and a line", thread)
    assert len(bot.events) == 3


async def test_a_mention_in_a_forum_post_is_in_that_post_and_opens_no_thread(fake: FakeDiscord) -> None:
    post = fake.forum_post("Ideas for charts")
    async with running(fake) as bot:
        await fake.say(post, "alice", f"<@{BOT}> chart the squares")
        event = await bot.next_event()
    assert (event.kind, event.text) == ("mention", "chart the squares")
    assert event.thread == ThreadRef("discord", GUILD, FORUM, post)  # the forum is the post's parent channel
    assert not [path for method, path in fake.requests if method == "POST" and path.endswith("/threads")]


async def test_agents_post_through_the_channels_webhook_as_themselves_and_ping_nobody(fake: FakeDiscord) -> None:
    async with running(fake) as bot:
        thread = await _thread(fake, bot)
        first = await bot.platform.post(thread, OutboundMessage(PLANNER, "Plan: @everyone gets bars.", key="tc-1"))
        await bot.platform.post(thread, OutboundMessage(Persona("coder"), "Done."))
    [plan, done] = fake.in_channel(thread.thread_id)[-2:]
    assert plan.id == first
    assert (plan.username, plan.avatar_url, done.username) == ("Plan Bot", "https://example.invalid/plan.png", "coder")
    assert plan.webhook_id is not None
    assert plan.webhook_id == done.webhook_id  # one webhook per channel
    assert plan.allowed_mentions == {"parse": []}
    assert "@everyone" not in plan.text
    assert len(fake.calls("POST", f"/channels/{CHANNEL}/webhooks")) == 1


async def test_a_deleted_webhook_is_made_again(fake: FakeDiscord) -> None:
    async with running(fake) as bot:
        thread = await _thread(fake, bot)
        await bot.platform.post(thread, OutboundMessage(PLANNER, "one"))
        fake.delete_webhook(fake.in_channel(thread.thread_id)[-1].webhook_id or "")
        await bot.platform.post(thread, OutboundMessage(PLANNER, "two"))
    assert [m.text for m in fake.in_channel(thread.thread_id)] == ["one", "two"]
    assert len(fake.calls("POST", f"/channels/{CHANNEL}/webhooks")) == 2
    assert len(fake.webhooks) == 1


async def test_without_manage_webhooks_the_bot_posts_with_the_agents_name_in_bold(
    fake: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    fake.manage_webhooks = False
    async with running(fake) as bot:
        thread = await _thread(fake, bot)
        await bot.platform.post(thread, OutboundMessage(PLANNER, "Plan: bars."))
        await bot.platform.post(thread, OutboundMessage(PLANNER, "Plan: lines."))
    posts = fake.in_channel(thread.thread_id)
    assert [(m.username, m.text) for m in posts] == [
        ("threadcrew", "**Plan Bot:** Plan: bars."),
        ("threadcrew", "**Plan Bot:** Plan: lines."),
    ]
    assert all(m.webhook_id is None and m.allowed_mentions == {"parse": []} for m in posts)
    assert sum("Manage Webhooks" in r.message for r in caplog.records) == 1


async def test_a_button_press_is_deferred_at_once_and_becomes_a_button_event(fake: FakeDiscord) -> None:
    async with running(fake) as bot:
        thread = await _thread(fake, bot)
        buttons = (Button("Approve", "approve", "w7", "primary"), Button("Reject", "reject", "w7", "danger"))
        posted = await bot.platform.post(thread, OutboundMessage(PLANNER, "Run it?", buttons=buttons))
        [message] = [m for m in fake.in_channel(thread.thread_id) if m.id == posted]
        assert message.custom_ids() == ["tc:approve:w7", "tc:reject:w7"]
        pressed = await fake.click(message, "approve", "carol")
        event = await bot.next_event(2)
        deferred = list(pressed.responses)
        await bot.platform.post(thread, OutboundMessage(PLANNER, "Not you.", ephemeral_for=PEOPLE["carol"]))
    assert deferred == [{"type": 6, "flags": 0}]  # answered before the event was handed on
    assert (event.kind, event.action_id, event.value, event.ref_message_id) == ("button", "approve", "w7", posted)
    assert event.thread == thread
    assert event.author.id == PEOPLE["carol"]
    [private] = fake.private_to(PEOPLE["carol"])
    assert private.text == "Not you."
    assert private not in fake.in_channel(thread.thread_id)


async def test_the_slash_command_in_a_channel_is_a_command_without_a_thread(fake: FakeDiscord) -> None:
    async with running(fake) as bot:
        typed = await fake.slash(CHANNEL, "bob", "stop", "12345")
        event = await bot.next_event()
        await bot.platform.post(event.thread, OutboundMessage(PLANNER, "Stopping 1 run.", ephemeral_for=PEOPLE["bob"]))
    assert typed.responses[0] == {"type": 5, "flags": 64}  # "thinking", privately
    assert (event.kind, event.command, event.text) == ("command", "stop", "12345")
    assert event.thread == ThreadRef("discord", GUILD, CHANNEL, "")
    assert [m.text for m in fake.private_to(PEOPLE["bob"])] == ["Stopping 1 run."]


async def test_a_rate_limited_post_is_sent_after_retry_after(fake: FakeDiscord) -> None:
    async with running(fake) as bot:
        thread = await _thread(fake, bot)
        await bot.platform.post(thread, OutboundMessage(PLANNER, "warm up"))  # the webhook exists
        fake.rate_limit("POST", "/webhooks/", times=2)
        await bot.platform.post(thread, OutboundMessage(PLANNER, "after the limit"))
    assert [m.text for m in fake.in_channel(thread.thread_id)] == ["warm up", "after the limit"]
    assert len(fake.calls("POST", "/webhooks/")) == 4


async def test_find_posted_finds_a_message_by_its_key_after_a_restart(fake: FakeDiscord) -> None:
    async with running(fake) as bot:
        thread = await _thread(fake, bot)
        posted = await bot.platform.post(thread, OutboundMessage(PLANNER, "x" * 4500, key="tc-42"))
    async with running(fake) as again:
        found = await again.platform.find_posted(thread, "tc-42")
        missing = await again.platform.find_posted(thread, "tc-43")
    assert (found, missing) == (posted, None)
    assert len(fake.in_channel(thread.thread_id)) == 3  # 4,500 characters: three messages


async def test_an_update_replaces_the_text_and_takes_the_buttons_away(fake: FakeDiscord) -> None:
    async with running(fake) as bot:
        thread = await _thread(fake, bot)
        buttons = (Button("Approve", "approve", "w7"),)
        posted = await bot.platform.post(thread, OutboundMessage(PLANNER, "Run it?", buttons=buttons, key="tc-5"))
        await bot.platform.update(thread, posted, OutboundMessage(PLANNER, "Run it?\n\nApproved by bob.", key="tc-5"))
        found = await bot.platform.find_posted(thread, "tc-5")
    [message] = fake.in_channel(thread.thread_id)
    assert (message.text, message.components, message.edits) == ("Run it?\n\nApproved by bob.", [], 1)
    assert found == posted


async def test_an_archived_thread_is_reopened_when_the_team_posts_or_edits(fake: FakeDiscord) -> None:
    async with running(fake) as bot:
        thread = await _thread(fake, bot)
        fake.archive(thread.thread_id)
        posted = await bot.platform.post(thread, OutboundMessage(PLANNER, "back again"))
        fake.archive(thread.thread_id)  # a day later, someone presses the button of that message
        await bot.platform.update(thread, posted, OutboundMessage(PLANNER, "back again\n\nApproved by bob."))
    assert [m.text for m in fake.in_channel(thread.thread_id)] == ["back again\n\nApproved by bob."]
    assert fake.threads[thread.thread_id]["thread_metadata"]["archived"] is False
    assert fake.requests.count(("PATCH", f"/channels/{thread.thread_id}")) == 2  # reopened twice


async def test_open_thread_posts_in_the_channel_and_opens_a_thread_on_it(fake: FakeDiscord) -> None:
    async with running(fake) as bot:
        thread = await bot.platform.open_thread(GUILD, CHANNEL, OutboundMessage(PLANNER, "Nightly report\nmore"))
        await bot.platform.post(thread, OutboundMessage(PLANNER, "inside"))
    [starter] = fake.in_channel(CHANNEL)
    assert thread == ThreadRef("discord", GUILD, CHANNEL, starter.id)
    assert fake.threads[starter.id]["name"] == "Nightly report"
    assert [m.text for m in fake.in_channel(starter.id)] == ["inside"]


async def test_images_people_attach_come_with_the_event(fake: FakeDiscord) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    async with running(fake) as bot:
        thread = await _thread(fake, bot)
        await fake.say(
            thread.thread_id,
            "alice",
            "look",
            attachments=[("chart.png", "image/png", png), ("a.txt", "text/plain", b"x")],
        )
        event = await bot.next_event(2)
    assert [(a.name, a.mime_type, a.data) for a in event.attachments] == [("chart.png", "image/png", png)]
    assert [(f.name, f.reason) for f in event.skipped] == [("a.txt", "not_image")]  # named, so the team is told


async def test_the_gateway_refusing_the_message_content_intent_says_where_to_enable_it(fake: FakeDiscord) -> None:
    fake.refuse_intents = True
    platform = DiscordPlatform(fake.config())

    async def ignore(event: ThreadEvent) -> None:
        pass

    with pytest.raises(PlatformError, match="Privileged Gateway Intents > Message Content Intent"):
        await asyncio.wait_for(platform.run(ignore), 30)


async def test_a_plain_channel_message_names_its_own_thread_which_opens_when_the_team_posts(fake: FakeDiscord) -> None:
    async with running(fake) as bot:
        said = await fake.say(CHANNEL, "alice", "crew, please chart the squares")  # a trigger word, no mention
        event = await bot.next_event()
        assert not fake.threads  # nothing opened for a message that may not be for the bot
        await bot.platform.post(event.thread, OutboundMessage(PLANNER, "On it."))
    assert (event.kind, event.message_id, event.thread.thread_id) == ("message", said.id, said.id)
    assert fake.threads[said.id]["parent_id"] == CHANNEL
    assert [m.text for m in fake.in_channel(said.id)] == ["On it."]


async def test_other_bots_and_other_channels_are_ignored_unless_allowed(fake: FakeDiscord) -> None:
    async with running(fake, allowed_channels=frozenset({CHANNEL})) as bot:
        await fake.say(OTHER_CHANNEL, "alice", f"<@{BOT}> not here")
        typed = await fake.slash(OTHER_CHANNEL, "alice", "status")
        await fake.wait_for(lambda f: bool(f.private_to(PEOPLE["alice"])))
        await fake.say(CHANNEL, "alice", f"<@{BOT}> here")
        event = await bot.next_event()
    assert event.text == "here"
    assert len(bot.events) == 1
    assert typed.responses[0]["type"] == 5
    assert [m.text for m in fake.private_to(PEOPLE["alice"])] == ["threadcrew is not enabled in this channel."]
    assert OTHER_CHANNEL not in {t["parent_id"] for t in fake.threads.values()}


async def test_the_slash_command_in_a_thread_is_for_that_thread_and_is_acknowledged_at_once(fake: FakeDiscord) -> None:
    async with running(fake) as bot:
        thread = await _thread(fake, bot)
        typed = await fake.slash(thread.thread_id, "carol", "status")
        event = await bot.next_event(2)
    assert (event.kind, event.command, event.thread) == ("command", "status", thread)
    assert typed.responses[0] == {"type": 4, "flags": 64}  # a private "heard", not a lasting "thinking"


async def test_the_schedule_command_in_a_thread_is_the_channels_and_is_answered_privately_later(
    fake: FakeDiscord,
) -> None:
    async with running(fake) as bot:
        thread = await _thread(fake, bot)
        typed = await fake.slash_group(thread.thread_id, "carol", "schedule", "pause", name="digest")
        event = await bot.next_event(2)
    assert (event.kind, event.command, event.text, event.thread) == ("command", "schedule", "pause digest", thread)
    assert typed.responses[0] == {"type": 5, "flags": 64}  # "thinking", privately: the answer follows


async def test_the_channels_webhook_is_remembered_across_restarts(fake: FakeDiscord) -> None:
    store = MemoryStateStore()
    for text in ("before", "after"):
        platform = DiscordPlatform(fake.config(), store=store)

        async def ignore(event: ThreadEvent) -> None:
            pass

        task = asyncio.create_task(platform.run(ignore))
        thread = ThreadRef("discord", GUILD, CHANNEL, "")
        await platform.post(thread, OutboundMessage(PLANNER, text))
        await platform.close()
        await task
    assert [m.text for m in fake.in_channel(CHANNEL)] == ["before", "after"]
    assert len(fake.calls("POST", f"/channels/{CHANNEL}/webhooks")) == 1
    assert list(store.values) == [f"webhook:{CHANNEL}"]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_a_streamed_reply_is_edited_at_most_once_a_second_and_becomes_the_final_message(
    fake: FakeDiscord,
) -> None:
    clock = Clock()
    async with running(fake) as bot:
        thread = await _thread(fake, bot)
        bot.platform.clock = clock
        stream = await bot.platform.start_stream(thread, PLANNER)
        assert stream is not None
        for step, piece in enumerate(["Plan", ": the", " coder", " charts", " the squares."]):
            clock.now = step * 0.4  # five pieces in 1.6 s
            await stream.append(piece)
        [shown] = fake.in_channel(thread.thread_id)
        edits_while_streaming = shown.edits
        final = await stream.finish(OutboundMessage(PLANNER, "Plan: the coder charts the squares.", key="tc-8"))
        found = await bot.platform.find_posted(thread, "tc-8")
    assert edits_while_streaming == 1  # at 1.2 s; the pieces at 0.4, 0.8 and 1.6 s waited for their turn
    assert (final, found) == (shown.id, shown.id)
    assert shown.text == "Plan: the coder charts the squares."
    assert shown.username == "Plan Bot"


async def test_a_configured_shard_range_connects_as_those_shards(fake: FakeDiscord) -> None:
    async with running(fake, shard_ids=(0,), shard_count=1) as bot:
        said = await fake.say(CHANNEL, "alice", f"<@{BOT}> sharded")
        event = await bot.next_event()
    assert [i.get("shard") for i in fake.identified] == [[0, 1]]
    assert event.thread.thread_id == said.id
