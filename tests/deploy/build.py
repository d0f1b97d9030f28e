"""Building threadcrew's image offline for the tests: the engine, the base image, the wheelhouse.

CI's Docker engine reaches no registry, so the test build takes its base image from the engine
(``threadcrew-python-build:bookworm``, made by ``.ci/sandboxes.sh up``) through ``BASE_IMAGE``,
and every dependency's wheel from ``wheelhouse/`` (``WHEELHOUSE``), which this module fills on
the host with pip. The wheelhouse is kept between runs while the requirements in
``pyproject.toml`` and the Python version stay the same.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WHEELHOUSE = ROOT / "wheelhouse"  # in .gitignore; the Dockerfile's WHEELHOUSE, relative to the context
STAGES = ("wheels", "install")  # the Dockerfile's named stages; the last, unnamed one is the image


def docker(*args: str, timeout: float = 120, check: bool = True, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run the docker CLI and return what it printed; with ``check``, fail with its output."""
    result = subprocess.run(
        ["docker", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        **kwargs,  # type: ignore[call-overload]
    )
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} exited {result.returncode}:\n{result.stdout}{result.stderr}")
    return result


def missing(base_image: str) -> str | None:
    """What keeps the image tests from running here, or None."""
    if shutil.which("docker") is None:
        return "no docker command: run .ci/sandboxes.sh up"
    info = docker("info", "--format", "{{.ServerVersion}}", timeout=30, check=False)
    if info.returncode != 0:
        return f"no Docker engine answers: {info.stderr.strip()[-200:]}"
    if docker("image", "inspect", base_image, check=False, timeout=30).returncode != 0:
        return f"the offline base image {base_image} is missing: run .ci/sandboxes.sh up"
    return None


def python_of(image: str) -> str:
    """The ``major.minor`` of the image's python3."""
    out = docker("run", "--rm", "--network", "none", "--entrypoint", "python3", image, "-c", _VERSION)
    return out.stdout.strip()


_VERSION = "import sys; print('%d.%d' % sys.version_info[:2])"


def fill_wheelhouse() -> Path:
    """Wheels of every dependency and of the build backend, for this Python, in ``wheelhouse/``.

    pip downloads what its cache lacks: PyPI is reachable where the tests run, the engine's builds
    are not meant to reach anything.
    """
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    requirements = [
        *project["project"]["dependencies"],
        *project["project"]["optional-dependencies"]["postgres"],  # the image installs threadcrew[postgres]
        *project["build-system"]["requires"],
    ]
    digest = hashlib.sha256(f"{requirements}{sys.version_info[:2]}".encode()).hexdigest()
    stamp = WHEELHOUSE / ".requirements-sha256"
    if stamp.is_file() and stamp.read_text() == digest:
        return WHEELHOUSE
    shutil.rmtree(WHEELHOUSE, ignore_errors=True)
    pip = [sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check"]
    subprocess.run(
        [*pip, "--wheel-dir", str(WHEELHOUSE), *requirements],
        check=True,
        timeout=600,
    )
    stamp.write_text(digest)
    return WHEELHOUSE


@contextmanager
def built_image(name: str, base_image: str) -> Iterator[str]:
    """Build the Dockerfile offline as ``name:image`` and remove every image it made on exit.

    Each stage is built and tagged on its own (``name:wheels``, ``name:install``) so that the
    classic builder's stage images, which would otherwise be left untagged, are removed too.
    """
    fill_wheelhouse()
    args = ["--build-arg", f"BASE_IMAGE={base_image}", "--build-arg", f"WHEELHOUSE={WHEELHOUSE.name}"]
    tags: list[str] = []
    try:
        for stage in (*STAGES, None):
            tag = f"{name}:{stage or 'image'}"
            target = ["--target", stage] if stage else []
            docker("build", *args, *target, "--tag", tag, str(ROOT), timeout=900)
            tags.append(tag)
        yield tags[-1]
    finally:
        for tag in reversed(tags):
            docker("rmi", tag, check=False)
