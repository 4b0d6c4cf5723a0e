"""The resolver path's speed-ups, behind one switch (PAYGRAPH_RESOLVER_SPEEDUPS, on by
default; `off` runs plain Strawberry resolvers):

- lean resolvers (`lean.use_lean_resolvers`): the fields resolved on every row of a
  page get their own resolver handed to graphql-core, without Strawberry's per-call
  layer; a child list converts its arguments once per field node and request;
- prefetching (`prefetch.prefetch`): a list that has its page loads the relations its
  rows' selection asks for, one loader call per relation, before the rows resolve.

On PostgreSQL the root fields the read catalog covers are compiled instead
(schema.compiled_execution). These speed-ups serve SQLite, the fields that fall back to
the resolvers and compiled reads switched off: a dashboard page whose selection holds
one uncovered field (`availableTransitions`, say) is answered by the resolvers whole,
and there they take a third off its CPU (W1's 100 payments: 53 ms with them, 79 ms
without, in-process). The answers are the same either way; the schema-level tests hold
plain resolvers (these and compilation off) to PostgreSQL too, on their
`postgresql-resolvers` backend (tests/backends.py).
"""

from __future__ import annotations

import os

SWITCH = "PAYGRAPH_RESOLVER_SPEEDUPS"


def enabled_by_environment() -> bool:
    """Whether PAYGRAPH_RESOLVER_SPEEDUPS leaves the speed-ups on (anything but `off`,
    `false`, `0` or `no`)."""
    return os.environ.get(SWITCH, "on").strip().lower() not in {"off", "false", "0", "no"}
