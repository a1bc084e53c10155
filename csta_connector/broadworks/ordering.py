# -*- test-case-name: tests.unit.test_ordering -*-
"""Duplicate and gap detection for the events of one channel set (pure).

BroadWorks re-sends an unacknowledged event on another channel of the set, so
the same ``eventID`` can arrive twice; ``sequenceNumber`` counts per
subscription (wrapping from 2147483647 to 1) and a jump means lost events,
which the layer above repairs by refreshing that subscription (SPEC §6).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

MAX_SEQUENCE = 2147483647


@dataclass(frozen=True, slots=True)
class SequenceGap:
    subscription_id: str
    expected: int
    received: int


class RecentKeys:
    """The last ``size`` keys added, each with a value: a bounded memory (a
    flood of ids costs a fixed amount)."""

    __slots__ = ("size", "_items")

    def __init__(self, size: int = 4096):
        self.size = size
        self._items: OrderedDict = OrderedDict()

    def add(self, key, value=None) -> bool:
        """Remember ``key``; False when it was remembered already."""
        items = self._items
        if key in items:
            return False
        items[key] = value
        if len(items) > self.size:
            items.popitem(last=False)
        return True

    def get(self, key):
        return self._items.get(key)

    def __contains__(self, key) -> bool:
        return key in self._items


class EventOrdering:
    """Remembers the last ``memory`` eventIDs and each subscription's sequence."""

    def __init__(self, memory: int = 4096):
        self._seen = RecentKeys(memory)
        self._last_sequence: dict[str, int] = {}

    def is_duplicate(self, event_id: str) -> bool:
        """True when this eventID was seen already; records it otherwise."""
        return not self._seen.add(event_id)

    def check_sequence(self, subscription_id: str, sequence: int) -> SequenceGap | None:
        """Record ``sequence``; return the gap when it is not the expected next.

        A number BroadWorks never counts with (outside 1..2147483647) is one
        gap, and no count to go on: the next event starts afresh, so it does
        not make a second one.
        """
        if not 1 <= sequence <= MAX_SEQUENCE:
            last = self._last_sequence.pop(subscription_id, None)
            if last is None:
                return None  # nothing counted yet: nothing known lost either
            return SequenceGap(subscription_id, 1 if last >= MAX_SEQUENCE else last + 1, sequence)
        last = self._last_sequence.get(subscription_id)
        if last is not None:
            expected = 1 if last >= MAX_SEQUENCE else last + 1
            if sequence != expected:
                if sequence <= last and expected != 1:
                    return None  # a late, re-delivered older event is not a gap
                self._last_sequence[subscription_id] = sequence
                return SequenceGap(subscription_id, expected, sequence)
        self._last_sequence[subscription_id] = sequence
        return None

    def forget(self, subscription_id: str) -> None:
        self._last_sequence.pop(subscription_id, None)
