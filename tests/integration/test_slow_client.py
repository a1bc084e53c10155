"""Greedy and stalled clients over real loopback TCP (issue 17): a client
that stops reading under about 1,000 events/s is disconnected past
max-output-buffer with one Standard line and its monitors released, while a
client monitoring the same devices gets every event; connections that stall
in a frame are closed after frame-timeout, one line each, while another
client is served."""

import dataclasses
import socket

import pytest_twisted
from twisted.internet import defer, reactor, task

from csta_connector.connector import ConnectorService
from csta_connector.csta import messages as m
from csta_connector.csta.client import connect
from csta_connector.testing import free_port_config

DEVICES = [str(2001 + n) for n in range(50)]
PAIRS = list(zip(DEVICES[0::2], DEVICES[1::2]))
CAP = 256 * 1024


def pause(seconds):
    return task.deferLater(reactor, seconds, lambda: None)


@pytest_twisted.inlineCallbacks
def test_a_client_that_stops_reading_is_disconnected_and_the_others_get_every_event(lms_lines):
    config = free_port_config(users=60)
    config = dataclasses.replace(config, csta=dataclasses.replace(config.csta, max_output_buffer=CAP))
    connector = ConnectorService(config, reactor)
    connector.startService()
    try:
        yield connector.channel_set.when_ready()
        slow = yield connect(reactor, "127.0.0.1", connector.csta_port, "xml")
        reader = yield connect(reactor, "127.0.0.1", connector.csta_port, "ber")
        for device in DEVICES:
            yield slow.request(m.MonitorStart(device=device))
            yield reader.request(m.MonitorStart(device=device))
        assert connector.core.monitors.count == 100
        port = slow.transport.getHost().port
        (session,) = [s for s in connector.csta_factory.sessions if s.transport.getPeer().port == port]
        # small socket buffers: the kernel would otherwise hold megabytes of
        # loopback data before the connector's own buffer starts to grow
        session.transport.getHandle().setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
        slow.transport.getHandle().setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        slow.transport.pauseProducing()  # it reads no more

        engine = connector.simulator.engine
        calls = 0
        for _ in range(60):  # 6 s at most: 14 calls (~100 events) every 0.1 s
            for caller, callee in PAIRS[:14]:
                engine.dial(caller + "@example.com", callee)
                engine.answer(callee + "@example.com")
                engine.release(caller + "@example.com")
                calls += 1
            yield pause(0.1)
            if session.state == "closed" and calls >= 350:
                break
        assert session.state == "closed"
        yield reader.events.wait_for(
            lambda items: sum(isinstance(e, m.CallClearedEvent) for e in items) == calls,
            timeout=10, what="every call cleared at the reading client")
        events = reader.events.items
        assert sum(isinstance(e, m.ConnectionClearedEvent) for e in events) == 2 * calls
        assert sum(isinstance(e, m.EstablishedEvent) for e in events) == 2 * calls
        (line,) = [e for e in lms_lines if e["lms_id"] == 37315]
        assert line["client"] == session.name and line["limit"] == CAP and line["pending"] > CAP
        # its monitors are released; the reader's stay
        assert connector.core.monitors.count == 50
        assert connector.core.monitors.of_session(session) == []
        assert len(connector.core.subscriptions.subscriptions) == 50
        assert reader.connected
    finally:
        yield connector.stopService()


@pytest_twisted.inlineCallbacks
def test_connections_stalled_in_a_frame_are_closed_and_the_others_served(lms_lines):
    from twisted.internet.endpoints import TCP4ClientEndpoint
    from twisted.internet.protocol import Factory, Protocol

    config = free_port_config()
    config = dataclasses.replace(config, csta=dataclasses.replace(config.csta, frame_timeout=0.5))
    connector = ConnectorService(config, reactor)
    connector.startService()
    try:
        yield connector.channel_set.when_ready()

        class Stalling(Protocol):
            def connectionMade(self):
                self.lost = defer.Deferred()

            def connectionLost(self, reason):
                self.lost.callback(None)

        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", connector.csta_port)
        stalled = []
        for first_bytes in (b"\x00\x00\xff\xff0001", b"\x00\x40", b"\x00"):
            protocol = yield endpoint.connect(Factory.forProtocol(Stalling))
            protocol.transport.write(first_bytes)
            stalled.append(protocol)
        trickling = yield endpoint.connect(Factory.forProtocol(Stalling))
        stalled.append(trickling)
        served = yield connect(reactor, "127.0.0.1", connector.csta_port, "xml")
        header = b"\x00\x00\x00\x400002"
        for n in range(len(header)):  # a header one byte every 0.1 s
            if not trickling.lost.called:
                trickling.transport.write(header[n:n + 1])
            yield served.request(m.MonitorStart(device=str(2001 + n)))  # served meanwhile
            yield pause(0.1)
        yield defer.DeferredList([protocol.lost for protocol in stalled])
        received = sorted(e["received"] for e in lms_lines if e["lms_id"] == 37313)
        assert len(received) == 4 and 1 in received and 2 in received and 8 in received
        received.remove(1), received.remove(2), received.remove(8)
        assert 0 < received[0] < len(header)  # the trickled header, cut short
        assert served.connected and connector.core.monitors.count == len(header)
    finally:
        yield connector.stopService()
