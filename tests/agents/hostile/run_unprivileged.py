"""Run attacks through the local executor as whatever user this process is (the test starts it as nobody).

Usage: ``python run_unprivileged.py BOT_JSON NAME...``; prints one JSON object: each attack's
exit code, output and returned files (name, size, data as latin-1 or None).
"""

from __future__ import annotations

import asyncio
import json
import sys

from agents import CodeBlock, LocalCommandLineCodeExecutor

from .attacks import Bot, code
from .conftest import LIMITS


async def main(bot: Bot, names: list[str]) -> dict[str, object]:
    executor = LocalCommandLineCodeExecutor(
        timeout=20, work_dir=bot.work_dir, sandbox="bubblewrap", limits=LIMITS, python=sys.executable
    )
    results: dict[str, object] = {}
    for name in names:
        if name == "escape_timeout":
            executor.timeout = 3
        result = await executor.a_execute_code_blocks([CodeBlock(code(name, bot), "python")])
        files = [(f.name, f.size, f.data.decode("latin-1") if f.data is not None else None) for f in result.files]
        results[name] = {"exit_code": result.exit_code, "output": result.output, "files": files}
    return results


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(Bot.from_json(json.loads(sys.argv[1])), sys.argv[2:]))))
