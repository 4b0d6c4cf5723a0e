"""Run Alembic migrations from code, on an async engine's connection.

Alembic (with mako and pygments, for its templates) is imported once the database has
opened: a command given a database it cannot use says so without loading it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from db.provisioning import open_database

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection
    from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database to `revision`: creates the SQLite file on first use, and a
    missing PostgreSQL database when the URL's user may (db.provisioning); a database
    it cannot use raises DatabaseUnavailable."""
    await open_database(engine)
    from alembic import command

    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))
