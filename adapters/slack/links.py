"""Where a Slack thread is: its first message's permalink, made from the workspace's address."""

from __future__ import annotations

__all__ = ["thread_url"]


def thread_url(workspace_url: str, channel_id: str, thread_ts: str) -> str:
    """The thread's address: ``https://acme.slack.com/archives/C123/p1700000000000100``.

    ``workspace_url`` is what ``auth.test`` answers as ``url``; a thread's id is its first
    message's ``ts``, written without its dot (as Slack's own permalinks are).
    """
    return f"{workspace_url.rstrip('/')}/archives/{channel_id}/p{thread_ts.replace('.', '')}"
