"""The database adapter: SQLAlchemy models, engine, loaders, migrations and demo data."""
