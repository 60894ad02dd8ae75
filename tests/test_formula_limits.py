"""The parser's limits on SymPy's blow-ups, and its contract (FormulaError with one line,
nothing else), checked where a runaway can be stopped: every formula here is worked out in a
sandbox worker, so a blow-up the limits miss fails its test at the sandbox's limit instead of
hanging the suite (no wall-clock assertion, no timing luck)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer import formula, sandbox
from explorer.formula import FormulaError
from explorer.sandbox import Sandbox, Stopped


def outcome(text) -> tuple[str, str]:
    """In a worker: ("parsed", the derivative's LaTeX) or ("refused", the message); any
    other exception goes back to the test as itself."""
    try:
        loss = formula.parse(text)
    except FormulaError as error:
        return "refused", str(error)
    return "parsed", loss.grad_formula


@pytest.fixture(scope="module")
def worker():
    box = Sandbox(sandbox.FORMULA_SECONDS, sandbox.FORMULA_MEMORY, workers=1,
                  preload=("explorer.formula", __name__))
    yield box
    box.close()


def worked_out(worker, text) -> tuple[str, str]:
    try:
        return worker.run(outcome, text)
    except Stopped as stopped:
        pytest.fail(f"{text!r} ran past the parser's limits: {stopped}")


def nested(inner: str, times: int, outer: str = "({})**10") -> str:
    for _ in range(times):
        inner = outer.format(inner)
    return inner


def deep_where(times: int) -> str:
    text = "p"
    for i in range(times):
        text = f"where(p > {i}.5, {text}, y)"
    return text


ISSUE_DECIMAL_ROOTS = "sqrt(sqrt(sqrt(2*p))*1.5)"
ISSUE_POWERS = "p*" + nested("(1/2)", 7)
"""p*(((((((1/2))**10)**10)**10)**10)**10)**10)**10, balanced: 1/2**10**7 if built exactly."""

HOSTILE_ALGEBRA = [
    # (text, None when it may be used, else a fragment of its refusal)
    (ISSUE_DECIMAL_ROOTS, None),
    ("sqrt(sqrt(sqrt(2*p))*0.123456789)", None),
    (ISSUE_POWERS, "exact number with more than 15 digits"),
    ("p*(((((((1/2))**10)**10)**10)**10)**10)**10)**10", "not a formula"),  # a known runaway
    ("p*" + nested("(1/3)", 2), "exact number"),
    ("(1/3)**10*(1/7)**10*(1/11)**10*p", "exact number"),
    ("2**2**2**2**2*p", "exponent"),
    ("p**10**10", "too large"),
    (nested("p", 3), "combine into one above 100"),
    (nested("(p + 1.5)", 2), None),
    (nested("(p + 1.5)", 3), "combine into one above 100"),
    ("sqrt(" * 10 + "2.5*p" + ")" * 10, None),
    ("sqrt(" * 11 + "2.5*p + y" + ")" * 11, "roots"),
    ("exp(exp(exp(exp(exp(p)))))", None),
    ("exp(exp(exp(exp(exp(5)))))*p", "too large"),
    ("log(log(log(log(log(p)))))*sqrt(sqrt(sqrt(1.7*p)))", None),
    ("log(1.5*exp(2.5*sqrt(0.5*p)))**0.5", None),
    ("1e308*1e308*p", "too large"),
    ("zoo*p", "unknown name 'zoo'"),
    ("nan*p", "unknown name 'nan'"),
    ("oo*p", "unknown name 'oo'"),
    ("p*0**-1", "divides by zero"),
    ("minimum(p, 1/(y - y))", "divides by zero"),
    ("maximum(log(0), p)", "not a real number"),
    ("where(p > log(0), p, y)", "not a real number"),
    ("p**(1/(p - p))", "divides by zero"),
    ("log(-0.5)*p", "not a real number"),
    ("sqrt(-0.5) + p", "not a real number"),
    (deep_where(8), None),
    (deep_where(9), "at most 8"),
    ("where(where(p > y, p, y) > 1, p, y)", "inside the condition"),
    ("where(abs(3) < where((1e5 * abs(1/3)) >= where(minimum(p, 1/3) > 0.001, sqrt(2.5), "
     "where(7 >= 1/3, 0.1, 0.1)), maximum(1e-3, 2), maximum(7, 7)), sqrt(1/3), sqrt(sqrt(1)))",
     "inside the condition"),  # found by fuzzing: ran past the limit in Piecewise folding
    ("where(0.5 > 0.25, p, y) + where(1.5 <= 0.25, y, 2*p)", None),
    ("minimum(minimum(0.1*p, 0.2*p), maximum(0.3*p, maximum(0.4*p, 1.7)))**1.5", None),
    ("123456789012*p", "too large"),
]


@pytest.mark.parametrize(("text", "fragment"), HOSTILE_ALGEBRA,
                         ids=[t[:40] for t, _ in HOSTILE_ALGEBRA])
def test_hostile_algebra_is_refused_or_used_within_the_limit(worker, text, fragment):
    kind, said = worked_out(worker, text)
    if fragment is None:
        assert kind == "parsed", said
    else:
        assert kind == "refused" and fragment in said, said
        assert "\n" not in said and len(said) < 250


def test_decimal_roots_are_the_function_they_spell():
    """The decimal stays exact as typed (an opaque constant), so the value is right."""
    loss = formula.parse(ISSUE_DECIMAL_ROOTS)
    y, p = np.zeros((4, 1)), np.array([[0.5], [1.0], [2.0], [7.5]])
    values, derivs = loss._elements(y, p)
    np.testing.assert_allclose(values, np.sqrt(np.sqrt(np.sqrt(2 * p)) * 1.5), rtol=1e-13)
    np.testing.assert_allclose(derivs, values / (8 * p), rtol=1e-13)
    assert "1.5" in loss.formula


def test_a_decimal_never_becomes_a_sympy_float():
    import sympy

    loss = formula.parse("where(y > p, 0.9*(y - p), 0.1*(p - y)) + 1e-3*p**0.5")
    for expr in (loss.expression, loss.derivative):
        assert not expr.atoms(sympy.Float)
        assert {d.value for d in expr.atoms(formula.Decimal)} == {0.9, 0.1, 1e-3, 0.5}


# ----------------------------------------------------------------------------------------
# The contract: FormulaError with one line, nothing else, for any text

FORMULA_CHARACTERS = "yp()+-*/.,<>=0123456789 eabsloqrtxmniwhz_^%[]'\"{}:;!~&|@"


def assert_contract(worker, text) -> None:
    kind, said = worked_out(worker, text)  # another exception fails the test as itself
    if kind == "refused":
        assert said and "\n" not in said and len(said) < 300, said


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=FORMULA_CHARACTERS, max_size=220) | st.text(max_size=220))
def test_any_text_is_parsed_or_refused_with_one_line(worker, text):
    assert_contract(worker, text)


def hostile_formulas():
    """Grammatical formulas with what blows SymPy up: decimals, roots, powers, exact
    fractions, towers of exp and log, where, minimum and maximum."""
    leaves = st.sampled_from(["p", "y", "1", "2", "0.5", "3", "1e-3", "1.5", "0.1", "7", "1/3",
                              "1e5", "2.5", "(1/2)**10", "p**10", "0"])

    def grow(inner):
        binary = st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "**"]), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})")
        unary = st.tuples(st.sampled_from(["abs", "log", "log1p", "exp", "sqrt", "-"]),
                          inner).map(lambda t: f"{t[0]}({t[1]})")
        pair = st.tuples(st.sampled_from(["minimum", "maximum"]), inner, inner).map(
            lambda t: f"{t[0]}({t[1]}, {t[2]})")
        where = st.tuples(inner, st.sampled_from(["<", "<=", ">", ">="]), inner, inner,
                          inner).map(lambda t: f"where({t[0]} {t[1]} {t[2]}, {t[3]}, {t[4]})")
        return binary | unary | pair | where

    return st.recursive(leaves, grow, max_leaves=20)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_formulas())
def test_any_grammatical_formula_is_parsed_or_refused_within_the_limit(worker, text):
    assert_contract(worker, text)


# ----------------------------------------------------------------------------------------
# Rebuilding here from a worker's programs is bounded too


def test_rebuild_makes_the_same_loss_without_sympy_and_refuses_an_oversized_program():
    worked = formula.work_out("log(1 + (y - p)**2) + 0.25*abs(p)")
    loss = formula.rebuild(worked)
    assert loss.expression is None and loss.programs == worked
    assert formula.parse(worked.text) is loss
    huge = ("add", *([("p",)] * (2 * formula.MAX_NODES)))
    with pytest.raises(FormulaError, match="pieces"):
        formula.rebuild(formula.Programs(text="p", formula="p", grad_formula="1", shared=(),
                                         value=huge, derivative=("c", 1.0)))


def test_a_program_deeper_than_python_s_recursion_is_measured_not_walked():
    deep: tuple = ("p",)
    for _ in range(5000):
        deep = ("abs", deep)
    assert formula._size(deep) == 5001
