# -*- test-case-name: tests.unit.test_sim_engine -*-
"""The simulator's call engine: call halves, sessions, Advanced Call events, actions.

Pure call logic: no sockets. The clock (an ``IReactorTime``, ``task.Clock`` in
tests) is injected; it stamps the events (epoch milliseconds) and runs the
delayed work (the post-failover resync, treatments). Listeners receive one
:class:`Notification` per Xsi event per user, synchronously and in event order;
the XSP server adds the subscription envelope (eventID, sequenceNumber, ...).

The engine is built of these parts:

* ``addressing.py``: the users and where an address leads (a :class:`Route`);
* ``failover.py``: the AS pair (the active AS, its call-id space, orphans,
  who gets a resync);
* this module: the calls (``sessions.py`` holds their records) and every
  action on them. :meth:`CallEngine._deliver` is where a call to a route
  arrives, one delivery per :class:`RouteKind`;
* the contact centre (SPEC §10): ``call_centers.py`` (queues, agents),
  ``route_points.py`` (routing, treatments), ``contact_centre.py`` (what they
  share). A call to a call center or route point is delivered to it; the
  engine tells it when the agent it offered a call answers or refuses, and
  when its caller hangs up (:meth:`CallEngine._answer`, ``_release``).
  Its events are :class:`Notification` objects too, for the virtual
  subscriber (or the agent), with their package and typed ``event_data``.

Call model (SPEC §4)
--------------------
A call (a *session*) has one ``extTrackingId`` ``<n>:<k>`` and one call half per
party (``callId`` ``callhalf-<n>:<k>``); ``k`` is the Application Server's
call-id space, fresh after an ungraceful failover. A half belongs to a user
(``2001@example.com``: it gets events) or to a *network party* (an external
number: no events, driven through the control API). A half in a terminal state
(Released, Detached) is removed at once; a session goes with its last half.

Destinations (see ``addressing.py`` for the addresses)
-------------------------------------------------------
* A **user**: its phone alerts (CallReceived).
* **Unknown destination**: the caller gets CallReleasing + CallReleased with
  releaseCause ``User Not Found``.
* **Network party**: it alerts with no events; the control API answers or
  releases it (``network_answer`` / ``network_release``), and may place calls
  from it (``network_call``). remoteParty callType ``Network``.
* Anything else is refused: ``SimulatorError`` 400.

Busy rule: a destination user is busy when its ``busy`` flag is set (control
API ``POST /users/N/settings {"busy": true}``: the phone rejects every call), or
when its ``callWaiting`` setting is off and the active AS knows a call of that
user. The caller gets CallReleasing + CallReleased with releaseCause ``Busy``.
Failed calls stay in treatment for ``treatment_time`` seconds (0, the default:
released at once; ``None``: until the caller hangs up).

Hook status: a user is Off-Hook while the active AS knows a call of the user
that is not merely ringing (answered, held, dialling, in treatment). A
HookStatusEvent goes out on each change: before the CallOriginated/CallAnswered
that takes the phone off-hook, after the CallReleased that puts it on-hook.

A phone takes one active call: answering, retrieving or dialling while another
call is active first holds that call (CallHeld), like a real handset.

AS failover (``failover.py``): after an ungraceful failover the peer AS
forgets every call (:meth:`CallEngine.snapshot`, :meth:`CallEngine.calls_of`
omit them), call control on them raises ``SimulatorError`` (404,
``CALL_ORPHANED``), and a phone hang-up (:meth:`CallEngine.hang_up`, the
control API's release) removes one silently.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass

from twisted.logger import Logger
from twisted.python.failure import Failure

from csta_connector import lms
from csta_connector.broadworks import xsi_contact_centre as cc
from csta_connector.broadworks.xsi import Call, Conference, Redirect, RemoteParty
from csta_connector.broadworks.requests import ADVANCED_CALL
from csta_connector.simulator.addressing import (
    Directory,
    Route,
    RouteKind,
    local_part,
)
from csta_connector.simulator.call_centers import CallCenters
from csta_connector.simulator.contact_centre import ContactCentreSettings
from csta_connector.simulator.errors import ErrorCode, SimulatorError, bad_state, invalid
from csta_connector.simulator.failover import (
    FAILOVER_MODES,
    RESYNC_EVENTS,
    ApplicationServerPair,
)
from csta_connector.simulator.route_points import RoutePoints
from csta_connector.simulator.sessions import (
    ACTIVE,
    ALERTING,
    BUSY,
    CLICK_TO_DIAL,
    DETACHED,
    HELD,
    LOCAL_RELEASE,
    OFF_HOOK,
    ON_HOOK,
    ORIGINATOR,
    RELEASED,
    REMOTE_HELD,
    REMOTE_RELEASE,
    TEMPORARILY_UNAVAILABLE,
    TERMINATOR,
    USER_NOT_FOUND,
    CallHalf,
    Session,
)

__all__ = [
    "CallEngine",
    "ErrorCode",
    "FAILOVER_MODES",
    "Notification",
    "RESYNC_EVENTS",
    "Route",
    "RouteKind",
    "SimulatorError",
]

_DTMF = re.compile(r"^[0-9*#A-Da-d,]+$")


@dataclass(frozen=True, slots=True)
class Notification:
    """One Xsi event for one subscriber (a user, a call center, a route point),
    before the subscription envelope is added; it goes to the subscriptions of
    ``package``."""

    user_id: str
    event_type: str
    call: Call | None = None
    calls: tuple[Call, ...] = ()
    conference: Conference | None = None
    hook_status: str | None = None
    package: str = ADVANCED_CALL
    event_data: object = None  # the contact-centre packages' (xsi_contact_centre)


class CallEngine:
    """Users, an AS pair and their calls; emits Advanced Call notifications."""

    log = Logger()

    def __init__(
        self,
        clock,
        users=100,
        domain="example.com",
        first_extension=2001,
        resync_delay=1.0,
        resync_event="CallSubscriptionEvent",
        treatment_time=0.0,
        click_to_dial_auto_offhook=True,
        contact_centre: ContactCentreSettings | None = None,
    ):
        self._servers = ApplicationServerPair(resync_delay, resync_event)
        self._directory = Directory(domain, users, first_extension)
        self._clock = clock
        self.domain = domain
        self.treatment_time = treatment_time
        self.click_to_dial_auto_offhook = click_to_dial_auto_offhook
        self._listeners = []
        self._queue = deque()
        self._delivering = False
        self._delayed = []
        self._sessions = {}  # ext_tracking_id -> Session (the active AS knows)
        self._halves = {}  # call_id -> CallHalf (the active AS knows)
        self._settling = []  # work for the end of the current action (agents freed)
        self.contact_centre = contact_centre or ContactCentreSettings()
        self.call_centers = CallCenters(self, self.contact_centre)
        self.route_points = RoutePoints(self, self.contact_centre)
        self._deliveries = {
            RouteKind.USER: self._deliver_to_user,
            RouteKind.NETWORK: self._deliver_to_network,
            RouteKind.UNKNOWN: self._deliver_nowhere,
            RouteKind.CALL_CENTER: self._deliver_to_holder,
            RouteKind.ROUTE_POINT: self._deliver_to_holder,
        }

    # ---------------------------------------------------------------- listeners

    def add_listener(self, fn):
        self._listeners.append(fn)

    def remove_listener(self, fn):
        self._listeners.remove(fn)

    def _emit(self, user, event_type, **kw):
        self._queue.append(Notification(user.user_id, event_type, **kw))

    def _after(self, work):
        """Run ``work`` once the current action is complete (before its events
        go out): an agent whose call ended takes the next queued call then,
        not in the middle of the operation that ended it."""
        self._settling.append(work)

    def _flush(self):
        # Delivered after the state change is complete, in order; a listener
        # that calls back into the engine queues behind the current events.
        if self._delivering:
            return
        self._delivering = True
        try:
            while self._queue or self._settling:
                while self._settling:
                    self._settling.pop(0)()
                if not self._queue:
                    break
                notification = self._queue.popleft()
                for fn in list(self._listeners):
                    try:
                        fn(notification)
                    except Exception:
                        lms.emit(self.log, lms.SIMULATOR_LISTENER_FAILED, failure=Failure(),
                                 listener=fn, event=notification.event_type)
        finally:
            self._delivering = False

    def _action(method):
        # Every public mutator: run, then deliver what it queued, even when it
        # raised half-way (events already emitted describe real state changes).
        def wrapper(self, *args, **kw):
            try:
                return method(self, *args, **kw)
            finally:
                self._flush()

        wrapper.__name__ = method.__name__
        wrapper.__doc__ = method.__doc__
        wrapper.__qualname__ = method.__qualname__
        return wrapper

    # ------------------------------------------------------------------ helpers

    def _now(self):
        return int(self._clock.seconds() * 1000)

    def _call_later(self, delay, fn, *args):
        holder = []

        def run():
            self._delayed.remove(holder[0])
            try:
                fn(*args)
            finally:
                self._flush()

        holder.append(self._clock.callLater(delay, run))
        self._delayed.append(holder[0])
        return holder[0]

    def _cancel(self, delayed):
        if delayed is not None and delayed in self._delayed:
            self._delayed.remove(delayed)
            delayed.cancel()

    def stop(self):
        """Cancel every pending delayed call (resyncs, treatments)."""
        for delayed in self._delayed:
            delayed.cancel()
        self._delayed = []
        for half in self._halves.values():
            half.treatment = None

    def _new_session(self):
        session = Session(self._servers.new_session_id())
        self._sessions[session.ext_tracking_id] = session
        return session

    def _new_half(self, session, user, number, personality):
        call_id = self._servers.new_call_id()
        half = CallHalf(call_id, session, user, number, personality, self._now())
        session.halves.append(half)
        self._halves[call_id] = half
        if user is not None:
            user.halves.append(half)
        return half

    def _call(self, half, **override) -> Call:
        peer = half.peer
        remote = peer.party if peer is not None else half.dialled
        state = half.state
        fields = dict(
            call_id=half.call_id,
            ext_tracking_id=half.session.ext_tracking_id,
            personality=half.personality,
            state=state,
            remote_party=remote or RemoteParty(),
            release_cause=half.release_cause,
            allow_answer=half.ringing and half.personality == TERMINATOR,
            allow_retrieve=state == HELD,
            start_time=half.start_time,
            answer_time=half.answer_time,
            held_time=half.held_time if state in (HELD, REMOTE_HELD) else None,
            redirect=half.redirect,
            acd_call_info=half.acd_call_info,
        )
        fields.update(override)
        return Call(**fields)

    def _notify(self, half, event_type, **override):
        if half.user is not None:
            self._emit(half.user, event_type, call=self._call(half, **override))

    def _hook_of(self, user):
        if any(not half.ringing for half in user.halves):
            return OFF_HOOK
        return ON_HOOK

    def _sync_hook(self, user):
        if user is None:
            return
        status = self._hook_of(user)
        if status != user.hook:
            user.hook = status
            self._emit(user, "HookStatusEvent", hook_status=status)

    def _set_flags(self, half, local_held=None, remote_held=None):
        """Change hold flags; return the state before, keep heldTime right."""
        before = half.state
        if local_held is not None:
            half.local_held = local_held
        if remote_held is not None:
            half.remote_held = remote_held
        self._fix_held_time(half, before)
        return before

    def _fix_held_time(self, half, before):
        after = half.state
        if after != before:
            half.held_time = self._now() if after in (HELD, REMOTE_HELD) else None

    def _remove_half(self, half):
        session = half.session
        session.halves.remove(half)
        self._halves.pop(half.call_id, None)
        self._cancel(half.treatment)
        half.treatment = None
        user = half.user
        if user is not None:
            user.halves.remove(half)
        for other in session.halves:
            other.dialled = half.party  # what the party still sees as remote
        if not session.halves:
            self._sessions.pop(session.ext_tracking_id, None)
        if half.on_end is not None:
            end, half.on_end = half.on_end, None
            self._after(end)  # an agent's ACD call: its wrap-up
        if user is not None and not user.halves and user.user_id in self.call_centers.agents:
            self._after(lambda: self.call_centers.user_free(user))

    def _leave_conference(self, half):
        user = half.user
        if user is None or user.conference is None or half not in user.conference:
            return
        user.conference.remove(half)
        if len(user.conference) < 2:
            user.conference = None
            self._emit(
                user,
                "ConferenceReleasedEvent",
                conference=Conference(state=RELEASED),
            )

    def _released(self, half, releasing_party, **override):
        """Emit CallReleased for ``half``, remove it, tidy conference and hook."""
        now = self._now()
        self._notify(
            half,
            "CallReleasedEvent",
            state=RELEASED,
            releasing_party=releasing_party,
            release_time=now,
            allow_answer=False,
            allow_retrieve=False,
            **override,
        )
        self._remove_half(half)
        self._leave_conference(half)
        self._sync_hook(half.user)

    # -------------------------------------------------------------- addressing

    def resolve_user(self, address) -> str | None:
        """The user id an address names, or None: ``2002``, ``2002@example.com``,
        ``+15550002002``, ``tel:+15550002002``, ``sip:2002@example.com``."""
        return self._directory.resolve_user(address)

    def _is_busy(self, user):
        return user.busy or (not user.call_waiting and bool(user.halves))

    # ------------------------------------------------------------- call lookup

    def _half_of(self, user, call_id) -> CallHalf:
        half = self._halves.get(call_id)
        if half is not None and half.user is user:
            return half
        if self._servers.orphan_of(user, call_id) is not None:
            raise SimulatorError(
                404,
                ErrorCode.CALL_ORPHANED,
                "call %s was lost in the AS failover: no call control" % call_id,
            )
        raise SimulatorError(
            404,
            ErrorCode.UNKNOWN_CALL,
            "no call %s for user %s" % (call_id, user.user_id),
        )

    def _pick(self, user, call_id, accept, what):
        if call_id is not None:
            return self._half_of(user, call_id)
        for half in user.halves:
            if accept(half):
                return half
        if any(accept(half) for half in user.orphans):
            raise SimulatorError(
                404,
                ErrorCode.CALL_ORPHANED,
                "the %s call of %s was lost in the AS failover" % (what, user.user_id),
            )
        raise bad_state("user %s has no %s call" % (user.user_id, what))

    def _current(self, user, halves):
        """The call a hang-up ends: active first, then alerting, then held."""
        for wanted in (ACTIVE, ALERTING, REMOTE_HELD, HELD):
            for half in halves:
                if half.state == wanted:
                    return half
        return None

    # -------------------------------------------------------- phone operations

    def _hold_active(self, user, keep=None):
        # A phone has one active call: taking another holds the current one.
        for half in list(user.halves):
            if half is not keep and half.state in (ACTIVE, REMOTE_HELD):
                if user.conference and half in user.conference:
                    continue
                self._hold(half)

    def _hold(self, half):
        self._set_hold(half, True, "CallHeldEvent")

    def _retrieve(self, half):
        self._set_hold(half, False, "CallRetrievedEvent")

    def _set_hold(self, half, held, event_type):
        """Hold or retrieve at ``half``; its peer hears of it when its state
        changes (Remote Held is not reported over a local hold)."""
        self._set_flags(half, local_held=held)
        self._notify(half, event_type)
        peer = half.peer
        if peer is not None:
            before = self._set_flags(peer, remote_held=held)
            if peer.state != before:
                self._notify(peer, event_type)

    def _originate(self, half, route):
        """The caller's phone is off-hook and has dialled: alert the destination."""
        half.personality = ORIGINATOR
        half.dialled = route.party
        self._hold_active(half.user, keep=half)
        self._sync_hook(half.user)
        self._notify(half, "CallOriginatedEvent")
        self._deliver(half, route)

    def _deliver(self, caller, route):
        """A call from ``caller`` arrives at ``route``: the destination alerts,
        or the caller is connected to a treatment."""
        self._deliveries[route.kind](caller, route)

    def _deliver_to_user(self, caller, route):
        if self._is_busy(route.user):
            self._fail(caller, BUSY)
        else:
            callee = self._new_half(caller.session, route.user, None, TERMINATOR)
            self._notify(callee, "CallReceivedEvent")

    def _deliver_to_network(self, caller, route):
        self._new_half(caller.session, None, route.number, TERMINATOR)

    def _deliver_nowhere(self, caller, route):
        self._fail(caller, USER_NOT_FOUND)

    def _deliver_to_holder(self, caller, route):
        route.subscriber.holder.accept(caller, route)

    def _fail(self, caller, cause):
        """Connect the caller to a treatment (CallReleasing), release it later."""
        caller.release_cause = cause
        self._notify(caller, "CallReleasingEvent")
        if self.treatment_time == 0:
            self._released(caller, REMOTE_RELEASE)
        elif self.treatment_time is not None:
            caller.treatment = self._call_later(
                self.treatment_time, self._end_treatment, caller
            )

    def _end_treatment(self, caller):
        caller.treatment = None
        if caller.call_id in self._halves:
            self._released(caller, REMOTE_RELEASE)

    @_action
    def dial(self, user_id, address) -> Call:
        """The user picks up the phone and dials ``address``: the caller's half."""
        user = self._directory.user(user_id)
        route = self._directory.route(address)
        if route.user is user:
            raise invalid("%s cannot call itself" % user.user_id)
        session = self._new_session()
        half = self._new_half(session, user, None, ORIGINATOR)
        lms.emit(self.log, lms.SIMULATOR_CALL_DIALED, user=user.user_id, address=address,
                 call=session.ext_tracking_id)
        self._originate(half, route)
        return self._call(half)

    @_action
    def click_to_dial(self, user_id, address) -> Call:
        """Xsi DialRequest: CallOriginating (the user's phone rings), then
        off-hook -> CallOriginated, then the destination alerts."""
        user = self._directory.user(user_id)
        route = self._directory.route(address)
        if route.user is user:
            raise invalid("%s cannot call itself" % user.user_id)
        session = self._new_session()
        half = self._new_half(session, user, None, CLICK_TO_DIAL)
        half.dialled = route.party
        half.route = route
        self._notify(half, "CallOriginatingEvent")
        first = self._call(half)
        if self.click_to_dial_auto_offhook:
            self._originate(half, route)
        return first

    @_action
    def answer(self, user_id, call_id=None) -> Call:
        user = self._directory.user(user_id)
        half = self._pick(user, call_id, lambda h: h.ringing, "alerting")
        if not half.ringing:
            raise bad_state("call %s is not alerting" % half.call_id)
        self._answer(half)
        return self._call(half)

    def _answer(self, half):
        if half.personality == CLICK_TO_DIAL:
            self._originate(half, half.route)
            return
        if half.offer is not None:
            # a call center or route point offered it: the call leaves the queue
            half.offer.holder.answered(half.offer, half)
            return
        self._connect(half)

    def _connect(self, half):
        """``half`` answers: it and its peer are Active."""
        user = half.user
        now = self._now()
        if user is not None:
            self._hold_active(user, keep=half)
        half.base = ACTIVE
        half.answer_time = now
        self._sync_hook(user)
        self._notify(half, "CallAnsweredEvent")
        peer = half.peer
        if peer is not None:
            peer.base = ACTIVE
            if peer.answer_time is None:
                peer.answer_time = now
            self._sync_hook(peer.user)
            self._notify(peer, "CallAnsweredEvent")

    @_action
    def talk(self, user_id, call_id) -> Call:
        """Xsi TalkRequest: answer an alerting call or retrieve a held one."""
        user = self._directory.user(user_id)
        half = self._half_of(user, call_id)
        if half.ringing:
            self._answer(half)
        elif half.state == HELD:
            self._hold_active(user, keep=half)
            self._retrieve(half)
        else:
            raise bad_state("call %s is %s" % (call_id, half.state))
        return self._call(half)

    @_action
    def release(self, user_id, call_id=None, decline=False) -> None:
        """Release a call (CTI ReleaseRequest, or the phone's hang-up).

        Without ``call_id``: the current call (active, else alerting, else
        held); when it is a conference leg, the whole conference."""
        user = self._directory.user(user_id)
        if call_id is None:
            half = self._current(user, user.halves)
            if half is None:
                if user.orphans:
                    raise SimulatorError(
                        404,
                        ErrorCode.CALL_ORPHANED,
                        "the calls of %s were lost in the AS failover"
                        % user.user_id,
                    )
                raise bad_state("user %s has no call" % user.user_id)
            if user.conference and half in user.conference:
                # Hanging up ends the conference first, then each of its legs.
                legs, user.conference = list(user.conference), None
                self._emit(
                    user,
                    "ConferenceReleasedEvent",
                    conference=Conference(state=RELEASED),
                )
                for leg in legs:
                    self._release(leg)
                return
        else:
            half = self._half_of(user, call_id)
        self._release(half, decline=decline)

    def _release(self, half, decline=False):
        if half.offer is not None:
            # the agent refuses a call a call center or route point offered
            half.offer.holder.refused(half.offer, half)
            return
        peer = half.peer
        rejected = half.ringing and half.personality == TERMINATOR
        self._released(half, LOCAL_RELEASE)
        if peer is None:
            return
        if peer.held is not None:
            # the caller hung up while a call center or route point held the call
            peer.held.holder.abandoned(peer.held)
            return
        if rejected and decline:
            self._fail(peer, TEMPORARILY_UNAVAILABLE)
        else:
            self._released(peer, REMOTE_RELEASE)

    @_action
    def hang_up(self, user_id, call_id=None) -> None:
        """The user hangs up the phone (control API release).

        Unlike CTI :meth:`release`, this also ends an orphaned call: silently,
        since no AS knows it any more (both parties' media ends)."""
        user = self._directory.user(user_id)
        if call_id is None and user.conference:
            # hanging up the phone ends the user's three-way call: every leg
            for leg in list(user.conference):
                if leg.call_id in self._halves:
                    self.release(user.user_id, leg.call_id)
            return
        if call_id is None:
            half = self._current(user, user.halves)
            if half is None:
                half = self._current(user, user.orphans)
            if half is None:
                raise bad_state("user %s has no call" % user.user_id)
            if user.conference and half in user.conference:
                # hanging up the phone ends the three-way call: every leg
                self.release(user.user_id)
                return
            call_id = half.call_id
        orphan = self._servers.orphan_of(user, call_id)
        if orphan is not None:
            self._servers.drop(orphan.session)
            return
        self.release(user.user_id, call_id)

    @_action
    def hold(self, user_id, call_id=None) -> Call:
        user = self._directory.user(user_id)
        half = self._pick(
            user, call_id, lambda h: h.state in (ACTIVE, REMOTE_HELD), "active"
        )
        if half.base != ACTIVE or half.local_held:
            raise bad_state("call %s is %s" % (half.call_id, half.state))
        self._hold(half)
        return self._call(half)

    @_action
    def retrieve(self, user_id, call_id=None) -> Call:
        user = self._directory.user(user_id)
        half = self._pick(user, call_id, lambda h: h.state == HELD, "held")
        if half.state != HELD:
            raise bad_state("call %s is %s" % (half.call_id, half.state))
        self._hold_active(user, keep=half)
        self._retrieve(half)
        return self._call(half)

    @_action
    def reconnect(self, user_id, call_id) -> Call:
        """Retrieve this held call and release the user's other calls."""
        user = self._directory.user(user_id)
        half = self._half_of(user, call_id)
        if half.state != HELD:
            raise bad_state("call %s is %s" % (call_id, half.state))
        for other in list(user.halves):
            if other is not half and other.call_id in self._halves:
                self._release(other)
        self._retrieve(half)
        return self._call(half)

    @_action
    def transmit_dtmf(self, user_id, call_id, digits) -> None:
        """No event exists for DTMF: only check the call can carry it."""
        user = self._directory.user(user_id)
        half = self._half_of(user, call_id)
        if not digits or not _DTMF.match(str(digits)):
            raise invalid("invalid DTMF digits %r" % (digits,))
        if half.state != ACTIVE:
            raise bad_state("call %s is %s" % (call_id, half.state))

    # --------------------------------------------------------------- transfers

    def _check_transferable(self, user, half):
        if user.conference and half in user.conference:
            raise bad_state("call %s is in a conference" % half.call_id)
        if half.peer is None:
            raise bad_state("call %s has no remote party" % half.call_id)

    @_action
    def blind_transfer(self, user_id, call_id, address) -> None:
        """Blind transfer of an answered call, or redirect/deflect of an alerting one.

        The user: CallRedirected (half Detached, redirect reason ``transfer``
        or ``deflection``), then CallReleased. The far party: CallTransferred
        (its state goes back to Alerting) or, for a deflected call,
        CallForwarded. The destination: CallReceived."""
        user = self._directory.user(user_id)
        half = self._half_of(user, call_id)
        self._check_transferable(user, half)
        if half.offer is not None:
            raise bad_state("call %s is offered by %s: answer or refuse it" % (call_id, half.offer.holder.subscriber.user_id))
        if half.ringing and half.personality == TERMINATOR:
            reason = "deflection"
        elif half.base == ACTIVE:
            reason = "transfer"
        else:
            raise bad_state("call %s is %s" % (call_id, half.state))
        route = self._directory.route(address)
        peer = half.peer
        if route.kind is RouteKind.UNKNOWN:
            raise SimulatorError(
                404, ErrorCode.DESTINATION_NOT_FOUND, "no such destination %r" % address
            )
        if route.user is not None:
            if route.user is user or route.user is peer.user:
                raise invalid("cannot transfer %s to %r" % (call_id, address))
            if self._is_busy(route.user):
                raise SimulatorError(
                    409, ErrorCode.DESTINATION_BUSY, "destination %r is busy" % address
                )
        now = self._now()
        redirect = Redirect(reason=reason, redirect_time=now, address=route.party.address)
        redirected = self._call(
            half,
            state=DETACHED,
            redirect=redirect,
            detached_time=now,
            allow_answer=False,
            allow_retrieve=False,
        )
        self._emit(user, "CallRedirectedEvent", calls=(redirected,))
        self._released(half, LOCAL_RELEASE, detached_time=now)
        before = (peer.state, peer.session.ext_tracking_id)
        peer.base = ALERTING
        peer.remote_held = False
        self._fix_held_time(peer, before[0])
        if route.subscriber is not None:
            # into a call center or route point: it holds the call (or refuses it)
            self._deliver(peer, route)
            if peer.call_id in self._halves and peer.release_cause is None:
                self._notify(peer, "CallForwardedEvent" if reason == "deflection" else "CallTransferredEvent")
            return
        self._new_half(peer.session, route.user, route.number, TERMINATOR)
        if reason == "deflection":
            self._notify(peer, "CallForwardedEvent")
        else:
            self._notify_transferred(peer, before)
        if route.kind is RouteKind.USER:
            self._notify(peer.peer, "CallReceivedEvent")

    def _notify_transferred(self, half, before):
        # CallTransferred when the transfer changed the party's state or
        # extTrackingId (XSI schema), else CallUpdated for the new remote party.
        after = (half.state, half.session.ext_tracking_id)
        event = "CallTransferredEvent" if after != before else "CallUpdatedEvent"
        self._notify(half, event)

    @_action
    def consultative_transfer(self, user_id, call_id1, call_id2) -> None:
        """Connect the far party of ``call_id1`` to the far party of ``call_id2``.

        The user's two halves are released. The far party of call 1 joins call
        2 in the user's place (taking its extTrackingId and personality):
        CallTransferred. The far party of call 2 sees a new remote party:
        CallUpdated (CallTransferred if its state changed)."""
        user = self._directory.user(user_id)
        if call_id1 == call_id2:
            raise invalid("transfer needs two different calls")
        half1 = self._half_of(user, call_id1)
        half2 = self._half_of(user, call_id2)
        for half in (half1, half2):
            self._check_transferable(user, half)
        if half1.base != ACTIVE:
            raise bad_state("call %s is %s" % (call_id1, half1.state))
        if half2.base != ACTIVE and half2.personality != ORIGINATOR:
            raise bad_state("call %s is %s" % (call_id2, half2.state))
        far1, far2 = half1.peer, half2.peer
        if far1.user is not None and far1.user is far2.user:
            raise invalid("both calls go to %s" % far1.user.user_id)
        before1 = (far1.state, far1.session.ext_tracking_id)
        before2 = (far2.state, far2.session.ext_tracking_id)
        self._released(half1, LOCAL_RELEASE)
        self._released(half2, LOCAL_RELEASE)
        # far1 takes the user's place in call 2
        old_session = far1.session
        old_session.halves.remove(far1)
        if not old_session.halves:
            self._sessions.pop(old_session.ext_tracking_id, None)
        far1.session = half2.session
        half2.session.halves.append(far1)
        far1.personality = half2.personality
        far1.base = far2.base
        far1.remote_held = far2.local_held
        far2.remote_held = far1.local_held
        self._fix_held_time(far1, before1[0])
        self._fix_held_time(far2, before2[0])
        self._notify_transferred(far1, before1)
        self._notify_transferred(far2, before2)
        if far2.held is not None:
            far2.held.holder.caller_changed(far2.held, far1)

    # -------------------------------------------------------------- conference

    @_action
    def conference_start(self, user_id, call_ids) -> Conference:
        """Three-way (n-way) conference of the user's answered calls."""
        user = self._directory.user(user_id)
        call_ids = list(call_ids or ())
        if len(call_ids) < 2 or len(set(call_ids)) != len(call_ids):
            raise invalid("a conference needs two or more different calls")
        if user.conference:
            raise SimulatorError(
                409, ErrorCode.CONFERENCE_EXISTS, "%s already has a conference" % user_id
            )
        halves = [self._half_of(user, call_id) for call_id in call_ids]
        for half in halves:
            if half.base != ACTIVE or half.peer is None:
                raise bad_state("call %s is %s" % (half.call_id, half.state))
        for half in halves:
            if half.local_held:
                self._retrieve(half)
        user.conference = halves
        conference = self._conference(user)
        self._emit(user, "ConferenceStartedEvent", conference=conference)
        return conference

    def _conference(self, user):
        if not user.conference:
            return None
        return Conference(
            state=ACTIVE, participants=tuple(h.call_id for h in user.conference)
        )

    # ------------------------------------------------------------ network side

    def _network_half(self, number, ext_tracking_id, accept):
        local, _ = local_part(number or "")
        candidates = [
            half
            for half in list(self._halves.values()) + list(self._servers.orphan_halves.values())
            if half.user is None
            and half.held is None
            and half.number.lstrip("+") == local.lstrip("+")
            and (ext_tracking_id is None or half.session.ext_tracking_id == ext_tracking_id)
        ]
        for half in candidates:
            if accept(half):
                return half
        raise SimulatorError(
            404, ErrorCode.UNKNOWN_CALL, "no such call for network party %r" % (number,)
        )

    @_action
    def network_call(self, from_number, address) -> Call:
        """An external party calls ``address``; returns the network party's half."""
        route = self._directory.route(from_number)
        if route.kind is not RouteKind.NETWORK:
            raise invalid("%r is not a network number" % (from_number,))
        target = self._directory.route(address)
        if target.kind is RouteKind.NETWORK:
            raise invalid("network to network calls do not touch this platform")
        session = self._new_session()
        half = self._new_half(session, None, route.number, ORIGINATOR)
        half.dialled = target.party
        self._deliver(half, target)
        return self._call(half)

    @_action
    def network_answer(self, number, ext_tracking_id=None) -> Call:
        """The external party answers its alerting call."""
        half = self._network_half(
            number, ext_tracking_id, lambda h: h.ringing and not h.session.orphaned
        )
        self._answer(half)
        return self._call(half)

    @_action
    def network_release(self, number, ext_tracking_id=None) -> None:
        """The external party hangs up (orphaned calls end silently)."""
        half = self._network_half(number, ext_tracking_id, lambda h: True)
        if half.session.orphaned:
            self._servers.drop(half.session)
        else:
            self._release(half)

    def network_calls(self) -> tuple[Call, ...]:
        """The network parties' halves the active AS knows."""
        return tuple(self._call(h) for h in self._halves.values() if h.user is None and h.held is None)

    # -------------------------------------------------------------- user setup

    def set_user_options(self, user_id, busy=None, call_waiting=None) -> dict:
        user = self._directory.user(user_id)
        if busy is not None:
            user.busy = bool(busy)
        if call_waiting is not None:
            user.call_waiting = bool(call_waiting)
        return self.user_info(user.user_id)

    def user_info(self, user_id) -> dict:
        user = self._directory.user(user_id)
        return {
            "userId": user.user_id,
            "extension": user.extension,
            "number": user.number,
            "busy": user.busy,
            "callWaiting": user.call_waiting,
            "hookStatus": self._hook_of(user),
            "calls": len(user.halves),
            "orphanedCalls": len(user.orphans),
        }

    # ----------------------------------------------------------------- queries

    def calls_of(self, user_id) -> tuple[Call, ...]:
        """The user's calls the active AS knows."""
        user = self._directory.user(user_id)
        return tuple(self._call(half) for half in user.halves)

    def snapshot(self, user_id):
        """(calls, conference, hookStatus) for a CallSubscriptionEvent."""
        user = self._directory.user(user_id)
        return self.calls_of(user.user_id), self._conference(user), self._hook_of(user)

    def status(self) -> dict:
        return {
            "active_as": self._servers.active_name,
            "users": len(self._directory),
            "calls": len(self._sessions),
            "orphaned_calls": len(self._servers.orphan_sessions),
            "queued_calls": self.call_centers.queued_calls,
            "route_point_calls": self.route_points.route_point_calls,
            "agents_available": self.call_centers.agents_available,
            "app_controller": self.route_points.controller_state,
        }

    # ----------------------------------------------------- subscriptions

    def resolve_subscriber(self, address) -> str | None:
        """The id of the user, call center or route point an address names, or None."""
        user_id = self._directory.resolve_user(address)
        if user_id is not None:
            return user_id
        subscriber = self._directory.virtual(address)
        return subscriber.user_id if subscriber is not None else None

    def check_subscription(self, package, target) -> None:
        """``SimulatorError`` unless ``target`` (an id) takes a subscription to ``package``."""
        if package == ADVANCED_CALL:
            self._directory.user(target)
        elif package == cc.CALL_CENTER_AGENT:
            self.call_centers.agent(target)
        elif package == cc.CALL_CENTER_QUEUE:
            self.call_centers.center(target)
        elif package == cc.ROUTE_POINT_QUEUE:
            self.route_points.route_point(target)
        else:
            raise SimulatorError(
                400, ErrorCode.INVALID_ARGUMENT, "the simulator has no event package %r" % (package,)
            )

    def subscription_snapshot(self, package, target) -> tuple[str, dict]:
        """(event type, Notification fields) of the event that follows a
        subscription's Add or Update: CallSubscriptionEvent, ACDSubscriptionEvent,
        RoutePointSubscriptionEvent or AgentSubscriptionEvent."""
        if package == cc.CALL_CENTER_QUEUE:
            data = cc.QueueSnapshot(self.call_centers.center(target).entries())
            return "ACDSubscriptionEvent", {"event_data": data}
        if package == cc.ROUTE_POINT_QUEUE:
            data = cc.QueueSnapshot(self.route_points.route_point(target).entries())
            return "RoutePointSubscriptionEvent", {"event_data": data}
        if package == cc.CALL_CENTER_AGENT:
            return "AgentSubscriptionEvent", {"event_data": self.call_centers.agent_snapshot(target)}
        calls, conference, hook = self.snapshot(target)
        return "CallSubscriptionEvent", {"calls": tuple(calls), "conference": conference, "hook_status": hook}

    @property
    def user_ids(self) -> tuple[str, ...]:
        return self._directory.user_ids

    # ---------------------------------------------------------------- failover

    @_action
    def failover(self, mode) -> None:
        """Fail the active AS over to its peer: ``graceful`` or ``ungraceful``."""
        self._servers.switch(mode)
        if mode == "graceful":
            self._failed_over(mode)
            return  # the peer takes the calls over as they are
        resync = self._servers.orphan(self._sessions.values())
        for half in self._halves.values():
            self._cancel(half.treatment)
            half.treatment = None
        self._sessions = {}
        self._halves = {}
        for user in self._directory:
            user.halves = []
            user.conference = None
            user.hook = ON_HOOK  # what the peer AS believes; nothing is sent
        for user in resync:
            self._call_later(self._servers.resync_delay, self._resync, user)
        # queue entries are orphans too; the peer AS sends nothing for them
        # unless queue-resync-unsolicited asks it to (reference §10.6)
        holders = self.call_centers.forget_calls() + self.route_points.forget_calls()
        if self.contact_centre.resync_unsolicited:
            for holder in holders:
                self._call_later(self._servers.resync_delay, self._resync_queue, holder)
        self._failed_over(mode)

    def _failed_over(self, mode):
        lms.emit(self.log, lms.SIMULATOR_FAILOVER, mode=mode, active_as=self._servers.active_name,
                 orphaned=len(self._servers.orphan_sessions))

    def _resync(self, user):
        calls, conference, hook = self.snapshot(user.user_id)
        event_type = self._servers.resync_event
        lms.emit(
            self.log, lms.SIMULATOR_RESYNC_SENT, event_type=event_type,
            user=user.user_id, calls=len(calls),
        )
        self._emit(
            user,
            event_type,
            calls=calls,
            conference=conference,
            hook_status=hook,
        )

    def _resync_queue(self, holder):
        event_type = (
            "ACDSubscriptionResyncEvent" if holder.package == cc.CALL_CENTER_QUEUE
            else "RoutePointSubscriptionResyncEvent"
        )
        lms.emit(
            self.log, lms.SIMULATOR_RESYNC_SENT, event_type=event_type,
            user=holder.subscriber.user_id, calls=len(holder.calls),
        )
        holder.emit_snapshot(event_type)

    del _action
