"""The two media types of a GraphQL answer over HTTP, and which one a client's Accept
header asks for (GraphQL over HTTP: application/json, the legacy one, and
application/graphql-response+json)."""

from __future__ import annotations

import math

APPLICATION_JSON = "application/json"
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"


def response_media_type(accept: str | None) -> str:
    """GRAPHQL_RESPONSE_JSON when the Accept header ranks it at least as high as
    application/json (named, or through `application/*` or `*/*`); application/json
    otherwise, including when Accept is missing or names neither."""
    if not accept or GRAPHQL_RESPONSE_JSON not in accept.lower():
        return APPLICATION_JSON
    ours = json = 0.0
    for item in accept.lower().split(","):
        media_type, _, parameters = item.partition(";")
        quality = _quality(parameters)
        media_type = media_type.strip()
        if media_type == GRAPHQL_RESPONSE_JSON:
            ours = max(ours, quality)
        elif media_type in {APPLICATION_JSON, "application/*", "*/*"}:
            json = max(json, quality)
    return GRAPHQL_RESPONSE_JSON if ours > 0 and ours >= json else APPLICATION_JSON


def content_type(media_type: str) -> str:
    """The Content-Type header of an answer in `media_type`."""
    if media_type == GRAPHQL_RESPONSE_JSON:
        return f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8"
    return APPLICATION_JSON


def _quality(parameters: str) -> float:
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip() == "q":
            try:
                quality = float(value)
            except ValueError:
                return 0.0
            return min(quality, 1.0) if math.isfinite(quality) and quality > 0 else 0.0
    return 1.0
