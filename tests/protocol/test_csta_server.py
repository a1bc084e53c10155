"""The CSTA server protocol on StringTransport + Clock, both encodings.

Every test ends with each session's connection lost and no delayed call
left on the clock (the ``listener`` fixture checks it)."""

import dataclasses

import pytest
from twisted.internet.testing import StringTransport

from csta_connector.config import default_config
from csta_connector.csta import framing, messages as m, wire as w, xml_codec
from csta_connector.csta.ber import codec as ber
from csta_connector.csta.ber.acse import AssociationRequest, AssociationResponse
from csta_connector.csta.ber.rose import Invoke, Reject, ReturnError, ReturnResult
from csta_connector.csta.server import (
    ASSOCIATING, CLOSED, DETECTING, RUNNING, ListenerSettings, SessionState,
)
from csta_connector.services.fanout import MonitorRegistry
from csta_connector.status import DISABLED, NORMAL, SystemStatus
from csta_connector.testing import ListenerOnClock, ber_apdus, xml_frames, xml_request

ED4 = xml_codec.ED4


@pytest.fixture
def listeners():
    """Listeners made by a test; at its end every session is disconnected and
    no timer may be left."""
    made = []
    yield made
    for listener in made:
        assert listener.disconnect_all() == []


@pytest.fixture
def server(listeners):
    """``server(encoding, **settings)`` -> (clock, services, factory, protocol, transport)."""

    def connected(encoding="auto", **settings):
        listener = ListenerOnClock(encoding, **settings)
        listeners.append(listener)
        protocol, transport = listener.connect()
        return listener.clock, listener.services, listener.factory, protocol, transport

    return connected


def test_silent_client_is_xml_and_gets_system_status_after_the_detect_timeout(server):
    clock, services, factory, protocol, transport = server()
    clock.advance(0.9)
    assert transport.value() == b""
    clock.advance(0.2)
    ((invoke_id, (message, namespace)),) = xml_frames(transport)
    assert isinstance(message, m.SystemStatus) and message.status == "normal"
    assert 0 < invoke_id < 9999 and namespace == xml_codec.ED3
    assert services.opened == [protocol]
    # the client answers with the same invoke id: nothing more is pending
    protocol.dataReceived(xml_request(invoke_id, m.SystemStatusResponse()))
    assert protocol._outgoing == {}


def test_xml_request_split_at_every_byte_gets_its_answer_with_the_same_invoke_id(server):
    clock, services, factory, protocol, transport = server()
    data = xml_request(42, m.MonitorStart(device="2001"), ED4)
    for i in range(len(data)):
        protocol.dataReceived(data[i : i + 1])
    frames = xml_frames(transport)
    assert isinstance(frames[0][1][0], m.SystemStatus)  # detected as XML: session start
    invoke_id, (response, namespace) = frames[-1]
    assert (invoke_id, response, namespace) == (42, m.MonitorStartResponse(cross_ref_id="0001"), ED4)


def test_events_use_invoke_id_9999_in_the_clients_namespace(server):
    clock, services, factory, protocol, transport = server()
    protocol.dataReceived(xml_request(1, m.MonitorStart(device="2001"), ED4))
    transport.clear()
    registry = MonitorRegistry()
    monitor = registry.add(protocol, "2001", "2001@example.com")
    event = m.HeldEvent(cross_ref_id="", held_connection=m.ConnectionID(call_id="1:1", device_id="2001"),
                        holding_device="2001", local_connection_info="hold", cause="normal")
    assert registry.deliver("2001", [event]) == 1
    ((invoke_id, (decoded, namespace)),) = xml_frames(transport)
    expected = dataclasses.replace(event, cross_ref_id=monitor.cross_ref_id)
    assert (invoke_id, decoded, namespace) == (9999, expected, ED4)
    assert registry.counts.sent == {"HeldEvent": 1}


def test_ber_events_and_our_requests_share_the_associations_invoke_ids(server):
    clock, services, factory, protocol, transport = server("ber")
    protocol.dataReceived(framing.encode_ber_frame(ber.encode_apdu(AssociationRequest(csta_versions=(4,)))))
    aare, status = ber_apdus(transport)
    registry = MonitorRegistry()
    registry.add(protocol, "2001", "2001@example.com")
    event = m.HeldEvent(cross_ref_id="", held_connection=m.ConnectionID(call_id="1:1", device_id="2001"),
                        holding_device="2001", local_connection_info="hold", cause="normal")
    registry.deliver("2001", [event, event])
    factory.status.set(DISABLED)
    invokes = ber_apdus(transport)
    assert [(i.invoke_id, i.is_event) for i in invokes] == [
        (status.invoke_id + 1, True), (status.invoke_id + 2, True), (status.invoke_id + 3, False)
    ]


def test_errors_for_refused_unknown_and_malformed_requests_keep_the_connection(server):
    clock, services, factory, protocol, transport = server("xml")
    xml_frames(transport)
    protocol.dataReceived(xml_request(5, m.MonitorStart(device="0000")))
    unknown = b'<?xml version="1.0"?><SetDoNotDisturb xmlns="http://www.ecma-international.org/standards/ecma-323/csta/ed3"/>'
    protocol.dataReceived(framing.encode_xml_frame(6, unknown))
    protocol.dataReceived(framing.encode_xml_frame(7, b"<MonitorStart><monitorObject>"))
    protocol.dataReceived(xml_request(8, m.RequestSystemStatus()))
    answers = {invoke_id: message for invoke_id, (message, _) in xml_frames(transport)}
    assert answers[5] == m.CSTAError(category="operation", value="invalidDeviceID")
    assert answers[6] == m.CSTAError(category="operation", value="serviceNotSupported")
    assert isinstance(answers[7], m.CSTAError)
    assert answers[8] == m.RequestSystemStatusResponse(status="normal")
    assert not transport.disconnecting


def test_garbage_frame_closes_only_that_connection(server):
    clock, services, factory, protocol, transport = server()
    other = factory.buildProtocol(None)
    other_transport = StringTransport()
    other.makeConnection(other_transport)
    protocol.dataReceived(b"GET / HTTP/1.1\r\n\r\n")
    assert transport.disconnecting
    assert not other_transport.disconnecting
    # an XML client whose frame header goes bad later is closed too
    clock, services, factory, protocol, transport = server("xml")
    protocol.dataReceived(b"\x00\x00\x00\x03abcd")
    assert transport.disconnecting


def test_request_without_answer_times_out_with_a_csta_error(server):
    clock, services, factory, protocol, transport = server("xml")
    xml_frames(transport)
    protocol.dataReceived(xml_request(11, m.SnapshotDevice(device="2001")))
    clock.advance(29)
    assert xml_frames(transport) == []
    clock.advance(2)
    ((invoke_id, (error, _)),) = xml_frames(transport)
    assert invoke_id == 11 and error.category == "performanceManagement"
    assert services.pending.called  # the service's Deferred was cancelled


def test_connection_lost_cancels_pending_requests_and_closes_the_session(server):
    clock, services, factory, protocol, transport = server("xml")
    protocol.dataReceived(xml_request(11, m.SnapshotDevice(device="2001")))
    protocol.connectionLost(None)
    assert services.pending.called
    assert services.closed == [protocol]
    assert factory.sessions == set()
    assert [c for c in clock.getDelayedCalls() if c.active()] == []


def test_system_status_changes_reach_every_running_session():
    status = SystemStatus(DISABLED)
    listener = ListenerOnClock("auto", status=status)
    xml, xml_transport = listener.connect()
    xml.dataReceived(xml_request(1, m.RequestSystemStatus()))
    ber_client, ber_transport = listener.connect()
    ber_client.dataReceived(framing.encode_ber_frame(ber.encode_apdu(AssociationRequest(csta_versions=(4,)))))
    detecting, detecting_transport = listener.connect()
    # a new session is told the status of the moment
    first = [message for _, (message, _) in xml_frames(xml_transport)]
    assert first == [m.SystemStatus(status=DISABLED), m.RequestSystemStatusResponse(status=DISABLED)]
    assert ber_apdus(ber_transport)[1].message == m.SystemStatus(status=DISABLED)

    status.set(NORMAL)
    ((_, (message, _)),) = xml_frames(xml_transport)
    assert message == m.SystemStatus(status=NORMAL)
    (invoke,) = ber_apdus(ber_transport)
    assert invoke.message == m.SystemStatus(status=NORMAL)
    assert detecting_transport.value() == b""  # not in session yet: it learns it at the start
    xml.dataReceived(xml_request(3, m.RequestSystemStatus()))
    ((_, (answer, _)),) = xml_frames(xml_transport)
    assert answer.status == NORMAL

    # a listener that stopped tells nobody
    listener.factory.doStart()
    listener.factory.doStop()
    status.set(DISABLED)
    assert xml_transport.value() == b"" and ber_transport.value() == b""
    assert listener.disconnect_all() == []


def test_ecma354_application_session(server):
    clock, services, factory, protocol, transport = server("xml")
    xml_frames(transport)
    start = m.StartApplicationSession(application_id="tsrv", requested_protocol_versions=(xml_codec.ED3,), requested_session_duration=600)
    protocol.dataReceived(xml_request(1, start))
    ((_, (answer, _)),) = xml_frames(transport)
    assert isinstance(answer, m.StartApplicationSessionPosResponse)
    assert answer.actual_session_duration == 600 and answer.session_id


@pytest.mark.parametrize("mode", ["length2", "hipath"])
def test_ber_association_then_system_status_then_requests(server, mode):
    clock, services, factory, protocol, transport = server()
    aarq = framing.encode_ber_frame(ber.encode_apdu(AssociationRequest(csta_versions=(4,))), mode)
    for i in range(len(aarq)):
        protocol.dataReceived(aarq[i : i + 1])
    apdus = framing.BerFrameDecoder(mode).feed(transport.value())
    transport.clear()
    aare, status = [ber.decode_apdu(a) for a in apdus]
    assert isinstance(aare, AssociationResponse) and aare.accepted
    assert isinstance(status, Invoke) and status.opcode == 211 and status.message.status == "normal"
    send = lambda obj: protocol.dataReceived(framing.encode_ber_frame(ber.encode_apdu(obj), mode))
    send(ReturnResult(status.invoke_id, 211, m.SystemStatusResponse()))
    send(ber.invoke(7, m.MonitorStart(device="2001")))
    send(ber.invoke(8, m.MonitorStart(device="0000")))
    answers = [ber.decode_apdu(a) for a in framing.BerFrameDecoder(mode).feed(transport.value())]
    assert answers[0] == ReturnResult(7, 71, m.MonitorStartResponse(cross_ref_id="0001"))
    assert isinstance(answers[1], ReturnError) and answers[1].invoke_id == 8
    assert answers[1].error == m.CSTAError(category="operation", value="invalidDeviceID")


def test_ber_unknown_opcode_is_rejected_and_malformed_apdu_rejected(server):
    clock, services, factory, protocol, transport = server("ber")
    protocol.dataReceived(framing.encode_ber_frame(ber.encode_apdu(AssociationRequest(csta_versions=(4,)))))
    ber_apdus(transport)
    unknown = Invoke(9, 51, None, argument=b"\x30\x00")
    protocol.dataReceived(framing.encode_ber_frame(ber.encode_apdu(unknown)))
    protocol.dataReceived(framing.encode_ber_frame(b"\xa1\x03\x02\x01"))
    # MonitorStart (71) whose argument is an OCTET STRING, not its SEQUENCE
    protocol.dataReceived(framing.encode_ber_frame(ber.encode_apdu(Invoke(10, 71, None, argument=b"\x04\x01\x00"))))
    reject, malformed, mistyped = ber_apdus(transport)
    assert isinstance(reject, Reject) and reject.invoke_id == 9 and reject.problem == "unrecognizedOperation"
    assert isinstance(malformed, Reject) and malformed.problem == "badlyStructuredPDU"
    assert (mistyped.invoke_id, mistyped.problem) == (10, "mistypedArgument")
    assert not transport.disconnecting


def test_an_event_from_a_ber_client_is_rejected():
    listener = ListenerOnClock("ber")
    protocol, transport = listener.connect()
    protocol.dataReceived(framing.encode_ber_frame(ber.encode_apdu(AssociationRequest(csta_versions=(4,)))))
    ber_apdus(transport)
    event = m.HeldEvent(cross_ref_id="000001", held_connection=m.ConnectionID(call_id="1:1", device_id="2001"),
                        holding_device="2001", local_connection_info="hold", cause="normal")
    protocol.dataReceived(framing.encode_ber_frame(ber.encode_apdu(ber.invoke(12, event))))
    (reject,) = ber_apdus(transport)
    assert (reject.invoke_id, reject.problem) == (12, "badlyStructuredPDU")
    assert protocol.state is RUNNING
    assert listener.disconnect_all() == []


def test_ber_client_that_does_not_associate_is_closed(server):
    clock, services, factory, protocol, transport = server("ber")
    protocol.dataReceived(framing.encode_ber_frame(ber.encode_apdu(ber.invoke(1, m.MonitorStart(device="2001")))))
    assert transport.disconnecting


def test_session_states_from_detection_to_closed(server):
    clock, services, factory, protocol, transport = server()
    assert protocol.state is DETECTING and protocol.wire is None
    protocol.dataReceived(framing.encode_ber_frame(ber.encode_apdu(AssociationRequest(csta_versions=(4,))))[:3])
    assert protocol.state is ASSOCIATING and isinstance(protocol.wire, w.BerWire)
    protocol.dataReceived(framing.encode_ber_frame(ber.encode_apdu(AssociationRequest(csta_versions=(4,))))[3:])
    assert protocol.state is RUNNING and services.opened == [protocol]
    protocol.connectionLost(None)
    assert protocol.state is CLOSED and services.closed == [protocol]
    # the state is text too, for code that compares it with a string
    assert protocol.state == "closed" and isinstance(protocol.state, SessionState)
    # nothing goes back
    with pytest.raises(RuntimeError):
        protocol._enter(RUNNING)
    assert transport.value()  # AARE and SystemStatus went out while it was running
    transport.clear()
    protocol.dataReceived(b"\x00\x05")
    protocol.write(b"late")
    assert transport.value() == b""


def test_stop_application_session_closes_after_its_response(server):
    clock, services, factory, protocol, transport = server("xml")
    xml_frames(transport)
    protocol.dataReceived(xml_request(4, m.StopApplicationSession(session_id="s")))
    ((invoke_id, (answer, _)),) = xml_frames(transport)
    assert (invoke_id, answer) == (4, m.StopApplicationSessionPosResponse())
    assert not transport.disconnecting
    clock.advance(0)
    assert transport.disconnecting
    # a client gone before the close leaves no timer behind
    clock, services, factory, protocol, transport = server("xml")
    protocol.dataReceived(xml_request(4, m.StopApplicationSession(session_id="s")))
    protocol.connectionLost(None)
    assert [c for c in clock.getDelayedCalls() if c.func.__name__ == "_stop_session"] == []


def test_listener_settings_from_the_configuration():
    config = default_config()
    config = dataclasses.replace(
        config,
        csta=dataclasses.replace(config.csta, encoding="ber", detect_timeout=0.5, ber_framing="hipath",
                                 xml_namespace="ed4"),
        connector=dataclasses.replace(config.connector, request_timeout=40.0, snapshot_timeout=5.0),
    )
    assert ListenerSettings.from_config(config) == ListenerSettings(
        encoding="ber", detect_timeout=0.5, ber_framing="hipath", xml_namespace="ed4", request_timeout=45.0
    )
    quick = dataclasses.replace(config, connector=dataclasses.replace(config.connector, request_timeout=2.0))
    assert ListenerSettings.from_config(quick).request_timeout == 30.0


@pytest.mark.parametrize("encoding", ["xml", "ber"])
def test_a_one_way_request_is_answered_only_when_refused(server, encoding):
    clock, services, factory, protocol, transport = server(encoding)
    client = w.XmlWire(role=w.Role.CLIENT) if encoding == "xml" else w.BerWire(role=w.Role.CLIENT)
    if encoding == "ber":
        protocol.dataReceived(client.request_association())
    else:
        clock.advance(1.1)
    client.feed(transport.value())  # the AARE, the SystemStatus
    transport.clear()
    protocol.dataReceived(client.request(11, m.RouteSelectRequest(routing_cross_ref_id="R1", route_selected="2003")))
    assert transport.value() == b""
    protocol.dataReceived(client.request(12, m.RouteSelectRequest(routing_cross_ref_id="unknown",
                                                                   route_selected="2003")))
    (answer,) = client.feed(transport.value())
    assert answer == w.Incoming(w.Kind.ERROR, 12, m.CSTAError(category="operation",
                                                             value="invalidRouteingCrossRefID"))


@pytest.mark.parametrize("encoding", ["xml", "ber"])
def test_a_one_way_request_of_the_connector_awaits_no_answer(server, encoding):
    clock, services, factory, protocol, transport = server(encoding)
    if encoding == "ber":
        protocol.dataReceived(framing.encode_ber_frame(ber.encode_apdu(AssociationRequest(csta_versions=(4,)))))
    else:
        clock.advance(1.1)
    client = w.XmlWire(role=w.Role.CLIENT) if encoding == "xml" else w.BerWire(role=w.Role.CLIENT)
    for item in client.feed(transport.value()):
        if item.kind is w.Kind.REQUEST:  # the SystemStatus
            protocol.dataReceived(client.result(item.invoke_id, m.SystemStatusResponse()))
    transport.clear()
    assert protocol._outgoing == {}
    request = m.RouteRequest(routing_cross_ref_id="R1", current_route="6001")
    protocol.send_request(request)
    (sent,) = client.feed(transport.value())
    assert (sent.kind, sent.message) == (w.Kind.REQUEST, request)
    assert protocol._outgoing == {}
