"""``skip_if`` conditions: a small, safe expression language (never ``eval``).

Grammar::

    expr       := or_expr
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | comparison
    comparison := operand (("==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not in") operand)?
    operand    := path | 'string' | "string" | number | true | false | null | [operand, ...]
                | "(" expr ")"
    path       := root ("." name)*      root: task | subject | vars | input | workflow

A path that names nothing evaluates to ``null``; comparing ``null`` with ``<`` is false.
:func:`parse_condition` rejects everything else with a message naming the column, so an
invalid expression fails when the workflow is validated, never mid-run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["ROOTS", "Condition", "ConditionError", "evaluate_any", "parse_condition"]

ROOTS = ("task", "subject", "vars", "input", "workflow")

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<num>-?\d+(?:\.\d+)?)
      | (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,)
      | (?P<name>[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)*)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in", "true", "false", "null", "none"}


class ConditionError(ValueError):
    """An expression that does not parse; ``column`` is 1-based."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"{message} (column {column})")
        self.column = column


@dataclass(frozen=True)
class _Tok:
    kind: str  # num | str | op | name | end
    text: str
    pos: int


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            col = pos + (len(text[pos:]) - len(text[pos:].lstrip())) + 1
            raise ConditionError(f"unexpected character {text[col - 1]!r}", col)
        kind = m.lastgroup or ""
        out.append(_Tok(kind, m.group(kind), m.start(kind)))
        pos = m.end()
    out.append(_Tok("end", "", len(text)))
    return out


# The parsed tree: tuples tagged by their first element.
Node = tuple[Any, ...]


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def is_word(self, word: str) -> bool:
        tok = self.peek()
        return tok.kind == "name" and tok.text.lower() == word

    def expect_op(self, op: str) -> None:
        tok = self.take()
        if tok.kind != "op" or tok.text != op:
            raise ConditionError(
                f"expected {op!r}, found {tok.text or 'end of text'!r}", tok.pos + 1
            )

    def parse(self) -> Node:
        node = self.or_expr()
        tok = self.peek()
        if tok.kind != "end":
            raise ConditionError(f"unexpected {tok.text!r}", tok.pos + 1)
        return node

    def or_expr(self) -> Node:
        node = self.and_expr()
        while self.is_word("or"):
            self.take()
            node = ("or", node, self.and_expr())
        return node

    def and_expr(self) -> Node:
        node = self.not_expr()
        while self.is_word("and"):
            self.take()
            node = ("and", node, self.not_expr())
        return node

    def not_expr(self) -> Node:
        if self.is_word("not"):
            self.take()
            return ("not", self.not_expr())
        return self.comparison()

    def comparison(self) -> Node:
        left = self.operand()
        tok = self.peek()
        if tok.kind == "op" and tok.text in ("==", "!=", "<", "<=", ">", ">="):
            self.take()
            return ("cmp", tok.text, left, self.operand())
        if self.is_word("in"):
            self.take()
            return ("cmp", "in", left, self.operand())
        if self.is_word("not") and self.toks[self.i + 1].text.lower() == "in":
            self.take()
            self.take()
            return ("cmp", "not in", left, self.operand())
        return left

    def operand(self) -> Node:
        tok = self.take()
        if tok.kind == "num":
            return ("lit", float(tok.text) if "." in tok.text else int(tok.text))
        if tok.kind == "str":
            body = tok.text[1:-1]
            return ("lit", re.sub(r"\\(.)", r"\1", body))
        if tok.kind == "op" and tok.text == "(":
            node = self.or_expr()
            self.expect_op(")")
            return node
        if tok.kind == "op" and tok.text == "[":
            items: list[Node] = []
            if not (self.peek().kind == "op" and self.peek().text == "]"):
                items.append(self.operand())
                while self.peek().kind == "op" and self.peek().text == ",":
                    self.take()
                    items.append(self.operand())
            self.expect_op("]")
            return ("list", tuple(items))
        if tok.kind == "name":
            word = tok.text.lower()
            if word in ("true", "false"):
                return ("lit", word == "true")
            if word in ("null", "none"):
                return ("lit", None)
            if word in _KEYWORDS:
                raise ConditionError(f"unexpected keyword {tok.text!r}", tok.pos + 1)
            parts = tok.text.split(".")
            if parts[0] not in ROOTS:
                raise ConditionError(
                    f"unknown name {parts[0]!r}; a path starts with one of {', '.join(ROOTS)}",
                    tok.pos + 1,
                )
            return ("path", tuple(parts))
        raise ConditionError(f"expected a value, found {tok.text or 'end of text'!r}", tok.pos + 1)


@dataclass(frozen=True)
class Condition:
    """A parsed expression; :meth:`evaluate` it against a context mapping."""

    text: str
    tree: Node

    def evaluate(self, context: Mapping[str, Any]) -> bool:
        return bool(_eval(self.tree, context))


def parse_condition(text: str) -> Condition:
    """Parse ``text`` or raise :class:`ConditionError`."""
    if not isinstance(text, str) or not text.strip():
        raise ConditionError("empty condition", 1)
    return Condition(text, _Parser(text).parse())


def evaluate_any(conditions: Sequence[Condition], context: Mapping[str, Any]) -> Condition | None:
    """The first condition that holds (a phase is skipped when any ``skip_if`` holds)."""
    return next((c for c in conditions if c.evaluate(context)), None)


def _lookup(parts: tuple[str, ...], context: Mapping[str, Any]) -> Any:
    value: Any = context
    for part in parts:
        value = value.get(part) if isinstance(value, Mapping) else getattr(value, part, None)
        if value is None:
            return None
    if hasattr(value, "value") and not isinstance(value, (str, int, float, bool)):
        value = value.value  # enums compare by their wire spelling
    return value


def _eval(node: Node, context: Mapping[str, Any]) -> Any:
    tag = node[0]
    if tag == "lit":
        return node[1]
    if tag == "list":
        return [_eval(n, context) for n in node[1]]
    if tag == "path":
        return _lookup(node[1], context)
    if tag == "not":
        return not _eval(node[1], context)
    if tag == "and":
        return bool(_eval(node[1], context)) and bool(_eval(node[2], context))
    if tag == "or":
        return bool(_eval(node[1], context)) or bool(_eval(node[2], context))
    op, left, right = node[1], _eval(node[2], context), _eval(node[3], context)
    return _compare(op, left, right)


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "==":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if op in ("in", "not in"):
        if isinstance(right, (list, tuple, set, str, Mapping)):
            try:
                found = left in right
            except TypeError:
                found = False
        else:
            found = False
        return found if op == "in" else not found
    if left is None or right is None:
        return False
    try:
        if op == "<":
            return bool(left < right)
        if op == "<=":
            return bool(left <= right)
        if op == ">":
            return bool(left > right)
        return bool(left >= right)
    except TypeError:
        return False
