"""Whether the bot can open threads in a Discord channel: its permissions computed from the REST
payloads (server owner, administrators, roles, overwrites in Discord's order), and asked through
the real discord.py client against the fake Discord API."""

from __future__ import annotations

from typing import Any

import discord

from adapters import ChannelAccess
from adapters.discord import DiscordPlatform
from adapters.discord.channels import channel_access, permissions_in
from adapters.discord.webhooks import MemoryStateStore
from tests.fakes.discord_api import BOT, BOT_ROLE, GUILD, FakeDiscord

VIEW, SEND = discord.Permissions(view_channel=True).value, discord.Permissions(send_messages=True).value
THREADS = discord.Permissions(create_public_threads=True, send_messages_in_threads=True).value
ROLE, OTHER = "7", "8"


def guild(everyone: int = 0, role: int = VIEW | SEND | THREADS, owner: str = "1") -> dict[str, Any]:
    roles = [{"id": GUILD, "permissions": str(everyone)}, {"id": ROLE, "permissions": str(role)}]
    return {"id": GUILD, "owner_id": owner, "roles": [*roles, {"id": OTHER, "permissions": "0"}]}


def channel(*overwrites: tuple[str, int, int, int]) -> dict[str, Any]:
    shaped = [{"id": i, "type": t, "allow": str(a), "deny": str(d)} for i, t, a, d in overwrites]
    return {"id": "200", "type": 0, "name": "eng", "permission_overwrites": shaped}


MEMBER = {"roles": [ROLE, OTHER]}


def test_overwrites_apply_in_discords_order() -> None:
    assert permissions_in(channel(), guild(), MEMBER, BOT) == VIEW | SEND | THREADS
    # @everyone's deny, then the roles' allow: the role wins.
    assert permissions_in(channel((GUILD, 0, 0, SEND), (OTHER, 0, SEND, 0)), guild(), MEMBER, BOT) & SEND
    # A role's deny with another role's allow: allow wins among roles.
    assert permissions_in(channel((ROLE, 0, 0, SEND), (OTHER, 0, SEND, 0)), guild(), MEMBER, BOT) & SEND
    # The member's own overwrite comes last.
    assert not permissions_in(channel((OTHER, 0, SEND, 0), (BOT, 1, 0, SEND)), guild(), MEMBER, BOT) & SEND
    # Administrators and the owner pass every overwrite.
    admin = discord.Permissions(administrator=True).value
    assert permissions_in(channel((BOT, 1, 0, VIEW)), guild(role=admin), MEMBER, BOT) & VIEW
    assert permissions_in(channel((BOT, 1, 0, VIEW)), guild(role=0, owner=BOT), MEMBER, BOT) & VIEW


def test_a_channel_without_the_needed_permissions_is_refused_naming_them() -> None:
    assert channel_access(channel(), guild(), MEMBER, BOT) == ChannelAccess(True)
    refused = channel_access(channel((ROLE, 0, 0, SEND | THREADS)), guild(), MEMBER, BOT)
    assert refused == ChannelAccess(
        False,
        "I may not post in #eng: give threadcrew's role Send Messages, Create Public Threads, Send Messages in "
        "Threads there (Edit Channel > Permissions), then try again",
    )
    voice = {**channel(), "type": 2}
    assert channel_access(voice, guild(), MEMBER, BOT).reason.startswith("#eng is not a text channel")


async def test_the_platform_asks_discord_for_the_channel_the_server_and_its_own_member() -> None:
    async with FakeDiscord() as fake:
        platform = DiscordPlatform(fake.config(), store=MemoryStateStore())
        try:
            assert await platform.can_post_in(GUILD, "200") == ChannelAccess(True)
            fake.overwrites["201"] = [{"id": BOT_ROLE, "type": 0, "allow": "0", "deny": str(SEND)}]
            denied = await platform.can_post_in("", "201")
            assert denied.allowed is False
            assert denied.reason.startswith("I may not post in #channel-201: give threadcrew's role Send Messages")
            fake.hidden.add("201")
            hidden = await platform.can_post_in(GUILD, "201")
            assert (hidden.allowed, hidden.reason) == (
                False,
                "I cannot see a channel 201: check its id, or give threadcrew's role View Channel there",
            )
            assert (await platform.can_post_in(GUILD, "999")).allowed is False  # no such channel
            assert (await platform.can_post_in(GUILD, "#eng")).reason.startswith("'#eng' is not a Discord channel id")
            fake.rate_limit("GET", f"/guilds/{GUILD}", times=99)
            assert (await platform.can_post_in(GUILD, "200")).allowed is None  # Discord would not say
        finally:
            await platform.close()
