"""Where a Python interpreter really is, for running it from another directory or a sandbox.

A path such as ``../venv/bin/python`` or ``/opt/app/venv/bin/../bin/python`` names a venv's
interpreter, a symlink into the base installation. Code runs from its work dir, and under
bubblewrap only the trees bound into the sandbox exist, so the executor needs the path made
absolute up front and both trees (the venv and the installation it links to) made visible.
"""

from __future__ import annotations

import os
import shutil

__all__ = ["absolute_interpreter", "interpreter_trees"]


def absolute_interpreter(python: str) -> str:
    """``python`` as an absolute path when it names a file by path; a bare name is kept.

    The directories are resolved, the file itself is not: a venv's ``python`` symlink must
    stay, or the interpreter would not find its venv.
    """
    if os.sep not in python:
        return python
    directory, name = os.path.split(os.path.abspath(python))
    return os.path.join(os.path.realpath(directory), name)


def interpreter_trees(python: str) -> set[str]:
    """The installation roots the interpreter needs: its own (a venv) and the one it links to."""
    found = shutil.which(python) or python
    return {os.path.dirname(os.path.dirname(p)) for p in (absolute_interpreter(found), os.path.realpath(found))}
