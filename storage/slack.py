"""Slack installations (multi-workspace OAuth) and OAuth states on this database, through slack-sdk's own stores."""

from __future__ import annotations

from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore

from .database import Database

__all__ = ["slack_installation_store", "slack_oauth_state_store"]


def slack_installation_store(db: Database, client_id: str) -> AsyncSQLAlchemyInstallationStore:
    """slack-sdk's async installation store on ``db``'s engine; the migrations made its tables."""
    return AsyncSQLAlchemyInstallationStore(client_id=client_id, engine=db.engine)


def slack_oauth_state_store(db: Database, expiration_seconds: int = 600) -> AsyncSQLAlchemyOAuthStateStore:
    """slack-sdk's async OAuth state store (the install flow's CSRF states) on ``db``'s engine."""
    return AsyncSQLAlchemyOAuthStateStore(
        expiration_seconds=expiration_seconds, engine=db.engine, table_name="slack_oauth_states"
    )
