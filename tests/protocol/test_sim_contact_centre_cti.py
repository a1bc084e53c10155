"""The simulator's XSP server and the contact centre, over a StringTransport:
subscriptions to the three contact-centre packages, every CTI request of
CTIACD, CTIAgent, CTIRoutePoint and CTISystem, their responses and the events
that follow. Every document the server writes is checked against the schemas."""

import dataclasses

import pytest
from twisted.internet.task import Clock

from csta_connector.broadworks import cti_contact_centre as cti
from csta_connector.broadworks import requests, xsp
from csta_connector.broadworks import xsi_contact_centre as cc
from csta_connector.simulator.contact_centre import ContactCentreSettings
from csta_connector.simulator.engine import CallEngine
from csta_connector.simulator.xsp_server import XspServer
from csta_connector.testing import XspWire

SETTINGS = ContactCentreSettings(
    call_centers=(("5001", ("2002", "2003")),), route_points=("6001",), offer_seconds=10.0,
)


@pytest.fixture
def clock():
    c = Clock()
    c.advance(1_700_000_000)
    return c


@pytest.fixture
def settings():
    return SETTINGS


@pytest.fixture
def engine(clock, settings):
    e = CallEngine(clock, users=20, contact_centre=settings)
    yield e
    e.stop()


@pytest.fixture
def wire(engine, clock, bw_validator):
    server = XspServer(engine, clock)
    connection = XspWire(server, bw_validator)
    connection.ok(requests.add_channel("cs", 1, 50, 3600, "app"))
    yield connection
    server.stop()
    engine.stop()
    assert clock.getDelayedCalls() == []


def types(events):
    return [e.event_type for e in events]


def entry_of(wire, engine, queue="5001", caller="2001"):
    engine.dial(caller, queue)
    return [e for e in wire.read() if e.event_type.endswith("CallAddedEvent")][-1].event_data.entry


# ------------------------------------------------------------ subscriptions


@pytest.mark.parametrize(
    "target, package, event_type",
    [
        ("5001@example.com", cc.CALL_CENTER_QUEUE, "ACDSubscriptionEvent"),
        ("6001", cc.ROUTE_POINT_QUEUE, "RoutePointSubscriptionEvent"),
        ("2002@example.com", cc.CALL_CENTER_AGENT, "AgentSubscriptionEvent"),
        ("2002@example.com", requests.ADVANCED_CALL, "CallSubscriptionEvent"),
    ],
)
def test_each_package_answers_add_and_every_update_with_its_event(wire, target, package, event_type):
    subscription_id, events = wire.subscribe(target, package)
    assert types(events) == [event_type]
    assert events[0].target_id.startswith(target.split("@")[0])
    for sequence in (2, 3):
        _, events = wire.ok(requests.update_subscription(subscription_id, 3600))
        assert [(e.event_type, e.sequence_number) for e in events] == [(event_type, sequence)]


def test_subscription_events_carry_the_state(wire, engine):
    engine.call_centers.set_agent_state("2003", "Unavailable", "LUNCH")
    engine.dial("2001", "5001")
    engine.dial("2006", "6001")
    _, (acd,) = wire.subscribe("5001@example.com", cc.CALL_CENTER_QUEUE)
    assert [e.remote_party.user_id for e in acd.event_data.entries] == ["2001@example.com"]
    _, (point,) = wire.subscribe("6001@example.com", cc.ROUTE_POINT_QUEUE)
    assert [e.remote_party.user_id for e in point.event_data.entries] == ["2006@example.com"]
    _, (agent,) = wire.subscribe("2003@example.com", cc.CALL_CENTER_AGENT)
    assert agent.event_data.join_infos == (cc.JoinInfo("5001@example.com", True),)
    assert (agent.event_data.state_info.state, agent.event_data.state_info.unavailable_code) == ("Unavailable", "LUNCH")


@pytest.mark.parametrize(
    "target, package, status",
    [
        ("2002@example.com", cc.CALL_CENTER_QUEUE, 404),
        ("5001@example.com", cc.ROUTE_POINT_QUEUE, 404),
        ("2009@example.com", cc.CALL_CENTER_AGENT, 404),
        ("5001@example.com", requests.ADVANCED_CALL, 404),
        ("5999@example.com", cc.CALL_CENTER_QUEUE, 404),
        ("2002@example.com", "Do Not Disturb", 400),
    ],
)
def test_a_subscription_the_target_cannot_take_is_refused(wire, target, package, status):
    wire.refused(requests.add_user_subscription(target, "cs", "app", 3600, event_package=package), status)


def test_each_event_goes_to_the_subscriptions_of_its_package(wire, engine):
    calls, _ = wire.subscribe("2002@example.com", requests.ADVANCED_CALL)
    agent, _ = wire.subscribe("2002@example.com", cc.CALL_CENTER_AGENT)
    queue, _ = wire.subscribe("5001@example.com", cc.CALL_CENTER_QUEUE)
    _, events = wire.ok(cti.set_agent_state("2002@example.com", "Available"))
    assert [(e.event_type, e.subscription_id, e.sequence_number) for e in events] == [("AgentStateEvent", agent, 2)]
    engine.dial("2001", "5001")
    events = wire.read()
    assert [(e.event_type, e.subscription_id) for e in events] == [
        ("ACDCallAddedEvent", queue), ("CallReceivedEvent", calls), ("ACDCallOfferedToAgentEvent", queue),
    ]
    assert [e.sequence_number for e in events] == [2, 2, 3]


# -------------------------------------------------------------------- agents


def test_set_and_get_agent_state(wire, engine):
    wire.subscribe("2002@example.com", cc.CALL_CENTER_AGENT)
    _, events = wire.ok(cti.set_agent_state("2002@example.com", "Unavailable", "LUNCH"))
    info = events[0].event_data.state_info
    assert (info.state, info.unavailable_code) == ("Unavailable", "LUNCH")
    response, events = wire.ok(cti.get_agent_state("2002@example.com"))
    assert events == []
    settings = cc.parse_call_center(response.payload)
    assert (settings.agent_acd_state, settings.agent_unavailable_code) == ("Unavailable", "LUNCH")
    assert settings.call_centers == (cc.CallCenterDetails("5001@example.com", True, "+15550005001", "5001"),)
    wire.refused(cti.set_agent_state("2002@example.com", "Busy"), 400)
    wire.refused(cti.set_agent_state("2009@example.com", "Available"), 404)
    wire.refused(cti.get_agent_state("2009@example.com"), 404)
    no_state = xsp.CtiRequest("SetAgentStateRequest", "/u", "PUT", (("subscriberid", "2002"),),
                              cc.call_center_element(cc.CallCenterSettings()))
    assert "agentACDState" in wire.refused(no_state, 400)["summary"]


@pytest.mark.parametrize(
    "name", ["EscalateToSupervisorRequest", "TagDispositionCodeRequest", "RoutePointOutgoingDialRequest",
             "RoutePointConnectToVoiceXMLRequest"],
)
def test_requests_the_simulator_does_not_model_answer_501(wire, name):
    assert wire.refused(xsp.CtiRequest(name, "/x", "POST", (("subscriberid", "2002"),)), 501)["errorCode"] == "5011"


# --------------------------------------------------------------------- ACD


def test_acd_requests(wire, engine):
    queue, _ = wire.subscribe("5001@example.com", cc.CALL_CENTER_QUEUE)
    first = entry_of(wire, engine)
    second = entry_of(wire, engine, caller="2006")
    response, _ = wire.ok(cti.get_acd("5001@example.com"))
    assert [e.call_id for e in cc.parse_queue(response.payload)] == [first.call_id, second.call_id]
    response, events = wire.ok(cti.acd_promote_call("5001@example.com", second.call_id, "0-Highest"))
    assert cc.parse_single_text(response.payload) == "1"
    assert [(e.event_type, e.event_data.position) for e in events] == [("ACDCallPromotedEvent", 1)]
    response, events = wire.ok(cti.acd_reorder_call("5001@example.com", second.call_id, 1))
    assert cc.parse_single_text(response.payload) == "1" and types(events) == ["ACDCallReorderedEvent"]
    wire.refused(cti.acd_promote_call("5001@example.com", first.call_id, "3-Low"), 400)
    _, events = wire.ok(cti.acd_blind_transfer("5001@example.com", first.call_id, "2009"))
    assert types(events) == ["ACDCallTransferredEvent"]
    assert events[0].event_data.redirect.address == "tel:+15550002009"
    _, events = wire.ok(cti.acd_release_call("5001@example.com", second.call_id))
    assert types(events) == ["ACDCallReleasedEvent"]
    wire.refused(cti.acd_release_call("5001@example.com", second.call_id), 404)
    wire.refused(cti.acd_release_call("5999@example.com", second.call_id), 404)
    assert {e.subscription_id for e in events} == {queue}


# ------------------------------------------------------------- route points


def test_route_point_requests(wire, engine, clock):
    wire.subscribe("6001@example.com", cc.ROUTE_POINT_QUEUE)
    entry = entry_of(wire, engine, queue="6001")
    response, _ = wire.ok(cti.get_route_point("6001@example.com"))
    assert [e.call_id for e in cc.parse_queue(response.payload)] == [entry.call_id]
    # the five treatments: the response carries the playCollectId, the Started event follows it
    for n, kind in enumerate(cc.PLAY_KINDS):
        play = cc.RoutePointPlay(kind, busy_pattern="Normal" if n == 0 else None,
                                 audio_urls=("http://m/a.wav",) if n == 4 else ())
        response, events = wire.ok(cti.route_point_play("6001@example.com", entry.call_id, play))
        play_collect_id = cc.parse_single_text(response.payload)
        started = [e for e in events if e.event_type.endswith("StartedEvent")]
        assert [e.event_type for e in started] == ["RoutePoint%sStartedEvent" % kind.event_prefix]
        assert started[0].event_data.entry.play_collect_info.play_collect_id == play_collect_id
        if n:
            assert types(events)[0] == "RoutePoint%sCompletedEvent" % cc.PLAY_KINDS[n - 1].event_prefix
    wire.refused(cti.route_point_play("6001@example.com", entry.call_id, cc.RoutePointPlay(cc.PLAY_KINDS[4])), 400)
    _, events = wire.ok(cti.route_point_distribute_call("6001@example.com", entry.call_id,
                                                        cc.RoutePointDistribute("2005@example.com")))
    assert types(events) == ["RoutePointTreatmentCompletedEvent", "RoutePointCallOfferedToAgentEvent"]
    assert events[0].event_data.play_collect_result.completion_reason == "Stopped-OfferedWithRingback"
    wire.refused(cti.route_point_fail_call("6001@example.com", entry.call_id), 400)
    _, events = wire.ok(cti.route_point_bounce_call("6001@example.com", entry.call_id))
    assert types(events) == ["RoutePointCallBouncedEvent"]
    _, events = wire.ok(cti.route_point_blind_transfer("6001@example.com", entry.call_id, "+4930123456"))
    assert types(events) == ["RoutePointCallTransferredEvent"]
    second = entry_of(wire, engine, queue="6001", caller="2006")
    _, events = wire.ok(cti.route_point_fail_call("6001@example.com", second.call_id))
    assert [e.event_data.failure_reason for e in events] == ["CallFailureRequested"]
    third = entry_of(wire, engine, queue="6001", caller="2007")
    _, events = wire.ok(cti.route_point_release_call("6001@example.com", third.call_id))
    assert [e.event_data.release_reason for e in events] == ["CallReleaseRequested"]
    wire.refused(cti.route_point_release_call("6001@example.com", third.call_id), 404)
    wire.refused(cti.route_point_distribute_call("6001@example.com", third.call_id, cc.RoutePointDistribute("2005")), 404)


def test_route_point_state_requests(wire, engine):
    wire.subscribe("6001@example.com", cc.ROUTE_POINT_QUEUE)
    _, events = wire.ok(cti.modify_route_point_state("6001@example.com", "Failed"))
    assert [(e.event_type, e.event_data.state_change_reason) for e in events] == [
        ("RoutePointFailedEvent", "ExternalRequest"),
    ]
    response, _ = wire.ok(cti.get_route_point_state("6001@example.com"))
    assert cc.parse_single_text(response.payload) == "Failed"
    _, events = wire.ok(cti.modify_route_point_state("6001@example.com", "Normal"))
    assert types(events) == ["RoutePointRecoveredEvent"]
    wire.refused(cti.modify_route_point_state("6001@example.com", "Broken"), 400)
    wire.refused(cti.get_route_point_state("5001@example.com"), 404)


def test_application_controller_state(wire, engine, bw_validator):
    wire.subscribe("6001@example.com", cc.ROUTE_POINT_QUEUE)
    _, events = wire.ok(cti.set_application_controller_state("ctl", "not ready"))
    assert [(e.event_type, e.event_data.state_change_reason) for e in events] == [
        ("RoutePointFailedEvent", "FailureDetected"),
    ]
    response, _ = wire.ok(requests.get_application_controller_state("ctl"))
    assert xsp.xsi_values(response.payload) == {"state": "not ready"}
    _, events = wire.ok(cti.set_application_controller_state("ctl", "ready"))
    assert types(events) == ["RoutePointRecoveredEvent"]
    wire.refused(cti.set_application_controller_state("ctl", "maybe"), 400)
    # "ready" needs a channel: a connection that has none is refused
    channelless = XspWire(wire.server, bw_validator)
    channelless.refused(cti.set_application_controller_state("ctl", "ready"), 409)


@pytest.mark.parametrize("settings", [dataclasses.replace(SETTINGS, admission=True)])
def test_admission_requests(wire, engine):
    wire.subscribe("6001@example.com", cc.ROUTE_POINT_QUEUE)
    engine.dial("2001", "6001")
    (new,) = wire.read()
    assert new.event_type == "RoutePointNewCallEvent"
    _, events = wire.ok(cti.route_point_admit_call("6001@example.com", new.event_data.call_id))
    assert types(events) == ["RoutePointCallAddedEvent"]
    wire.refused(cti.route_point_admit_call("6001@example.com", new.event_data.call_id), 400)
    engine.dial("2006", "6001")
    (new,) = wire.read()
    _, events = wire.ok(cti.route_point_reject_call("6001@example.com", new.event_data.call_id))
    assert [e.event_data.reject_reason for e in events] == ["CallRejectRequested"]


# ------------------------------------------------------------------ failover


def test_after_an_ungraceful_failover_only_a_refresh_shows_the_queue(wire, engine, clock):
    queue, _ = wire.subscribe("5001@example.com", cc.CALL_CENTER_QUEUE)
    point, _ = wire.subscribe("6001@example.com", cc.ROUTE_POINT_QUEUE)
    agent, _ = wire.subscribe("2002@example.com", cc.CALL_CENTER_AGENT)
    wire.ok(cti.set_agent_state("2002@example.com", "Unavailable"))
    orphan = entry_of(wire, engine)
    routed = entry_of(wire, engine, queue="6001", caller="2006")
    engine.failover("ungraceful")
    clock.advance(10)
    assert wire.read() == []  # nothing unsolicited for queues and route points
    refused = wire.refused(cti.acd_release_call("5001@example.com", orphan.call_id), 404)
    assert refused["errorCode"] == "4043"
    wire.refused(cti.route_point_fail_call("6001@example.com", routed.call_id), 404)
    fresh = entry_of(wire, engine, caller="2007")
    _, (snapshot,) = wire.ok(requests.update_subscription(queue, 3600))
    assert [e.call_id for e in snapshot.event_data.entries] == [fresh.call_id]
    _, (snapshot,) = wire.ok(requests.update_subscription(point, 3600))
    assert snapshot.event_data.entries == ()
    _, (snapshot,) = wire.ok(requests.update_subscription(agent, 3600))
    assert snapshot.event_data.state_info.state == "Unavailable"  # agent state survives
