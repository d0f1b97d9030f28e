"""Run code blocks in a Docker container of their own, one per conversation.

The container is created on first use and reused for the conversation's later blocks (files
persist between them), and removed by :meth:`~DockerCommandLineCodeExecutor.stop`, after
``idle_timeout`` seconds without use, and at interpreter exit. It has no network, limits on
memory, CPU and processes, ulimits (open files, file size, CPU seconds, no core files), a
read-only root file system, a writable ``/workspace`` (a size-limited tmpfs volume owned by
the unprivileged user the code runs as), no capabilities, ``no-new-privileges``, an init
process, and the engine's ``runtime`` of choice (``runsc``: gVisor).

Nothing from inside is trusted. After each block every process the code left is killed
(nothing holds the output open or outlives the run), and which files exist is learned from
the engine's archive of ``/workspace``, not from anything the code could print: names are
checked, only regular files count, and what comes back is capped
(:class:`~agents.coding.limits.FileCaps`), with a note about the rest.

Code and files move through the Docker API, never through bind mounts, so the engine may be
remote (``DOCKER_HOST``). When ``work_dir`` is given, its files are copied in when the
container starts and the files the code writes are written back to it without following any
link. Every docker SDK call runs in a worker thread with a deadline: the event loop never
waits on the engine.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import contextlib
import logging
import os
import posixpath
import tarfile
import time
import uuid
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import docker
import docker.errors
import docker.types
import requests.exceptions
from docker.utils.socket import frames_iter

from ..errors import CodeExecutionError
from ._engine import docker_client, exec_frames
from ._files import Gathered, Stamp, gather_tar, write_inside
from ._shared import CappedOutput, declared_filename, generated_filename
from .base import CodeBlock, CodeResult
from .executor import CodeExecutorBase
from .limits import FileCaps, ResourceLimits

__all__ = ["DockerCommandLineCodeExecutor", "docker_client"]

_log = logging.getLogger(__name__)

T = TypeVar("T")

WORKSPACE = "/workspace"
_LABEL = "threadcrew.executor"
_GRACE = 10.0  # seconds past the code's timeout before the engine itself is suspected

_WRITE = "import sys,base64;open(sys.argv[1],sys.argv[2]).write(base64.b64decode(sys.argv[3]))"
# The keep-alive process, found once when the container starts (before any code ran).
_KEEPER = (
    "import os\nfor p in filter(str.isdigit, os.listdir('/proc')):\n"
    " try:\n  if open(f'/proc/{p}/cmdline','rb').read()==b'sleep\\0infinity\\0':print(p)\n"
    " except OSError:pass"
)
# Kill every process but the init, the keep-alive ($1) and this one with its shell, until none is left.
_REAP = (
    "import os,sys,signal\nkeep={1,int(sys.argv[1]),os.getpid(),os.getppid()}\n"
    "for _ in range(200):\n"
    " left=[int(p) for p in os.listdir('/proc') if p.isdigit() and int(p) not in keep]\n"
    " if not left:break\n"
    " for p in left:\n"
    "  try:os.kill(p,signal.SIGKILL)\n"
    "  except OSError:pass"
)
_OOM = (
    "n=0\nfor c in ('/sys/fs/cgroup/memory.events','/sys/fs/cgroup/memory/memory.oom_control'):\n"
    " try:n=max(n,*[int(l.split()[1]) for l in open(c) if l.startswith('oom_kill ')])\n"
    " except (OSError,ValueError,TypeError):pass\n"
    "print(n)"
)
# One exec per block: write the file ($1 path, $2 base64 code; skipped when $2 is empty), run it
# under a timeout ($3) with its stderr merged into stdout, then kill whatever it left running
# (keeping $5, the keep-alive), so that nothing holds the output open or outlives the run.
_RUN = (
    '{ mkdir -p "$(dirname "$1")" && { [ -z "$2" ] || printf %s "$2" | base64 -d > "$1"; } '
    '&& timeout -s TERM -k 2 "$3" INTERPRETER "$1"; } 2>&1; rc=$?; python3 -c "$4" "$5" >/dev/null 2>&1; exit $rc'
)
_STDERR = 2
_GVISOR_THREADS = 256
_CHUNK = 48 * 1024  # bytes of a file per exec argument (well under the kernel's 128 KiB limit)

_live: weakref.WeakSet[DockerCommandLineCodeExecutor] = weakref.WeakSet()


@atexit.register
def _remove_leftover_containers() -> None:
    for executor in list(_live):
        executor._remove_now()


class DockerCommandLineCodeExecutor(CodeExecutorBase):
    """A :class:`~agents.coding.base.CodeExecutor` in a sandboxed container.

    Args:
        image: the image to run; it needs ``python3`` and ``sh`` (default ``THREADCREW_CODE_IMAGE``,
            else ``python:3-slim``).
        timeout: seconds a block may run.
        work_dir: a host dir whose files are copied in, and that receives the files the code writes.
        container_name: the container's name (default: ``threadcrew-code-<random>``).
        mem_limit: memory limit, swap included (``"512m"``).
        cpus: CPU limit.
        pids_limit: process limit.
        user: ``"uid:gid"`` the code runs as (default nobody).
        workspace_size: size of the ``/workspace`` tmpfs (it counts toward the memory limit).
        idle_timeout: seconds without use before the container is removed (None: never).
        max_output: bytes of output kept per block; the middle of longer output is cut.
        max_file_bytes: files larger than this come back without their bytes.
        runtime: the engine's container runtime, e.g. ``"runsc"`` (gVisor) where the engine has it;
            None is the engine's default (runc).
        limits: per-process limits inside the container (open files, file size, CPU seconds);
            memory, processes and the workspace are ``mem_limit``, ``pids_limit``, ``workspace_size``.
        max_files: files per run that come back; the rest are named in a note.
        max_total_bytes: bytes of all files of a run that come back together.
    """

    def __init__(
        self,
        image: str | None = None,
        timeout: float = 60,
        work_dir: str | Path | None = None,
        container_name: str | None = None,
        *,
        mem_limit: str = "512m",
        cpus: float = 1.0,
        pids_limit: int = 256,
        user: str = "65534:65534",
        workspace_size: str = "256m",
        idle_timeout: float | None = 600,
        max_output: int = 64 * 1024,
        max_file_bytes: int = 10 * 1024 * 1024,
        runtime: str | None = None,
        limits: ResourceLimits | None = None,
        max_files: int = 20,
        max_total_bytes: int = 50 * 1024 * 1024,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be a positive number of seconds")
        uid, _, gid = user.partition(":")
        if not (uid.isdigit() and gid.isdigit()):
            raise ValueError(f"user must be numeric 'uid:gid', like '65534:65534', not {user!r}")
        self.image = image or os.environ.get("THREADCREW_CODE_IMAGE") or "python:3-slim"
        self.timeout = timeout
        self.work_dir = Path(work_dir) if work_dir is not None else None
        self.container_name = container_name or f"threadcrew-code-{uuid.uuid4().hex[:12]}"
        self.mem_limit = mem_limit
        self.cpus = cpus
        self.pids_limit = pids_limit
        self.user = user
        self.workspace_size = workspace_size
        self.idle_timeout = idle_timeout
        self.max_output = max_output
        self.max_file_bytes = max_file_bytes
        self._client: docker.DockerClient | None = None
        self._container: Any = None
        self.runtime = runtime
        self.limits = limits or ResourceLimits()
        self.caps = FileCaps(max_files, max_file_bytes, max_total_bytes)
        self._stamps: dict[str, Stamp] = {}
        self._keeper = 0
        self._oom_seen = 0
        self._lock: asyncio.Lock | None = None
        self._idle: asyncio.Task[None] | None = None
        _live.add(self)

    @property
    def container_id(self) -> str | None:
        """The id of the running container, or None before first use and after stop."""
        return self._container.id if self._container is not None else None

    # -- the CodeExecutor protocol ----------------------------------------------------------------

    async def a_execute_code_blocks(self, code_blocks: list[CodeBlock]) -> CodeResult:
        """Run the blocks in order in the conversation's container, stopping at the first that fails.

        Raises:
            CodeExecutionError: the engine is unreachable or the image cannot be found.
        """
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._idle is not None:
                self._idle.cancel()
            try:
                return await self._execute(code_blocks)
            finally:
                if self.idle_timeout is not None and self._container is not None:
                    self._idle = asyncio.create_task(self._remove_when_idle(self.idle_timeout))

    async def a_restart(self) -> None:
        """Start over with a fresh container (and an empty workspace) at the next block."""
        await self._thread(self._remove_now)

    async def stop(self) -> None:
        """Remove the container and close the connection to the engine."""
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        await self._thread(self._remove_now)
        client, self._client = self._client, None
        if client is not None:
            await self._thread(client.close)

    # -- running ---------------------------------------------------------------------------------

    async def _execute(self, code_blocks: list[CodeBlock]) -> CodeResult:
        if self._container is None:
            await self._thread(self._start)
        before = self._stamps
        outputs: list[str] = []
        exit_code = 0
        written: set[str] = set()
        code_file = None
        for block in code_blocks:
            prepared = self._prepare(block)
            if isinstance(prepared, str):
                outputs.append(prepared)
                exit_code = 1
                break
            path, interpreter = prepared
            code_file = path
            written.add(posixpath.relpath(path, WORKSPACE))
            exit_code, output = await self._run_block(path, block.code.encode(), interpreter)
            outputs.append(output)
            if exit_code != 0:
                break
        if self._container is None:  # the engine gave up on a run and the container went with it
            return CodeResult(exit_code=exit_code, output="\n".join(outputs), code_file=code_file)
        if exit_code == 137 and await self._thread(self._oom_killed):
            outputs.append(f"Out of memory: the code used more than {self.mem_limit} and was killed.")
        gathered = await self._thread(self._collect, before, written)
        outputs += gathered.notes()
        return CodeResult(
            exit_code=exit_code, output="\n".join(outputs), files=tuple(gathered.files), code_file=code_file
        )

    def _prepare(self, block: CodeBlock) -> tuple[str, list[str]] | str:
        """The block's path in the workspace and its interpreter, or why it cannot run."""
        if block.language == "python":
            interpreter, suffix = ["python3", "-u"], ".py"
        elif block.language == "sh":
            interpreter, suffix = ["sh"], ".sh"
        else:
            return f"unknown language {block.language!r}: only python and sh code blocks run here"
        name = declared_filename(block.code) or generated_filename(block.code, suffix)
        path = posixpath.normpath(posixpath.join(WORKSPACE, name))
        if not path.startswith(WORKSPACE + "/"):
            return f"filename {name!r} is outside the work dir; use a path inside it"
        return path, interpreter

    async def _run_block(self, path: str, code: bytes, interpreter: list[str]) -> tuple[int, str]:
        encoded = base64.b64encode(code).decode()
        if len(encoded) > _CHUNK:
            await self._thread(self._write, path, code)
            encoded = ""
        script = _RUN.replace("INTERPRETER", " ".join(interpreter))
        command = ["sh", "-c", script, "sh", path, encoded, f"{self.timeout:g}", _REAP, str(self._keeper)]
        try:
            exit_code, output, _ = await asyncio.wait_for(
                self._thread(self._exec, command, True), self.timeout + _GRACE
            )
        except (OSError, requests.exceptions.RequestException):  # TimeoutError is an OSError
            # The engine stopped answering for this exec: take the container down with it.
            await self._thread(self._remove_now)
            return 124, f"Timeout: the code ran longer than {self.timeout:g} s and was stopped."
        if exit_code == 124:
            return 124, f"{output}\nTimeout: the code ran longer than {self.timeout:g} s and was stopped."
        return exit_code, output

    # -- the engine (sync; run in threads) ----------------------------------------------------------

    async def _thread(self, func: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(func, *args)

    def _start(self) -> None:
        if self._client is None:
            self._client = docker_client()
        try:
            self._client.images.get(self.image)
        except docker.errors.ImageNotFound:
            try:
                self._client.images.pull(self.image)
            except docker.errors.DockerException as exc:
                raise CodeExecutionError(
                    f"the image {self.image!r} is not on the Docker engine and cannot be pulled ({exc}); "
                    "build or pull it there, or set THREADCREW_CODE_IMAGE to one that is"
                ) from exc
        try:
            self._container = self._run_container(self._client)
        except docker.errors.DockerException as exc:
            raise CodeExecutionError(f"cannot start a code container from {self.image!r}: {exc}") from exc
        self._upload_work_dir()
        code, out, err = self._exec(["python3", "-c", _KEEPER])
        if code != 0 or not out.strip().isdigit():
            raise CodeExecutionError(f"cannot find the code container's keep-alive process: {err[-300:]}")
        self._keeper = int(out.strip())
        self._stamps = self._collect({}, set()).stamps

    def _run_container(self, client: docker.DockerClient) -> Any:
        uid, _, gid = self.user.partition(":")
        cpu = self.limits.cpu_for(self.timeout)
        gvisor = self.runtime == "runsc"
        return client.containers.run(
            self.image,
            ["sleep", "infinity"],
            name=self.container_name,
            detach=True,
            init=True,
            network_mode="none",
            mem_limit=self.mem_limit,
            memswap_limit=self.mem_limit,
            nano_cpus=int(self.cpus * 1_000_000_000),
            # gVisor's kernel runs as host threads that the engine's pids limit counts too; inside it,
            # the code's processes are held by RLIMIT_NPROC instead.
            pids_limit=self.pids_limit + (_GVISOR_THREADS if gvisor else 0),
            read_only=True,
            volumes={self._workspace_volume(client, uid, gid): {"bind": WORKSPACE, "mode": "rw"}},
            tmpfs={"/tmp": f"rw,nosuid,size=64m,uid={uid},gid={gid}"},
            user=self.user,
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            working_dir=WORKSPACE,
            environment={"HOME": "/tmp", "MPLBACKEND": "Agg", "PYTHONIOENCODING": "utf-8"},
            labels={_LABEL: "1"},
            ulimits=[
                docker.types.Ulimit(name="nofile", soft=self.limits.open_files, hard=self.limits.open_files),
                docker.types.Ulimit(name="fsize", soft=self.limits.file_bytes, hard=self.limits.file_bytes),
                docker.types.Ulimit(name="cpu", soft=cpu, hard=cpu),
                docker.types.Ulimit(name="core", soft=0, hard=0),
                # Only under gVisor: elsewhere RLIMIT_NPROC counts every container of the same host uid.
                *([docker.types.Ulimit(name="nproc", soft=self.pids_limit, hard=self.pids_limit)] if gvisor else []),
            ],
            runtime=self.runtime,
        )

    def _upload_work_dir(self) -> None:
        if self.work_dir is None or not self.work_dir.is_dir():
            return
        for path in sorted(self.work_dir.rglob("*")):
            if path.is_file() and not path.is_symlink() and path.stat().st_size <= self.max_file_bytes:
                relative = path.relative_to(self.work_dir).as_posix()
                self._write(posixpath.join(WORKSPACE, relative), path.read_bytes())

    def _exec(self, command: list[str], capped: bool = False) -> tuple[int, str, str]:
        """Run a command in the container: its exit code, stdout (capped if asked) and stderr."""
        assert self._client is not None
        assert self._container is not None
        api = self._client.api
        exec_id = api.exec_create(self._container.id, command, workdir=WORKSPACE)["Id"]
        # The raw socket, closed here: docker-py leaks the socket of a streamed exec_start.
        sock = api.exec_start(exec_id, socket=True)
        inner = getattr(sock, "_sock", None)
        conn = inner if inner is not None else sock
        # Every read has a deadline: a worker thread stuck on an exec whose output never ends
        # would keep the process from exiting (asyncio.to_thread cannot cancel it).
        deadline = time.monotonic() + self.timeout + _GRACE
        frames = exec_frames(conn, deadline) if hasattr(conn, "recv") else frames_iter(sock, tty=False)  # type: ignore[no-untyped-call]
        out = CappedOutput(self.max_output) if capped else None
        raw, err = bytearray(), bytearray()
        try:
            for stream, chunk in frames:
                if stream == _STDERR:
                    err += chunk
                elif out is not None:
                    out.feed(chunk)
                else:
                    raw += chunk
        finally:
            sock.close()
            if inner is not None:
                inner.close()
        exit_code = api.exec_inspect(exec_id)["ExitCode"]
        output = out.text() if out is not None else raw.decode(errors="replace")
        return int(exit_code if exit_code is not None else 1), output, err.decode(errors="replace")

    def _write(self, path: str, data: bytes) -> None:
        directory = posixpath.dirname(path)
        if directory != WORKSPACE:
            self._exec(["mkdir", "-p", directory])
        chunks = [data[i : i + _CHUNK] for i in range(0, len(data), _CHUNK)] or [b""]
        for i, chunk in enumerate(chunks):
            code, _, err = self._exec(
                ["python3", "-c", _WRITE, path, "wb" if i == 0 else "ab", base64.b64encode(chunk).decode()]
            )
            if code != 0:
                raise CodeExecutionError(f"cannot write {path} in the code container: {err[-300:]}")

    def _oom_killed(self) -> bool:
        """Whether the engine's memory limit killed a process since the last look (read once nothing runs)."""
        code, out, _ = self._exec(["python3", "-c", _OOM])
        seen = int(out.strip()) if code == 0 and out.strip().isdigit() else self._oom_seen
        killed, self._oom_seen = seen > self._oom_seen, seen
        return killed

    def _collect(self, before: dict[str, Stamp], written: set[str]) -> Gathered:
        """The workspace's new and changed files, from the engine's archive of it (not from inside)."""
        assert self._container is not None
        try:
            chunks, _ = self._container.get_archive(WORKSPACE)
            gathered = gather_tar(chunks, posixpath.basename(WORKSPACE), before, written, self.caps)
        except (docker.errors.DockerException, requests.exceptions.RequestException, tarfile.TarError) as exc:
            raise CodeExecutionError(f"cannot read the code container's workspace: {exc}") from exc
        self._stamps = gathered.stamps
        if self.work_dir is not None:
            for file in gathered.files:
                if file.data is not None and not write_inside(self.work_dir, file.name, file.data):
                    _log.warning(
                        "did not copy %r back to %s: a link or special file is in the way", file.name, self.work_dir
                    )
        return gathered

    def _workspace_volume(self, client: docker.DockerClient, uid: str, gid: str) -> str:
        """A tmpfs volume of ``workspace_size`` for /workspace: unlike a tmpfs mount, the engine's archive sees it."""
        options = f"size={self.workspace_size},uid={uid},gid={gid},mode=0755,nosuid,nodev"
        volume = client.volumes.create(
            name=f"{self.container_name}-workspace",
            driver="local",
            driver_opts={"type": "tmpfs", "device": "tmpfs", "o": options},
            labels={_LABEL: "1"},
        )
        return str(volume.name)

    def _remove_now(self) -> None:
        container = self._container
        if container is not None:
            with contextlib.suppress(docker.errors.DockerException, requests.exceptions.RequestException):
                container.remove(force=True)
            self._container = None
        if self._client is not None:
            with contextlib.suppress(docker.errors.DockerException, requests.exceptions.RequestException):
                self._client.volumes.get(f"{self.container_name}-workspace").remove(force=True)

    async def _remove_when_idle(self, delay: float) -> None:
        await asyncio.sleep(delay)
        assert self._lock is not None
        async with self._lock:
            _log.info("removing idle code container %s", self.container_name)
            await self._thread(self._remove_now)
