"""Latency of running ``print(1)``: local, local under bubblewrap, Docker cold and warm.

python -m bench.code_execution [--runs 20] [--image threadcrew-python:bookworm]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable

from agents import CodeBlock, LocalCommandLineCodeExecutor
from agents.coding.docker import DockerCommandLineCodeExecutor, docker_client
from agents.coding.local import bubblewrap_works
from agents.errors import CodeExecutionError

BLOCK = [CodeBlock("print(1)", "python")]


async def median_ms(runs: int, once: Callable[[], Awaitable[None]]) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        await once()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


async def local(runs: int, sandbox: bool) -> float:
    with tempfile.TemporaryDirectory() as work:
        executor = LocalCommandLineCodeExecutor(work_dir=work, sandbox=sandbox)

        async def once() -> None:
            assert (await executor.a_execute_code_blocks(BLOCK)).output == "1\n"

        return await median_ms(runs, once)


async def docker_cold(runs: int, image: str) -> float:
    async def once() -> None:
        executor = DockerCommandLineCodeExecutor(image=image)
        try:
            assert (await executor.a_execute_code_blocks(BLOCK)).output == "1\n"
        finally:
            await executor.stop()

    return await median_ms(runs, once)


async def docker_warm(runs: int, image: str) -> float:
    executor = DockerCommandLineCodeExecutor(image=image)
    try:
        await executor.a_execute_code_blocks(BLOCK)

        async def once() -> None:
            assert (await executor.a_execute_code_blocks(BLOCK)).output == "1\n"

        return await median_ms(runs, once)
    finally:
        await executor.stop()


async def main(runs: int, image: str) -> None:
    print(f"\n== print(1), median of {runs}")
    print(f"local subprocess                            : {await local(runs, sandbox=False):8.1f} ms")
    if bubblewrap_works():
        print(f"local under bubblewrap                      : {await local(runs, sandbox=True):8.1f} ms")
    else:
        print("local under bubblewrap                      :  skipped (bubblewrap does not work here)")
    try:
        docker_client().close()
    except CodeExecutionError as exc:
        print(f"docker                                      :  skipped ({exc})")
        return
    print(f"docker, a new container each time           : {await docker_cold(runs, image):8.1f} ms")
    print(f"docker, the conversation's container reused : {await docker_warm(runs, image):8.1f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--image", default=os.environ.get("THREADCREW_TEST_IMAGE", "threadcrew-python:bookworm"))
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.image))
