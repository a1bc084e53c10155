"""A client that stops reading, under about 1,000 events/s (issue 17): over
real loopback TCP it is disconnected past max-output-buffer with one
Standard line and its monitors released; a client monitoring the same
devices gets every event."""

import dataclasses
import socket

import pytest_twisted
from twisted.internet import reactor, task

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
        for _ in range(40):  # 4 s at most: about 16 calls (~100 events) every 0.1 s
            for caller, callee in PAIRS[:16]:
                engine.dial(caller + "@example.com", callee)
                engine.answer(callee + "@example.com")
                engine.release(caller + "@example.com")
                calls += 1
            yield pause(0.1)
            if session.state == "closed" and calls >= 400:
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
