"""``threadcrew transcript``: a thread's conversation as it was posted, as JSON, and its runtime log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from storage import ConversationRecord, Database, NotFoundError

from ..rendering import message_text
from ..session import thread_of
from ._shared import with_database

__all__ = ["THREAD_HELP", "app"]

app = typer.Typer(help="What was said in a thread's conversation.", no_args_is_help=True)

THREAD_HELP = (
    "A conversation number (see `transcript list`), a thread key platform:workspace:channel:thread, or 'console'."
)


async def _find_conversation(db: Database, thread: str) -> ConversationRecord:
    stores = db.stores
    if thread.isdigit():
        return await stores.conversations.get(int(thread))
    if thread == "console":
        thread = "console:local:terminal:main"
    parts = thread.split(":")
    if len(parts) != 4:
        raise NotFoundError(f"{thread!r} is not a conversation: give {THREAD_HELP[2:]}")
    found = await stores.conversations.find(*parts)
    if found is None:
        raise NotFoundError(f"no conversation in the thread {thread}; `threadcrew transcript list` shows them")
    return found


@app.command("list")
def transcript_list(limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20) -> None:
    """The conversations changed last."""
    records = with_database(lambda db: db.stores.conversations.recent(limit))
    if not records:
        typer.echo("no conversations yet")
    for r in records:
        key = thread_of(r).key
        when = f"{r.updated_at:%Y-%m-%d %H:%M}"
        typer.echo(f"{r.id:>5}  {when}  {r.status:<9} {r.team:<12} {r.last_seq:>4} messages  {key}")


@app.command("show")
def transcript_show(thread: Annotated[str, typer.Argument(help=THREAD_HELP)]) -> None:
    """A conversation's messages, as they were posted."""

    async def work(db: Database) -> tuple[ConversationRecord, list[Any]]:
        record = await _find_conversation(db, thread)
        return record, await db.stores.messages.list_since(record.id)

    record, messages = with_database(work)
    typer.echo(f"conversation {record.id}: team {record.team}, {record.status}, {len(messages)} messages")
    for m in messages:
        who = m.name or m.author_id or m.role
        if m.author_kind == "human":
            who = f"{m.author_id} (as {m.name})" if m.name else str(m.author_id)
        typer.echo(f"\n[{m.seq}] {who}  {m.created_at:%H:%M:%S}{'' if m.posted_at else '  (not posted yet)'}")
        typer.echo(message_text(m))


@app.command("export")
def transcript_export(
    thread: Annotated[str, typer.Argument(help=THREAD_HELP)],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")] = None,
) -> None:
    """A conversation and its messages as JSON (files by name, type and size)."""

    async def work(db: Database) -> dict[str, Any]:
        record = await _find_conversation(db, thread)
        messages = await db.stores.messages.list_since(record.id)
        return {
            "conversation": {
                "id": record.id,
                "thread": {
                    "platform": record.platform,
                    "workspace_id": record.workspace_id,
                    "channel_id": record.channel_id,
                    "thread_id": record.thread_id,
                },
                "team": record.team,
                "status": record.status,
                "usage": {
                    "prompt_tokens": record.prompt_tokens,
                    "completion_tokens": record.completion_tokens,
                    "cost_usd": record.cost,
                },
                "created_at": record.created_at.isoformat(),
                "updated_at": record.updated_at.isoformat(),
            },
            "messages": [_exported(m) for m in messages],
        }

    document = json.dumps(with_database(work), indent=2, ensure_ascii=False)
    if output is None:
        typer.echo(document)
    else:
        output.write_text(document + "\n")
        typer.echo(f"wrote {output}")


def _exported(m: Any) -> dict[str, Any]:
    attachments = dict(m.attachments or {})
    files = [{k: v for k, v in f.items() if k != "data"} for f in attachments.pop("files", ())]
    return {
        "seq": m.seq,
        "role": m.role,
        "name": m.name,
        "author_kind": m.author_kind,
        "author_id": m.author_id,
        "content": m.content,
        "tool_calls": m.tool_calls,
        "tool_responses": m.tool_responses,
        "files": files,
        **({"buttons": attachments["buttons"]} if "buttons" in attachments else {}),
        "created_at": m.created_at.isoformat(),
        "posted_at": m.posted_at.isoformat() if m.posted_at else None,
        "platform_message_id": m.platform_message_id,
    }


@app.command("log")
def transcript_log(
    thread: Annotated[str, typer.Argument(help=THREAD_HELP)],
    kind: Annotated[
        list[str] | None,
        typer.Option(help="Only these: chat_completions, agents, events, function_calls, oai_wrappers, oai_clients."),
    ] = None,
) -> None:
    """What the runtime log recorded in a conversation (THREADCREW_RUNTIME_LOGGING), one JSON object a line."""

    async def work(db: Database) -> list[Any]:
        record = await _find_conversation(db, thread)
        return await db.stores.runtime_log.for_conversation(record.id, kinds=kind or ())

    records = with_database(work)
    if not records:
        typer.echo("nothing logged in this conversation (is THREADCREW_RUNTIME_LOGGING on?)", err=True)
    for r in records:
        line = {"type": r.kind, "session_id": r.session_id, "source_name": r.source_name, **r.record}
        typer.echo(json.dumps({**line, "logged_at": r.created_at.isoformat()}, ensure_ascii=False))
