"""Fan-out: each event encoded once per wire, every monitor gets its own cross-reference id."""

import dataclasses

import pytest

from csta_connector.csta import framing, messages as m, xml_codec
from csta_connector.csta.ber import codec as ber
from csta_connector.csta.ber.acse import AssociationRequest
from csta_connector.csta.server import CLOSED
from csta_connector.services.counts import EventCounts
from csta_connector.services.fanout import MonitorRegistry
from csta_connector.testing import ListenerOnClock, ber_apdus, xml_frames, xml_request

EVENT = m.DeliveredEvent(
    cross_ref_id="", connection=m.ConnectionID(call_id="7:1", device_id="2002"),
    alerting_device="2002", calling_device="2001", called_device="2002",
    local_connection_info="alerting", cause="newCall",
)
CLEARED = m.ConnectionClearedEvent(
    cross_ref_id="", dropped_connection=m.ConnectionID(call_id="7:1", device_id="2002"),
    releasing_device="2002", local_connection_info="null", cause="normalClearing",
)


def xml_session(listener, namespace=xml_codec.ED3):
    """A running XML session whose client spoke ``namespace`` first."""
    protocol, transport = listener.connect()
    protocol.dataReceived(xml_request(1, m.RequestSystemStatus(), namespace))
    transport.clear()
    return count_encodes(protocol), transport


def ber_session(listener):
    protocol, transport = listener.connect()
    protocol.dataReceived(framing.encode_ber_frame(ber.encode_apdu(AssociationRequest(csta_versions=(4,)))))
    transport.clear()
    return count_encodes(protocol), transport


def count_encodes(protocol):
    wire = protocol.wire
    encode = wire.encode_event
    protocol.encodes = 0

    def counted(event):
        protocol.encodes += 1
        return encode(event)

    wire.encode_event = counted
    return protocol


def decoded_events(protocol, transport):
    if protocol.wire.encoding == "xml":
        frames = xml_frames(transport)
        assert {invoke_id for invoke_id, _ in frames} <= {9999}
        return [message for _, (message, _) in frames]
    invokes = ber_apdus(transport, protocol.wire.framing_mode)
    assert all(invoke.is_event for invoke in invokes)
    return [invoke.message for invoke in invokes]


@pytest.fixture
def listener():
    listener = ListenerOnClock("auto")
    yield listener
    assert listener.disconnect_all() == []


def test_each_event_is_encoded_once_per_wire_and_stamped_per_monitor(listener):
    registry = MonitorRegistry()
    xml_a, xml_b = xml_session(listener), xml_session(listener)
    xml_ed4 = xml_session(listener, xml_codec.ED4)
    ber_a, ber_b = ber_session(listener), ber_session(listener)
    sessions = [xml_a, xml_b, xml_ed4, ber_a, ber_b]
    monitors = {}
    for session, _ in sessions:
        registry.add(session, "2001", "2001@example.com")  # another device: not involved
        monitors[session] = [registry.add(session, "2002", "2002@example.com") for _ in range(2)]
    sent = registry.deliver("2002", [EVENT, CLEARED])
    assert sent == 2 * 2 * len(sessions)
    # ED3 XML: 2 encodes for 2 sessions; ED4: 2; BER: 2 for 2 sessions
    assert xml_a[0].encodes + xml_b[0].encodes == 2
    assert xml_ed4[0].encodes == 2
    assert ber_a[0].encodes + ber_b[0].encodes == 2
    for session, transport in sessions:
        got = decoded_events(session, transport)
        expected = [
            dataclasses.replace(event, cross_ref_id=monitor.cross_ref_id)
            for monitor in monitors[session]
            for event in (EVENT, CLEARED)
        ]
        assert got == expected
    # the one count of CSTA events out: each written, by type
    assert registry.counts.sent == {"DeliveredEvent": 2 * len(sessions), "ConnectionClearedEvent": 2 * len(sessions)}
    assert registry.counts.events_out == sent


def test_excluded_sessions_and_sessions_not_running_get_nothing(listener):
    counts = EventCounts()
    registry = MonitorRegistry(counts)
    (a, a_transport), (b, b_transport) = xml_session(listener), xml_session(listener)
    closing, closing_transport = xml_session(listener)
    for session in (a, b, closing):
        registry.add(session, "2002", "u")
    closing.dataReceived(b"\x01\x02garbage")  # closed at once: the monitor stays until connectionLost
    assert closing.state is CLOSED
    closing_transport.clear()
    assert registry.deliver("2002", [EVENT], exclude=(a,)) == 1
    assert a_transport.value() == b"" and closing_transport.value() == b""
    assert len(decoded_events(b, b_transport)) == 1
    assert counts.sent == {"DeliveredEvent": 1}


def test_cross_ref_ids_are_fixed_width_and_unique_per_session(listener):
    registry = MonitorRegistry()
    session, _ = xml_session(listener)
    ids = [registry.add(session, "d%d" % i, "u").cross_ref_id for i in range(50)]
    assert len(set(ids)) == 50 and {len(i) for i in ids} == {6}


@pytest.mark.parametrize("invoke_id", [1, 127, 128, 255, 256, 32767])
def test_hand_built_event_invoke_equals_the_codecs(invoke_id):
    event = dataclasses.replace(EVENT, cross_ref_id="000042")
    expected = ber.encode_apdu(ber.invoke(invoke_id, event))
    assert ber.event_invoke(invoke_id, ber.encode_event_argument(event)) == expected


def test_hand_built_event_invoke_with_long_lengths():
    items = tuple(
        m.ConnectionListItem(new_connection=m.ConnectionID(call_id="%d:1" % i, device_id="20%02d" % i),
                             old_connection=None, endpoint="20%02d" % i)
        for i in range(40)
    )
    event = m.TransferredEvent(
        cross_ref_id="000001", primary_old_call=m.ConnectionID(call_id="1:1", device_id="2001"),
        transferring_device="2001", transferred_to_device="2003", transferred_connections=items,
        local_connection_info="connected", cause="transfer",
    )
    argument = ber.encode_event_argument(event)
    assert len(argument) > 256
    assert ber.event_invoke(300, argument) == ber.encode_apdu(ber.invoke(300, event))
