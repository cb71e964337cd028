"""Quantities (apimachinery pkg/api/resource/quantity.go: parseQuantityString and ParseQuantity)."""

from __future__ import annotations

import decimal
import math
import re

from .scalars import DIGITS, INT64_MAX, describe

_SUFFIX_CHARS = frozenset("eEinumkKMGTP")
_DECIMAL_SUFFIXES = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY_SUFFIXES = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}


# Go's unicode.IsSpace characters that encoding/json leaves unescaped (it escapes controls, U+2028/9).
_JSON_RAW_SPACE = " \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
_JSON_RAW_SPACE += "\u202f\u205f\u3000"


def _quantity_text(value: object) -> str:
    """The text Quantity.UnmarshalJSON parses: a JSON string (trimmed) or a JSON number."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"expected a quantity string or number, got {describe(value)}")
    if isinstance(value, str):
        # UnmarshalJSON trims the raw JSON text: a space survives JSON encoding unescaped, a tab or a
        # newline arrives as the two characters `\t` or `\n` and is not trimmed.
        return value.strip(_JSON_RAW_SPACE)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} cannot be sent as JSON")
        return repr(value)
    raise ValueError(f"expected a quantity string or number, got {describe(value)}")


def _skip(text: str, pos: int, chars: frozenset[str]) -> int:
    while pos < len(text) and text[pos] in chars:
        pos += 1
    return pos


def _split_quantity(text: str) -> tuple[str, str, str, str]:
    """parseQuantityString: (value, num, denom, suffix); value keeps the sign, num has no leading zeros."""
    pos = 1 if text[:1] in ("+", "-") else 0
    pos = _skip(text, pos, frozenset("0"))
    if pos == len(text):  # only a sign and zeros: Go returns the literal "0"
        return "0", "0", "", ""
    start = pos
    pos = _skip(text, pos, DIGITS)
    num = text[start:pos] or "0"
    denom = ""
    if pos < len(text) and text[pos] == ".":
        start = pos + 1
        pos = _skip(text, start, DIGITS)
        denom = text[start:pos]
    value = text[:pos]
    suffix_start = pos
    pos = _skip(text, pos, _SUFFIX_CHARS)
    if pos < len(text) and text[pos] in "+-":
        pos += 1
    pos = _skip(text, pos, DIGITS)
    if pos != len(text):
        raise ValueError(f"{text!r} is not a quantity (number, then a suffix such as m, Ki, M, e3)")
    return value, num, denom, text[suffix_start:]


def _go_int64(text: str) -> int:
    """strconv.ParseInt(text, 10, 64)."""
    if not re.fullmatch(r"[+-]?[0-9]+", text) or not -(2**63) <= int(text) <= INT64_MAX:
        raise ValueError(f"{text!r} is not a 64-bit integer")
    return int(text)


def _interpret_suffix(suffix: str) -> tuple[int, int]:
    """(base, exponent) of a suffix; Go keeps only the low 32 bits of a decimal exponent."""
    if suffix in _DECIMAL_SUFFIXES:
        return 10, _DECIMAL_SUFFIXES[suffix]
    if suffix in _BINARY_SUFFIXES:
        return 2, _BINARY_SUFFIXES[suffix]
    if len(suffix) > 1 and suffix[0] in "eE":
        exponent = _go_int64(suffix[1:])
        return 10, (exponent + 2**31) % 2**32 - 2**31
    raise ValueError(f"unknown quantity suffix {suffix!r} (use n u m k M G T P E, Ki..Ei or eN)")


def _uses_exact_path(num: str, denom: str, base: int, exponent: int) -> bool:
    """Whether ParseQuantity's int64 fast path applies; otherwise it re-parses `value` with inf.Dec."""
    if base == 2:
        if denom or exponent < 0:
            return False
        return 15 - len(num) - exponent * 3 // 10 - 1 >= 0 and int(num) << exponent <= INT64_MAX
    return 18 - len(num) - len(denom) >= 0 and exponent - len(denom) >= -9


def quantity(value: object) -> decimal.Decimal:
    """The value of a Kubernetes resource.Quantity, as the API server stores it; ValueError if refused."""
    text = _quantity_text(value)
    if not text:
        raise ValueError("an empty string is not a quantity")
    value_part, num, denom, suffix = _split_quantity(text)
    base, exponent = _interpret_suffix(suffix)
    if not _uses_exact_path(num, denom, base, exponent) and not DIGITS.intersection(value_part):
        # inf.Dec.SetString needs a digit: ".e-10" or "e-10" are refused, ".e-9" is zero.
        raise ValueError(f"{text!r} is not a quantity (no digits)")
    negative = text.startswith("-") and value_part != "0"
    context = decimal.Context(
        prec=len(num) + len(denom) + 40, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN, traps=[]
    )
    amount = decimal.Decimal(f"{num}.{denom or '0'}")
    amount = amount.scaleb(exponent, context) if base == 10 else context.multiply(amount, 2**exponent)
    amount = _round_to_nano(amount, base, context)
    return amount.copy_negate() if negative else amount


def _round_to_nano(amount: decimal.Decimal, base: int, context: decimal.Context) -> decimal.Decimal:
    """Non-zero amounts round up to a whole nano unit; binary amounts are capped at 2^63-1."""
    if amount and int(amount.as_tuple().exponent) < -9:
        amount = amount.quantize(decimal.Decimal("1e-9"), rounding=decimal.ROUND_UP, context=context)
    if base == 2 and amount > INT64_MAX:
        return decimal.Decimal(INT64_MAX)
    return amount


def quantity_problem(value: object, path: str) -> tuple[decimal.Decimal | None, str]:
    try:
        return quantity(value), ""
    except ValueError as error:
        return None, f"{path}: {error}"


_INT64 = 2**64


def _wrap64(number: int) -> int:
    """An int as Go's int64 holds it: the low 64 bits, two's complement (what overflow leaves)."""
    return (number + 2**63) % _INT64 - 2**63


def _go_div(dividend: int, divisor: int) -> tuple[int, int]:
    """Go's int64 `/` and `%`: truncated toward zero."""
    quotient = abs(dividend) // divisor * (1 if dividend >= 0 else -1)
    return quotient, dividend - quotient * divisor


def _positive_scale(value: int, shift: int) -> int:
    """positiveScaleInt64 as ScaledValue uses it (ignoring its ok): the int64 multiplications by 10,
    100, 1000, 10^6 and 10^9 wrap around; the other shifts give 0 when they overflow."""
    if shift == 0:
        return value
    if shift in (1, 2, 3, 6, 9):
        if value in (0, 1):
            return value * 10**shift
        return 0 if value == -(2**63) else _wrap64(value * 10**shift)
    exact = value * 10**shift
    return exact if _wrap64(exact) == exact else 0


def _dec_milli(unscaled: int, scale: int) -> int:
    """scaledValue(unscaled, scale, 3) of an inf.Dec: Go int64 arithmetic, big.Int.Int64 truncation."""
    dif = scale - 3
    if dif == 0:
        return _wrap64(unscaled)
    if dif < 0:
        return _wrap64(_wrap64(unscaled) * 10**-dif)
    if unscaled < INT64_MAX and dif < 19:
        quotient, remainder = _go_div(_wrap64(unscaled), 10**dif)
        return quotient + 1 if remainder else quotient
    quotient, remainder = divmod(unscaled, 10**dif)  # big.Int DivMod: Euclidean
    return _wrap64(quotient) + (1 if remainder else 0)


def milli_value(value: object) -> int:
    """Quantity.MilliValue() as the API server computes it, int64 overflow included: what
    ValidateResourceQuantityValue's `MilliValue() % 1000 == 0` sees for a count (pods: 1Ei fails,
    1E passes). ValueError if the quantity does not parse."""
    text = _quantity_text(value)
    if text == "0":
        return 0
    _, num, denom, suffix = _split_quantity(text)
    base, exponent = _interpret_suffix(suffix)
    quantity(value)  # the same refusals
    negative = text.startswith("-")
    if _uses_exact_path(num, denom, base, exponent):
        # int64Amount{value, scale}; AsScaledInt64(Milli)
        amount = int(num + denom) * (2**exponent if base == 2 else 1)
        amount = -amount if negative else amount
        scale = exponent - len(denom) if base == 10 else 0
        if scale < -3:
            magnitude = -(-abs(amount) // 10 ** (-3 - scale))  # rounded away from zero
            return -magnitude if amount < 0 else magnitude
        return _positive_scale(amount, scale + 3)
    # inf.Dec: the digits, the suffix applied, rounded up to nanos, binary capped at 2^63-1.
    unscaled, scale = int((num or "0") + denom), len(denom)
    if base == 10:
        scale -= exponent
    else:
        unscaled *= 2**exponent
    if unscaled:
        if scale <= 9:
            unscaled *= 10 ** (9 - scale)
        else:
            unscaled = -(-unscaled // 10 ** (scale - 9))
        scale = 9
        if base == 2 and unscaled > INT64_MAX * 10**9:
            unscaled, scale = INT64_MAX, 0
    return _dec_milli(-unscaled if negative else unscaled, scale)
