"""Read operations compiled once into plans that gateway/executor.py runs breadth-first.

A plan is the operation's selection tree with, for every field, how to get its value (an
attribute, a plain resolver, or a batched load declared in schemas/planned.py), how to
complete it (serialize a leaf, build an object, walk a list), and the permission rules it
needs. An operation that uses anything else — a mutation, introspection, directives, an
abstract type, a resolver that needs more of `info` — gets no plan: strawberry runs it.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_operation_ast,
    validate,
    visit,
)
from graphql.execution.values import get_argument_values
from graphql.language import Visitor
from strawberry.permission import PermissionExtension
from strawberry.types.arguments import convert_arguments

from resolvers.batched import Batched
from schemas.planned import BATCHED, INFO_CONTEXT_ONLY
from schemas.schema import schema as strawberry_schema

# How a field's value is obtained.
TYPENAME, ATTRIBUTE, CALL, ASYNC_ROOT, BATCHED_LOAD = range(5)

Completer = Callable[[Any, tuple[str | int, ...], Any], Any]  # (value, path, run) -> JSON


class NotPlannable(Exception):
    """The operation needs strawberry's executor."""


class NullInNonNull(Exception):
    """A non-null field came out null: strawberry's executor answers with its error."""


@dataclass(slots=True)
class FieldPlan:
    key: str  # response key (alias or name)
    name: str
    how: int
    getter: Callable[..., Any] | None = None
    info_param: str | None = None
    batched: Batched | None = None
    field_def: GraphQLField | None = None
    node: FieldNode | None = None
    arguments: list[Any] = field(default_factory=list)  # strawberry arguments
    static_args: dict[str, Any] | None = None  # when no variable is used
    complete: Completer | None = None
    leaf: Callable[[Any], Any] | None = None  # a scalar or enum field's serializer
    non_null: bool = False


@dataclass(slots=True)
class ObjectPlan:
    type_name: str
    fields: list[FieldPlan]


@dataclass(frozen=True, slots=True)
class Plan:
    operation: OperationDefinitionNode
    root: ObjectPlan
    permissions: frozenset[Any]  # permission classes every field's rules need granted


_PLANS: dict[tuple[str, str | None], Plan | None] = {}
_MAX_PLANS = 512


def plan_for(query: str, document: DocumentNode, operation_name: str | None) -> Plan | None:
    """The plan of a document's operation, compiled once per process (None: no plan)."""
    key = (query, operation_name)
    if key in _PLANS:
        return _PLANS[key]
    try:
        plan: Plan | None = Compiler(strawberry_schema._schema, document).plan(operation_name)
    except NotPlannable:
        plan = None
    if len(_PLANS) >= _MAX_PLANS:
        del _PLANS[next(iter(_PLANS))]  # the oldest
    _PLANS[key] = plan
    return plan


class Compiler:
    def __init__(self, schema: GraphQLSchema, document: DocumentNode) -> None:
        self.schema = schema
        self.document = document
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.permissions: set[Any] = set()

    def plan(self, operation_name: str | None) -> Plan:
        if validate(self.schema, self.document):
            raise NotPlannable("invalid")  # strawberry reports the validation errors
        operation = get_operation_ast(self.document, operation_name)
        if operation is None or operation.operation != OperationType.QUERY:
            raise NotPlannable("not one query")
        if _has_directives(operation) or any(_has_directives(f) for f in self.fragments.values()):
            raise NotPlannable("directives")
        root_type = self.schema.query_type
        assert root_type is not None
        root = self.object_plan(root_type, operation.selection_set, root=True)
        return Plan(operation, root, frozenset(self.permissions))

    def object_plan(
        self, parent: GraphQLObjectType, selections: SelectionSetNode, root: bool = False
    ) -> ObjectPlan:
        fields: list[FieldPlan] = []
        keys: set[str] = set()
        for node in self.collect(parent, selections):
            key = node.alias.value if node.alias else node.name.value
            if key in keys:
                raise NotPlannable("a response key selected twice")
            keys.add(key)
            fields.append(self.field_plan(parent, node, key, root))
        return ObjectPlan(parent.name, fields)

    def collect(self, parent: GraphQLObjectType, selections: SelectionSetNode) -> list[FieldNode]:
        out: list[FieldNode] = []
        for sel in selections.selections:
            if isinstance(sel, FieldNode):
                out.append(sel)
                continue
            if isinstance(sel, FragmentSpreadNode):
                fragment = self.fragments[sel.name.value]
                condition, inner = fragment.type_condition, fragment.selection_set
            elif isinstance(sel, InlineFragmentNode):
                condition, inner = sel.type_condition, sel.selection_set
            else:
                raise NotPlannable("unknown selection")
            if condition is not None and condition.name.value != parent.name:
                raise NotPlannable("a fragment on another type")
            out.extend(self.collect(parent, inner))
        return out

    def field_plan(
        self, parent: GraphQLObjectType, node: FieldNode, key: str, root: bool
    ) -> FieldPlan:
        name = node.name.value
        if name == "__typename":
            return FieldPlan(key, name, TYPENAME)
        if name.startswith("__") or name not in parent.fields:
            raise NotPlannable("introspection or unknown field")
        field_def = parent.fields[name]
        sf = field_def.extensions.get("strawberry-definition")
        if sf is None:
            raise NotPlannable("not a strawberry field")
        for ext in sf.extensions:
            if not isinstance(ext, PermissionExtension):
                raise NotPlannable("a field extension")
        for permission in sf.permission_classes:
            if not hasattr(permission, "grants_all"):
                raise NotPlannable("a permission the planner cannot check up front")
            self.permissions.add(permission)

        plan = FieldPlan(key, name, ATTRIBUTE, field_def=field_def, node=node)
        plan.arguments = list(sf.arguments)
        coordinate = (parent.name, name)
        resolver = sf.base_resolver
        if coordinate in BATCHED:
            plan.how, plan.batched = BATCHED_LOAD, BATCHED[coordinate]
        elif resolver is None:
            plan.getter = operator.attrgetter(sf.python_name)
        else:
            if resolver.root_parameter is not None or resolver.parent_parameter is not None:
                raise NotPlannable("a resolver reading root or parent")
            if resolver.info_parameter is not None:
                if coordinate not in INFO_CONTEXT_ONLY:
                    raise NotPlannable("a resolver using more of info")
                plan.info_param = resolver.info_parameter.name
            if resolver.is_async and not root:
                raise NotPlannable("an async resolver below the root without a batch")
            plan.how = ASYNC_ROOT if resolver.is_async else CALL
            plan.getter = resolver.wrapped_func
        if not _uses_variables(node):
            plan.static_args = _arguments(plan, {})
        plan.complete = self.completer(field_def.type, node)
        plan.non_null = isinstance(field_def.type, GraphQLNonNull)
        named = field_def.type.of_type if plan.non_null else field_def.type  # type: ignore[union-attr]
        if isinstance(named, GraphQLScalarType | GraphQLEnumType):
            plan.leaf = _serializer(named)
        return plan

    def completer(self, type_: GraphQLOutputType, node: FieldNode) -> Completer:
        if isinstance(type_, GraphQLNonNull):
            inner = self.completer(type_.of_type, node)

            def non_null(value: Any, path: tuple[str | int, ...], run: Any) -> Any:
                if value is None:
                    raise NullInNonNull(path)
                out = inner(value, path, run)
                if out is None:
                    raise NullInNonNull(path)
                return out

            return non_null
        if isinstance(type_, GraphQLList):
            item = self.completer(type_.of_type, node)

            def listed(value: Any, path: tuple[str | int, ...], run: Any) -> Any:
                if value is None:
                    return None
                return [item(v, (*path, i), run) for i, v in enumerate(value)]

            return listed
        if isinstance(type_, GraphQLScalarType | GraphQLEnumType):
            serialize = _serializer(type_)

            def leaf(value: Any, path: tuple[str | int, ...], run: Any) -> Any:
                return None if value is None else serialize(value)

            return leaf
        if isinstance(type_, GraphQLObjectType):
            if node.selection_set is None:
                raise NotPlannable("an object without selections")
            obj = self.object_plan(type_, node.selection_set)

            def object_(value: Any, path: tuple[str | int, ...], run: Any) -> Any:
                return None if value is None else run.object(obj, value, path)

            return object_
        raise NotPlannable("an abstract type")


def _serializer(type_: GraphQLScalarType | GraphQLEnumType) -> Callable[[Any], Any]:
    """The type's serialize, made cheap for the common cases: strings pass as they are,
    and an enum's few values are looked up once each."""
    serialize = type_.serialize
    if type_.name == "String":
        return lambda v: v if type(v) is str else serialize(v)
    if isinstance(type_, GraphQLEnumType):
        names: dict[Any, Any] = {}

        def enum(v: Any) -> Any:
            try:
                return names[v]
            except KeyError:
                names[v] = found = serialize(v)
                return found

        return enum
    return serialize


def argument_values(plan: FieldPlan, variables: dict[str, Any]) -> dict[str, Any]:
    """The field's arguments as its resolver receives them (python names and types)."""
    if plan.static_args is not None:
        return plan.static_args
    return _arguments(plan, variables)


def _arguments(plan: FieldPlan, variables: dict[str, Any]) -> dict[str, Any]:
    assert plan.field_def is not None and plan.node is not None
    raw = get_argument_values(plan.field_def, plan.node, variables)
    return convert_arguments(
        raw,
        plan.arguments,
        scalar_registry=strawberry_schema.schema_converter.scalar_registry,
        config=strawberry_schema.config,
    )


def _has_directives(node: Any) -> bool:
    return _contains(node, "directive")


def _uses_variables(node: FieldNode) -> bool:
    return any(_contains(argument, "variable") for argument in node.arguments or ())


def _contains(node: Any, kind: str) -> bool:
    """Whether a syntax tree holds a node of `kind` (e.g. "directive", "variable")."""
    found = False

    def enter(*_: Any) -> None:
        nonlocal found
        found = True

    visit(node, type("Finder", (Visitor,), {f"enter_{kind}": staticmethod(enter)})())
    return found
