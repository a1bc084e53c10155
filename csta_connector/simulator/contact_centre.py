# -*- test-case-name: tests.unit.test_sim_contact_centre -*-
"""What call centers and route points share: calls held in a queue and offered to agents.

A call to a call center or a route point (SPEC §10, reference/contact-centre.md
§10.6) keeps the caller's half and gets one more: the *held half* of the call
center or route point (its own ``callId`` from the AS id space, the call's
``extTrackingId``), which is the queue entry's ``callId``. The caller stays
Alerting (it hears the queue's treatments) until an agent answers; then the
held half goes and the caller's remote party is the agent (CallAnswered).

An offer to an agent is a third half, at the agent's phone: CallReceived with
``acdCallInfo`` and a ``redirect`` (reason ``call-center`` or ``route-point``).
The call stays in the queue while offered. The engine hands its holder the
three moments that concern it (``CallEngine._answer``, ``_release``): the
agent answers (:meth:`CallHolder.answered`), the agent refuses
(:meth:`CallHolder.refused`), the caller hangs up (:meth:`CallHolder.abandoned`).

Queue events go to the virtual subscriber's subscriptions of the holder's
package, as :class:`csta_connector.broadworks.xsi_contact_centre.QueueEntryEvent`.

After an ungraceful failover the peer AS knows no queue entry
(:meth:`CallHolder.forget_calls`): the held halves are orphans like every
half, requests on them answer ``CALL_ORPHANED``, and nothing is sent for them.
"""

from __future__ import annotations

from dataclasses import dataclass

from csta_connector import lms
from csta_connector.broadworks import xsi_contact_centre as cc
from csta_connector.broadworks.xsi import Redirect
from csta_connector.simulator.addressing import OWN_BLOCK, RouteKind, VirtualSubscriber
from csta_connector.simulator.errors import ErrorCode, SimulatorError
from csta_connector.simulator.sessions import BUSY, REMOTE_RELEASE, LOCAL_RELEASE, TERMINATOR


@dataclass(frozen=True)
class ContactCentreSettings:
    """The provisioning and behaviour of the contact centre (the ``[simulator]``
    contact-centre options, ``config._SIMULATOR_CONTACT_CENTRE``)."""

    call_centers: tuple = ()  # ((extension, (agent extension, ...)), ...)
    route_points: tuple = ()  # (extension, ...)
    initial_agent_state: str = "Sign-Out"
    queue_policy: str = "Uniform"
    queue_length: int = 25
    wrap_up_seconds: float = 0.0
    agent_state_after_call: str = "Available"
    offer_seconds: float = 20.0
    overflow_seconds: float = 0.0
    overflow_destination: str | None = None
    no_request_seconds: float = 10.0
    failed_destination: str | None = None
    admission: bool = False
    treatment_seconds: float = 5.0
    resync_unsolicited: bool = False

    @classmethod
    def from_section(cls, section) -> "ContactCentreSettings":
        """From a ``config.SimulatorSection``."""
        return cls(
            call_centers=section.call_centers,
            route_points=section.route_points,
            initial_agent_state=section.initial_agent_state,
            queue_policy=section.queue_policy,
            queue_length=section.queue_length,
            wrap_up_seconds=section.wrap_up_seconds,
            agent_state_after_call=section.agent_state_after_call,
            offer_seconds=section.offer_seconds,
            overflow_seconds=section.overflow_seconds,
            overflow_destination=section.overflow_destination,
            no_request_seconds=(
                section.no_request_seconds if section.no_request_seconds is not None
                else section.route_point_timeout
            ),
            failed_destination=section.failed_destination,
            admission=section.route_point_admission,
            treatment_seconds=section.treatment_seconds,
            resync_unsolicited=section.queue_resync_unsolicited,
        )


#: policy redirects of one call (two failed route points that send their calls
#: to each other would loop); the next policy gives busy
MAX_POLICY_REDIRECTS = 10


def provision(engine, extension, name, kind, log):
    """A call center's or route point's virtual subscriber ``EXT@DOMAIN``, its
    number in the platform's block; None (and a warning) when the extension is taken."""
    directory = engine._directory
    subscriber = VirtualSubscriber(
        "%s@%s" % (extension, directory.domain), extension, OWN_BLOCK + extension, name, kind
    )
    if not directory.add_virtual(subscriber):
        lms.emit(log, lms.SIMULATOR_EXTENSION_TAKEN, kind=kind.value, extension=extension)
        return None
    return subscriber


def check_destination(engine, option, address):
    """A policy destination of the configuration: ValueError naming the option
    now, rather than a busy caller at the first overflow or failure."""
    if address:
        try:
            engine._directory.route(address)
        except SimulatorError as e:
            raise ValueError("[simulator] %s = %r: %s" % (option, address, e.summary)) from None


def action(method):
    """A public mutator of a holder or manager: deliver what it emitted, even
    when it raised half-way (as the engine's own actions)."""

    def wrapper(self, *args, **kw):
        try:
            return method(self, *args, **kw)
        finally:
            self.engine._flush()

    wrapper.__name__ = method.__name__
    wrapper.__doc__ = method.__doc__
    wrapper.__qualname__ = method.__qualname__
    return wrapper


class HeldCall:
    """One call held by a call center or route point (its queue entry on the AS)."""

    __slots__ = ("holder", "half", "caller", "add_time", "remove_time", "bounced", "offer", "offer_timer")

    def __init__(self, holder, half, caller, now):
        self.holder = holder
        self.half = half  # the holder's own call half
        self.caller = caller  # the calling party's half
        self.add_time = now
        self.remove_time = None
        self.bounced = False
        self.offer = None  # the agent's alerting half while offered
        self.offer_timer = None

    @property
    def call_id(self) -> str:
        return self.half.call_id

    @property
    def ext_tracking_id(self) -> str:
        return self.half.session.ext_tracking_id


class CallHolder:
    """A call center or a route point: a virtual subscriber holding calls.

    Subclasses say how an entry looks (:meth:`entry`) and what happens after
    an offer ends (:meth:`_bounced`, :meth:`_answered`)."""

    package = None  # the Xsi event package of its events
    record_class = HeldCall

    def __init__(self, engine, subscriber, settings: ContactCentreSettings):
        self.engine = engine
        self.subscriber = subscriber
        self.settings = settings
        subscriber.holder = self
        self.calls: list[HeldCall] = []  # the queue, position order

    # -- the queue's view ---------------------------------------------------

    def entry(self, record, answered_by=None):
        """The typed queue entry of ``record`` (``answered_by``: the agent's half that took it)."""
        raise NotImplementedError

    def entries(self) -> tuple:
        return tuple(self.entry(record) for record in self.calls)

    def position(self, record) -> int:
        return self.calls.index(record) + 1

    def record(self, call_id):
        """The call ``call_id`` (the queue entry's callId) held here on the active AS."""
        for record in self.calls:
            if record.call_id == call_id:
                return record
        orphan = self.engine._servers.orphan_halves.get(call_id)
        if orphan is not None and orphan.held is not None and orphan.held.holder is self:
            raise SimulatorError(
                404, ErrorCode.CALL_ORPHANED, "call %s was lost in the AS failover" % call_id
            )
        raise SimulatorError(
            404, ErrorCode.UNKNOWN_CALL, "no call %s in %s" % (call_id, self.subscriber.user_id)
        )

    def record_by_tracking_id(self, ext_tracking_id):
        for record in self.calls:
            if record.ext_tracking_id == ext_tracking_id:
                return record
        return None

    def emit(self, event_type, record, entry=None, **fields):
        data = cc.QueueEntryEvent(entry if entry is not None else self.entry(record), **fields)
        self.engine._emit(self.subscriber, event_type, package=self.package, event_data=data)

    def emit_snapshot(self, event_type):
        self.engine._emit(
            self.subscriber, event_type, package=self.package, event_data=cc.QueueSnapshot(self.entries())
        )

    # -- calls in and out ---------------------------------------------------

    def take(self, caller):
        """The holder's half joins the caller's session: a record, not yet queued."""
        engine = self.engine
        half = engine._new_half(caller.session, None, None, TERMINATOR)
        record = self.record_class(self, half, caller, engine._now())
        half.held = record
        return record

    def leave(self, record, answered_by=None):
        """The call leaves the queue: its timers stop, its half goes."""
        if record in self.calls:
            self.calls.remove(record)
        record.remove_time = self.engine._now()
        self._stop_timers(record)
        half = record.half
        if half.call_id in self.engine._halves:
            self.engine._remove_half(half)
        return self.entry(record, answered_by=answered_by)

    def _stop_timers(self, record):
        self.engine._cancel(record.offer_timer)
        record.offer_timer = None

    def destination(self, address):
        """Where ``address`` leads, for a transfer out of the queue (404 for none)."""
        route = self.engine._directory.route(address)
        if route.kind is RouteKind.UNKNOWN:
            raise SimulatorError(404, ErrorCode.DESTINATION_NOT_FOUND, "no such destination %r" % (address,))
        if route.subscriber is self.subscriber:
            raise SimulatorError(400, ErrorCode.INVALID_ARGUMENT, "the call is already at %s" % address)
        return route

    def send_caller(self, record, route, reason, event_type, **fields):
        """Out of the queue to ``route``: the queue's event (with the redirect),
        then the caller is delivered there (CallForwarded)."""
        engine = self.engine
        redirect = Redirect(reason=reason, redirect_time=engine._now(), address=route.party.address)
        self.withdraw_offer(record)
        entry = self.leave(record)
        self.emit(event_type, record, entry, redirect=redirect, **fields)
        caller = record.caller
        engine._deliver(caller, route)
        if caller.call_id in engine._halves and caller.release_cause is None:
            engine._notify(caller, "CallForwardedEvent", redirect=redirect)

    def send_caller_to_policy(self, record, address, event_type, reason, **fields):
        """A policy destination (overflow, failure), else busy."""
        route = None
        if address and record.half.session.policy_redirects < MAX_POLICY_REDIRECTS:
            try:
                route = self.destination(address)
            except SimulatorError:
                route = None
        if route is not None:
            # failed destinations that lead back to a failing route point must end
            record.half.session.policy_redirects += 1
            self.send_caller(record, route, reason, event_type, **fields)
            return
        self.withdraw_offer(record)
        entry = self.leave(record)
        self.emit(event_type, record, entry, **fields)
        self.engine._fail(record.caller, BUSY)

    def release_caller(self, record, event_type, **fields):
        self.withdraw_offer(record)
        entry = self.leave(record)
        self.engine._released(record.caller, REMOTE_RELEASE)
        self.emit(event_type, record, entry, **fields)

    # -- offers to agents ---------------------------------------------------

    def offer_to(self, record, user, reason):
        """The call alerts at ``user``'s phone; it stays in the queue."""
        engine = self.engine
        now = engine._now()
        half = engine._new_half(record.half.session, user, None, TERMINATOR)
        half.offer = record
        half.redirect = Redirect(reason=reason, redirect_time=now, address=self.subscriber.party.address)
        waits = [now - r.add_time for r in self.calls]
        half.acd_call_info = cc.AcdCallInfo(
            acd_user_id=self.subscriber.user_id,
            acd_name=self.subscriber.name,
            acd_number=self.subscriber.party.address,
            num_calls_in_queue=len(self.calls),
            wait_time=(now - record.add_time) // 1000,
            calling_party_info=record.caller.party,
            longest_wait_time=max(waits) // 1000 if waits else None,
            route_point=reason == "route-point",
        )
        record.offer = half
        engine._notify(half, "CallReceivedEvent")
        if self.settings.offer_seconds > 0:
            record.offer_timer = engine._call_later(self.settings.offer_seconds, self._offer_timed_out, record, half)
        return half

    def withdraw_offer(self, record, releasing=REMOTE_RELEASE):
        """The offered agent's phone stops alerting (its half is released)."""
        half = record.offer
        if half is None:
            return None
        record.offer = None
        self.engine._cancel(record.offer_timer)
        record.offer_timer = None
        half.offer = None
        if half.call_id in self.engine._halves:
            self.engine._released(half, releasing)
        return half

    def _offer_timed_out(self, record, half):
        record.offer_timer = None
        if record.offer is half:
            self.withdraw_offer(record)
            record.bounced = True
            self._bounced(record, half.user)

    # -- the engine's hooks ------------------------------------------------

    def answered(self, record, half):
        """The offered agent answers: the call leaves the queue, the agent and
        the caller are connected."""
        record.offer = None
        self.engine._cancel(record.offer_timer)
        record.offer_timer = None
        half.offer = None
        entry = self.leave(record, answered_by=half)
        self.engine._connect(half)
        self._answered(record, half, entry)

    def refused(self, record, half):
        """The offered agent rejects the call (a release while alerting)."""
        record.offer = None
        self.engine._cancel(record.offer_timer)
        record.offer_timer = None
        half.offer = None
        self.engine._released(half, LOCAL_RELEASE)
        record.bounced = True
        self._bounced(record, half.user)

    def abandoned(self, record):
        """The caller hung up while its call was held here (the caller's half is gone)."""
        self.withdraw_offer(record)
        self._abandoning(record)
        entry = self.leave(record)
        self.emit(self._abandoned_event, record, entry)

    def caller_changed(self, record, caller):
        """A transfer put another party in the caller's place."""
        record.caller = caller
        self.emit(self._updated_event, record, reason="Call Transferred")

    def forget_calls(self):
        """The active AS lost every call (ungraceful failover): the records stay
        on the orphaned halves only. Returns whether any call was held."""
        held = bool(self.calls)
        for record in self.calls:
            self._stop_timers(record)
            record.offer = None
        self.calls = []
        return held

    # -- subclass parts -----------------------------------------------------

    _abandoned_event = None
    _updated_event = None

    def _abandoning(self, record):
        """Before the abandon leaves the queue (a route point stops its treatment)."""

    def _bounced(self, record, user):
        raise NotImplementedError

    def _answered(self, record, half, entry):
        raise NotImplementedError

