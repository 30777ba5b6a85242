"""The deployment files: docker-compose.yml, Dockerfile and .dockerignore."""

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"

Instructions = list[tuple[str, str]]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def instructions() -> Instructions:
    """The Dockerfile as (INSTRUCTION, arguments), continuation lines joined."""
    logical: list[str] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    result = []
    for line in logical:
        keyword, _, args = line.partition(" ")
        result.append((keyword.upper(), args.strip()))
    return result


def _args(instructions: Instructions, keyword: str) -> list[str]:
    return [args for kw, args in instructions if kw == keyword]


def test_compose_file_matches_the_compose_specification() -> None:
    result = subprocess.run(  # noqa: S603
        [
            str(CHECK_JSONSCHEMA),
            "--builtin-schema",
            "vendor.compose-spec",
            str(COMPOSE),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_database_is_postgres_16_with_a_healthcheck_and_a_named_volume(
    compose: dict,
) -> None:
    db = compose["services"]["db"]
    assert db["image"] == "postgres:16"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    named = {
        volume.split(":")[0]
        for volume in db["volumes"]
        if volume.endswith(":/var/lib/postgresql/data")
    }
    assert named, "the database directory is not on a volume"
    assert named <= set(compose.get("volumes") or {}), "the volume is not a named one"


def test_app_waits_for_a_healthy_database(compose: dict) -> None:
    depends_on = compose["services"]["app"]["depends_on"]
    assert depends_on["db"]["condition"] == "service_healthy"


def test_app_talks_to_the_db_service_over_psycopg(compose: dict) -> None:
    url = urlsplit(compose["services"]["app"]["environment"]["MUTUAL_DATABASE_URL"])
    assert url.scheme == "postgresql+psycopg"
    assert url.hostname == "db"


def test_app_has_no_default_secret_key(compose: dict) -> None:
    secret = compose["services"]["app"]["environment"]["MUTUAL_SECRET_KEY"]
    assert re.fullmatch(r"\$\{MUTUAL_SECRET_KEY:\?[^}]*\}", secret), secret


def test_replicas_sit_behind_a_caddy_proxy_that_alone_is_published(
    compose: dict,
) -> None:
    services = compose["services"]
    proxy = services["proxy"]
    assert proxy["image"].split(":")[0] == "caddy"  # the official image
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    assert proxy["depends_on"]["app"]["condition"] == "service_healthy"
    published = [name for name, service in services.items() if "ports" in service]
    assert sorted(published) == ["proxy", "testdb"]
    assert services["testdb"]["ports"][0].startswith("127.0.0.1:")
    replicas = re.fullmatch(
        r"\$\{MUTUAL_REPLICAS:-(\d+)\}", services["app"]["deploy"]["replicas"]
    )
    assert replicas
    assert int(replicas.group(1)) >= 2


def test_the_proxy_streams_events_unbuffered_to_every_replica() -> None:
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    events = caddyfile[caddyfile.index("handle @events") :]
    events = events[: events.index("\n\t}\n")]
    assert "flush_interval -1" in events
    assert re.search(r"path_regexp events \^/plans/\[\^/\]\+/events\$", caddyfile)
    assert "dynamic a app 8000" in caddyfile
    for timeout in ("read_header", "read_body", "dial_timeout", "lb_try_duration"):
        assert re.search(rf"\b{timeout} \d+[sm]\b", caddyfile), timeout


def test_dockerfile_serves_the_workers_it_is_asked_for(
    instructions: Instructions,
) -> None:
    (cmd,) = _args(instructions, "CMD")
    assert "mutual migrate && exec mutual serve" in cmd
    assert '--workers \\"${MUTUAL_WORKERS:-1}\\"' in cmd


def test_dockerfile_is_multi_stage_with_a_node_stage(
    instructions: Instructions,
) -> None:
    stages = _args(instructions, "FROM")
    assert len(stages) >= 2
    assert any(stage.startswith("node:") for stage in stages)
    assert stages[-1].startswith("python:")


# Every script prints: Noto for Latin, Greek, Cyrillic, Arabic, Hebrew and
# Devanagari (core), Chinese/Japanese/Korean (cjk) and emoji, and HarfBuzz's
# subsetter, without which embedding a CJK font takes seconds.
PRINT_PACKAGES = (
    "fonts-noto-core",
    "fonts-noto-cjk",
    "fonts-noto-color-emoji",
    "libharfbuzz-subset0",
)


def test_dockerfile_installs_pango_and_a_font(instructions: Instructions) -> None:
    runs = " ".join(_args(instructions, "RUN"))
    assert "libpango-1.0-0" in runs
    assert "libpangoft2-1.0-0" in runs
    assert re.search(r"\bfonts-[a-z0-9-]+", runs)


@pytest.mark.parametrize("where", ["Dockerfile", ".ci/run", "README.md"])
def test_every_install_names_the_fonts_for_every_script(where: str) -> None:
    text = (ROOT / where).read_text()
    for package in PRINT_PACKAGES:
        assert re.search(rf"(?<![\w-]){re.escape(package)}(?![\w-])", text), package


def test_dockerfile_drops_root_before_cmd(instructions: Instructions) -> None:
    keywords = [kw for kw, _ in instructions]
    assert "CMD" in keywords
    before_cmd = instructions[: keywords.index("CMD")]
    users = _args(before_cmd, "USER")
    assert users, "no USER before CMD"
    assert users[-1].split(":")[0] not in {"root", "0"}


def test_dockerfile_copies_vendor_files_from_the_node_stage(
    instructions: Instructions,
) -> None:
    copies = " ".join(_args(instructions, "COPY"))
    assert "--from=" in copies
    assert "static/vendor" in copies


def test_dockerfile_fetches_nothing_from_the_web(instructions: Instructions) -> None:
    text = " ".join(args for _, args in instructions)
    assert not re.search(r"\b(curl|wget)\b", text)
    urls = re.findall(r"https?://[^\s'\"]+", text)
    assert all(url.startswith("http://127.0.0.1:") for url in urls), urls


def test_dockerfile_healthcheck_asks_healthz(instructions: Instructions) -> None:
    (healthcheck,) = _args(instructions, "HEALTHCHECK")
    assert "http://127.0.0.1:8000/healthz" in healthcheck


def test_dockerignore_keeps_local_state_out_of_the_image() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", "node_modules", "var", "static/vendor"} <= ignored
