"""``threadcrew discord``: the slash command registered with Discord, and the bot's invite link."""

from __future__ import annotations

from typing import Annotated

import typer

from adapters import AdapterError

from ..discord import discord_config
from ..errors import BotError
from ._shared import fail, load_settings, run_async

__all__ = ["app"]

app = typer.Typer(help="The Discord bot: its slash command and its invite link.", no_args_is_help=True)


@app.command("sync-commands")
def discord_sync_commands(
    guild: Annotated[
        str | None, typer.Option(help="Register in this guild only (at once); else globally (up to an hour).")
    ] = None,
) -> None:
    """Register /threadcrew with Discord (run it once, and after upgrading; never done on connect)."""
    from adapters.discord import sync_commands

    try:
        config = discord_config(load_settings())
    except BotError as exc:
        raise fail(str(exc)) from exc
    application = run_async(lambda: sync_commands(config, guild))
    where = f"in guild {guild}" if guild else "globally (Discord may take up to an hour to show it everywhere)"
    typer.echo(f"registered /{config.command} for application {application} {where}")


@app.command("invite-url")
def discord_invite_url(
    client_id: Annotated[
        str | None, typer.Option(help="The application id (default: read from THREADCREW_DISCORD_TOKEN).")
    ] = None,
) -> None:
    """Print the link that adds the bot to a server, with exactly the permissions it needs."""
    from adapters.discord import client_id_from_token, invite_url

    try:
        if client_id is None:
            token = load_settings().discord_token
            if token is None:
                raise fail("give --client-id (General Information > Application ID) or set THREADCREW_DISCORD_TOKEN", 2)
            client_id = client_id_from_token(token.get_secret_value())
        typer.echo(invite_url(client_id))
    except AdapterError as exc:
        raise fail(str(exc), 2) from exc
