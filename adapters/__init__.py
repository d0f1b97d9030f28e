"""Chat platforms (Slack, Discord, the console) translated to and from the neutral thread model.

Imports none of agents/, storage/ or bot/. Platform words (ts, thread_ts, guild_id) stay
inside adapters/slack and adapters/discord.
"""

__all__: list[str] = []
