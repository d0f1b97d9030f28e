"""A second (and third) process for the storage concurrency tests.

    python -m tests.storage.worker append URL CONVERSATION_ID COUNT NAME
    python -m tests.storage.worker claim URL COUNT

Each works with several operations in flight and prints a JSON result on its last line.
"""

from __future__ import annotations

import asyncio
import json
import sys

from storage import Database, NewMessage

IN_FLIGHT = 8


async def gather_limited(coros: list) -> list:  # type: ignore[type-arg]
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one(coro):  # type: ignore[no-untyped-def]
        async with gate:
            return await coro

    return await asyncio.gather(*(one(c) for c in coros))


async def main(command: str, url: str, args: list[str]) -> object:
    async with Database(url) as db:
        if command == "append":
            cid, count, name = int(args[0]), int(args[1]), args[2]
            records = await gather_limited(
                [db.stores.messages.append(cid, NewMessage(role="user", content=f"{name}-{i}")) for i in range(count)]
            )
            return [r.seq for r in records]
        if command == "claim":
            count = int(args[0])
            won = await gather_limited([db.stores.events.claim("slack", f"Ev{i}") for i in range(count)])
            return [i for i, ok in enumerate(won) if ok]
    raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3:]))))
