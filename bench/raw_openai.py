"""The floor under a chat's model calls: the same requests through the bare ``openai`` client.

``turns`` reads a transcript (system message + history) on stdin and replays the calls a chat
of that length makes, in order: call i sends the system message and the first 2i+1 history
messages. It prints the seconds per call two ways: ``chat.completions.create`` (the client's
typed API) and ``client.post`` with the prepared body (the same HTTP, auth, retries, parsing).

``replay`` reads a list of recorded request message lists on stdin and posts each, in order,
as a framework made them; it prints the total seconds (median of the repeats).

``concurrent`` runs N loops of T calls at once, each loop growing its own transcript, as N
concurrent chats of T turns would; it prints the wall time twice: through the ``openai`` client
on the transport threadcrew uses (the client's aiohttp one), the floor under threadcrew's run;
and as bare aiohttp requests, the floor of the machine and the scripted server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

import aiohttp
import httpx2
import openai
from openai.types.chat import ChatCompletion

from bench._measure import emit, median


def client(port: int) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        base_url=f"http://127.0.0.1:{port}/v1",
        api_key="sk-bench",
        max_retries=0,
        http_client=openai.DefaultAioHttpClient(),
    )


async def turns(port: int, system: list[Any], history: list[Any], count: int, repeat: int) -> dict[str, float]:
    api = client(port)
    calls = [system + history[: 2 * i + 1] for i in range(count)]
    await api.chat.completions.create(model="gpt-4o-mini", messages=calls[0])  # warm up
    create, post = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        for messages in calls:
            await api.chat.completions.create(model="gpt-4o-mini", messages=messages)
        create.append((time.perf_counter() - start) / count)
        start = time.perf_counter()
        for messages in calls:
            await api.post(
                "/chat/completions", body={"model": "gpt-4o-mini", "messages": messages}, cast_to=ChatCompletion
            )
        post.append((time.perf_counter() - start) / count)
    await api.close()
    return {"create_per_call": median(create), "post_per_call": median(post)}


async def replay(port: int, requests: list[list[Any]], repeat: int) -> dict[str, float]:
    api = client(port)
    body = {"model": "gpt-4o-mini", "messages": requests[0]}
    await api.post("/chat/completions", body=body, cast_to=httpx2.Response)  # warm up
    totals = []
    for _ in range(repeat):
        start = time.perf_counter()
        for messages in requests:
            raw = await api.post(
                "/chat/completions", body={"model": "gpt-4o-mini", "messages": messages}, cast_to=httpx2.Response
            )
            json.loads(raw.content)
        totals.append(time.perf_counter() - start)
    await api.close()
    return {"total": median(totals)}


async def concurrent(port: int, loops: int, count: int) -> dict[str, float]:
    api = client(port)

    async def one() -> None:
        messages: list[dict[str, Any]] = [{"role": "system", "content": "s"}, {"role": "user", "content": "start"}]
        for _ in range(count):
            raw = await api.post(
                "/chat/completions", body={"model": "gpt-4o-mini", "messages": messages}, cast_to=httpx2.Response
            )
            answer = json.loads(raw.content)["choices"][0]["message"]["content"]
            messages = [*messages, {"role": "assistant", "content": answer}, {"role": "user", "content": "continue"}]

    await one()
    start = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(loops)))
    wall = time.perf_counter() - start
    await api.close()
    return {"wall": wall, "bare_wall": await bare_concurrent(port, loops, count)}


async def bare_concurrent(port: int, loops: int, count: int) -> float:
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1000)) as session:

        async def one() -> None:
            messages: list[dict[str, Any]] = [{"role": "system", "content": "s"}, {"role": "user", "content": "start"}]
            for _ in range(count):
                async with session.post(url, json={"model": "gpt-4o-mini", "messages": messages}) as response:
                    answer = json.loads(await response.read())["choices"][0]["message"]["content"]
                messages = [
                    *messages,
                    {"role": "assistant", "content": answer},
                    {"role": "user", "content": "continue"},
                ]

        await one()
        start = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(loops)))
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=["turns", "replay", "concurrent"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--turns", type=int, default=10)
    args = parser.parse_args()
    if args.scenario == "turns":
        transcript = json.load(sys.stdin)
        emit(
            asyncio.run(turns(args.port, transcript["system"], transcript["history"], transcript["turns"], args.repeat))
        )
    elif args.scenario == "replay":
        emit(asyncio.run(replay(args.port, json.load(sys.stdin), args.repeat)))
    else:
        emit(asyncio.run(concurrent(args.port, args.chats, args.turns)))


if __name__ == "__main__":
    main()
