# -*- test-case-name: tests.unit.test_sim_contact_centre -*-
"""A subset of MGCP digit maps (RFC 3435 §2.1.5), for route point treatments.

Alternatives separated by ``|``, optionally in parentheses; in each: the
digits, ``*``, ``#`` and ``A``-``D`` themselves, ``x`` for any digit, ``[..]``
for a set (``[1-5]``, ``[135#]``), ``.`` for "the previous one, any number of
times"; ``T`` (the inter-digit timer) is accepted and ignored. Enough for the
simulator: a play-collect ends with ``Match`` once the digits pressed complete
an alternative that cannot grow longer, and with ``NoMatch`` once they can
complete none.
"""

from __future__ import annotations

MATCH = "Match"
NO_MATCH = "NoMatch"
COLLECTING = "collecting"

_DIGITS = frozenset("0123456789")
_SYMBOLS = frozenset("0123456789*#ABCD")


class DigitMapError(ValueError):
    """A digit map outside the supported subset."""


def _parse_set(text, start):
    end = text.find("]", start)
    if end < 0:
        raise DigitMapError("unclosed [ in %r" % text)
    chars = set()
    body = text[start:end]
    i = 0
    while i < len(body):
        if i + 2 < len(body) and body[i + 1] == "-":
            low, high = body[i], body[i + 2]
            if low not in _DIGITS or high not in _DIGITS or low > high:
                raise DigitMapError("bad range %s-%s in %r" % (low, high, text))
            chars.update(str(d) for d in range(int(low), int(high) + 1))
            i += 3
        else:
            if body[i] not in _SYMBOLS and body[i] != "x":
                raise DigitMapError("bad %r in %r" % (body[i], text))
            chars.update(_DIGITS if body[i] == "x" else body[i])
            i += 1
    if not chars:
        raise DigitMapError("empty [] in %r" % text)
    return frozenset(chars), end + 1


def _compile(alternative, text):
    tokens = []
    i = 0
    while i < len(alternative):
        c = alternative[i].upper() if alternative[i] in "abcd" else alternative[i]
        if c == "x":
            tokens.append([_DIGITS, False])
            i += 1
        elif c in _SYMBOLS:
            tokens.append([frozenset(c), False])
            i += 1
        elif c == "[":
            chars, i = _parse_set(alternative, i + 1)
            tokens.append([chars, False])
        elif c == ".":
            if not tokens or tokens[-1][1]:
                raise DigitMapError("'.' with nothing to repeat in %r" % text)
            tokens[-1][1] = True
            i += 1
        elif c in "Tt":
            i += 1
        else:
            raise DigitMapError("%r is not in the supported digit map subset (%r)" % (c, text))
    return tuple((chars, repeat) for chars, repeat in tokens)


class DigitMap:
    """A compiled digit map; :meth:`judge` says what the digits pressed so far make."""

    def __init__(self, text: str):
        body = text.strip()
        if body.startswith("(") and body.endswith(")"):
            body = body[1:-1]
        alternatives = [a.strip() for a in body.split("|")]
        if not alternatives or any(not a for a in alternatives):
            raise DigitMapError("empty alternative in %r" % text)
        self.text = text
        self._alternatives = [_compile(a, text) for a in alternatives]

    @staticmethod
    def _closure(tokens, positions):
        out = set()
        stack = list(positions)
        while stack:
            p = stack.pop()
            if p in out:
                continue
            out.add(p)
            if p < len(tokens) and tokens[p][1]:
                stack.append(p + 1)
        return out

    def judge(self, digits: str) -> tuple[str, str]:
        """(``MATCH`` | ``NO_MATCH`` | ``COLLECTING``, the digits that decided it)."""
        states = [self._closure(tokens, {0}) for tokens in self._alternatives]
        for n, digit in enumerate(digits.upper()):
            states = [
                self._closure(
                    tokens,
                    {p if tokens[p][1] else p + 1 for p in positions if p < len(tokens) and digit in tokens[p][0]},
                )
                for tokens, positions in zip(self._alternatives, states)
            ]
            if not any(states):
                return NO_MATCH, digits[: n + 1]
            complete = any(len(tokens) in positions for tokens, positions in zip(self._alternatives, states))
            growing = any(
                p < len(tokens) for tokens, positions in zip(self._alternatives, states) for p in positions
            )
            if complete and not growing:
                return MATCH, digits[: n + 1]
        return COLLECTING, digits
