"""Request limits, each failing with its own code before anything executes: operation
depth, aliases and lexical tokens (the body size and batching are refused at the HTTP
edge). Fragments are followed, so spreading a fragment cannot hide depth or aliases."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
)
from strawberry.extensions import AddValidationRules, SchemaExtension

QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
TOO_MANY_TOKENS = "TOO_MANY_TOKENS"


@dataclass(frozen=True)
class RequestLimits:
    max_depth: int = 10
    max_aliases: int = 15
    max_tokens: int = 2000
    max_body_bytes: int = 256 * 1024
    hide_suggestions: bool = False  # strip "Did you mean ...?" from validation errors

    def extensions(self) -> list[Any]:
        """Extension factories (Strawberry builds a fresh one for every request)."""
        rules = [depth_rule(self.max_depth), alias_rule(self.max_aliases)]
        return [partial(TokenLimit, self.max_tokens), partial(AddValidationRules, rules)]


class TokenLimit(SchemaExtension):
    """Abort parsing after `max_tokens` lexical tokens (comments are not counted)."""

    def __init__(self, max_tokens: int) -> None:
        self.max_tokens = max_tokens

    def on_operation(self) -> Iterator[None]:
        self.execution_context.parse_options["max_lexical_tokens"] = self.max_tokens  # type: ignore[typeddict-unknown-key]
        self.execution_context.parse_options["max_comments"] = self.max_tokens  # type: ignore[typeddict-unknown-key]
        yield


def is_token_limit_error(error: GraphQLError) -> bool:
    return error.message.startswith("Syntax Error: Document contains more than")


Fragments = dict[str, FragmentDefinitionNode]


def _fragments(rule: ValidationRule) -> Fragments:
    return {
        definition.name.value: definition
        for definition in rule.context.document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }


def _depth(
    selections: SelectionSetNode | None,
    fragments: Fragments,
    seen: frozenset[str],
    memo: dict[str, int],
) -> int:
    """Levels of fields below `selections`; introspection (`__schema`, `__type`) is bounded
    by the schema itself and not counted. A fragment's depth is computed once (`memo`): a
    document spreading fragments twice per level must not cost 2**levels."""
    if selections is None:
        return 0
    deepest = 0
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            if selection.name.value.startswith("__"):
                continue
            depth = 1 + _depth(selection.selection_set, fragments, seen, memo)
        elif isinstance(selection, InlineFragmentNode):
            depth = _depth(selection.selection_set, fragments, seen, memo)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name not in memo:
                fragment = fragments.get(name)
                # Unknown and cyclic fragments count 0 here; other rules report them.
                memo[name] = (
                    0
                    if fragment is None or name in seen
                    else _depth(fragment.selection_set, fragments, seen | {name}, memo)
                )
            depth = memo[name]
        else:  # pragma: no cover - graphql-core has no other selection kind
            continue
        deepest = max(deepest, depth)
    return deepest


def _aliases(
    selections: SelectionSetNode | None,
    fragments: Fragments,
    seen: frozenset[str],
    memo: dict[str, int],
) -> int:
    """Aliased fields below `selections`, counting a fragment once per spread."""
    if selections is None:
        return 0
    total = 0
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            total += selection.alias is not None
            total += _aliases(selection.selection_set, fragments, seen, memo)
        elif isinstance(selection, InlineFragmentNode):
            total += _aliases(selection.selection_set, fragments, seen, memo)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name not in memo:
                fragment = fragments.get(name)
                memo[name] = (
                    0
                    if fragment is None or name in seen
                    else _aliases(fragment.selection_set, fragments, seen | {name}, memo)
                )
            total += memo[name]
    return total


def depth_rule(max_depth: int) -> type[ValidationRule]:
    class QueryDepthRule(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            depth = _depth(node.selection_set, _fragments(self), frozenset(), {})
            if depth > max_depth:
                self.report_error(
                    GraphQLError(
                        f"The operation is {depth} fields deep; at most {max_depth} are allowed.",
                        node,
                        extensions={"code": QUERY_TOO_DEEP},
                    )
                )

    return QueryDepthRule


def alias_rule(max_aliases: int) -> type[ValidationRule]:
    class AliasCountRule(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            count = _aliases(node.selection_set, _fragments(self), frozenset(), {})
            if count > max_aliases:
                self.report_error(
                    GraphQLError(
                        f"The operation uses {count} aliases; at most {max_aliases} are allowed.",
                        node,
                        extensions={"code": TOO_MANY_ALIASES},
                    )
                )

    return AliasCountRule
