"""``threadcrew waits``: what the teams wait for."""

from __future__ import annotations

import typer

from storage import ConversationRecord, Database, WaitRecord

from ..session import thread_of
from ._shared import with_database

__all__ = ["app"]

app = typer.Typer(help="What the teams wait for: questions, approvals, choices of speaker.", no_args_is_help=True)


@app.command("list")
def waits_list() -> None:
    """The open waits, oldest first: which thread, what kind, who may answer, since when."""

    async def work(db: Database) -> list[tuple[WaitRecord, ConversationRecord]]:
        waits = await db.stores.waits.open_waits()
        return [(w, await db.stores.conversations.get(w.conversation_id)) for w in waits]

    found = with_database(work)
    if not found:
        typer.echo("nothing is waiting")
    for wait, record in found:
        who = ", ".join(wait.allowed_answerers) if wait.allowed_answerers else "anyone in the thread"
        prompt = " ".join(wait.prompt.split())
        typer.echo(
            f"{wait.id:>5}  {wait.created_at:%Y-%m-%d %H:%M}  {wait.kind:<8} {thread_of(record).key}  "
            f"for {wait.agent}; answered by {who}: {prompt[:80]}"
        )
