"""Request limits, each failing with its own code before anything executes: operation
depth, aliases and lexical tokens (the body size and batching are refused at the HTTP
edge). Fragments are followed, so spreading a fragment cannot hide depth or aliases.
The limits' values are a schema.request_limits.RequestLimits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import suppress
from functools import lru_cache, partial
from typing import Any, cast

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    parse,
)
from strawberry.extensions import AddValidationRules, SchemaExtension

from schema.request_limits import RequestLimits

QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
TOO_MANY_TOKENS = "TOO_MANY_TOKENS"
PARSED_DOCUMENTS = 256  # distinct documents kept parsed


def limit_extensions(limits: RequestLimits) -> list[Any]:
    """Extension factories enforcing `limits` (Strawberry builds a fresh one for every
    request)."""
    rules = limit_rules(limits)
    return [partial(TokenLimit, limits.max_tokens), partial(AddValidationRules, rules)]


def limit_rules(limits: RequestLimits) -> list[type[ASTValidationRule]]:
    """The rules `limits` add to graphql-core's own (also checked against the trusted
    documents of a manifest)."""
    return [depth_rule(limits.max_depth), alias_rule(limits.max_aliases)]


class TokenLimit(SchemaExtension):
    """Abort parsing after `max_tokens` lexical tokens (comments are not counted).

    Documents within the limit are parsed once and kept: a dashboard sends the same few
    over and over. A document that fails to parse is left to Strawberry's own parse,
    which reports the error as for any request."""

    def __init__(self, max_tokens: int) -> None:
        self.max_tokens = max_tokens

    def on_operation(self) -> Iterator[None]:
        # Strawberry's ParseOptions names only `max_tokens`; graphql-core's `parse`, which
        # they are passed to, takes these too.
        options = cast("dict[str, Any]", self.execution_context.parse_options)
        options.update(parse_options(self.max_tokens))
        yield

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query and context.graphql_document is None:
            options = tuple(sorted(context.parse_options.items()))
            with suppress(GraphQLError):
                context.graphql_document = _parsed(context.query, options)
        yield


def parse_options(max_tokens: int) -> dict[str, Any]:
    """graphql-core `parse` options holding a document to `max_tokens` lexical tokens
    (and as many comments, counted apart)."""
    return {"max_lexical_tokens": max_tokens, "max_comments": max_tokens}


@lru_cache(maxsize=PARSED_DOCUMENTS)
def _parsed(query: str, options: tuple[tuple[str, Any], ...]) -> DocumentNode:
    return parse(query, **dict(options))


def is_token_limit_error(error: GraphQLError) -> bool:
    return error.message.startswith("Syntax Error: Document contains more than")


Fragments = dict[str, FragmentDefinitionNode]


def _fragments(rule: ValidationRule) -> Fragments:
    return {
        definition.name.value: definition
        for definition in rule.context.document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }


FieldMeasure = Callable[[FieldNode, Callable[[], int]], int]


class _Measure:
    """A number folded over an operation's selections (`combine` of what each field
    gives), following fragment spreads. A fragment is measured once per operation: a
    document spreading fragments twice per level must not cost 2**levels. Unknown and
    cyclic fragments measure 0; other rules report them."""

    def __init__(
        self, fragments: Fragments, at_field: FieldMeasure, combine: Callable[[list[int]], int]
    ) -> None:
        self.fragments = fragments
        self.at_field = at_field
        self.combine = combine
        self.memo: dict[str, int] = {}

    def of(self, selections: SelectionSetNode | None, seen: frozenset[str] = frozenset()) -> int:
        if selections is None:
            return 0
        values = [0]
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                below = selection.selection_set
                values.append(self.at_field(selection, partial(self.of, below, seen)))
            elif isinstance(selection, InlineFragmentNode):
                values.append(self.of(selection.selection_set, seen))
            elif isinstance(selection, FragmentSpreadNode):
                values.append(self._fragment(selection.name.value, seen))
        return self.combine(values)

    def _fragment(self, name: str, seen: frozenset[str]) -> int:
        if name not in self.memo:
            fragment = self.fragments.get(name)
            self.memo[name] = (
                0
                if fragment is None or name in seen
                else self.of(fragment.selection_set, seen | {name})
            )
        return self.memo[name]


def _depth_at(field: FieldNode, below: Callable[[], int]) -> int:
    """One level per field; introspection (`__schema`, `__type`) is bounded by the schema
    itself and not counted."""
    return 0 if field.name.value.startswith("__") else 1 + below()


def _aliases_at(field: FieldNode, below: Callable[[], int]) -> int:
    return int(field.alias is not None) + below()


def _limit_rule(
    at_field: FieldMeasure,
    combine: Callable[[list[int]], int],
    limit: int,
    message: str,
    code: str,
) -> type[ValidationRule]:
    """A rule refusing operations whose measure exceeds `limit`; `message` is formatted
    with `value` and `limit`."""

    class LimitRule(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            value = _Measure(_fragments(self), at_field, combine).of(node.selection_set)
            if value > limit:
                self.report_error(
                    GraphQLError(
                        message.format(value=value, limit=limit),
                        node,
                        extensions={"code": code},
                    )
                )

    return LimitRule


def depth_rule(max_depth: int) -> type[ValidationRule]:
    message = "The operation is {value} fields deep; at most {limit} are allowed."
    return _limit_rule(_depth_at, max, max_depth, message, QUERY_TOO_DEEP)


def alias_rule(max_aliases: int) -> type[ValidationRule]:
    message = "The operation uses {value} aliases; at most {limit} are allowed."
    return _limit_rule(_aliases_at, sum, max_aliases, message, TOO_MANY_ALIASES)
