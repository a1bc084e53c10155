# -*- test-case-name: tests.unit.test_subscriptions -*-
"""The Deferred-based subscription manager (SPEC §3 subscriptions, §6).

One BroadWorks ``Advanced Call`` subscription per user, shared by every CSTA
monitor of that user's device (reference counted). A snapshot sends
``UpdateSubscriptionRequest`` and fires with the ``CallSubscriptionEvent``
*caused by that request*: the first one for the subscription that arrives
after BroadWorks answered the request — never an older one. Concurrent
snapshots of a user share one request while it is unanswered. A user nobody
monitors is snapshotted through a temporary subscription, whose initial
CallSubscriptionEvent is the snapshot.

The manager is bookkeeping, not a stage of the event path: the core asks
:meth:`SubscriptionManager.route` where each event goes (the subscribed user;
for a CallSubscriptionEvent — initial, solicited, unsolicited, renewal,
resync — also the requesters it answers), synchronizes the call model and
tells everyone else (SPEC §6), then calls :meth:`SubscriptionManager.answer`
so the snapshot's waiters get the event. Nothing here calls back up, but
one thing. With several links, or an Xsi link (its answers and its events
travel on different connections), a subscribe's initial event can come
before the answer that names its subscriptionId: a CallSubscriptionEvent
of an unknown id whose target's subscribe is unanswered is adopted as that
subscribe's; any other event of an id not known yet that nobody claims,
while a subscribe is unanswered, is held briefly (:meth:`SubscriptionManager.held`,
:mod:`.early_events`) and handed to ``replay`` (the core's event path after
the count) once an answer names its id.
Renewal refreshes each subscription every ``renew_interval`` +
0…``renew_jitter`` seconds, counted from its last UpdateSubscriptionRequest.

A manager serves one event package (:class:`EventPackage`): ``Advanced
Call`` by default, the core's. The contact centre runs one manager per
package of its devices (``Call Center Queue``, ``Call Center Agent``; SPEC
§10.2), each with the same reference counting, snapshots and renewal; the
package says which of its events answer a snapshot and which only
synchronize (an unsolicited Resync event answers no request).
"""

from __future__ import annotations

import enum
import random
from typing import NamedTuple

from twisted.internet import defer
from twisted.logger import Logger

from csta_connector import lms
from csta_connector.broadworks.errors import BroadWorksError
from csta_connector.broadworks.ordering import RecentKeys
from csta_connector.broadworks.requests import ADVANCED_CALL
from csta_connector.broadworks.xsi import SUBSCRIPTION_SNAPSHOT_TYPES
from csta_connector.services.early_events import EarlyEvents


class EventPackage(NamedTuple):
    """What a subscription manager needs to know of its event package."""

    #: the XSISchema ``EventPackage`` string AddUserSubscriptionRequest carries
    name: str
    #: the subscription events that answer an Add or Update (a snapshot)
    answering: frozenset
    #: every subscription event of the package; each one synchronizes
    snapshots: frozenset
    #: the Standard line when BroadWorks refuses a subscription (fields
    #: ``user``, ``reason``)
    refused: lms.LmsMessage = lms.SUBSCRIPTION_FAILED

    @property
    def snapshot_event(self) -> str:
        """The solicited snapshot event's type (a timeout names it)."""
        return min(self.answering, key=len)

    def size(self, event) -> int:
        """How many calls or entries a snapshot event lists (LMS 37211)."""
        data = event.event_data
        entries = getattr(data, "entries", None)
        if entries is not None:
            return len(entries)
        return len(event.calls)


ADVANCED_CALL_PACKAGE = EventPackage(
    ADVANCED_CALL, SUBSCRIPTION_SNAPSHOT_TYPES, SUBSCRIPTION_SNAPSHOT_TYPES
)


def _name(requester):
    if requester is None:
        return "-"
    return getattr(requester, "name", None) or str(requester)


class SnapshotTimeout(BroadWorksError):
    def __init__(self, user_id, seconds, event_type="CallSubscriptionEvent"):
        self.user_id = user_id
        self.seconds = seconds
        super().__init__("snapshot of %s: no %s within %g s" % (user_id, event_type, seconds))


class SubscriptionLost(BroadWorksError):
    """The subscription went away before the awaited event came."""


class _Snapshot:
    """One UpdateSubscriptionRequest (or subscribe) awaiting its event."""

    __slots__ = ("waiters", "answered", "requesters", "timer", "early")

    def __init__(self):
        self.waiters: list[defer.Deferred] = []
        self.answered = False  # BroadWorks has responded: the next event is ours
        self.requesters: list = []
        self.timer = None
        # A CallSubscriptionEvent that came while the request was unanswered:
        # with several links, the event can overtake its own response (it
        # travels on the subscription's channel, the response on the request's
        # link). It answers the request unless a later one follows the response.
        self.early = None


class Route(NamedTuple):
    """Where one BroadWorks event goes (:meth:`SubscriptionManager.route`)."""

    user_id: str
    #: the CSTA sessions a CallSubscriptionEvent answers: they get the
    #: SnapshotDevice response, not the synchronization's events
    requesters: tuple = ()
    #: the requests the event answers; the core hands them back to
    #: :meth:`SubscriptionManager.answer` once the model is synchronized
    snapshots: tuple = ()
    #: a CallSubscriptionEvent caused by a request of ours (the subscribe's
    #: initial event, a snapshot, a renewal, a refresh); False for one
    #: BroadWorks sent by itself, which may mean an AS failover (SPEC §6.1)
    solicited: bool = False


class SubscriptionState(enum.Enum):
    #: AddUserSubscriptionRequest sent, not answered yet
    SUBSCRIBING = "subscribing"
    #: BroadWorks gave the subscriptionId: events come
    ACTIVE = "active"
    #: released by its last user, refused by BroadWorks, or the manager stopped
    #: (a subscription released while subscribing is removed once answered)
    REMOVED = "removed"


class Subscription:
    """One user's subscription: its state, its users, its waiters.

    ``SUBSCRIBING -> ACTIVE`` (:meth:`subscribed`), ``ACTIVE -> SUBSCRIBING``
    (:meth:`resubscribing`: BroadWorks terminated it), any state ``->
    REMOVED`` (:meth:`remove`). ``ready`` holds the acquirers waiting for
    the subscriptionId while it is subscribing.
    """

    __slots__ = (
        "user_id",
        "route",
        "state",
        "subscription_id",
        "refs",
        "temporary_refs",
        "ready",
        "pending",
        "renew_timer",
        "failure",
    )

    def __init__(self, user_id):
        self.user_id = user_id
        self.route = Route(user_id)  # of every event that answers no request
        self.state = SubscriptionState.SUBSCRIBING
        self.subscription_id: str | None = None
        self.refs = 0
        self.temporary_refs = 0
        self.ready: list[defer.Deferred] = []
        self.pending: list[_Snapshot] = []  # in request order
        self.renew_timer = None
        self.failure = None

    @property
    def subscribing(self) -> bool:
        return self.state is SubscriptionState.SUBSCRIBING

    @property
    def removed(self) -> bool:
        return self.state is SubscriptionState.REMOVED

    def subscribed(self, subscription_id: str) -> list[defer.Deferred]:
        """BroadWorks answered the subscribe: the waiters to fire. A
        subscription removed meanwhile stays removed (it is unsubscribed)."""
        self.subscription_id = subscription_id
        if self.state is SubscriptionState.SUBSCRIBING:
            self.state = SubscriptionState.ACTIVE
        ready, self.ready = self.ready, []
        return ready

    def resubscribing(self) -> None:
        """BroadWorks ended the subscription, which is still wanted."""
        self.subscription_id = None
        self.state = SubscriptionState.SUBSCRIBING

    def remove(self, failure=None) -> list[defer.Deferred]:
        """No longer wanted, or refused (``failure``); the waiters to fail
        when it was refused."""
        self.state = SubscriptionState.REMOVED
        if failure is None:
            return []
        self.failure = failure
        ready, self.ready = self.ready, []
        return ready


class SubscriptionManager:
    log = Logger()

    def __init__(
        self,
        client,
        clock,
        snapshot_timeout=5.0,
        renew_interval=1800.0,
        renew_jitter=600.0,
        resync_concurrency=10,
        rng=None,
        package: EventPackage = ADVANCED_CALL_PACKAGE,
        semaphore=None,
        replay=None,
        early_hold=1.0,
        refused=None,
    ):
        """``client``: a BroadWorksClient; ``package``: the event package
        subscribed; ``semaphore``: bounds the refreshes of a resynchronization,
        shared by the managers of one connector (else its own); ``replay``:
        callable(event), where the events that overtook their subscribe's
        answer go once it came (None: such events are not held, only
        ignored); ``early_hold``: how long they are held at most;
        ``refused``: called with (user id, failure) after BroadWorks refused a
        subscribe (a first one, or one again after BroadWorks ended the
        subscription: then whoever held it has lost it)."""
        self.client = client
        self._refused = refused
        self.package = package
        self.clock = clock
        self.snapshot_timeout = snapshot_timeout
        self.renew_interval = renew_interval
        self.renew_jitter = renew_jitter
        self._rng = rng or random.Random()
        self._semaphore = semaphore or defer.DeferredSemaphore(max(1, resync_concurrency))
        self._by_user: dict[str, Subscription] = {}
        self._by_id: dict[str, Subscription] = {}
        #: ids of the subscriptions removed here (their late events are expected)
        self._removed_ids = RecentKeys()
        #: ids whose ignored events were reported already (one line per subscription)
        self._reported_ids = RecentKeys()
        #: ids taken from an initial event that came before its subscribe's answer
        self._adopted: dict[str, Subscription] = {}
        self.update_requests = 0  # for metrics and benchmarks (coalescing)
        #: how long an answered request waits for a later event before taking
        #: the one that overtook its response
        self.early_grace = 0.5
        self._replay = replay
        self.early_events = EarlyEvents(clock, hold=early_hold)
        self._subscribes_unanswered = 0

    # -- queries -----------------------------------------------------------

    def subscription_of(self, user_id) -> Subscription | None:
        return self._by_user.get(user_id)

    def is_monitored(self, user_id) -> bool:
        sub = self._by_user.get(user_id)
        return sub is not None and sub.refs > 0

    @property
    def subscriptions(self):
        return [s for s in self._by_user.values() if s.subscription_id]

    # -- acquire / release -------------------------------------------------

    def acquire(self, user_id, requester=None) -> defer.Deferred:
        """Count one more monitor of ``user_id``; the first one subscribes.
        Fires with the subscriptionId once the subscription exists.
        ``requester`` is excluded from the reports of the initial snapshot:
        a new monitor learns existing calls by SnapshotDevice, not by events."""
        return self._acquire(user_id, temporary=False, requester=requester)

    def _acquire(self, user_id, temporary, requester=None):
        sub = self._by_user.get(user_id)
        if sub is None:
            sub = Subscription(user_id)
            self._by_user[user_id] = sub
            self._subscribe(sub)
            if sub.removed:
                # the subscribe failed at once (no link): report it to this caller
                return defer.fail(sub.failure)
            if requester is not None and sub.pending:
                sub.pending[0].requesters.append(requester)
        if temporary:
            sub.temporary_refs += 1
        else:
            sub.refs += 1
        if not sub.subscribing:
            return defer.succeed(sub.subscription_id)
        d = defer.Deferred(lambda d: self._acquire_cancelled(sub, d, temporary))
        sub.ready.append(d)
        return d

    def _acquire_cancelled(self, sub, d, temporary):
        # the caller no longer waits: its acquire is undone
        if d in sub.ready:
            sub.ready.remove(d)
            self._unref(sub, temporary)

    def _subscribe(self, sub: Subscription):
        # the subscribe's initial CallSubscriptionEvent answers a snapshot too
        snapshot = _Snapshot()
        sub.pending.append(snapshot)
        self._subscribes_unanswered += 1
        if self.package.name == ADVANCED_CALL:
            d = self.client.subscribe(sub.user_id)
        else:
            d = self.client.subscribe(sub.user_id, self.package.name)
        d.addCallbacks(self._subscribed, self._subscribe_failed, (sub, snapshot), None, (sub,))

    def _settle_adopted(self, sub, subscription_id=None):
        """The subscribe of ``sub`` is answered: an id adopted for it stays
        only if BroadWorks gave that one."""
        for adopted, of in list(self._adopted.items()):
            if of is sub:
                del self._adopted[adopted]
                if adopted != subscription_id:  # not its initial event after all
                    self._by_id.pop(adopted, None)

    def _subscribed(self, subscription_id, sub, snapshot):
        self._subscribes_unanswered -= 1
        if self._adopted:
            self._settle_adopted(sub, subscription_id)
        self._by_id[subscription_id] = sub
        self._answered(sub, snapshot)
        lms.emit(
            self.log,
            lms.SUBSCRIPTION_ADDED,
            subscription_id=subscription_id,
            user=sub.user_id,
            expires=self.client.subscription_expires,
        )
        for d in sub.subscribed(subscription_id):
            d.callback(subscription_id)
        self._schedule_renewal(sub)
        early = self.early_events.release(subscription_id)
        if sub.removed:
            self._unsubscribe(sub)
            return
        for event in early:
            self._replay(event)

    def _subscribe_failed(self, failure, sub):
        self._subscribes_unanswered -= 1
        lms.emit(self.log, self.package.refused, user=sub.user_id, reason=failure.getErrorMessage())
        if self._adopted:
            self._settle_adopted(sub)
        if self._by_user.get(sub.user_id) is sub:
            del self._by_user[sub.user_id]
        ready = sub.remove(failure)
        self._fail_pending(sub, failure)
        for d in ready:
            d.errback(failure)
        if self._refused is not None:
            self._refused(sub.user_id, failure)

    def release(self, user_id) -> defer.Deferred:
        """One monitor fewer; the last one deletes the subscription."""
        return self._release(user_id, temporary=False)

    def _release(self, user_id, temporary):
        sub = self._by_user.get(user_id)
        if sub is None:
            return defer.succeed(None)
        return self._unref(sub, temporary)

    def _unref(self, sub, temporary):
        if temporary:
            sub.temporary_refs = max(0, sub.temporary_refs - 1)
        else:
            sub.refs = max(0, sub.refs - 1)
        if sub.refs or sub.temporary_refs or self._by_user.get(sub.user_id) is not sub:
            return defer.succeed(None)
        del self._by_user[sub.user_id]
        sub.remove()
        if sub.subscription_id is None:
            return defer.succeed(None)  # unsubscribed once the subscribe answers
        return self._unsubscribe(sub)

    def _unsubscribe(self, sub):
        self._by_id.pop(sub.subscription_id, None)
        self._removed_ids.add(sub.subscription_id, sub.user_id)
        self.client.forget(sub.subscription_id)
        self._cancel_renewal(sub)
        self._fail_pending(sub, SubscriptionLost("subscription of %s removed" % sub.user_id))
        d = self.client.unsubscribe(sub.subscription_id)

        def removed(_):
            lms.emit(
                self.log, lms.SUBSCRIPTION_REMOVED, subscription_id=sub.subscription_id, user=sub.user_id
            )

        def failed(failure):
            # BroadWorks lets unwanted subscriptions expire; nothing else to do
            lms.emit(
                self.log, lms.SUBSCRIPTION_REMOVAL_FAILED, subscription_id=sub.subscription_id,
                user=sub.user_id, error=failure.getErrorMessage(),
            )

        return d.addCallbacks(removed, failed)

    # -- snapshots ---------------------------------------------------------

    def snapshot(self, user_id, requester=None) -> defer.Deferred:
        """Fire with the CallSubscriptionEvent caused by a fresh request.

        The snapshot holds the subscription while it waits (a temporary
        reference: a device nobody monitors is subscribed for it), so no
        release by anyone else — the last monitor stopping, another
        temporary snapshot done — removes it under this one."""
        lms.emit(self.log, lms.SNAPSHOT_REQUESTED, device=user_id, requester=_name(requester))
        acquired = self._acquire(user_id, temporary=True)
        sub = self._by_user.get(user_id)
        if sub is None:
            return acquired  # the subscribe failed at once: that is the answer
        acquired.addErrback(lambda f: None)  # the snapshot's own waiter reports it

        def done(result):
            self._unref(sub, temporary=True).addErrback(lambda f: None)
            return result

        return self._wait(self._snapshot_for(sub), requester).addBoth(done)

    def _snapshot_for(self, sub: Subscription) -> _Snapshot:
        """The request whose event answers a snapshot asked now: one not
        answered yet (its event is newer than this call: the subscribe's
        initial event, or an UpdateSubscriptionRequest in flight), else a
        new UpdateSubscriptionRequest."""
        for snapshot in sub.pending:
            if not snapshot.answered:
                return snapshot
        snapshot = _Snapshot()
        sub.pending.append(snapshot)
        self._update(sub, snapshot)
        return snapshot

    @staticmethod
    def _wait(snapshot: _Snapshot, requester=None) -> defer.Deferred:
        """A new waiter for ``snapshot``'s event; cancelling it removes it
        (the request goes on: its event still synchronizes the model)."""

        def cancel(d):
            if d in snapshot.waiters:
                snapshot.waiters.remove(d)

        d = defer.Deferred(cancel)
        snapshot.waiters.append(d)
        if requester is not None:
            snapshot.requesters.append(requester)
        return d

    def _update(self, sub: Subscription, snapshot: _Snapshot):
        self.update_requests += 1
        self._schedule_renewal(sub)
        d = self.client.update_subscription(sub.subscription_id)

        def answered(_):
            self._answered(sub, snapshot)

        def failed(failure):
            if snapshot in sub.pending:
                sub.pending.remove(snapshot)
            self._fail_snapshot(snapshot, failure)

        d.addCallbacks(answered, failed)

    def _answered(self, sub, snapshot):
        snapshot.answered = True
        if snapshot.early is not None and sub.subscribing:
            # the initial event came before the subscribe's response: no
            # older event of this subscription can exist, it answers now
            self._resolve_early(sub, snapshot)
        elif snapshot.early is not None:
            snapshot.timer = self.clock.callLater(
                min(self.early_grace, self.snapshot_timeout), self._resolve_early, sub, snapshot
            )
        else:
            self._start_snapshot_timer(sub, snapshot)

    def _resolve_early(self, sub, snapshot):
        snapshot.timer = None
        if snapshot in sub.pending:
            sub.pending.remove(snapshot)
        self._resolve(sub.user_id, snapshot, snapshot.early)

    def _resolve(self, user_id, snapshot, event):
        waiters, snapshot.waiters = snapshot.waiters, []
        for d in waiters:
            d.callback(event)
        if waiters:
            lms.emit(self.log, lms.SNAPSHOT_COMPLETED, device=user_id, calls=self.package.size(event))

    def _start_snapshot_timer(self, sub, snapshot):
        if snapshot.waiters:
            snapshot.timer = self.clock.callLater(
                self.snapshot_timeout, self._snapshot_timed_out, sub, snapshot
            )

    def _snapshot_timed_out(self, sub, snapshot):
        snapshot.timer = None
        if snapshot in sub.pending:
            sub.pending.remove(snapshot)
        lms.emit(self.log, lms.SNAPSHOT_TIMED_OUT, device=sub.user_id, timeout=self.snapshot_timeout)
        self._fail_snapshot(
            snapshot, SnapshotTimeout(sub.user_id, self.snapshot_timeout, self.package.snapshot_event)
        )

    @staticmethod
    def _fail_snapshot(snapshot, error):
        if snapshot.timer is not None and snapshot.timer.active():
            snapshot.timer.cancel()
        snapshot.timer = None
        waiters, snapshot.waiters = snapshot.waiters, []
        for d in waiters:
            d.errback(error)

    def _fail_pending(self, sub, error):
        pending, sub.pending = sub.pending, []
        for snapshot in pending:
            self._fail_snapshot(snapshot, error)

    # -- events --------------------------------------------------------------

    def route(self, event) -> Route | None:
        """Where one SubscriptionEvent goes; None when its subscription is
        unknown. A CallSubscriptionEvent is matched to the request it
        answers (hand the route to :meth:`answer` once the model is
        synchronized); a SubscriptionTerminatedEvent subscribes again."""
        sub = self._by_id.get(event.subscription_id)
        if sub is None:
            sub = self._adopt(event)
            if sub is None:
                return None
        if event.event_type in self.package.answering:
            # the first event after a request's answer is that request's
            # (SPEC §6): every answered request still waiting takes this one
            # (two of them waiting means one event overtook its response)
            answered = [snapshot for snapshot in sub.pending if snapshot.answered]
            if answered:
                for snapshot in answered:
                    sub.pending.remove(snapshot)
                    if snapshot.timer is not None and snapshot.timer.active():
                        snapshot.timer.cancel()
                    snapshot.timer = None
                # it may also be a later request's, overtaking that one's answer
                # (an Xsi link's answers and events travel apart): it is kept
                # for it, as any event that came before its answer
                overtaking = [s for s in sub.pending if not s.answered and s.early is None]
                for snapshot in overtaking:
                    snapshot.early = event
                requesters = tuple(r for snapshot in answered for r in snapshot.requesters)
                return Route(sub.user_id, requesters, tuple(answered), True)
            for snapshot in sub.pending:
                if snapshot.early is None:
                    # most likely the answer that overtook its response
                    snapshot.early = event
                    return Route(sub.user_id, tuple(snapshot.requesters), solicited=True)
        elif event.event_type == "SubscriptionTerminatedEvent":
            self._terminated(sub)
        return sub.route

    def _adopt(self, event) -> Subscription | None:
        """The subscription a CallSubscriptionEvent of an id not known yet
        is the initial event of: its target's subscribe, still unanswered.
        With several links the event comes on the channel BroadWorks picks,
        the response on the request's link, and the event can be first.
        (An id this manager removed is never adopted: its late events are
        the old subscription's.)"""
        if event.event_type not in self.package.answering or event.subscription_id in self._removed_ids:
            return None
        sub = self._by_user.get(event.target_id)
        if sub is None or not sub.subscribing or sub.subscription_id is not None:
            return None
        self._by_id[event.subscription_id] = sub
        self._adopted[event.subscription_id] = sub
        return sub

    def answer(self, route: Route, event) -> None:
        """The snapshot ``event`` of ``route`` went through the model: its
        request's waiters get it now."""
        for snapshot in route.snapshots:
            self._resolve(route.user_id, snapshot, event)

    def held(self, event) -> bool:
        """Keep an event :meth:`route` did not know and nobody else claimed,
        while a subscribe is unanswered: perhaps its answer, which names the
        event's subscriptionId, is still on its way (an Xsi link). True when
        it is held (``replay`` gets it once an answer names its id)."""
        if (not self._subscribes_unanswered or self._replay is None
                or event.subscription_id in self._removed_ids):
            return False
        self.early_events.hold(event)
        return True

    def ignored(self, event) -> str | None:
        """Why an event :meth:`route` does not know is ignored, the first time
        for each subscription (None after): ``"removed"`` when this manager
        removed it (events already on their way), ``"ended"`` for the
        termination of one it does not hold (nothing is lost with it: a
        previous run's, replaced by this run's own), else ``"unknown"``."""
        subscription_id = event.subscription_id
        if not self._reported_ids.add(subscription_id):
            return None
        if subscription_id in self._removed_ids:
            return "removed"
        if event.event_type == "SubscriptionTerminatedEvent":
            return "ended"
        return "unknown"

    def _terminated(self, sub):
        """BroadWorks ended a subscription we still want: subscribe again."""
        lms.emit(self.log, lms.SUBSCRIPTION_TERMINATED, subscription_id=sub.subscription_id, user=sub.user_id)
        self._by_id.pop(sub.subscription_id, None)
        self._removed_ids.add(sub.subscription_id, sub.user_id)
        self.client.forget(sub.subscription_id)
        self._cancel_renewal(sub)
        sub.resubscribing()
        self._subscribe(sub)

    # -- renewal and resynchronization ------------------------------------

    def _schedule_renewal(self, sub):
        self._cancel_renewal(sub)
        if self.renew_interval and self.renew_interval > 0:
            delay = self.renew_interval + self._rng.random() * self.renew_jitter
            sub.renew_timer = self.clock.callLater(delay, self._renew, sub)

    @staticmethod
    def _cancel_renewal(sub):
        if sub.renew_timer is not None and sub.renew_timer.active():
            sub.renew_timer.cancel()
        sub.renew_timer = None

    def _renew(self, sub):
        sub.renew_timer = None
        if sub.removed or sub.subscription_id is None:
            return
        lms.emit(
            self.log,
            lms.SUBSCRIPTION_RENEWED,
            subscription_id=sub.subscription_id,
            user=sub.user_id,
            expires=self.client.subscription_expires,
        )
        self.refresh(sub.user_id).addErrback(self._refresh_failed, sub.user_id)

    def refresh(self, user_id) -> defer.Deferred:
        """UpdateSubscriptionRequest for one user; its event synchronizes as usual."""
        sub = self._by_user.get(user_id)
        if sub is None or sub.subscription_id is None:
            return defer.succeed(None)
        return self.snapshot(user_id)

    def refresh_all(self, user_ids=None, cause="link recovered") -> defer.Deferred:
        """Refresh many subscriptions with bounded concurrency (after a link
        recovered or events were lost); fires when all are done."""
        targets = [
            s.user_id
            for s in self._by_user.values()
            if s.subscription_id and (user_ids is None or s.user_id in user_ids)
        ]
        if targets:
            lms.emit(self.log, lms.RESYNCHRONIZATION_STARTED, count=len(targets), cause=cause)
        ds = [
            self._semaphore.run(self.refresh, user_id).addErrback(self._refresh_failed, user_id)
            for user_id in targets
        ]
        return defer.gatherResults(ds, consumeErrors=True).addCallback(lambda _: len(targets))

    def _refresh_failed(self, failure, user_id):
        lms.emit(self.log, lms.REFRESH_FAILED, user=user_id, error=failure.getErrorMessage())

    def user_of_subscription(self, subscription_id) -> str | None:
        sub = self._by_id.get(subscription_id)
        return sub.user_id if sub is not None else None

    def stop(self):
        """Cancel every timer and fail every waiter (no delayed call left behind)."""
        for sub in list(self._by_user.values()):
            self._cancel_renewal(sub)
            self._fail_pending(sub, SubscriptionLost("connector stopping"))
        self.early_events.stop()
