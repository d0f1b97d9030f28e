"""compose.yaml and .env.example: the services a deployment needs, and every variable documented.

``docker compose config`` checks the file too where the compose plugin is installed (Debian's
docker.io has none); the checks here read the YAML, so they run everywhere.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from bot.settings import Settings
from tests.deploy.build import ROOT

COMPOSE_TEXT = (ROOT / "compose.yaml").read_text()
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_TEXT)
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
THREADCREW = ("bot", "worker", "migrate")  # the services that run the image
ENV_EXAMPLE = (ROOT / ".env.example").read_text()
DOCUMENTED = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE, re.MULTILINE))


def test_threadcrew_services_build_the_image_and_share_the_data_volume() -> None:
    for name in THREADCREW:
        service = SERVICES[name]
        assert service["build"]["context"] == "."
        assert "BASE_IMAGE" in service["build"]["args"]
        assert service["env_file"] == ".env"
        assert "data:/data" in service["volumes"]
        url = service["environment"]["THREADCREW_DATABASE_URL"]
        assert url.startswith("postgresql://")
        assert "@postgres:5432/" in url
        assert service["init"] is True
        assert "healthcheck" not in service, "the image's HEALTHCHECK applies"
    assert {"data", "pgdata"} <= COMPOSE["volumes"].keys()


def test_migrations_run_once_postgres_is_healthy_and_before_the_bot() -> None:
    migrate = SERVICES["migrate"]
    assert migrate["command"] == ["db", "upgrade"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in ("bot", "worker"):
        assert SERVICES[name]["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}

    postgres = SERVICES["postgres"]
    assert postgres["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert "pgdata:/var/lib/postgresql/data" in postgres["volumes"]


def test_workers_scale_and_only_the_bot_publishes_a_port() -> None:
    worker = SERVICES["worker"]
    # A fixed container name or host port would make `--scale worker=2` fail on the second one.
    assert "container_name" not in worker
    assert "ports" not in worker
    assert worker["deploy"]["replicas"] == 0
    # The workers run conversations only; the bot takes the events (and runs conversations too).
    assert worker["command"] == ["run", "--role", "worker"]
    assert SERVICES["bot"]["command"] == ["run"]
    assert [s for s in SERVICES if "ports" in SERVICES[s]] == ["bot"]


def test_only_the_socket_proxy_mounts_the_docker_socket() -> None:
    for name, service in SERVICES.items():
        sockets = [v for v in service.get("volumes", []) if "docker.sock" in v]
        if name == "docker-proxy":
            assert sockets == ["/var/run/docker.sock:/var/run/docker.sock:ro"]
        else:
            assert sockets == [], f"{name} must reach Docker through docker-proxy"
    proxy = SERVICES["docker-proxy"]
    assert proxy["profiles"] == ["executor"]
    assert proxy["environment"] == {"CONTAINERS": 1, "EXEC": 1, "IMAGES": 1, "POST": 1}
    assert proxy["networks"] == ["executor"]
    assert COMPOSE["networks"]["executor"]["internal"] is True


def test_every_variable_compose_reads_is_in_env_example() -> None:
    read = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", COMPOSE_TEXT))
    assert read - DOCUMENTED == set()


def test_every_threadcrew_setting_is_in_env_example() -> None:
    settings = {f"THREADCREW_{name.upper()}" for name in Settings.model_fields}
    assert settings - DOCUMENTED == set(), "document these in .env.example (and the README)"


def test_the_readme_explains_every_variable_of_env_example() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "\n## Running in Docker\n" in readme
    assert {name for name in DOCUMENTED if name not in readme} == set()


def test_secrets_and_local_state_stay_out_of_the_build_context() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".env", ".git", ".venv", ".pytest_cache", ".mypy_cache", ".ruff_cache"} <= ignored
    assert "wheelhouse" not in ignored  # offline builds read it from the context
