"""Durable conversations on SQLAlchemy 2: SQLite by default, PostgreSQL in production.

Imports none of agents/, adapters/ or bot/. Stores hand out plain records, never ORM rows.
"""

__all__: list[str] = []
