"""Request limits checked before execution, so that a refused operation costs no SQL.

Pure (no I/O; the page maximum is read from the environment once): the gateway calls, per
request and in this order,

    check_body_size(len(body), limits)            # BODY_TOO_LARGE, before reading JSON
    document = parse_limited(query, limits)       # TOO_MANY_TOKENS, while parsing
    check(document, schema, variables, operation_name, limits)
                                                  # QUERY_TOO_DEEP, TOO_MANY_ALIASES,
                                                  # QUERY_TOO_COMPLEX (also: more than
                                                  # a page of representations)

`check` runs before validation, so it tolerates invalid documents: unknown fields count 1,
fragment cycles are cut, a missing or ambiguous operation measures zero (execution refuses it).
@skip / @include are ignored: both branches count, which can only overestimate.

Cost follows the IBM GraphQL cost convention (`@cost` / `@listSize`): an object-typed field
costs 1 per object it yields, scalars and enums cost 0, and a list field multiplies the cost of
its item and subtree by its size: its `first` argument when it has one (a slicing argument),
else a static size from LIST_SIZES. A connection's `first` sizes its `edges` / `nodes`. The
federation's `_entities` yields one entity per representation (SIZED_BY_LIST_ARGUMENT).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final, NamedTuple
from weakref import WeakKeyDictionary

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSyntaxError,
    GraphQLUnionType,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    NullValueNode,
    OperationDefinitionNode,
    OperationType,
    SchemaMetaFieldDef,
    SelectionNode,
    TypeMetaFieldDef,
    VariableNode,
    is_leaf_type,
    parse,
)

from adapters import settings as settings_mod

QUERY_TOO_DEEP: Final = "QUERY_TOO_DEEP"
TOO_MANY_ALIASES: Final = "TOO_MANY_ALIASES"
TOO_MANY_TOKENS: Final = "TOO_MANY_TOKENS"
QUERY_TOO_COMPLEX: Final = "QUERY_TOO_COMPLEX"
BODY_TOO_LARGE: Final = "BODY_TOO_LARGE"


@dataclass(frozen=True)
class Limits:
    max_depth: int
    max_aliases: int
    max_tokens: int
    max_cost: int
    max_body_bytes: int


# Reference measures (costs as computed below; the first three are in tests/test_limits.py):
#   published results, one page of 20 ........................ cost 42, depth 4
#   one entity with every department's records (entity page) . cost 229, depth 4
#   a task's 100 visits with entity, credit grade and team ..... cost 1 507, depth 5
#   the same with each visit's merged form and requirements .... cost 22 601, depth 7
#   entities(first: 100) with permits and penalties (sync page)  cost 8 202, depth 6
#   a task's 100 visits with entity records, form and team ..... cost 30 601, depth 7
#   the standard introspection query (GraphiQL) ................ cost 16 424, depth 15
#   nested lists under entities(first: 100) (the test's bomb) .. cost 208 201
# The data graph has no cycles; its deepest path is 9 fields (jointInspectionTasks > nodes >
# visits > form > entries > requirements > department > health > status), so depth mostly stops
# introspection loops (__type > fields > type > fields …) and garbage. Depth 16 lets the
# standard introspection query through where GraphiQL is used (officers, planners).
LIMITS_BY_CLIENT: Final[dict[str, Limits]] = {
    # Inspectors and department staff in the hub UI and GraphiQL: entity pages, one visit with
    # its form, a task's visit list (with every form: page by 50); result entry carries
    # free-text notes, hence the larger body.
    "officer": Limits(
        max_depth=16, max_aliases=20, max_tokens=3000, max_cost=20_000, max_body_bytes=128 * 1024
    ),
    # Task planners read whole tasks (100 visits × entity records × form) and write plans: the
    # most generous, still far below what nested lists under a full page reach.
    "planner": Limits(
        max_depth=16, max_aliases=30, max_tokens=5000, max_cost=50_000, max_body_bytes=256 * 1024
    ),
    # Other systems (credit platform, provincial hubs): fixed queries paging the register with
    # records, no GraphiQL, little use for aliases.
    "partner": Limits(
        max_depth=10, max_aliases=10, max_tokens=2000, max_cost=10_000, max_body_bytes=64 * 1024
    ),
    # Anonymous callers: published results and single-entity lookups only need small pages;
    # strictest, so one request cannot fan out into thousands of department reads.
    "public": Limits(
        max_depth=6, max_aliases=5, max_tokens=600, max_cost=500, max_body_bytes=16 * 1024
    ),
}


def limits_for(client_kind: str | None) -> Limits:
    """An unknown or missing client kind gets the strictest (public) limits."""
    return LIMITS_BY_CLIENT.get(client_kind or "public", LIMITS_BY_CLIENT["public"])


MAX_REPORTED: Final = 2**53 - 1  # the largest integer every JSON reader keeps exact


class LimitExceeded(Exception):
    """A request over one of its client's limits; `code` is stable, `actual` may be a bound."""

    MESSAGES: Final[dict[str, str]] = {
        QUERY_TOO_DEEP: "Query is {actual} fields deep; the limit is {limit}.",
        TOO_MANY_ALIASES: "Query has {actual} aliased fields (fragments counted per use); "
        "the limit is {limit}.",
        TOO_MANY_TOKENS: "Query has more than {limit} tokens, the limit.",
        QUERY_TOO_COMPLEX: "Query cost is {actual} (list sizes multiplied out); "
        "the limit is {limit}.",
        BODY_TOO_LARGE: "Request body is {actual} bytes; the limit is {limit}.",
    }

    def __init__(self, code: str, limit: int, actual: int, message: str | None = None) -> None:
        self.code = code
        self.limit = limit
        # Huge page sizes multiply out past any JSON number: report a bound JSON can carry.
        self.actual = min(actual, MAX_REPORTED)
        template = message or self.MESSAGES[code]
        super().__init__(template.format(limit=limit, actual=self.actual))

    @property
    def message(self) -> str:
        return str(self.args[0])

    @property
    def extensions(self) -> dict[str, Any]:
        return {"code": self.code, "limit": self.limit, "actual": self.actual}

    def to_graphql_error(self) -> GraphQLError:
        """As a response error; gateway.errors.shape passes errors with a code through."""
        return GraphQLError(self.message, extensions=self.extensions)


class Measures(NamedTuple):
    depth: int
    aliases: int
    cost: int
    listed: int = 0  # the most items a list argument sizing a list asks for (representations)


LISTED_MESSAGE: Final = (
    "Query asks for {actual} entities by reference (representations); a page holds at most {limit}."
)


def check_body_size(size: int, limits: Limits) -> None:
    """Call with Content-Length (or the bytes read so far) before decoding the body."""
    if size > limits.max_body_bytes:
        raise LimitExceeded(BODY_TOO_LARGE, limits.max_body_bytes, size)


_TOKENS_MESSAGE = re.compile(r"Document contains more than \d+ tokens")


def parse_limited(source: str, limits: Limits) -> DocumentNode:
    """Parse, refusing token bombs while lexing; other syntax errors propagate unchanged."""
    # The query is part of the body, so a longer one cannot pass the body limit anyway; refusing
    # it here spares lexing megabytes of text that a missing Content-Length check let through.
    if len(source) > limits.max_body_bytes:
        raise LimitExceeded(BODY_TOO_LARGE, limits.max_body_bytes, len(source))
    try:
        # max_tokens (unlike max_lexical_tokens) also counts comments, so one knob covers both.
        return parse(source, max_tokens=limits.max_tokens)
    except GraphQLSyntaxError as e:
        if _TOKENS_MESSAGE.search(e.message):
            # The parser stops at the first token over the limit: the true count is unknown.
            raise LimitExceeded(TOO_MANY_TOKENS, limits.max_tokens, limits.max_tokens + 1) from e
        raise


# -- list sizes ----------------------------------------------------------------------------------
DEFAULT_LIST_SIZE: Final = 10

# Expected sizes of list fields without a slicing argument: generous typical counts from the
# demo departments and the planning rules, not maxima (cost is an estimate, not a bound).
LIST_SIZES: Final[dict[tuple[str, str], int]] = {
    ("Query", "departments"): 10,  # seven today; room for more departments
    ("Entity", "permits"): 20,
    ("Entity", "penalties"): 20,
    ("Entity", "inspections"): 20,
    ("Entity", "creditRecords"): 50,  # commitments, publicity and repairs pile up
    ("Credit", "lists"): 4,  # red, black, abnormal, serious
    ("Department", "checklistItems"): 50,
    ("JointInspectionTask", "departments"): 10,
    ("JointInspectionTask", "population"): 4,  # one per credit grade
    ("JointInspectionTask", "excluded"): 5,
    ("JointInspectionTask", "visitCounts"): 6,  # one per visit state
    ("SamplingPlanView", "ratios"): 4,
    ("JointVisit", "team"): 6,
    ("JointVisit", "teamHistory"): 10,
    ("JointVisit", "outcomesFor"): 20,
    ("MergedForm", "entries"): 30,
    ("FormEntry", "requirements"): 3,  # shared items merge 2–3 departments, rarely more
    ("VisitResult", "entries"): 30,
    ("AuditTrail", "entries"): 100,  # every command on the task and its visits
}

# Size of a slicing field when `first` is absent or null and the schema gives no default.
# The largest page of entities (HUB_MAX_PAGE_SIZE), as the resolvers enforce it.
PAGE_MAX: Final = settings_mod.max_page_size()

SLICE_FALLBACKS: Final[dict[tuple[str, str], int]] = {
    ("Query", "entities"): PAGE_MAX,
}

SLICING_ARGUMENT: Final = "first"
SIZED_FIELDS: Final = frozenset({"edges", "nodes"})  # a connection's lists sized by its `first`
# Lists with one item per item of a list argument: the federation router's `_entities`
# answers one entity per representation, so each representation costs what an entity of
# `entities(first: n)` costs, and more than a page of them (PAGE_MAX) is refused here, before
# thousands of them are decoded and coerced.
SIZED_BY_LIST_ARGUMENT: Final[dict[tuple[str, str], str]] = {
    ("Query", "_entities"): "representations",
}


class _Field(NamedTuple):
    type_name: str  # the named type after unwrapping NonNull and List
    own: int  # 1 for an object-typed field, 0 for a scalar or enum one
    is_list: bool
    static_size: int  # for a list without a sizing argument
    slicing: str | None  # the argument that sizes it: `first`, or a list argument
    by_length: bool  # sized by that argument's length (a list), not its value (a count)
    slice_default: int  # when the argument is absent or null


_Fields = dict[str, dict[str, _Field]]
_TABLES: WeakKeyDictionary[GraphQLSchema, _Fields] = WeakKeyDictionary()


def _field_info(parent: str, name: str, field: GraphQLField) -> _Field:
    t = field.type
    is_list = False
    while isinstance(t, GraphQLNonNull | GraphQLList):
        is_list = is_list or isinstance(t, GraphQLList)
        t = t.of_type
    size = LIST_SIZES.get((parent, name), DEFAULT_LIST_SIZE)
    own = 0 if is_leaf_type(t) else 1
    listed = SIZED_BY_LIST_ARGUMENT.get((parent, name))
    if listed is not None:
        return _Field(t.name, own, is_list, size, listed, True, 0)
    arg = field.args.get(SLICING_ARGUMENT)
    default = arg.default_value if arg is not None else None
    if not isinstance(default, int) or isinstance(default, bool):
        default = SLICE_FALLBACKS.get((parent, name), DEFAULT_LIST_SIZE)
    slicing = SLICING_ARGUMENT if arg is not None else None
    return _Field(t.name, own, is_list, size, slicing, False, default)


def _fields_of(schema: GraphQLSchema) -> _Fields:
    """Per type, per field, what cost needs; built once per schema (the schema is immutable)."""
    table = _TABLES.get(schema)
    if table is None:
        table = {}
        for type_name, t in schema.type_map.items():
            if isinstance(t, GraphQLObjectType | GraphQLInterfaceType):  # what selections select
                table[type_name] = {n: _field_info(type_name, n, f) for n, f in t.fields.items()}
            elif isinstance(t, GraphQLUnionType):
                table[type_name] = {}  # only __typename and fragments on its members
        if schema.query_type is not None:
            meta = {"__schema": SchemaMetaFieldDef, "__type": TypeMetaFieldDef}
            root = schema.query_type.name
            table[root] = {
                **table[root],
                **{n: _field_info(root, n, f) for n, f in meta.items()},
            }
        _TABLES[schema] = table
    return table


# -- measuring ------------------------------------------------------------------------------------
# Selection sets nested deeper than this, counting fragment spreads (which the parser's own limit
# of 200 does not see), are reported as this + 1 deep without walking further: a chain of spread
# fragments would otherwise exhaust Python's stack. Any sensible max_depth is far below it.
MAX_NESTING: Final = 200


class _TooDeepError(Exception):
    pass


class _Walker:
    """One measurement: (depth, aliases, cost) of a selection set, relative to it."""

    __slots__ = (
        "active",
        "fields",
        "fragments",
        "listed",
        "memo",
        "nesting",
        "var_defaults",
        "variables",
    )

    def __init__(
        self,
        fields: _Fields,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
        var_defaults: dict[str, Any],
    ) -> None:
        self.fields = fields
        self.fragments = fragments
        self.variables = variables
        self.var_defaults = var_defaults
        # A fragment's measure depends only on where it is spread (parent type, inherited size):
        # memoising it keeps nested spreads linear instead of exponential in the text.
        self.memo: dict[tuple[str, str | None, int | None], tuple[int, int, int]] = {}
        self.active: set[str] = set()  # fragments being expanded: a cycle contributes nothing
        self.nesting = 0
        self.listed = 0  # the longest list argument that sizes a list

    def size(self, node: FieldNode, info: _Field) -> int:
        """How many items a sized list field yields, from its sizing argument."""
        for arg in node.arguments or ():
            if arg.name.value != info.slicing:
                continue
            value = arg.value
            if isinstance(value, VariableNode):
                name = value.name.value
                n: Any = self.variables.get(name, self.var_defaults.get(name))
            elif isinstance(value, IntValueNode):
                n = int(value.value)
            elif isinstance(value, ListValueNode):
                n = value.values
            elif isinstance(value, NullValueNode):
                n = None
            else:
                n = value  # one literal item: a list argument takes it as a list of one
            if info.by_length:
                # Coerced as GraphQL does: null is no items, a single value a list of one.
                items = 0 if n is None else len(n) if isinstance(n, list | tuple) else 1
                self.listed = max(self.listed, items)
                return items
            if isinstance(n, int) and not isinstance(n, bool):
                return max(n, 0)
            return info.slice_default  # null or a wrong type (validation refuses the latter)
        return info.slice_default

    def selections(
        self, selections: tuple[SelectionNode, ...], parent: str | None, size: int | None
    ) -> tuple[int, int, int]:
        """`size` is the page size a connection passes to its `edges` / `nodes`."""
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise _TooDeepError
        fields = self.fields.get(parent) if parent is not None else None
        depth = aliases = cost = 0
        for sel in selections:
            if isinstance(sel, FieldNode):
                if sel.alias is not None:
                    aliases += 1
                name = sel.name.value
                if name == "__typename":
                    continue
                info = fields.get(name) if fields is not None else None
                if info is None:
                    # Unknown: 1, and its subtree under no type, so deep garbage is still deep.
                    d, a, c = (
                        self.selections(sel.selection_set.selections, None, None)
                        if sel.selection_set is not None
                        else (0, 0, 0)
                    )
                    depth = max(depth, d + 1)
                    aliases += a
                    cost += 1 + c
                    continue
                if info.slicing is not None:
                    n = self.size(sel, info)
                    mult, child_size = (n, None) if info.is_list else (1, n)
                elif info.is_list:
                    mult = size if size is not None and name in SIZED_FIELDS else info.static_size
                    child_size = None
                else:
                    mult, child_size = 1, None
                if sel.selection_set is not None:
                    d, a, c = self.selections(
                        sel.selection_set.selections, info.type_name, child_size
                    )
                else:
                    d = a = c = 0
                depth = max(depth, d + 1)
                # Aliases inside a list are not multiplied: they are text, not results.
                aliases += a
                cost += mult * (info.own + c)
            elif isinstance(sel, InlineFragmentNode):
                cond = sel.type_condition
                inner = (
                    cond.name.value
                    if cond is not None and cond.name.value in self.fields
                    else parent
                )
                d, a, c = self.selections(sel.selection_set.selections, inner, size)
                depth = max(depth, d)
                aliases += a
                cost += c
            elif isinstance(sel, FragmentSpreadNode):
                d, a, c = self.spread(sel.name.value, parent, size)
                depth = max(depth, d)
                aliases += a
                cost += c
        self.nesting -= 1
        return depth, aliases, cost

    def spread(self, name: str, parent: str | None, size: int | None) -> tuple[int, int, int]:
        fragment = self.fragments.get(name)
        if fragment is None or name in self.active:
            return 0, 0, 0  # unknown or cyclic: validation refuses the document
        cond = fragment.type_condition.name.value
        inner = cond if cond in self.fields else parent
        key = (name, inner, size)
        found = self.memo.get(key)
        if found is None:
            self.active.add(name)
            try:
                found = self.selections(fragment.selection_set.selections, inner, size)
            finally:
                self.active.discard(name)
            self.memo[key] = found
        return found


_ROOTS: Final = {
    OperationType.QUERY: "query_type",
    OperationType.MUTATION: "mutation_type",
    OperationType.SUBSCRIPTION: "subscription_type",
}


def operation_to_run(
    document: DocumentNode, operation_name: str | None
) -> OperationDefinitionNode | None:
    """The operation execution would run; None when execution will refuse to pick one."""
    found = None
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        if operation_name is None:
            if found is not None:
                return None  # several operations and no name
            found = definition
        elif definition.name is not None and definition.name.value == operation_name:
            return definition
    return found


def measure(
    document: DocumentNode,
    schema: GraphQLSchema,
    variables: dict[str, Any] | None,
    operation_name: str | None,
) -> Measures:
    """Depth, aliases and cost of the operation that would run (zero if none would).

    Deeper than MAX_NESTING selection sets (fragments counted) measure (MAX_NESTING + 1, 0, 0).
    """
    operation = operation_to_run(document, operation_name)
    if operation is None:
        return Measures(0, 0, 0)
    root = getattr(schema, _ROOTS[operation.operation])
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    var_defaults: dict[str, Any] = {}
    for v in operation.variable_definitions or ():
        if isinstance(v.default_value, IntValueNode):
            var_defaults[v.variable.name.value] = int(v.default_value.value)
        elif isinstance(v.default_value, ListValueNode):
            var_defaults[v.variable.name.value] = v.default_value.values
    # Runs before strawberry checks the request shape: variables might not even be an object.
    values = variables if isinstance(variables, dict) else {}
    walker = _Walker(_fields_of(schema), fragments, values, var_defaults)
    try:
        depth, aliases, cost = walker.selections(
            operation.selection_set.selections, root.name if root is not None else None, None
        )
    except _TooDeepError:
        return Measures(MAX_NESTING + 1, 0, 0)  # refused as too deep; the rest is unmeasured
    return Measures(depth, aliases, cost, walker.listed)


def check(
    document: DocumentNode,
    schema: GraphQLSchema,
    variables: dict[str, Any] | None,
    operation_name: str | None,
    limits: Limits,
) -> Measures:
    """Measure, and raise LimitExceeded for the first limit passed (depth, aliases, cost)."""
    m = measure(document, schema, variables, operation_name)
    max_depth = min(limits.max_depth, MAX_NESTING)
    if m.depth > max_depth:
        raise LimitExceeded(QUERY_TOO_DEEP, max_depth, m.depth)
    if m.aliases > limits.max_aliases:
        raise LimitExceeded(TOO_MANY_ALIASES, limits.max_aliases, m.aliases)
    if m.listed > PAGE_MAX:
        raise LimitExceeded(QUERY_TOO_COMPLEX, PAGE_MAX, m.listed, LISTED_MESSAGE)
    if m.cost > limits.max_cost:
        raise LimitExceeded(QUERY_TOO_COMPLEX, limits.max_cost, m.cost)
    return m


__all__ = [
    "BODY_TOO_LARGE",
    "DEFAULT_LIST_SIZE",
    "LIMITS_BY_CLIENT",
    "LIST_SIZES",
    "MAX_NESTING",
    "QUERY_TOO_COMPLEX",
    "QUERY_TOO_DEEP",
    "TOO_MANY_ALIASES",
    "TOO_MANY_TOKENS",
    "LimitExceeded",
    "Limits",
    "Measures",
    "check",
    "check_body_size",
    "limits_for",
    "measure",
    "operation_to_run",
    "parse_limited",
]
