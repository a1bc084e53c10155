# -*- test-case-name: tests.unit.test_sim_contact_centre -*-
"""Route points: calls held for the routing application, treatments, failure policy
(SPEC §10, reference/contact-centre.md §10.6).

A route point is a virtual subscriber (``6001@example.com``, "RoutePoint
6001", package ``Route Point Queue``). A call to it is added to its queue
(RoutePointCallAddedEvent; with ``admission``, RoutePointNewCallEvent first
and the call waits for RoutePointAdmitCallRequest / RejectCallRequest) and
waits for CTI:

* RoutePointDistributeCallRequest: offered to an agent
  (RoutePointCallOfferedToAgentEvent, the agent's CallReceivedEvent with
  redirect reason ``route-point``); answered: RoutePointCallAnsweredByAgentEvent;
  not answered within ``offer_seconds``, refused, or RoutePointBounceCallRequest:
  RoutePointCallBouncedEvent and the call waits again;
* RoutePointBlindTransferRequest: RoutePointCallTransferredEvent, the call goes there;
* RoutePointFailCallRequest: RoutePointCallFailedEvent{CallFailureRequested}
  (refused while the call is offered, as the schema says);
* RoutePointReleaseCallRequest: RoutePointCallReleasedEvent{CallReleaseRequested};
* the five RoutePointPlay*Requests: a play-collect operation, answered with
  its ``playCollectId``, RoutePoint<Kind>StartedEvent, and later
  RoutePoint<Kind>CompletedEvent with the completion reason: ``Timeout``
  (``duration`` elapsed), ``EOF`` (a treatment played ``treatment_seconds`` ×
  URLs × numberOfPlay), ``Match`` / ``NoMatch`` (digits pressed, control API,
  against the digit map: ``digit_map.py``), ``Stopped-NewPlayCollect``,
  ``Stopped-OfferedWithRingback`` (distributed), ``Stopped-OutOfQueue``.
  A request with the running playCollectId restarts its timer.

Every CTI request on a call restarts its inactivity timer; after
``no_request_seconds`` without one: RoutePointCallFailedEvent
{CallFailureDueToInactivity} and the failure policy: the call goes to
``failed_destination``, else it gets busy. The same happens to every queued
call (not an offered one) when the route point fails: ModifyRoutePointStateRequest
{Failed} or the application controller ``not ready``
(SetApplicationControllerStateRequest); RoutePointFailedEvent, and new calls
fail at once; back to Normal / ready: RoutePointRecoveredEvent.
"""

from __future__ import annotations

from twisted.logger import Logger

from csta_connector.broadworks import xsi_contact_centre as cc
from csta_connector.simulator.addressing import RouteKind
from csta_connector.simulator.contact_centre import CallHolder, HeldCall, action, check_destination, provision
from csta_connector.simulator.digit_map import COLLECTING, DigitMap, DigitMapError
from csta_connector.simulator.errors import ErrorCode, SimulatorError, bad_state, invalid
from csta_connector.simulator.sessions import BUSY


class PlayCollect:
    """One play-collect operation (a treatment) running on a route point call."""

    __slots__ = ("play_collect_id", "kind", "digit_map", "digits", "timer", "ends_with")

    def __init__(self, play_collect_id, kind, digit_map):
        self.play_collect_id = play_collect_id
        self.kind = kind  # xsi_contact_centre.PlayKind
        self.digit_map = digit_map  # DigitMap or None
        self.digits = ""
        self.timer = None
        self.ends_with = "Timeout"  # EOF for a treatment


class RoutedCall(HeldCall):
    __slots__ = ("play", "inactivity_timer", "admission_timer")

    def __init__(self, holder, half, caller, now):
        super().__init__(holder, half, caller, now)
        self.play = None
        self.inactivity_timer = None
        self.admission_timer = None


class RoutePoint(CallHolder):
    """One route point: its queue, its failure policy, its state."""

    package = cc.ROUTE_POINT_QUEUE
    record_class = RoutedCall
    _abandoned_event = "RoutePointCallAbandonedEvent"
    _updated_event = "RoutePointCallUpdatedEvent"

    def __init__(self, engine, manager, subscriber, settings):
        super().__init__(engine, subscriber, settings)
        self.manager = manager
        self.no_request_seconds = settings.no_request_seconds
        self.failed_destination = settings.failed_destination
        self.state = "Normal"  # as ModifyRoutePointStateRequest set it
        self.failed = False  # Failed, or its application controller not ready
        self.admitting: list[RoutedCall] = []  # announced, not yet admitted

    def entry(self, record, answered_by=None) -> cc.RoutePointQueueEntry:
        play = record.play
        return cc.RoutePointQueueEntry(
            call_id=record.call_id,
            ext_tracking_id=record.ext_tracking_id,
            remote_party=record.caller.party,
            route_point_name=self.subscriber.name,
            route_point_number=self.subscriber.party.address,
            add_time=record.add_time,
            remove_time=record.remove_time,
            bounced=record.bounced,
            play_collect_info=(
                cc.PlayCollectInfo(play.play_collect_id, play.kind.play_collect_type) if play is not None else None
            ),
            answering_user_id=answered_by.user.user_id if answered_by is not None else None,
            answering_call_id=answered_by.call_id if answered_by is not None else None,
        )

    def _emit_flat(self, event_type, record, **fields):
        data = cc.QueuePolicyEvent(
            record.call_id, record.ext_tracking_id, self.subscriber.name, self.subscriber.party.address,
            record.caller.party, **fields,
        )
        self.engine._emit(self.subscriber, event_type, package=self.package, event_data=data)

    # -- calls in -----------------------------------------------------------

    def accept(self, caller, route):
        """A call arrives (the engine's delivery for RouteKind.ROUTE_POINT)."""
        record = self.take(caller)
        if self.failed:
            self._fail(record, "RoutePointFailure")
        elif self.settings.admission:
            self.admitting.append(record)
            self._emit_flat("RoutePointNewCallEvent", record, receive_time=record.add_time)
            record.admission_timer = self.engine._call_later(
                self.no_request_seconds, self._reject, record, "CallAdmissionTimeout"
            )
        else:
            self._add(record)

    def _add(self, record):
        self.calls.append(record)
        self.emit("RoutePointCallAddedEvent", record)
        self._touch(record)

    def _touch(self, record):
        """A request on the call: its inactivity timer starts again."""
        self.engine._cancel(record.inactivity_timer)
        record.inactivity_timer = self.engine._call_later(self.no_request_seconds, self._inactive, record)

    def _inactive(self, record):
        record.inactivity_timer = None
        if record not in self.calls:
            return
        if record.offer is not None:
            self._touch(record)  # the offer's own timer decides first
        else:
            self._fail(record, "CallFailureDueToInactivity")

    def _fail(self, record, reason):
        """The per-call failure policy: the failed destination, else busy."""
        self._stop_play(record, "Stopped-OutOfQueue")
        self.send_caller_to_policy(
            record, self.failed_destination, "RoutePointCallFailedEvent", "route-point", failure_reason=reason
        )

    def _stop_timers(self, record):
        super()._stop_timers(record)
        for name in ("inactivity_timer", "admission_timer"):
            self.engine._cancel(getattr(record, name))
            setattr(record, name, None)
        if record.play is not None:
            self.engine._cancel(record.play.timer)
            record.play.timer = None

    # -- the engine's hooks -------------------------------------------------

    def abandoned(self, record):
        if record in self.admitting:
            self.admitting.remove(record)
            self.leave(record)
            self._emit_flat("RoutePointCallRejectedEvent", record, reject_reason="CallAbandoned")
            return
        super().abandoned(record)

    def _abandoning(self, record):
        self._stop_play(record, "Stopped-OutOfQueue")

    def _bounced(self, record, user):
        self.emit("RoutePointCallBouncedEvent", record)
        self._touch(record)

    def _answered(self, record, half, entry):
        self.emit("RoutePointCallAnsweredByAgentEvent", record, entry)

    def forget_calls(self):
        held = super().forget_calls() or bool(self.admitting)
        for record in self.admitting:
            self._stop_timers(record)
        self.admitting = []
        return held

    # -- admission ----------------------------------------------------------

    def _announced(self, call_id):
        for record in self.admitting:
            if record.call_id == call_id:
                return record
        self.record(call_id)  # orphaned, or unknown: that error
        raise bad_state("call %s is already in the queue" % call_id)

    @action
    def admit(self, call_id):
        """RoutePointAdmitCallRequest: the announced call joins the queue."""
        record = self._announced(call_id)
        self.admitting.remove(record)
        self.engine._cancel(record.admission_timer)
        record.admission_timer = None
        self._add(record)

    @action
    def reject(self, call_id):
        """RoutePointRejectCallRequest: the announced call gets busy."""
        self._reject(self._announced(call_id), "CallRejectRequested")

    def _reject(self, record, reason):
        record.admission_timer = None
        if record not in self.admitting:
            return
        self.admitting.remove(record)
        self.leave(record)
        self._emit_flat("RoutePointCallRejectedEvent", record, reject_reason=reason)
        self.engine._fail(record.caller, BUSY)

    # -- CTI (CTIRoutePoint) ------------------------------------------------

    @action
    def distribute(self, call_id, distribute: cc.RoutePointDistribute):
        """RoutePointDistributeCallRequest: offer the call to an agent (any user)."""
        record = self.record(call_id)
        user = self.engine._directory.user_by_address(distribute.agent_id)
        if user is None:
            raise SimulatorError(404, ErrorCode.UNKNOWN_USER, "unknown agent %r" % (distribute.agent_id,))
        if record.offer is not None:
            raise bad_state("call %s is already offered to %s" % (call_id, record.offer.user.user_id))
        if user is record.caller.user:
            raise invalid("call %s comes from %s" % (call_id, user.user_id))
        if self.engine._is_busy(user):
            raise SimulatorError(409, ErrorCode.DESTINATION_BUSY, "agent %s is busy" % user.user_id)
        self._touch(record)
        self._stop_play(record, "Stopped-OfferedWithRingback")
        self.offer_to(record, user, "route-point")
        self.emit("RoutePointCallOfferedToAgentEvent", record)

    @action
    def blind_transfer(self, call_id, address):
        """RoutePointBlindTransferRequest: the call leaves for ``address``."""
        record = self.record(call_id)
        route = self.destination(address)
        self._stop_play(record, "Stopped-OutOfQueue")
        self.send_caller(record, route, "transfer", "RoutePointCallTransferredEvent")

    @action
    def fail(self, call_id):
        """RoutePointFailCallRequest: the failure policy now (not while offered)."""
        record = self.record(call_id)
        if record.offer is not None:
            raise bad_state("call %s is being offered to an agent: it cannot be failed" % call_id)
        self._fail(record, "CallFailureRequested")

    @action
    def release(self, call_id):
        """RoutePointReleaseCallRequest: the caller is released."""
        record = self.record(call_id)
        self._stop_play(record, "Stopped-OutOfQueue")
        self.release_caller(record, "RoutePointCallReleasedEvent", release_reason="CallReleaseRequested")

    @action
    def bounce(self, call_id):
        """RoutePointBounceCallRequest: an offered call comes back to the queue."""
        record = self.record(call_id)
        if record.offer is None:
            raise bad_state("call %s is not offered to an agent" % call_id)
        user = self.withdraw_offer(record).user
        record.bounced = True
        self._bounced(record, user)

    @action
    def play(self, call_id, play: cc.RoutePointPlay) -> str:
        """A RoutePointPlay*Request: the playCollectId of the treatment."""
        record = self.record(call_id)
        self._touch(record)
        running = record.play
        if play.play_collect_id is not None:
            if running is None or running.play_collect_id != play.play_collect_id or running.kind != play.kind:
                raise SimulatorError(
                    404, ErrorCode.UNKNOWN_CALL,
                    "no %s play-collect %s on call %s" % (play.kind.play_collect_type, play.play_collect_id, call_id),
                )
            if play.duration is not None:
                self._time_play(record, running, play.duration)
            return running.play_collect_id
        digit_map = None
        if play.digit_map:
            try:
                digit_map = DigitMap(play.digit_map)
            except DigitMapError as e:
                raise invalid(str(e)) from None
        if play.kind.play_collect_type == "Treatment":
            if not 1 <= len(play.audio_urls) <= 4:
                raise invalid("a treatment has 1 to 4 audio URLs")
            if play.number_of_play is not None and not 1 <= play.number_of_play <= 5:
                raise invalid("numberOfPlay is 1 to 5")
        if running is not None:
            self._complete(record, "Stopped-NewPlayCollect")
        operation = PlayCollect(self.manager.new_play_collect_id(), play.kind, digit_map)
        record.play = operation
        self.emit("RoutePoint%sStartedEvent" % play.kind.event_prefix, record)
        if play.kind.play_collect_type == "Treatment":
            operation.ends_with = "EOF"
            seconds = self.settings.treatment_seconds * len(play.audio_urls) * (play.number_of_play or 1)
            self._time_play(record, operation, seconds)
        elif play.duration is not None:
            self._time_play(record, operation, play.duration)
        return operation.play_collect_id

    def _time_play(self, record, operation, seconds):
        self.engine._cancel(operation.timer)
        operation.timer = self.engine._call_later(seconds, self._play_ended, record, operation)

    def _play_ended(self, record, operation):
        operation.timer = None
        if record.play is operation:
            self._complete(record, operation.ends_with, operation.digits or None)

    def _complete(self, record, reason, digits=None):
        operation = record.play
        self.engine._cancel(operation.timer)
        operation.timer = None
        entry = self.entry(record)  # still showing the play that ends
        record.play = None
        self.emit(
            "RoutePoint%sCompletedEvent" % operation.kind.event_prefix, record, entry,
            play_collect_result=cc.PlayCollectResult(operation.play_collect_id, reason, digits),
        )

    def _stop_play(self, record, reason):
        if record.play is not None:
            self._complete(record, reason, record.play.digits or None)

    def press(self, record, digits) -> str:
        """The caller presses keys: Match, NoMatch, or collecting."""
        operation = record.play
        if operation is None or operation.digit_map is None:
            raise SimulatorError(
                409, ErrorCode.NOT_COLLECTING, "no treatment of call %s collects digits" % record.ext_tracking_id
            )
        operation.digits += digits
        verdict, decided = operation.digit_map.judge(operation.digits)
        if verdict != COLLECTING:
            self._complete(record, verdict, decided)
        return verdict

    # -- the route point's state --------------------------------------------

    @action
    def set_state(self, state):
        """ModifyRoutePointStateRequest (Normal | Failed)."""
        if state not in cc.ROUTE_POINT_STATES:
            raise invalid("route point state must be Normal or Failed")
        self.state = state
        self.update_failure("ExternalRequest")

    def update_failure(self, reason):
        failed = self.state == "Failed" or self.manager.controller_state != "ready"
        if failed == self.failed:
            return
        self.failed = failed
        if not failed:
            self.engine._emit(
                self.subscriber, "RoutePointRecoveredEvent", package=self.package,
                event_data=cc.RoutePointStateChange(),
            )
            return
        self.engine._emit(
            self.subscriber, "RoutePointFailedEvent", package=self.package,
            event_data=cc.RoutePointStateChange(reason),
        )
        for record in list(self.calls):
            if record.offer is None and record in self.calls:
                self._fail(record, "RoutePointFailure")

    def view(self) -> dict:
        return {
            "routePoint": self.subscriber.extension,
            "userId": self.subscriber.user_id,
            "state": "Failed" if self.failed else "Normal",
            "no-request-seconds": self.no_request_seconds,
            "failed-destination": self.failed_destination,
            "calls": len(self.calls),
        }

    @action
    def set_policy(self, no_request_seconds=None, failed_destination=None, clear_destination=False):
        """The control API's per-test override of the failure policy."""
        if no_request_seconds is not None:
            if not no_request_seconds > 0:
                raise invalid("no-request-seconds must be above 0")
            self.no_request_seconds = float(no_request_seconds)
        if failed_destination is not None:
            self.engine._directory.route(failed_destination)  # an address the platform takes
            self.failed_destination = failed_destination
        elif clear_destination:
            self.failed_destination = None
        return self.view()


class RoutePoints:
    """Every route point, and the application controller they depend on."""

    log = Logger()

    def __init__(self, engine, settings):
        self.engine = engine
        self.settings = settings
        self.route_points: list[RoutePoint] = []
        self.controller_state = "ready"
        self._play_collect_ids = 0
        for extension in settings.route_points:
            subscriber = provision(engine, extension, "RoutePoint %s" % extension, RouteKind.ROUTE_POINT, self.log)
            if subscriber is not None:
                self.route_points.append(RoutePoint(engine, self, subscriber, settings))
        check_destination(engine, "failed-destination", settings.failed_destination)

    def route_point(self, address) -> RoutePoint:
        subscriber = self.engine._directory.virtual(address)
        if subscriber is None or not isinstance(subscriber.holder, RoutePoint):
            raise SimulatorError(404, ErrorCode.UNKNOWN_QUEUE, "no route point %r" % (address,))
        return subscriber.holder

    def new_play_collect_id(self) -> str:
        self._play_collect_ids += 1
        return "playcollect-%d" % self._play_collect_ids

    @action
    def set_controller_state(self, state):
        """SetApplicationControllerStateRequest: ``not ready`` fails every route point."""
        if state not in cc.APPLICATION_CONTROLLER_STATES:
            raise invalid("application controller state must be 'ready' or 'not ready'")
        self.controller_state = state
        for route_point in self.route_points:
            route_point.update_failure("FailureDetected")

    @action
    def press(self, ext_tracking_id, digits) -> str:
        """Digits pressed by the caller of a route point call (control API)."""
        if not digits or any(d not in "0123456789*#ABCDabcd" for d in str(digits)):
            raise invalid("digits are 0-9, *, #, A-D")
        for route_point in self.route_points:
            record = route_point.record_by_tracking_id(ext_tracking_id)
            if record is not None:
                return route_point.press(record, str(digits).upper())
        raise SimulatorError(404, ErrorCode.UNKNOWN_CALL, "no route point call %s" % (ext_tracking_id,))

    def forget_calls(self) -> list:
        return [route_point for route_point in self.route_points if route_point.forget_calls()]

    @property
    def route_point_calls(self) -> int:
        return sum(len(route_point.calls) for route_point in self.route_points)
