"""A sweep's [derived] expressions are data: bounded arithmetic, never code, never a hang."""

import time

import numpy as np
import pytest

from funnelsim.experiments.expressions import ExpressionError, evaluate_expression

COLUMNS = {"budget": np.array([100.0, 200.0, 400.0]), "share": np.array([0.0, 0.5, 1.0])}


def test_arithmetic_over_columns():
    np.testing.assert_allclose(evaluate_expression("budget * share + 1", COLUMNS), [1.0, 101.0, 401.0])
    np.testing.assert_allclose(evaluate_expression("max(budget - 150, 0)", COLUMNS), [0.0, 50.0, 250.0])
    np.testing.assert_allclose(evaluate_expression("budget if share > 0.4 else 0", COLUMNS), [0.0, 200.0, 400.0])
    np.testing.assert_allclose(evaluate_expression("7", COLUMNS), [7.0, 7.0, 7.0])


def test_huge_powers_are_infinite_at_once_not_a_hang():
    started = time.perf_counter()
    result = evaluate_expression("budget + 10 ** 10 ** 10", COLUMNS)
    assert np.isinf(result).all()
    assert time.perf_counter() - started < 1.0  # pandas.eval folded this as a Python int: it never returned


@pytest.mark.parametrize(
    "expression, reason",
    [
        ("__import__('os').system('true')", "not allowed"),
        ("budget.__class__", "not allowed"),
        ("[budget]", "not allowed"),
        ("lambda: 1", "not allowed"),
        ("open('x')", "not allowed"),
        ("'text'", "not allowed"),
        ("salary * 2", "unknown name 'salary'"),
        ("budget +", "not an arithmetic expression"),
        ("+".join(["1"] * 150), "more than"),
        ("1" * 2000, "longer than"),
    ],
)
def test_anything_else_is_refused_with_a_reason(expression, reason):
    with pytest.raises(ExpressionError, match=reason):
        evaluate_expression(expression, COLUMNS)


def test_dotted_names_in_backticks_as_in_pandas():
    columns = {"firms.0.price": np.array([10.0, 20.0])}
    np.testing.assert_allclose(evaluate_expression("`firms.0.price` * 2", columns), [20.0, 40.0])
    with pytest.raises(ExpressionError, match="unknown name 'firms.1.price'"):
        evaluate_expression("`firms.1.price`", columns)
