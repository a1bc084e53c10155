# -*- test-case-name: tests.unit.test_route_points -*-
"""Route points: CSTA routeing devices, the routeing dialogue, treatments
(SPEC §10; reference/contact-centre.md §10.2, §10.3.2, §10.4.4, §10.4.5,
§10.5; issue 15).

The contact centre (``services/contact_centre.py``) hands over the events of
the ``Route Point Queue`` package and the route point services; this module
does the rest:

* **Monitoring**: a route point's monitors and its routeing registrations
  hold one reference counted ``Route Point Queue`` subscription each (one
  :class:`SubscriptionManager`); its events -> ``model/route_points.py`` ->
  ``translate_route_points.py`` -> the route point's monitors (Queued,
  Delivered, Diverted, ConnectionCleared, PlayEvent, StopEvent,
  OutOfService...). A RoutePointSubscriptionEvent (and its Resync variant)
  synchronizes the held calls as a queue's (a stuck call: ConnectionCleared,
  LMS 37205, RouteEnd with an error to its routeing client) and answers a
  SnapshotDevice.
* **The routeing dialogue** (state: ``model/routeing.py``): RouteRegister /
  RouteRegisterCancel (one registration per client and device; the first
  registered owns a route point's routeing, the next takes over when it
  goes; RouteRegisterAbort when the subscription is lost); a RouteRequest to
  the owner for each call added (and each one synchronization finds);
  RouteSelect -> RoutePointDistributeCallRequest (a user) or
  RoutePointBlindTransferRequest (any other destination; ``route-select``);
  RouteUsed and RouteEnd when the call went there; ReRoute when the agent
  did not answer, within ``route-retries``; RouteEnd with an error when
  BroadWorks refuses (then a fresh RouteRequest while retries last, else the
  call is failed), the caller hangs up, the inactivity timer fires, or a
  policy takes the call; the client's RouteEnd / RouteReject ->
  RoutePointFailCallRequest. One-way operations are never answered on
  success: a refused one gets its CSTA error.
* **Treatments**: PlayMessage "0".."4" -> the five RoutePointPlay*Requests
  (the extension keys of docs/protocols.md; the running playCollectId
  reused for the same kind); PlayEvent and StopEvent from their events.
* **The application controller** (``[Connector] app-controller``):
  SetApplicationControllerStateRequest ``ready`` while some client holds a
  routeing registration, ``not ready`` when the last one goes and at
  shutdown; sent again after a link recovered.
* **Failover**: renewal, refresh, snapshots and the proactive resync wave
  (a :class:`~csta_connector.services.resync.HeldCalls` target) find the
  stuck calls.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from twisted.internet import defer
from twisted.logger import Logger

from csta_connector import lms
from csta_connector.broadworks import xsi_contact_centre as cc
from csta_connector.broadworks.errors import BroadWorksRequestError
from csta_connector.csta import messages as m
from csta_connector.csta.server import CLOSED, CSTARequestError
from csta_connector.model.queues import EntryOffered, EntryQueued
from csta_connector.model.route_points import PlayStarted, PlayStopped, RoutePointModel, RoutePointStateChanged
from csta_connector.model.routeing import (
    OUT_OF_SERVICE,
    ROUTEING_TIMER_EXPIRED,
    Action,
    Dialogue,
    Dialogues,
    DialogueState,
    Registrations,
    outcome,
)
from csta_connector.services import translate_contact_centre, translate_route_points as translate
from csta_connector.services.callcontrol import HeldCallDestinations, broadworks_error_to_csta, snapshot_error_to_csta
from csta_connector.services.devices import DeviceKind
from csta_connector.services.fanout import PLACEHOLDER
from csta_connector.services.resync import HeldCalls, call_unknown_to_broadworks
from csta_connector.services.subscriptions import EventPackage

ROUTE_POINT_QUEUE_PACKAGE = EventPackage(
    cc.ROUTE_POINT_QUEUE,
    frozenset({"RoutePointSubscriptionEvent"}),
    # the Resync variant synchronizes like the solicited event, answering no request
    frozenset({"RoutePointSubscriptionEvent", "RoutePointSubscriptionResyncEvent"}),
)

#: the CSTA services served here (the core hands them over with the session)
SERVICES = frozenset(
    {"RouteRegister", "RouteRegisterCancel", "RouteSelectRequest", "RouteEndRequest", "RouteReject", "PlayMessage"}
)

READY, NOT_READY = cc.APPLICATION_CONTROLLER_STATES

#: an extension has at most this many digits: a longer number is no user
#: (``route-select = auto`` blind-transfers to it)
EXTENSION_DIGITS = 6

#: every-device registrations cover the configured route points, at most this many
MAX_EVERY_DEVICE_TARGETS = 1000

#: upper bounds (seconds) of the RouteRequest -> RouteSelect latency buckets
SELECT_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

@dataclass(frozen=True)
class RouteingSettings:
    """``[Connector] app-controller`` and the ``[contact-centre]`` routeing options."""

    app_controller: str | None = None
    route_select: str = "auto"  # auto | distribute | transfer
    route_retries: int = 1
    route_reply_timeout: int | None = None
    admit_calls: bool = True

    @classmethod
    def from_config(cls, config) -> "RouteingSettings":
        section = config.contact_centre
        return cls(
            app_controller=config.connector.app_controller,
            route_select=section.route_select,
            route_retries=section.route_retries,
            route_reply_timeout=section.route_reply_timeout,
            admit_calls=section.admit_calls,
        )


class RouteingStats:
    """What the routeing dialogues did (metrics, benchmarks): counts, and the
    latency from each RouteRequest / ReRoute to the client's RouteSelect."""

    __slots__ = (
        "requests", "reroutes", "selects", "routed", "ended_with_error", "refused", "timeouts",
        "calls_failed", "plays", "latency_buckets", "latency_sum",
    )

    def __init__(self):
        self.requests = 0  # RouteRequests sent
        self.reroutes = 0  # ReRouteRequests sent
        self.selects = 0  # RouteSelects taken
        self.routed = 0  # RouteEnds without an error: the call went where the client chose
        self.ended_with_error = 0  # RouteEnds with an error
        self.refused = 0  # RouteSelects BroadWorks refused
        self.timeouts = 0  # calls the route point's inactivity timer failed while routed
        self.calls_failed = 0  # RoutePointFailCallRequests sent
        self.plays = 0  # PlayMessage requests sent
        self.latency_buckets = [0] * (len(SELECT_LATENCY_BUCKETS) + 1)
        self.latency_sum = 0.0

    def selected(self, seconds: float) -> None:
        self.selects += 1
        self.latency_buckets[bisect.bisect_left(SELECT_LATENCY_BUCKETS, seconds)] += 1
        self.latency_sum += seconds

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__slots__ if not name.startswith("latency")}


def _error_of(failure, about="destination") -> tuple[str, str]:
    """(category, value) of the CSTA error closest to a BroadWorks failure."""
    try:
        broadworks_error_to_csta(failure, about)
    except CSTARequestError as refused:
        return refused.error.category, refused.error.value
    return "systemResourceAvailability", "generic"


class RoutePoints:
    """Every subscribed route point: its held calls, registrations, dialogues."""

    log = Logger()

    def __init__(
        self,
        client,
        clock,
        monitors,
        manager,
        user_of,
        device_of,
        devices,
        synchronize,
        settings: RouteingSettings | None = None,
        *,
        call_known=lambda call_id: False,
        detail=lms.EVERY_LEVEL,
        resync=None,
    ):
        """``manager(package, refused=...)``: makes the package's
        SubscriptionManager; ``synchronize(model, device, user_id, event,
        requesters)``: the contact centre's synchronization of a queue-like
        model (LMS 37205..., the events to every monitor but the
        requesters), returning its result; ``call_known(call_id)``: whether
        a user's party of that call is known; ``resync``: the proactive
        resync (the route points holding calls join its waves)."""
        self.client = client
        self.clock = clock
        self.monitors = monitors
        self.user_of = user_of
        self.device_of = device_of
        self.devices = devices
        self._synchronize = synchronize
        self.settings = settings or RouteingSettings()
        self.detail = detail
        self.resync = resync
        self.manager = manager(ROUTE_POINT_QUEUE_PACKAGE, refused=self._subscription_refused)
        self.model = RoutePointModel(device_of, call_known=call_known)
        self.registrations = Registrations()
        self.dialogues = Dialogues()
        self.stats = RouteingStats()
        # the peer AS sends nothing for route points: each one holding calls is refreshed
        self.target = HeldCalls("route point", self.manager, self.holds_calls, device_of)
        #: entry id -> the destination a client chose for the held call
        self._destinations = HeldCallDestinations()
        self._controller_state: str | None = None  # as BroadWorks last accepted it
        self._controller_sending: str | None = None
        self._controller_again = False
        self._stopped = False

    # -- events -----------------------------------------------------------------------

    def event(self, route, event) -> None:
        """One event of a Route Point Queue subscription (routed by the manager)."""
        device = self.device_of(route.user_id)
        event_type = event.event_type
        if event_type in ROUTE_POINT_QUEUE_PACKAGE.snapshots:
            result = self._synchronize(self.model, device, route.user_id, event, route.requesters)
            self._synchronized(result)
            if self.resync is not None:
                self.resync.synchronized(self.target, route.user_id, event_type, route.solicited, len(result.cleared))
            self.manager.answer(route, event)
            return
        data = event.event_data
        if data is None:
            return  # SubscriptionTerminatedEvent: the manager subscribes again
        if event_type == "RoutePointNewCallEvent":
            self._admit(route.user_id, device, data)
            return
        changes = self.model.apply(event, device, self._destinations)
        if not changes:
            return
        if self.monitors.is_monitored(device):
            self.monitors.deliver(device, translate.translate_all(changes, PLACEHOLDER))
        failure_reason = getattr(data, "failure_reason", None)
        for change in changes:
            self._changed(change, failure_reason)

    def _changed(self, change, failure_reason):
        """What one change of a held call does to its routeing dialogue."""
        kind = type(change)
        if kind is PlayStarted or kind is PlayStopped:
            return
        if kind is RoutePointStateChanged:
            lms.emit(
                self.log, lms.ROUTE_POINT_SERVICE_CHANGED, device=change.device,
                state="back in service" if change.in_service else "out of service",
                event_type=change.event_type, reason=", %s" % change.reason if change.reason else "",
            )
            return
        connection = change.connection
        if kind is EntryQueued:
            self._route(connection)
            return
        dialogue = self.dialogues.of_call(connection.device, connection.entry_id)
        if dialogue is None:
            if kind is EntryOffered and change.event_type == "RoutePointCallBouncedEvent":
                self._route(connection)  # back, and nobody routes it (its routeing client went)
            return
        result = outcome(dialogue, change, failure_reason)
        if result is not None:
            self._act(dialogue, result, connection)

    def _synchronized(self, result) -> None:
        """After a route point's synchronization: a stuck call's dialogue
        ends with an error (its treatment is forgotten with it); a call found
        is routed."""
        for connection, _ in result.cleared:
            dialogue = self.dialogues.of_call(connection.device, connection.entry_id)
            if dialogue is not None:
                self._end(dialogue, OUT_OF_SERVICE, "cleared by synchronization (AS failover)")
        for connection in result.added:
            self._route(connection)

    # -- the dialogue ---------------------------------------------------------------------

    def _live(self, dialogue: Dialogue) -> bool:
        registration = dialogue.registration
        return (
            self.registrations.get(registration.register_id) is registration
            and registration.session.state != CLOSED
        )

    def _send(self, dialogue: Dialogue, message) -> None:
        """A message of the dialogue to its routeing client (nothing once it went)."""
        if self._live(dialogue):
            dialogue.registration.session.send_request(message)

    def _route(self, connection, retries=None) -> Dialogue | None:
        """A held call that needs routeing: a RouteRequest to its route
        point's owner, if some client routes it (else it waits for
        BroadWorks' failure policy)."""
        if connection.offered_to is not None or self.dialogues.of_call(connection.device, connection.entry_id):
            return None  # being offered, or routed already
        owner = self.registrations.owner(connection.device)
        if owner is None or owner.session.state == CLOSED:
            return None
        dialogue = self.dialogues.open(
            connection.device, connection.entry_id, connection.call_id, owner,
            self.settings.route_retries if retries is None else retries, self.clock.seconds(),
        )
        self.stats.requests += 1
        if self.detail.wants(lms.ROUTE_REQUEST_SENT):
            lms.emit(
                self.log, lms.ROUTE_REQUEST_SENT, device=connection.device, cross_ref_id=dialogue.cross_ref_id,
                call_id=connection.call_id, client=owner.session.name, register_id=owner.register_id,
            )
        owner.session.send_request(
            translate.route_request(dialogue, connection.calling, self.settings.route_reply_timeout)
        )
        return dialogue

    def _ended(self, dialogue, result):
        self.dialogues.close(dialogue)
        if self.detail.wants(lms.ROUTE_ENDED):
            lms.emit(
                self.log, lms.ROUTE_ENDED, device=dialogue.device, cross_ref_id=dialogue.cross_ref_id,
                call_id=dialogue.call_id, result=result,
            )

    def _end(self, dialogue, error, why):
        """RouteEnd with ``error`` (unless the client ended it itself)."""
        client_ended = dialogue.state is DialogueState.CLIENT_ENDED
        self._ended(dialogue, why)
        if not client_ended:
            self.stats.ended_with_error += 1
            self._send(dialogue, translate.route_end(dialogue, error))

    def _act(self, dialogue: Dialogue, result, connection) -> None:
        action = result.action
        if action is Action.SUCCEEDED:
            if dialogue.route_used_req:
                self._send(dialogue, translate.route_used(dialogue, connection.calling))
            self._ended(dialogue, "routed to %s" % dialogue.selected)
            self.stats.routed += 1
            self._send(dialogue, translate.route_end(dialogue))
        elif action is Action.REROUTE:
            if not self._live(dialogue):
                # its routeing client went: the call goes to the owner now, if any
                self._ended(dialogue, "not answered; its routeing client went")
                self._route(connection, dialogue.retries - 1)
                return
            dialogue.retries -= 1
            dialogue.state = DialogueState.REQUESTED
            dialogue.selected = None
            dialogue.asked_at = self.clock.seconds()
            self.stats.reroutes += 1
            self._send(dialogue, translate.reroute(dialogue, self.settings.route_reply_timeout))
        elif action is Action.FAIL:
            self._end(dialogue, result.error, "failed: %s not answered, no retry left" % dialogue.selected)
            self._fail_call(connection.device, connection.entry_id, connection.call_id,
                            "%s did not answer and no retry is left" % dialogue.selected)
        else:
            if result.error == ROUTEING_TIMER_EXPIRED and dialogue.state is not DialogueState.CLIENT_ENDED:
                self.stats.timeouts += 1
                lms.emit(
                    self.log, lms.ROUTE_TIMED_OUT, device=dialogue.device, call_id=dialogue.call_id,
                    cross_ref_id=dialogue.cross_ref_id, client=dialogue.registration.session.name,
                )
            if result.error is None:
                self._ended(dialogue, "the call left the route point")
            else:
                self._end(dialogue, result.error, "%s/%s" % result.error)

    def _fail_call(self, device, entry_id, call_id, why, dialogue=None):
        """RoutePointFailCallRequest: the route point's failure policy now."""
        self.stats.calls_failed += 1
        lms.emit(self.log, lms.ROUTE_CALL_FAILED, device=device, call_id=call_id, why=why)
        d = self.client.route_point_fail(self.user_of(device), entry_id)

        def refused(failure):
            offered = failure.check(BroadWorksRequestError) and failure.value.status_code == 409
            if offered and dialogue is not None:
                dialogue.fail_when_back = True  # failed once the agent lets it go
            lms.emit(
                self.log, lms.ROUTE_FAIL_REFUSED, device=device, call_id=call_id, error=failure.getErrorMessage(),
                then="failed when it comes back unanswered" if offered and dialogue is not None
                else "BroadWorks' own policy decides",
            )

        d.addErrback(refused)

    # -- services (the core hands them over with the session) ----------------------

    def handle(self, session, request):
        return getattr(self, "csta_" + type(request).__name__)(session, request)

    def csta_RouteRegister(self, session, request: m.RouteRegister):
        if request.routeing_device:
            if self.devices.kind_of(request.routeing_device) is not DeviceKind.ROUTE_POINT:
                raise CSTARequestError(
                    "operation", "requestIncompatibleWithObject",
                    "%s is no routeing device" % request.routeing_device,
                )
            key = self.device_of(request.routeing_device)
            targets = [(key, self.user_of(request.routeing_device))]
        else:
            key = None
            targets = [(self.device_of(d), self.user_of(d)) for d in self._every_route_point()]
            if not targets:
                raise CSTARequestError("operation", "invalidDeviceID", "no route point is configured by id")
        existing = self.registrations.find(session, key)
        if existing is not None:
            return m.RouteRegisterResponse(route_register_req_id=existing.register_id)
        acquired = defer.DeferredList(
            [self.manager.acquire(user, requester=session) for _, user in targets], consumeErrors=True
        )

        def subscribed(results):
            held = [target for target, (ok, _) in zip(targets, results) if ok]
            failures = [value for ok, value in results if not ok]
            if not held:
                return self._refused_register(failures[0], key)
            if session.state == CLOSED or self.registrations.find(session, key) is not None:
                for _, user in held:
                    self._release(user)
                if session.state == CLOSED:
                    raise CSTARequestError("operation", "generic", "client gone")
                return m.RouteRegisterResponse(route_register_req_id=self.registrations.find(session, key).register_id)
            registration = self.registrations.add(session, key, held)
            owner = self.registrations.owner(held[0][0])
            lms.emit(
                self.log, lms.ROUTE_REGISTERED, client=session.name, register_id=registration.register_id,
                device=key or "every route point",
                role="it routes" if owner is registration else "standing by behind registration %s of %s"
                % (owner.register_id, owner.session.name),
            )
            # after the response is written: its RouteRequests name its id
            self.clock.callLater(0, self._registered, registration)
            return m.RouteRegisterResponse(route_register_req_id=registration.register_id)

        return acquired.addCallback(subscribed)

    @staticmethod
    def _refused_register(failure, key):
        if failure.check(BroadWorksRequestError) and failure.value.status_code == 404:
            raise CSTARequestError("operation", "invalidDeviceID", "unknown route point %s" % key)
        return broadworks_error_to_csta(failure, "device")

    def _every_route_point(self) -> list[str]:
        """The configured route points an every-device registration covers
        (ids, and the numbers of ranges; ``*`` names none)."""
        ids = self.devices.route_points
        found = list(dict.fromkeys(sorted(ids.ids)))
        for first, last in ids.ranges:
            found.extend(str(n) for n in range(first, min(last, first + MAX_EVERY_DEVICE_TARGETS) + 1))
        return list(dict.fromkeys(found))[:MAX_EVERY_DEVICE_TARGETS]

    def _registered(self, registration) -> None:
        if self.registrations.get(registration.register_id) is not registration or self._stopped:
            return
        for device, _ in registration.targets:
            if self.registrations.owner(device) is registration:
                self._route_waiting(device)
        self._update_controller()

    def _route_waiting(self, device) -> None:
        for connection in self.model.connections_of(device):
            self._route(connection)

    def csta_RouteRegisterCancel(self, session, request: m.RouteRegisterCancel):
        registration = self.registrations.get(request.route_register_req_id)
        if registration is None or registration.session is not session:
            raise CSTARequestError(
                "operation", "invalidRouteRegistrationCrossRefID",
                "no routeing registration %s of this client" % request.route_register_req_id,
            )
        self._registration_gone(registration, "cancelled")
        return m.RouteRegisterCancelResponse()

    def session_closed(self, session) -> None:
        for registration in self.registrations.of_session(session):
            self._registration_gone(registration, "client gone")

    def _registration_gone(self, registration, why, release=True) -> None:
        """A registration ends: the next registration of each of its route
        points takes over, with a fresh RouteRequest for each call waiting."""
        self.registrations.remove(registration)
        moved = 0
        for device, user in registration.targets:
            owner = self.registrations.owner(device)
            for dialogue in self.dialogues.of_device(device):
                if dialogue.registration is registration and dialogue.state is DialogueState.REQUESTED:
                    # not chosen yet: chosen by the next one (or BroadWorks' policy)
                    self.dialogues.close(dialogue)
                    moved += 1
            if owner is not None and not self._stopped:
                lms.emit(self.log, lms.ROUTEING_TAKEN_OVER, device=device, register_id=owner.register_id,
                         client=owner.session.name)
                self._route_waiting(device)
            if release:
                self._release(user)
        lms.emit(
            self.log, lms.ROUTE_REGISTRATION_ENDED, client=registration.session.name,
            register_id=registration.register_id, device=registration.device or "every route point", why=why,
            dialogues=moved, then="moved to the next registration" if len(self.registrations) else
            "left to BroadWorks' failure policy",
        )
        self._update_controller()

    def _subscription_refused(self, user_id, failure) -> None:
        """BroadWorks refused a Route Point Queue subscribe: a subscription
        it had ended is lost. Registrations of that route point alone get
        RouteRegisterAbort; its dialogues end with an error."""
        device = self.device_of(user_id)
        for dialogue in self.dialogues.of_device(device):
            self._end(dialogue, OUT_OF_SERVICE, "subscription lost")
        for registration in list(self.registrations):
            if not registration.covers(device):
                continue
            if registration.device == device:
                lms.emit(self.log, lms.ROUTE_REGISTER_ABORTED, device=device,
                         register_id=registration.register_id, client=registration.session.name)
                if registration.session.state != CLOSED:
                    registration.session.send_request(
                        m.RouteRegisterAbort(route_register_req_id=registration.register_id)
                    )
                self._registration_gone(registration, "subscription lost", release=False)
            else:
                registration.targets = tuple(t for t in registration.targets if t[0] != device)
        self._forget_device(device)

    def _dialogue_of(self, session, request) -> Dialogue:
        dialogue = self.dialogues.by_cross_ref(request.routing_cross_ref_id)
        if dialogue is None or dialogue.registration.session is not session:
            raise CSTARequestError(
                "operation", "invalidRouteingCrossRefID", "no routeing dialogue %s" % request.routing_cross_ref_id
            )
        if request.route_register_req_id and request.route_register_req_id != dialogue.registration.register_id:
            raise CSTARequestError(
                "operation", "invalidRouteRegistrationCrossRefID",
                "dialogue %s is not of registration %s" % (request.routing_cross_ref_id, request.route_register_req_id),
            )
        return dialogue

    def csta_RouteSelectRequest(self, session, request: m.RouteSelectRequest):
        dialogue = self._dialogue_of(session, request)
        if dialogue.state is not DialogueState.REQUESTED:
            raise CSTARequestError(
                "stateIncompatibility", "invalidObjectState",
                "dialogue %s is %s, not awaiting a RouteSelect" % (dialogue.cross_ref_id, dialogue.state.value),
            )
        destination = (request.route_selected or "").strip()
        if not destination:
            raise CSTARequestError("operation", "invalidDestination", "empty routeSelected")
        self.stats.selected(self.clock.seconds() - dialogue.asked_at)
        if request.remain_retries is not None:
            dialogue.retries = max(0, request.remain_retries)
        dialogue.state = DialogueState.SELECTED
        dialogue.selected = destination
        dialogue.route_used_req = bool(request.route_used_req)
        route_point = self.user_of(dialogue.device)
        distribute = self._distributes_to(destination)
        self._destinations.ask(dialogue.entry_id, destination)
        if distribute:
            name = "RoutePointDistributeCallRequest"
            d = self.client.route_point_distribute(route_point, dialogue.entry_id, self.user_of(destination))
        else:
            name = "RoutePointBlindTransferRequest"
            d = self.client.route_point_blind_transfer(route_point, dialogue.entry_id, destination)
        if self.detail.wants(lms.ROUTE_SELECTED):
            lms.emit(self.log, lms.ROUTE_SELECTED, device=dialogue.device, cross_ref_id=dialogue.cross_ref_id,
                     call_id=dialogue.call_id, destination=destination, request=name)
        d.addCallbacks(self._select_accepted, self._select_refused, (dialogue,), None, (dialogue, name))
        return None  # one-way: the dialogue tells the rest

    def _distributes_to(self, destination) -> bool:
        """Whether a RouteSelect to ``destination`` distributes the call (to a
        user), rather than blind-transferring it (``route-select``)."""
        choice = self.settings.route_select
        if choice != "auto":
            return choice == "distribute"
        if self.devices.kind_of(destination) is not DeviceKind.USER:
            return False
        local, at, _ = destination.partition("@")
        return bool(at) or (local.isdigit() and len(local) <= EXTENSION_DIGITS)

    def _select_accepted(self, _, dialogue):
        if dialogue.state is DialogueState.SELECTED:
            dialogue.state = DialogueState.ROUTED  # its events may have ended it first

    def _select_refused(self, failure, dialogue, request_name):
        if dialogue.state is not DialogueState.SELECTED:
            return None  # the call left meanwhile: that ended the dialogue
        self._destinations.forget(dialogue.entry_id, dialogue.selected)
        self.stats.refused += 1
        error = _error_of(failure)
        connection = self.model.entry(dialogue.entry_id)
        unknown = call_unknown_to_broadworks(failure, "destination")
        if unknown or connection is None:
            then = "the call is no longer at the route point"
        elif dialogue.retries > 0:
            then = "a new RouteRequest"
        else:
            then = "the call is failed"
        lms.emit(
            self.log, lms.ROUTE_SELECT_REFUSED, device=dialogue.device, request=request_name,
            call_id=dialogue.call_id, destination=dialogue.selected, error=failure.getErrorMessage(),
            error_value="%s/%s" % error, client=dialogue.registration.session.name, then=then,
        )
        self._end(dialogue, error, "%s refused" % request_name)
        if unknown:
            if self.resync is not None and connection is not None:
                # an AS failover lost it: the route point is refreshed now
                self.resync.call_unknown(self.target, self.user_of(dialogue.device), request_name, dialogue.call_id)
        elif connection is not None:
            if dialogue.retries > 0:
                self._route(connection, dialogue.retries - 1)
            else:
                self._fail_call(connection.device, connection.entry_id, connection.call_id,
                                "%s refused and no retry is left" % request_name)
        return None

    def _client_ends(self, session, request, what):
        dialogue = self._dialogue_of(session, request)
        if dialogue.state is DialogueState.CLIENT_ENDED:
            return None
        dialogue.state = DialogueState.CLIENT_ENDED
        if self.detail.wants(lms.ROUTE_ENDED):
            lms.emit(self.log, lms.ROUTE_ENDED, device=dialogue.device, cross_ref_id=dialogue.cross_ref_id,
                     call_id=dialogue.call_id, result="by the client (%s)" % what)
        connection = self.model.entry(dialogue.entry_id)
        if connection is None:
            self.dialogues.close(dialogue)
        else:
            self._fail_call(dialogue.device, dialogue.entry_id, dialogue.call_id,
                            "the routeing client's %s" % what, dialogue)
        return None

    def csta_RouteEndRequest(self, session, request: m.RouteEndRequest):
        """The client ends the dialogue: the call is failed (the failed destination)."""
        return self._client_ends(session, request, "RouteEnd")

    def csta_RouteReject(self, session, request: m.RouteReject):
        return self._client_ends(session, request, "RouteReject %s" % (request.reject_cause or ""))

    # -- treatments ------------------------------------------------------------------

    def csta_PlayMessage(self, session, request: m.PlayMessage):
        connection = request.over_connection
        if (
            connection is None or not connection.device_id or not connection.call_id
            or self.devices.kind_of(connection.device_id) is not DeviceKind.ROUTE_POINT
        ):
            raise CSTARequestError("operation", "invalidConnectionID", "not a connection at a route point")
        device = self.device_of(connection.device_id)
        held = self.model.connection(connection.call_id, device)
        if held is None:
            raise CSTARequestError(
                "operation", "invalidConnectionID", "no call (%s, %s) at the route point" % (connection.call_id, device)
            )
        play = play_request(request)
        running = self.model.play_of(held.entry_id)
        if running is not None and running[0] and running[1] == request.message_to_be_played and (
            play.kind.play_collect_type != "Treatment"
        ):
            play = play._replace(play_collect_id=running[0])  # extends the one running
        self.stats.plays += 1
        d = self.client.route_point_play(self.user_of(connection.device_id), held.entry_id, play)
        d.addErrback(broadworks_error_to_csta)

        def played(play_collect_id):
            if play_collect_id:
                self.model.play_answered(held.entry_id, play_collect_id, request.message_to_be_played)
            return m.PlayMessageResponse()

        return d.addCallback(played)

    # -- monitors, snapshots, call control (the core's hooks) -----------------------------

    def monitor(self, user_id, requester) -> defer.Deferred:
        """The Route Point Queue subscription of a new route point monitor."""
        return self.manager.acquire(user_id, requester=requester)

    def monitor_gone(self, device, user_id) -> defer.Deferred:
        return self._release(user_id)

    def _release(self, user_id) -> defer.Deferred:
        d = self.manager.release(user_id)
        if not self.manager.is_monitored(user_id):
            self._forget_device(self.device_of(user_id))
        return d

    def _forget_device(self, device) -> None:
        """Nobody holds the route point's subscription any more: nothing
        keeps its calls up to date."""
        for dialogue in self.dialogues.of_device(device):
            self.dialogues.close(dialogue)
        for connection in self.model.remove_device(device):
            self._destinations.pop(connection.entry_id, None)

    def snapshot(self, session, request: m.SnapshotDevice) -> defer.Deferred:
        """SnapshotDevice of a route point: UpdateSubscriptionRequest, answered
        from the RoutePointSubscriptionEvent it causes."""
        device = self.device_of(request.device)
        user = self.user_of(request.device)
        d = self.manager.snapshot(user, requester=session)

        def answered(event):
            if not self.manager.is_monitored(user):
                self._forget_device(device)  # a temporary subscription's
            return translate_contact_centre.queue_snapshot_response(event, device)

        return d.addCallbacks(answered, snapshot_error_to_csta, errbackArgs=(device,))

    def connection_service(self, request, connection):
        """ClearConnection / DeflectCall / SingleStepTransferCall on a call held
        at a route point -> RoutePointReleaseCallRequest /
        RoutePointBlindTransferRequest."""
        device = self.device_of(connection.device_id)
        held = self.model.connection(connection.call_id, device)
        if held is None:
            raise CSTARequestError(
                "operation", "invalidConnectionID", "no call (%s, %s) at the route point" % (connection.call_id, device)
            )
        route_point = self.user_of(connection.device_id)
        if type(request) is m.ClearConnection:
            d = self.client.route_point_release(route_point, held.entry_id)
            d.addErrback(broadworks_error_to_csta)
            return d.addCallback(lambda _: m.ClearConnectionResponse())
        return self._destinations.redirect(
            request, held,
            lambda destination: self.client.route_point_blind_transfer(route_point, held.entry_id, destination),
        )

    # -- call admission -------------------------------------------------------------------

    def _admit(self, user_id, device, data) -> None:
        admit = self.settings.admit_calls
        name = "RoutePointAdmitCallRequest" if admit else "RoutePointRejectCallRequest"
        lms.emit(self.log, lms.ROUTE_POINT_CALL_ADMISSION, device=device, call_id=data.ext_tracking_id, request=name)
        d = self.client.route_point_admit(user_id, data.call_id, admit)
        d.addErrback(lambda f: lms.emit(
            self.log, lms.ROUTE_POINT_REQUEST_FAILED, device=device, request=name, call_id=data.ext_tracking_id,
            error=f.getErrorMessage(),
        ))

    # -- the application controller --------------------------------------------------------

    def _update_controller(self, resend=False) -> None:
        """``ready`` while some client routes, else ``not ready`` (nothing is
        sent while nobody ever routed: BroadWorks keeps its own state)."""
        controller = self.settings.app_controller
        if not controller or self._stopped:
            return
        wanted = READY if len(self.registrations) else NOT_READY
        if self._controller_sending is not None:
            self._controller_again = True  # looked at again once BroadWorks answered
            return
        if self._controller_state is None and wanted == NOT_READY:
            return
        if wanted == self._controller_state and not resend:
            return
        self._set_controller(controller, wanted)

    def _set_controller(self, controller, state) -> defer.Deferred:
        self._controller_sending = state
        d = self.client.set_application_controller_state(controller, state)

        def done(_):
            self._controller_state = state
            lms.emit(self.log, lms.APPLICATION_CONTROLLER_SET, controller=controller, state=state,
                     registrations=len(self.registrations))

        def failed(failure):
            self._controller_state = None if state == READY else self._controller_state
            if not self._stopped:
                lms.emit(self.log, lms.APPLICATION_CONTROLLER_FAILED, controller=controller, state=state,
                         error=failure.getErrorMessage())

        def next_(_):
            self._controller_sending = None
            if self._controller_again:
                self._controller_again = False
                self._update_controller()

        return d.addCallbacks(done, failed).addCallback(next_)

    def links_recovered(self) -> None:
        """A link came back: BroadWorks is told the controller's state again."""
        self._update_controller(resend=True)

    @property
    def controller_state(self) -> str | None:
        return self._controller_state

    # -- the rest ----------------------------------------------------------------------

    def stop(self) -> None:
        """The connector stops: BroadWorks is told nobody routes any more."""
        controller = self.settings.app_controller
        was_ready = self._controller_state == READY or self._controller_sending == READY
        self._stopped = True
        self.manager.stop()
        if controller and was_ready:
            self.client.set_application_controller_state(controller, NOT_READY).addErrback(lambda f: None)

    def holds_calls(self, user_id) -> bool:
        return self.model.waiting(self.device_of(user_id)) > 0

    def calls_held(self) -> dict[str, int]:
        """Calls held at each subscribed route point, by device."""
        return {
            self.device_of(sub.user_id): self.model.waiting(self.device_of(sub.user_id))
            for sub in self.manager.subscriptions
        }


def play_request(request: m.PlayMessage) -> cc.RoutePointPlay:
    """The RoutePointPlay*Request body of a PlayMessage (docs/protocols.md:
    message "0".."4", the extension keys), or the CSTA error."""
    message = request.message_to_be_played
    if message not in ("0", "1", "2", "3", "4"):
        raise CSTARequestError("operation", "invalidMsgID", "messageToBePlayed %r is not 0..4" % (message,))
    kind = cc.PLAY_KINDS[int(message)]
    duration = request.duration
    if duration is not None and duration <= 0:
        raise CSTARequestError("operation", "invalidParameterValue", "duration %d" % duration)
    digit_map = m.extension_value(request, m.EXT_COLLECT_DIGITS)
    if kind.play_collect_type == "Busy":
        pattern = m.extension_value(request, m.EXT_BUSY_PATTERN) or "Normal"
        if pattern not in ("Normal", "FastBusy"):
            raise CSTARequestError("operation", "invalidParameterValue", "busyPattern %r" % pattern)
        return cc.RoutePointPlay(kind, duration=duration, busy_pattern=pattern)
    if kind.play_collect_type == "Treatment":
        audio = m.extension_values(request, m.EXT_AUDIO_URL)
        video = m.extension_values(request, m.EXT_VIDEO_URL)
        if not 1 <= len(audio) <= 4 or len(video) > 4:
            raise CSTARequestError(
                "operation", "invalidParameterValue",
                "a treatment (message 4) takes 1 to 4 audioUrl and at most 4 videoUrl extension values",
            )
        return cc.RoutePointPlay(kind, digit_map=digit_map, audio_urls=audio, video_urls=video)
    return cc.RoutePointPlay(kind, duration=duration, digit_map=digit_map)
