"""Slack installations (multi-workspace OAuth) and OAuth states in the bot's database, through
slack-sdk's own SQLAlchemy stores. The bot hands over its database engine; the migrations (in
storage/) made the tables."""

from __future__ import annotations

from typing import Any

from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore

__all__ = ["slack_installation_store", "slack_oauth_state_store"]


def slack_installation_store(engine: Any, client_id: str) -> AsyncSQLAlchemyInstallationStore:
    """slack-sdk's async installation store on ``engine`` (an async SQLAlchemy engine)."""
    return AsyncSQLAlchemyInstallationStore(client_id=client_id, engine=engine)


def slack_oauth_state_store(engine: Any, expiration_seconds: int = 600) -> AsyncSQLAlchemyOAuthStateStore:
    """slack-sdk's async OAuth state store (the install flow's CSRF states) on ``engine``."""
    return AsyncSQLAlchemyOAuthStateStore(
        expiration_seconds=expiration_seconds, engine=engine, table_name="slack_oauth_states"
    )
