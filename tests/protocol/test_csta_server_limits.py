"""What one CSTA client may cost the connector (issue 17), on StringTransport +
Clock: a frame must complete within frame-timeout, a BER client must send
its AARQ within it, and a client that stops reading is disconnected past
max-output-buffer. One Standard line each; other clients are unaffected."""

import pytest

from csta_connector.csta import framing, messages as m
from csta_connector.csta.ber.acse import AssociationRequest
from csta_connector.csta.ber import codec as ber
from csta_connector.csta.server import CLOSED, RUNNING
from csta_connector.testing import ListenerOnClock, xml_frames, xml_request

TIMEOUT = 5.0


@pytest.fixture
def listener():
    made = []

    def make(encoding="auto", **settings):
        made.append(ListenerOnClock(encoding, frame_timeout=TIMEOUT, **settings))
        return made[-1]

    yield make
    for listener in made:
        assert listener.disconnect_all() == []


def said(lines, lms_id):
    return [e for e in lines if e["lms_id"] == lms_id]


def closed(protocol, transport):
    return protocol.state is CLOSED and transport.disconnecting


AARQ = framing.encode_ber_frame(ber.encode_apdu(AssociationRequest(csta_versions=(4,))))


def test_a_header_one_byte_a_second_is_closed_at_the_frame_timeout(listener, lms_lines):
    on_clock = listener()
    protocol, transport = on_clock.connect()
    other, other_transport = on_clock.connect()
    other.dataReceived(xml_request(1, m.SystemStatusResponse()))  # a client going about its business
    header = xml_request(7, m.MonitorStart(device="2001"))[:8]
    for byte in header[:5]:  # at 0, 1, 2, 3 and 4 s
        protocol.dataReceived(bytes([byte]))
        assert not closed(protocol, transport)  # not taken for a silent XML client either
        on_clock.clock.advance(1)
    assert closed(protocol, transport)  # 5 s after its first byte
    assert transport.value() == b""
    (line,) = said(lms_lines, 37313)
    assert (line["client"], line["timeout"], line["received"]) == (protocol.name, TIMEOUT, 5)
    assert other.state is RUNNING and not other_transport.disconnecting


@pytest.mark.parametrize("encoding, first_bytes, received", [
    ("auto", b"\x00\x00\xff\xff0007", 8),  # an XML header announcing 65,535 bytes, then silence
    ("xml", b"\x00\x00\xff\xff0007<?xml", 13),
    ("auto", b"\x00\x40", 2),  # a BER length prefix, then silence
    ("auto", b"\x00\x40\x60\x3e", 4),  # a BER length, the AARQ's first bytes, then silence
    ("ber", b"\x00\x40", 2),
])
def test_a_partial_frame_then_silence_is_closed_at_the_frame_timeout(
        listener, lms_lines, encoding, first_bytes, received):
    on_clock = listener(encoding)
    protocol, transport = on_clock.connect()
    protocol.dataReceived(first_bytes)
    on_clock.clock.advance(TIMEOUT - 0.01)
    assert not closed(protocol, transport)
    on_clock.clock.advance(0.02)
    assert closed(protocol, transport)
    assert [e["received"] for e in said(lms_lines, 37313)] == [received]
    assert said(lms_lines, 37314) == []  # one line for the one fact


def test_frames_that_complete_in_time_are_served_however_long_the_connection(listener, lms_lines):
    on_clock = listener("xml")
    protocol, transport = on_clock.connect()
    xml_frames(transport)
    for n in range(4):
        frame = xml_request(10 + n, m.MonitorStart(device="200%d" % n))
        protocol.dataReceived(frame[:20])
        on_clock.clock.advance(TIMEOUT - 1)
        # the rest of this frame and the start of the next, in one segment
        protocol.dataReceived(frame[20:] + xml_request(20 + n, m.RequestSystemStatus())[:5])
        on_clock.clock.advance(TIMEOUT - 1)
        protocol.dataReceived(xml_request(20 + n, m.RequestSystemStatus())[5:])
    assert protocol.state is RUNNING
    assert len(xml_frames(transport)) == 8  # every request answered
    assert said(lms_lines, 37313) == []


def test_a_ber_client_silent_after_connecting_is_closed_at_the_frame_timeout(listener, lms_lines):
    on_clock = listener("ber")
    protocol, transport = on_clock.connect()
    on_clock.clock.advance(TIMEOUT - 0.01)
    assert not closed(protocol, transport)
    on_clock.clock.advance(0.02)
    assert closed(protocol, transport)
    (line,) = said(lms_lines, 37314)
    assert (line["client"], line["timeout"]) == (protocol.name, TIMEOUT)


def test_a_ber_client_that_associates_in_time_stays(listener, lms_lines):
    on_clock = listener("ber")
    protocol, transport = on_clock.connect()
    on_clock.clock.advance(TIMEOUT - 1)
    protocol.dataReceived(AARQ)
    on_clock.clock.advance(TIMEOUT * 10)
    assert protocol.state is RUNNING and not transport.disconnecting
    assert said(lms_lines, 37314) == [] and said(lms_lines, 37313) == []


def test_the_session_is_the_transports_streaming_producer(listener):
    protocol, transport = listener().connect()
    assert transport.producer is protocol and transport.streaming


def test_a_client_that_stops_reading_is_disconnected_past_the_cap(listener, lms_lines):
    on_clock = listener("xml", max_output_buffer=64 * 1024)
    protocol, transport = on_clock.connect()
    other, other_transport = on_clock.connect()
    event = framing.encode_xml_frame(9999, b"<x>" + b"y" * 1000 + b"</x>")
    protocol.pauseProducing()  # what the transport says once its send buffer is full
    other.pauseProducing()
    written = 0
    while written + len(event) <= 64 * 1024:
        protocol.write(event)
        other.write(event)
        written += len(event)
    other.resumeProducing()  # the other one reads: its buffer drained
    protocol.pauseProducing()  # told again on the next write: still full
    assert not transport.disconnecting
    protocol.write(event)
    assert closed(protocol, transport)
    (line,) = said(lms_lines, 37315)
    assert (line["client"], line["pending"], line["limit"]) == (
        protocol.name, written + len(event), 64 * 1024)
    before = len(transport.value())
    protocol.write(event)  # nothing more once closed
    assert len(transport.value()) == before
    other.write(event)
    assert other.state is RUNNING and not other_transport.disconnecting


def test_output_is_counted_only_while_the_transport_is_full(listener, lms_lines):
    on_clock = listener("xml", max_output_buffer=64 * 1024)
    protocol, transport = on_clock.connect()
    event = framing.encode_xml_frame(9999, b"<x>" + b"y" * 30000 + b"</x>")
    for _ in range(20):  # 600 kB: the client reads, between pauses
        protocol.write(event)
        protocol.pauseProducing()
        protocol.write(event)
        protocol.resumeProducing()
    assert protocol.state is RUNNING and said(lms_lines, 37315) == []
