"""The `paygraph` command: serve, db upgrade, demo, token, manager create, outbox run,
expire, payouts reconcile, statement, documents check, export-schema."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from db.demo_size import MAX_PAYMENTS
from domain.errors import DomainError
from domain.permissions import ALL_PERMISSIONS, COMPLETE_PAYMENTS, VIEW_PAYMENTS
from gateway.environment import MAX_WORKERS, PORTS, SettingsError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from gateway.settings import Settings

# Each command imports what it needs (asyncio, the database, the schema, the app) itself,
# once its settings are read: a mistyped flag or setting is refused in a fraction of the
# time a full start takes.

DEMO_TENANT_ID = 1
MANAGER_DEFAULT_PERMISSIONS = (VIEW_PAYMENTS, COMPLETE_PAYMENTS)


def main(argv: list[str] | None = None) -> int:
    """Run one command. What a user can get wrong (a setting, a flag, the database they
    name) is one line on stderr and a non-zero exit; a traceback means a bug."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        return int(args.run(args) or 0)
    except SettingsError as error:  # a bad variable
        print(f"{args.command}: {error}", file=sys.stderr)
        return 2
    except Exception as error:
        code = _exit_code_of(error)
        if code is None:
            raise
        print(f"{args.command}: {error}", file=sys.stderr)
        return code


def _exit_code_of(error: Exception) -> int | None:
    """2 for an unknown revision, 1 for a database that cannot be used as it is, None
    for a bug. Each class is imported once the one before did not match, so that none
    loads a module its command has not: every command that opens a database has loaded
    db.provisioning, only a migration loads alembic, and only the demo db.demo."""
    from db.provisioning import DatabaseUnavailable

    if isinstance(error, DatabaseUnavailable):
        return 1
    from alembic.util import CommandError

    if isinstance(error, CommandError):
        return 2
    from db.demo import DemoNeedsEmptyDatabase

    if isinstance(error, DemoNeedsEmptyDatabase):
        return 1
    return None


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error on one line (naming the command and its --help) and
    the command's name kept in the parsed arguments for main's messages."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        parsed, rest = super().parse_known_args(args, namespace)
        if not hasattr(parsed, "command"):  # the innermost command parses first
            parsed.command = self.prog
        return parsed, rest


def _bounded(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: an integer from `low` to `high`."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            number = low - 1
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(
                f"must be an integer from {low:,} to {high:,}, not {value!r}"
            )
        return number

    return parse


def _parser() -> argparse.ArgumentParser:
    demo_payments = _bounded(0, MAX_PAYMENTS)
    parser = _Parser(prog="paygraph", description=__doc__)
    commands = parser.add_subparsers(title="commands")

    serve = commands.add_parser("serve", help="migrate, then serve GraphQL with uvicorn")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=_bounded(PORTS[0], PORTS[-1]), default=None)
    serve.add_argument(
        "--workers",
        type=_bounded(1, MAX_WORKERS),
        default=None,
        help="worker processes (PAYGRAPH_WORKERS, 1)",
    )
    serve.add_argument("--demo", action="store_true", help="load demo data into an empty db")
    serve.add_argument(
        "--demo-payments", type=demo_payments, default=2000, help=f"at most {MAX_PAYMENTS:,}"
    )
    serve.add_argument(
        "--dashboard",
        action="store_true",
        help="serve the built dashboard under /dashboard and trust its operations "
        "(PAYGRAPH_DASHBOARD_DIR, dashboard/dist; build it with scripts/dashboard)",
    )
    serve.set_defaults(run=_serve)

    database = commands.add_parser("db", help="database maintenance")
    database_commands = database.add_subparsers(title="db commands")
    database_upgrade = database_commands.add_parser("upgrade", help="apply migrations")
    database_upgrade.add_argument("revision", nargs="?", default="head")
    database_upgrade.set_defaults(run=_db_upgrade)

    demo = commands.add_parser("demo", help="load deterministic demo data")
    demo.add_argument(
        "--payments", type=demo_payments, default=2000, help=f"at most {MAX_PAYMENTS:,}"
    )
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument(
        "--scale",
        choices=("demo", "bench"),
        default="demo",
        help="bench: the benchmark's dataset (3 tenants, 2,000 partners, 20,000 merchants, "
        "3 detail rows and 2 documents per payment on average)",
    )
    demo.set_defaults(run=_demo)

    token = commands.add_parser("token", help="mint a development JWT")
    token.add_argument("--tenant", type=int, default=DEMO_TENANT_ID)
    token.add_argument("--user", type=int, default=1)
    token.add_argument("--partner", type=int, default=None)
    token.add_argument(
        "--permission",
        action="append",
        dest="permissions",
        help="repeatable; all permissions when omitted",
    )
    token.add_argument("--ttl", type=int, default=12 * 3600, help="lifetime in seconds")
    token.add_argument(
        "--graphiql-url",
        metavar="URL",
        help="print the GraphiQL URL (e.g. http://127.0.0.1:8000/graphql) that opens with "
        "the token in its headers, instead of the bare token",
    )
    token.set_defaults(run=_token)

    manager = commands.add_parser("manager", help="reseller managers' API tokens")
    manager_commands = manager.add_subparsers(title="manager commands")
    create = manager_commands.add_parser(
        "create", help="issue a manager's X-Api-Token (printed once, stored hashed)"
    )
    create.add_argument("--tenant", type=int, default=DEMO_TENANT_ID)
    create.add_argument("--reseller", type=int, required=True, help="the manager's reseller id")
    create.add_argument("--email", required=True, help="the manager; created when new")
    create.add_argument("--name", default=None)
    create.add_argument(
        "--permission",
        action="append",
        dest="permissions",
        help=f"repeatable; default: {', '.join(MANAGER_DEFAULT_PERMISSIONS)}",
    )
    create.set_defaults(run=_manager_create)
    revoke = manager_commands.add_parser(
        "revoke", help="revoke a manager's token by its first 12 characters (or whole)"
    )
    revoke.add_argument("token", help="the token, or the first 12 characters of it")
    revoke.set_defaults(run=_manager_revoke)

    outbox = commands.add_parser("outbox", help="deliver the notifications in the outbox")
    outbox_commands = outbox.add_subparsers(title="outbox commands")
    outbox_run = outbox_commands.add_parser(
        "run", help="deliver due notifications until SIGINT or SIGTERM (PAYGRAPH_SMTP_*, ...)"
    )
    outbox_run.add_argument(
        "--once", action="store_true", help="deliver what is due now, print the counts, exit"
    )
    outbox_run.set_defaults(run=_outbox_run)

    expire = commands.add_parser(
        "expire",
        help="move reseller payments past their expiration date to EXPIRED, once "
        "(the server also does it every PAYGRAPH_EXPIRY_INTERVAL seconds)",
    )
    expire.set_defaults(run=_expire)

    payouts = commands.add_parser("payouts", help="commission payouts")
    payouts_commands = payouts.add_subparsers(title="payouts commands")
    reconcile = payouts_commands.add_parser(
        "reconcile",
        help="ask the payout provider again about every payout attempt nobody holds (its "
        "payer timed out or died) and record its answers, once (the server also does it "
        "every PAYGRAPH_PAYOUT_RECONCILE_INTERVAL seconds)",
    )
    reconcile.set_defaults(run=_payouts_reconcile)

    statement = commands.add_parser(
        "statement",
        help="pull a month of a partner's payments from a running gateway, reconcile them "
        "with its aggregate and write the statement as CSV, JSON and PDF",
    )
    statement.add_argument("--url", required=True, help="the gateway's /graphql URL")
    credential = statement.add_mutually_exclusive_group()
    credential.add_argument("--token", help="a bearer JWT (or set PAYGRAPH_TOKEN)")
    credential.add_argument("--api-token", help="a manager's X-Api-Token (or PAYGRAPH_API_TOKEN)")
    which = statement.add_mutually_exclusive_group(required=True)
    which.add_argument("--partner", help="the partner's global ID or numeric id")
    which.add_argument("--all", action="store_true", help="every partner the caller can see")
    statement.add_argument("--month", required=True, help="YYYY-MM, in UTC")
    statement.add_argument("--output", type=Path, default=Path("statements"))
    statement.set_defaults(run=_statement)

    documents = commands.add_parser("documents", help="trusted documents")
    documents_commands = documents.add_subparsers(title="documents commands")
    documents_check = documents_commands.add_parser(
        "check",
        help="check a manifest of trusted documents against the schema (one line per "
        "problem; exit 1 if any)",
    )
    documents_check.add_argument("manifest", type=Path)
    documents_check.set_defaults(run=_documents_check)

    export = commands.add_parser("export-schema", help="print or write the SDL")
    export.add_argument("--output", type=Path, default=None)
    export.set_defaults(run=_export_schema)
    return parser


def _statement(args: argparse.Namespace) -> int:
    from domain.statements import Month

    token = args.token or (None if args.api_token else os.environ.get("PAYGRAPH_TOKEN"))
    api_token = args.api_token or (None if token else os.environ.get("PAYGRAPH_API_TOKEN"))
    if not token and not api_token:
        print("paygraph statement: give --token or --api-token", file=sys.stderr)
        return 2
    try:
        month = Month.parse(args.month)
    except DomainError as error:
        print(f"paygraph statement: {error.message}", file=sys.stderr)
        return 2
    # Imported once the arguments are known good: the PDF library takes a while to load,
    # and only this command needs it.
    import asyncio

    import httpx
    from gql.transport.exceptions import TransportError, TransportQueryError

    from gateway.statement_client import StatementSource
    from gateway.statement_run import StatementReport, generate_statements

    async def run() -> list[StatementReport]:
        async with StatementSource(args.url, token=token, api_token=api_token) as source:
            return await generate_statements(source, month, args.output, partner_id=args.partner)

    try:
        reports = asyncio.run(run())
    except DomainError as error:  # a statement that does not add up
        print(f"paygraph statement: {error.code}: {error.message}", file=sys.stderr)
        return 1
    except TransportQueryError as error:  # the gateway answered with an error
        found = error.errors[0] if error.errors else {}
        code = found.get("extensions", {}).get("code", "ERROR")
        print(f"paygraph statement: {code}: {found.get('message', error)}", file=sys.stderr)
        return 1
    except (TransportError, httpx.HTTPError) as error:  # refused or unreachable
        print(f"paygraph statement: the gateway failed: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # e.g. the output folder cannot be written
        print(f"paygraph statement: {error}", file=sys.stderr)
        return 1
    for report in reports:
        print(
            f"{report.files.pdf.with_suffix('.*')}: partner {report.partner.database_id}, "
            f"{report.payments:,} payments of {report.merchants} merchants, reconciled; "
            f"{report.requests} GraphQL requests in {report.seconds:.1f} s"
        )
    return 0


def _log_paygraph() -> None:
    """PayGraph's own loggers (outbox deliveries, logged notifications, masked errors) to
    stderr at INFO, as PAYGRAPH_LOG_FORMAT says (gateway.logs)."""
    from gateway.logs import configure_logging, log_format_from_env

    try:
        configure_logging(log_format_from_env())
    except SettingsError as error:
        print(f"paygraph: {error}", file=sys.stderr)
        raise SystemExit(2) from None


def _serve(args: argparse.Namespace) -> int:
    from gateway.cost_settings import CostSettings
    from gateway.export_settings import ExportSettings
    from gateway.metrics_settings import MetricsSettings
    from gateway.outbox_settings import OutboxSettings
    from gateway.reconcile_settings import ReconcileSettings
    from gateway.request_budget import RequestBudget
    from gateway.server_timeouts import ServerTimeouts
    from gateway.settings import Settings
    from gateway.tracing import exporter_from_env

    if args.dashboard:
        # As a variable, so that every worker process serves it too.
        from gateway.dashboard import BUILT_DIR

        os.environ.setdefault("PAYGRAPH_DASHBOARD_DIR", str(BUILT_DIR))
    # Every setting is checked before the schema, the app or the database load: a bad
    # value costs about what a mistyped flag does, and stops us before migrating (each
    # worker reads them again). The main settings come after the groups that do not need
    # them, as their JWT key check loads PyJWT.
    budget = RequestBudget.from_env()
    timeouts = ServerTimeouts.from_env()
    CostSettings.from_env()
    ExportSettings.from_env()
    OutboxSettings.from_env()
    MetricsSettings.from_env()
    settings = Settings.from_env()
    host = args.host or settings.host
    port = args.port or settings.port
    settings.check_listening_on(host)
    ReconcileSettings.from_env(settings.payouts.timeout)
    _log_paygraph()
    exporter_from_env()  # OTEL_*; loads the exporter when tracing is on
    from gateway.document_manifest import load_trusted_documents
    from schema.app_schema import schema

    documents = load_trusted_documents(settings, schema._schema)
    import asyncio

    summary = asyncio.run(_prepare(settings, demo=args.demo, payments=args.demo_payments))
    # Imported once the database is known good too: the app takes a while.
    import uvicorn
    from sqlalchemy.engine import make_url

    from gateway.app import create_app
    from gateway.auth import mint_token
    from gateway.graphiql_page import one_click_url
    from gateway.logs import log_config, log_format_from_env
    from gateway.timeout_protocol import uvicorn_options

    server = uvicorn_options(timeouts)
    logging_config = log_config(log_format_from_env())
    shown_url = make_url(settings.database_url).render_as_string(hide_password=True)
    print(f"PayGraph on {shown_url}", flush=True)
    if len(documents):
        only = " (no other document runs)" if documents.only else ""
        print(f"Trusted documents: {len(documents)}{only}", flush=True)
    if settings.graphiql:
        print(f"GraphiQL: http://{host}:{port}/graphql", flush=True)
    if settings.dashboard_dir is not None:
        print(f"Dashboard: http://{host}:{port}/dashboard/", flush=True)
    if args.demo and not settings.production and not settings.asymmetric:
        # A ready admin token for the demo only: a production log must never carry one,
        # and RS/ES tokens come from the identity provider.
        admin = summary.get("admin_id", 1)
        token = mint_token(
            settings, tenant_id=DEMO_TENANT_ID, user_id=admin, permissions=ALL_PERMISSIONS
        )
        print("Headers for GraphiQL (valid 12 h):", flush=True)
        print(f'{{"Authorization": "Bearer {token}"}}', flush=True)
        if settings.graphiql:
            headers = {"Authorization": f"Bearer {token}"}
            url = one_click_url(f"http://{host}:{port}/graphql", headers)
            print(f"GraphiQL with these headers, one click: {url}", flush=True)
    # proxy_headers=False: uvicorn would otherwise rewrite the client address from
    # X-Forwarded-For sent by any loopback peer; PayGraph reads that header itself, and
    # only from PAYGRAPH_TRUSTED_PROXIES (gateway.client_ip).
    # uvicorn applies `log_config` in every worker process before it builds the app; its
    # access log gives way to PayGraph's request lines (gateway.request_observer).
    logs = {"log_config": logging_config, "log_level": "info", "access_log": False}
    workers = args.workers or settings.workers
    if workers > 1:
        with _metrics_shared_by_workers():
            # Each worker builds its own app (and engine) from the same environment.
            uvicorn.run(
                "gateway.app:create_app",
                factory=True,
                workers=workers,
                host=host,
                port=port,
                proxy_headers=False,
                **logs,
                **server,
            )
        return 0
    uvicorn.run(
        create_app(settings, budget=budget, documents=documents),
        host=host,
        port=port,
        proxy_headers=False,
        **logs,
        **server,
    )
    return 0


@contextlib.contextmanager
def _metrics_shared_by_workers() -> Iterator[None]:
    """PROMETHEUS_MULTIPROC_DIR for the workers, so that each one's /metrics answers for
    all: a fresh temporary folder, removed when they have stopped. One already set (a
    container's own, say) is used as it is."""
    import tempfile

    from gateway.metrics import MULTIPROC_DIR

    if os.environ.get(MULTIPROC_DIR):
        yield
        return
    with tempfile.TemporaryDirectory(prefix="paygraph-metrics-") as folder:
        os.environ[MULTIPROC_DIR] = folder
        try:
            yield
        finally:
            del os.environ[MULTIPROC_DIR]


async def _prepare(settings: Settings, *, demo: bool, payments: int) -> dict[str, int]:
    from db.engine import engine_for
    from db.migrate import upgrade

    async with engine_for(settings.database_url) as engine:
        await upgrade(engine)
        if not demo:
            return {}
        from db.demo import is_empty, load_demo
        from gateway.storage import LocalDiskStorage

        if await is_empty(engine):
            # The documents' files go where the server reads them: PAYGRAPH_STORAGE_DIR.
            storage = LocalDiskStorage(Path(settings.storage_dir))
            summary = await load_demo(engine, payments=payments, progress=True, storage=storage)
            return {"admin_id": summary.admins["acme"]}
        return {}


def _db_upgrade(args: argparse.Namespace) -> int:
    from gateway.settings import Settings

    url = Settings.from_env().database_url
    import asyncio

    from db.engine import engine_for
    from db.migrate import upgrade

    async def run() -> None:
        async with engine_for(url) as engine:
            await upgrade(engine, args.revision)

    asyncio.run(run())
    print(f"database at {args.revision}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from gateway.settings import Settings

    settings = Settings.from_env()
    import asyncio

    from db.engine import engine_for
    from db.migrate import upgrade
    from gateway.storage import LocalDiskStorage

    async def run() -> None:
        async with engine_for(settings.database_url) as engine:
            await upgrade(engine)
            from db.demo import SCALES, load_demo  # loaded once the database has opened

            summary = await load_demo(
                engine,
                payments=args.payments,
                seed=args.seed,
                scale=SCALES[args.scale],
                progress=True,
                # The documents' files, where `paygraph serve` reads them.
                storage=LocalDiskStorage(Path(settings.storage_dir)),
            )
        for table, count in sorted(summary.counts.items()):
            print(f"{table:24} {count:>10,}")

    asyncio.run(run())
    return 0


def _token(args: argparse.Namespace) -> int:
    from gateway.settings import Settings

    permissions = args.permissions or sorted(ALL_PERMISSIONS)
    settings = Settings.from_env()
    if settings.asymmetric:
        print("paygraph token: RS/PS/ES tokens come from your identity provider", file=sys.stderr)
        return 2
    from gateway.auth import mint_token
    from gateway.graphiql_page import one_click_url

    token = mint_token(
        settings,
        tenant_id=args.tenant,
        user_id=args.user,
        permissions=permissions,
        partner_id=args.partner,
        ttl_seconds=args.ttl,
    )
    if args.graphiql_url:
        token = one_click_url(args.graphiql_url, {"Authorization": f"Bearer {token}"})
    print(token)
    return 0


def _manager_create(args: argparse.Namespace) -> int:
    from gateway.settings import Settings

    permissions = args.permissions or list(MANAGER_DEFAULT_PERMISSIONS)
    unknown = set(permissions) - ALL_PERMISSIONS
    if unknown:
        print(f"unknown permissions: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    url = Settings.from_env().database_url
    import asyncio

    from db.credentials import ManagerSetupError, create_manager_token
    from db.engine import engine_for
    from db.migrate import upgrade

    async def run() -> str:
        async with engine_for(url) as engine:
            await upgrade(engine)
            async with engine.begin() as connection:
                return await create_manager_token(
                    connection,
                    tenant_id=args.tenant,
                    reseller_id=args.reseller,
                    email=args.email,
                    name=args.name,
                    permissions=permissions,
                )

    try:
        token = asyncio.run(run())
    except ManagerSetupError as error:
        print(f"paygraph manager create: {error}", file=sys.stderr)
        return 2
    print("Manager API token (shown once; only its hash is stored). Send it as:")
    print(f"X-Api-Token: {token}")
    return 0


def _manager_revoke(args: argparse.Namespace) -> int:
    from gateway.settings import Settings

    url = Settings.from_env().database_url
    import asyncio

    from db.credentials import ManagerSetupError, revoke_api_token
    from db.engine import engine_for

    async def run() -> int:
        async with (
            engine_for(url) as engine,
            engine.begin() as connection,
        ):
            return await revoke_api_token(connection, args.token.strip())

    try:
        revoked = asyncio.run(run())
    except ManagerSetupError as error:
        print(f"paygraph manager revoke: {error}", file=sys.stderr)
        return 2
    print(f"revoked {revoked} token(s)")
    return 0 if revoked else 1


def _outbox_run(args: argparse.Namespace) -> int:
    from gateway.outbox_settings import OutboxSettings
    from gateway.settings import Settings

    settings = Settings.from_env()
    outbox_settings = OutboxSettings.from_env()
    _log_paygraph()
    import asyncio
    import signal

    from db.engine import engine_for
    from db.migrate import upgrade
    from gateway.notifiers import notifiers_from
    from gateway.outbox import DispatchReport, OutboxDispatcher, dispatcher_running

    async def run() -> DispatchReport:
        async with engine_for(settings.database_url) as engine:
            await upgrade(engine)
            if args.once:
                notifiers = notifiers_from(outbox_settings)
                dispatcher = OutboxDispatcher(
                    engine, outbox_settings, slack=notifiers.slack, mail=notifiers.mail
                )
                return await dispatcher.drain()
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
            async with dispatcher_running(engine, outbox_settings):
                await stop.wait()
            return DispatchReport()

    report = asyncio.run(run())
    if args.once:
        print(f"delivered {report.delivered}, retried {report.retried}, dead {report.dead}")
    return 0


def _expire(args: argparse.Namespace) -> int:
    from gateway.settings import Settings

    settings = Settings.from_env()
    _log_paygraph()
    import asyncio
    from datetime import timedelta

    from gateway.workflows import database_announcer, reseller_payments

    async def run() -> int:
        async with migrated_writes(settings.database_url) as writes:
            retention = timedelta(hours=settings.idempotency_retention_hours)
            payments = reseller_payments(writes, retention, database_announcer(writes))
            total = 0
            while expired := await payments.expire_due():
                total += expired
            return total

    print(f"expired {asyncio.run(run())} reseller payment(s)")
    return 0


def _payouts_reconcile(args: argparse.Namespace) -> int:
    from gateway.reconcile_settings import ReconcileSettings
    from gateway.settings import Settings

    settings = Settings.from_env()
    reconciling = ReconcileSettings.from_env(settings.payouts.timeout)
    _log_paygraph()
    import asyncio

    from domain.commission_payouts import ReconcileReport
    from gateway.payout_reconcile import reconcile_due
    from gateway.payouts import payout_provider
    from gateway.storage import LocalDiskStorage
    from gateway.workflows import build_workflows, database_announcer

    async def run() -> ReconcileReport:
        async with migrated_writes(settings.database_url) as writes:
            payouts = payout_provider(settings.payouts)
            storage = LocalDiskStorage(Path(settings.storage_dir))
            try:
                workflows = build_workflows(
                    settings,
                    writes,
                    payouts,
                    storage,
                    reconciling,
                    announcer=database_announcer(writes),
                )
                return await reconcile_due(workflows.commission, reconciling.batch)
            finally:
                await payouts.close()

    report = asyncio.run(run())
    print(
        f"reconciled {report.handled} payout attempt(s): {report.paid} paid, "
        f"{report.declined} declined, {report.failed} failed, {report.pending} still pending"
    )
    return 1 if report.pending else 0


def _documents_check(args: argparse.Namespace) -> int:
    from gateway.manifest_file import ManifestError, read_manifest
    from gateway.settings import Settings

    try:
        settings = Settings.from_env()
        manifest = read_manifest(args.manifest)
    except SettingsError as error:  # ManifestError too: no manifest to check
        print(f"paygraph documents check: {error}", file=sys.stderr)
        return 1 if isinstance(error, ManifestError) else 2
    from gateway.document_manifest import check_manifest
    from schema.app_schema import schema

    documents, problems = check_manifest(
        manifest, schema._schema, settings.limits, introspection=settings.introspection
    )
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{args.manifest}: {len(documents)} trusted documents fit to run, {len(problems)} not")
    return 1 if problems else 0


def _export_schema(args: argparse.Namespace) -> int:
    from schema.app_schema import schema

    sdl = schema.as_str() + "\n"
    if args.output is None:
        sys.stdout.write(sdl)
    else:
        args.output.write_text(sdl)
    return 0


@contextlib.asynccontextmanager
async def migrated_writes(url: str) -> AsyncIterator[AsyncEngine]:
    """The engine a one-off command writes through (db.engine.write_engine), on a
    database migrated first; disposed when the command is done."""
    from db.engine import engine_for, write_engine
    from db.migrate import upgrade

    async with engine_for(url) as engine:
        await upgrade(engine)
        writes = write_engine(engine)
        try:
            yield writes
        finally:
            if writes is not engine:
                await writes.dispose()


if __name__ == "__main__":
    sys.exit(main())
