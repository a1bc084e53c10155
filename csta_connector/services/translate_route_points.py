# -*- test-case-name: tests.unit.test_translate_route_points -*-
"""Route point changes -> CSTA events, and the routeing dialogue's messages
(SPEC §10; reference/contact-centre.md §10.3.2, §10.4.4, §10.4.5). Pure.

The calls held at a route point are reported as a queue's
(``translate_contact_centre.py``: Queued, Delivered, Diverted,
ConnectionCleared, CallInformation, Transferred); the route point adds:

=========================  ============================================================
PlayStarted                PlayEvent {connection, message "0".."4"}
PlayStopped                StopEvent {connection, message, cause}; the digits collected
                           in the extension key ``collectDigits``
RoutePointStateChanged     OutOfService (RoutePointFailedEvent) / BackInService
                           (RoutePointRecoveredEvent) {device the route point}
=========================  ============================================================
"""

from __future__ import annotations

from csta_connector.csta import messages as m
from csta_connector.model.route_points import PlayStarted, PlayStopped, RoutePointStateChanged
from csta_connector.model.routeing import Dialogue
from csta_connector.services import translate_contact_centre


def _connection(c) -> m.ConnectionID:
    return m.ConnectionID(call_id=c.call_id, device_id=c.device)


def _play(change: PlayStarted, x: str) -> list:
    return [m.PlayEvent(cross_ref_id=x, connection=_connection(change.connection), message=change.message)]


def _stop(change: PlayStopped, x: str) -> list:
    return [
        m.StopEvent(
            cross_ref_id=x,
            connection=_connection(change.connection),
            message=change.message,
            cause=change.cause,
            extensions=m.make_extensions(**{m.EXT_COLLECT_DIGITS: change.digits}),
        )
    ]


def _state(change: RoutePointStateChanged, x: str) -> list:
    cls = m.BackInServiceEvent if change.in_service else m.OutOfServiceEvent
    return [cls(cross_ref_id=x, device=change.device)]


_BY_TYPE = {PlayStarted: _play, PlayStopped: _stop, RoutePointStateChanged: _state}


def translate(change, cross_ref_id: str = "") -> list:
    own = _BY_TYPE.get(type(change))
    if own is not None:
        return own(change, cross_ref_id)
    return translate_contact_centre.translate(change, cross_ref_id)


def translate_all(changes, cross_ref_id: str = "") -> list:
    return [event for change in changes for event in translate(change, cross_ref_id)]


# --- the routeing dialogue, connector -> client ------------------------------------------


def route_request(dialogue: Dialogue, calling: str | None, reply_timeout: int | None = None) -> m.RouteRequest:
    """The RouteRequest opening ``dialogue``: currentRoute and routeingDevice
    the route point, routedCall its connection, callingDevice the caller."""
    return m.RouteRequest(
        routing_cross_ref_id=dialogue.cross_ref_id,
        route_register_req_id=dialogue.registration.register_id,
        current_route=dialogue.device,
        calling_device=calling,
        routeing_device=dialogue.device,
        routed_call=m.ConnectionID(call_id=dialogue.call_id, device_id=dialogue.device),
        reply_timeout=reply_timeout,
    )


def reroute(dialogue: Dialogue, reply_timeout: int | None = None) -> m.ReRouteRequest:
    return m.ReRouteRequest(
        routing_cross_ref_id=dialogue.cross_ref_id,
        route_register_req_id=dialogue.registration.register_id,
        reply_timeout=reply_timeout,
    )


def route_used(dialogue: Dialogue, calling: str | None) -> m.RouteUsedRequest:
    return m.RouteUsedRequest(
        routing_cross_ref_id=dialogue.cross_ref_id,
        route_register_req_id=dialogue.registration.register_id,
        route_used=dialogue.selected,
        calling_device=calling,
    )


def route_end(dialogue: Dialogue, error: tuple[str, str] | None = None) -> m.RouteEndRequest:
    """RouteEnd: the dialogue is over; ``error`` (category, value) unless the
    call went where the client chose."""
    return m.RouteEndRequest(
        routing_cross_ref_id=dialogue.cross_ref_id,
        route_register_req_id=dialogue.registration.register_id,
        error_value=m.CSTAError(category=error[0], value=error[1]) if error is not None else None,
    )
