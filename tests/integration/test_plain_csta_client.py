"""What a plain third-party CSTA client expects (issue 17), over real
loopback TCP: a ClearConnection naming a deviceID alone, and
``[csta] snapshot-requester-events`` both ways."""

import dataclasses

import pytest
import pytest_twisted
from twisted.internet import reactor, task

from csta_connector.connector import ConnectorService
from csta_connector.csta import messages as m
from csta_connector.csta.client import CSTAErrorResponse, connect
from csta_connector.simulator.control_client import ControlClient
from csta_connector.testing import free_port_config

ED3 = b"http://www.ecma-international.org/standards/ecma-323/csta/ed3"


def clear_connection_of(device: str) -> bytes:
    # as the OpenScape-style library writes it: no callID in the connection
    return (b'<?xml version="1.0" encoding="UTF-8"?><ClearConnection xmlns="' + ED3 + b'">'
            b"<connectionToBeCleared><deviceID>" + device.encode() + b"</deviceID>"
            b"</connectionToBeCleared></ClearConnection>")


def of(client, xref, kind=None):
    return [e for e in client.events.items
            if e.cross_ref_id == xref and (kind is None or type(e).__name__ == kind)]


@pytest_twisted.inlineCallbacks
def test_clear_connection_of_a_device_id_alone(embedded_connector):
    connector = embedded_connector
    client = yield connect(reactor, "127.0.0.1", connector.csta_port, "xml")
    xref = (yield client.request(m.MonitorStart(device="2001"))).cross_ref_id
    yield connector.control.place_call("2001", "2002")
    yield client.events.wait_for(lambda items: of(client, xref, "OriginatedEvent"), what="originated")
    response = yield client.send_raw(41, clear_connection_of("2001"))
    assert isinstance(response, m.ClearConnectionResponse)
    yield client.events.wait_for(lambda items: of(client, xref, "ConnectionClearedEvent"), what="cleared")
    # two calls at the device: which one is meant cannot be told
    yield connector.control.place_call("2001", "2003")
    yield connector.control.place_call("2001", "2004")
    yield client.events.wait_for(lambda items: len(of(client, xref, "OriginatedEvent")) == 3,
                                 what="two calls up")
    with pytest.raises(CSTAErrorResponse) as refused:
        yield client.send_raw(42, clear_connection_of("2001"))
    assert refused.value.error == m.CSTAError(category="operation", value="invalidConnectionID")
    assert len(connector.core.model.parties_of("2001")) == 2  # nothing cleared
    client.transport.loseConnection()


@pytest.mark.parametrize("requester_events", [False, True])
@pytest_twisted.inlineCallbacks
def test_snapshot_requester_events(requester_events):
    config = free_port_config()
    config = dataclasses.replace(config, csta=dataclasses.replace(
        config.csta, snapshot_requester_events=requester_events))
    connector = ConnectorService(config, reactor)
    connector.startService()
    try:
        yield connector.channel_set.when_ready()
        control = ControlClient(reactor, "127.0.0.1", connector.simulator.control_port)
        asker = yield connect(reactor, "127.0.0.1", connector.csta_port, "xml")
        other = yield connect(reactor, "127.0.0.1", connector.csta_port, "ber")
        xref = (yield asker.request(m.MonitorStart(device="2001"))).cross_ref_id
        other_xref = (yield other.request(m.MonitorStart(device="2001"))).cross_ref_id
        placed = yield control.place_call("2001", "2002")
        yield control.user_action("2002", "answer")
        yield asker.events.wait_for(lambda items: of(asker, xref, "EstablishedEvent"), what="answered")
        # the AS dies: 2001 originated the call, so only a snapshot finds it stuck
        yield control.failover("ungraceful")
        yield task.deferLater(reactor, 0.5, lambda: None)
        assert of(asker, xref, "ConnectionClearedEvent") == []
        seen_at_response = []
        snapshot = asker.request(m.SnapshotDevice(device="2001"))
        snapshot.addCallback(lambda response: seen_at_response.append(len(of(asker, xref))) or response)
        assert (yield snapshot).items == ()
        yield other.events.wait_for(lambda items: of(other, other_xref, "CallClearedEvent"),
                                    what="the other client told")
        yield task.deferLater(reactor, 0.2, lambda: None)
        told = [type(e).__name__ for e in of(asker, xref)[seen_at_response[0]:]]
        if requester_events:
            assert told == ["ConnectionClearedEvent", "CallClearedEvent"]  # after its response
            cleared = of(asker, xref, "ConnectionClearedEvent")[0]
            assert cleared.dropped_connection == m.ConnectionID(call_id=placed["extTrackingId"], device_id="2001")
            assert cleared.cause == "switchingFunctionTerminated"
        else:
            assert told == []  # it learns it from its response alone
        assert [type(e).__name__ for e in of(other, other_xref)][-2:] == [
            "ConnectionClearedEvent", "CallClearedEvent"]
        asker.transport.loseConnection()
        other.transport.loseConnection()
    finally:
        yield connector.stopService()
