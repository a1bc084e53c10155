"""The Xsi link on a Clock, against an XSP held in memory (twisted.web over iosim):
the channel's stream, requests, acknowledgements, heartbeats, renewal, errors, loss."""

import base64

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from twisted.internet import defer
from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import IStreamClientEndpoint
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactorClock
from twisted.logger import globalLogPublisher
from twisted.python.failure import Failure
from twisted.test import iosim
from twisted.web import resource, server
from zope.interface import implementer
from zope.interface.verify import verifyObject

from csta_connector import lms
from csta_connector.broadworks import eventreader, requests, xsi, xsi_http, xsp
from csta_connector.broadworks import xsi_contact_centre as cc
from csta_connector.broadworks.errors import BroadWorksRequestError, BroadWorksTimeout, LinkLost
from csta_connector.broadworks.link import LinkSettings
from csta_connector.broadworks.xsi_link import (
    XsiChannelEndpoint,
    XsiHttp,
    XsiLinkFactory,
    XsiLinkProtocol,
    XspEndpoints,
)
from csta_connector.csta.server import CSTARequestError
from csta_connector.interfaces import IBroadWorksLink
from csta_connector.services.callcontrol import broadworks_error_to_csta
from csta_connector.testing import RecordingListener

HANG = object()
PEER = IPv4Address("TCP", "192.0.2.7", 80)


class Seen:
    """One request the XSP received."""

    def __init__(self, http_request, name, body):
        self.request = http_request
        self.name = name
        self.method = http_request.method.decode()
        self.target = http_request.uri.decode()
        self.body = body
        self.authorization = http_request.getHeader(b"authorization")

    @property
    def values(self):
        return xsp.xsi_values(xsi_http.parse_body(self.body))


class ScriptedXsp(resource.Resource):
    """An XSP that records every request and answers as scripted (by route
    name: ``(status, reason, payload element or body bytes)`` or HANG; 200 with no body when
    unscripted). The channel POST is held open: the test writes its stream."""

    isLeaf = True

    def __init__(self):
        super().__init__()
        self.seen: list[Seen] = []
        self.script = {}
        self.streams = []

    def render(self, request):
        segments = [s.decode() for s in request.postpath]
        found = xsi_http.match(request.method.decode(), segments)
        name = found[0].name if found else "?"
        self.seen.append(Seen(request, name, request.content.read()))
        answer = self.script.get(name)
        if answer is HANG:
            return server.NOT_DONE_YET
        if answer is None and name == xsi_http.ADD_CHANNEL:
            request.setHeader(b"content-type", xsi_http.STREAM_CONTENT_TYPE)
            self.streams.append(request)
            return server.NOT_DONE_YET
        status, reason, payload = answer if answer is not None else (200, "OK", None)
        request.setResponseCode(status, reason.encode())
        if isinstance(payload, bytes):  # a body as it is
            return payload
        return xsi_http.document(payload) if payload is not None else b""

    def of(self, name):
        return [s for s in self.seen if s.name == name]


@implementer(IStreamClientEndpoint)
class _InMemoryEndpoint:
    def __init__(self, endpoints, address):
        self.endpoints = endpoints
        self.address = address

    def connect(self, factory):
        e = self.endpoints
        e.addresses.append(self.address)
        server_protocol = e.site.buildProtocol(None)
        client_protocol = factory.buildProtocol(None)
        pump = iosim.connect(
            server_protocol, iosim.FakeTransport(server_protocol, isServer=True),
            client_protocol, iosim.FakeTransport(client_protocol, isServer=False, peerAddress=PEER),
            greet=False, clock=e.clock,
        )
        e.pumps.append(pump)
        return defer.succeed(client_protocol)


class InMemoryEndpoints:
    """Connections to the scripted XSP's site, each pumped by the test;
    ``addresses`` records the address each connection was asked for."""

    def __init__(self, site, clock):
        self.site = site
        self.clock = clock
        self.pumps = []
        self.addresses = []

    def endpoint(self, address=None):
        return _InMemoryEndpoint(self, address)


class XsiWire:
    """One Xsi link and its XSP in memory, on one Clock."""

    def __init__(self, **overrides):
        overrides.setdefault("request_timeout", 5)
        overrides.setdefault("kpl_interval", 0)
        self.clock = Clock()
        self.xsp = ScriptedXsp()
        self.endpoints = InMemoryEndpoints(server.Site(self.xsp, reactor=self.clock), self.clock)
        self.settings = LinkSettings(
            "cs1", "app", name="xsi-1", credentials=xsp.credentials_for("admin", "secret"), **overrides
        )
        self.http = XsiHttp(self.clock, "http://xsp1.example.net", self.settings.credentials,
                            endpoints=self.endpoints)
        self.listener = RecordingListener()
        self.factory = XsiLinkFactory(self.settings, self.clock, self.listener, self.http)
        self.endpoint = XsiChannelEndpoint(self.http, self.settings, self.clock)
        self.link = None

    def flush(self):
        for _ in range(100):
            if not any([pump.flush() for pump in self.endpoints.pumps]):
                return
        raise AssertionError("the connections never settle")

    def connect(self):
        d = self.endpoint.connect(self.factory)
        self.flush()
        return d

    def open(self, channel_id="ch-1", expires=3600, connecting=None):
        """Connect (unless ``connecting``, a connect() under way) and let the
        XSP send the Channel document: the link is up."""
        d = connecting if connecting is not None else self.connect()
        self.stream(xsi_http.channel_document(channel_id, expires))
        self.link = _result(d)
        return self.link

    def stream(self, *documents):
        for document in documents:
            self.xsp.streams[-1].write(document)
        self.flush()

    def event(self, event):
        self.stream(xsi_http.event_document(xsi.event_xml(event)))

    def advance(self, seconds):
        self.clock.advance(seconds)
        self.flush()

    def acknowledged(self):
        return [xsi_http.read_event_response(s.body) for s in self.xsp.of(xsi_http.EVENT_RESPONSE)]

    def finish(self):
        """Close everything; nothing may be left on the clock."""
        if self.link is not None:
            self.link.close()
        self.flush()
        self.http.close()
        self.flush()
        assert self.clock.getDelayedCalls() == []


def _no_result(d):
    results = []

    def seen(result):
        results.append(result)
        return result

    d.addBoth(seen)
    assert results == [], results


def _result(d):
    results = []
    d.addBoth(results.append)
    assert results, "the Deferred has not fired"
    if isinstance(results[0], Failure):
        results[0].raiseException()
    return results[0]


def _failure(d):
    results = []
    d.addBoth(results.append)
    assert results and isinstance(results[0], Failure), results
    return results[0]


def _event(event_id="ev-1", seq=1, event_type="HookStatusEvent", **data):
    data.setdefault("hook_status", "Off-Hook")
    return xsi.SubscriptionEvent(
        event_type, event_id, seq, "admin@example.com", "app", "sub-1", "ch-1", "2001@example.com", **data
    )


@pytest.fixture
def lms_ids():
    ids = []

    def observer(event):
        if "lms_id" in event:
            ids.append(event["lms_id"])

    globalLogPublisher.addObserver(observer)
    yield ids
    globalLogPublisher.removeObserver(observer)


# -- the channel -----------------------------------------------------------------


def test_the_channel_post_carries_the_channel_set_and_basic_auth():
    wire = XsiWire()
    d = wire.connect()
    (post,) = wire.xsp.seen
    assert (post.method, post.target) == ("POST", xsi_http.CHANNEL_PATH)
    assert post.values == {"channelSetId": "cs1", "priority": "1", "weight": "50", "expires": "3600",
                           "applicationId": "app"}
    assert base64.b64decode(post.authorization.split()[1]) == b"admin:secret"
    _no_result(d)
    link = wire.open(connecting=d)
    assert isinstance(link, XsiLinkProtocol) and link.is_up and link.channel_id == "ch-1"
    assert wire.listener.calls == [("ready",)]
    verifyObject(IBroadWorksLink, link)
    verifyObject(IStreamClientEndpoint, wire.endpoint)
    wire.finish()


@pytest.mark.parametrize("status, reason", [(401, "Unauthorized"), (403, "Forbidden"), (503, "Service Unavailable")])
def test_a_refused_channel_fails_the_attempt_with_the_status(status, reason, lms_ids):
    wire = XsiWire()
    wire.xsp.script[xsi_http.ADD_CHANNEL] = (status, reason, xsp.error_info(110003, "no channel for you"))
    error = _failure(wire.connect()).value
    assert isinstance(error, BroadWorksRequestError)
    assert (error.request_name, error.status_code, error.reason, error.error_code, error.summary) == (
        "AddChannelRequest", status, reason, 110003, "no channel for you")
    assert lms.CHANNEL_ADD_FAILED.id in lms_ids
    wire.finish()


def test_an_unanswered_channel_post_times_out():
    wire = XsiWire()
    wire.xsp.script[xsi_http.ADD_CHANNEL] = HANG
    d = wire.connect()
    wire.advance(4.9)
    _no_result(d)
    wire.advance(0.2)
    assert _failure(d).check(BroadWorksTimeout)
    wire.finish()


def test_a_stream_without_a_channel_document_is_closed():
    wire = XsiWire()
    link = _result(_opened_without_channel(wire))
    wire.advance(5)
    assert not link.is_up
    assert [r.check(LinkLost) for r in wire.listener.lost()] == [LinkLost]
    wire.finish()


def _opened_without_channel(wire):
    d = wire.connect()
    wire.xsp.streams[-1].write(b"")  # the answer's headers only
    wire.flush()
    return d


def test_the_channel_is_renewed_at_half_its_life():
    wire = XsiWire()
    wire.open(expires=3600)
    wire.xsp.script["UpdateChannelRequest"] = (
        200, "OK", xsp.xsi_element("Channel", ("channelId", "ch-1"), ("expires", 7200)))
    wire.advance(1799)
    assert wire.xsp.of("UpdateChannelRequest") == []
    wire.advance(1)
    (renewal,) = wire.xsp.of("UpdateChannelRequest")
    assert (renewal.method, renewal.target) == ("PUT", xsi_http.XSI_EVENTS + "/channel/ch-1")
    assert renewal.values == {"expires": "3600"}
    wire.advance(3599)
    assert len(wire.xsp.of("UpdateChannelRequest")) == 1
    wire.advance(1)
    assert len(wire.xsp.of("UpdateChannelRequest")) == 2
    wire.finish()


def test_a_refused_renewal_closes_the_link():
    wire = XsiWire()
    wire.open(expires=3600)
    wire.xsp.script["UpdateChannelRequest"] = (404, "Not Found", xsp.error_info(110842, "no channel"))
    wire.advance(1800)
    assert not wire.link.is_up and wire.listener.lost()
    wire.finish()


# -- events -----------------------------------------------------------------------


def test_every_event_is_acknowledged_and_delivered_once():
    wire = XsiWire()
    wire.open()
    wire.event(_event("ev-1", 1))
    wire.event(_event("ev-1", 1))  # re-delivered on this channel
    wire.event(_event("ev-2", 2))
    assert wire.acknowledged() == [("ev-1", 200), ("ev-1", 200), ("ev-2", 200)]
    assert [e.event_id for e in wire.listener.events()] == ["ev-1", "ev-2"]
    (ack,) = wire.xsp.of(xsi_http.EVENT_RESPONSE)[:1]
    assert (ack.method, ack.target) == ("POST", xsi_http.EVENT_RESPONSE_PATH)
    wire.finish()


def test_a_sequence_gap_is_reported_before_the_event():
    wire = XsiWire()
    wire.open()
    wire.event(_event("ev-1", 1))
    wire.event(_event("ev-5", 5))
    kinds = [c[0] for c in wire.listener.calls]
    assert kinds == ["ready", "event", "gap", "event"]
    gap = wire.listener.calls[2][1]
    assert (gap.expected, gap.received) == (2, 5)
    wire.finish()


def test_heartbeats_on_the_stream_are_not_events():
    wire = XsiWire()
    wire.open()
    wire.stream(xsi_http.HEARTBEAT_DOCUMENT, xsi_http.HEARTBEAT_DOCUMENT)
    assert wire.listener.calls == [("ready",)] and wire.acknowledged() == []
    wire.finish()


def test_channel_terminated_is_not_acknowledged_and_closes_the_link():
    wire = XsiWire()
    wire.open()
    wire.event(xsi.ChannelTerminatedEvent("ch-1", "Expired"))
    assert wire.acknowledged() == []
    assert [c[0] for c in wire.listener.calls] == ["ready", "terminated", "lost"]
    wire.finish()


def test_unknown_event_types_are_acknowledged_and_skipped():
    wire = XsiWire()
    wire.open()
    element = xsi.event_element(_event("ev-1", 1))
    element.find("{%s}eventData" % xsi.XSI_NS).set("{%s}type" % xsi.XSD_INSTANCE_NS, "xsi:FancyNewEvent")
    wire.stream(xsi_http.document(element))
    assert wire.acknowledged() == [("ev-1", 200)] and wire.listener.events() == []
    wire.finish()


def test_a_malformed_event_is_refused_with_400_and_the_link_stays(lms_ids):
    wire = XsiWire()
    wire.open()
    element = xsi.event_element(_EVENTS[1]._replace(event_id="ev-1", sequence_number=1))
    data = element.find("{%s}eventData" % xsi.XSI_NS)
    data.remove(data[0])  # a call event without its call
    wire.stream(xsi_http.document(element), b"<?xml version='1.0'?><xsi:Event><oops></xsi:Event>")
    wire.event(_event("ev-2", 2))
    assert wire.acknowledged() == [("ev-1", 400), ("ev-2", 200)]
    assert [e.event_id for e in wire.listener.events()] == ["ev-2"]
    assert lms_ids.count(lms.MALFORMED_BROADWORKS_DOCUMENT.id) == 2
    wire.finish()


def test_an_error_event_from_the_xsp_is_logged_not_acknowledged():
    wire = XsiWire()
    wire.open()
    wire.stream(
        b'<?xml version="1.0" encoding="UTF-8"?><xsi:Event xmlns:xsi="http://schema.broadsoft.com/xsi" '
        b'xmlns:xsi1="http://www.w3.org/2001/XMLSchema-instance" xsi1:type="xsi:ErrorEvent">'
        b"<xsi:eventID>e</xsi:eventID><xsi:errorCode>1</xsi:errorCode>"
        b"<xsi:errorMessage>no</xsi:errorMessage></xsi:Event>"
    )
    assert wire.acknowledged() == [] and wire.link.is_up
    wire.finish()


def test_framing_garbage_closes_the_link():
    wire = XsiWire()
    wire.open()
    wire.stream(b"this is not XML")
    assert not wire.link.is_up and wire.listener.lost()
    wire.finish()


@implementer(IStreamClientEndpoint)
class _RawEndpoint:
    """Connects to no server: the test writes the XSP's bytes itself."""

    def __init__(self):
        self.connections = []

    def endpoint(self, address=None):
        return self

    def connect(self, factory):
        from twisted.internet.testing import StringTransport

        protocol = factory.buildProtocol(PEER)
        protocol.makeConnection(StringTransport(peerAddress=PEER))
        self.connections.append(protocol)
        return defer.succeed(protocol)


def _raw_channel():
    clock = Clock()
    raw = _RawEndpoint()
    settings = LinkSettings("cs1", "app", name="xsi-1", request_timeout=5, kpl_interval=0,
                            credentials=xsp.credentials_for("admin", "secret"))
    http = XsiHttp(clock, "http://xsp1.example.net", settings.credentials, endpoints=raw)
    listener = RecordingListener()
    d = XsiChannelEndpoint(http, settings, clock).connect(XsiLinkFactory(settings, clock, listener, http))
    (connection,) = raw.connections
    return clock, connection, listener, d


def test_a_stream_that_is_not_http_chunks_closes_the_link(lms_ids):
    clock, connection, listener, d = _raw_channel()
    assert connection.transport.value().startswith(b"POST " + xsi_http.CHANNEL_PATH.encode() + b" HTTP/1.1\r\n")
    connection.dataReceived(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                            + b"%x\r\n%s\r\n" % (len(xsi_http.channel_document("ch-1", 3600)),
                                                   xsi_http.channel_document("ch-1", 3600)))
    link = _result(d)
    assert link.is_up and listener.calls == [("ready",)]
    connection.dataReceived(b"zz\r\nnot a chunk\r\n")
    assert connection.transport.disconnecting and lms.MALFORMED_BROADWORKS_DOCUMENT.id in lms_ids
    connection.connectionLost(Failure(ConnectionDone()))
    assert not link.is_up and listener.lost()
    assert clock.getDelayedCalls() == []


def test_a_channel_answer_that_is_not_http_fails_the_attempt():
    clock, connection, listener, d = _raw_channel()
    connection.dataReceived(b"SSH-2.0-OpenSSH_9.0\r\n\r\n")
    assert "not HTTP" in _failure(d).getErrorMessage()
    assert connection.transport.disconnecting and listener.calls == []
    connection.connectionLost(Failure(ConnectionDone()))
    assert clock.getDelayedCalls() == []


def test_the_stream_ending_is_the_link_lost():
    wire = XsiWire()
    wire.open()
    wire.xsp.streams[-1].finish()
    wire.flush()
    (reason,) = wire.listener.lost()
    assert reason.check(LinkLost) and "ended the event channel" in reason.getErrorMessage()
    wire.finish()


def test_a_stream_that_ends_inside_a_document_loses_it_and_says_so(lms_ids):
    wire = XsiWire()
    wire.open()
    data = xsi_http.event_document(xsi.event_xml(_event("ev-1", 1)))
    wire.stream(data[:-20])
    wire.xsp.streams[-1].channel.transport.abortConnection()
    wire.flush()
    assert wire.listener.events() == [] and wire.acknowledged() == []
    assert wire.listener.lost() and lms.MALFORMED_BROADWORKS_DOCUMENT.id in lms_ids
    wire.finish()


_EVENTS = [
    _event("ev-a", 1),
    _event("ev-b", 2, "CallReceivedEvent", hook_status=None,
           call=xsi.Call("callhalf-1:0", "1:0", "Terminator", "Alerting",
                         xsi.RemoteParty(name="Alice", address="tel:+15550002002"), allow_answer=True,
                         start_time=1700000000000)),
    _event("ev-c", 3, "CallSubscriptionEvent", hook_status="On-Hook"),
]
_STREAM = b"".join(xsi_http.event_document(xsi.event_xml(e)) for e in _EVENTS) + xsi_http.HEARTBEAT_DOCUMENT


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(min_value=1, max_value=len(_STREAM) - 1), unique=True, max_size=12))
def test_events_arrive_once_in_order_and_acknowledged_however_the_stream_is_chunked(cuts):
    """Every HTTP chunk boundary, anywhere in a document, is the same stream."""
    wire = XsiWire()
    wire.open()
    points = [0, *sorted(cuts), len(_STREAM)]
    for begin, end in zip(points, points[1:]):
        wire.xsp.streams[-1].write(_STREAM[begin:end])
    wire.flush()
    assert wire.listener.events() == _EVENTS
    assert wire.acknowledged() == [(e.event_id, 200) for e in _EVENTS]
    wire.finish()


def test_the_one_pass_reader_reads_stream_events_as_the_general_path_does():
    for event in _EVENTS:
        document = xsi_http.event_document(xsi.event_xml(event))
        assert eventreader.read_stream_event(document) == xsi.parse_event(xsp.parse_document(document)) == event
    # what the reader declines (another encoding, a default namespace) is left to lxml
    latin = b'<?xml version="1.0" encoding="ISO-8859-1"?>' + xsi.event_xml(_EVENTS[0])
    assert eventreader.read_stream_event(latin) is None
    plain = xsi.event_xml(_EVENTS[0]).replace(b"xsi:", b"").replace(b"xmlns:xsi=", b"xmlns=")
    assert eventreader.read_stream_event(plain) is None
    escaped = xsi_http.event_document(xsi.event_xml(_EVENTS[1]._replace(
        call=_EVENTS[1].call._replace(remote_party=xsi.RemoteParty(name="A & B")))))
    assert eventreader.read_stream_event(escaped) is None


def test_events_the_reader_declines_still_arrive():
    wire = XsiWire()
    wire.open()
    wire.stream(b'<?xml version="1.0" encoding="ISO-8859-1"?>\n' + xsi.event_xml(_EVENTS[0]))
    assert wire.listener.events() == [_EVENTS[0]] and wire.acknowledged() == [("ev-a", 200)]
    wire.stream(xsi_http.event_document(xsi.event_xml(_EVENTS[1])))
    # the link's reader counts Xsi documents as a CTI link's: by reader
    assert wire.link.reader.by_reader == {"one pass": 1, "lxml": 1}
    assert wire.link.reader.failures == 0
    wire.finish()


# -- requests ---------------------------------------------------------------------


def test_a_cti_request_goes_as_its_xsi_request_and_its_answer_is_a_response():
    wire = XsiWire()
    link = wire.open()
    wire.xsp.script["UpdateSubscriptionRequest"] = (
        200, "OK", xsp.xsi_element("Subscription", ("subscriptionId", "sub-1"), ("expires", 3600)))
    d = link.request(requests.update_subscription("sub-1", 3600), affinity="sub-1")
    wire.flush()
    (seen,) = wire.xsp.of("UpdateSubscriptionRequest")
    assert (seen.method, seen.target, seen.values) == (
        "PUT", xsi_http.XSI_EVENTS + "/subscription/sub-1", {"expires": "3600"})
    assert base64.b64decode(seen.authorization.split()[1]) == b"admin:secret"
    response = _result(d)
    assert isinstance(response, xsp.Response) and response.ok
    assert xsp.xsi_values(response.payload) == {"subscriptionId": "sub-1", "expires": "3600"}
    wire.finish()


@pytest.mark.parametrize(
    "status, reason, payload, expected, csta_value",
    [
        (404, "Not Found", xsp.error_info(110001, "no such call"), (110001, "no such call"), "invalidConnectionID"),
        (409, "Conflict", xsp.error_info(110002, "busy"), (110002, "busy"), "resourceBusy"),
        (500, "Internal Server Error", None, (None, None), "generic"),
    ],
)
def test_http_errors_are_the_request_errors_of_the_cti_link(status, reason, payload, expected, csta_value):
    wire = XsiWire()
    link = wire.open()
    wire.xsp.script["HoldRequest"] = (status, reason, payload)
    failure = _failure(_flushed(wire, link.request(requests.hold("2001@example.com", "c1"))))
    error = failure.value
    assert isinstance(error, BroadWorksRequestError)
    assert (error.request_name, error.status_code, error.reason, (error.error_code, error.summary)) == (
        "HoldRequest", status, reason, expected)
    # ... which call control maps to CSTA errors as it does for the CTI link
    with pytest.raises(CSTARequestError) as mapped:
        broadworks_error_to_csta(failure)
    assert mapped.value.error.value == csta_value
    wire.finish()


def _flushed(wire, d):
    wire.flush()
    return d


# -- the contact centre's requests ---------------------------------------------------

AGENT = "2002@example.com"
QUEUE = "5001@example.com"


def _client(link):
    from csta_connector.broadworks.client import BroadWorksClient

    return BroadWorksClient(link, "cs1", "app", default_domain="example.com")


def test_the_agent_and_queue_requests_go_as_xsi_actions_and_the_agent_state_reads_back(bw_validator):
    wire = XsiWire()
    client = _client(wire.open())
    _result(_flushed(wire, client.set_agent_state(AGENT, "Unavailable", "LUNCH")))
    wire.xsp.script["GetAgentStateRequest"] = (200, "OK", cc.call_center_element(cc.CallCenterSettings(
        "Available", None, (cc.CallCenterDetails(QUEUE, True, extension="5001"),))))
    settings_ = _result(_flushed(wire, client.get_agent_state(AGENT)))
    assert (settings_.agent_acd_state, settings_.call_centers) == (
        "Available", (cc.CallCenterDetails(QUEUE, True, extension="5001"),))
    _result(_flushed(wire, client.acd_blind_transfer(QUEUE, "callhalf-9:0", "+15550002003")))
    _result(_flushed(wire, client.acd_release_call(QUEUE, "callhalf-9:0")))
    seen = [s for s in wire.xsp.seen if s.name not in (xsi_http.ADD_CHANNEL, xsi_http.EVENT_RESPONSE)]
    actions = xsi_http.XSI_ACTIONS
    assert [(s.name, s.method, s.target) for s in seen] == [
        ("SetAgentStateRequest", "PUT", actions + "/user/2002@example.com/services/CallCenter"),
        ("GetAgentStateRequest", "GET", actions + "/user/2002@example.com/services/CallCenter"),
        ("ACDBlindTransferRequest", "PUT",
         actions + "/callcenter/5001@example.com/calls/callhalf-9:0/blindtransfer?phoneno=%2B15550002003"),
        ("ACDReleaseCallRequest", "DELETE", actions + "/callcenter/5001@example.com/calls/callhalf-9:0"),
    ]
    assert seen[0].values == {"agentACDState": "Unavailable", "agentUnavailableCode": "LUNCH"}
    assert bw_validator(seen[0].body) == []
    assert [s.body for s in seen[1:]] == [b"", b"", b""]
    wire.finish()


@pytest.mark.parametrize("body", [b"", b"<html><body>gateway</body></html>",
                                  xsi_http.document(xsp.xsi_element("Subscription", ("subscriptionId", "s")))])
def test_an_agent_state_answer_without_a_call_center_document_is_an_error_not_signed_out(body):
    from csta_connector.broadworks.errors import BroadWorksError

    wire = XsiWire()
    client = _client(wire.open())
    wire.xsp.script["GetAgentStateRequest"] = (200, "OK", body)
    failure = _failure(_flushed(wire, client.get_agent_state(AGENT)))
    assert failure.check(BroadWorksError) and "xsi:CallCenter" in failure.getErrorMessage()
    with pytest.raises(CSTARequestError) as mapped:
        broadworks_error_to_csta(failure, "device")
    assert (mapped.value.error.category, mapped.value.error.value) == ("systemResourceAvailability", "generic")
    wire.finish()


@pytest.mark.parametrize(
    "request_name, call, about, status, csta_value",
    [
        ("SetAgentStateRequest", lambda c: c.set_agent_state(AGENT, "Available"), "device", 404, "invalidDeviceID"),
        ("SetAgentStateRequest", lambda c: c.set_agent_state(AGENT, "Available"), "device", 400,
         "invalidConnectionState"),
        ("GetAgentStateRequest", lambda c: c.get_agent_state(AGENT), "device", 403,
         "privilegeViolationSpecifiedDevice"),
        ("ACDBlindTransferRequest", lambda c: c.acd_blind_transfer(QUEUE, "c1", "9999"), "destination", 404,
         "invalidDestination"),
        ("ACDReleaseCallRequest", lambda c: c.acd_release_call(QUEUE, "c1"), "connection", 404,
         "invalidConnectionID"),
        ("ACDReleaseCallRequest", lambda c: c.acd_release_call(QUEUE, "c1"), "connection", 409, "resourceBusy"),
    ],
)
def test_contact_centre_http_errors_are_the_csta_errors_of_the_cti_link(request_name, call, about, status, csta_value):
    wire = XsiWire()
    client = _client(wire.open())
    wire.xsp.script[request_name] = (status, "Refused", xsp.error_info(110001, "refused"))
    failure = _failure(_flushed(wire, call(client)))
    assert failure.check(BroadWorksRequestError)
    assert (failure.value.request_name, failure.value.status_code, failure.value.error_code) == (
        request_name, status, 110001)
    with pytest.raises(CSTARequestError) as mapped:
        broadworks_error_to_csta(failure, about)
    assert mapped.value.error.value == csta_value
    wire.finish()


def test_a_request_times_out_on_the_clock_and_its_connection_is_dropped(lms_ids):
    wire = XsiWire(kpl_tolerance=1)
    link = wire.open()
    wire.xsp.script["TalkRequest"] = HANG
    d = _flushed(wire, link.request(requests.talk("2001@example.com", "c1")))
    (seen,) = wire.xsp.of("TalkRequest")
    lost = seen.request.notifyFinish()
    wire.advance(4.9)
    _no_result(d)
    wire.advance(0.2)
    assert _failure(d).check(BroadWorksTimeout)
    assert _failure(lost)  # the XSP saw the request's connection go
    assert lms.BROADWORKS_REQUEST_TIMED_OUT.id in lms_ids
    assert link.is_up  # one timeout is within kpl-tolerance 1
    wire.finish()


def test_timeouts_beyond_the_tolerance_close_the_link(lms_ids):
    wire = XsiWire()
    link = wire.open()
    wire.xsp.script["TalkRequest"] = HANG
    d = _flushed(wire, link.request(requests.talk("2001@example.com", "c1")))
    wire.advance(5)
    assert _failure(d).check(BroadWorksTimeout)
    assert not link.is_up and lms.LINK_UNRESPONSIVE.id in lms_ids
    wire.finish()


def test_cancelling_a_request_removes_it_and_its_timer():
    wire = XsiWire()
    link = wire.open()
    wire.xsp.script["TalkRequest"] = HANG
    d = _flushed(wire, link.request(requests.talk("2001@example.com", "c1")))
    d.addErrback(lambda f: None)
    d.cancel()
    wire.flush()
    assert len(link._pending) == 0
    assert [c.func.__name__ for c in wire.clock.getDelayedCalls() if c.func.__name__ == "_timed_out"] == []
    wire.finish()


def test_losing_the_stream_fails_every_pending_request_and_later_ones():
    wire = XsiWire()
    link = wire.open()
    wire.xsp.script["TalkRequest"] = HANG
    wire.xsp.script["HoldRequest"] = HANG
    d1 = link.request(requests.talk("2001@example.com", "c1"))
    d2 = link.request(requests.hold("2001@example.com", "c1"))
    wire.flush()
    wire.xsp.streams[-1].channel.transport.abortConnection()
    wire.flush()
    assert _failure(d1).check(LinkLost) and _failure(d2).check(LinkLost)
    assert _failure(link.request(requests.talk("2001@example.com", "c1"))).check(LinkLost)
    assert [c[0] for c in wire.listener.calls] == ["ready", "lost"]
    wire.finish()


def test_requests_go_to_the_address_that_accepted_the_channel():
    wire = XsiWire()
    link = wire.open()
    _flushed(wire, link.request(requests.talk("2001@example.com", "c1")))
    assert wire.endpoints.addresses == [None, PEER.host]
    wire.finish()


def test_endpoints_connect_to_the_pinned_address_and_verify_the_url_host():
    reactor = MemoryReactorClock()
    plain = XspEndpoints(reactor, "http", "xsp1.example.net", 80)
    plain.endpoint("192.0.2.7").connect(_NoProtocol())
    secure = XspEndpoints(reactor, "https", "xsp1.example.net", 443)
    secure.endpoint("192.0.2.8").connect(_NoProtocol())
    assert [c[:2] for c in reactor.tcpClients] == [("192.0.2.7", 80), ("192.0.2.8", 443)]


class _NoProtocol:
    def buildProtocol(self, addr):
        return None

    def doStart(self):
        pass

    def doStop(self):
        pass


def test_the_base_url_must_be_http():
    with pytest.raises(ValueError):
        XsiHttp(Clock(), "ftp://xsp1.example.net", None)


# -- heartbeats -------------------------------------------------------------------


def test_heartbeats_every_kpl_interval_keep_the_link_while_they_come_back():
    wire = XsiWire(kpl_interval=10)
    wire.open()
    for beat in range(1, 4):
        wire.advance(10)
        seen = wire.xsp.of(xsi_http.HEARTBEAT)
        assert len(seen) == beat
        assert (seen[-1].method, seen[-1].target, seen[-1].body) == (
            "PUT", xsi_http.XSI_EVENTS + "/channel/ch-1/heartbeat", b"")
        wire.stream(xsi_http.HEARTBEAT_DOCUMENT)
    assert wire.link.is_up
    wire.finish()


@pytest.mark.parametrize("tolerance", [0, 2])
def test_heartbeats_that_do_not_come_back_close_the_link(tolerance, lms_ids):
    wire = XsiWire(kpl_interval=10, kpl_tolerance=tolerance)
    wire.open()
    wire.advance(10)  # the first beat goes out
    for _ in range(tolerance):
        wire.advance(10)
        assert wire.link.is_up
    wire.advance(10)
    assert not wire.link.is_up and lms.LINK_UNRESPONSIVE.id in lms_ids
    wire.finish()


@pytest.mark.parametrize("status", [401, 404])
def test_a_heartbeat_the_xsp_refuses_closes_the_link(status):
    wire = XsiWire(kpl_interval=10)
    wire.open()
    wire.xsp.script[xsi_http.HEARTBEAT] = (status, "No", xsp.error_info(110842, "channel not found"))
    wire.advance(10)
    assert not wire.link.is_up and wire.listener.lost()
    wire.finish()


def test_a_heartbeat_answered_with_500_only_counts_as_missed():
    wire = XsiWire(kpl_interval=10, kpl_tolerance=1)
    wire.open()
    wire.xsp.script[xsi_http.HEARTBEAT] = (500, "Oops", None)
    wire.advance(10)
    assert wire.link.is_up
    wire.stream(xsi_http.HEARTBEAT_DOCUMENT)  # the stream still answers
    wire.advance(10)
    assert wire.link.is_up
    wire.finish()


def test_at_most_max_connections_requests_are_on_the_wire_the_others_wait_in_order():
    wire = XsiWire()
    link = wire.open()
    wire.xsp.script["TalkRequest"] = HANG
    calls = ["c%d" % n for n in range(7)]
    results = [link.request(requests.talk("2001@example.com", c)) for c in calls]
    wire.flush()
    on_the_wire = wire.xsp.of("TalkRequest")
    assert [s.target.rsplit("/", 2)[1] for s in on_the_wire] == calls[:4]
    results[5].addErrback(lambda f: None)
    results[5].cancel()  # a waiting request leaves the queue
    for seen in on_the_wire[:2]:
        seen.request.finish()
    wire.flush()
    assert [s.target.rsplit("/", 2)[1] for s in wire.xsp.of("TalkRequest")] == calls[:4] + ["c4", "c6"]
    assert [_result(d).status_code for d in results[:2]] == [200, 200]
    assert len(wire.endpoints.pumps) == 1 + 4  # the stream and four persistent connections
    for d in results[2:5] + results[6:]:
        d.addErrback(lambda f: None)
    wire.finish()
