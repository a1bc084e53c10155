# -*- test-case-name: tests.unit.test_model_route_points -*-
"""The calls held at the monitored and registered route points (SPEC §10;
reference/contact-centre.md §10.3.2, §10.5). Pure: no Twisted, no CSTA messages.

A BroadWorks Route Point is a CSTA routeing device; each call held there is
one connection (callID, route point device), keyed by the queue entry's
``callId``, as a queue's (:class:`~csta_connector.model.queues.QueueModel`,
whose changes and synchronization this model shares). What a route point
adds:

=====================================  =========================================
RoutePointCallAddedEvent               EntryQueued (enteringDistribution)
RoutePointCallOfferedToAgentEvent      EntryOffered to the agent a client chose
                                       (``destinations``), else the route point
RoutePointCallAnsweredByAgentEvent     EntryDiverted to the agent (distributed)
RoutePointCallBouncedEvent             EntryOffered back at the route point
                                       (alertTimeExpired); with a redirect:
                                       EntryDiverted (redirected)
RoutePointCallTransferredEvent         EntryDiverted (redirected), newDestination
                                       as the client gave it
RoutePointCallFailedEvent              EntryDiverted to the failed destination
                                       (its redirect), else EntryCleared; cause
                                       by failureReason (:data:`FAILURE_CAUSES`)
RoutePointCallAbandonedEvent           EntryCleared by the caller (normalClearing)
RoutePointCallReleasedEvent            EntryCleared by the route point
Forwarded / Overflowed / Night /       EntryDiverted, causes as a queue's
Holiday policy
RoutePointCallUpdatedEvent             as ACDCallUpdatedEvent
Route point policy TreatmentCompleted  EntryCleared when the caller hung up
RoutePoint<Kind>StartedEvent           :class:`PlayStarted` (message "0".."4")
RoutePoint<Kind>CompletedEvent         :class:`PlayStopped` (cause by
                                       completionReason, :data:`PLAY_CAUSES`)
RoutePointFailedEvent /                :class:`RoutePointStateChanged`
RoutePointRecoveredEvent
=====================================  =========================================

The running play-collect operation of each call (its ``playCollectId`` and
message id) is kept from the Started events and the PlayMessage answers, so
that a PlayMessage of the same kind extends it; it is forgotten when it
completes or the call leaves.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from csta_connector.broadworks.xsi_contact_centre import PLAY_KINDS
from csta_connector.model.queues import (
    CALENDAR_OVERFLOW,
    CALL_FORWARD_IMMEDIATE,
    NORMAL_CLEARING,
    REDIRECTED,
    EntryCleared,
    EntryOffered,
    QueueConnection,
    QueueModel,
)

#: RoutePoint<prefix>StartedEvent / ...CompletedEvent -> the CSTA MessageID
#: of PlayMessage, PlayEvent and StopEvent ("0" busy ... "4" treatment)
MESSAGE_OF_PREFIX = {kind.event_prefix: str(index) for index, kind in enumerate(PLAY_KINDS)}
STARTED_EVENTS = {"RoutePoint%sStartedEvent" % prefix: message for prefix, message in MESSAGE_OF_PREFIX.items()}
COMPLETED_EVENTS = {
    "RoutePoint%sCompletedEvent" % prefix: message for prefix, message in MESSAGE_OF_PREFIX.items()
}

#: XSIRoutePoint PlayCompletionReason -> the StopEvent's EventCause (G §3.4;
#: ``Match``, which G lacks: dTMFDigitDetected)
PLAY_CAUSES = {
    "Match": "dTMFDigitDetected",
    "NoMatch": "invalidNumberFormat",
    "Timeout": "timeout",
    "EOF": "terminationCharacterReceived",
    "Stopped-OutOfQueue": "switchingFunctionTerminated",
    "Stopped-NewPlayCollect": "nextMessage",
    "Stopped-OfferedWithRingback": "distributed",
    "Error": "reserved",
}

CALL_FAILURE_REQUESTED = "CallFailureRequested"
CALL_FAILURE_DUE_TO_INACTIVITY = "CallFailureDueToInactivity"
ROUTE_POINT_FAILURE = "RoutePointFailure"
#: XSIRoutePoint RoutePointCallFailureReason -> the EventCause of the
#: Diverted (or ConnectionCleared) of a failed call
FAILURE_CAUSES = {
    CALL_FAILURE_REQUESTED: REDIRECTED,
    CALL_FAILURE_DUE_TO_INACTIVITY: "timeout",
    ROUTE_POINT_FAILURE: "resourcesNotAvailable",
}


@dataclass(frozen=True, slots=True)
class PlayStarted:
    """A treatment started on a call at the route point."""

    event_type: str
    connection: QueueConnection
    message: str  # "0".."4"
    play_collect_id: str | None


@dataclass(frozen=True, slots=True)
class PlayStopped:
    """A treatment completed; ``cause`` from its completion reason,
    ``digits`` those the caller entered (a digit map's)."""

    event_type: str
    connection: QueueConnection
    message: str
    cause: str
    digits: str | None
    play_collect_id: str | None


@dataclass(frozen=True, slots=True)
class RoutePointStateChanged:
    """The route point failed (ModifyRoutePointState Failed, or its
    application controller not ready) or recovered."""

    event_type: str
    device: str
    in_service: bool
    reason: str | None


class RoutePointModel(QueueModel):
    """The held calls of every route point the connector subscribes."""

    __slots__ = ("_plays", "_out_of_service")

    policy_causes = {
        "RoutePointCallForwardedEvent": CALL_FORWARD_IMMEDIATE,
        "RoutePointNightPolicyAppliedEvent": CALENDAR_OVERFLOW,
        "RoutePointHolidayPolicyAppliedEvent": CALENDAR_OVERFLOW,
    }
    clearing_events = {
        "RoutePointCallAbandonedEvent": (NORMAL_CLEARING, True),
        "RoutePointCallReleasedEvent": (NORMAL_CLEARING, False),
    }

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        #: entry id -> (playCollectId or None, message id) of its running treatment
        self._plays: dict[str, tuple[str | None, str]] = {}
        self._out_of_service: set[str] = set()

    # ----------------------------------------------------------------- queries

    def play_of(self, entry_id: str) -> tuple[str | None, str] | None:
        """(playCollectId, message id) of the treatment running on a call."""
        return self._plays.get(entry_id)

    def play_answered(self, entry_id: str, play_collect_id: str, message: str) -> None:
        """A PlayMessage's BroadWorks answer: the operation now running (its
        Started event, which may come first, says the same)."""
        if entry_id in self._by_entry:
            self._plays[entry_id] = (play_collect_id, message)

    def in_service(self, device: str) -> bool:
        return device not in self._out_of_service

    # ------------------------------------------------------------------ edits

    def _discard(self, entry_id):
        self._plays.pop(entry_id, None)
        return super()._discard(entry_id)

    def remove_device(self, device):
        self._out_of_service.discard(device)
        removed = super().remove_device(device)
        for connection in removed:
            self._plays.pop(connection.entry_id, None)
        return removed

    # ------------------------------------------------------------------- apply

    def apply(self, event, device, destinations=None):
        event_type = event.event_type
        message = STARTED_EVENTS.get(event_type)
        if message is not None:
            return self._play_started(event_type, event.event_data, message)
        message = COMPLETED_EVENTS.get(event_type)
        if message is not None:
            return self._play_completed(event_type, event.event_data, message)
        if event_type in ("RoutePointFailedEvent", "RoutePointRecoveredEvent"):
            return self._state_changed(event_type, event.event_data, device)
        return super().apply(event, device, destinations)

    def _play_started(self, event_type, data, message):
        old = self._by_entry.get(data.entry.call_id)
        if old is None:
            return []  # a call never reported
        info = data.entry.play_collect_info
        play_collect_id = info.play_collect_id if info is not None else None
        self._plays[old.entry_id] = (play_collect_id, message)
        return [PlayStarted(event_type, old, message, play_collect_id)]

    def _play_completed(self, event_type, data, message):
        old = self._by_entry.get(data.entry.call_id)
        if old is None:
            return []
        result = data.play_collect_result
        play_collect_id = result.play_collect_id if result is not None else None
        running = self._plays.get(old.entry_id)
        if running is not None and (play_collect_id is None or running[0] in (None, play_collect_id)):
            del self._plays[old.entry_id]
        reason = result.completion_reason if result is not None else "Error"
        digits = result.digits if result is not None else None
        return [PlayStopped(event_type, old, message, PLAY_CAUSES.get(reason, "reserved"), digits, play_collect_id)]

    def _state_changed(self, event_type, data, device):
        in_service = event_type == "RoutePointRecoveredEvent"
        if in_service == self.in_service(device):
            return []
        if in_service:
            self._out_of_service.discard(device)
        else:
            self._out_of_service.add(device)
        return [RoutePointStateChanged(event_type, device, in_service, getattr(data, "state_change_reason", None))]

    def _offered(self, event_type, data, device, destinations):
        old = self._by_entry.get(data.entry.call_id)
        asked = destinations.pop(data.entry.call_id, None) if destinations else None
        connection = self._new_connection(data.entry, device, old)
        if asked is not None:
            connection = replace(connection, offered_to=asked)
        self._put(connection)
        return [EntryOffered(event_type, connection, connection.offered_to or device, "distributed")]

    def _failed(self, event_type, data, device, destinations):
        """The route point's failure policy took the call: to the failed
        destination (Diverted), else busy (ConnectionCleared)."""
        cause = FAILURE_CAUSES.get(data.failure_reason, REDIRECTED)
        if data.redirect is not None:
            return self._left(event_type, data, device, None, cause)
        entry = data.entry
        old, call_gone = self._discard(entry.call_id)
        if old is None:
            return []
        return [EntryCleared(event_type, self._new_connection(entry, device, old), device, cause, call_gone)]


RoutePointModel.handlers = {
    "RoutePointCallAddedEvent": QueueModel._added,
    "RoutePointCallOfferedToAgentEvent": RoutePointModel._offered,
    "RoutePointCallAnsweredByAgentEvent": QueueModel._answered,
    "RoutePointCallBouncedEvent": QueueModel._bounced,
    "RoutePointCallTransferredEvent": QueueModel._transferred,
    "RoutePointCallOverflowedEvent": QueueModel._overflowed,
    "RoutePointCallFailedEvent": RoutePointModel._failed,
    "RoutePointCallUpdatedEvent": QueueModel._updated,
    "RoutePointWhisperStartedEvent": QueueModel._quiet,
}
