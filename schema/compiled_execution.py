"""Compiled execution: a query's root fields that the read catalog covers are answered
by one SQL statement each, which builds the field's JSON in the database; the others,
and every mutation, run through the resolvers in the same response.

A root field is planned (schema.compiled_plan) once per operation and variable values,
and the plan kept. When the context carries no compiled reader (SQLite, or compilation
switched off), a field is not covered, its arguments are refused, or its statement
finds nothing or stops on a data error (a lookup of a hidden row, a sum beyond BigInt),
the field goes the resolvers' way, which answers exactly as before: its value, or its
error at its path.

A covered field's answer (domain.read_plan.Answer) is the statement's JSON text, which
`encode` splices into the response without parsing it; only an answer holding cursors is
parsed, to write them (`finish_cursors`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import orjson
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLObjectType, OperationType
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.graphql import OperationType as StrawberryOperation

from domain import read_plan as p
from domain.filtering import statement_writes_cursors
from domain.kept import KeptPerObject
from domain.permissions import allows
from resolvers.cursors import cursor_of
from resolvers.nodes import LOADER_OF_TYPE
from schema.compiled_plan import Planner

PLANS_KEPT = 1024

_PLANS: KeptPerObject[p.Root | None] = KeptPerObject(PLANS_KEPT)


class CompiledExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, answering covered root fields with compiled statements."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        reads = getattr(self.context_value, "compiled", None)
        compiling = reads is not None and self.operation.operation is OperationType.QUERY
        self._reads = reads if compiling else None
        self._planner: Planner | None = None

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        if (
            self._reads is not None
            and path.prev is None
            and self._allowed(parent_type, field_details_list)
        ):
            plan = self._plan_of(parent_type, field_details_list, path.key)
            if plan is not None:
                return self._compiled(
                    plan, parent_type, source, field_details_list, path, position_context
                )
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    def _allowed(self, root_type: GraphQLObjectType, details: FieldDetailsList) -> bool:
        """Whether the caller may run the root field (the permission matrix guards every
        root field's resolver, schema.authorization); if not, the resolver refuses it."""
        operation = f"{root_type.name}.{details[0].node.name.value}"
        return allows(self.context_value.principal, operation)

    async def _compiled(
        self,
        plan: p.Root,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        reads = self._reads
        assert reads is not None  # a field is planned only when there is a reader
        try:
            found = await reads.fetch(plan)
        except Exception as error:
            # As graphql-core reports a resolver's error (a statement timeout, say).
            field = parent_type.fields[field_details_list[0].node.name.value]
            self.handle_field_error(error, field.type, field_details_list, path)
            return None
        if found is None:
            # Nothing found or nothing computable: the resolvers say what that means.
            result = super().execute_field(
                parent_type, source, field_details_list, path, position_context
            )
            return await result if self.is_awaitable(result) else result
        name = field_details_list[0].node.name.value
        self.context_value.compiled_roots[str(path.key)] = (name, plan)
        return _value(plan, found)

    def _plan_of(
        self, root_type: GraphQLObjectType, details: FieldDetailsList, key: str | int
    ) -> p.Root | None:
        variables = repr(sorted(self.variable_values.coerced.items()))

        def plan() -> p.Root | None:
            field = root_type.fields.get(details[0].node.name.value)
            return None if field is None else self._planner_of().root(field, details)

        return _PLANS.get_or_make(self.operation, (str(key), variables), plan)

    def _planner_of(self) -> Planner:
        if self._planner is None:
            strawberry_schema = _strawberry_schema(self.schema)
            self._planner = Planner(
                self.schema,
                self.fragments,
                self.variable_values,
                self.operation,
                strawberry_schema.schema_converter.scalar_registry,
                strawberry_schema.config,
                LOADER_OF_TYPE,
            )
        return self._planner


def _value(plan: p.Root, found: p.Answer) -> Any:
    """The root field's value: the statement's text as it is, unless it holds cursors."""
    if not _has_cursors(plan):
        return found
    value = found.parsed()
    finish_cursors(plan, value)
    return value


class CompiledOperation(SchemaExtension):
    """A query whose every root field compiled statements answered, the last time it came
    with the same variables, is answered by those statements without graphql-core's
    executor: its root fields' plans are kept, after the cost was taken (schema.query_cost,
    before this extension), each is checked against the caller's permissions and fetched,
    and the answers are the result. Anything else (a permission refused, a statement that
    finds nothing or fails) leaves the operation to the executor, which answers and
    reports as ever (CompiledExecutor). The document and its validation are the
    extensions' before this one, and kept."""

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        kept = self._kept()
        if kept is not None and kept.roots and context.result is None:
            data = await _answered(context.context, kept.roots)
            if data is not None:
                context.result = GraphQLExecutionResult(data=data)
                yield
                return
        yield
        result = context.result
        answered = getattr(context.context, "compiled_roots", None)
        if kept is None or not answered or result is None or result.errors:
            return
        if isinstance(result.data, dict) and list(result.data) == list(answered):
            kept.roots = tuple((key, *answered[key]) for key in result.data)

    def _kept(self) -> _Operation | None:
        context = self.execution_context
        reads = getattr(context.context, "compiled", None)
        document = context.graphql_document
        if (
            reads is None
            or document is None
            or context.operation_type is not StrawberryOperation.QUERY
        ):
            return None
        try:
            variables = orjson.dumps(context.variables or {}, option=orjson.OPT_SORT_KEYS)
        except TypeError:
            return None  # not JSON (a Python caller's): planned by the executor each time
        return _OPERATIONS.get_or_make(document, (context.operation_name, variables), _Operation)


class _Operation:
    """An operation with given variables: its root fields when compiled statements
    answered them all, as (response key, field, plan)."""

    __slots__ = ("roots",)

    def __init__(self) -> None:
        self.roots: tuple[tuple[str, str, p.Root], ...] = ()


OPERATIONS_KEPT = 1024
_OPERATIONS: KeptPerObject[_Operation] = KeptPerObject(OPERATIONS_KEPT)


async def _answered(
    context: Any, roots: tuple[tuple[str, str, p.Root], ...]
) -> dict[str, Any] | None:
    """Each root field's value from its statement; None when one may not be asked for by
    the caller, or was not answered: the executor then runs the operation."""
    if not all(allows(context.principal, f"Query.{name}") for _, name, _ in roots):
        return None
    reads = context.compiled
    if len(roots) == 1:
        try:
            found: list[Any] = [await reads.fetch(roots[0][2])]
        except Exception:  # the executor runs it again and reports the error at its path
            return None
    else:  # at once, as the executor runs root fields; each finishes either way
        fetched = [reads.fetch(plan) for _, _, plan in roots]
        found = await asyncio.gather(*fetched, return_exceptions=True)
    answers = [answer for answer in found if isinstance(answer, p.Answer)]
    if len(answers) != len(roots):
        return None
    pairs = zip(roots, answers, strict=True)
    return {key: _value(plan, answer) for (key, _, plan), answer in pairs}


def encode(response: Any) -> bytes:
    """A response as JSON, compiled answers spliced in as their statements wrote them."""
    return orjson.dumps(response, default=_spliced)


def _spliced(value: Any) -> orjson.Fragment:
    if isinstance(value, p.Answer):
        return orjson.Fragment(value.text)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _strawberry_schema(schema: Any) -> Any:
    return schema._strawberry_schema


# Cursors -----------------------------------------------------------------------------


def finish_cursors(plan: Any, value: Any) -> None:
    """Replace the `[id, sort values...]` the statement wrote for each cursor with the
    cursor itself (resolvers.cursors). Only the parts of the answer that hold cursors
    are walked."""
    if isinstance(plan, p.Lookup):
        _finish_object(plan.row.fields, value)
    elif _has_cursors(plan):
        _finish_list(plan, value)


def _has_cursors(node: Any) -> bool:
    """Whether a plan node's answer holds a cursor (kept per node: plans are kept)."""
    return _CURSORS.get_or_make(node, None, lambda: _holds_cursors(node))


def _holds_cursors(node: Any) -> bool:
    if isinstance(node, p.EdgeCursor):
        holds = True
    elif isinstance(node, p.Counted):
        holds = node.part in (p.PagePart.START_CURSOR, p.PagePart.END_CURSOR)
    elif isinstance(node, p.Rows):
        holds = _has_cursors(node.row)
    elif isinstance(node, p.ToOne | p.KeyRow):
        holds = _has_cursors(node.target)
    elif isinstance(node, p.Lookup):
        holds = _has_cursors(node.row)
    elif isinstance(node, p.ListShape):
        python_writes = not statement_writes_cursors(node.request.order)
        holds = any(_part_holds(part, python_writes) for _, part in node.fields)
    elif isinstance(node, p.RowShape | p.Composite | p.Edges | p.Groups | p.GroupNodes):
        holds = any(_has_cursors(part) for _, part in node.fields)
    else:
        holds = False
    return holds


CURSOR_PARTS = (p.PagePart.START_CURSOR, p.PagePart.END_CURSOR)


def _part_holds(part: Any, python_writes: bool) -> bool:
    """Whether a part of a list's answer holds a cursor for Python to write: its own
    cursors when the statement could not write them, or a list's below its rows."""
    if isinstance(part, p.EdgeCursor) or (
        isinstance(part, p.Counted) and part.part in CURSOR_PARTS
    ):
        return python_writes
    if isinstance(part, p.Edges | p.Composite):
        return any(_part_holds(inner, python_writes) for _, inner in part.fields)
    return _has_cursors(part)


CURSOR_FACTS_KEPT = 100_000
_CURSORS: KeptPerObject[bool] = KeptPerObject(CURSOR_FACTS_KEPT)


def _finish_object(fields: p.Fields, value: Any) -> None:
    if value is None:
        return
    for key, node in fields:
        if not _has_cursors(node):
            continue
        if isinstance(node, p.ListShape):
            _finish_list(node, value[key])
        elif isinstance(node, p.ToOne):
            _finish_object(node.target.fields, value[key])
        elif isinstance(node, p.Composite):
            _finish_object(node.fields, value[key])


def _finish_list(shape: p.ListShape, value: dict[str, Any]) -> None:
    order = shape.request.order
    python_writes = not statement_writes_cursors(order)
    for key, node in shape.fields:
        if not _part_holds(node, python_writes):
            continue
        if isinstance(node, p.Rows):
            for row in value[key]:
                _finish_object(node.row.fields, row)
        elif isinstance(node, p.Edges):
            for edge in value[key]:
                for edge_key, part in node.fields:
                    if isinstance(part, p.EdgeCursor) and python_writes:
                        edge[edge_key] = _cursor(edge[edge_key], order)
                    elif isinstance(part, p.RowShape):
                        _finish_object(part.fields, edge[edge_key])
        elif isinstance(node, p.Groups):
            _finish_groups(node, value[key])
        elif isinstance(node, p.Composite) and python_writes:
            info = value[key]
            for info_key, part in node.fields:
                if isinstance(part, p.Counted) and part.part in CURSOR_PARTS:
                    info[info_key] = _cursor(info[info_key], order)


def _finish_groups(groups: p.Groups, value: dict[str, Any]) -> None:
    """Cursors of lists under a group's merchant or terminal."""
    for key, node in groups.fields:
        if isinstance(node, p.GroupNodes) and _has_cursors(node):
            for group in value[key]:
                for group_key, part in node.fields:
                    if isinstance(part, p.Composite) and _has_cursors(part):
                        keys = group[group_key]
                        for name, row in part.fields:
                            if isinstance(row, p.KeyRow):
                                _finish_object(row.target.fields, keys[name])


def _cursor(makings: list[Any] | None, order: Any) -> str | None:
    if makings is None:
        return None
    return cursor_of(makings[0], makings[1:], order)
