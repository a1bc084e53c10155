"""The one count of the event path (pure): BroadWorks events in, CSTA events out.

The core counts each BroadWorks event that reaches it, by Xsi event type;
the fan-out counts each CSTA event written to a client (once per monitor),
by CSTA event type. ``metrics`` reads both at scrape time; nothing else on
the hot path counts events.
"""

from __future__ import annotations

from collections import Counter


class EventCounts:
    __slots__ = ("received", "sent")

    def __init__(self):
        #: Xsi event type -> BroadWorks events that reached the services
        self.received: Counter[str] = Counter()
        #: CSTA event type -> events written to clients (one per monitor)
        self.sent: Counter[str] = Counter()

    @property
    def events_in(self) -> int:
        return sum(self.received.values())

    @property
    def events_out(self) -> int:
        return sum(self.sent.values())
