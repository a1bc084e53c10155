"""The wires: one per encoding, the same for both ends of a connection."""

import dataclasses

import pytest
from zope.interface.verify import verifyObject

from csta_connector.csta import framing, messages as m, xml_codec
from csta_connector.csta.ber import codec as ber
from csta_connector.csta.ber.acse import AssociationRequest
from csta_connector.csta.ber.rose import Reject
from csta_connector.csta.wire import BerWire, Incoming, Kind, Role, XmlWire
from csta_connector.interfaces import IWire

HELD = m.HeldEvent(cross_ref_id="000007", held_connection=m.ConnectionID(call_id="1:1", device_id="2001"),
                   holding_device="2001", local_connection_info="hold", cause="normal")


def pair(encoding):
    """(the connector's wire, a client's wire) of one connection."""
    if encoding == "xml":
        return XmlWire(), XmlWire(xml_codec.ED3, role=Role.CLIENT)
    return BerWire(framing.HIPATH), BerWire(framing.HIPATH, role=Role.CLIENT)


@pytest.mark.parametrize("wire", [XmlWire(), BerWire(), XmlWire(role=Role.CLIENT), BerWire(role=Role.CLIENT)],
                         ids=["xml", "ber", "xml-client", "ber-client"])
def test_both_wires_provide_iwire_completely(wire):
    assert verifyObject(IWire, wire)


@pytest.mark.parametrize("encoding", ["xml", "ber"])
def test_what_one_end_writes_the_other_reads(encoding):
    server, client = pair(encoding)
    if encoding == "ber":
        (aarq,) = server.feed(client.request_association())
        assert aarq.kind is Kind.ASSOCIATE
        (aare,) = client.feed(server.associate(aarq.message))
        assert aare.kind is Kind.ASSOCIATED and aare.message.accepted
    # the client's request, the server's answers
    (request,) = server.feed(client.request(client.next_invoke_id(), m.MonitorStart(device="2001")))
    assert request == Incoming(Kind.REQUEST, 1, m.MonitorStart(device="2001"))
    data = server.result(1, m.MonitorStartResponse(cross_ref_id="000007")) + server.error(
        2, m.CSTAError(category="operation", value="invalidDeviceID"))
    result, error = client.feed(data)
    assert result == Incoming(Kind.RESULT, 1, m.MonitorStartResponse(cross_ref_id="000007"))
    assert error == Incoming(Kind.ERROR, 2, m.CSTAError(category="operation", value="invalidDeviceID"))
    # the server's request and events, the client's answer
    status_id = server.next_invoke_id()
    status, event = client.feed(server.request(status_id, m.SystemStatus(status="normal")) + server.event(HELD))
    assert status == Incoming(Kind.REQUEST, status_id, m.SystemStatus(status="normal"))
    assert (event.kind, event.message) == (Kind.EVENT, HELD)
    (answer,) = server.feed(client.result(status_id, m.SystemStatusResponse()))
    assert answer == Incoming(Kind.RESULT, status_id, m.SystemStatusResponse())


@pytest.mark.parametrize("encoding", ["xml", "ber"])
def test_an_event_encoded_once_reads_as_the_event(encoding):
    server, client = pair(encoding)
    template = dataclasses.replace(HELD, cross_ref_id="XXXXXX")
    encoded = server.encode_event(template)
    data = server.event_from_encoded(encoded.replace(b"XXXXXX", b"000007", 1))
    (event,) = client.feed(data)
    assert (event.kind, event.message) == (Kind.EVENT, HELD)
    assert server.event_key == pair(encoding)[0].event_key


@pytest.mark.parametrize("wire", [XmlWire(), BerWire()], ids=["xml", "ber"])
def test_the_server_end_refuses_events(wire):
    client = XmlWire(role=Role.CLIENT) if wire.encoding == "xml" else BerWire(role=Role.CLIENT)
    (item,) = wire.feed(client.request(5, HELD))
    assert (item.kind, item.invoke_id, item.detail) == (Kind.MALFORMED, 5, "clients do not send events")


def test_invoke_ids_wrap_within_their_encodings_range():
    xml, ber_wire = XmlWire(), BerWire()
    xml._last_invoke, ber_wire._last_invoke = 9997, 32766
    assert [xml.next_invoke_id() for _ in range(3)] == [9998, 1, 2]  # 9999 is the events'
    assert [ber_wire.next_invoke_id() for _ in range(3)] == [32767, 1, 2]


def test_the_xml_server_end_answers_in_the_clients_namespace_the_client_end_keeps_its_own():
    server, client = XmlWire(xml_codec.ED3), XmlWire(xml_codec.ED3, role=Role.CLIENT)
    server.feed(framing.encode_xml_frame(1, xml_codec.encode(m.RequestSystemStatus(), xml_codec.ED5)))
    client.feed(framing.encode_xml_frame(1, xml_codec.encode(m.SystemStatus(status="normal"), xml_codec.ED5)))
    assert (server.namespace, client.namespace) == (xml_codec.ED5, xml_codec.ED3)
    assert server.event_key == ("xml", xml_codec.ED5)


def test_answers_to_what_cannot_be_read():
    xml = XmlWire()
    (unknown, malformed) = xml.feed(
        framing.encode_xml_frame(6, b'<SetDoNotDisturb xmlns="%s"/>' % xml_codec.ED3.encode())
        + framing.encode_xml_frame(7, b"<MonitorStart><monitorObject>")
    )
    assert (unknown.kind, unknown.detail) == (Kind.UNKNOWN, "SetDoNotDisturb")
    assert malformed.kind is Kind.MALFORMED and malformed.detail
    ((_, body),) = framing.XmlFrameDecoder().feed(xml.malformed(7, malformed.detail))
    assert xml_codec.decode(body)[0] == m.CSTAError(category="operation", value="invalidParameterValue")
    assert xml.malformed(None, "no id") is None

    wire = BerWire()
    (item,) = wire.feed(framing.encode_ber_frame(bytes.fromhex("a109020109020147040100")))
    assert item.kind is Kind.MALFORMED and "MonitorStartArgument" in str(item.detail)
    (apdu,) = framing.BerFrameDecoder().feed(wire.malformed(item.invoke_id, item.detail))
    assert ber.decode_apdu(apdu) == Reject(9, "invoke", 2)  # mistypedArgument
    (apdu,) = framing.BerFrameDecoder().feed(wire.malformed(None, "unreadable"))
    assert ber.decode_apdu(apdu) == Reject.badly_structured(None)


def test_a_ber_reject_is_an_answer_to_us_and_a_release_ends_the_association():
    wire = BerWire(role=Role.CLIENT)
    reject, release = wire.feed(
        framing.encode_ber_frame(ber.encode_apdu(Reject.unrecognized_operation(3)))
        + framing.encode_ber_frame(bytes.fromhex("6200"))  # RLRQ
    )
    assert (reject.kind, reject.invoke_id, reject.detail) == (Kind.REJECT, 3, "unrecognizedOperation")
    assert release.kind is Kind.RELEASE
    # an AARQ means nothing to a client, an AARE nothing to a server
    assert wire.feed(BerWire().request_association())[0].kind is Kind.IGNORED
    server = BerWire()
    request = AssociationRequest(csta_versions=(4,))
    assert server.feed(BerWire().associate(request))[0].kind is Kind.IGNORED


def test_frames_dump_as_text_or_hex():
    assert XmlWire().dump(b"<a>caf\xc3\xa9 \xff</a>") == "<a>caf\u00e9 \\xff</a>"
    assert BerWire().dump(b"\x00\x02\xa1\x00") == "00 02 a1 00"
