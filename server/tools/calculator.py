"""A safe calculator for the agent's arithmetic (price differences, totals)."""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Annotated

from mcp.types import CallToolResult
from pydantic import Field

from ..access.caller import Binding
from ..domain.errors import InvalidArguments
from ..domain.models import Calculation
from ..shop import Shop
from .declare import tool
from .results import lookup, present

_OPERATORS: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_ALLOWED_CHARACTERS = set("0123456789+-*/(). ")


def evaluate(expression: str) -> float:
    """The value of an arithmetic expression of numbers, + - * /, and parentheses. Never calls eval."""
    if not set(expression) <= _ALLOWED_CHARACTERS:
        raise InvalidArguments(
            "The expression may contain only numbers, + - * /, parentheses and spaces.",
            "Rewrite it with only those characters, e.g. '(120.50 - 99.99) * 2'.",
        )
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as exc:
        if "too many nested" in str(exc):
            raise InvalidArguments("The expression is nested too deeply.", "Use fewer parentheses.") from None
        raise InvalidArguments(
            f"'{expression}' is not a complete arithmetic expression.", "Check the parentheses and operators."
        ) from None
    except (RecursionError, MemoryError):
        raise InvalidArguments("The expression is nested too deeply.", "Use fewer parentheses.") from None

    def value(node: ast.AST) -> float:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return float(node.value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            return -value(node.operand) if isinstance(node.op, ast.USub) else value(node.operand)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](value(node.left), value(node.right))
        raise InvalidArguments(
            "Only + - * / and parentheses are supported (no powers or floor division).",
            "Rewrite the expression with those operators.",
        )

    try:
        result = round(value(tree.body), 2)
    except ZeroDivisionError:
        raise InvalidArguments("The expression divides by zero.", "Check the numbers.") from None
    except (OverflowError, RecursionError):
        raise InvalidArguments("The result is too large.", "Check the numbers.") from None
    if not math.isfinite(result):  # a float overflows to infinity without raising, e.g. 1e308 * 10
        raise InvalidArguments("The result is too large.", "Check the numbers.")
    return result


@tool(lookup("Calculate"), toolset="catalog", scope=None, binding=Binding())
async def calculate(
    shop: Shop,
    expression: Annotated[
        str,
        Field(
            description="e.g. '(54.04 - 49.99) * 2'.",
            min_length=1,
            max_length=500,
        ),
    ],
) -> Annotated[CallToolResult, Calculation]:
    """Evaluate arithmetic (+ - * / and parentheses), e.g. a price difference; rounded to two decimals."""
    result = evaluate(expression)
    return present(Calculation(expression=expression, result=result), str(result))
