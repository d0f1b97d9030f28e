"""The connection to a Docker engine: finding one that answers, and reading an exec's output to a deadline."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from typing import Any

import docker
import docker.errors
import requests.exceptions

from ..errors import CodeExecutionError

__all__ = ["docker_client", "exec_frames"]


def docker_client() -> docker.DockerClient:
    """A client for the engine at ``DOCKER_HOST`` (or the default socket), checked with a ping.

    Raises:
        CodeExecutionError: no engine answers; the message names where it looked and how to start one.
    """
    where = os.environ.get("DOCKER_HOST") or "the default socket (unix:///var/run/docker.sock)"
    try:
        # docker-py leaks its socket when a connection is refused: knock first.
        _knock(os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock")
        client = docker.from_env()
        client.ping()
        return client
    except (OSError, docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise CodeExecutionError(
            f"no Docker engine answers at {where} ({exc}). Start one (dockerd, or Docker Desktop), "
            "or set DOCKER_HOST to an engine that runs"
        ) from exc


def _knock(base_url: str) -> None:
    """Raise OSError unless the engine's socket or port accepts a connection."""
    scheme, _, rest = base_url.partition("://")
    if scheme in ("unix", "http+unix"):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(3)
            probe.connect("/" + rest.lstrip("/"))
    elif scheme in ("tcp", "http", "https"):
        host, _, port = rest.split("/", 1)[0].rpartition(":")
        with socket.create_connection((host.strip("[]") or "127.0.0.1", int(port or 2375)), timeout=3):
            pass


def exec_frames(conn: Any, deadline: float) -> Iterator[tuple[int, bytes]]:
    """The (stream, payload) frames of a multiplexed exec stream, read to a deadline.

    Raises:
        TimeoutError: the stream was still open at the deadline.
    """

    def exactly(size: int) -> bytes | None:
        buffer = bytearray()
        while len(buffer) < size:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the exec's output was still open at its deadline")
            conn.settimeout(left)
            chunk = conn.recv(size - len(buffer))
            if not chunk:
                return None
            buffer += chunk
        return bytes(buffer)

    while (header := exactly(8)) is not None:
        size = int.from_bytes(header[4:8], "big")
        payload = exactly(size) if size else b""
        if payload is None:
            return
        yield header[0], payload
