# -*- test-case-name: tests.unit.test_waiting -*-
"""Waiting for something to be observed, on an injected clock.

:class:`Observations` is a list of things seen (a client's CSTA events, its
SystemStatus, a subprocess's stderr lines) plus :meth:`~Observations.wait_for`,
a Deferred that fires once a predicate over everything seen so far holds.
Each waiter is its own Deferred: cancelling it removes the waiter and its
timer, so a caller can stop waiting (Ctrl-C, the end of ``--duration``)
without polling and without leaving a delayed call behind. :meth:`fail`
says that what is awaited will not come (the connection closed): every
waiter fails now, and so does every later wait that is not already met.
"""

from __future__ import annotations

from typing import Any, Callable

from twisted.internet import defer


class WaitTimeout(Exception):
    """Nothing observed met the predicate within the timeout."""


class Observations:
    """Things observed, in order (``items``), that one can wait on."""

    def __init__(self, clock):
        self.clock = clock
        self.items: list = []
        self._waiters: list[_Waiter] = []
        self._failure: BaseException | None = None

    def add(self, item: Any) -> None:
        self.items.append(item)
        if not self._waiters:
            return
        for waiter in list(self._waiters):
            if waiter.predicate(self.items):
                self._remove(waiter)
                waiter.deferred.callback(self.items)

    def fail(self, exception: BaseException) -> None:
        """What the waiters wait for will not come: fail them with
        ``exception``, and every later :meth:`wait_for` not already met."""
        self._failure = exception
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            waiter.stop_timer()
            waiter.deferred.errback(exception)

    def wait_for(self, predicate: Callable[[list], bool], timeout: float | None = 5.0,
                 what: str = "condition") -> defer.Deferred:
        """A Deferred firing with ``items`` once ``predicate(items)`` holds;
        it fails with :class:`WaitTimeout` after ``timeout`` seconds (never
        with ``None``). Cancelling it stops the wait."""
        if predicate(self.items):
            return defer.succeed(self.items)
        if self._failure is not None:
            return defer.fail(self._failure)
        waiter = _Waiter(predicate)
        waiter.deferred = defer.Deferred(lambda d: self._remove(waiter))
        if timeout is not None:
            waiter.timer = self.clock.callLater(timeout, self._expire, waiter, what)
        self._waiters.append(waiter)
        return waiter.deferred

    @property
    def waiting(self) -> int:
        """How many waiters are waiting."""
        return len(self._waiters)

    def _remove(self, waiter: "_Waiter") -> None:
        if waiter in self._waiters:
            self._waiters.remove(waiter)
        waiter.stop_timer()

    def _expire(self, waiter: "_Waiter", what: str) -> None:
        waiter.timer = None
        self._remove(waiter)
        waiter.deferred.errback(WaitTimeout(
            "timed out waiting for %s; have %d items: %r" % (what, len(self.items), self.items[-5:])
        ))


class _Waiter:
    __slots__ = ("predicate", "deferred", "timer")

    def __init__(self, predicate):
        self.predicate = predicate
        self.deferred: defer.Deferred | None = None
        self.timer = None

    def stop_timer(self) -> None:
        if self.timer is not None and self.timer.active():
            self.timer.cancel()
        self.timer = None
