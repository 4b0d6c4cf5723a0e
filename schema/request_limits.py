"""The bounds one GraphQL request is held to: operation depth, aliases, lexical tokens
and body bytes. Values only, apart from schema.limits (the rules that enforce them, on
graphql-core) so that `paygraph` can read the settings without loading the schema."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RequestLimits:
    max_depth: int = 10
    max_aliases: int = 15
    max_tokens: int = 2000
    max_body_bytes: int = 256 * 1024
    hide_suggestions: bool = False  # strip "Did you mean ...?" from validation errors
