"""Run the benchmarks and print numbers and threadcrew/AG2 ratios.

    python3 scripts/dev.py bench                 # everything, AG2 classic included
    python3 scripts/dev.py bench --no-ag2        # threadcrew only
    python3 scripts/dev.py bench --only code     # one part (see --only's choices)
    python3 scripts/dev.py bench --turns 50 --chats 50

The scripted OpenAI-compatible server runs in its own process; each framework runs in its
own interpreter (AG2 classic, ``ag2==0.14.0``, in ``bench/.venv-ag2``, created on first use).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import venv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
AG2_VENV = ROOT / "bench" / ".venv-ag2"
AG2_REQUIREMENT = "ag2[openai]==0.14.0"


@contextlib.contextmanager
def scripted_server(delay: float, rotate: str = "") -> Iterator[int]:
    """The scripted server in a subprocess, answering every request with "ok" (or the next of
    ``rotate``'s comma-separated replies) after ``delay``."""
    rotation = ["--rotate", rotate] if rotate else []
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.openai_server", "--reply", "ok", "--delay", str(delay), *rotation],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError(f"the scripted server did not start: {line!r}")
        yield int(line.split()[1])
    finally:
        proc.terminate()
        proc.wait(10)


def run_json(command: list[str], stdin: str | None = None) -> dict[str, Any]:
    done = subprocess.run(command, cwd=ROOT, input=stdin, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def ensure_ag2() -> Path:
    python = AG2_VENV / "bin" / "python"
    stamp = AG2_VENV / ".installed"
    if not stamp.exists() or stamp.read_text() != AG2_REQUIREMENT:
        print(f"creating {AG2_VENV} with {AG2_REQUIREMENT} ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(AG2_VENV)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", AG2_REQUIREMENT], check=True)
        stamp.write_text(AG2_REQUIREMENT)
    return python


def ratio(ours: float, theirs: float | None) -> str:
    return f"{ours / theirs:.2f}x" if theirs else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-ag2", action="store_true", help="skip AG2 classic")
    parser.add_argument("--turns", type=int, default=100, help="turns of the long two-agent chat")
    parser.add_argument("--chats", type=int, default=200, help="concurrent chats")
    parser.add_argument("--chat-turns", type=int, default=10, help="turns of each concurrent chat")
    parser.add_argument("--latency", type=float, default=0.2, help="model latency of the concurrent run, seconds")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1000, help="concurrent threads of the thread runtime")
    parser.add_argument("--thread-turns", type=int, default=10, help="agent messages in each thread")
    parser.add_argument("--scale-threads", type=int, default=1000, help="threads of the scale-out benchmark")
    parser.add_argument("--scale-turns", type=int, default=5, help="agent messages in each scale-out thread")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("THREADCREW_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="the PostgreSQL server of the scale-out benchmark (an admin URL: it makes a database per run)",
    )
    parser.add_argument("--steady-rate", type=float, default=100, help="new mentions a second of the steady load")
    parser.add_argument("--steady-seconds", type=float, default=30, help="how long the steady load lasts (0: skip)")
    parser.add_argument(
        "--steady-max-steps", type=int, default=60, help="the steady load again with THREADCREW_MAX_STEPS (0: skip)"
    )
    parser.add_argument("--long-steps", type=int, default=500, help="agent messages of the one long thread")
    parser.add_argument(
        "--only",
        choices=["chats", "groupchat", "code", "storage", "threads", "ack", "logging", "scaleout"],
        help="run one part of the benchmarks",
    )
    args = parser.parse_args()
    if args.only in (None, "chats"):
        chats(args)
    if args.only in (None, "threads"):
        threads(args)
    if args.only in (None, "groupchat"):
        groupchat(args)
    if args.only in (None, "code"):
        subprocess.run([sys.executable, "-m", "bench.code_execution"], cwd=ROOT, check=True)
    if args.only in (None, "storage"):
        subprocess.run([sys.executable, "-m", "bench.storage"], cwd=ROOT, check=True)
    if args.only in (None, "ack"):
        subprocess.run([sys.executable, "-m", "bench.ack"], cwd=ROOT, check=True)
    if args.only in (None, "logging"):
        subprocess.run([sys.executable, "-m", "bench.runtime_logging"], cwd=ROOT, check=True)
    if args.only in (None, "scaleout"):
        scaleout(args)


def scaleout(args: argparse.Namespace) -> None:
    threads, turns = args.scale_threads, args.scale_turns
    print(
        f"\n== {threads} threads x {turns} agent messages through separate processes on PostgreSQL (an intake in "
        f"Slack's HTTP mode, 1 then 2 workers), {args.latency * 1000:.0f} ms model latency"
    )
    print(f"   ({os.cpu_count()} cores, shared with whatever else runs: the processes compete for them)")
    size = ["--threads", str(threads), "--turns", str(turns), "--postgres", args.postgres]
    with scripted_server(args.latency) as port:
        at = ["--port", str(port)]
        runs = {n: run_json([sys.executable, "-m", "bench.scaleout", *at, "--workers", str(n), *size]) for n in (1, 2)}
        floor = run_json(
            [
                sys.executable,
                "-m",
                "bench.raw_openai",
                "concurrent",
                *at,
                "--chats",
                str(threads),
                "--turns",
                str(turns),
            ]
        )
    messages = threads * turns

    def line(label: str, wall: float) -> str:
        return f"{label:<44}: {wall:8.2f} s, {messages / wall:8.1f} messages/s"

    print(line("bare openai client, same model requests", floor["wall"]))
    for n, result in runs.items():
        done = f"   ({result['threads']} threads finished, {result['messages']} messages)"
        print(line(f"threadcrew, {n} worker process{'es' if n > 1 else ''}", result["wall"]) + done)
    print(f"{'2 workers / 1 worker, throughput':<44}: {ratio(runs[1]['wall'], runs[2]['wall']):>8}")
    print(f"{'1 worker / bare openai client, wall time':<44}: {ratio(runs[1]['wall'], floor['wall']):>8}")


def goal(label: str, figure: str, target: str, met: bool, versus: str = "") -> str:
    """One goal line: what was measured, the goal, met or not, and the ratio to a floor of this run."""
    return f"goal, {label:<40}: {figure:>12}   goal {target:<14} {'met' if met else 'NOT met':<8} {versus}".rstrip()


def threads(args: argparse.Namespace) -> None:
    ideal = args.thread_turns * args.latency
    print(
        f"\n== {args.threads} threads x {args.thread_turns} agent messages through the bot (in-memory platform, "
        f"SQLite), {args.latency * 1000:.0f} ms model latency; load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    size = ["--turns", str(args.thread_turns), "--latency", str(args.latency)]
    with scripted_server(args.latency) as port:
        at = ["--port", str(port)]
        bench_threads = [sys.executable, "-m", "bench.threads"]
        ours = run_json([*bench_threads, "burst", *at, "--threads", str(args.threads), *size])
        floor = run_json(
            [sys.executable, "-m", "bench.raw_openai", "concurrent", *at, "--chats", str(args.threads), *size[:2]]
        )
        few = min(200, args.threads)
        ours_few = run_json([*bench_threads, "burst", *at, "--threads", str(few), *size])
        floor_few = run_json(
            [sys.executable, "-m", "bench.raw_openai", "concurrent", *at, "--chats", str(few), *size[:2]]
        )
        steady = gated = None
        if args.steady_seconds > 0:
            rate = ["--rate", str(args.steady_rate), "--seconds", str(args.steady_seconds)]
            steady = run_json([*bench_threads, "steady", *at, *rate, *size])
            if args.steady_max_steps > 0:
                gated = run_json(
                    [*bench_threads, "steady", *at, *rate, *size, "--max-steps", str(args.steady_max_steps)]
                )
    with scripted_server(0.0) as port:
        longs = [
            run_json(
                [sys.executable, "-m", "bench.threads", "long", "--port", str(port), "--steps", str(args.long_steps)]
            )
            for _ in range(3)
        ]

    def line(label: str, wall: float) -> str:
        return f"{label:<44}: {wall:8.2f} s = {wall / ideal:.2f}x ideal"

    print(f"{'ideal wall time':<44}: {ideal:8.2f} s")
    print(line("bare aiohttp, same model requests", floor["bare_wall"]))
    print(line("bare openai client, same model requests", floor["wall"]))
    print(line("threadcrew bot", ours["wall"]))
    print(f"{'threadcrew bot / bare openai client':<44}: {ratio(ours['wall'], floor['wall']):>8}")
    print(
        f"{few} threads: bare aiohttp {floor_few['bare_wall']:.2f} s, bare openai client {floor_few['wall']:.2f} s, "
        f"threadcrew bot {ours_few['wall']:.2f} s"
    )
    print(f"{'peak RSS per thread':<44}: {ours['rss_per_thread_kb']:8.1f} KiB")
    print(
        f"{'event to first post, less the model':<44}: p50 {ours['first_post_p50_ms']:.0f} ms, "
        f"p99 {ours['first_post_p99_ms']:.0f} ms"
    )
    for bare, wall, n, most in (
        (floor["bare_wall"], ours["wall"], args.threads, 2.0),
        (floor_few["bare_wall"], ours_few["wall"], few, 1.3),
    ):
        print(
            goal(
                f"{n} threads, bot / bare aiohttp",
                f"{wall / bare:.2f}x",
                f"<= {most}x",
                wall <= most * bare,
                f"({wall:.2f} s / {bare:.2f} s)",
            )
        )
    step = sorted((statistics.median(run["save_ms"][5:16]), statistics.median(run["save_ms"][-11:])) for run in longs)
    early, late = min(s[0] for s in step), min(s[1] for s in step)
    print(
        goal(
            f"save of step 10 -> step {args.long_steps}",
            f"{late / early:.2f}x",
            "<= 1.5x",
            late <= 1.5 * early,
            f"({early:.2f} ms -> {late:.2f} ms, best of 3 runs, median of 11 steps)",
        )
    )
    if steady is not None:
        p99 = steady["first_post_p99_ms"]
        print(
            goal(
                f"steady {args.steady_rate:g}/s: first post less model p99",
                f"{p99:.0f} ms",
                "< 50 ms",
                p99 < 50,
                f"(p50 {steady['first_post_p50_ms']:.0f} ms; mentions fell {steady['mentions_late_s']:.1f} s behind)",
            )
        )
    if gated is not None:
        p99 = gated["first_post_p99_ms"]
        print(
            goal(
                f"... with THREADCREW_MAX_STEPS={args.steady_max_steps}",
                f"{p99:.0f} ms",
                "< 50 ms",
                p99 < 50,
                f"(p50 {gated['first_post_p50_ms']:.0f} ms; mentions fell {gated['mentions_late_s']:.1f} s behind)",
            )
        )
    burst = ours["burst_first_post_p99_ms"]
    print(
        goal(
            f"burst of {args.threads}: first post p99",
            f"{burst:.0f} ms",
            "<= 3000 ms",
            ours["burst_first_post_max_ms"] <= 3000,
            f"(max {ours['burst_first_post_max_ms']:.0f} ms; the model's {args.latency * 1000:.0f} ms included)",
        )
    )
    rss = ours["rss_per_thread_kb"]
    print(goal(f"peak RSS per busy thread ({args.threads})", f"{rss:.1f} KiB", "<= 32 KiB", rss <= 32))
    held = ours["sessions_held_idle"]
    print(goal("thread sessions in memory once idle", f"{held}", "0", held == 0))


def groupchat(args: argparse.Namespace) -> None:
    ag2 = None if args.no_ag2 else ensure_ag2()
    print("\n== 4-agent group chat, scripted model with zero delay (speaker selection answered with a name)")
    print("method       rounds  threadcrew ms/round  its share  bare client  AG2 ms/round  threadcrew/AG2")
    with scripted_server(0.0, rotate="planner,coder,reviewer,tester") as port:
        for method in ("round_robin", "auto"):
            for rounds in (50, 500):
                repeat = 7 if rounds <= 50 else 3
                common = ["--port", str(port), "--rounds", str(rounds), "--method", method, "--repeat", str(repeat)]
                ours = run_json([sys.executable, "-m", "bench.groupchat_threadcrew", *common])
                raw = run_json(
                    [sys.executable, "-m", "bench.raw_openai", "replay", "--port", str(port), "--repeat", str(repeat)],
                    json.dumps(ours["requests"]),
                )
                theirs = None
                if ag2 and rounds <= 50:
                    theirs = run_json([str(ag2), str(ROOT / "bench" / "groupchat_ag2.py"), *common])
                per_round = ours["wall"] / rounds * 1000
                share = (ours["wall"] - raw["total"]) / rounds * 1000
                floor = raw["total"] / rounds * 1000
                their = theirs["wall"] / rounds * 1000 if theirs else None
                their_text = f"{their:12.2f}" if their else f"{'-':>12}"
                print(
                    f"{method:<12} {rounds:>6}  {per_round:19.2f}  {share:9.2f}  {floor:11.2f}  {their_text}  "
                    f"{ratio(per_round, their):>14}"
                )
    print("(goal: threadcrew/AG2 <= 0.20x in both modes; threadcrew's share flat from 50 to 500 rounds)")


def chats(args: argparse.Namespace) -> None:
    ag2 = None if args.no_ag2 else ensure_ag2()
    ours_cmd = [sys.executable, "-m", "bench.chat_threadcrew"]
    ag2_cmd = [str(ag2), str(ROOT / "bench" / "chat_ag2.py")] if ag2 else None

    print(f"\n== {args.turns}-turn two-agent chat, scripted model with zero delay (median of {args.repeat})")
    with scripted_server(0.0) as port:
        common = ["turns", "--port", str(port), "--turns", str(args.turns), "--repeat", str(args.repeat)]
        ours = run_json([*ours_cmd, *common])
        transcript = json.dumps({k: ours[k] for k in ("system", "history", "turns")})
        raw = run_json(
            [sys.executable, "-m", "bench.raw_openai", "turns", "--port", str(port), "--repeat", str(args.repeat)],
            transcript,
        )
        theirs = run_json([*ag2_cmd, *common]) if ag2_cmd else None
    per_turn = ours["wall"] / args.turns
    print(f"raw openai client, chat.completions.create : {raw['create_per_call'] * 1000:8.2f} ms per call")
    print(f"raw openai client, post of the same body    : {raw['post_per_call'] * 1000:8.2f} ms per call")
    print(f"threadcrew whole stack                      : {per_turn * 1000:8.2f} ms per turn")
    print(f"threadcrew's share (minus raw post)         : {(per_turn - raw['post_per_call']) * 1000:8.2f} ms per turn")
    if theirs:
        their_turn = theirs["wall"] / args.turns
        print(f"AG2 classic whole stack                     : {their_turn * 1000:8.2f} ms per turn")
        their_share = (their_turn - raw["post_per_call"]) * 1000
        print(f"AG2's share (minus raw post)                : {their_share:8.2f} ms per turn")
        print(f"threadcrew / AG2, whole stack per turn      : {ratio(per_turn, their_turn):>8}   (goal <= 0.20x)")

    ideal = args.chat_turns * args.latency
    print(f"\n== {args.chats} concurrent chats x {args.chat_turns} turns, {args.latency * 1000:.0f} ms model latency")
    with scripted_server(args.latency) as port:
        common = ["concurrent", "--port", str(port), "--chats", str(args.chats), "--turns", str(args.chat_turns)]
        ours = run_json([*ours_cmd, *common])
        floor = run_json([sys.executable, "-m", "bench.raw_openai", *common])
        theirs = run_json([*ag2_cmd, *common]) if ag2_cmd else None
    print(f"ideal wall time                             : {ideal:8.2f} s")
    bare = floor["bare_wall"]
    print(f"bare aiohttp, same requests                 : {bare:8.2f} s = {bare / ideal:.2f}x ideal")
    print(f"bare openai client, same requests           : {floor['wall']:8.2f} s = {floor['wall'] / ideal:.2f}x ideal")
    print(
        f"threadcrew wall time                        : {ours['wall']:8.2f} s = {ours['wall'] / ideal:.2f}x ideal"
        "   (goal <= 1.20x)"
    )
    print(f"threadcrew / bare client                    : {ratio(ours['wall'], floor['wall']):>8}")
    print(f"threadcrew peak RSS per chat                : {ours['rss_per_chat_kb']:8.1f} KiB")
    if theirs:
        their_ideal = theirs["wall"] / ideal
        print(f"AG2 classic wall time                       : {theirs['wall']:8.2f} s = {their_ideal:.2f}x ideal")
        print(f"AG2 classic peak RSS per chat               : {theirs['rss_per_chat_kb']:8.1f} KiB")
        print(f"threadcrew / AG2, wall time                 : {ratio(ours['wall'], theirs['wall']):>8}")
        rss_ratio = ratio(ours["rss_per_chat_kb"], theirs["rss_per_chat_kb"])
        print(f"threadcrew / AG2, RSS per chat              : {rss_ratio:>8}")


if __name__ == "__main__":
    main()
