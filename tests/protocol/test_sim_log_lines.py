"""The BroadWorks simulator's own log lines (374xx): each with its catalog id,
its level and the fields that say what happened. The XSP server over a
StringTransport on a Clock; the engine directly."""

import pytest
from twisted.internet.task import Clock

from csta_connector import lms
from csta_connector.broadworks import requests, xsp
from csta_connector.simulator.contact_centre import ContactCentreSettings
from csta_connector.simulator.engine import CallEngine
from csta_connector.simulator.xsp_server import XspServer
from csta_connector.testing import XspWire


def said(lms_lines, message):
    """The fields of every ``message`` line logged so far, rendered lines checked."""
    lines = [e for e in lms_lines if lms.is_message(e, message)]
    for event in lines:
        assert event["lms_level"] == message.level
        assert " %d Simulator" % message.id in lms.render_line(event)
    return [{name: e[name] for name in message.field_names} for e in lines]


@pytest.fixture
def clock():
    c = Clock()
    c.advance(1_700_000_000)
    return c


@pytest.fixture
def engine(clock):
    e = CallEngine(clock, users=10)
    yield e
    e.stop()


@pytest.fixture
def server(engine, clock):
    s = XspServer(engine, clock, ack_timeout=5.0, max_attempts=3, front_ends=2)
    yield s
    s.stop()
    engine.stop()
    assert clock.getDelayedCalls() == []


def test_a_malformed_document_is_dropped_with_37414_and_the_connection_stays(server, lms_lines,
                                                                             bw_validator):
    wire = XspWire(server, bw_validator, front_end=1)
    wire.protocol.dataReceived(b"<xsp:request><requestId>1</requestId><oops></xsp:request>\n")
    assert wire.read() == [] and not wire.transport.disconnecting
    (fields,) = said(lms_lines, lms.SIMULATOR_MALFORMED_DOCUMENT)
    assert fields["xsp"] == 2 and fields["error"]
    wire.ok(requests.add_channel("cs", 1, 50, 3600, "app"))  # the next document is served


def test_an_unusable_byte_stream_closes_the_connection_with_37413(server, lms_lines):
    wire = XspWire(server)
    wire.protocol.dataReceived(b"SSH-2.0-OpenSSH_9.0\r\n")
    assert wire.transport.disconnecting
    assert said(lms_lines, lms.SIMULATOR_UNUSABLE_STREAM) == [
        {"xsp": 1, "error": "text outside of any XML document"}
    ]


def test_channel_added_then_an_event_never_acknowledged_is_dropped(server, engine, clock, lms_lines,
                                                                   bw_validator):
    wire = XspWire(server, bw_validator)
    response, _ = wire.ok(requests.add_channel("cs", 1, 50, 3600, "app"))
    channel_id = xsp.xsi_values(response.payload)["channelId"]
    assert said(lms_lines, lms.SIMULATOR_CHANNEL_ADDED) == [{"channel_id": channel_id, "channel_set": "cs"}]
    wire.subscribe("2001@example.com", requests.ADVANCED_CALL)
    engine.dial("2001", "2002")
    keys = {event.request_id for event in wire.documents()}  # not acknowledged
    assert keys
    for _ in range(2):  # re-sent on the only channel there is, still not acknowledged
        clock.advance(5.0)
        assert {d.request_id for d in wire.documents()} == keys
    assert said(lms_lines, lms.SIMULATOR_EVENT_UNACKNOWLEDGED) == []
    clock.advance(5.0)
    assert wire.documents() == []
    dropped = said(lms_lines, lms.SIMULATOR_EVENT_UNACKNOWLEDGED)
    assert sorted(line["key"] for line in dropped) == sorted(keys)
    assert {line["attempts"] for line in dropped} == {3}


def test_an_event_for_a_channel_set_without_channels_is_dropped_at_debug(server, engine, lms_lines):
    wire = XspWire(server)
    wire.ok(requests.add_channel("cs", 1, 50, 3600, "app"))
    wire.subscribe("2001@example.com", requests.ADVANCED_CALL)
    wire.protocol.connectionLost(None)  # the channel goes with its connection
    engine.dial("2001", "2002")
    dropped = said(lms_lines, lms.SIMULATOR_EVENT_NO_CHANNEL)
    assert dropped and {line["channel_set"] for line in dropped} == {"cs"}
    assert lms.SIMULATOR_EVENT_NO_CHANNEL.level == "Debug"


def test_dial_failover_and_an_orphan_hanging_up_say_so(engine, lms_lines):
    call = engine.dial("2001", "2002")
    assert said(lms_lines, lms.SIMULATOR_CALL_DIALED) == [
        {"user": "2001@example.com", "address": "2002", "call": call.ext_tracking_id}
    ]
    engine.answer("2002@example.com")
    engine.failover("ungraceful")
    engine.hang_up("2001@example.com")  # the phone: no AS knows the call
    engine.failover("graceful")
    # one line per failover, from the engine (whoever asked for it)
    assert said(lms_lines, lms.SIMULATOR_FAILOVER) == [
        {"mode": "ungraceful", "active_as": "secondary", "orphaned": 1},
        {"mode": "graceful", "active_as": "primary", "orphaned": 0},
    ]
    assert said(lms_lines, lms.SIMULATOR_ORPHAN_HUNG_UP) == [{"call": call.ext_tracking_id}]


def test_a_failing_listener_is_logged_with_its_traceback_and_the_others_still_hear(engine, lms_lines):
    heard = []

    def broken(notification):
        raise RuntimeError("listener bug")

    engine.add_listener(broken)
    engine.add_listener(heard.append)
    engine.dial("2001", "2002")
    failed = [e for e in lms_lines if lms.is_message(e, lms.SIMULATOR_LISTENER_FAILED)]
    assert failed and len(failed) == len(heard)
    assert failed[0]["listener"] is broken and failed[0]["event"] == heard[0].event_type
    assert "RuntimeError: listener bug" in lms.render_line(failed[0])


def test_what_cannot_be_provisioned_is_named(clock, lms_lines):
    settings = ContactCentreSettings(call_centers=(("2003", ("2002",)), ("5001", ("2002", "2999"))),
                                     route_points=("2004",))
    engine = CallEngine(clock, users=10, contact_centre=settings)
    try:
        assert said(lms_lines, lms.SIMULATOR_EXTENSION_TAKEN) == [
            {"kind": "call center", "extension": "2003"},
            {"kind": "route point", "extension": "2004"},
        ]
        assert said(lms_lines, lms.SIMULATOR_AGENT_UNKNOWN) == [{"agent": "2999", "extension": "5001"}]
    finally:
        engine.stop()
