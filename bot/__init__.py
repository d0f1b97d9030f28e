"""The composition root: settings, teams, the thread runtime and the CLI.

The only package that imports agents/, adapters/ and storage/ together. Today it holds the
CLI and the console demo; the thread runtime (dispatcher, sessions, scheduler) comes next.
"""

__all__: list[str] = []
