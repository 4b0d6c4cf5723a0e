"""The reference dashboard (dashboard/, a React app) served under /dashboard by
`paygraph serve --dashboard` (PAYGRAPH_DASHBOARD_DIR): its built files, and index.html for
any other path below it, as the app routes in the browser (/dashboard/payments/<id> is a
screen, not a file). Its operations are the gateway's trusted documents: the build
writes them next to index.html (TRUSTED_DOCUMENTS_FILE), and serving the dashboard loads
them unless PAYGRAPH_TRUSTED_DOCUMENTS names another manifest (gateway.settings).

Settings read this module, so it loads no web framework: the files are served by
gateway.dashboard_files."""

from __future__ import annotations

from pathlib import Path

from gateway.environment import SettingsError

MOUNT_PATH = "/dashboard"
# Where scripts/dashboard builds it, in a checkout.
BUILT_DIR = Path(__file__).resolve().parent.parent / "dashboard" / "dist"
TRUSTED_DOCUMENTS_FILE = "trusted-documents.json"
# Vite names these files by their content's hash: a new build is a new name.
HASHED_ASSETS = "assets/"


def check_built(directory: str) -> None:
    """Raises SettingsError (one line, naming the build command) unless `directory`
    holds a built dashboard."""
    if not (Path(directory) / "index.html").is_file():
        raise SettingsError(
            f"PAYGRAPH_DASHBOARD_DIR: {directory} holds no built dashboard (no index.html): "
            "run scripts/dashboard first"
        )
