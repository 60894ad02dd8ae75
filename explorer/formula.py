"""Write your own loss: a formula in y and p, parsed safely and differentiated exactly.

The language. An expression in ``y`` (the target) and ``p`` (the prediction, the output after
the activation) with numbers, ``+ - * / **``, unary minus, the functions ``abs, log, log1p,
exp, sqrt, minimum(a, b), maximum(a, b)`` and ``where(condition, a, b)``, whose condition is a
comparison (``<, <=, >, >=``, chains allowed). ``−``, ``×``, ``·``, ``²`` and ``³`` are read as
``-``, ``*``, ``*``, ``**2`` and ``**3``.

What the formula means, written once:
- It is the loss of one output unit of one sample. A sample's loss is the formula summed over
  the output units: with one unit (binary, counts, regression on one target) that is the
  formula itself; for several classes ``y`` is the one-hot entry y_j and ``p`` is p_j, so
  ``-y*log(p)`` is categorical cross-entropy. (Keras *averages* MSE over units, so
  ``(p - y)**2`` on k classes is k times Keras' MSE: the same minimum, k times the gradient.)
  Like every built-in loss, the value is the mean of the samples' losses.
- No z. The pre-activation is not a variable: the engine chains dL/dp through the chosen
  output activation, as for the built-in losses, so the same formula can be judged with every
  activation. (With a sigmoid, softplus(z) - y z is -(y log p + (1 - y) log(1 - p)).)
- No clipping. The formula is evaluated as typed: log(0) is -inf and 0 * inf is NaN, and a run
  that meets them stops with a divergence message. The built-in BCE, CCE and Poisson clip p at
  1e-7 as Keras does, so a typed copy matches them only where that clipping is inactive.
- Binary labels are 0 and 1 (write ``2*y - 1`` for the -1 / +1 of a margin loss); the class is
  decided at p > 0.5 (``margin=False``): a typed hinge needs ``fit(..., threshold=0)`` to be
  read as a score.

Safety by construction. The text is parsed with ``ast.parse(mode="eval")`` (parsing only) and
every node is checked against a whitelist while a SymPy expression is built from it node by
node; the text is never evaluated, compiled to code, or given to SymPy's parser. Limits: 200
characters, 32 levels of nesting, 8 where/minimum/maximum, numbers (literal or folded
constants) at most 1e6 in size, constant exponents at most 10 in size. The algebra's known
blow-ups are refused before they start: decimals stay opaque constants (``Decimal``: SymPy
never mixes Floats with roots), exact numbers have at most 15 digits, combined powers at most
100, roots at most the 1024th, an expression at most 400 pieces. Anything else raises
``FormulaError`` (a ``ValueError``) with one line saying what is not allowed, whatever the
text (SymPy's own errors included). A runaway the limits miss is stopped by running the
formula's work in a worker process with a time limit (``explorer.sandbox``): ``work_out``
there, ``rebuild`` here.

Derivatives are SymPy's exact dL/dp (never finite differences); value and derivative become
plain-tuple programs (``_program``) that a small walker maps to NumPy functions
(``_evaluator``).
"""

from __future__ import annotations

import ast
import difflib
import math
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import sympy
from sympy.codegen.cfunctions import log1p as _Log1p

from explorer import losses

Array = np.ndarray

MAX_LENGTH = 200
MAX_DEPTH = 32
MAX_BRANCHES = 8
"""where / minimum / maximum calls; each one doubles the pieces SymPy may have to combine."""
MAX_NUMBER = 1e6
MAX_EXPONENT = 10
MAX_POWER = 100
"""Powers combine ((p**10)**10 is p**100): no power in the expression may exceed this."""
MAX_ROOT = 1024
"""Nested square roots halve the exponent: at most the 1024th root (ten nested sqrt)."""
MAX_DIGITS = 15
MAX_DIGITS_VALUE = 10 ** MAX_DIGITS
"""Exact numbers (integers, fractions) have at most 15 digits above and below the line."""
MAX_NODES = 400
"""Pieces of one expression (the formula, its derivative): bounds the work of evaluating it."""
DEFAULT_FORMULA = "(p - y)**2"
KEY = losses.CUSTOM

Y, P = sympy.symbols("y p", real=True)
VARIABLES = {"y": Y, "p": P}
FUNCTIONS: dict[str, tuple[int, Callable[..., Any] | None]] = {
    "abs": (1, sympy.Abs),
    "log": (1, sympy.log),
    "log1p": (1, _Log1p),
    "exp": (1, sympy.exp),
    "sqrt": (1, sympy.sqrt),
    "minimum": (2, sympy.Min),
    "maximum": (2, sympy.Max),
    "where": (3, None),
}
"""Name -> (number of arguments, SymPy builder); ``where`` is built as a Piecewise."""
BRANCHING = ("minimum", "maximum", "where")
ALLOWED = "use y, p and " + ", ".join(FUNCTIONS)
TYPOGRAPHY = {"−": "-", "×": "*", "·": "*", "²": "**2", "³": "**3"}


class FormulaError(ValueError):
    """A formula that cannot be used, with one line saying why."""


class Decimal(sympy.Symbol):
    """A decimal number as typed (``1.5``), kept opaque: SymPy's algebra never sees a Float.

    SymPy mixing Floats with roots can run for minutes (``sqrt(sqrt(sqrt(2*p))*1.5)``: a gcd
    over floats in every product), and exact fractions of decimals grow without bound in
    powers. A positive constant symbol named by its value is differentiated, printed and
    simplified symbolically, and becomes the number again only in NumPy (``_program``).
    """

    def __new__(cls, name: str) -> Decimal:
        return super().__new__(cls, name, positive=True)

    @property
    def value(self) -> float:
        return float(self.name)


# ----------------------------------------------------------------------------------------
# Text -> SymPy, node by node through a whitelist

_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_COMPARISONS = {ast.Lt: sympy.StrictLessThan, ast.LtE: sympy.LessThan,
                ast.Gt: sympy.StrictGreaterThan, ast.GtE: sympy.GreaterThan}
_NUMERIC_COMPARISONS = {ast.Lt: float.__lt__, ast.LtE: float.__le__, ast.Gt: float.__gt__,
                        ast.GtE: float.__ge__}
_FORBIDDEN = {
    ast.Attribute: "attribute access (a.b) is not allowed",
    ast.Subscript: "indexing (a[i]) is not allowed",
    ast.Slice: "slices are not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.FormattedValue: "f-strings are not allowed",
    ast.Starred: "starred arguments (*a) are not allowed",
    ast.BoolOp: "and / or are not allowed: nest where(...) instead",
    ast.IfExp: "a if c else b is not allowed: write where(c, a, b)",
    ast.NamedExpr: "assignment (:=) is not allowed",
    ast.Tuple: "tuples are not allowed",
    ast.List: "lists are not allowed",
    ast.Set: "sets are not allowed",
    ast.Dict: "dictionaries are not allowed",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
}
_BAD_OPERATORS = {ast.BitXor: "^ is not a power here: write ** (p**2)",
                  ast.Mod: "the operator % is not allowed", ast.FloorDiv: "// is not allowed",
                  ast.MatMult: "@ is not allowed", ast.BitAnd: "& is not allowed",
                  ast.BitOr: "| is not allowed", ast.LShift: "<< is not allowed",
                  ast.RShift: ">> is not allowed"}


def _fail(message: str) -> FormulaError:
    return FormulaError(" ".join(message.split()))


def _source(node: ast.AST) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 40 else text[:37] + "..."


class _Builder:
    """Builds the SymPy expression of a checked AST; raises FormulaError on the first node
    that is not on the whitelist."""

    def __init__(self) -> None:
        self.branches = 0

    def expression(self, node: ast.AST, depth: int = 0) -> sympy.Expr:
        if depth > MAX_DEPTH:
            raise _fail(f"the formula is nested too deeply (more than {MAX_DEPTH} levels)")
        if isinstance(node, ast.Constant):
            return self._number(node)
        if isinstance(node, ast.Name):
            return self._name(node)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, (ast.USub, ast.UAdd)):
                operand = self.expression(node.operand, depth + 1)
                return self._checked(-operand if isinstance(node.op, ast.USub) else operand,
                                     node)
            raise _fail(f"the operator {_unary_name(node.op)} is not allowed")
        if isinstance(node, ast.BinOp):
            return self._binary(node, depth)
        if isinstance(node, ast.Call):
            return self._call(node, depth)
        if isinstance(node, ast.Compare):
            raise _fail("comparisons are only allowed as the first argument of where(c, a, b)")
        for kind, message in _FORBIDDEN.items():
            if isinstance(node, kind):
                raise _fail(message)
        raise _fail(f"{type(node).__name__} is not allowed")

    def _number(self, node: ast.Constant) -> sympy.Expr:
        value = node.value
        if isinstance(value, bool) or value is None or value is Ellipsis:
            raise _fail(f"{value!r} is not allowed: only numbers, y and p")
        if isinstance(value, complex):
            raise _fail("complex numbers are not allowed")
        if isinstance(value, (str, bytes)):
            raise _fail("text (strings) is not allowed")
        if not isinstance(value, (int, float)):
            raise _fail(f"{type(value).__name__} is not allowed")
        if not (math.isfinite(value) and abs(value) <= MAX_NUMBER):
            raise _fail(f"the number {_source(node)} is too large (the limit is "
                        f"{MAX_NUMBER:g})")
        if isinstance(value, int) or value.is_integer():
            return sympy.Integer(int(value))
        return Decimal(repr(value))

    def _name(self, node: ast.Name) -> sympy.Expr:
        if node.id in VARIABLES:
            return VARIABLES[node.id]
        if node.id == "z":
            raise _fail("z is not a variable here: write the loss in p (the output after the "
                        "activation); the explorer chains dL/dp through the activation itself")
        if node.id in FUNCTIONS:
            raise _fail(f"{node.id} is a function: call it, e.g. {node.id}(...)")
        raise _fail(f"unknown name {node.id!r}: {ALLOWED}{_did_you_mean(node.id)}")

    def _binary(self, node: ast.BinOp, depth: int) -> sympy.Expr:
        if type(node.op) not in _OPERATORS:
            raise _fail(_BAD_OPERATORS.get(type(node.op), "that operator is not allowed"))
        left = self.expression(node.left, depth + 1)
        right = self.expression(node.right, depth + 1)
        if isinstance(node.op, ast.Add):
            result = left + right
        elif isinstance(node.op, ast.Sub):
            result = left - right
        elif isinstance(node.op, ast.Mult):
            result = left * right
        elif isinstance(node.op, ast.Div):
            if right == 0:
                raise _fail(f"{_source(node)} divides by zero")
            result = left / right
        else:
            if _is_constant(right) and abs(_constant(right)) > MAX_EXPONENT:
                raise _fail(f"the exponent in {_source(node)} is too large (at most "
                            f"{MAX_EXPONENT} in size)")
            if left == 0 and _is_constant(right) and _constant(right) < 0:
                raise _fail(f"{_source(node)} divides by zero")
            result = left ** right
        return self._checked(result, node)

    def _call(self, node: ast.Call, depth: int) -> sympy.Expr:
        if not isinstance(node.func, ast.Name):
            if isinstance(node.func, ast.Attribute):
                raise _fail(_FORBIDDEN[ast.Attribute])
            raise _fail(f"only the functions {', '.join(FUNCTIONS)} can be called")
        name = node.func.id
        if name not in FUNCTIONS:
            if name in VARIABLES:
                raise _fail(f"{name} is a variable, not a function: write {name}*(...) to "
                            "multiply")
            raise _fail(f"unknown function {name!r}: {ALLOWED}{_did_you_mean(name)}")
        if node.keywords:
            raise _fail(f"keyword arguments are not allowed: write {name}(a, b, ...)")
        if any(isinstance(arg, ast.Starred) for arg in node.args):
            raise _fail(_FORBIDDEN[ast.Starred])
        arity, make = FUNCTIONS[name]
        if len(node.args) != arity:
            raise _fail(f"{name} takes {arity} argument{'s' if arity > 1 else ''}, got "
                        f"{len(node.args)}")
        if name in BRANCHING:
            self.branches += 1
            if self.branches > MAX_BRANCHES:
                raise _fail(f"at most {MAX_BRANCHES} where / minimum / maximum are allowed")
        if name == "where":
            condition = self._condition(node.args[0], depth + 1)
            a = self.expression(node.args[1], depth + 1)
            b = self.expression(node.args[2], depth + 1)
            return self._checked(sympy.Piecewise((a, condition), (b, True)), node)
        args = [self.expression(arg, depth + 1) for arg in node.args]
        assert make is not None
        return self._checked(make(*args), node)

    def _condition(self, node: ast.AST, depth: int):
        if not isinstance(node, ast.Compare):
            raise _fail("the first argument of where must be a comparison such as p > y")
        if any(isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name)
               and inner.func.id == "where" for inner in ast.walk(node)):
            # SymPy folds a Piecewise inside a condition into logic it simplifies for minutes
            raise _fail("where(...) inside the condition of a where is not allowed: put it in "
                        "the values instead")
        terms = [self.expression(node.left, depth + 1)]
        terms += [self.expression(c, depth + 1) for c in node.comparators]
        parts = []
        for op, left, right in zip(node.ops, terms, terms[1:]):
            if type(op) not in _COMPARISONS:
                raise _fail(f"the comparison {_compare_name(op)} is not allowed: use <, <=, "
                            ">, >=")
            if _is_constant(left) and _is_constant(right):
                # decided here with numbers: SymPy cannot decide it for opaque decimals
                parts.append(sympy.true if _NUMERIC_COMPARISONS[type(op)](
                    _constant(left), _constant(right)) else sympy.false)
            else:
                parts.append(_COMPARISONS[type(op)](left, right))
        return sympy.And(*parts)

    def _checked(self, expr: sympy.Expr, node: ast.AST) -> sympy.Expr:
        """Reject a piece that is undefined everywhere or a constant too large to use."""
        if expr.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo, sympy.I):
            raise _fail(f"{_source(node)} is not a real number (a division by zero, or the "
                        "log or square root of a negative number)")
        _check_size(expr, node)
        if _is_constant(expr):
            value = _constant(expr)
            if math.isnan(value):
                raise _fail(f"{_source(node)} is not a real number")
            if math.isinf(value):
                raise _fail(f"{_source(node)} is too large to compute")
            if abs(value) > MAX_NUMBER:
                raise _fail(f"{_source(node)} = {value:.3g} is too large (the limit is "
                            f"{MAX_NUMBER:g})")
        return expr


def _is_constant(expr: sympy.Expr) -> bool:
    """Whether an expression holds neither y nor p (decimals are constants)."""
    return not (expr.free_symbols & {Y, P})


def _constant(expr: sympy.Expr) -> float:
    """A constant's value, computed with NumPy floats (never SymPy's exact arithmetic)."""
    with np.errstate(all="ignore"):
        return float(_compile(expr)({}))


def _check_size(expr: sympy.Expr, node: ast.AST) -> None:
    """Refuse the pieces whose exact algebra grows without bound: exact numbers with many
    digits (``((1/2)**10)**10``), powers that combine into a huge one (``(p**10)**10``),
    roots nested so deep that their exponent's denominator explodes, and an expression too
    large to differentiate and evaluate quickly."""
    for size, part in enumerate(sympy.preorder_traversal(expr), start=1):
        if size > MAX_NODES:
            raise _fail(f"the formula grows too large at {_source(node)} (more than "
                        f"{MAX_NODES} pieces): write it more simply")
        if isinstance(part, sympy.Rational) and max(abs(part.p), part.q) > MAX_DIGITS_VALUE:
            raise _fail(f"{_source(node)} makes an exact number with more than "
                        f"{MAX_DIGITS} digits: write it as a decimal (such as 1e-30)")
        if isinstance(part, sympy.Pow) and isinstance(part.exp, sympy.Rational):
            if abs(part.exp) > MAX_POWER:
                raise _fail(f"the powers in {_source(node)} combine into one above "
                            f"{MAX_POWER}: write a smaller power")
            if part.exp.q > MAX_ROOT:
                raise _fail(f"the roots in {_source(node)} are nested too deeply (a root of "
                            f"order above {MAX_ROOT})")


def _did_you_mean(name: str) -> str:
    close = difflib.get_close_matches(name, [*VARIABLES, *FUNCTIONS], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _unary_name(op: ast.unaryop) -> str:
    return {ast.Not: "not", ast.Invert: "~"}.get(type(op), type(op).__name__)


def _compare_name(op: ast.cmpop) -> str:
    return {ast.Eq: "==", ast.NotEq: "!=", ast.Is: "is", ast.IsNot: "is not", ast.In: "in",
            ast.NotIn: "not in"}.get(type(op), type(op).__name__)


def normalise(text: str) -> str:
    """The formula with typographic symbols replaced and outer whitespace removed."""
    if not isinstance(text, str):
        raise _fail("the formula must be text")
    for typed, meant in TYPOGRAPHY.items():
        text = text.replace(typed, meant)
    return text.strip()


def to_sympy(text: str) -> sympy.Expr:
    """The checked SymPy expression of a formula; FormulaError with one line otherwise."""
    text = normalise(text)
    if not text:
        raise _fail("the formula is empty: write a loss in y and p, e.g. (p - y)**2")
    if len(text) > MAX_LENGTH:
        raise _fail(f"the formula is {len(text)} characters long; the limit is {MAX_LENGTH}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text, mode="eval")
    except SyntaxError as error:
        where = f" at character {error.offset}" if error.offset else ""
        first_line = (error.msg or "invalid syntax").splitlines()[0]
        raise _fail(f"not a formula: {first_line}{where}") from None
    except (ValueError, RecursionError, MemoryError):
        raise _fail("not a formula: it cannot be read") from None
    try:
        expr = _Builder().expression(tree.body)
    except RecursionError:
        raise _fail(f"the formula is nested too deeply (more than {MAX_DEPTH} levels)") from None
    if P not in expr.free_symbols:
        raise _fail("the formula does not depend on p, the prediction: nothing to train")
    return expr


# ----------------------------------------------------------------------------------------
# SymPy -> NumPy: a small evaluator over the node types the formulas and derivatives use

Env = dict
Evaluator = Callable[[Env], Any]
Program = tuple
"""An expression as plain nested tuples, ``(operation, *operands)``: what a worker process
sends back (picklable, no SymPy), turned into NumPy functions by ``_evaluator`` in time linear
in its size. Leaves: ``("y",)``, ``("p",)``, ``("c", float)``, ``("t", bool)`` and
``("x", i)`` (the i-th shared subexpression)."""


def _heaviside(x, h0=0.5):
    return np.where(x > 0, 1.0, np.where(x < 0, 0.0, h0))


def _piecewise(pieces: list[tuple[Evaluator, Evaluator]]) -> Evaluator:
    """The first piece whose condition holds (NaN where none does), folded from the last."""
    def run(env):
        result = np.nan
        for value, condition in reversed(pieces):
            result = np.where(condition(env), value(env), result)
        return result
    return run


def _fold(function, parts: list[Evaluator]) -> Evaluator:
    def run(env):
        result = parts[0](env)
        for part in parts[1:]:
            result = function(result, part(env))
        return result
    return run


_UNARY_NAMES = {sympy.exp: "exp", sympy.log: "log", _Log1p: "log1p", sympy.Abs: "abs",
                sympy.sign: "sign"}
_FOLD_NAMES = {sympy.Add: "add", sympy.Mul: "mul", sympy.Min: "min", sympy.Max: "max",
               sympy.And: "and", sympy.Or: "or"}
_RELATION_NAMES = {sympy.StrictLessThan: "lt", sympy.LessThan: "le",
                   sympy.StrictGreaterThan: "gt", sympy.GreaterThan: "ge", sympy.Eq: "eq",
                   sympy.Ne: "ne"}
_UNARY = {"exp": np.exp, "log": np.log, "log1p": np.log1p, "abs": np.abs, "sign": np.sign,
          "not": np.logical_not}
_FOLDS = {"add": np.add, "mul": np.multiply, "min": np.minimum, "max": np.maximum,
          "and": np.logical_and, "or": np.logical_or}
_RELATIONS = {"lt": np.less, "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal,
              "eq": np.equal, "ne": np.not_equal}


def _program(expr, shared: dict | None = None) -> Program:
    """The plain-tuple program of a SymPy expression; ``shared`` maps CSE symbols to their
    index. FormulaError for a node type the evaluator does not know."""
    shared = shared or {}
    if isinstance(expr, Decimal):
        return ("c", expr.value)
    if expr in shared:
        return ("x", shared[expr])
    if expr == Y:
        return ("y",)
    if expr == P:
        return ("p",)
    if expr is sympy.true or expr is sympy.false:
        return ("t", bool(expr))
    if expr.is_Number or expr.is_NumberSymbol:
        return ("c", float(expr))
    kind = type(expr)
    if expr.func in _UNARY_NAMES:
        return (_UNARY_NAMES[expr.func], _program(expr.args[0], shared))
    if kind in _FOLD_NAMES:
        return (_FOLD_NAMES[kind], *(_program(a, shared) for a in expr.args))
    if kind in _RELATION_NAMES:
        return (_RELATION_NAMES[kind], _program(expr.lhs, shared), _program(expr.rhs, shared))
    if kind is sympy.Not:
        return ("not", _program(expr.args[0], shared))
    if kind is sympy.Pow:
        return ("pow", _program(expr.base, shared), _program(expr.exp, shared))
    if kind is sympy.Heaviside:
        h0 = float(expr.args[1]) if len(expr.args) > 1 else 0.5
        return ("heaviside", _program(expr.args[0], shared), h0)
    if kind is sympy.Piecewise:
        return ("piecewise", *((_program(piece.expr, shared), _program(piece.cond, shared))
                               for piece in expr.args))
    raise _fail(f"SymPy turned part of the formula into {kind.__name__}, which the explorer "
                "cannot evaluate: rewrite that part")


def _evaluator(program: Program) -> Evaluator:
    """A function env -> NumPy value; env maps "y", "p" and shared indices to arrays."""
    operation, *operands = program
    if operation in ("y", "p", "x"):
        name = operation if operation != "x" else operands[0]
        return lambda env: env[name]
    if operation in ("c", "t"):
        constant = operands[0]
        return lambda env: constant
    if operation in _UNARY:
        function, arg = _UNARY[operation], _evaluator(operands[0])
        return lambda env: function(arg(env))
    if operation in _FOLDS:
        return _fold(_FOLDS[operation], [_evaluator(a) for a in operands])
    if operation in _RELATIONS:
        relation, left, right = (_RELATIONS[operation], _evaluator(operands[0]),
                                 _evaluator(operands[1]))
        return lambda env: relation(left(env), right(env))
    if operation == "pow":
        return _power(*operands)
    if operation == "heaviside":
        arg, h0 = _evaluator(operands[0]), operands[1]
        return lambda env: _heaviside(arg(env), h0)
    if operation == "piecewise":
        return _piecewise([(_evaluator(value), _evaluator(condition))
                           for value, condition in operands])
    raise _fail(f"the explorer cannot evaluate {operation!r}")


def _compile(expr) -> Evaluator:
    """A function env -> NumPy value for a SymPy expression (through its program)."""
    return _evaluator(_program(expr))


def _power(base_program: Program, exponent: Program) -> Evaluator:
    base = _evaluator(base_program)
    if exponent[0] == "c":
        value = exponent[1]
        if value == -1:
            return lambda env: 1.0 / base(env)
        if value == 2:
            return lambda env: base(env) ** 2
        if value == 0.5:
            return lambda env: np.sqrt(base(env))
        if value == -0.5:
            return lambda env: 1.0 / np.sqrt(base(env))
    power = _evaluator(exponent)
    return lambda env: np.power(np.asarray(base(env), dtype=float), power(env))


def _size(program: Program) -> int:
    """Nodes of a program (iterative: a program may be deeper than Python's recursion)."""
    count, stack = 0, [program]
    while stack:
        node = stack.pop()
        count += 1
        stack.extend(part for part in node[1:] if isinstance(part, tuple))
    return count


@dataclass(frozen=True)
class Programs:
    """What a worker process sends back for a formula: plain data, no SymPy objects."""

    text: str
    formula: str
    """LaTeX of the formula."""
    grad_formula: str
    """LaTeX of dL/dp."""
    shared: tuple[Program, ...]
    value: Program
    derivative: Program


@dataclass(frozen=True)
class Compiled:
    """(values, derivatives) of a formula for arrays y, p of one shape: what
    ``Loss._elements`` returns, with the loss's parameters (the formula text) ignored."""

    replacements: tuple[Evaluator, ...]
    value: Evaluator
    derivative: Evaluator

    def __call__(self, y: Array, p: Array, **_params) -> tuple[Array, Array]:
        env: dict[Any, Any] = {"y": np.asarray(y, dtype=float), "p": np.asarray(p, dtype=float)}
        shape = np.broadcast_shapes(env["y"].shape, env["p"].shape)
        with np.errstate(all="ignore"):
            for index, evaluate in enumerate(self.replacements):
                env[index] = evaluate(env)
            values = np.array(np.broadcast_to(self.value(env), shape), dtype=float)
            derivs = np.array(np.broadcast_to(self.derivative(env), shape), dtype=float)
        return values, derivs


def programs(value: sympy.Expr, derivative: sympy.Expr) -> tuple[tuple[Program, ...], Program,
                                                                   Program]:
    """(shared subexpressions, value, derivative) as programs; FormulaError when they hold
    more than ``MAX_NODES`` pieces in all."""
    replacements, (value_cse, derivative_cse) = sympy.cse([value, derivative])
    shared: dict = {}
    pieces = []
    for symbol, sub in replacements:
        pieces.append(_program(sub, shared))
        shared[symbol] = len(shared)
    result = (tuple(pieces), _program(value_cse, shared), _program(derivative_cse, shared))
    if sum(_size(p) for p in (*result[0], result[1], result[2])) > 2 * MAX_NODES:
        raise _fail(f"the formula and its derivative hold more than {2 * MAX_NODES} pieces: "
                    "write it more simply")
    return result


def compile_programs(shared: tuple[Program, ...], value: Program,
                     derivative: Program) -> Compiled:
    """The NumPy evaluator of programs (no SymPy: cheap, linear in their size)."""
    if sum(_size(p) for p in (*shared, value, derivative)) > 2 * MAX_NODES:
        raise _fail(f"the formula and its derivative hold more than {2 * MAX_NODES} pieces: "
                    "write it more simply")
    return Compiled(tuple(_evaluator(p) for p in shared), _evaluator(value),
                    _evaluator(derivative))


def compile_pair(value: sympy.Expr, derivative: sympy.Expr) -> Compiled:
    """The NumPy evaluator of a value and its derivative, sharing common subexpressions."""
    return compile_programs(*programs(value, derivative))


# ----------------------------------------------------------------------------------------
# The loss


@dataclass(frozen=True)
class CustomLoss(losses.Loss):
    """A typed formula as a ``losses.Loss``: value, exact dL/dp, LaTeX and the usual API.

    ``text`` is the formula as typed (after the typography fixes); ``expression`` and
    ``derivative`` are SymPy expressions in ``formula.Y`` and ``formula.P`` when the formula
    was worked out in this process, None when it was worked out in a worker (``rebuild``).
    """

    text: str = ""
    expression: Any = None
    derivative: Any = None
    programs: Programs | None = None
    """The formula as plain data (``work_out``), from which ``rebuild`` makes it again."""

    def with_params(self, **params) -> losses.Loss:
        """The loss of another formula: ``with_params(formula="...")``."""
        unknown = set(params) - {"formula"}
        if unknown:
            raise ValueError(f"{self.key} has no parameter {sorted(unknown)}; valid: formula")
        return parse(params.get("formula", self.text))

    @property
    def likelihood_sentence(self) -> str:
        return (f"Whether {self.text} is a negative log-likelihood is not checked here: it is "
                "one when exp(−L), divided by a constant that does not depend on p, is a "
                "probability density (or mass) of y for every p.")


def _latex(expr: sympy.Expr) -> str:
    """LaTeX with log1p written as log(1 + x)."""
    shown = expr.replace(lambda e: isinstance(e, _Log1p),
                         lambda e: sympy.log(sympy.Add(1, e.args[0], evaluate=False),
                                             evaluate=False))
    return sympy.latex(shown)


def parse(text: str) -> CustomLoss:
    """The loss a formula defines; FormulaError (a ValueError) with one line otherwise, and
    nothing else whatever the text. A formula ``rebuild`` has seen is not worked out again."""
    text = normalise(text)
    known = _KNOWN.get(text)
    if known is not None:
        return known
    return _parse(text)


def work_out(text: str) -> Programs:
    """The heavy part of ``parse``, as plain data: what a worker process sends back
    (``explorer.sandbox``); ``rebuild`` makes the loss from it without SymPy."""
    worked = parse(text).programs
    assert worked is not None
    return worked


def rebuild(worked: Programs) -> CustomLoss:
    """The loss from a worker's ``Programs``: no SymPy, time linear in the programs' size;
    later ``parse`` calls of the same text return it."""
    compiled = compile_programs(worked.shared, worked.value, worked.derivative)
    loss = _loss(worked, compiled, None, None)
    with _KNOWN_GUARD:  # sessions are threads
        _KNOWN[worked.text] = loss
        while len(_KNOWN) > KNOWN_SIZE:
            _KNOWN.pop(next(iter(_KNOWN)))
    return loss


KNOWN_SIZE = 512
_KNOWN: dict[str, CustomLoss] = {}
_KNOWN_GUARD = threading.Lock()


def known(text: str) -> CustomLoss | None:
    """The loss of a text ``rebuild`` has seen (normalised), or None."""
    return _KNOWN.get(text)


@lru_cache(maxsize=64)
def _parse(text: str) -> CustomLoss:
    try:
        expression = to_sympy(text)
        derivative = sympy.diff(expression, P)
        shared, value, derivative_program = programs(expression, derivative)
        worked = Programs(text=text, formula=_latex(expression),
                          grad_formula=_latex(derivative), shared=shared, value=value,
                          derivative=derivative_program)
        compiled = compile_programs(shared, value, derivative_program)
    except FormulaError:
        raise
    except RecursionError:
        raise _fail("the formula is nested too deeply to work out: write it more simply") \
            from None
    except MemoryError:
        raise _fail("the formula needs too much memory to work out: write it more simply") \
            from None
    except Exception as error:  # SymPy's own limits: the contract is FormulaError only
        raise _fail(f"the formula cannot be worked out ({type(error).__name__} in SymPy): "
                    "write it more simply") from None
    return _loss(worked, compiled, expression, derivative)


def _loss(worked: Programs, compiled: Compiled, expression, derivative) -> CustomLoss:
    text = worked.text
    return CustomLoss(
        key=KEY, label="Your formula", formula=worked.formula,
        grad_formula=worked.grad_formula, likelihood=None,
        why_not_likelihood="a typed formula is not checked for being a likelihood",
        problems=losses.PROBLEMS,
        target_encoding="y as the problem gives it: 0 or 1 for two classes, the one-hot "
                        "entry y_j for several (the formula is summed over the classes), a "
                        "number for regression and counts",
        prediction_range=losses.R,
        note=f"Your formula {text}, differentiated exactly; a sample's loss is the formula "
             "summed over the output units, and the loss is the mean over samples. p is not "
             "clipped: log(0) is -inf.",
        _elements=compiled, reduce="sum", params={"formula": text}, text=text,
        expression=expression, derivative=derivative, programs=worked)


def custom(formula: str = DEFAULT_FORMULA) -> CustomLoss:
    """``losses.get("custom", formula=...)``: the default formula is squared error."""
    return parse(formula)


# ----------------------------------------------------------------------------------------
# Examples, each with the lesson the tests check with numbers


@dataclass(frozen=True)
class Example:
    """A formula worth typing, the setting that shows it, and what it teaches."""

    key: str
    label: str
    formula: str
    problem: str
    activation: str
    dataset: str
    lesson: str


EXAMPLES: tuple[Example, ...] = (
    Example(key="cauchy", label="Cauchy (Lorentzian)", formula="log(1 + (y - p)**2)",
            problem="regression", activation="linear", dataset="outliers",
            lesson="Its gradient 2(p − y) / (1 + (p − y)²) fades once an error passes 1, so "
                   "far outliers barely pull: on the line with outliers a linear model trained "
                   "with it ends at least 10 times closer to the clean line than one trained "
                   "with MSE."),
    Example(key="cubic", label="Cubed error", formula="abs(y - p)**3",
            problem="regression", activation="linear", dataset="outliers",
            lesson="Cubing punishes large errors even more than squaring: on the line with "
                   "outliers the fit is pulled about twice as far from the clean line as "
                   "MSE's, and on skewed targets its optimum lies beyond the mean."),
    Example(key="ce_without_negatives", label="Cross-entropy without the (1 − y) term",
            formula="-y*log(p)", problem="binary", activation="sigmoid", dataset="moons",
            lesson="Class-0 points cost nothing and give no gradient, so the loss only falls "
                   "as p → 1: the trained model predicts class 1 for every point, and its "
                   "accuracy is just the share of class 1."),
    Example(key="pinball", label="Pinball loss, τ = 0.9",
            formula="where(y > p, 0.9*(y - p), 0.1*(p - y))", problem="regression",
            activation="linear", dataset="heteroscedastic",
            lesson="An under-prediction costs 9 times an over-prediction, so it estimates the "
                   "90th percentile, not the mean: about 90% of the training targets end up "
                   "below the fitted curve (it is the built-in pinball loss with τ = 0.9)."),
    Example(key="broken_log", label="A broken one: log(p − y)", formula="log(p - y)",
            problem="regression", activation="linear", dataset="sine",
            lesson="It is undefined wherever the prediction is below its target, so the first "
                   "such point stops the run with NaN in epoch 1; and where it is defined it has "
                   "no minimum: it falls to −∞ as p comes down to y."),
    Example(key="bce_by_hand", label="Binary cross-entropy, typed",
            formula="-(y*log(p) + (1 - y)*log(1 - p))", problem="binary",
            activation="sigmoid", dataset="moons",
            lesson="Typed by hand it trains exactly like the built-in binary cross-entropy "
                   "(the same history to about 1e-12) as long as the sigmoid's output does "
                   "not round to exactly 0 or 1, where the typed log(p) becomes infinite "
                   "(the built-in works from z and never does)."),
)


def example(key: str) -> Example:
    """The example called ``key``; ValueError naming the valid keys otherwise."""
    for entry in EXAMPLES:
        if entry.key == key:
            return entry
    raise ValueError(f"unknown example {key!r}; choose one of: "
                     f"{', '.join(e.key for e in EXAMPLES)}")


TRUSTED = frozenset(normalise(text) for text in (DEFAULT_FORMULA, *(e.formula for e in EXAMPLES)))
"""Formulas the app itself offers: known to work out quickly, so parsed in-process."""
