"""Fakes and helpers shared by the tests, the benchmarks and the demo.

Kept in the package (as ldaptor.testutil, txacme.testing) so downstream code
can reuse them; nothing here runs in production paths.
"""

from __future__ import annotations

from twisted.internet import defer
from zope.interface import implementer

from csta_connector.interfaces import IEventSink


class WaitTimeout(AssertionError):
    pass


class Waitable:
    """A list of observations plus ``wait_for(predicate)`` on a clock."""

    def __init__(self, clock):
        self.clock = clock
        self.items: list = []
        self._waiters: list = []

    def add(self, item):
        self.items.append(item)
        for waiter in list(self._waiters):
            predicate, d, timer = waiter
            if predicate(self.items):
                self._waiters.remove(waiter)
                timer.cancel()
                d.callback(self.items)

    def wait_for(self, predicate, timeout=5.0, what="condition"):
        """A Deferred firing when ``predicate(items)`` holds, failing after ``timeout`` s."""
        if predicate(self.items):
            return defer.succeed(self.items)
        d = defer.Deferred()

        def expire():
            for waiter in list(self._waiters):
                if waiter[1] is d:
                    self._waiters.remove(waiter)
            d.errback(WaitTimeout("timed out waiting for %s; have %d items: %r"
                                  % (what, len(self.items), self.items[-5:])))

        timer = self.clock.callLater(timeout, expire)
        self._waiters.append((predicate, d, timer))
        return d


@implementer(IEventSink)
class RecordingEventSink(Waitable):
    """An IEventSink that keeps every event, gap and link-state change."""

    def __init__(self, clock):
        super().__init__(clock)
        self.gaps = []
        self.link_states = []

    def broadworks_event(self, event):
        self.add(event)

    def broadworks_sequence_gap(self, gap):
        self.gaps.append(gap)

    def broadworks_link_state(self, up_links, total_links):
        self.link_states.append((up_links, total_links))

    def broadworks_link_recovered(self, link_name):
        self.link_states.append(("recovered", link_name))

    def of(self, user_id, event_type=None):
        return [
            e for e in self.items
            if e.target_id == user_id and (event_type is None or e.event_type == event_type)
        ]

    def types_of(self, user_id):
        return [e.event_type for e in self.items if e.target_id == user_id]
