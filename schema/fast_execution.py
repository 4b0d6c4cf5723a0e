"""A short way through graphql-core's executor for the fields a page resolves on every row.

graphql-core executes every field the same general way: it builds a resolve info,
looks for arguments, then completes the value by dispatching on its type (non-null,
list, leaf, abstract, object), some fifty Python calls for a field that reads an
attribute and returns a string. A dashboard page executes ~5,000 fields per request,
and that machinery was ~70 % of its profile while the resolvers are one-liners.

`schema.lean` marks (`mark_fast`) the fields whose resolver is plain: synchronous, it
reads its root and at most `info.context`, and reading again gives the same value.
For those `FastExecutor` calls the resolver with a context-only info and completes
the common cases itself, as graphql-core would: null on a nullable field; a leaf
value through its type's `coerce_output_value` (enum names, DateTime, BigInt: what
`complete_leaf_value` calls); an object through its sub-fields, after the type's
`is_type_of`. Anything else (an exception, null on a non-null field, an awaitable, a
value the type does not accept, middleware in the request) goes graphql-core's whole
way from the start, which resolves the field again and reports exactly as before.
A few resolvers with arguments are lean too (`mark_fast(..., with_arguments=True)`):
they read root, `info.context`, `info.field_nodes` and their arguments, and graphql-core's
`get_argument_values` runs once per field node and request instead of once per parent;
when one returns an awaitable (a page not loaded yet) it is completed as graphql-core
completes it, without resolving again. Lists go the whole way here: compiled
selections (below) fill them.

Above that, `FastExecutor` compiles each selection it completes objects with (a
grouped field set of one object type, as graphql-core collects it: aliases, fragments,
@skip/@include already applied) into a `Plan`, once per request: `__typename`, plain
leaves, and plain objects whose own selection compiles whole are filled in straight
into the result dict, without graphql-core's per-field `Path`, `execute_field` call and
awaitable check; so are lists (a Python list or tuple) of plain leaves or of such objects,
item by item, and lean fields with arguments whose value comes at once (a prefetched
page). The other fields go graphql-core's way. A compiled field meeting
anything unusual is dropped and goes graphql-core's way in the same place, which
resolves its subtree again and reports exactly as before, nulls propagating as before.
"""

from __future__ import annotations

from collections.abc import Awaitable, Coroutine
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLObjectType,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.execution.executor import gather_with_cancel, to_nodes
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.fast_plans import FAST, ContextAndNodes, ContextOnly, FastField, Plan, Step, Unusual

# Values that are never awaitable: a result of one of these types needs no check.
_PLAIN_VALUES = frozenset({str, int, float, bool})
_LISTS = frozenset({list, tuple})


class FastExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, completing the fields marked fast without graphql-core's
    general machinery (see the module doc)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.plain_info = ContextOnly(self.context_value)
        # Middleware wraps every resolver: then the general way is the only way.
        self.fast = not (self.middleware_manager and self.middleware_manager.middlewares)
        self._plans: dict[tuple[GraphQLObjectType, int], Plan | None] = {}
        self._arguments: dict[int, tuple[FieldDetailsList, dict[str, Any], ContextAndNodes]] = {}

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        field = parent_type.fields.get(field_details_list[0].node.name.value)
        fast: FastField | None = field.extensions.get(FAST) if field and self.fast else None
        if field is not None and fast is not None and not fast.is_list:
            try:
                if fast.with_arguments:
                    arguments, info = self._arguments_of(field, field_details_list)
                    result = field.resolve(source, info, **arguments)
                    if type(result) not in _PLAIN_VALUES and self.is_awaitable(result):
                        # As graphql-core's execute_field goes on: no need to resolve again.
                        full_info = self.build_resolve_info(
                            field, to_nodes(field_details_list), parent_type, path
                        )
                        return self.complete_awaitable_value(
                            field.type,
                            field_details_list,
                            full_info,
                            path,
                            result,
                            position_context,
                        )
                else:
                    result = field.resolve(source, self.plain_info)
                if result is None:
                    if not fast.non_null:
                        return None
                elif type(result) in _PLAIN_VALUES or not (
                    isinstance(result, Exception) or self.is_awaitable(result)
                ):
                    if fast.leaf is not None:
                        coerced = fast.leaf.coerce_output_value(result)
                        if coerced is not None and coerced is not Undefined:
                            return coerced
                    elif fast.object is not None and self._is_type_of(
                        fast.object, result, field, parent_type, field_details_list, path
                    ):
                        return self._complete_object(
                            fast.object, field, field_details_list, path, result, position_context
                        )
            except Exception:  # the general way resolves again and reports it
                pass
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    def _arguments_of(
        self, field: GraphQLField, field_details_list: FieldDetailsList
    ) -> tuple[dict[str, Any], ContextAndNodes]:
        """The arguments of a lean field with arguments and the info its resolver gets,
        as graphql-core's execute_field computes them, once per request: the variables
        are fixed for it."""
        found = self._arguments.get(id(field_details_list))
        if found is not None and found[0] is field_details_list:
            return found[1], found[2]
        first = field_details_list[0]
        arguments = (
            get_argument_values(
                field,
                first.node,
                self.variable_values,
                first.fragment_variable_values,
                self.hide_suggestions,
            )
            if field.args or first.node.arguments
            else {}
        )
        info = ContextAndNodes(self.context_value, to_nodes(field_details_list))
        self._arguments[id(field_details_list)] = (field_details_list, arguments, info)
        return arguments, info

    def _is_type_of(
        self,
        object_type: GraphQLObjectType,
        result: Any,
        field: GraphQLField,
        parent_type: GraphQLObjectType,
        field_details_list: FieldDetailsList,
        path: Path,
    ) -> bool:
        if object_type.is_type_of is None:
            return True
        info = self.build_resolve_info(field, to_nodes(field_details_list), parent_type, path)
        return object_type.is_type_of(result, info) is True

    def _complete_object(
        self,
        object_type: GraphQLObjectType,
        field: GraphQLField,
        field_details_list: FieldDetailsList,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        # Once sub-fields have run, errors are handled as graphql-core's execute_field
        # handles those of complete_value, never by resolving again.
        try:
            completed = self.collect_and_execute_subfields(
                object_type, field_details_list, path, result, position_context
            )
        except Exception as raw_error:
            self.handle_field_error(raw_error, field.type, field_details_list, path)
            return None
        if self.is_awaitable(completed):
            return self._await_completed(completed, field, field_details_list, path)
        return completed

    async def _await_completed(
        self,
        completed: Awaitable[Any],
        field: GraphQLField,
        field_details_list: FieldDetailsList,
        path: Path,
    ) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, field.type, field_details_list, path)
            return None

    def collect_and_execute_subfields(
        self,
        return_type: GraphQLObjectType,
        field_details_list: FieldDetailsList,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        # A delivery group (@defer, @stream) in play: graphql-core's way only.
        plan = self._plan(return_type, field_details_list) if position_context is None else None
        if plan is None:
            return super().collect_and_execute_subfields(
                return_type, field_details_list, path, result, position_context
            )
        return self._execute_plan(return_type, plan, result, path)

    def _plan(
        self, object_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> Plan | None:
        """The compiled selection of `object_type` under `field_details_list` (None when
        it defers), once per request: the selection depends on the variables."""
        # Keyed as graphql-core's collect_subfields, which keeps the list alive.
        key = (object_type, id(field_details_list))
        try:
            return self._plans[key]
        except KeyError:
            found = self._plans[key] = self._compile(object_type, field_details_list)
            return found

    def _compile(
        self, object_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> Plan | None:
        grouped_field_set, new_defer_usages, _ = self.collect_subfields(
            object_type, field_details_list
        )
        if not self.fast or new_defer_usages:
            return None
        steps = []
        for key, details in grouped_field_set.items():
            name = details[0].node.name.value
            field = object_type.fields.get(name)
            fast: FastField | None = field.extensions.get(FAST) if field else None
            if name == "__typename":
                steps.append(Step(key, details, False, typename=object_type.name))
            elif field is None or fast is None:
                steps.append(Step(key, details, True))
            else:
                steps.append(self._compile_field(key, details, field, fast))
        return Plan(tuple(steps), not any(step.general for step in steps))

    def _compile_field(
        self, key: str, details: FieldDetailsList, field: GraphQLField, fast: FastField
    ) -> Step:
        general = Step(key, details, True)
        arguments, info = None, None
        if fast.with_arguments:
            try:
                arguments, info = self._arguments_of(field, details)
            except Exception:  # graphql-core's way reports it
                return general
        if fast.is_list and any(
            directive.name.value == "stream" for directive in details[0].node.directives or ()
        ):
            return general
        plan = None
        if fast.object is not None:
            plan = self._plan(fast.object, details)
            if plan is None or not plan.whole:
                return general
        return Step(
            key,
            details,
            False,
            resolve=field.resolve,
            non_null=fast.non_null,
            leaf=fast.leaf,
            object=fast.object,
            plan=plan,
            is_list=fast.is_list,
            item_non_null=fast.item_non_null,
            arguments=arguments,
            info=info,
        )

    def _execute_plan(
        self, parent_type: GraphQLObjectType, plan: Plan, source: Any, path: Path
    ) -> Any:
        """What graphql-core's execute_fields gives for `plan`'s fields of `source`."""
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_keys: list[str] = []
        try:
            for step in plan.steps:
                key = step.key
                if not step.general:
                    try:
                        results[key] = self._fill(step, source)
                        continue
                    except Exception:  # graphql-core's way resolves it again, and reports
                        pass
                result = self.execute_field(
                    parent_type,
                    source,
                    step.field_details_list,
                    Path(path, key, parent_type.name),
                    None,
                )
                if result is not Undefined:
                    results[key] = result
                    if is_awaitable(result):
                        awaitable_keys.append(key)
        except Exception:
            if awaitable_keys:
                self.settle_in_background([results[key] for key in awaitable_keys])
            raise
        if not awaitable_keys:
            return results
        return self._await_results(results, awaitable_keys)

    async def _await_results(
        self, results: dict[str, Any], awaitable_keys: list[str]
    ) -> dict[str, Any]:
        # As graphql-core's execute_fields awaits its fields.
        if len(awaitable_keys) == 1:
            key = awaitable_keys[0]
            results[key] = await results[key]
        else:
            awaited = await gather_with_cancel(*(results[key] for key in awaitable_keys))
            results.update(zip(awaitable_keys, awaited, strict=True))
        return results

    def _fill(self, step: Step, source: Any) -> Any:
        """The completed value of a compiled step, or an exception when it is unusual."""
        if step.typename is not None:
            return step.typename
        if step.arguments is None:
            value = step.resolve(source, self.plain_info)  # type: ignore[misc]
        else:
            value = self._resolve_with_arguments(step, source)
        if value is None:
            if step.non_null:
                raise Unusual
            return None
        if step.is_list:
            return self._list(step, value)
        if step.leaf is None:
            return self._object(step, value)
        if type(value) not in _PLAIN_VALUES and (
            isinstance(value, Exception) or self.is_awaitable(value)
        ):
            raise Unusual
        coerced = step.leaf.coerce_output_value(value)
        if coerced is None or coerced is Undefined:
            raise Unusual
        return coerced

    def _resolve_with_arguments(self, step: Step, source: Any) -> Any:
        value = step.resolve(source, step.info, **step.arguments)  # type: ignore[arg-type,misc]
        if type(value) not in _PLAIN_VALUES and self.is_awaitable(value):
            # graphql-core's way resolves again: this one is never awaited.
            if isinstance(value, Coroutine):
                value.close()
            raise Unusual
        return value

    def _list(self, step: Step, value: Any) -> list[Any]:
        """A list of plain leaves or objects, item by item as graphql-core's
        complete_list_value; any unusual item drops the whole field."""
        if type(value) not in _LISTS:
            raise Unusual
        completed: list[Any] = []
        append = completed.append
        leaf, item_non_null = step.leaf, step.item_non_null
        for item in value:
            if item is None:
                if item_non_null:
                    raise Unusual
            elif leaf is not None:
                if type(item) not in _PLAIN_VALUES and (
                    isinstance(item, Exception) or self.is_awaitable(item)
                ):
                    raise Unusual
                item = leaf.coerce_output_value(item)
                if item is None or item is Undefined:
                    raise Unusual
            else:
                item = self._object(step, item)
            append(item)
        return completed

    def _object(self, step: Step, value: Any) -> dict[str, Any]:
        object_type: GraphQLObjectType = step.object  # type: ignore[assignment]
        if isinstance(value, Exception) or self.is_awaitable(value):
            raise Unusual
        # A type check that wants more of its info than the context fails, and then
        # graphql-core's way calls it again with all of it.
        is_type_of = object_type.is_type_of
        if is_type_of is not None and is_type_of(value, self.plain_info) is not True:
            raise Unusual
        # Leaves inline: a call per leaf is what this saves.
        completed: dict[str, Any] = {}
        info = self.plain_info
        for child in step.plan.steps:  # type: ignore[union-attr]
            if child.typename is not None:
                completed[child.key] = child.typename
                continue
            if child.arguments is None:
                field_value = child.resolve(value, info)  # type: ignore[misc]
            else:
                field_value = self._resolve_with_arguments(child, value)
            if field_value is None:
                if child.non_null:
                    raise Unusual
            elif child.is_list:
                field_value = self._list(child, field_value)
            elif child.leaf is not None:
                # _fill's leaf case, inlined: this loop runs for every leaf of a page.
                if type(field_value) not in _PLAIN_VALUES and (
                    isinstance(field_value, Exception) or self.is_awaitable(field_value)
                ):
                    raise Unusual
                field_value = child.leaf.coerce_output_value(field_value)
                if field_value is None or field_value is Undefined:
                    raise Unusual
            else:
                field_value = self._object(child, field_value)
            completed[child.key] = field_value
        return completed
