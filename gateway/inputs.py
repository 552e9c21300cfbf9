"""Text a department could not take, refused at the door, before any SQL.

PostgreSQL refuses a NUL character in text and no UTF-8 encoder takes a lone surrogate: such
a value sent on to a department is a statement error there (and used to count against its
circuit breaker). Over-long strings cost every layer below for nothing. So every string of a
request is checked here, once, whatever field it is for: each string of the variables (at any
depth, object keys included, used or not), each string literal of the document (default
values and directive arguments included), and — walking the operation with the schema's
types, through nested input objects, lists and fragments — each argument where it is used,
with the bound of that argument or input field.

Every string is at most MAX_STRING characters; BOUNDS are tighter where a field has its own.
A refusal says where (`argument`, e.g. `entities.filter.nameContains`) and why (`reason`):
INVALID_STRING, STRING_TOO_LONG (`max`) or STRING_TOO_SHORT (`min`).
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass
from typing import Any, Final

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableNode,
    Visitor,
    visit,
)

from gateway.limits import operation_to_run
from tasks.commands import MAX_TITLE

INVALID_STRING: Final = "INVALID_STRING"
STRING_TOO_LONG: Final = "STRING_TOO_LONG"
STRING_TOO_SHORT: Final = "STRING_TOO_SHORT"

MAX_STRING: Final = 4096  # characters in any one string of a request


@dataclass(frozen=True, slots=True)
class Bound:
    max: int = MAX_STRING
    min: int = 0  # of a value that is not blank (blank means "not given")
    trimmed: bool = False  # measured after trimming white space, as the field uses it


ANY: Final = Bound()

# By coordinate (`Type.field` of an input field, `Type.field(argument)`), else by name
# wherever it appears.
BOUNDS: Final[dict[str, Bound]] = {
    # A fragment of one character matches most of the register and no index helps it; 64
    # characters is longer than any registered name.
    "EntityFilter.nameContains": Bound(max=64, min=2, trimmed=True),
    "CreateJointInspectionTaskInput.title": Bound(max=MAX_TITLE),
    "idempotencyKey": Bound(max=128),
    "after": Bound(max=256),  # cursors this hub hands out are under 100 characters
    "uscc": Bound(max=64),  # 18 characters, with room for spaces a client leaves in
    "district": Bound(max=16),  # 6-digit division codes
    "department": Bound(max=64),
    "departments": Bound(max=64),
    "leadDepartment": Bound(max=64),
}

_TEXT_TYPES: Final = frozenset({"String", "ID"})
_SURROGATE: Final = re.compile("[\ud800-\udfff]")
# More bytes between two quotes than MAX_STRING characters can take (one byte each at least).
_LONG_RUN: Final = re.compile(rb'"[^"]{%d,}' % (MAX_STRING + 1))


class InvalidInput(Exception):
    """A string of the request that no department may be sent; `extensions` for the answer."""

    def __init__(self, message: str, reason: str, where: str, **limits: int) -> None:
        super().__init__(message)
        self.extensions: dict[str, Any] = {"reason": reason, "argument": where, **limits}


def refusal(
    document: DocumentNode,
    schema: GraphQLSchema,
    variables: dict[str, Any] | None,
    operation_name: str | None,
) -> InvalidInput | None:
    """Why this request may not run (its first bad string), or None."""
    values = variables if isinstance(variables, dict) else {}
    try:
        # Where each argument goes first (the most precise answer), then whatever is left.
        operation = operation_to_run(document, operation_name)
        if operation is not None:
            for where, type_, value, bound in _arguments(document, operation, schema):
                _value(value, type_, where, bound, values, operation)
        _scan_json(values)
        for text in _literals(document):
            check_string(text, "a string in the query", ANY)
    except InvalidInput as e:
        return e
    return None


def check_string(text: str, where: str, bound: Bound) -> None:
    """Raise InvalidInput unless `text` is text PostgreSQL takes, within `bound`."""
    if "\x00" in text:
        raise InvalidInput(
            f"{where} contains a NUL character, which text cannot hold", INVALID_STRING, where
        )
    if _SURROGATE.search(text):
        raise InvalidInput(
            f"{where} contains a lone UTF-16 surrogate, which is not text", INVALID_STRING, where
        )
    n = len(text.strip()) if bound.trimmed else len(text)
    if n > bound.max:
        raise InvalidInput(
            f"{where} is {n} characters long; at most {bound.max} are allowed",
            STRING_TOO_LONG,
            where,
            max=bound.max,
        )
    if 0 < n < bound.min:
        raise InvalidInput(
            f"{where} needs at least {bound.min} characters (got {n})",
            STRING_TOO_SHORT,
            where,
            min=bound.min,
        )


def _scan_json(variables: dict[str, Any]) -> None:
    """Every string of the variables, keys included, wherever it will go. A request may carry
    thousands of them: the first pass only looks; the second, when one is bad, says where."""
    if not _has_bad_string(variables):
        return
    stack: list[tuple[Any, str]] = [(variables, "variables")]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            check_string(item, where, ANY)
        elif isinstance(item, dict):
            for k, v in item.items():
                if isinstance(k, str):
                    check_string(k, f"a key of {where}", ANY)
                stack.append((v, f"{where}.{k}"))
        elif isinstance(item, list):
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(item))


def _has_bad_string(variables: dict[str, Any]) -> bool:
    """Whether any string of the variables might be bad, looked for in their JSON at C speed
    (thousands of strings in a request): a lone surrogate does not encode, a NUL shows as
    an escape, an over-long string as a long run between quotes. It may answer yes when all
    is fine (an escaped backslash before `u0000`, multibyte characters counted as bytes, a
    long list of numbers); the walk that follows decides."""
    try:
        blob = orjson.dumps(variables)
    except orjson.JSONEncodeError:
        return True
    if b"\\u0000" in blob:
        return True
    # Escapes kept as two bytes that are not a quote: a string is then a run between quotes.
    runs = blob.replace(b"\\\\", b"..").replace(b'\\"', b"..")
    return _LONG_RUN.search(runs) is not None


# -- the document, compiled once --------------------------------------------------------------
_Argument = tuple[str, GraphQLInputType, ValueNode, Bound]  # where, type, value, bound


@dataclass(slots=True)
class _Compiled:
    literals: list[str]
    arguments: dict[str | None, list[_Argument]]  # per operation name


# By identity: the gateway parses a document once and hands the same object on, and a
# document's own hash walks its whole tree.
_COMPILED: dict[int, tuple[weakref.ref[DocumentNode], _Compiled]] = {}


def _compiled(document: DocumentNode) -> _Compiled:
    key = id(document)
    entry = _COMPILED.get(key)
    if entry is not None and entry[0]() is document:
        return entry[1]
    literals: list[str] = []

    class Strings(Visitor):
        def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
            literals.append(node.value)

    visit(document, Strings())
    found = _Compiled(literals, {})
    _COMPILED[key] = (weakref.ref(document, lambda _, key=key: _COMPILED.pop(key, None)), found)
    return found


def _literals(document: DocumentNode) -> list[str]:
    return _compiled(document).literals


def _arguments(
    document: DocumentNode, operation: OperationDefinitionNode, schema: GraphQLSchema
) -> list[_Argument]:
    """Every argument of the operation's fields, with its input type and bound."""
    compiled = _compiled(document)
    name = operation.name.value if operation.name else None
    found = compiled.arguments.get(name)
    if found is None:
        root = {
            "query": schema.query_type,
            "mutation": schema.mutation_type,
            "subscription": schema.subscription_type,
        }[operation.operation.value]
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        found = []
        if root is not None:
            _collect(operation.selection_set, root, schema, fragments, set(), found)
        compiled.arguments[name] = found
    return found


def _collect(
    selections: SelectionSetNode,
    parent: GraphQLObjectType | GraphQLInterfaceType | None,
    schema: GraphQLSchema,
    fragments: dict[str, FragmentDefinitionNode],
    seen: set[tuple[str, str]],
    out: list[_Argument],
) -> None:
    for sel in selections.selections:
        if isinstance(sel, FieldNode):
            if parent is None or (field := parent.fields.get(sel.name.value)) is None:
                continue  # unknown: validation refuses the document
            for arg in sel.arguments or ():
                definition = field.args.get(arg.name.value)
                if definition is not None:
                    coordinate = f"{parent.name}.{sel.name.value}({arg.name.value})"
                    where = f"{sel.name.value}.{arg.name.value}"
                    bound = _bound(coordinate, arg.name.value)
                    out.append((where, definition.type, arg.value, bound))
            if sel.selection_set is not None:
                _collect(sel.selection_set, _output(field.type), schema, fragments, seen, out)
        elif isinstance(sel, InlineFragmentNode):
            inner = _condition(sel.type_condition, schema) or parent
            _collect(sel.selection_set, inner, schema, fragments, seen, out)
        elif isinstance(sel, FragmentSpreadNode):
            fragment = fragments.get(sel.name.value)
            key = (sel.name.value, parent.name if parent is not None else "")
            if fragment is None or key in seen:
                continue  # unknown (validation refuses it) or already walked from here
            seen.add(key)
            inner = _condition(fragment.type_condition, schema) or parent
            _collect(fragment.selection_set, inner, schema, fragments, seen, out)


def _bound(coordinate: str, name: str) -> Bound:
    return BOUNDS.get(coordinate) or BOUNDS.get(name, ANY)


def _output(type_: Any) -> GraphQLObjectType | GraphQLInterfaceType | None:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_ if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType) else None


def _condition(condition: Any, schema: GraphQLSchema) -> Any:
    if condition is None:
        return None
    return _output(schema.type_map.get(condition.name.value))


# -- checking a value against its type -----------------------------------------------------------
def _value(
    node: ValueNode,
    type_: GraphQLInputType,
    where: str,
    bound: Bound,
    variables: dict[str, Any],
    operation: OperationDefinitionNode,
) -> None:
    """An argument's value as written: literals, and variables wherever they are used."""
    if isinstance(node, VariableNode):
        name = node.name.value
        if name in variables:
            _json(variables[name], type_, where, bound)
            return
        for definition in operation.variable_definitions or ():
            if definition.variable.name.value == name and definition.default_value is not None:
                _value(definition.default_value, type_, where, bound, variables, operation)
        return
    named = _unwrap(type_)
    if isinstance(named, GraphQLList):
        items = node.values if isinstance(node, ListValueNode) else (node,)
        for i, item in enumerate(items):
            _value(item, named.of_type, f"{where}[{i}]", bound, variables, operation)
    elif isinstance(named, GraphQLInputObjectType) and isinstance(node, ObjectValueNode):
        for f in node.fields:
            field = named.fields.get(f.name.value)
            if field is not None:
                inner = _bound(f"{named.name}.{f.name.value}", f.name.value)
                _value(f.value, field.type, f"{where}.{f.name.value}", inner, variables, operation)
    elif _is_text(named) and isinstance(node, StringValueNode):
        check_string(node.value, where, bound)


def _json(value: Any, type_: GraphQLInputType, where: str, bound: Bound) -> None:
    """A variable's value, as it will be coerced to the argument's type."""
    named = _unwrap(type_)
    if not _holds_text(named):
        return  # numbers, enums, other scalars (federation's _Any: the scan of all strings)
    if isinstance(named, GraphQLList):
        items = value if isinstance(value, list) else [value]
        for i, item in enumerate(items):
            _json(item, named.of_type, f"{where}[{i}]", bound)
    elif isinstance(named, GraphQLInputObjectType) and isinstance(value, dict):
        for name, field in named.fields.items():
            if name in value:
                inner = _bound(f"{named.name}.{name}", name)
                _json(value[name], field.type, f"{where}.{name}", inner)
    elif _is_text(named) and isinstance(value, str):
        check_string(value, where, bound)


def _holds_text(type_: Any, seen: frozenset[str] = frozenset()) -> bool:
    """Whether a value of this input type can hold a String or ID (worth walking)."""
    named = _named(type_)
    if not isinstance(named, GraphQLInputObjectType):
        return _is_text(named)
    if not seen and named.name in _HOLDS_TEXT:
        return _HOLDS_TEXT[named.name]
    inner = seen | {named.name}  # input types may refer to themselves
    found = any(
        _holds_text(f.type, inner)
        for f in named.fields.values()
        if _named(f.type).name not in inner
    )
    if not seen:
        _HOLDS_TEXT[named.name] = found
    return found


_HOLDS_TEXT: dict[str, bool] = {}


def _named(type_: Any) -> Any:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_


def _unwrap(type_: Any) -> Any:
    return type_.of_type if isinstance(type_, GraphQLNonNull) else type_


def _is_text(type_: Any) -> bool:
    return isinstance(type_, GraphQLScalarType) and type_.name in _TEXT_TYPES
