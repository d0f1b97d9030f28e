"""The web console: watch and steer the teams' conversations in a browser.

Served by the bot's one web server under ``/console`` when ``THREADCREW_CONSOLE=true``; every
page needs a sign-in, with ``THREADCREW_CONSOLE_TOKEN`` or, where configured, with OpenID Connect
or Slack (``oidc``, ``sso``). See the README's "Web console" section.
"""

from __future__ import annotations

from .console import Console, mount_console
from .webthread import web_thread_platform

__all__ = ["Console", "mount_console", "web_thread_platform"]
