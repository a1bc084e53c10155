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


class EventOrdering:
    """Remembers the last ``memory`` eventIDs and each subscription's sequence."""

    def __init__(self, memory: int = 4096):
        self._memory = memory
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._last_sequence: dict[str, int] = {}

    def is_duplicate(self, event_id: str) -> bool:
        """True when this eventID was seen already; records it otherwise."""
        seen = self._seen
        if event_id in seen:
            return True
        seen[event_id] = None
        if len(seen) > self._memory:
            seen.popitem(last=False)
        return False

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
