# -*- test-case-name: tests.unit.test_early_events -*-
"""Events that overtake the answer to their own subscribe (issue 13).

On an Xsi link the AddUserSubscriptionRequest's answer comes back on an
HTTP connection of its own while the subscription's events come on the
event channel's stream; they can arrive first, when the connector does not
know their subscriptionId yet. (Over the CTI interface both share one TCP
connection and keep their order; over several links an event may also take
another link.) The initial CallSubscriptionEvent is recognized by its
target (the subscription manager adopts its id); any other event would be
lost.

:class:`EarlyEvents` holds such events while a subscribe is unanswered, in
arrival order per subscriptionId, briefly (``hold`` seconds on the injected
clock, one timer per subscriptionId) and boundedly (``limit`` events in all),
until the subscription manager learns the id (:meth:`EarlyEvents.release`).
What expires was not early, only unknown (a previous run's subscription, say):
it is dropped with a Trace line (37140). What does not fit is dropped at once
with a Standard line (37141).
"""

from __future__ import annotations

from twisted.logger import Logger

from csta_connector import lms


class _Held:
    __slots__ = ("events", "timer")

    def __init__(self, timer):
        self.events: list = []
        self.timer = timer


class EarlyEvents:
    log = Logger()

    def __init__(self, clock, hold: float = 1.0, limit: int = 1000):
        self.clock = clock
        self.hold_seconds = hold
        self.limit = limit
        self._by_id: dict[str, _Held] = {}
        #: events held now, in all
        self.held = 0
        #: events dropped: expired, or beyond the limit
        self.dropped = 0

    def hold(self, event) -> None:
        """Keep ``event`` (of a subscriptionId not known yet) for a while."""
        if self.held >= self.limit:
            self.dropped += 1
            lms.emit(
                self.log, lms.EARLY_EVENT_OVERFLOW, event_type=event.event_type,
                subscription_id=event.subscription_id, limit=self.limit,
            )
            return
        held = self._by_id.get(event.subscription_id)
        if held is None:
            timer = self.clock.callLater(self.hold_seconds, self._expired, event.subscription_id)
            held = self._by_id[event.subscription_id] = _Held(timer)
        held.events.append(event)
        self.held += 1

    def release(self, subscription_id: str) -> list:
        """The events held for ``subscription_id``, oldest first (none: [])."""
        held = self._by_id.pop(subscription_id, None)
        if held is None:
            return []
        if held.timer.active():
            held.timer.cancel()
        self.held -= len(held.events)
        return held.events

    def _expired(self, subscription_id):
        held = self._by_id.pop(subscription_id)
        self.held -= len(held.events)
        self.dropped += len(held.events)
        lms.emit(
            self.log, lms.EARLY_EVENTS_EXPIRED, subscription_id=subscription_id,
            count=len(held.events), seconds=self.hold_seconds,
            event_types=", ".join(dict.fromkeys(e.event_type for e in held.events)),
        )

    def stop(self) -> None:
        """Drop everything held (no timer left behind)."""
        for held in self._by_id.values():
            if held.timer.active():
                held.timer.cancel()
        self._by_id.clear()
        self.held = 0
