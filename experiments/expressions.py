"""Arithmetic over design columns, for a sweep's ``[derived]`` settings: data, never code.

A sweep file is data that people share, so its expressions must not be able to run code, hang
or eat the machine. ``pandas.eval`` (what was used before) folds Python integer constants, so
``x + 10 ** 10 ** 10`` never finishes, and its ``python`` engine evaluates arbitrary attribute
access. Here an expression is parsed with :mod:`ast`, checked against a small grammar (numbers,
design column names, ``+ - * / // % **``, comparisons, ``a if c else b`` and a few named
functions), bounded in length and size, and evaluated on float64 numpy arrays, where every
operation takes time proportional to the number of design points: a huge power is ``inf``, not
a hang.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable, Mapping

import numpy as np

#: Longest expression accepted, in characters, and most syntax nodes in it.
MAX_LENGTH = 1000
MAX_NODES = 200

_BINARY: dict[type[ast.operator], Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[np.ndarray], np.ndarray]] = {ast.USub: operator.neg, ast.UAdd: operator.pos}
_COMPARE: dict[type[ast.cmpop], Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_FUNCTIONS: dict[str, Callable[..., np.ndarray]] = {
    "abs": np.abs,
    "sqrt": np.sqrt,
    "log": np.log,
    "exp": np.exp,
    "round": np.round,
    "floor": np.floor,
    "ceil": np.ceil,
    "min": np.minimum,
    "max": np.maximum,
    "clip": np.clip,
}


class ExpressionError(ValueError):
    """An expression outside the grammar, too large, or naming an unknown column."""


def evaluate_expression(expression: str, columns: Mapping[str, np.ndarray]) -> np.ndarray:
    """Evaluate ``expression`` over ``columns`` (equal-length arrays); one float per row.

    Raises :class:`ExpressionError` with a short reason for anything outside the grammar.
    """
    if len(expression) > MAX_LENGTH:
        raise ExpressionError(f"longer than {MAX_LENGTH} characters")
    columns = dict(columns)
    # A name that is not an identifier (a dotted scenario key) is written in backticks, as in
    # pandas: `firms.0.price` * 2. Each becomes a plain identifier before parsing.
    quoted: dict[str, str] = {}

    def identifier(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in columns:
            raise ExpressionError(f"unknown name '{name}' (the parameters are: {', '.join(sorted(columns)) or 'none'})")
        return quoted.setdefault(name, f"_quoted_{len(quoted)}")

    expression = re.sub(r"`([^`]*)`", identifier, expression)
    columns.update({alias: columns[name] for name, alias in quoted.items()})
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as error:
        raise ExpressionError(f"not an arithmetic expression ({error.msg})") from None
    nodes = sum(1 for _ in ast.walk(tree))
    if nodes > MAX_NODES:
        raise ExpressionError(f"more than {MAX_NODES} terms")
    length = len(next(iter(columns.values()))) if columns else 1
    arrays = {name: np.asarray(values, dtype=float) for name, values in columns.items()}
    with np.errstate(all="ignore"):
        result = _evaluate(tree.body, arrays)
    return np.broadcast_to(np.asarray(result, dtype=float), (length,)).copy()


def _evaluate(node: ast.AST, columns: Mapping[str, np.ndarray]) -> np.ndarray:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        # Python ints are unbounded; a float is what every column is, and keeps work constant.
        # A 0-d array, so that every node evaluates to an array (broadcast to the columns at the end).
        return np.asarray(float(node.value) if abs(node.value) < 1e308 else np.inf)
    if isinstance(node, ast.Name):
        if node.id not in columns:
            known = ", ".join(sorted(columns)) or "none"
            raise ExpressionError(f"unknown name '{node.id}' (the parameters are: {known})")
        return columns[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return _BINARY[type(node.op)](_evaluate(node.left, columns), _evaluate(node.right, columns))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_evaluate(node.operand, columns))
    if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
        left = _evaluate(node.left, columns)
        result = np.asarray(True)
        for op, right_node in zip(node.ops, node.comparators):
            right = _evaluate(right_node, columns)
            result = result & _COMPARE[type(op)](left, right)
            left = right
        return np.asarray(result, dtype=float)
    if isinstance(node, ast.IfExp):
        return np.where(_evaluate(node.test, columns) != 0, _evaluate(node.body, columns), _evaluate(node.orelse, columns))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS and not node.keywords:
        return _FUNCTIONS[node.func.id](*(_evaluate(argument, columns) for argument in node.args))
    allowed = "numbers, parameter names, + - * / // % **, comparisons, 'a if c else b', " + ", ".join(_FUNCTIONS)
    raise ExpressionError(f"'{ast.unparse(node)}' is not allowed (allowed: {allowed})")
