# -*- test-case-name: tests.unit.test_resync -*-
"""Proactive failover resync (SPEC §6.1): no stuck call waits for a client's snapshot.

After an ungraceful Application Server failover BroadWorks reports by itself
only the answered calls a user *received* (an unsolicited
CallSubscriptionEvent); the calls a user originated and the calls still
alerting stay in the model until someone asks. The connector sees the
failover first, so it asks at once.

**Detection** (:func:`failover_trigger`, :meth:`ProactiveResync.call_unknown`):
an unsolicited CallSubscriptionEvent (no request of ours caused it, and not
the initial one) that cleared at least one party; any
``…SubscriptionResyncEvent``; a call-control request on a call the model
holds, refused because BroadWorks does not know the call
(:func:`call_unknown_to_broadworks`) — that user is also refreshed at once.

**The wave**: on the first sign, every subscription still holding a call
(each :class:`~csta_connector.interfaces.IResyncTarget`'s ``holding()``)
but the one the trigger synchronized is refreshed (UpdateSubscriptionRequest),
at most ``rate`` started per second (a token bucket on the injected clock)
and at most ``concurrency`` unanswered; the subscriptions BroadWorks will
report by itself go last, so their unsolicited events usually come first.
Each resulting event is synchronized by the core like any other (every
monitoring client told, LMS 37205 per party). One failover gives one wave:
a sign while a wave runs, or within ``holdoff`` seconds of its start, only
adds what it names. A subscription synchronized meanwhile by any other path
(its unsolicited event, a snapshot, a renewal, a link-recovery refresh) is
taken off the wave (:meth:`ProactiveResync.synchronized`).

The wave is bookkeeping on the side of the event path: the core tells it
what it synchronized and what call control saw refused; it asks the targets
to refresh. A second kind of subscription (queues, route points) joins with
:meth:`ProactiveResync.join` and the same two hooks.
"""

from __future__ import annotations

from twisted.logger import Logger
from zope.interface import implementer

from csta_connector import lms
from csta_connector.broadworks.errors import BroadWorksRequestError
from csta_connector.interfaces import IResyncTarget
from csta_connector.model.calls import CONNECTED, HOLD, TERMINATOR

#: The simulator's ``errorCode`` for a call its active AS does not know
#: (simulator/errors.py: 4042 unknown call, 4043 orphaned by a failover).
#: Real BroadWorks' code for it is not documented (broadworks-xsi.md §7):
#: there a 404 on a request whose only object is the call says it.
CALL_UNKNOWN_ERROR_CODES = frozenset({4042, 4043})


def call_unknown_to_broadworks(failure, about="connection") -> bool:
    """Whether a call-control request on a call half failed because
    BroadWorks does not know the call. ``about``: ``"destination"`` for a
    request that also names a destination (a transfer, a deflection), whose
    404 may be about the destination instead; then only the call-unknown
    error codes say it."""
    error = failure.value
    if not isinstance(error, BroadWorksRequestError) or error.status_code != 404:
        return False
    if error.error_code in CALL_UNKNOWN_ERROR_CODES:
        return True
    return about != "destination" and error.error_code not in _NOT_ABOUT_THE_CALL


#: 404 codes of the simulator that name something else than the call
#: (simulator/errors.py: unknown user, transfer destination, agent, queue)
_NOT_ABOUT_THE_CALL = frozenset({4041, 4044, 4045, 4046})


def failover_trigger(event_type: str, solicited: bool, cleared: int) -> str | None:
    """What a synchronized subscription event says of a failover: the
    trigger's name, or None. Pure."""
    if event_type.endswith("SubscriptionResyncEvent"):
        return event_type
    if cleared and not solicited:
        return "unsolicited " + event_type
    return None


@implementer(IResyncTarget)
class UserCalls:
    """The users' Advanced Call subscriptions as a target of the wave."""

    name = "user"

    def __init__(self, model, subscriptions, device_of):
        """``model``: the CallModel; ``subscriptions``: the
        SubscriptionManager; ``device_of(user_id) -> device``."""
        self.model = model
        self.subscriptions = subscriptions
        self._device_of = device_of
        self._user_of: dict[str, str] = {}

    def holding(self):
        model, subscriptions = self.model, self.subscriptions
        for sub in subscriptions.subscriptions:
            if not sub.refs:
                continue  # a temporary subscription: a snapshot in progress
            parties = model.parties_of(self._device_of(sub.user_id))
            if parties:
                # the peer AS reports only the answered calls the user received
                yield sub.user_id, all(
                    p.personality == TERMINATOR and p.state in (CONNECTED, HOLD) for p in parties
                )

    def refresh(self, user_id):
        return self.subscriptions.refresh(user_id)

    def device_of(self, user_id):
        return self._device_of(user_id)


@implementer(IResyncTarget)
class HeldCalls:
    """The subscriptions of devices that hold calls the peer AS says nothing
    of after a failover (SPEC §10: queues, route points) as a target of the
    wave: every one holding calls is refreshed, and never counts as reported
    by BroadWorks itself."""

    def __init__(self, name, manager, holds_calls, device_of):
        """``manager``: the package's SubscriptionManager; ``holds_calls(user_id)``:
        whether the model holds calls of that subscription's device."""
        self.name = name
        self.manager = manager
        self._holds_calls = holds_calls
        self._device_of = device_of

    def holding(self):
        for sub in self.manager.subscriptions:
            if sub.refs and self._holds_calls(sub.user_id):
                yield sub.user_id, False

    def refresh(self, user_id):
        return self.manager.refresh(user_id)

    def device_of(self, user_id):
        return self._device_of(user_id)


# A token is due when the bucket holds one but for a rounding error; the
# timer waits at least a millisecond (a delay below the clock's resolution
# would come back at once, forever).
_ONE = 1 - 1e-9
_TICK = 0.001


class _Wave:
    """One failover's resynchronization: what is left to refresh, what is in flight."""

    __slots__ = (
        "started", "pending", "in_flight", "refreshed", "cleared", "failed", "finished",
        "tokens", "filled", "timer",
    )

    def __init__(self, now):
        self.started = now
        #: (target, key) -> None, in refresh order
        self.pending: dict[tuple, None] = {}
        self.in_flight: set[tuple] = set()
        self.refreshed = 0
        self.cleared = 0
        self.failed = 0
        self.finished = False
        self.tokens = 1.0  # the first refresh goes at once
        self.filled = now
        self.timer = None


class ProactiveResync:
    """Failover detection and the resync wave, on the injected clock."""

    log = Logger()

    def __init__(self, clock, rate=200, holdoff=30.0, concurrency=10, targets=(),
                 detail=lms.EVERY_LEVEL):
        """``rate``: refreshes started per second at most; ``holdoff``: seconds
        after a wave's start during which further signs join it;
        ``concurrency``: refreshes unanswered at most; ``detail``: what the
        log outputs write (the Trace lines of each later sign)."""
        self.clock = clock
        self.rate_per_second = rate  # as configured, for the log
        self.rate = float(rate)
        self.holdoff = holdoff
        self.concurrency = max(1, concurrency)
        # a late timer (a busy reactor) may catch up 0.2 s worth, never a
        # second's: BroadWorks sees the rate, not bursts
        self.burst = max(1.0, self.rate / 5)
        self.detail = detail
        self.targets = list(targets)
        self.wave: _Wave | None = None
        self._pumping = False
        #: for metrics and benchmarks
        self.stats = {"waves": 0, "refreshed": 0, "parties_cleared": 0}

    def join(self, target) -> None:
        """Another kind of subscription the waves refresh (an IResyncTarget)."""
        self.targets.append(target)

    # -- the hooks --------------------------------------------------------------

    def synchronized(self, target, key, event_type, solicited, cleared) -> None:
        """The core synchronized ``key``'s subscription event; ``cleared``:
        the parties it cleared. Takes ``key`` off the wave, counts the
        wave's clears, and suspects a failover when the event says so."""
        entry = (target, key)
        wave = self.wave
        if wave is not None:
            if entry in wave.in_flight:
                if solicited:  # most likely the answer to the wave's request
                    wave.cleared += cleared
                    self.stats["parties_cleared"] += cleared
            elif entry in wave.pending:
                del wave.pending[entry]  # synchronized by another path
                self._finish_if_done(wave)
        trigger = failover_trigger(event_type, solicited, cleared)
        if trigger is not None:
            self._suspect(trigger, entry, refresh_now=False)

    def call_unknown(self, target, key, request, call_id) -> None:
        """BroadWorks refused ``request`` on the call ``call_id`` of ``key``,
        which the model holds: it does not know the call. ``key`` is
        refreshed at once."""
        lms.emit(self.log, lms.CALL_UNKNOWN_TO_BROADWORKS, call_id=call_id,
                 device=target.device_of(key), request=request, key=key)
        self._suspect("%s refused, call unknown" % request, (target, key), refresh_now=True)

    def stop(self) -> None:
        """No timer left, nothing more refreshed (the connector stops)."""
        wave = self.wave
        if wave is not None:
            if wave.timer is not None and wave.timer.active():
                wave.timer.cancel()
            wave.timer = None
            wave.pending.clear()

    # -- the wave ---------------------------------------------------------------

    def _suspect(self, trigger, entry, refresh_now):
        now = self.clock.seconds()
        wave = self.wave
        if wave is not None and (not wave.finished or now - wave.started < self.holdoff):
            # the same failover: only what this sign names
            if refresh_now:
                wave.pending.pop(entry, None)
                if entry not in wave.in_flight:
                    self._refresh(wave, entry)
            else:
                wave.pending.pop(entry, None)
                self._finish_if_done(wave)
            if self.detail.wants(lms.FAILOVER_SIGN_JOINED):
                target, key = entry
                lms.emit(self.log, lms.FAILOVER_SIGN_JOINED, trigger=trigger,
                         device=target.device_of(key))
            return
        wave = self.wave = _Wave(now)
        self.stats["waves"] += 1
        reported_later = []
        for target in self.targets:
            for key, reported in target.holding():
                candidate = (target, key)
                if candidate == entry:
                    continue
                if reported:
                    reported_later.append(candidate)
                else:
                    wave.pending[candidate] = None
        for candidate in reported_later:
            wave.pending[candidate] = None
        target, key = entry
        lms.emit(
            self.log, lms.AS_FAILOVER_SUSPECTED, trigger=trigger, device=target.device_of(key),
            count=len(wave.pending) + (1 if refresh_now else 0), rate=self.rate_per_second,
        )
        if refresh_now:
            self._refresh(wave, entry)
        self._pump(wave)

    def _pump(self, wave):
        """Start what the rate and the concurrency allow; come back when the
        next token is due (a refresh answered comes back by itself)."""
        if wave.timer is not None:
            if wave.timer.active():
                wave.timer.cancel()
            wave.timer = None
        if self._pumping:
            return
        self._pumping = True
        try:
            now = self.clock.seconds()
            wave.tokens = min(self.burst, wave.tokens + (now - wave.filled) * self.rate)
            wave.filled = now
            pending = wave.pending
            while pending and len(wave.in_flight) < self.concurrency and wave.tokens >= _ONE:
                entry = next(iter(pending))
                del pending[entry]
                wave.tokens -= 1
                self._refresh(wave, entry)
        finally:
            self._pumping = False
        if pending and len(wave.in_flight) < self.concurrency:
            delay = max(_TICK, (1 - wave.tokens) / self.rate)
            wave.timer = self.clock.callLater(delay, self._pump, wave)
        self._finish_if_done(wave)

    def _refresh(self, wave, entry):
        target, key = entry
        wave.in_flight.add(entry)
        wave.refreshed += 1
        self.stats["refreshed"] += 1
        d = target.refresh(key)
        d.addErrback(self._refresh_failed, wave, entry)
        d.addCallback(self._refreshed, wave, entry)

    def _refresh_failed(self, failure, wave, entry):
        wave.failed += 1
        target, key = entry
        lms.emit(self.log, lms.PROACTIVE_REFRESH_FAILED, target=target.name, key=key,
                 reason=failure.getErrorMessage())

    def _refreshed(self, _, wave, entry):
        wave.in_flight.discard(entry)
        if wave.pending and not self._pumping:
            self._pump(wave)
        else:
            self._finish_if_done(wave)

    def _finish_if_done(self, wave):
        if wave.finished or wave.pending or wave.in_flight or self._pumping:
            return
        wave.finished = True
        if wave.timer is not None and wave.timer.active():
            wave.timer.cancel()
        wave.timer = None
        lms.emit(
            self.log, lms.PROACTIVE_RESYNC_FINISHED, users=wave.refreshed, cleared=wave.cleared,
            seconds=round(self.clock.seconds() - wave.started, 3), failed=wave.failed,
        )
