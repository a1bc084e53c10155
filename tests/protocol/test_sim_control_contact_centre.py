"""The simulator's control API for the contact centre: queues, agents, route
points, digits, and the /status counts, through twisted.web over a StringTransport."""

import pytest
from twisted.internet.task import Clock

from csta_connector.broadworks import xsi_contact_centre as cc
from csta_connector.simulator.contact_centre import ContactCentreSettings
from csta_connector.simulator.control import make_control_site
from csta_connector.simulator.engine import CallEngine
from tests.protocol.test_sim_control import http

SETTINGS = ContactCentreSettings(
    call_centers=(("5001", ("2002", "2003")),), route_points=("6001",), offer_seconds=10.0,
)


@pytest.fixture
def clock():
    c = Clock()
    c.advance(1_700_000_000)
    return c


@pytest.fixture
def engine(clock):
    e = CallEngine(clock, users=10, contact_centre=SETTINGS)
    yield e
    e.stop()


@pytest.fixture
def site(engine, clock):
    yield make_control_site(engine, reactor=clock)
    engine.stop()
    assert clock.getDelayedCalls() == []


def ok(site, method, path, body=None):
    status, _, answer = http(site, method, path, body)
    assert status == 200, answer
    return answer


def test_queues_agents_and_a_distributed_call(site):
    assert ok(site, "GET", "/queues") == [{
        "acd": "5001", "userId": "5001@example.com", "policy": "Uniform",
        "agents": [{"agent": "2002", "joined": True}, {"agent": "2003", "joined": True}], "calls": 0,
    }]
    call = ok(site, "POST", "/calls", {"from": "2001", "to": "5001"})
    (entry,) = ok(site, "GET", "/queues/5001/calls")
    assert entry["extTrackingId"] == call["extTrackingId"] and entry["callId"] != call["callId"]
    assert (entry["position"], entry["remoteUserId"], entry["acdName"], entry["acdPriority"], entry["bounced"]) == (
        1, "2001@example.com", "Queue 5001", "1-High", False,
    )
    assert ok(site, "GET", "/status")["queued_calls"] == 1
    agent = ok(site, "POST", "/agents/2002/state", {"state": "Available"})
    assert agent == {"agent": "2002", "userId": "2002@example.com", "state": "Available", "unavailableCode": None,
                     "queues": [{"acd": "5001", "joined": True}]}
    (offered,) = ok(site, "GET", "/users/2002/calls")
    assert (offered["state"], offered["remoteUserId"]) == ("Alerting", "2001@example.com")
    ok(site, "POST", "/users/2002/answer")
    assert ok(site, "GET", "/queues/5001/calls") == []
    status = ok(site, "GET", "/status")
    assert (status["queued_calls"], status["agents_available"], status["calls"]) == (0, 1, 1)


def test_agent_state_join_and_their_errors(site):
    agent = ok(site, "POST", "/agents/2003/state", {"state": "Unavailable", "unavailableCode": "LUNCH"})
    assert (agent["state"], agent["unavailableCode"]) == ("Unavailable", "LUNCH")
    assert ok(site, "GET", "/agents/2003@example.com")["state"] == "Unavailable"
    agent = ok(site, "POST", "/agents/2003/join", {"acd": "5001", "joined": False})
    assert agent["queues"] == [{"acd": "5001", "joined": False}]
    assert ok(site, "GET", "/queues")[0]["agents"][1] == {"agent": "2003", "joined": False}
    for method, path, body, status, text in (
        ("POST", "/agents/2003/state", {"state": "Busy"}, 400, "agent state"),
        ("POST", "/agents/2003/state", {"state": "Available", "colour": "red"}, 400, "unknown fields"),
        ("POST", "/agents/2003/state", {}, 400, "'state'"),
        ("GET", "/agents/2009", None, 404, "not a call center agent"),
        ("POST", "/agents/2003/join", {"acd": "5001", "joined": "yes"}, 400, "'joined'"),
        ("POST", "/agents/2003/join", {"acd": "6001"}, 404, "no call center"),
        ("GET", "/queues/6001/calls", None, 404, "no call center"),
        ("GET", "/agents/2003/state", None, 405, "not allowed"),
    ):
        got, _, answer = http(site, method, path, body)
        assert (got, text in answer["error"]) == (status, True), (path, answer)


def test_route_points_policy_state_and_digits(site, engine, clock):
    assert ok(site, "GET", "/routepoints") == [{
        "routePoint": "6001", "userId": "6001@example.com", "state": "Normal", "no-request-seconds": 10.0,
        "failed-destination": None, "calls": 0,
    }]
    view = ok(site, "POST", "/routepoints/6001/policy", {"no-request-seconds": 30, "failed-destination": "2009"})
    assert (view["no-request-seconds"], view["failed-destination"]) == (30.0, "2009")
    call = ok(site, "POST", "/calls", {"from": "2001", "to": "6001"})
    (entry,) = ok(site, "GET", "/routepoints/6001/calls")
    assert (entry["routePointName"], entry["playCollectInfo"]) == ("RoutePoint 6001", None)
    point = engine.route_points.route_point("6001")
    play_id = point.play(entry["callId"], cc.RoutePointPlay(cc.PLAY_KINDS[1], digit_map="xx#"))
    (entry,) = ok(site, "GET", "/routepoints/6001/calls")
    assert entry["playCollectInfo"] == {"playCollectId": play_id, "playCollectType": "MOH"}
    path = "/calls/%s/digits" % call["extTrackingId"]
    assert ok(site, "POST", path, {"digits": "12"}) == {"result": "collecting"}
    assert ok(site, "POST", path, {"digits": "#"}) == {"result": "Match"}
    assert http(site, "POST", path, {"digits": "1"})[0] == 409  # nothing collects any more
    assert http(site, "POST", "/calls/9:9/digits", {"digits": "1"})[0] == 404
    assert http(site, "POST", path, {"digits": "hello"})[0] == 400
    assert ok(site, "POST", "/routepoints/6001/state", {"state": "Failed"})["state"] == "Failed"
    assert ok(site, "GET", "/routepoints/6001/calls") == []  # failed to 2009
    assert ok(site, "GET", "/users/2009/calls")[0]["remoteUserId"] == "2001@example.com"
    assert ok(site, "POST", "/routepoints/6001/state", {"state": "Normal"})["state"] == "Normal"
    view = ok(site, "POST", "/routepoints/6001/policy", {"failed-destination": None})
    assert view["failed-destination"] is None
    for body, text in (({"state": "Broken"}, "Normal or Failed"), ({}, "'state'")):
        got, _, answer = http(site, "POST", "/routepoints/6001/state", body)
        assert got == 400 and text in answer["error"]
    for body in ({"no-request-seconds": "soon"}, {"no-request-seconds": 0}, {"failed-destination": "x y"},
                 {"wait": 1}):
        assert http(site, "POST", "/routepoints/6001/policy", body)[0] == 400, body
    assert http(site, "GET", "/routepoints/5001/calls")[0] == 404
