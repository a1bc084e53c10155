"""The simulator's control API: every endpoint and its errors, through twisted.web.

Most tests drive the real ``Site`` with raw HTTP bytes over a
``StringTransport`` (a real HTTP parse, no sockets, the clock is a ``Clock``);
one test goes over real loopback TCP with pytest-twisted.
"""

import json

import pytest
import pytest_twisted
from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure

from csta_connector import lms
from csta_connector.simulator.control import make_control_site
from csta_connector.simulator.engine import CallEngine


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def engine(clock):
    """The engine on the test's clock; the test must end with nothing left on
    it (the engine's resyncs and treatments, the HTTP channels' timeouts)."""
    e = CallEngine(clock, users=10)
    yield e
    left = clock.getDelayedCalls()
    e.stop()
    assert left == [], "the test left delayed calls on its clock"


@pytest.fixture
def site(engine, clock):
    return make_control_site(engine, reactor=clock)


def http(site, method, path, body=None, raw=None, headers=b""):
    """One request over a fresh connection: (status, headers bytes, JSON)."""
    channel = site.buildProtocol(IPv4Address("TCP", "127.0.0.1", 40000))
    transport = StringTransport()
    channel.makeConnection(transport)
    if raw is None:
        raw = b"" if body is None else json.dumps(body).encode()
    channel.dataReceived(
        b"%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        b"Content-Length: %d\r\n%s\r\n" % (method.encode(), path.encode(), len(raw), headers)
        + raw
    )
    response = transport.value()
    channel.connectionLost(Failure(ConnectionDone()))
    head, _, payload = response.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    assert b"content-type: application/json" in head.lower()
    assert b"Traceback" not in payload
    return status, head, json.loads(payload)


def test_status(site):
    """GET /status reports the active AS, users, calls and orphans."""
    assert http(site, "GET", "/status")[::2] == (
        200,
        {"active_as": "primary", "users": 10, "calls": 0, "orphaned_calls": 0, "queued_calls": 0,
         "route_point_calls": 0, "agents_available": 0, "app_controller": "ready"},
    )


def test_place_call_and_list_calls(site, engine):
    """POST /calls dials and answers the caller's half; GET /users/N/calls
    lists both halves with the same extTrackingId."""
    status, _, made = http(site, "POST", "/calls", {"from": "2001", "to": "2002"})
    assert status == 200
    assert made == {"extTrackingId": "1:1", "callId": engine.calls_of("2001")[0].call_id}
    status, _, calls = http(site, "GET", "/users/2002/calls")
    assert status == 200
    (call,) = calls
    assert call["extTrackingId"] == "1:1"
    assert call["callId"] != made["callId"]
    assert call["personality"] == "Terminator"
    assert call["state"] == "Alerting"
    assert call["remoteParty"] == "tel:+15550002001"
    assert http(site, "GET", "/users/2001@example.com/calls")[2][0]["personality"] == "Originator"
    assert http(site, "GET", "/status")[2]["calls"] == 1


def test_phone_actions(site, engine):
    """answer, hold, retrieve and release act on the user's calls."""
    http(site, "POST", "/calls", {"from": 2001, "to": 2002})
    status, _, call = http(site, "POST", "/users/2002/answer")
    assert (status, call["state"]) == (200, "Active")
    status, _, call = http(site, "POST", "/users/2002/hold", {"callId": call["callId"]})
    assert (status, call["state"]) == (200, "Held")
    status, _, call = http(site, "POST", "/users/2002/retrieve", raw=b"")
    assert (status, call["state"]) == (200, "Active")
    assert http(site, "POST", "/users/2001/release")[::2] == (200, {"released": True})
    assert http(site, "GET", "/users/2002/calls")[2] == []


def test_user_info_and_settings(site):
    """GET /users/N and POST /users/N/settings (busy, callWaiting)."""
    status, _, info = http(site, "GET", "/users/2003")
    assert status == 200
    assert info["userId"] == "2003@example.com"
    assert info["number"] == "+15550002003"
    assert info["busy"] is False and info["callWaiting"] is True
    status, _, info = http(site, "POST", "/users/2003/settings", {"busy": True})
    assert (status, info["busy"]) == (200, True)
    http(site, "POST", "/calls", {"from": "2001", "to": "2003"})
    assert http(site, "GET", "/status")[2]["calls"] == 0  # failed with Busy
    assert http(site, "POST", "/users/2003/settings", {"busy": "yes"})[0] == 400
    assert http(site, "POST", "/users/2003/settings", {"colour": "red"})[0] == 400


def test_network_party_endpoints(site):
    """An external number alerts; /network/<n>/answer and /release drive it;
    a network number may also call in through POST /calls."""
    _, _, made = http(site, "POST", "/calls", {"from": "2001", "to": "+4930123456"})
    status, _, calls = http(site, "GET", "/network/calls")
    assert status == 200 and calls[0]["extTrackingId"] == made["extTrackingId"]
    status, _, call = http(site, "POST", "/network/+4930123456/answer")
    assert (status, call["state"]) == (200, "Active")
    assert http(site, "GET", "/users/2001/calls")[2][0]["state"] == "Active"
    assert http(
        site,
        "POST",
        "/network/+4930123456/release",
        {"extTrackingId": made["extTrackingId"]},
    )[::2] == (200, {"released": True})
    status, _, made = http(site, "POST", "/calls", {"from": "+4930999999", "to": "2002"})
    assert status == 200
    assert http(site, "GET", "/users/2002/calls")[2][0]["remoteParty"] == "tel:+4930999999"
    assert http(site, "POST", "/network/+4930555555/answer")[0] == 404


def test_failover_endpoint(site, clock, engine, lms_lines):
    """POST /failover flips the AS; ungraceful orphans the calls, the peer AS
    resyncs the answering user, and a phone release of an orphan still works
    (silently)."""
    http(site, "POST", "/calls", {"from": "2001", "to": "2002"})
    http(site, "POST", "/users/2002/answer")
    notifications = []
    engine.add_listener(notifications.append)
    status, _, body = http(site, "POST", "/failover", {"mode": "ungraceful"})
    assert status == 200
    assert body == {
        "active_as": "secondary", "users": 10, "calls": 0, "orphaned_calls": 1, "queued_calls": 0,
        "route_point_calls": 0, "agents_available": 0, "app_controller": "ready",
    }
    assert http(site, "GET", "/users/2002/calls")[2] == []
    status, _, body = http(site, "POST", "/users/2002/hold")
    assert status == 404 and "failover" in body["error"]
    assert http(site, "POST", "/users/2002/release")[0] == 200
    assert http(site, "GET", "/status")[2]["orphaned_calls"] == 0
    assert http(site, "POST", "/failover", {"mode": "graceful"})[2]["active_as"] == "primary"
    assert [(e["mode"], e["active_as"], e["orphaned"]) for e in lms_lines
            if lms.is_message(e, lms.SIMULATOR_FAILOVER)] == [("ungraceful", "secondary", 1),
                                                             ("graceful", "primary", 0)]
    clock.advance(1.0)  # the engine's resync_delay
    assert [(n.user_id, n.event_type, n.calls) for n in notifications] == [
        ("2002@example.com", "CallSubscriptionEvent", ())
    ]


@pytest.mark.parametrize(
    "method, path, body, status, fragment",
    [
        ("GET", "/nowhere", None, 404, "no such resource"),
        ("GET", "/users/2002/dance", None, 404, "no such resource"),
        ("GET", "/users", None, 404, "no such resource"),
        ("DELETE", "/status", None, 405, "not allowed"),
        ("GET", "/calls", None, 405, "not allowed"),
        ("POST", "/calls", b"{not json", 400, "not valid JSON"),
        ("POST", "/calls", b"[1, 2]", 400, "JSON object"),
        ("POST", "/calls", b"\xff\xfe", 400, "not valid JSON"),
        ("POST", "/calls", {"from": "2001"}, 400, "'to'"),
        ("POST", "/calls", {"from": "2001", "to": ""}, 400, "'to'"),
        ("POST", "/calls", {"from": "2001", "to": "bob"}, 400, "invalid address"),
        ("POST", "/calls", {"from": "1999", "to": "2002"}, 400, "not a network number"),
        ("POST", "/calls", {"from": "2001", "to": "2001"}, 400, "itself"),
        ("GET", "/users/1999", None, 404, "unknown user"),
        ("GET", "/users/1999/calls", None, 404, "unknown user"),
        ("POST", "/users/1999/answer", None, 404, "unknown user"),
        ("POST", "/users/2002/answer", None, 400, "no alerting call"),
        ("POST", "/users/2002/release", None, 400, "no call"),
        ("POST", "/users/2002/hold", {"callId": "callhalf-9:9"}, 404, "no call"),
        ("POST", "/users/2002/hold", {"callId": ["x"]}, 400, "'callId'"),
        ("POST", "/failover", {"mode": "sideways"}, 400, "failover mode"),
        ("POST", "/failover", {}, 400, "'mode'"),
    ],
)
def test_errors_are_json_4xx(site, method, path, body, status, fragment):
    """Bad input never yields a 500 or a traceback: a 4xx with {"error": ...}."""
    raw = body if isinstance(body, bytes) else None
    got, _, answer = http(site, method, path, None if raw else body, raw=raw)
    assert got == status
    assert fragment in answer["error"]


def test_method_not_allowed_names_allowed_methods(site):
    """A 405 carries an Allow header."""
    status, head, _ = http(site, "PUT", "/failover")
    assert status == 405
    assert b"\r\nallow: post\r\n" in head.lower()


def test_engine_bug_is_a_plain_500(site, engine, monkeypatch, lms_lines):
    """An unexpected exception is logged (37415, with its traceback) and
    answered 500 without details."""

    def broken():
        raise RuntimeError("secret detail")

    monkeypatch.setattr(engine, "status", broken)
    status, _, body = http(site, "GET", "/status")
    assert (status, body) == (500, {"error": "internal error"})
    (line,) = [e for e in lms_lines if lms.is_message(e, lms.SIMULATOR_CONTROL_REQUEST_FAILED)]
    first, *traceback = lms.render_line(line).split("\n")
    assert first.endswith(" Std 37415 Simulator: control API request GET /status failed")
    assert traceback[-1] == "builtins.RuntimeError: secret detail"


@pytest_twisted.inlineCallbacks
def test_real_loopback_listener():
    """The Site serves real HTTP on a loopback port."""
    from io import BytesIO

    from twisted.internet import reactor
    from twisted.web.client import Agent, FileBodyProducer, readBody
    from twisted.web.http_headers import Headers

    engine = CallEngine(reactor, users=5)
    port = reactor.listenTCP(0, make_control_site(engine), interface="127.0.0.1")
    try:
        base = "http://127.0.0.1:%d" % port.getHost().port
        agent = Agent(reactor)
        body = FileBodyProducer(BytesIO(b'{"from": "2001", "to": "2002"}'))
        response = yield agent.request(
            b"POST", (base + "/calls").encode(), Headers({}), body
        )
        made = json.loads((yield readBody(response)))
        assert response.code == 200 and made["extTrackingId"] == "1:1"
        response = yield agent.request(b"GET", (base + "/status").encode())
        assert json.loads((yield readBody(response)))["calls"] == 1
    finally:
        engine.stop()
        yield port.stopListening()
