"""The one cost function: what an operation may cost, from its document and variables
before anything runs, and what it did cost, from the data it returned.

The rules (docs/query-cost.md shows them at work):

- An object costs 1 and a scalar or enum 0. A mutation's root field costs
  `MUTATION_COST` and an aggregate (`aggregate`, `groupBy`, `portfolio`,
  `portfolio.merchants`: one GROUP BY over the whole list, however long)
  `AGGREGATE_COST`, each plus what it selects.
- A list multiplies what each of its items costs. The rows of a page (`nodes`, `edges`,
  `data`) come as many times as the page size of the field that pages them: the
  `first`, `last`, `pageSize`, `length` or `perPage` asked for (a literal or a variable;
  the largest when several are given), else that field's default (the schema's default
  for the argument, else `page` implies `perPage`'s default, `start` implies `length`'s,
  and otherwise `first`'s), never more than the largest page. `totalCount`, `pageInfo`
  and `meta` are not rows.
- Other lists are bounded in `LIST_BOUNDS`; a per-currency measure list counts one
  entry (the aggregate's GROUP BY makes them all).
- Fragments, inline and named, are followed; `@skip` / `@include` are ignored (the worst
  case counts). Fields selected twice under one response key are counted once, as
  GraphQL executes them. Introspection's `__schema` and `__type` cost 1.
- An export (POST /exports/payments) costs `EXPORT_COST` (schema.export_cost): its rows
  are not known before it runs, however many there are.

A plan (`CostPlan`) is built once per document and operation; its cost for given
variables is kept too, per value of the variables that size its pages.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
    is_composite_type,
)

from domain.commission import Action
from domain.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from domain.portfolio import EXCEPTION_STATUSES
from domain.read_plan import Answer, ParsedAnswer
from domain.statuses import PaymentStatus
from schema.document_lists import DEFAULT_DETAIL_LENGTH
from schema.fields import DEFAULT_PER_PAGE

OBJECT_COST = 1
MUTATION_COST = 10
AGGREGATE_COST = 10
INTROSPECTION_COST = 1

PAGE_SIZE_ARGUMENTS = ("first", "last", "pageSize", "length", "perPage")
# An offset window's start given without its size: the size it then takes.
OFFSET_SIZE_DEFAULTS = {
    "page": ("perPage", DEFAULT_PER_PAGE),
    "start": ("length", DEFAULT_DETAIL_LENGTH),
}
ROW_FIELDS = frozenset({"nodes", "edges", "data"})
AGGREGATE_TYPES = frozenset(
    {"PaymentAggregate", "PaymentGroupPage", "Portfolio", "PortfolioMerchantPage"}
)
PER_CURRENCY_TYPES = frozenset({"CurrencyMeasure", "PortfolioVolume"})
LIST_BOUNDS: dict[tuple[str, str], int] = {
    ("Payment", "invoices"): 1,  # the reseller completion API's list of the one invoice
    ("Payment", "availableTransitions"): len(Action),
    ("Portfolio", "statusMix"): len(PaymentStatus),
    ("Portfolio", "exceptions"): len(EXCEPTION_STATUSES),
}
INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})
PLANS_KEPT = 256  # distinct (document, operation) plans
COSTS_KEPT = 16  # page-size variable values kept per plan


@dataclass(frozen=True, slots=True)
class Variable:
    name: str
    default: Any = None  # the operation's default for it


Written = int | Variable | None  # an argument as the document writes it


def _resolved(value: Written, variables: Mapping[str, Any]) -> Any:
    if isinstance(value, Variable):
        return variables.get(value.name, value.default)
    return value


def _size(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True, slots=True)
class PageSize:
    """How one paged field sizes its page."""

    given: tuple[Written, ...]  # the size arguments the document writes
    starts: tuple[tuple[Written, int], ...]  # offset starts written, with the size each implies
    default: int

    def value(self, variables: Mapping[str, Any]) -> int:
        sizes = [s for s in (_size(_resolved(w, variables)) for w in self.given) if s is not None]
        if sizes:
            size = max(sizes)
        else:
            implied = (n for w, n in self.starts if _resolved(w, variables) is not None)
            size = next(implied, self.default)
        return min(max(size, 0), MAX_PAGE_SIZE)

    def variables(self) -> set[str]:
        written = [*self.given, *(w for w, _ in self.starts)]
        return {w.name for w in written if isinstance(w, Variable)}


@dataclass(eq=False, slots=True)
class Step:
    """One response key of a selection: what each object there costs, how many there
    may be (`count`; None: the rows of the enclosing page), how it sizes the pages below
    it, and the steps below it."""

    own: int
    count: int | None = 1
    sizes: tuple[PageSize, ...] = ()
    below: dict[str, Step] = field(default_factory=dict)
    # The steps below that cost anything (objects, not scalars), for recounting answers.
    _costly: tuple[tuple[str, Step], ...] | None = field(default=None, repr=False)

    @property
    def costly(self) -> tuple[tuple[str, Step], ...]:
        if self._costly is None:
            self._costly = _costly(self.below)
        return self._costly


def _costly(steps: dict[str, Step]) -> tuple[tuple[str, Step], ...]:
    return tuple((key, step) for key, step in steps.items() if step.own or step.costly)


SCALAR = Step(0)
Steps = dict[str, Step]


class CostPlan:
    """An operation's cost rules, compiled from its document."""

    def __init__(self, steps: Steps, variables: frozenset[str]) -> None:
        self.steps = steps
        self.variables = variables  # those that size a page
        self._costly = _costly(steps)
        _settle(steps)
        self._costs: OrderedDict[tuple[Any, ...], int] = OrderedDict()

    def requested(self, variables: Mapping[str, Any] | None = None) -> int:
        """The most this operation can cost with these variables."""
        variables = variables or {}
        shape = tuple(_hashable(variables.get(name)) for name in sorted(self.variables))
        cost = self._costs.get(shape)
        if cost is None:
            cost = _Requested(variables).of(self.steps, None)
            self._costs[shape] = cost
            if len(self._costs) > COSTS_KEPT:
                self._costs.popitem(last=False)
        return cost

    def actual(self, data: Any) -> int:
        """What the objects in `data`, this operation's answer, cost."""
        return _object(self._costly, data) if isinstance(data, dict) else 0


def _hashable(value: Any) -> Any:
    return value if value is None or isinstance(value, int | str | bool) else repr(value)


class _Requested:
    def __init__(self, variables: Mapping[str, Any]) -> None:
        self.variables = variables
        self.memo: dict[tuple[int, int | None], int] = {}  # shared steps count once

    def of(self, steps: Steps, page: int | None) -> int:
        return sum(self.step(step, page) for step in steps.values())

    def step(self, step: Step, page: int | None) -> int:
        if step.own == 0 and not step.below:
            return 0
        key = (id(step), page)
        if key not in self.memo:
            inner = max((s.value(self.variables) for s in step.sizes), default=None)
            each = step.own + self.of(step.below, inner)
            count = step.count
            if count is None:
                count = MAX_PAGE_SIZE if page is None else page
            self.memo[key] = count * each
        return self.memo[key]


def _settle(steps: Steps) -> None:
    """Work out every step's costly steps once, when the plan is made: recounting an
    answer then reads them (`_costly`) without a property call per object, which was a
    tenth of a dashboard page's time."""
    seen: set[int] = set()
    pending = list(steps.values())
    while pending:
        step = pending.pop()
        if id(step) in seen:
            continue
        seen.add(id(step))
        step.costly  # noqa: B018 - computes and keeps it
        pending.extend(step.below.values())


def _object(costly: tuple[tuple[str, Step], ...], data: dict[str, Any]) -> int:
    """What an answer's object holds below it (objects only: scalars cost nothing)."""
    total = 0
    for key, step in costly:
        value = data.get(key)
        if value is None:
            continue
        below = step._costly
        if isinstance(value, Answer | ParsedAnswer):  # counted by its statement
            total += value.objects * OBJECT_COST + value.aggregates * AGGREGATE_COST
        elif isinstance(value, dict):
            total += step.own + (_object(below, value) if below else 0)
        elif isinstance(value, list):
            total += _items(step, below, value)
    return total


def _items(step: Step, below: Any, items: list[Any]) -> int:
    """What a list's objects cost (a list of lists counts its items' items)."""
    if not below:  # leaf objects: only their own cost
        return step.own * sum(1 for item in items if isinstance(item, dict))
    total = 0
    for item in items:
        if isinstance(item, dict):
            total += step.own + _object(below, item)
        elif isinstance(item, list):
            total += _items(step, below, item)
    return total


class CostPlans:
    """Plans over one schema, kept per document text and operation name (a dashboard
    sends the same few documents over and over)."""

    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema = schema
        self._plans: OrderedDict[tuple[str, str | None], CostPlan] = OrderedDict()

    def plan(self, query: str, document: DocumentNode, operation_name: str | None) -> CostPlan:
        key = (query, operation_name)
        plan = self._plans.get(key)
        if plan is None:
            plan = build_plan(self.schema, document, operation_name)
            self._plans[key] = plan
            if len(self._plans) > PLANS_KEPT:
                self._plans.popitem(last=False)
        else:
            self._plans.move_to_end(key)
        return plan


def build_plan(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
) -> CostPlan:
    """The plan of the operation `operation_name` (or the only one) of a validated
    document."""
    operation = _operation(document, operation_name)
    if operation is None:
        return CostPlan({}, frozenset())
    root = schema.get_root_type(operation.operation)
    defaults = {
        definition.variable.name.value: _literal(definition.default_value, {})
        for definition in operation.variable_definitions or ()
    }
    builder = _Builder(schema, document, defaults)
    steps = builder.selections(root, operation.selection_set) if root else {}
    return CostPlan(steps, frozenset(builder.variables))


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == name), None)


def _literal(node: ValueNode | None, defaults: Mapping[str, Any]) -> Written:
    if isinstance(node, IntValueNode):
        return int(node.value)
    if isinstance(node, VariableNode):
        name = node.name.value
        return Variable(name, defaults.get(name))
    if node is None:
        return None
    return 0 if node.kind != "null_value" else None  # a start given as something else


class _Builder:
    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, defaults: Mapping[str, Any]
    ) -> None:
        self.schema = schema
        self.defaults = defaults
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.built: dict[str, Steps] = {}
        self.building: set[str] = set()
        self.variables: set[str] = set()

    def selections(self, parent: Any, selection_set: SelectionSetNode | None) -> Steps:
        steps: Steps = {}
        if selection_set is None:
            return steps
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                key = (selection.alias or selection.name).value
                _merge_into(steps, {key: self.field(parent, selection)})
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                on = self.schema.get_type(condition.name.value) if condition else parent
                _merge_into(steps, self.selections(on, selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                _merge_into(steps, self.fragment(selection.name.value))
        return steps

    def fragment(self, name: str) -> Steps:
        """A named fragment's steps, built once however often it is spread."""
        if name not in self.built:
            definition = self.fragments.get(name)
            if definition is None or name in self.building:
                return {}  # unknown or cyclic: validation reports it
            self.building.add(name)
            on = self.schema.get_type(definition.type_condition.name.value)
            self.built[name] = self.selections(on, definition.selection_set)
            self.building.discard(name)
        return self.built[name]

    def field(self, parent: Any, node: FieldNode) -> Step:
        name = node.name.value
        if name.startswith("__"):
            return Step(INTROSPECTION_COST) if name in INTROSPECTION_ROOTS else SCALAR
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return SCALAR
        definition = parent.fields.get(name)
        if definition is None:
            return SCALAR
        named = get_named_type(definition.type)
        if not is_composite_type(named):
            return SCALAR
        if parent is self.schema.mutation_type:
            own = MUTATION_COST
        elif named.name in AGGREGATE_TYPES:
            own = AGGREGATE_COST
        else:
            own = OBJECT_COST
        count = _count(parent.name, name, definition.type, named.name)
        sizes = (self.page_size(definition, node),) if _is_paged(definition) else ()
        return Step(own, count, sizes, self.selections(named, node.selection_set))

    def page_size(self, definition: Any, node: FieldNode) -> PageSize:
        written = {a.name.value: _literal(a.value, self.defaults) for a in node.arguments or ()}
        given = tuple(written[n] for n in PAGE_SIZE_ARGUMENTS if n in written)
        starts = tuple(
            (written[start], implied)
            for start, (size, implied) in OFFSET_SIZE_DEFAULTS.items()
            if start in written and size in definition.args
        )
        declared = (
            definition.args[n].default_value
            for n in PAGE_SIZE_ARGUMENTS
            if n in definition.args and isinstance(definition.args[n].default_value, int)
        )
        size = PageSize(given, starts, next(declared, DEFAULT_PAGE_SIZE))
        self.variables |= size.variables()
        return size


def _is_paged(definition: Any) -> bool:
    return any(name in definition.args for name in PAGE_SIZE_ARGUMENTS)


def _count(parent: str, name: str, type_: Any, named: str) -> int | None:
    """How many objects a field gives: 1, the page's rows (None), or a list's bound."""
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if not isinstance(type_, GraphQLList):
        return 1
    if name in ROW_FIELDS:
        return None
    if named in PER_CURRENCY_TYPES:
        return 1
    return LIST_BOUNDS.get((parent, name), MAX_PAGE_SIZE)


def _merge_into(steps: Steps, more: Steps) -> None:
    for key, step in more.items():
        steps[key] = _merged(steps[key], step) if key in steps else step


def _merged(a: Step, b: Step) -> Step:
    """One response key selected twice: GraphQL runs it once, with both selections."""
    if a is b:
        return a
    count = a.count
    if b.count is None or (count is not None and b.count > count):
        count = b.count
    below = dict(a.below)
    _merge_into(below, b.below)
    sizes = a.sizes + tuple(s for s in b.sizes if s not in a.sizes)
    return Step(max(a.own, b.own), count, sizes, below)
