"""The CSTA server protocol on StringTransport + Clock, both encodings."""

import pytest
from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from zope.interface import implementer

from csta_connector.csta import framing, messages as m, xml_codec
from csta_connector.csta.ber import codec as ber
from csta_connector.csta.ber.acse import AssociationRequest, AssociationResponse
from csta_connector.csta.ber.rose import Invoke, Reject, ReturnError, ReturnResult
from csta_connector.csta.server import CSTARequestError, CSTAServerFactory, ListenerSettings
from csta_connector.interfaces import ICSTAServices

ED4 = xml_codec.ED4


@implementer(ICSTAServices)
class FakeServices:
    def __init__(self):
        self.opened, self.closed, self.requests = [], [], []
        self.pending = None

    def session_opened(self, session):
        self.opened.append(session)

    def session_closed(self, session):
        self.closed.append(session)

    def handle(self, session, request):
        self.requests.append(request)
        if isinstance(request, m.MonitorStart):
            if request.device == "0000":
                raise CSTARequestError("operation", "invalidDeviceID")
            return m.MonitorStartResponse(cross_ref_id="0001")
        if isinstance(request, m.SnapshotDevice):
            self.pending = defer.Deferred()
            return self.pending
        raise CSTARequestError("operation", "serviceNotSupported")


def server(encoding="auto", **settings):
    clock = Clock()
    services = FakeServices()
    factory = CSTAServerFactory(services, clock, ListenerSettings(encoding=encoding, detect_timeout=1.0, request_timeout=30, **settings))
    protocol = factory.buildProtocol(None)
    transport = StringTransport()
    protocol.makeConnection(transport)
    return clock, services, factory, protocol, transport


def xml_frames(transport):
    frames = framing.XmlFrameDecoder().feed(transport.value())
    transport.clear()
    return [(invoke_id, xml_codec.decode(body)) for invoke_id, body in frames]


def ber_apdus(transport):
    apdus = framing.BerFrameDecoder().feed(transport.value())
    transport.clear()
    return [ber.decode_apdu(a) for a in apdus]


def xml_request(invoke_id, message, namespace=xml_codec.ED3):
    return framing.encode_xml_frame(invoke_id, xml_codec.encode(message, namespace))


def test_silent_client_is_xml_and_gets_system_status_after_the_detect_timeout():
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


def test_xml_request_split_at_every_byte_gets_its_answer_with_the_same_invoke_id():
    clock, services, factory, protocol, transport = server()
    data = xml_request(42, m.MonitorStart(device="2001"), ED4)
    for i in range(len(data)):
        protocol.dataReceived(data[i : i + 1])
    frames = xml_frames(transport)
    assert isinstance(frames[0][1][0], m.SystemStatus)  # detected as XML: session start
    invoke_id, (response, namespace) = frames[-1]
    assert (invoke_id, response, namespace) == (42, m.MonitorStartResponse(cross_ref_id="0001"), ED4)


def test_events_use_invoke_id_9999_in_the_clients_namespace():
    clock, services, factory, protocol, transport = server()
    protocol.dataReceived(xml_request(1, m.MonitorStart(device="2001"), ED4))
    transport.clear()
    event = m.HeldEvent(cross_ref_id="0001", held_connection=m.ConnectionID(call_id="1:1", device_id="2001"),
                        holding_device="2001", local_connection_info="hold", cause="normal")
    protocol.send_event(event)
    ((invoke_id, (decoded, namespace)),) = xml_frames(transport)
    assert (invoke_id, decoded, namespace) == (9999, event, ED4)


def test_errors_for_refused_unknown_and_malformed_requests_keep_the_connection():
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


def test_garbage_frame_closes_only_that_connection():
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


def test_request_without_answer_times_out_with_a_csta_error():
    clock, services, factory, protocol, transport = server("xml")
    xml_frames(transport)
    protocol.dataReceived(xml_request(11, m.SnapshotDevice(device="2001")))
    clock.advance(29)
    assert xml_frames(transport) == []
    clock.advance(2)
    ((invoke_id, (error, _)),) = xml_frames(transport)
    assert invoke_id == 11 and error.category == "performanceManagement"
    assert services.pending.called  # the service's Deferred was cancelled


def test_connection_lost_cancels_pending_requests_and_closes_the_session():
    clock, services, factory, protocol, transport = server("xml")
    protocol.dataReceived(xml_request(11, m.SnapshotDevice(device="2001")))
    protocol.connectionLost(None)
    assert services.pending.called
    assert services.closed == [protocol]
    assert factory.sessions == set()
    assert [c for c in clock.getDelayedCalls() if c.active()] == []


def test_system_status_changes_reach_every_session():
    clock, services, factory, protocol, transport = server("xml")
    xml_frames(transport)
    factory.set_system_status("disabled")
    ((_, (message, _)),) = xml_frames(transport)
    assert message == m.SystemStatus(status="disabled")
    protocol.dataReceived(xml_request(3, m.RequestSystemStatus()))
    ((_, (answer, _)),) = xml_frames(transport)
    assert answer.status == "disabled"


def test_ecma354_application_session():
    clock, services, factory, protocol, transport = server("xml")
    xml_frames(transport)
    start = m.StartApplicationSession(application_id="tsrv", requested_protocol_versions=(xml_codec.ED3,), requested_session_duration=600)
    protocol.dataReceived(xml_request(1, start))
    ((_, (answer, _)),) = xml_frames(transport)
    assert isinstance(answer, m.StartApplicationSessionPosResponse)
    assert answer.actual_session_duration == 600 and answer.session_id


@pytest.mark.parametrize("mode", ["length2", "hipath"])
def test_ber_association_then_system_status_then_requests(mode):
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


def test_ber_unknown_opcode_is_rejected_and_malformed_apdu_rejected():
    clock, services, factory, protocol, transport = server("ber")
    protocol.dataReceived(framing.encode_ber_frame(ber.encode_apdu(AssociationRequest(csta_versions=(4,)))))
    ber_apdus(transport)
    unknown = Invoke(9, 51, None, argument=b"\x30\x00")
    protocol.dataReceived(framing.encode_ber_frame(ber.encode_apdu(unknown)))
    protocol.dataReceived(framing.encode_ber_frame(b"\xa1\x03\x02\x01"))
    reject, malformed = ber_apdus(transport)
    assert isinstance(reject, Reject) and reject.invoke_id == 9 and reject.problem == "unrecognizedOperation"
    assert isinstance(malformed, Reject)
    assert not transport.disconnecting


def test_ber_client_that_does_not_associate_is_closed():
    clock, services, factory, protocol, transport = server("ber")
    protocol.dataReceived(framing.encode_ber_frame(ber.encode_apdu(ber.invoke(1, m.MonitorStart(device="2001")))))
    assert transport.disconnecting
