"""Slack installations (multi-workspace OAuth) on this database, through slack-sdk's own store."""

from __future__ import annotations

from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore

from .database import Database

__all__ = ["slack_installation_store"]


def slack_installation_store(db: Database, client_id: str) -> AsyncSQLAlchemyInstallationStore:
    """slack-sdk's async installation store on ``db``'s engine; the migrations made its tables."""
    return AsyncSQLAlchemyInstallationStore(client_id=client_id, engine=db.engine)
