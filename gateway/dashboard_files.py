"""The built dashboard's files under /dashboard (gateway.dashboard)."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from gateway.dashboard import HASHED_ASSETS


class DashboardFiles(StaticFiles):
    """The built files; index.html for a path below /dashboard that names none (the
    app's own routes), but a 404 for a missing asset, so a stale page fails visibly."""

    def __init__(self, directory: str) -> None:
        super().__init__(directory=directory, html=True)

    async def get_response(self, path: str, scope: Any) -> Response:
        try:
            response = await super().get_response(path, scope)
        except HTTPException as error:
            if error.status_code != 404 or path.startswith(HASHED_ASSETS) or "." in path:
                raise
            response = await super().get_response("index.html", scope)
        if path.startswith(HASHED_ASSETS):
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        else:
            # index.html names the current build's assets: always asked again.
            response.headers["Cache-Control"] = "no-cache"
        return response
