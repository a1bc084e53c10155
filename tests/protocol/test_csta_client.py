"""The CSTA client protocol on StringTransport + Clock, the test playing the
server with a server-end wire. Every test ends with no delayed call left."""

import pytest
from twisted.internet import defer, error
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure

from csta_connector.csta import framing, messages as m, wire as w
from csta_connector.csta.ber.rose import Reject
from csta_connector.csta.client import ClientConnectionLost, CSTAClientProtocol, CSTAErrorResponse
from csta_connector.waiting import WaitTimeout

HELD = m.HeldEvent(cross_ref_id="000001", held_connection=m.ConnectionID(call_id="1:1", device_id="2001"),
                   holding_device="2001", local_connection_info="hold", cause="normal")


class Peer:
    """A connected client and the server's end of the same connection."""

    def __init__(self, encoding="xml"):
        self.clock = Clock()
        self.client = CSTAClientProtocol(self.clock, encoding=encoding, timeout=10.0)
        self.transport = StringTransport()
        self.client.makeConnection(self.transport)
        self.server = w.XmlWire() if encoding == "xml" else w.BerWire()

    def received(self):
        """What the client sent, as the server reads it."""
        items = self.server.feed(self.transport.value())
        self.transport.clear()
        return items

    def send(self, data):
        self.client.dataReceived(data)

    def start_session(self):
        status_id = self.server.next_invoke_id()
        self.send(self.server.request(status_id, m.SystemStatus(status="normal")))
        return status_id


def outcome(d):
    results = []
    d.addBoth(results.append)
    return results


@pytest.fixture
def peers():
    made = []
    yield lambda encoding="xml": made.append(Peer(encoding)) or made[-1]
    for peer in made:
        if peer.client.connected:
            peer.client.connectionLost(Failure(error.ConnectionDone()))
        assert peer.clock.getDelayedCalls() == []


def test_xml_session_start_request_response_and_events(peers):
    peer = peers()
    ready = outcome(peer.client.when_ready())
    assert peer.transport.value() == b""  # XML: the server speaks first
    status_id = peer.start_session()
    assert ready == [["normal"]] and peer.client.system_statuses == ["normal"]
    (answer,) = peer.received()
    assert answer == w.Incoming(w.Kind.RESULT, status_id, m.SystemStatusResponse())

    response = outcome(peer.client.request(m.MonitorStart(device="2001")))
    (request,) = peer.received()
    assert request.kind is w.Kind.REQUEST and request.message == m.MonitorStart(device="2001")
    peer.send(peer.server.result(request.invoke_id, m.MonitorStartResponse(cross_ref_id="000001")))
    assert response == [m.MonitorStartResponse(cross_ref_id="000001")]
    peer.send(peer.server.event(HELD))
    assert peer.client.events.items == [HELD] and peer.client.events_of("000001") == [HELD]


def test_ber_association_then_errors_and_rejects_fail_their_requests(peers):
    peer = peers("ber")
    (aarq,) = peer.received()
    assert aarq.kind is w.Kind.ASSOCIATE
    peer.send(peer.server.associate(aarq.message))
    peer.start_session()
    peer.received()
    refused = outcome(peer.client.request(m.MonitorStart(device="0000")))
    rejected = outcome(peer.client.request(m.MonitorStart(device="2001")))
    first, second = peer.received()
    peer.send(peer.server.error(first.invoke_id, m.CSTAError(category="operation", value="invalidDeviceID")))
    peer.send(peer.server.unknown(second.invoke_id))
    assert refused[0].check(CSTAErrorResponse) and str(refused[0].value) == "operation/invalidDeviceID"
    assert rejected[0].check(CSTAErrorResponse)
    assert rejected[0].value.error == Reject.unrecognized_operation(second.invoke_id)
    peer.send(peer.server.event(HELD))
    assert peer.client.events.items == [HELD]


def test_a_request_times_out_or_is_cancelled_and_is_forgotten(peers):
    peer = peers()
    peer.start_session()
    peer.received()
    late = outcome(peer.client.request(m.SnapshotDevice(device="2001")))
    peer.clock.advance(10)
    assert late[0].check(defer.TimeoutError) and str(late[0].value) == "no answer within 10 s"
    d = peer.client.request(m.SnapshotDevice(device="2001"))
    cancelled = outcome(d)
    d.cancel()
    assert cancelled[0].check(defer.CancelledError)
    assert peer.client._pending == {} and peer.clock.getDelayedCalls() == []
    # a late answer to a forgotten request changes nothing
    first, second = peer.received()
    peer.send(peer.server.result(second.invoke_id, m.SnapshotDeviceResponse()))


def test_connection_lost_fails_what_is_pending_and_what_is_awaited(peers):
    peer = peers()
    not_ready = outcome(peer.client.when_ready(5.0))
    pending = outcome(peer.client.request(m.RequestSystemStatus()))
    events = outcome(peer.client.events.wait_for(lambda items: len(items) > 0, None))
    peer.client.connectionLost(Failure(error.ConnectionLost()))
    for failed in (not_ready, pending, events):
        assert failed[0].check(ClientConnectionLost) and str(failed[0].value) == "connection lost"
    assert outcome(peer.client.when_ready())[0].check(ClientConnectionLost)
    assert outcome(peer.client.request(m.RequestSystemStatus()))[0].check(ClientConnectionLost)


def test_a_session_that_does_not_start_times_out_and_a_cancelled_wait_is_gone(peers):
    peer = peers()
    waited = outcome(peer.client.when_ready(2.0))
    peer.clock.advance(2)
    assert waited[0].check(WaitTimeout)
    d = peer.client.when_ready(2.0)
    d.cancel()
    assert outcome(d)[0].check(defer.CancelledError)
    assert peer.clock.getDelayedCalls() == []


def test_garbage_from_the_server_closes_the_connection(peers):
    peer = peers()
    peer.send(b"HTTP/1.1 400 Bad Request\r\n")
    assert peer.transport.disconnecting or peer.transport.disconnected
    peer.client.connectionLost(Failure(error.ConnectionDone()))


def test_a_server_request_other_than_system_status_is_refused(peers):
    peer = peers()
    peer.start_session()
    peer.received()
    peer.send(framing.encode_xml_frame(77, b'<MonitorStop xmlns="http://www.ecma-international.org/'
                                           b'standards/ecma-323/csta/ed3"><monitorCrossRefID>1'
                                           b'</monitorCrossRefID></MonitorStop>'))
    (answer,) = peer.received()
    assert answer == w.Incoming(w.Kind.ERROR, 77, m.CSTAError(category="operation", value="serviceNotSupported"))


@pytest.mark.parametrize("encoding", ["xml", "ber"])
def test_the_servers_one_way_requests_are_kept_and_never_answered(peers, encoding):
    peer = peers(encoding)
    if encoding == "ber":
        peer.server.feed(peer.transport.value())  # the AARQ
        peer.transport.clear()
    peer.start_session()
    peer.received()
    route = m.RouteRequest(routing_cross_ref_id="R1", current_route="6001",
                           routed_call=m.ConnectionID(call_id="7:1", device_id="6001"))
    end = m.RouteEndRequest(routing_cross_ref_id="R1")
    for message in (route, end):
        peer.send(peer.server.request(peer.server.next_invoke_id(), message))
    assert peer.client.requests.items == [route, end]
    assert peer.received() == []


@pytest.mark.parametrize("encoding", ["xml", "ber"])
def test_a_one_way_request_sent_is_not_awaited_and_its_refusal_is_kept(peers, encoding):
    peer = peers(encoding)
    if encoding == "ber":
        peer.server.feed(peer.transport.value())
        peer.transport.clear()
    peer.start_session()
    peer.received()
    select = m.RouteSelectRequest(routing_cross_ref_id="R9", route_selected="2003")
    assert peer.client.send(select) is None
    (sent,) = peer.received()
    assert (sent.kind, sent.message) == (w.Kind.REQUEST, select)
    assert peer.clock.getDelayedCalls() == []  # no answer is awaited
    error = m.CSTAError(category="operation", value="invalidRouteingCrossRefID")
    peer.send(peer.server.error(sent.invoke_id, error))
    assert peer.client.refusals.items == [(select, error)]
