"""The channel set on a Clock: back-off schedule, routing by priority, link state, no timers left."""

import pytest
from twisted.internet import defer
from twisted.internet.error import ConnectionRefusedError
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.logger import capturedLogs
from twisted.python.failure import Failure

from csta_connector import lms
from csta_connector.broadworks import requests, stream, xsp
from csta_connector.broadworks.channelset import ChannelSet
from csta_connector.broadworks.errors import NoLinkAvailable
from csta_connector.broadworks.link import LinkSettings
from csta_connector.testing import RecordingEventSink


class RefusingEndpoint:
    def __init__(self, clock):
        self.clock = clock
        self.attempts = []

    def connect(self, factory):
        self.attempts.append(self.clock.seconds())
        return defer.fail(ConnectionRefusedError("refused"))


class StringEndpoint:
    """Connects at once over a StringTransport; the test plays the XSP."""

    def __init__(self, clock):
        self.clock = clock
        self.protocols = []
        self.attempts = []

    def connect(self, factory):
        self.attempts.append(self.clock.seconds())
        protocol = factory.buildProtocol(None)
        transport = StringTransport()
        protocol.makeConnection(transport)
        self.protocols.append((protocol, transport))
        return defer.succeed(protocol)

    def accept_channel(self, index=-1):
        protocol, transport = self.protocols[index]
        (request,) = [xsp.decode(d) for d in stream.DocumentSplitter().feed(transport.value())]
        transport.clear()
        protocol.dataReceived(xsp.encode(xsp.Response(
            request.request_id, request.session_id, 200, "OK",
            xsp.xsi_element("Channel", ("channelId", "ch-%d" % len(self.protocols)), ("expires", 3600)))))
        return protocol, transport


def settings(name, priority=1):
    return LinkSettings("cs", "app", name=name, priority=priority, kpl_interval=0)


def test_reconnection_backs_off_exponentially_up_to_the_cap():
    clock = Clock()
    channel_set = ChannelSet(clock, recovery_delay=10, max_recovery_delay=40, jitter=lambda: 0.0)
    endpoint = RefusingEndpoint(clock)
    channel_set.add_link(settings("link-a"), endpoint)
    with capturedLogs() as events:
        channel_set.startService()
        for _ in range(8):
            clock.advance(1)
            clock.advance(max((c.getTime() for c in clock.getDelayedCalls()), default=clock.seconds()) - clock.seconds())
    gaps = [round(b - a) for a, b in zip(endpoint.attempts, endpoint.attempts[1:])]
    assert gaps[:5] == [10, 20, 40, 40, 40]
    channel_set.stopService()
    assert clock.getDelayedCalls() == []
    # each attempt and each wait is a Trace line (37101, 37107)
    lines = [lms.render_line(e).split(" ", 2)[2] for e in events if e.get("lms_id") in (37101, 37107)]
    assert lines[:4] == [
        "37101 Link link-a (cti): connecting to ?:0",
        "37107 Link link-a (cti): reconnecting to ?:0 in 10.0 s",
        "37101 Link link-a (cti): connecting to ?:0",
        "37107 Link link-a (cti): reconnecting to ?:0 in 20.0 s",
    ]
    assert lines.count("37101 Link link-a (cti): connecting to ?:0") == len(endpoint.attempts)


def test_requests_prefer_the_best_priority_and_fail_fast_without_links():
    clock = Clock()
    sink = RecordingEventSink(clock)
    channel_set = ChannelSet(clock, sink=sink, recovery_delay=5, jitter=lambda: 0.0)
    failures = []
    channel_set.request(requests.update_subscription("s", 3600)).addErrback(failures.append)
    assert failures[0].check(NoLinkAvailable)
    primary, secondary = StringEndpoint(clock), StringEndpoint(clock)
    channel_set.add_link(settings("link-a", priority=2), secondary)
    channel_set.add_link(settings("link-b", priority=1), primary)
    channel_set.startService()
    secondary.accept_channel()
    primary.accept_channel()
    assert sink.link_states[-1] == (2, 2)
    for _ in range(3):
        channel_set.request(requests.update_subscription("s", 3600)).addErrback(lambda f: None)
    assert b"UpdateSubscriptionRequest" in primary.protocols[-1][1].value()
    assert b"UpdateSubscriptionRequest" not in secondary.protocols[-1][1].value()
    # the preferred link goes: requests move to the other one
    protocol, transport = primary.protocols[-1]
    protocol.connectionLost(Failure(ConnectionRefusedError("gone")))
    assert sink.link_states[-1] == (1, 2)
    channel_set.request(requests.update_subscription("s", 3600)).addErrback(lambda f: None)
    assert b"UpdateSubscriptionRequest" in secondary.protocols[-1][1].value()
    # it comes back by itself after the recovery delay, and is reported recovered
    clock.advance(5)
    primary.accept_channel()
    assert ("recovered", "link-b") in sink.link_states
    assert sink.link_states[-1] == ("recovered", "link-b")
    assert (2, 2) in sink.link_states[-3:]
    channel_set.stopService()
    for protocol, transport in secondary.protocols + primary.protocols:
        if transport.disconnecting:  # a real transport would now report the close
            protocol.connectionLost(Failure(ConnectionRefusedError("closed")))
    assert clock.getDelayedCalls() == []


def test_all_links_down_is_reported_once_and_waiters_fail_on_stop():
    clock = Clock()
    sink = RecordingEventSink(clock)
    channel_set = ChannelSet(clock, sink=sink, recovery_delay=5, jitter=lambda: 0.0)
    endpoint = StringEndpoint(clock)
    channel_set.add_link(settings("link-a"), endpoint)
    channel_set.startService()
    waited = []
    channel_set.when_ready().addCallback(waited.append)
    endpoint.accept_channel()
    assert waited == [channel_set]
    endpoint.protocols[-1][0].connectionLost(Failure(ConnectionRefusedError("gone")))
    assert sink.link_states == [(1, 1), (0, 1)]
    failures = []
    channel_set.when_ready().addErrback(failures.append)
    channel_set.stopService()
    assert failures and failures[0].check(NoLinkAvailable)
    assert clock.getDelayedCalls() == []


def test_a_forgotten_subscription_leaves_no_state_behind():
    from csta_connector.broadworks import xsi

    clock = Clock()
    channel_set = ChannelSet(clock, jitter=lambda: 0.0)
    endpoint = StringEndpoint(clock)
    channel_set.add_link(settings("link-a"), endpoint)
    channel_set.startService()
    protocol, _ = endpoint.accept_channel()
    event = xsi.SubscriptionEvent("HookStatusEvent", "e1", 3, "u", "app", "tmp-1", "ch", None, hook_status="On-Hook")
    protocol.dataReceived(xsp.encode(xsp.Event("E1", xsi.event_element(event))))
    assert "tmp-1" in channel_set._affinity and "tmp-1" in channel_set.ordering._last_sequence
    channel_set.forget_subscription("tmp-1")
    assert "tmp-1" not in channel_set._affinity and "tmp-1" not in channel_set.ordering._last_sequence
    _stop(channel_set, endpoint)
    assert clock.getDelayedCalls() == []


def _stop(channel_set, *endpoints):
    """Stop the set; each connection it closes reports its end, as a real
    transport would."""
    channel_set.stopService()
    for endpoint in endpoints:
        for protocol, transport in endpoint.protocols:
            if transport.disconnecting and protocol._connected:
                protocol.connectionLost(Failure(ConnectionRefusedError("closed")))


def test_a_cancelled_wait_for_a_link_is_forgotten():
    clock = Clock()
    sink = RecordingEventSink(clock)
    channel_set = ChannelSet(clock, sink=sink, jitter=lambda: 0.0)
    endpoint = StringEndpoint(clock)
    channel_set.add_link(settings("link-a"), endpoint)
    waited, cancelled = [], []
    gone = channel_set.when_ready()
    gone.addErrback(cancelled.append)
    channel_set.when_ready().addCallback(waited.append)
    gone.cancel()
    assert cancelled[0].check(defer.CancelledError)
    channel_set.startService()
    endpoint.accept_channel()
    assert waited == [channel_set] and len(cancelled) == 1
    _stop(channel_set, endpoint)
    assert clock.getDelayedCalls() == []


def test_the_sink_is_bound_once_before_the_start():
    clock = Clock()
    channel_set = ChannelSet(clock, jitter=lambda: 0.0)
    sink = RecordingEventSink(clock)
    channel_set.deliver_to(sink)
    assert channel_set.sink is sink
    with pytest.raises(RuntimeError):
        channel_set.deliver_to(RecordingEventSink(clock))
    started = ChannelSet(clock, jitter=lambda: 0.0)
    started.startService()
    with pytest.raises(RuntimeError):
        started.deliver_to(sink)
    started.stopService()
    assert clock.getDelayedCalls() == []
