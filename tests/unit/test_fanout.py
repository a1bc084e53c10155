"""Fan-out: each event encoded once per wire, every monitor gets its own cross-reference id."""

import dataclasses

import pytest

from csta_connector.csta import framing, messages as m, wire as w, xml_codec
from csta_connector.csta.ber import codec as ber
from csta_connector.services.fanout import MonitorRegistry

EVENT = m.DeliveredEvent(
    cross_ref_id="", connection=m.ConnectionID(call_id="7:1", device_id="2002"),
    alerting_device="2002", calling_device="2001", called_device="2002",
    local_connection_info="alerting", cause="newCall",
)
CLEARED = m.ConnectionClearedEvent(
    cross_ref_id="", dropped_connection=m.ConnectionID(call_id="7:1", device_id="2002"),
    releasing_device="2002", local_connection_info="null", cause="normalClearing",
)


class Session:
    """A CSTA session's fan-out face over a real wire adapter, counting encodes."""

    def __init__(self, wire):
        self.wire = wire
        self.encodes = 0
        self.frames = []

    @property
    def event_key(self):
        return self.wire.event_key

    def encode_event(self, event):
        self.encodes += 1
        return self.wire.encode_event(event)

    def send_encoded_event(self, name, encoded):
        self.frames.append(self.wire.event_from_encoded(encoded))


def decoded_events(session):
    if isinstance(session.wire, w.XmlWire):
        out = []
        for frame in session.frames:
            for invoke_id, body in framing.XmlFrameDecoder().feed(frame):
                assert invoke_id == 9999
                out.append(xml_codec.decode(body)[0])
        return out
    out = []
    for frame in session.frames:
        (apdu,) = framing.BerFrameDecoder(session.wire.framing_mode).feed(frame)
        invoke = ber.decode_apdu(apdu)
        assert invoke.is_event
        out.append(invoke.message)
    return out


def test_each_event_is_encoded_once_per_wire_and_stamped_per_monitor():
    registry = MonitorRegistry()
    xml_a, xml_b = Session(w.XmlWire(xml_codec.ED3)), Session(w.XmlWire(xml_codec.ED3))
    xml_ed4 = Session(w.XmlWire(xml_codec.ED4))
    ber_a, ber_b = Session(w.BerWire("length2")), Session(w.BerWire("length2"))
    sessions = [xml_a, xml_b, xml_ed4, ber_a, ber_b]
    monitors = {}
    for session in sessions:
        registry.add(session, "2001", "2001@example.com")  # another device: not involved
        monitors[session] = [registry.add(session, "2002", "2002@example.com") for _ in range(2)]
    sent = registry.deliver("2002", [EVENT, CLEARED])
    assert sent == 2 * 2 * len(sessions)
    # ED3 XML: 2 encodes for 2 sessions; ED4: 2; BER: 2 for 2 sessions
    assert xml_a.encodes + xml_b.encodes == 2
    assert xml_ed4.encodes == 2
    assert ber_a.encodes + ber_b.encodes == 2
    for session in sessions:
        got = decoded_events(session)
        expected = [
            dataclasses.replace(event, cross_ref_id=monitor.cross_ref_id)
            for monitor in monitors[session]
            for event in (EVENT, CLEARED)
        ]
        assert got == expected


def test_excluded_sessions_and_sessions_not_running_get_nothing():
    registry = MonitorRegistry()
    a, b = Session(w.XmlWire()), Session(w.XmlWire())
    registry.add(a, "2002", "u")
    registry.add(b, "2002", "u")
    assert registry.deliver("2002", [EVENT], exclude=(a,)) == 1
    assert a.frames == [] and len(b.frames) == 1


def test_cross_ref_ids_are_fixed_width_and_unique_per_session():
    registry = MonitorRegistry()
    session = Session(w.XmlWire())
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
