"""The simulator's Xsi front-end, through twisted.web with raw HTTP bytes on a StringTransport
(a real HTTP parse, no sockets, a Clock): streams, heartbeats, acknowledgements, subscriptions,
Xsi-Actions, basic auth, a front-end going down; and the same answers as the CTI front-end."""

import base64

import pytest
from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from zope.interface.verify import verifyObject

from csta_connector import lms
from csta_connector.broadworks import requests, stream, xsi, xsi_http, xsp
from csta_connector.simulator.engine import CallEngine
from csta_connector.simulator.xsi_server import XsiServer, XsiStream
from csta_connector.simulator.xsp_server import IChannelConnection, XspServer, XspServerProtocol

AUTH = b"Basic " + base64.b64encode(b"admin:secret")
USER = "2001@example.com"


class HttpConnection:
    """One client connection to the front-end's site: raw requests out,
    answers parsed back (Content-Length or chunked, one list entry per chunk)."""

    def __init__(self, site, opened=None):
        self.channel = site.buildProtocol(IPv4Address("TCP", "127.0.0.1", 40000))
        if opened is not None:
            opened.append(self)
        self.transport = StringTransport()
        self.channel.makeConnection(self.transport)
        self._buffer = b""

    def send(self, method, target, body=b"", authorization=AUTH):
        headers = b"Host: xsp1\r\nContent-Length: %d\r\n" % len(body)
        if authorization is not None:
            headers += b"Authorization: " + authorization + b"\r\n"
        self.channel.dataReceived(b"%s %s HTTP/1.1\r\n%s\r\n%s" % (method.encode(), target.encode(), headers, body))

    def answer(self):
        """(status, reason, headers dict, [body chunks], ended) of what was written so far."""
        self._buffer += self.transport.value()
        self.transport.clear()
        head, _, rest = self._buffer.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        _, status, reason = lines[0].split(b" ", 2)
        headers = {name.lower(): value for name, value in (line.split(b": ", 1) for line in lines[1:])}
        if headers.get(b"transfer-encoding") == b"chunked":
            chunks, ended = _chunks(rest)
        else:
            chunks, ended = [rest] if rest else [], True
        return int(status), reason.decode(), headers, chunks, ended

    def close(self):
        self.channel.connectionLost(Failure(ConnectionDone()))


def _chunks(data):
    chunks = []
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            return chunks, True
        chunks.append(data[:size])
        data = data[size + 2:]
    return chunks, False


class Simulator:
    def __init__(self, contact_centre=None, **xsi_options):
        self.clock = Clock()
        self.engine = CallEngine(self.clock, users=10, resync_delay=0.5, contact_centre=contact_centre)
        self.xsp = XspServer(self.engine, self.clock, ack_timeout=5)
        xsi_options.setdefault("passwords", {"admin": "secret"})
        self.xsi = XsiServer(self.xsp, self.clock, **xsi_options)
        self.site = self.xsi.site()
        self.sent = []  # every document the front-end wrote
        self.xsi.trace = lambda direction, data: direction == "out" and self.sent.append(data)
        self.connections = []

    def connect(self, site=None):
        return HttpConnection(site or self.site, self.connections)

    def request(self, method, target, body=b"", site=None, **kw):
        connection = self.connect(site)
        connection.send(method, target, body, **kw)
        answer = connection.answer()
        connection.close()
        return answer

    def open_channel(self, channel_set="cs1", priority=1, site=None):
        connection = self.connect(site)
        body = xsi_http.http_request(requests.add_channel(channel_set, priority, 50, 3600, "app")).body
        connection.send("POST", xsi_http.CHANNEL_PATH, body)
        status, _, headers, chunks, ended = connection.answer()
        assert (status, ended) == (200, False)
        assert headers[b"content-type"] == xsi_http.STREAM_CONTENT_TYPE
        channel_id = xsp.xsi_values(xsp.parse_document(chunks[0]))["channelId"]
        return _Stream(connection, channel_id, chunks)

    def subscribe(self, user=USER, channel_set="cs1", site=None):
        request = xsi_http.http_request(requests.add_user_subscription(user, channel_set, "app", 3600))
        status, _, _, (body,), _ = self.request(request.method, request.target, request.body, site=site)
        assert status == 200
        return xsp.xsi_values(xsp.parse_document(body))["subscriptionId"]

    def stop(self):
        for connection in self.connections:
            connection.close()
        self.xsi.stop()
        self.xsp.stop()
        self.engine.stop()


class _Stream:
    def __init__(self, connection, channel_id, chunks):
        self.connection = connection
        self.channel_id = channel_id
        self.chunks = list(chunks)
        self.ended = False

    def read(self):
        """The chunks written since the last read (the documents, one per chunk)."""
        _, _, _, chunks, ended = self.connection.answer()
        new = chunks[len(self.chunks):]
        self.chunks = chunks
        self.ended = ended
        return new

    def events(self):
        return [xsi.parse_event(xsp.parse_document(c)) for c in self.read()]


@pytest.fixture
def sim():
    s = Simulator()
    yield s
    s.stop()
    assert s.clock.getDelayedCalls() == []


def _ack(sim, event, status=200):
    request = xsi_http.event_response(event.event_id, status)
    return sim.request(request.method, request.target, request.body)[0]


def _validate_all(sim, bw_validator):
    invalid = [(d, bw_validator(d)) for d in sim.sent if bw_validator(d)]
    assert invalid == []


# -- the channel and its stream --------------------------------------------------


def test_the_channel_is_a_stream_of_one_document_per_chunk_channel_first(sim, bw_validator):
    channel = sim.open_channel()
    (first,) = channel.chunks
    assert first.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert xsp.xsi_values(xsp.parse_document(first)) == {"channelId": channel.channel_id, "expires": "3600"}
    sim.subscribe()
    (snapshot,) = channel.events()
    assert (snapshot.event_type, snapshot.channel_id, snapshot.target_id) == (
        "CallSubscriptionEvent", channel.channel_id, USER)
    # the splitter the connector uses finds the same documents in the joined stream
    assert stream.DocumentSplitter().feed(b"".join(channel.chunks)) == channel.chunks
    verifyObject(IChannelConnection, sim.xsp.channels[channel.channel_id].connection)
    _ack(sim, snapshot)
    _validate_all(sim, bw_validator)


def test_events_waiting_for_the_set_follow_the_channel_document(sim):
    """An event waits while the set's only channel hangs; a channel opened on
    another front-end gets it, after its own Channel document."""
    other = XsiServer(sim.xsp, sim.clock)
    sim.open_channel()
    sim.xsp.front_end_down(sim.xsi.index, "hang")
    sim.subscribe(site=other.site())
    assert sim.xsp.unacknowledged == 1
    second = sim.open_channel(site=other.site())
    first, waiting = second.chunks
    assert xsp.xsi_values(xsp.parse_document(first))["channelId"] == second.channel_id
    assert xsi.parse_event(xsp.parse_document(waiting)).event_type == "CallSubscriptionEvent"
    other.stop()


def test_a_heartbeat_comes_back_on_the_stream(sim, bw_validator):
    channel = sim.open_channel()
    status, _, _, chunks, _ = sim.request("PUT", xsi_http.heartbeat(channel.channel_id).target)
    assert (status, chunks) == (200, [])
    assert channel.read() == [xsi_http.HEARTBEAT_DOCUMENT]
    _validate_all(sim, bw_validator)


def test_a_heartbeat_for_a_channel_this_front_end_does_not_hold_is_404(sim, bw_validator):
    other = XsiServer(sim.xsp, sim.clock)
    channel = sim.open_channel()
    for site, channel_id in ((sim.site, "nope"), (other.site(), channel.channel_id)):
        connection = sim.connect(site)
        connection.send("PUT", xsi_http.heartbeat(channel_id).target)
        status, _, _, (body,), _ = connection.answer()
        assert status == 404 and xsp.xsi_values(xsp.parse_document(body))["errorCode"] == "110842"
        assert bw_validator(body) == []
    assert channel.read() == []


def test_without_heartbeats_the_stream_ends_after_the_event_timeout(lms_lines):
    sim = Simulator(event_timeout=30)
    channel = sim.open_channel()
    sim.clock.advance(20)
    sim.request("PUT", xsi_http.heartbeat(channel.channel_id).target)
    sim.clock.advance(29)
    assert channel.read() == [xsi_http.HEARTBEAT_DOCUMENT] and not channel.ended
    sim.clock.advance(1)
    channel.read()
    assert channel.ended and channel.channel_id not in sim.xsp.channels
    assert [(e["xsp"], e["channel_id"], e["timeout"]) for e in lms_lines
            if lms.is_message(e, lms.SIMULATOR_XSI_NO_HEARTBEAT)] == [(2, channel.channel_id, 30)]
    sim.stop()
    assert sim.clock.getDelayedCalls() == []


def test_deleting_the_channel_ends_its_stream_with_channel_terminated(sim):
    channel = sim.open_channel()
    status = sim.request("DELETE", xsi_http.XSI_EVENTS + "/channel/" + channel.channel_id)[0]
    assert status == 200
    (terminated,) = channel.events()
    assert terminated == xsi.ChannelTerminatedEvent(channel.channel_id, "ExplicitDelete")
    assert channel.ended and sim.xsp.channels == {}


# -- acknowledgements -------------------------------------------------------------


def test_an_acknowledged_event_is_done_and_an_unacknowledged_one_goes_to_another_channel(sim):
    first = sim.open_channel()
    sub = sim.subscribe()
    (snapshot,) = first.events()
    assert _ack(sim, snapshot) == 200
    assert sim.xsp.unacknowledged == 0
    second = sim.open_channel()
    sim.request("PUT", xsi_http.XSI_EVENTS + "/subscription/" + sub,
                xsi_http.http_request(requests.update_subscription(sub, 3600)).body)
    (refresh,) = first.events() or second.events()
    on_first = refresh.channel_id == first.channel_id
    other = second if on_first else first
    sim.clock.advance(5)  # the ack timeout
    (again,) = other.events()
    assert again.event_id == refresh.event_id and again.channel_id == other.channel_id
    assert _ack(sim, again) == 200 and sim.xsp.unacknowledged == 0


def test_an_event_answered_404_moves_to_the_next_channel_at_once(sim):
    first = sim.open_channel()
    second = sim.open_channel()
    sim.subscribe()
    events = first.events() + second.events()
    (snapshot,) = events
    assert _ack(sim, snapshot, 404) == 200
    (moved,) = first.events() + second.events()
    assert moved.event_id == snapshot.event_id and moved.channel_id != snapshot.channel_id


def test_a_mixed_channel_set_delivers_on_cti_and_xsi_channels(sim):
    """A CTI connection and an Xsi channel in one set: an event the Xsi channel
    leaves unacknowledged is re-sent on the CTI connection."""
    xsi_channel = sim.open_channel(priority=1)
    cti = XspServerProtocol(sim.xsp, 0)
    verifyObject(IChannelConnection, cti)
    cti_wire = StringTransport()
    cti.makeConnection(cti_wire)
    cti.dataReceived(xsp.encode(xsp.Request("1", "S", requests.add_channel("cs1", 2, 50, 3600, "app"))))
    cti_wire.clear()
    sim.subscribe()
    (snapshot,) = xsi_channel.events()  # priority 1 first
    sim.clock.advance(5)
    (envelope,) = [xsp.decode(d) for d in stream.DocumentSplitter().feed(cti_wire.value())]
    assert envelope.request_id == snapshot.event_id  # the CTI requestId is the eventID
    assert envelope.xsi_event().event_id == snapshot.event_id
    cti.dataReceived(xsp.encode(xsp.EventResponse(envelope.request_id, snapshot.event_id)))
    assert sim.xsp.unacknowledged == 0
    cti.connectionLost(Failure(ConnectionDone()))


def test_a_malformed_event_response_is_400(sim, bw_validator):
    status, _, _, (body,), _ = sim.request("POST", xsi_http.EVENT_RESPONSE_PATH, b"<EventResponse/>")
    assert status == 400 and bw_validator(body) == []


# -- subscriptions ---------------------------------------------------------------


def test_subscribe_refresh_delete_each_bring_their_event(sim, bw_validator):
    channel = sim.open_channel()
    sub = sim.subscribe()
    assert [e.event_type for e in channel.events()] == ["CallSubscriptionEvent"]
    update = xsi_http.http_request(requests.update_subscription(sub, 7200))
    status, _, _, (body,), _ = sim.request(update.method, update.target, update.body)
    assert status == 200 and xsp.xsi_values(xsp.parse_document(body)) == {"subscriptionId": sub, "expires": "7200"}
    assert [e.event_type for e in channel.events()] == ["CallSubscriptionEvent"]
    delete = xsi_http.http_request(requests.delete_subscription(sub))
    assert sim.request(delete.method, delete.target)[0] == 200
    assert [e.event_type for e in channel.events()] == ["SubscriptionTerminatedEvent"]
    # Xsi answers every unsuccessful subscription command with 403
    status, _, _, (body,), _ = sim.request(update.method, update.target, update.body)
    assert status == 403 and xsp.xsi_values(xsp.parse_document(body))["errorCode"] == "110862"
    _validate_all(sim, bw_validator)


def test_the_subscription_owner_is_the_authenticated_user(sim):
    channel = sim.open_channel()
    sim.subscribe()
    (snapshot,) = channel.events()
    assert snapshot.user_id == "admin@example.com"


# -- Xsi-Actions ------------------------------------------------------------------


def test_call_control_through_xsi_actions(sim, bw_validator):
    channel = sim.open_channel()
    for user in ("2001", "2002"):
        sim.subscribe(user + "@example.com")
    channel.events()
    dial = xsi_http.http_request(requests.dial(USER, "2002"))
    status, _, _, (body,), _ = sim.request(dial.method, dial.target)
    assert status == 200
    start = xsp.xsi_values(xsp.parse_document(body))
    received = [e for e in channel.events() if e.event_type == "CallReceivedEvent"]
    (alerting,) = received
    assert alerting.call.ext_tracking_id == start["externalTrackingId"]
    for cti in (requests.talk("2002@example.com", alerting.call.call_id),
                requests.hold(USER, start["callId"]),
                requests.talk(USER, start["callId"]),
                requests.transmit_dtmf(USER, start["callId"], "12#"),
                requests.release(USER, start["callId"])):
        request = xsi_http.http_request(cti)
        assert sim.request(request.method, request.target, request.body or b"")[0] == 200, cti.name
    types = [e.event_type for e in channel.events() if e.target_id == USER]
    assert "CallHeldEvent" in types and "CallRetrievedEvent" in types and types[-1] in (
        "CallReleasedEvent", "HookStatusEvent")
    _validate_all(sim, bw_validator)


def _cti_answer(sim, cti):
    """The status and ErrorInfo code the CTI front-end answers for one request."""
    protocol = XspServerProtocol(sim.xsp, 0)
    wire = StringTransport()
    protocol.makeConnection(wire)
    protocol.dataReceived(xsp.encode(xsp.Request("1", "S", cti, xsp.credentials_for("admin", "secret"))))
    (response,) = [d for d in map(xsp.decode, stream.DocumentSplitter().feed(wire.value()))
                   if isinstance(d, xsp.Response)]
    protocol.connectionLost(Failure(ConnectionDone()))
    return response.status_code, xsp.xsi_values(response.payload).get("errorCode")


def _xsi_answer(sim, cti):
    request = xsi_http.http_request(cti)
    status, _, _, chunks, _ = sim.request(request.method, request.target, request.body or b"")
    payload = xsp.parse_document(chunks[0]) if chunks else None
    return status, xsp.xsi_values(payload).get("errorCode")


def test_refusals_are_the_same_on_both_front_ends(sim):
    sim.open_channel()
    refused = [
        requests.talk(USER, "callhalf-999:1"),
        requests.hold("9999@example.com", "c"),
        requests.release(USER, "nope"),
        requests.blind_transfer(USER, "nope", "2002"),
        requests.consultative_transfer(USER, "a", "b"),
        requests.transmit_dtmf(USER, "nope", "1"),
        requests.conference_start(USER, ["a"]),
        requests.update_subscription("nope", 3600),
        requests.delete_subscription("nope"),
        requests.update_channel("nope", 3600),
    ]
    for cti in refused:
        cti_answer = _cti_answer(sim, cti)
        assert cti_answer[0] >= 400, cti.name
        assert _xsi_answer(sim, cti) == cti_answer, cti.name


# -- the contact centre through Xsi-Actions ------------------------------------------

QUEUE = "5001@example.com"
AGENT = "2002@example.com"


@pytest.fixture
def contact_centre():
    from csta_connector.simulator.contact_centre import ContactCentreSettings

    s = Simulator(ContactCentreSettings(call_centers=(("5001", ("2002", "2003")),), offer_seconds=10.0))
    yield s
    s.stop()
    assert s.clock.getDelayedCalls() == []


def _subscribe_to(sim, target, package):
    request = xsi_http.http_request(requests.add_user_subscription(target, "cs1", "app", 3600, event_package=package))
    status, _, _, _, _ = sim.request(request.method, request.target, request.body)
    assert status == 200


def _xsi(sim, cti):
    """(status, the answer's root or None) of one request over Xsi."""
    request = xsi_http.http_request(cti)
    status, _, _, chunks, _ = sim.request(request.method, request.target, request.body or b"")
    return status, xsp.parse_document(chunks[0]) if chunks else None


def test_agent_state_and_queued_calls_through_xsi_actions(contact_centre, bw_validator):
    from csta_connector.broadworks import cti_contact_centre as cti, xsi_contact_centre as cc

    sim = contact_centre
    channel = sim.open_channel()
    _subscribe_to(sim, AGENT, cc.CALL_CENTER_AGENT)
    _subscribe_to(sim, QUEUE, cc.CALL_CENTER_QUEUE)
    assert [e.event_type for e in channel.events()] == ["AgentSubscriptionEvent", "ACDSubscriptionEvent"]

    assert _xsi(sim, cti.set_agent_state(AGENT, "Unavailable", "LUNCH")) == (200, None)
    (changed,) = channel.events()
    assert (changed.event_type, changed.event_data.state_info.state, changed.event_data.state_info.unavailable_code) == (
        "AgentStateEvent", "Unavailable", "LUNCH")
    status, root = _xsi(sim, cti.get_agent_state(AGENT))
    settings_ = cc.parse_call_center(root)
    assert (status, settings_.agent_acd_state, settings_.agent_unavailable_code) == (200, "Unavailable", "LUNCH")
    assert [d.service_user_id for d in settings_.call_centers] == [QUEUE]

    sim.engine.dial(USER, "5001")
    sim.engine.dial("2004@example.com", "5001")
    added = [e for e in channel.events() if e.event_type == "ACDCallAddedEvent"]
    assert len(added) == 2
    entries = [e.event_data.entry.call_id for e in added]
    status, root = _xsi(sim, cti.get_acd(QUEUE))
    assert status == 200 and [e.call_id for e in cc.parse_queue(root)] == entries
    assert _xsi(sim, cti.acd_blind_transfer(QUEUE, entries[0], "2003")) == (200, None)
    assert _xsi(sim, cti.acd_release_call(QUEUE, entries[1])) == (200, None)
    queue_events = [e.event_type for e in channel.events() if e.target_id == QUEUE]
    assert queue_events == ["ACDCallTransferredEvent", "ACDCallReleasedEvent"]
    assert sim.engine.call_centers.center("5001").entries() == ()
    _validate_all(sim, bw_validator)


def test_contact_centre_refusals_are_the_same_on_both_front_ends(contact_centre):
    from csta_connector.broadworks import cti_contact_centre as cti

    sim = contact_centre
    sim.open_channel()
    refused = [
        cti.set_agent_state("2009@example.com", "Available"),  # no agent
        cti.get_agent_state("2009@example.com"),
        cti.set_agent_state(AGENT, "Available", "X" * 11),
        cti.acd_release_call(QUEUE, "callhalf-999:0"),
        cti.acd_blind_transfer(QUEUE, "callhalf-999:0", "2003"),
        cti.acd_release_call("9999@example.com", "c"),  # no call center
        cti.get_acd("9999@example.com"),
    ]
    for request in refused:
        cti_answer = _cti_answer(sim, request)
        assert cti_answer[0] >= 400, request.name
        assert _xsi_answer(sim, request) == cti_answer, request.name


def test_after_an_ungraceful_failover_orphaned_calls_refuse_alike(sim):
    sim.open_channel()
    call = sim.engine.dial("2001@example.com", "2002")
    sim.engine.answer("2002@example.com")
    sim.engine.failover("ungraceful")
    hold = requests.hold(USER, call.call_id)
    answer = _xsi_answer(sim, hold)
    assert answer[0] >= 400 and answer == _cti_answer(sim, hold)
    sim.clock.advance(1)  # the peer AS's resync timer


def test_an_ungraceful_failover_resyncs_over_the_xsi_stream(sim):
    """The peer AS's unsolicited CallSubscriptionEvent reaches an Xsi channel as a CTI one."""
    channel = sim.open_channel()
    sim.subscribe("2002@example.com")
    sim.engine.dial(USER, "2002")
    sim.engine.answer("2002@example.com")
    for event in channel.events():
        _ack(sim, event)
    sim.engine.failover("ungraceful")
    assert channel.events() == []
    sim.clock.advance(0.5)  # resync-delay
    (resync,) = channel.events()
    assert (resync.event_type, resync.target_id, resync.calls) == ("CallSubscriptionEvent", "2002@example.com", ())


# -- EventResponse POSTs, pipelined: read off the bytes -----------------------------


def _posts(events, credentials=xsp.credentials_for("admin", "secret")):
    posts = xsi_http.EventResponsePosts("xsp1", "", credentials)
    return b"".join(posts.post(e.event_id)[0] for e in events)


def _events_on(sim, channel, count):
    """``count`` events of fresh subscriptions on ``channel`` (one each)."""
    for n in range(count):
        sim.subscribe(user="%d@example.com" % (2001 + n))
    events = channel.events()
    assert len(events) == count
    return events


def test_pipelined_event_responses_split_anywhere_are_each_answered_in_order(sim, bw_validator):
    channel = sim.open_channel()
    events = _events_on(sim, channel, 4)
    assert sim.xsp.unacknowledged == 4
    connection = sim.connect()
    data = _posts(events)
    for start in range(0, len(data), 97):  # a TCP read ends anywhere
        connection.channel.dataReceived(data[start:start + 97])
    assert connection.transport.value() == b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" * 4
    assert sim.xsp.unacknowledged == 0
    assert xsi_http.AnswerReader().feed(connection.transport.value()) == [xsi_http.Answer(200, "OK", b"", False)] * 4


def test_after_event_responses_a_connection_can_carry_any_other_request(sim):
    channel = sim.open_channel()
    (event,) = _events_on(sim, channel, 1)
    connection = sim.connect()
    connection.channel.dataReceived(_posts([event]))
    assert connection.answer()[0] == 200
    connection._buffer = b""
    connection.send("PUT", xsi_http.heartbeat(channel.channel_id).target)  # twisted.web from here on
    assert connection.answer()[0] == 200 and channel.read() == [xsi_http.HEARTBEAT_DOCUMENT]
    connection._buffer = b""
    connection.channel.dataReceived(_posts([event]))  # an acknowledgement again, through twisted.web
    assert connection.answer()[0] == 200 and sim.xsp.unacknowledged == 0


def test_a_pipelined_event_response_with_bad_credentials_is_401_and_the_next_goes_on(sim, bw_validator):
    channel = sim.open_channel()
    first, second = _events_on(sim, channel, 2)
    connection = sim.connect()
    connection.channel.dataReceived(
        _posts([first], xsp.credentials_for("admin", "wrong")) + _posts([second]))
    (refused, accepted) = xsi_http.AnswerReader().feed(connection.transport.value())
    assert (refused.status_code, accepted.status_code) == (401, 200)
    assert bw_validator(refused.body) == []
    assert sim.xsp.unacknowledged == 1  # the one refused is still waiting


def test_event_responses_to_a_front_end_down_are_not_answered(sim):
    channel = sim.open_channel()
    (event,) = _events_on(sim, channel, 1)
    connection = sim.connect()
    sim.xsp.front_end_down(sim.xsi.index, "hang")
    connection.channel.dataReceived(_posts([event]))
    assert connection.transport.value() == b"" and not connection.transport.disconnecting
    sim.xsp.front_end_down(sim.xsi.index, "close")
    connection.channel.dataReceived(_posts([event]))
    assert connection.transport.value() == b"" and connection.transport.disconnecting


# -- HTTP ---------------------------------------------------------------------------


@pytest.mark.parametrize("authorization", [None, b"Basic " + base64.b64encode(b"admin:wrong"),
                                           b"Basic !!!", b"Bearer x", b"Basic " + base64.b64encode(b"nobody")])
def test_bad_credentials_are_401(sim, authorization, bw_validator):
    status, _, headers, (body,), _ = sim.request("POST", xsi_http.CHANNEL_PATH, b"", authorization=authorization)
    assert status == 401 and headers[b"www-authenticate"] == b'Basic realm="BroadWorks"'
    assert bw_validator(body) == [] and sim.xsp.channels == {}


def test_without_a_password_table_any_credentials_do():
    sim = Simulator(passwords=None)
    sim.open_channel()
    assert sim.request("POST", xsi_http.CHANNEL_PATH, b"", authorization=None)[0] == 401
    sim.stop()


@pytest.mark.parametrize("method, target, body", [
    ("GET", "/nothing/here", b""),
    ("PATCH", xsi_http.CHANNEL_PATH, b""),
    ("PUT", xsi_http.XSI_ACTIONS + "/user/2001/calls/c/Dance", b""),
])
def test_unknown_resources_are_404_with_error_info(sim, method, target, body, bw_validator):
    status, _, _, (payload,), _ = sim.request(method, target, body)
    assert status == 404 and bw_validator(payload) == []


def test_a_body_that_is_not_xml_is_400(sim):
    status, _, _, (payload,), _ = sim.request("POST", xsi_http.XSI_EVENTS + "/user/" + USER, b"<Subscription")
    assert status == 400 and xsp.xsi_values(xsp.parse_document(payload))["errorCode"] == "100002"


# -- the front-end going down -----------------------------------------------------------


def test_close_ends_the_streams_and_refuses_requests(sim):
    channel = sim.open_channel()
    sim.xsp.front_end_down(sim.xsi.index, "close")
    assert channel.connection.transport.disconnecting
    channel.connection.close()
    assert sim.xsp.channels == {}
    connection = sim.connect()
    connection.send("POST", xsi_http.CHANNEL_PATH, b"")
    assert connection.transport.value() == b"" and connection.transport.disconnecting
    sim.xsp.front_end_up(sim.xsi.index)
    sim.open_channel()


def test_hang_stalls_events_heartbeats_and_requests(sim):
    channel = sim.open_channel()
    sim.xsp.front_end_down(sim.xsi.index, "hang")
    stalled = sim.connect()
    stalled.send("PUT", xsi_http.heartbeat(channel.channel_id).target)
    assert stalled.transport.value() == b""
    sim.engine.dial("2003@example.com", "2004")  # nobody subscribed: nothing to deliver anyway
    connection = sim.connect()
    request = xsi_http.http_request(requests.add_user_subscription(USER, "cs1", "app", 3600))
    connection.send(request.method, request.target, request.body)
    assert connection.transport.value() == b"" and channel.read() == []
    sim.xsp.front_end_up(sim.xsi.index)
    assert sim.request("PUT", xsi_http.heartbeat(channel.channel_id).target)[0] == 200
    sim.xsi.stop()  # drops what the hang held
    assert stalled.transport.disconnecting and connection.transport.disconnecting


def test_front_ends_name_their_protocol(sim):
    status = sim.xsp.front_end_status()
    assert [(fe["xsp"], fe["protocol"]) for fe in status] == [(1, "cti"), (2, "xsi")]
    sim.xsi.listening(8080)
    assert sim.xsp.front_end_status()[1]["port"] == 8080
    stream_ = sim.open_channel()
    assert sim.xsp.front_end_status()[1]["connections"] == 1
    assert isinstance(sim.xsp.channels[stream_.channel_id].connection, XsiStream)
