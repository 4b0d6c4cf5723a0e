"""What a user can get wrong with the `paygraph` command (a PAYGRAPH_* value, the
DATABASE_URL, a flag, the database itself) is one line on stderr naming what to fix, and a
non-zero exit: never a traceback. Each case runs the real console script."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from db.engine import engine_for
from tests.databases import postgres_admin_url
from tests.e2e.server import free_port

PAYGRAPH = str(Path(sys.executable).with_name("paygraph"))


def paygraph(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PAYGRAPH, *args],
        env={"PATH": "/usr/bin:/bin", **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_refused(done: subprocess.CompletedProcess[str], *named: str, code: int = 2) -> str:
    """The command failed with `code` and said why in one line naming each of `named`."""
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == code, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    for word in named:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize(
    ("variable", "value", "accepted"),
    [
        # Once read as false: introspection silently off.
        ("PAYGRAPH_INTROSPECTION", "enabled", "true or false (or 1/0, yes/no, on/off"),
        ("PAYGRAPH_GRAPHIQL", "2", "true or false"),
        ("PAYGRAPH_COMPILED_READS", "of", "true or false"),
        ("PAYGRAPH_RESOLVER_SPEEDUPS", "disabled", "true or false"),
        ("PAYGRAPH_SMTP_STARTTLS", "ture", "true or false"),
        # Once bound a random port while the banner said :99999.
        ("PAYGRAPH_PORT", "99999", "an integer from 1 to 65535"),
        ("PAYGRAPH_PORT", "0", "an integer from 1 to 65535"),
        ("PAYGRAPH_WORKERS", "0", "an integer from 1 to 32"),
        ("PAYGRAPH_MAX_DEPTH", "ten", "an integer of at least 1"),
        ("PAYGRAPH_ENV", "prod", "one of development, production"),
        ("PAYGRAPH_PAYOUT_PROVIDER", "paypal", "one of sandbox, http"),
        ("PAYGRAPH_REQUEST_TIMEOUT", "nan", "a number of seconds"),
        ("PAYGRAPH_MAX_QUERY_COST", "0", "at least 1"),
        ("PAYGRAPH_EXPORT_CONNECTIONS", "1000", "1..100"),
        ("PAYGRAPH_HEADER_TIMEOUT", "-1", "more than 0"),
        ("PAYGRAPH_PAYOUT_RECONCILE_BATCH", "501", "1 to 500"),
        ("PAYGRAPH_REDIS_URL", "http://cache", "redis://"),
        ("PAYGRAPH_TRUSTED_PROXIES", "proxy.internal", "PAYGRAPH_TRUSTED_PROXIES"),
        ("PAYGRAPH_JWT_JWKS_URL", "ftp://keys", "an http:// or https:// URL"),
        ("PAYGRAPH_PAYOUT_URL", "payouts.example", "an http:// or https:// URL"),
        ("PAYGRAPH_JWT_PUBLIC_KEY_FILE", "/no/such/key.pem", "a readable PEM file"),
        ("DATABASE_URL", "mysql://root:hunter2@db/paygraph", "postgresql://"),
        ("DATABASE_URL", "not a url", "sqlite://"),
        ("DATABASE_URL", "postgresql://paygraph:hunter2@db:five/paygraph", "1 to 65535"),
    ],
)
def test_serve_refuses_a_bad_value_in_one_line(
    tmp_path: Path, variable: str, value: str, accepted: str
) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}", variable: value}

    done = paygraph("serve", env=env, cwd=tmp_path)

    line = assert_refused(done, variable, accepted)
    assert line.startswith("paygraph serve: ")
    assert "hunter2" not in line  # a URL's password is never echoed
    assert not (tmp_path / "p.db").exists()  # refused before anything was migrated


# What a refused start may have loaded: the schema, the app, the server and the database
# load only once every setting passed (the JWT key check alone loads PyJWT).
LOADED_AFTER_THE_SETTINGS = {
    "alembic",
    "graphql",
    "opentelemetry",
    "prometheus_client",
    "sqlalchemy",
    "starlette",
    "strawberry",
    "uvicorn",
}


def test_every_setting_is_checked_before_the_schema_app_or_database_load(tmp_path: Path) -> None:
    # OTEL_* is read last: refusing it, serve has read every other setting.
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}", "OTEL_TRACES_EXPORTER": "zipkin"}
    serve = "import sys; from gateway.cli import main; code = main(['serve']); "
    report = "print(*sys.modules); sys.exit(code)"

    done = subprocess.run(
        [sys.executable, "-c", serve + report],
        env={"PATH": "/usr/bin:/bin", **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert_refused(done, "paygraph serve: OTEL_TRACES_EXPORTER", "otlp, console, none")
    loaded = {name.partition(".")[0] for name in done.stdout.split()}
    assert loaded.isdisjoint(LOADED_AFTER_THE_SETTINGS), sorted(loaded & LOADED_AFTER_THE_SETTINGS)


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["demo", "--payments", "-5"], ["--payments", "from 0 to 1,000,000", "'-5'"]),
        (["demo", "--payments", "1000001"], ["--payments", "from 0 to 1,000,000"]),
        (["demo", "--payments", "many"], ["--payments", "'many'"]),
        (["serve", "--demo-payments", "2000000"], ["--demo-payments", "1,000,000"]),
        (["serve", "--port", "99999"], ["--port", "from 1 to 65,535"]),
        (["serve", "--workers", "0"], ["--workers", "from 1 to 32"]),
        (["no-such-command"], ["invalid choice"]),
        (["db", "upgrade", "no-such-revision"], ["no-such-revision"]),
    ],
)
def test_a_bad_flag_is_one_line(tmp_path: Path, args: list[str], named: list[str]) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"}
    assert_refused(paygraph(*args, env=env, cwd=tmp_path), *named)


def test_the_demo_refuses_a_database_that_has_tenants(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"}
    first = paygraph("demo", "--payments", "3", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr

    again = paygraph("demo", "--payments", "3", env=env, cwd=tmp_path)

    assert_refused(again, "paygraph demo: ", "empty database", "has tenants", code=1)


def test_a_sqlite_file_that_cannot_be_opened_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    env = {"DATABASE_URL": f"sqlite:///{blocker / 'p.db'}"}

    done = paygraph("db", "upgrade", env=env, cwd=tmp_path)

    assert_refused(done, "cannot open the SQLite database", str(blocker / "p.db"), code=1)


def test_a_postgresql_server_that_is_not_there_is_named(tmp_path: Path) -> None:
    port = free_port()  # nothing listens on it
    env = {"DATABASE_URL": f"postgresql://paygraph:hunter2@127.0.0.1:{port}/paygraph"}

    done = paygraph("demo", env=env, cwd=tmp_path)

    line = assert_refused(done, f"cannot reach PostgreSQL on 127.0.0.1:{port}", code=1)
    assert "hunter2" not in line


# --- a missing PostgreSQL database ------------------------------------------------------


def _admin(statements: list[str]) -> None:
    admin_url = postgres_admin_url()
    assert admin_url is not None

    async def run() -> None:
        async with (
            engine_for(admin_url, isolation_level="AUTOCOMMIT") as engine,
            engine.connect() as connection,
        ):
            for statement in statements:
                await connection.execute(text(statement))

    asyncio.run(run())


def _exists(database: str) -> bool:
    admin_url = postgres_admin_url()
    assert admin_url is not None

    async def run() -> bool:
        async with engine_for(admin_url) as engine, engine.connect() as connection:
            found = await connection.scalar(
                text("SELECT count(*) FROM pg_database WHERE datname = :name"), {"name": database}
            )
            return bool(found)

    return asyncio.run(run())


@pytest.fixture
def missing_database() -> Iterator[str]:
    admin_url = postgres_admin_url()
    if admin_url is None:
        pytest.skip("PostgreSQL tests need PAYGRAPH_TEST_POSTGRES_URL")
    name = f"paygraph_missing_{uuid.uuid4().hex[:10]}"
    yield name
    _admin([f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'])


@pytest.mark.postgres
def test_a_missing_database_is_created_when_the_user_may(
    tmp_path: Path, missing_database: str
) -> None:
    admin_url = postgres_admin_url()
    assert admin_url is not None
    url = make_url(admin_url).set(drivername="postgresql", database=missing_database)
    env = {"DATABASE_URL": url.render_as_string(hide_password=False)}

    done = paygraph("db", "upgrade", env=env, cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert _exists(missing_database)


@pytest.mark.postgres
def test_a_missing_database_is_named_when_the_user_may_not_create_it(
    tmp_path: Path, missing_database: str
) -> None:
    admin_url = postgres_admin_url()
    assert admin_url is not None
    role = f"paygraph_nocreate_{uuid.uuid4().hex[:8]}"
    _admin([f'CREATE ROLE "{role}" LOGIN NOCREATEDB NOSUPERUSER'])
    try:
        url = make_url(admin_url).set(
            drivername="postgresql", username=role, password=None, database=missing_database
        )
        env = {"DATABASE_URL": url.render_as_string(hide_password=False)}

        done = paygraph("db", "upgrade", env=env, cwd=tmp_path)
    finally:
        _admin([f'DROP ROLE IF EXISTS "{role}"'])

    assert_refused(
        done, f"database '{missing_database}' does not exist", "may not create databases", code=1
    )
    assert not _exists(missing_database)
