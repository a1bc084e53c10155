"""Route points end to end (SPEC §10, issue 15): the embedded simulator's route
point 6001, the connector, and real CSTA clients in both encodings over
loopback TCP (reference/contact-centre.md §10.8, scenarios 7-11, 14): the
routeing dialogue delivering a call to the selected agent, a RouteSelect to
an unknown destination, the route point's timeout and failure policy,
treatments with PlayEvent/StopEvent, a caller hanging up while routed, the
last routeing client gone (not ready), and a stuck route point call cleared
after an ungraceful failover. Every BroadWorks document of each test
validates against the official schemas."""

import pytest
import pytest_twisted
from twisted.internet import defer, reactor

from csta_connector.csta import messages as m
from csta_connector.csta.client import CSTAErrorResponse
from csta_connector.testing import (
    CSTA_ENCODINGS as ENCODINGS,
    OTHER_ENCODING as OTHER,
    MonitoringClient as Client,
    cleared_lines,
    contact_centre_config,
    pause,
    start_contact_centre as start,
    wait_until,
)

ROUTE_POINT = "6001"
FAILED_DESTINATION = "2009"
#: how a Diverted names it: the number of its redirect (the platform's block + the extension)
FAILED_NUMBER = "+1555000" + FAILED_DESTINATION


@pytest.fixture
def connector(bw_validator):
    service = pytest_twisted.blockon(start(contact_centre_config({"app_controller": "ctl"})))
    yield service
    pytest_twisted.blockon(service.stopService())
    assert [(d, data) for d, data in service.documents if bw_validator(data)] == []


class Router(Client):
    """A CSTA client that registers as a routeing server: its monitors, and
    the connector's one-way requests it received."""

    @defer.inlineCallbacks
    def register(self, device=ROUTE_POINT):
        response = yield self.protocol.request(m.RouteRegister(routeing_device=device))
        self.register_id = response.route_register_req_id
        return response

    @property
    def requests(self):
        return self.protocol.requests.items

    def requests_of(self, *types):
        return [r for r in self.requests if type(r).__name__ in types]

    def wait_request(self, *types, count=1):
        return self.protocol.requests.wait_for(
            lambda items: len(self.requests_of(*types)) >= count, timeout=5,
            what="%d x %s" % (count, "/".join(types)),
        )

    @defer.inlineCallbacks
    def next_route_request(self, count=1):
        yield self.wait_request("RouteRequest", count=count)
        return self.requests_of("RouteRequest")[count - 1]

    def select(self, route_request, destination, **fields):
        self.protocol.send(m.RouteSelectRequest(
            routing_cross_ref_id=route_request.routing_cross_ref_id, route_selected=destination, **fields))


@defer.inlineCallbacks
def router_of(connector, encoding):
    from csta_connector.csta.client import connect

    protocol = yield connect(reactor, "127.0.0.1", connector.csta_port, encoding)
    return Router(protocol)


def documents(connector, direction="in"):
    """The BroadWorks documents the simulator received ("in") or sent ("out")."""
    return b"".join(data for d, data in connector.documents if d == direction)


@defer.inlineCallbacks
def set_policy(connector, seconds=None, destination=FAILED_DESTINATION):
    body = {"failed-destination": destination}
    if seconds is not None:
        body["no-request-seconds"] = seconds
    yield connector.control.post("/routepoints/%s/policy" % ROUTE_POINT, body)


def end_error(end):
    return (end.error_value.category, end.error_value.value) if end.error_value is not None else None


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest_twisted.inlineCallbacks
def test_a_routeing_dialogue_delivers_the_call_to_the_selected_agent(connector, encoding):
    router = yield router_of(connector, encoding)
    yield router.monitor(ROUTE_POINT, "2003")
    response = yield router.register()
    assert response.route_register_req_id
    yield wait_until(lambda: connector.core.route_points.controller_state, lambda s: s == "ready", "ready")
    assert (yield connector.control.status())["app_controller"] == "ready"
    call = yield connector.control.place_call("2001", ROUTE_POINT)
    tracking = call["extTrackingId"]
    request = yield router.next_route_request()
    assert (request.current_route, request.routeing_device, request.calling_device) == (ROUTE_POINT,) * 2 + ("2001",)
    assert request.routed_call == m.ConnectionID(call_id=tracking, device_id=ROUTE_POINT)
    assert request.route_register_req_id == router.register_id
    yield router.wait(ROUTE_POINT, "QueuedEvent")

    router.select(request, "2003", route_used_req=True)
    yield router.wait("2003", "DeliveredEvent")
    assert b"RoutePointDistributeCallRequest" in documents(connector)
    assert b"<xsi:agentId>2003@example.com</xsi:agentId>" in documents(connector)
    delivered = router.of("2003", "DeliveredEvent")[0]
    assert (delivered.connection.call_id, delivered.last_redirection_device) == (tracking, ROUTE_POINT)
    yield connector.control.user_action("2003", "answer")
    yield router.wait(ROUTE_POINT, "DivertedEvent")
    yield router.wait_request("RouteEndRequest")
    assert router.names(ROUTE_POINT) == ["QueuedEvent", "DeliveredEvent", "DivertedEvent"]
    diverted = router.of(ROUTE_POINT, "DivertedEvent")[0]
    assert (diverted.new_destination, diverted.cause) == ("2003", "distributed")
    used, end = router.requests_of("RouteUsedRequest", "RouteEndRequest")
    assert (used.route_used, end.error_value) == ("2003", None)
    assert used.routing_cross_ref_id == end.routing_cross_ref_id == request.routing_cross_ref_id
    assert router.protocol.refusals.items == []  # one-way: nothing answered
    assert (yield connector.control.route_point_calls(ROUTE_POINT)) == []
    stats = connector.core.route_points.stats
    assert (stats.requests, stats.selects, stats.routed) == (1, 1, 1)
    router.close()


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest_twisted.inlineCallbacks
def test_a_route_select_to_an_unknown_destination_ends_with_an_error_then_the_policy_fails_the_call(
    connector, encoding, lms_lines
):
    yield set_policy(connector)
    router = yield router_of(connector, encoding)
    yield router.monitor(ROUTE_POINT)
    yield router.register()
    yield connector.control.place_call("2001", ROUTE_POINT)
    first = yield router.next_route_request()
    router.select(first, "2099")
    # RouteEnd with the error, and the call still routable: a new RouteRequest
    second = yield router.next_route_request(2)
    (end,) = router.requests_of("RouteEndRequest")
    assert end.routing_cross_ref_id == first.routing_cross_ref_id
    assert end_error(end) == ("operation", "invalidDestination")
    assert second.routing_cross_ref_id != first.routing_cross_ref_id
    assert len((yield connector.control.route_point_calls(ROUTE_POINT))) == 1
    # no retry left after the second: failed by the route point's policy
    router.select(second, "2099")
    yield router.wait(ROUTE_POINT, "DivertedEvent")
    diverted = router.of(ROUTE_POINT, "DivertedEvent")[0]
    assert (diverted.new_destination, diverted.cause) == (FAILED_NUMBER, "redirected")
    assert b"RoutePointFailCallRequest" in documents(connector)
    assert len(router.requests_of("RouteEndRequest")) == 2
    assert [e["lms_id"] for e in lms_lines if e["lms_id"] in (37273, 37275)] == [37273, 37273, 37275]
    router.close()


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest_twisted.inlineCallbacks
def test_the_route_points_timeout_applies_its_failure_policy(connector, encoding, lms_lines):
    yield set_policy(connector, seconds=0.4)
    router = yield router_of(connector, encoding)
    yield router.monitor(ROUTE_POINT, FAILED_DESTINATION)
    yield router.register()
    yield connector.control.place_call("2001", ROUTE_POINT)
    request = yield router.next_route_request()  # never answered
    yield router.wait_request("RouteEndRequest")
    (end,) = router.requests_of("RouteEndRequest")
    assert (end.routing_cross_ref_id, end_error(end)) == (
        request.routing_cross_ref_id, ("operation", "routeingTimerExpired"))
    yield router.wait(ROUTE_POINT, "DivertedEvent")
    diverted = router.of(ROUTE_POINT, "DivertedEvent")[0]
    assert (diverted.new_destination, diverted.cause) == (FAILED_NUMBER, "timeout")
    yield router.wait(FAILED_DESTINATION, "DeliveredEvent")
    assert [e["device"] for e in lms_lines if e["lms_id"] == 37274] == [ROUTE_POINT]
    assert connector.core.route_points.stats.timeouts == 1
    router.close()


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest_twisted.inlineCallbacks
def test_an_agent_that_does_not_answer_gets_a_reroute_then_the_call_is_failed(bw_validator, encoding):
    connector = yield start(contact_centre_config({"app_controller": "ctl"}, offer_seconds=0.3))
    try:
        yield set_policy(connector)
        router = yield router_of(connector, encoding)
        yield router.monitor(ROUTE_POINT)
        yield router.register()
        yield connector.control.place_call("2001", ROUTE_POINT)
        request = yield router.next_route_request()
        router.select(request, "2003")  # rings, nobody answers: the call bounces back
        yield router.wait_request("ReRouteRequest")
        (reroute,) = router.requests_of("ReRouteRequest")
        assert reroute.routing_cross_ref_id == request.routing_cross_ref_id
        router.select(request, "2004")  # route-retries = 1: the last chance
        yield router.wait_request("RouteEndRequest")
        (end,) = router.requests_of("RouteEndRequest")
        assert end_error(end) == ("stateIncompatibility", "invalidDestinationDeviceState")
        yield router.wait(ROUTE_POINT, "DivertedEvent")
        assert router.of(ROUTE_POINT, "DivertedEvent")[0].new_destination == FAILED_NUMBER
        assert [type(e).__name__ for e in router.of(ROUTE_POINT)][:5] == [
            "QueuedEvent", "DeliveredEvent", "DeliveredEvent", "DeliveredEvent", "DeliveredEvent"]
        router.close()
    finally:
        yield connector.stopService()
    assert [(d, data) for d, data in connector.documents if bw_validator(data)] == []


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest_twisted.inlineCallbacks
def test_play_message_reports_play_and_stop_events(connector, encoding):
    router = yield router_of(connector, encoding)
    yield router.monitor(ROUTE_POINT)
    call = yield connector.control.place_call("2001", ROUTE_POINT)
    tracking = call["extTrackingId"]
    yield router.wait(ROUTE_POINT, "QueuedEvent")
    connection = m.ConnectionID(call_id=tracking, device_id=ROUTE_POINT)
    response = yield router.request(m.PlayMessage(
        message_to_be_played="1", over_connection=connection, extensions=m.make_extensions(collectDigits="xx#")))
    assert response == m.PlayMessageResponse()
    yield router.wait(ROUTE_POINT, "PlayEvent")
    (play,) = router.of(ROUTE_POINT, "PlayEvent")
    assert (play.connection, play.message) == (connection, "1")
    assert b"RoutePointPlayMOHRequest" in documents(connector)
    yield connector.control.press_digits(tracking, "12#")
    yield router.wait(ROUTE_POINT, "StopEvent")
    (stop,) = router.of(ROUTE_POINT, "StopEvent")
    assert (stop.message, stop.cause, m.extension_value(stop, m.EXT_COLLECT_DIGITS)) == ("1", "dTMFDigitDetected", "12#")

    # another kind replaces a running one: nextMessage
    yield router.request(m.PlayMessage(message_to_be_played="2", over_connection=connection))
    yield router.request(m.PlayMessage(
        message_to_be_played="4", over_connection=connection,
        extensions=m.make_extensions(audioUrl="http://media.example.com/welcome.wav")))
    yield router.wait(ROUTE_POINT, "PlayEvent", count=3)
    assert [(e.message, e.cause) for e in router.of(ROUTE_POINT, "StopEvent")][1:] == [("2", "nextMessage")]
    assert [e.message for e in router.of(ROUTE_POINT, "PlayEvent")] == ["1", "2", "4"]
    # a treatment without an audio URL: a CSTA error, no BroadWorks request
    before = documents(connector).count(b"RoutePointPlayTreatmentRequest")
    with pytest.raises(CSTAErrorResponse) as info:
        yield router.request(m.PlayMessage(message_to_be_played="4", over_connection=connection))
    assert info.value.error.value == "invalidParameterValue"
    assert documents(connector).count(b"RoutePointPlayTreatmentRequest") == before
    router.close()


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest_twisted.inlineCallbacks
def test_a_caller_hanging_up_during_routeing_ends_the_dialogue(connector, encoding):
    router = yield router_of(connector, encoding)
    yield router.monitor(ROUTE_POINT)
    yield router.register()
    call = yield connector.control.place_call("2001", ROUTE_POINT)
    yield router.next_route_request()
    yield connector.control.user_action("2001", "release")
    yield router.wait_request("RouteEndRequest")
    (end,) = router.requests_of("RouteEndRequest")
    assert end_error(end) == ("operation", "invalidCallID")
    yield router.wait(ROUTE_POINT, "ConnectionClearedEvent")
    cleared = router.of(ROUTE_POINT, "ConnectionClearedEvent")[0]
    assert (cleared.dropped_connection.call_id, cleared.releasing_device) == (call["extTrackingId"], "2001")
    assert len(connector.core.route_points.dialogues) == 0
    router.close()


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest_twisted.inlineCallbacks
def test_a_stuck_route_point_call_is_cleared_after_an_ungraceful_failover(connector, encoding, lms_lines):
    router = yield router_of(connector, encoding)
    watcher = yield router_of(connector, OTHER[encoding])
    yield router.monitor(ROUTE_POINT)
    yield watcher.monitor(ROUTE_POINT)
    yield router.register()
    call = yield connector.control.place_call("2001", ROUTE_POINT)
    request = yield router.next_route_request()
    yield watcher.wait(ROUTE_POINT, "QueuedEvent")
    yield connector.control.failover("ungraceful")
    yield pause(0.3)
    assert router.requests_of("RouteEndRequest") == [] and cleared_lines(lms_lines, ROUTE_POINT) == []

    snapshot = yield watcher.request(m.SnapshotDevice(device=ROUTE_POINT))
    assert snapshot.items == ()
    yield router.wait(ROUTE_POINT, "ConnectionClearedEvent")
    cleared = router.of(ROUTE_POINT, "ConnectionClearedEvent")[0]
    assert (cleared.dropped_connection.call_id, cleared.cause) == (call["extTrackingId"], "switchingFunctionTerminated")
    assert watcher.of(ROUTE_POINT, "ConnectionClearedEvent") == []  # the requester learns it from its response
    yield router.wait_request("RouteEndRequest")
    (end,) = router.requests_of("RouteEndRequest")
    assert (end.routing_cross_ref_id, end_error(end)) == (
        request.routing_cross_ref_id, ("systemResourceAvailability", "resourceOutOfService"))
    assert [c for c, _ in cleared_lines(lms_lines, ROUTE_POINT)] == [call["extTrackingId"]]

    # a new call routes normally on the peer AS, with a fresh call id
    new = yield connector.control.place_call("2006", ROUTE_POINT)
    fresh = yield router.next_route_request(2)
    assert fresh.routed_call.call_id == new["extTrackingId"] != call["extTrackingId"]
    yield router.monitor("2003")
    router.select(fresh, "2003")
    yield router.wait("2003", "DeliveredEvent")
    yield connector.control.user_action("2003", "answer")
    yield router.wait_request("RouteEndRequest", count=2)
    assert router.requests_of("RouteEndRequest")[-1].error_value is None
    router.close()
    watcher.close()


@pytest_twisted.inlineCallbacks
def test_the_last_routeing_client_gone_sets_the_controller_not_ready_and_the_policy_takes_the_calls(connector):
    yield set_policy(connector)
    router = yield router_of(connector, "xml")
    watcher = yield router_of(connector, "ber")
    yield watcher.monitor(ROUTE_POINT)
    yield router.register()
    yield wait_until(lambda: connector.core.route_points.controller_state, lambda s: s == "ready", "ready")
    yield connector.control.place_call("2001", ROUTE_POINT)
    yield router.next_route_request()
    router.close()
    yield watcher.wait(ROUTE_POINT, "OutOfServiceEvent")
    yield watcher.wait(ROUTE_POINT, "DivertedEvent")
    diverted = watcher.of(ROUTE_POINT, "DivertedEvent")[0]
    assert (diverted.new_destination, diverted.cause) == (FAILED_NUMBER, "resourcesNotAvailable")
    assert (yield connector.control.status())["app_controller"] == "not ready"
    assert b"<xsi:state>not ready</xsi:state>" in documents(connector)
    # a new routeing client: ready again, back in service
    again = yield router_of(connector, "ber")
    yield again.register()
    yield watcher.wait(ROUTE_POINT, "BackInServiceEvent")
    assert (yield connector.control.status())["app_controller"] == "ready"
    again.close()
    watcher.close()


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest_twisted.inlineCallbacks
def test_the_resync_wave_clears_a_stuck_route_point_call_without_a_snapshot(connector, encoding, lms_lines):
    """The peer AS says nothing of route points; an answered call a user
    received gives the sign of the failover, and the wave refreshes the route
    point holding a call."""
    router = yield router_of(connector, encoding)
    yield router.monitor(ROUTE_POINT, "2002", "2003")
    yield router.register()
    yield connector.control.place_call("2003", "2002")
    yield connector.control.user_action("2002", "answer")
    yield router.wait("2003", "EstablishedEvent")
    held = (yield connector.control.place_call("2001", ROUTE_POINT))["extTrackingId"]
    request = yield router.next_route_request()
    yield connector.control.failover("ungraceful")
    yield router.wait(ROUTE_POINT, "ConnectionClearedEvent")
    (cleared,) = router.of(ROUTE_POINT, "ConnectionClearedEvent")
    assert (cleared.dropped_connection.call_id, cleared.cause) == (held, "switchingFunctionTerminated")
    yield router.wait_request("RouteEndRequest")
    (end,) = router.requests_of("RouteEndRequest")
    assert end.routing_cross_ref_id == request.routing_cross_ref_id and end.error_value is not None
    assert [c for c, _ in cleared_lines(lms_lines, ROUTE_POINT)] == [held]
    assert connector.core.route_points.manager.update_requests == 1  # the wave's, no client asked
    router.close()


@pytest_twisted.inlineCallbacks
def test_renewal_clears_a_stuck_route_point_call(bw_validator, lms_lines):
    connector = yield start(contact_centre_config({"subscription_renew_interval": 1, "subscription_renew_jitter": 0}))
    try:
        router = yield router_of(connector, "ber")
        yield router.monitor(ROUTE_POINT)
        yield router.register()
        yield connector.control.place_call("2001", ROUTE_POINT)
        yield router.next_route_request()
        yield connector.control.failover("ungraceful")
        yield router.wait(ROUTE_POINT, "ConnectionClearedEvent")
        yield router.wait_request("RouteEndRequest")
        assert len(cleared_lines(lms_lines, ROUTE_POINT)) == 1
        router.close()
    finally:
        yield connector.stopService()
    assert [(d, data) for d, data in connector.documents if bw_validator(data)] == []


@pytest_twisted.inlineCallbacks
def test_a_routeing_dialogue_and_a_treatment_over_an_xsi_link(bw_validator):
    """The same services with the connector's one link an Xsi link (Xsi-Events
    channel, Xsi-Actions requests): the route point's requests go as their
    Xsi HTTP requests."""
    connector = yield start(contact_centre_config({"app_controller": "ctl", "protocols": ("xsi",)}))
    try:
        router = yield router_of(connector, "xml")
        yield router.monitor(ROUTE_POINT, "2003")
        yield router.register()
        yield wait_until(lambda: connector.core.route_points.controller_state, lambda s: s == "ready", "ready")
        call = yield connector.control.place_call("2001", ROUTE_POINT)
        request = yield router.next_route_request()
        connection = m.ConnectionID(call_id=call["extTrackingId"], device_id=ROUTE_POINT)
        yield router.request(m.PlayMessage(message_to_be_played="2", over_connection=connection))
        yield router.wait(ROUTE_POINT, "PlayEvent")
        router.select(request, "2003")
        yield router.wait("2003", "DeliveredEvent")
        yield connector.control.user_action("2003", "answer")
        yield router.wait_request("RouteEndRequest")
        assert router.requests_of("RouteEndRequest")[0].error_value is None
        (stop,) = router.of(ROUTE_POINT, "StopEvent")
        assert (stop.message, stop.cause) == ("2", "distributed")
        router.close()
    finally:
        yield connector.stopService()
    assert [data for _, data in connector.documents if b"XspXMLInterface" in data] == []  # all of it Xsi
    assert [(d, data) for d, data in connector.documents if bw_validator(data)] == []
