"""The simulator's contact centre on a task.Clock: call centers, agents, route
points, treatments, the application controller, AS failover, and the
[simulator] options that provision them. Every event the tests cause is
checked against the official schemas."""

import dataclasses

import pytest
from twisted.internet.task import Clock

from csta_connector import config
from csta_connector.broadworks import requests, xsi, xsp
from csta_connector.broadworks import xsi_contact_centre as cc
from csta_connector.simulator.contact_centre import ContactCentreSettings
from csta_connector.simulator.digit_map import COLLECTING, MATCH, NO_MATCH, DigitMap, DigitMapError
from csta_connector.simulator.engine import CallEngine, ErrorCode, SimulatorError

T0 = 1_700_000_000


class Recorder:
    def __init__(self, engine):
        self.events = []
        self.all = []
        engine.add_listener(self.events.append)
        engine.add_listener(self.all.append)

    def take(self):
        events = list(self.events)
        del self.events[:]
        return events


def flow(events):
    """(subscriber extension, event type) of each notification."""
    return [(n.user_id.split("@")[0], n.event_type) for n in events]


def of(events, event_type):
    return [n for n in events if n.event_type == event_type]


def the(events, event_type):
    found = of(events, event_type)
    assert len(found) == 1, flow(events)
    return found[0]


@pytest.fixture
def clock():
    c = Clock()
    c.advance(T0)
    return c


SETTINGS = ContactCentreSettings(
    call_centers=(("5001", ("2002", "2003", "2004")), ("5002", ("2004", "2005"))),
    route_points=("6001",),
    offer_seconds=10.0,
)


@pytest.fixture
def settings():
    return SETTINGS


@pytest.fixture
def engine(clock, settings, bw_validator):
    e = CallEngine(clock, users=20, contact_centre=settings)
    recorder = Recorder(e)
    e.recorder = recorder
    yield e
    e.stop()
    assert clock.getDelayedCalls() == []
    # every notification, as the XSP server would send it, validates
    for n, notification in enumerate(recorder.all):
        event = xsi.SubscriptionEvent(
            notification.event_type, "e%d" % n, n + 1, "admin@example.com", "app", "sub-1", "ch-1",
            notification.user_id, call=notification.call, calls=notification.calls,
            conference=notification.conference, hook_status=notification.hook_status,
            event_data=notification.event_data,
        )
        assert bw_validator(xsp.encode(xsp.Event("E%d" % n, xsi.event_xml(event)))) == [], notification


@pytest.fixture
def rec(engine):
    return engine.recorder


def available(engine, rec, *agents):
    for agent in agents:
        engine.call_centers.set_agent_state(agent, "Available")
    rec.take()


def queued(engine, rec, caller="2001", queue="5001"):
    """``caller`` calls ``queue`` (no agent available); its queue record."""
    engine.dial(caller, queue)
    rec.take()
    center = engine.call_centers.center(queue)
    return center.calls[-1]


# --------------------------------------------------------------- provisioning


def test_the_default_configuration_provisions_5001_and_6001(clock):
    section = config.load_simulator_config(None).simulator
    engine = CallEngine(clock, users=100, contact_centre=ContactCentreSettings.from_section(section))
    try:
        center = engine.call_centers.center("5001")
        assert center.subscriber.user_id == "5001@example.com"
        assert center.subscriber.party.name == "Queue 5001"
        assert [a.user.extension for a in center.agents] == [str(n) for n in range(2001, 2011)]
        assert {a.state for a in engine.call_centers.agents.values()} == {"Sign-Out"}
        point = engine.route_points.route_point("6001@example.com")
        assert point.subscriber.party.name == "RoutePoint 6001"
        assert point.no_request_seconds == 10.0
        assert engine.resolve_subscriber("tel:+15550005001") == "5001@example.com"
        assert engine.resolve_subscriber("6001") == "6001@example.com"
        assert engine.status()["agents_available"] == 0
    finally:
        engine.stop()


def test_contact_centre_options_parse_and_refuse_bad_values():
    parsed = config.parse_simulator_config(
        "[simulator]\ncall-centers = 5001:2001-2003 2007, 5002\nroute-points = 6001, 6002\n"
        "route-point-timeout = 4\nno-request-seconds = 2.5\ninitial-agent-state = Available\n"
    ).simulator
    assert parsed.call_centers == (("5001", ("2001", "2002", "2003", "2007")), ("5002", ()))
    settings = ContactCentreSettings.from_section(parsed)
    assert (settings.route_points, settings.no_request_seconds, settings.initial_agent_state) == (
        ("6001", "6002"), 2.5, "Available",
    )
    assert ContactCentreSettings.from_section(
        config.parse_simulator_config("[simulator]\nroute-point-timeout = 4\n").simulator
    ).no_request_seconds == 4.0
    none = config.parse_simulator_config("[simulator]\ncall-centers =\nroute-points =\n").simulator
    assert (none.call_centers, none.route_points) == ((), ())
    for bad in ("call-centers = 5001:2010-2001", "call-centers = 5001, 5001", "call-centers = q:2001",
                "route-points = 6001, x", "queue-policy = Weighted", "initial-agent-state = Busy"):
        with pytest.raises(config.ConfigError) as error:
            config.parse_simulator_config("[simulator]\n%s\n" % bad, "etc/x.ini")
        assert str(error.value).startswith("etc/x.ini: [simulator] %s" % bad.split(" =")[0])


def test_a_taken_extension_or_a_missing_agent_is_left_out(clock):
    settings = ContactCentreSettings(call_centers=(("2003", ("2001",)), ("5001", ("2001", "9999"))),
                                     route_points=("5001", "6001"))
    engine = CallEngine(clock, users=5, contact_centre=settings)
    try:
        assert [c.subscriber.extension for c in engine.call_centers.centers] == ["5001"]
        assert [a.user.extension for a in engine.call_centers.center("5001").agents] == ["2001"]
        assert [r.subscriber.extension for r in engine.route_points.route_points] == ["6001"]
        assert engine.resolve_user("2003") == "2003@example.com"  # still the user
    finally:
        engine.stop()


@pytest.mark.parametrize("option", ["overflow_destination", "failed_destination"])
def test_an_unusable_policy_destination_is_a_clear_error_at_start(clock, option):
    with pytest.raises(ValueError, match=r"\[simulator\] %s = 'x y': invalid address" % option.replace("_", "-")):
        CallEngine(clock, users=5, contact_centre=dataclasses.replace(SETTINGS, **{option: "x y"}))


# ------------------------------------------------------------------- agents


def test_agent_state_changes_are_evented_every_time(engine, rec, clock):
    info = engine.call_centers.set_agent_state("2002", "Unavailable", "LUNCH")
    assert (info.state, info.unavailable_code, info.sign_in_timestamp) == ("Unavailable", "LUNCH", T0 * 1000)
    clock.advance(3)
    engine.call_centers.set_agent_state("2002@example.com", "Unavailable")
    engine.call_centers.set_agent_state("2002", "Sign-Out", "LUNCH")
    events = rec.take()
    assert flow(events) == [("2002", "AgentStateEvent")] * 3
    states = [n.event_data.state_info for n in events]
    assert [(s.state, s.unavailable_code, s.state_timestamp) for s in states] == [
        ("Unavailable", "LUNCH", T0 * 1000), ("Unavailable", None, (T0 + 3) * 1000), ("Sign-Out", None, (T0 + 3) * 1000),
    ]
    assert states[2].sign_in_timestamp is None
    assert all(n.package == cc.CALL_CENTER_AGENT for n in events)


def test_agent_state_errors(engine, rec):
    with pytest.raises(SimulatorError) as e:
        engine.call_centers.set_agent_state("2002", "Busy")
    assert e.value.status_code == 400
    with pytest.raises(SimulatorError) as e:
        engine.call_centers.set_agent_state("2010", "Available")
    assert (e.value.status_code, e.value.error_code) == (404, ErrorCode.UNKNOWN_AGENT)
    with pytest.raises(SimulatorError):
        engine.call_centers.set_agent_state("2002", "Unavailable", "ELEVENCHARS")
    assert rec.take() == []


def test_agent_snapshot_and_settings_list_every_call_center(engine):
    engine.call_centers.join("2004", "5002", False)
    snapshot = engine.call_centers.agent_snapshot("2004")
    assert snapshot.join_infos == (cc.JoinInfo("5001@example.com", True), cc.JoinInfo("5002@example.com", False))
    assert snapshot.state_info.state == "Sign-Out"
    settings = engine.call_centers.agent_settings("2004")
    assert settings.agent_acd_state == "Sign-Out"
    assert [(d.service_user_id, d.available) for d in settings.call_centers] == [
        ("5001@example.com", True), ("5002@example.com", False),
    ]


def test_join_and_leave_are_evented_and_decide_distribution(engine, rec):
    available(engine, rec, "2005")
    engine.call_centers.join("2005", "5002", False)
    assert flow(rec.take()) == [("2005", "ACDAgentJoinUpdateEvent")]
    record = queued(engine, rec, queue="5002")
    assert record.offer is None  # 2005 left the queue
    engine.call_centers.join("2005", "5002", True)
    events = rec.take()
    assert flow(events)[:2] == [("2005", "ACDAgentJoinUpdateEvent"), ("2005", "CallReceivedEvent")]
    assert events[0].event_data == cc.AgentJoinUpdate(cc.JoinInfo("5002@example.com", True))
    # an administrator may also assign a user who is no agent yet
    engine.call_centers.join("2009", "5001", True)
    assert "5001@example.com" in [i.acd_user_id for i in engine.call_centers.agent_snapshot("2009").join_infos]
    with pytest.raises(SimulatorError):
        engine.call_centers.join("2010", "5001", False)
    with pytest.raises(SimulatorError) as e:
        engine.call_centers.join("2002", "5999", True)
    assert e.value.error_code == ErrorCode.UNKNOWN_QUEUE


# ------------------------------------------------------------- call centers


def test_a_call_waits_in_the_queue_while_no_agent_is_available(engine, rec, clock):
    engine.dial("2001", "5001")
    engine.dial("2006", "5001")
    events = rec.take()
    assert flow(events) == [
        ("2001", "HookStatusEvent"), ("2001", "CallOriginatedEvent"), ("5001", "ACDCallAddedEvent"),
        ("2006", "HookStatusEvent"), ("2006", "CallOriginatedEvent"), ("5001", "ACDCallAddedEvent"),
    ]
    originated = events[1].call
    assert (originated.state, originated.remote_party.name) == ("Alerting", "Queue 5001")
    added = of(events, "ACDCallAddedEvent")
    assert [n.event_data.position for n in added] == [1, 2]
    entry = added[0].event_data.entry
    assert entry.ext_tracking_id == originated.ext_tracking_id
    assert entry.call_id != originated.call_id and entry.call_id.startswith("callhalf-")
    assert (entry.remote_party.user_id, entry.add_time, entry.acd_name, entry.acd_number) == (
        "2001@example.com", T0 * 1000, "Queue 5001", "tel:+15550005001",
    )
    assert added[0].package == cc.CALL_CENTER_QUEUE
    assert engine.status()["queued_calls"] == 2
    assert [e.call_id for e in engine.call_centers.center("5001").entries()] == [
        n.event_data.entry.call_id for n in added
    ]


def test_a_queued_call_is_offered_answered_and_wrapped_up(clock):
    settings = dataclasses.replace(SETTINGS, wrap_up_seconds=30.0)
    engine = CallEngine(clock, users=20, contact_centre=settings)
    rec = Recorder(engine)
    try:
        queued(engine, rec)
        clock.advance(4)
        engine.call_centers.set_agent_state("2003", "Available")
        events = rec.take()
        assert flow(events) == [
            ("2003", "AgentStateEvent"), ("2003", "CallReceivedEvent"), ("5001", "ACDCallOfferedToAgentEvent"),
        ]
        received = events[1].call
        assert received.redirect.reason == "call-center"
        assert received.remote_party.user_id == "2001@example.com"
        info = received.acd_call_info
        assert (info.acd_user_id, info.num_calls_in_queue, info.wait_time, info.calling_party_info.user_id) == (
            "5001@example.com", 1, 4, "2001@example.com",
        )
        assert engine.status()["queued_calls"] == 1  # offered, still in the queue
        clock.advance(2)
        engine.answer("2003")
        events = rec.take()
        assert flow(events) == [
            ("2003", "HookStatusEvent"), ("2003", "CallAnsweredEvent"), ("2001", "CallAnsweredEvent"),
            ("5001", "ACDCallAnsweredByAgentEvent"),
        ]
        assert events[2].call.remote_party.user_id == "2003@example.com"
        entry = events[3].event_data.entry
        assert (entry.answering_user_id, entry.answering_call_id, entry.remove_time) == (
            "2003@example.com", received.call_id, (T0 + 6) * 1000,
        )
        assert engine.status()["queued_calls"] == 0
        engine.release("2001")
        events = rec.take()
        wrap = the(events, "AgentStateEvent").event_data.state_info
        assert (wrap.state, wrap.wrap_up_call_id, wrap.wrap_up_call_center_user_id) == (
            "Wrap-Up", received.call_id, "5001@example.com",
        )
        clock.advance(29)
        assert rec.take() == []
        clock.advance(1)
        after = the(rec.take(), "AgentStateEvent").event_data.state_info
        assert (after.state, after.wrap_up_call_id) == ("Available", None)
    finally:
        engine.stop()
    assert clock.getDelayedCalls() == []


def test_without_wrap_up_the_agent_stays_available_and_takes_the_next_call(engine, rec):
    available(engine, rec, "2002")
    engine.dial("2001", "5001")
    engine.dial("2006", "5001")
    engine.answer("2002")
    rec.take()
    engine.release("2002")
    events = rec.take()
    assert "AgentStateEvent" not in [t for _, t in flow(events)]
    offered = the(events, "CallReceivedEvent")
    assert (offered.user_id, offered.call.remote_party.user_id) == ("2002@example.com", "2006@example.com")


def test_agent_state_after_call_unavailable(clock):
    engine = CallEngine(clock, users=20, contact_centre=dataclasses.replace(SETTINGS, agent_state_after_call="Unavailable"))
    rec = Recorder(engine)
    try:
        available(engine, rec, "2002")
        engine.dial("2001", "5001")
        engine.answer("2002")
        engine.release("2001")
        assert the(rec.take(), "AgentStateEvent").event_data.state_info.state == "Unavailable"
    finally:
        engine.stop()


@pytest.mark.parametrize(
    "policy, expected",
    [("Uniform", ["2004", "2002", "2003"]), ("Regular", ["2002", "2002", "2002"]), ("Circular", ["2003", "2004", "2002"])],
)
def test_distribution_policies(clock, policy, expected):
    engine = CallEngine(clock, users=20, contact_centre=dataclasses.replace(SETTINGS, queue_policy=policy))
    rec = Recorder(engine)
    try:
        for agent in ("2004", "2002", "2003"):  # 2004 is the longest idle
            engine.call_centers.set_agent_state(agent, "Available")
            clock.advance(1)
        engine.call_centers.center("5001").last_offered = engine.call_centers.agents["2002@example.com"]
        rec.take()
        offered = []
        for _ in range(3):
            engine.dial("2001", "5001")
            agent = the(rec.take(), "CallReceivedEvent").user_id.split("@")[0]
            offered.append(agent)
            engine.answer(agent)
            clock.advance(1)
            engine.release("2001")
            rec.take()
        assert offered == expected
    finally:
        engine.stop()


def test_no_call_for_agents_not_available_busy_or_out(engine, rec):
    engine.call_centers.set_agent_state("2002", "Unavailable")
    engine.call_centers.set_agent_state("2003", "Wrap-Up")
    engine.call_centers.set_agent_state("2004", "Available")
    engine.dial("2004", "2010")  # 2004 is on a call of its own
    rec.take()
    record = queued(engine, rec)
    assert record.offer is None
    engine.release("2004")  # its call ends: the queued call is offered now
    assert the(rec.take(), "CallReceivedEvent").user_id == "2004@example.com"


def test_an_unanswered_offer_bounces_to_another_agent(engine, rec, clock):
    available(engine, rec, "2002")
    queued(engine, rec)
    engine.call_centers.set_agent_state("2003", "Available")
    rec.take()
    clock.advance(10)
    events = rec.take()
    assert flow(events) == [
        ("2002", "CallReleasedEvent"), ("5001", "ACDCallBouncedEvent"),
        ("2003", "CallReceivedEvent"), ("5001", "ACDCallOfferedToAgentEvent"),
    ]
    assert events[1].event_data.entry.bounced
    # the agent that let it bounce gets it again only when nobody else can
    clock.advance(10)
    assert the(rec.take(), "CallReceivedEvent").user_id == "2002@example.com"


def test_an_agent_refusing_the_offer_bounces_it(engine, rec):
    available(engine, rec, "2002")
    call = engine.dial("2001", "5001")
    offered = the(rec.take(), "CallReceivedEvent").call
    engine.release("2002", offered.call_id, decline=True)
    events = rec.take()
    assert flow(events)[:2] == [("2002", "CallReleasedEvent"), ("5001", "ACDCallBouncedEvent")]
    assert events[0].call.releasing_party == "localRelease"
    assert engine.calls_of("2001")[0].call_id == call.call_id  # the caller still waits


def test_abandon_while_queued_and_while_offered(engine, rec):
    queued(engine, rec)
    engine.release("2001")
    assert flow(rec.take()) == [("2001", "CallReleasedEvent"), ("2001", "HookStatusEvent"), ("5001", "ACDCallAbandonedEvent")]
    available(engine, rec, "2002")
    engine.dial("2006", "5001")
    rec.take()
    engine.hang_up("2006")
    events = rec.take()
    assert flow(events) == [
        ("2006", "CallReleasedEvent"), ("2006", "HookStatusEvent"), ("2002", "CallReleasedEvent"),
        ("5001", "ACDCallAbandonedEvent"),
    ]
    assert events[-1].event_data.entry.remove_time is not None
    assert engine.status()["calls"] == 0


def test_overflow_after_overflow_seconds_to_the_destination_or_busy(clock):
    settings = dataclasses.replace(SETTINGS, overflow_seconds=30.0, overflow_destination="2009")
    engine = CallEngine(clock, users=20, contact_centre=settings)
    rec = Recorder(engine)
    try:
        queued(engine, rec)
        clock.advance(30)
        events = rec.take()
        assert flow(events) == [
            ("5001", "ACDCallOverflowedEvent"), ("2009", "CallReceivedEvent"), ("2001", "CallForwardedEvent"),
        ]
        data = events[0].event_data
        assert (data.overflow_reason, data.redirect.address, data.redirect.reason) == (
            "time", "tel:+15550002009", "call-center",
        )
        assert events[2].call.remote_party.user_id == "2009@example.com"
    finally:
        engine.stop()
    engine = CallEngine(clock, users=20, contact_centre=dataclasses.replace(SETTINGS, overflow_seconds=5.0))
    rec = Recorder(engine)
    try:
        queued(engine, rec)
        clock.advance(5)
        events = rec.take()
        assert flow(events)[:2] == [("5001", "ACDCallOverflowedEvent"), ("2001", "CallReleasingEvent")]
        assert events[0].event_data.redirect is None
        assert events[1].call.release_cause == "Busy"
    finally:
        engine.stop()


def test_a_full_queue_overflows_at_once(clock):
    engine = CallEngine(clock, users=20, contact_centre=dataclasses.replace(SETTINGS, queue_length=1))
    rec = Recorder(engine)
    try:
        queued(engine, rec)
        engine.dial("2006", "5001")
        events = rec.take()
        assert "ACDCallAddedEvent" not in [t for _, t in flow(events)]
        assert the(events, "ACDCallOverflowedEvent").event_data.overflow_reason == "size"
        assert the(events, "CallReleasingEvent").call.release_cause == "Busy"
        assert engine.status()["queued_calls"] == 1
    finally:
        engine.stop()


def test_acd_blind_transfer_and_release(engine, rec):
    center = engine.call_centers.center("5001")
    record = queued(engine, rec)
    center.blind_transfer(record.call_id, "+4930123456")
    events = rec.take()
    assert flow(events) == [("5001", "ACDCallTransferredEvent"), ("2001", "CallForwardedEvent")]
    assert events[0].event_data.redirect.address == "tel:+4930123456"
    assert events[0].event_data.redirect.reason == "transfer"
    assert [c["state"] for c in map(lambda c: c._asdict(), engine.network_calls())] == ["Alerting"]
    available(engine, rec, "2002")
    record = queued(engine, rec, caller="2006")  # offered to 2002 at once
    center.release(record.call_id)
    assert flow(rec.take()) == [
        ("2002", "CallReleasedEvent"), ("2006", "CallReleasedEvent"), ("2006", "HookStatusEvent"),
        ("5001", "ACDCallReleasedEvent"),
    ]
    for action in (lambda: center.release(record.call_id), lambda: center.blind_transfer("nope", "2009")):
        with pytest.raises(SimulatorError) as e:
            action()
        assert e.value.error_code == ErrorCode.UNKNOWN_CALL
    record = queued(engine, rec, caller="2007")
    with pytest.raises(SimulatorError) as e:
        center.blind_transfer(record.call_id, "2999")
    assert e.value.error_code == ErrorCode.DESTINATION_NOT_FOUND
    with pytest.raises(SimulatorError):
        center.blind_transfer(record.call_id, "5001")


def test_promote_and_reorder(engine, rec):
    center = engine.call_centers.center("5001")
    first = queued(engine, rec, caller="2001")
    second = queued(engine, rec, caller="2006")
    third = queued(engine, rec, caller="2007")
    assert center.promote(third.call_id, "0-Highest") == 1
    assert center.promote(second.call_id, "0-Highest") == 2
    events = rec.take()
    assert [(n.event_type, n.event_data.position, n.event_data.entry.acd_priority) for n in events] == [
        ("ACDCallPromotedEvent", 1, "0-Highest"), ("ACDCallPromotedEvent", 2, "0-Highest"),
    ]
    assert events[1].event_data.entry.add_time_in_priority_bucket == T0 * 1000
    assert center.reorder(second.call_id, 1) == 1
    reordered = the(rec.take(), "ACDCallReorderedEvent").event_data
    assert (reordered.position, reordered.entry.reordered) == (1, True)
    assert [r.caller.user.extension for r in center.calls] == ["2006", "2007", "2001"]
    for bad in (lambda: center.promote(second.call_id, "1-High"), lambda: center.promote(first.call_id, "9"),
                lambda: center.reorder(first.call_id, 1), lambda: center.reorder(second.call_id, 0)):
        with pytest.raises(SimulatorError) as e:
            bad()
        assert e.value.status_code == 400


def test_a_call_transferred_into_the_queue_is_queued(engine, rec):
    engine.dial("2001", "2006")
    engine.answer("2006")
    rec.take()
    call = engine.calls_of("2006")[0]
    engine.blind_transfer("2006", call.call_id, "5001")
    events = rec.take()
    assert ("5001", "ACDCallAddedEvent") in flow(events)
    transferred = the(events, "CallTransferredEvent")
    assert (transferred.user_id, transferred.call.remote_party.name) == ("2001@example.com", "Queue 5001")
    assert engine.call_centers.center("5001").calls[0].caller.user.extension == "2001"


def test_a_consultative_transfer_changes_the_queued_caller(engine, rec):
    engine.dial("2001", "2006")
    engine.answer("2006")
    engine.dial("2001", "5001")  # the consultation call: to the queue
    rec.take()
    first, consultation = engine.calls_of("2001")
    engine.consultative_transfer("2001", first.call_id, consultation.call_id)
    updated = the(rec.take(), "ACDCallUpdatedEvent").event_data
    assert (updated.reason, updated.entry.remote_party.user_id) == ("Call Transferred", "2006@example.com")
    available(engine, rec, "2002")
    offered = engine.calls_of("2002")[0]
    assert offered.remote_party.user_id == "2006@example.com"


def test_an_offered_call_cannot_be_deflected(engine, rec):
    available(engine, rec, "2002")
    engine.dial("2001", "5001")
    offered = engine.calls_of("2002")[0]
    with pytest.raises(SimulatorError) as e:
        engine.blind_transfer("2002", offered.call_id, "2009")
    assert e.value.error_code == ErrorCode.INVALID_STATE


# ------------------------------------------------------------- route points


@pytest.fixture
def point(engine):
    return engine.route_points.route_point("6001")


def routed(engine, rec, caller="2001"):
    call = engine.dial(caller, "6001")
    rec.take()
    return engine.route_points.route_point("6001").calls[-1], call


def test_a_route_point_call_waits_then_fails_for_inactivity(engine, rec, clock, point):
    call = engine.dial("2001", "6001")
    added = the(rec.take(), "RoutePointCallAddedEvent")
    assert added.package == cc.ROUTE_POINT_QUEUE
    entry = added.event_data.entry
    assert (entry.route_point_name, entry.route_point_number, entry.ext_tracking_id) == (
        "RoutePoint 6001", "tel:+15550006001", call.ext_tracking_id,
    )
    assert engine.status()["route_point_calls"] == 1
    clock.advance(6)
    point.play(entry.call_id, cc.RoutePointPlay(cc.PLAY_KINDS[3]))  # a request: the timer starts again
    rec.take()
    clock.advance(9.9)
    assert rec.take() == []
    clock.advance(0.1)
    events = rec.take()
    assert flow(events)[:3] == [
        ("6001", "RoutePointSilenceCompletedEvent"), ("6001", "RoutePointCallFailedEvent"),
        ("2001", "CallReleasingEvent"),
    ]
    assert events[0].event_data.play_collect_result.completion_reason == "Stopped-OutOfQueue"
    failed = events[1].event_data
    assert (failed.failure_reason, failed.redirect) == ("CallFailureDueToInactivity", None)
    assert events[2].call.release_cause == "Busy"


def test_inactivity_sends_the_call_to_the_failed_destination(engine, rec, clock, point):
    point.set_policy(no_request_seconds=3, failed_destination="2009")
    routed(engine, rec)
    clock.advance(3)
    events = rec.take()
    assert flow(events) == [
        ("6001", "RoutePointCallFailedEvent"), ("2009", "CallReceivedEvent"), ("2001", "CallForwardedEvent"),
    ]
    assert events[0].event_data.redirect.address == "tel:+15550002009"
    assert events[0].event_data.redirect.reason == "route-point"


def test_route_points_failing_to_each_other_end_in_busy(clock):
    settings = dataclasses.replace(SETTINGS, route_points=("6001", "6002"), failed_destination="6002")
    engine = CallEngine(clock, users=20, contact_centre=settings)
    rec = Recorder(engine)
    try:
        engine.route_points.route_point("6002").set_policy(failed_destination="6001")
        for point in engine.route_points.route_points:
            point.set_state("Failed")
        rec.take()
        engine.dial("2001", "6001")
        events = rec.take()
        assert len(of(events, "RoutePointCallFailedEvent")) == 11
        assert the(events, "CallReleasingEvent").call.release_cause == "Busy"
    finally:
        engine.stop()


def test_distribute_answer_and_bounce(engine, rec, clock, point):
    record, _ = routed(engine, rec)
    point.distribute(record.call_id, cc.RoutePointDistribute("2005@example.com"))
    events = rec.take()
    assert flow(events) == [("2005", "CallReceivedEvent"), ("6001", "RoutePointCallOfferedToAgentEvent")]
    offered = events[0].call
    assert (offered.redirect.reason, offered.acd_call_info.route_point) == ("route-point", True)
    with pytest.raises(SimulatorError) as e:
        point.fail(record.call_id)  # "a call cannot be failed ... while offered"
    assert e.value.status_code == 400
    clock.advance(10)  # offer-seconds: no answer
    events = rec.take()
    assert flow(events) == [("2005", "CallReleasedEvent"), ("6001", "RoutePointCallBouncedEvent")]
    assert point.calls == [record]  # still queued, waiting for the application
    point.distribute(record.call_id, cc.RoutePointDistribute("2006@example.com"))
    rec.take()
    engine.answer("2006")
    events = rec.take()
    answered = the(events, "RoutePointCallAnsweredByAgentEvent").event_data.entry
    assert answered.answering_user_id == "2006@example.com" and answered.remove_time is not None
    assert [n.user_id for n in of(events, "CallAnsweredEvent")] == ["2006@example.com", "2001@example.com"]
    assert engine.status()["route_point_calls"] == 0


def test_distribute_refusals(engine, rec, point):
    record, _ = routed(engine, rec)
    engine.dial("2007", "2008")
    rec.take()
    for agent, status in (("2999@example.com", 404), ("2007@example.com", 409), ("2001@example.com", 400)):
        engine.set_user_options("2007", call_waiting=False)
        with pytest.raises(SimulatorError) as e:
            point.distribute(record.call_id, cc.RoutePointDistribute(agent))
        assert e.value.status_code == status, agent
    point.distribute(record.call_id, cc.RoutePointDistribute("2005"))
    with pytest.raises(SimulatorError):
        point.distribute(record.call_id, cc.RoutePointDistribute("2006"))
    point.bounce(record.call_id)
    assert flow(rec.take())[-1] == ("6001", "RoutePointCallBouncedEvent")
    with pytest.raises(SimulatorError):
        point.bounce(record.call_id)


def test_route_point_transfer_fail_and_release(engine, rec, point):
    record, _ = routed(engine, rec)
    point.blind_transfer(record.call_id, "2009")
    events = rec.take()
    assert flow(events) == [
        ("6001", "RoutePointCallTransferredEvent"), ("2009", "CallReceivedEvent"), ("2001", "CallForwardedEvent"),
    ]
    record, _ = routed(engine, rec, caller="2006")
    point.fail(record.call_id)
    assert the(rec.take(), "RoutePointCallFailedEvent").event_data.failure_reason == "CallFailureRequested"
    record, _ = routed(engine, rec, caller="2007")
    point.release(record.call_id)
    events = rec.take()
    assert the(events, "RoutePointCallReleasedEvent").event_data.release_reason == "CallReleaseRequested"
    assert the(events, "CallReleasedEvent").call.releasing_party == "remoteRelease"
    with pytest.raises(SimulatorError) as e:
        point.release(record.call_id)
    assert e.value.error_code == ErrorCode.UNKNOWN_CALL


def test_abandon_during_routing(engine, rec, point):
    record, _ = routed(engine, rec)
    point.play(record.call_id, cc.RoutePointPlay(cc.PLAY_KINDS[1]))
    rec.take()
    engine.release("2001")
    assert flow(rec.take()) == [
        ("2001", "CallReleasedEvent"), ("2001", "HookStatusEvent"), ("6001", "RoutePointMOHCompletedEvent"),
        ("6001", "RoutePointCallAbandonedEvent"),
    ]


# ---------------------------------------------------------------- treatments


def completion(events):
    completed = [n for n in events if n.event_type.endswith("CompletedEvent")]
    assert len(completed) == 1, flow(events)
    return completed[0].event_type, completed[0].event_data.play_collect_result


def test_play_started_and_timed_out(engine, rec, clock, point):
    record, _ = routed(engine, rec)
    play_id = point.play(record.call_id, cc.RoutePointPlay(cc.PLAY_KINDS[0], duration=5, busy_pattern="FastBusy"))
    started = the(rec.take(), "RoutePointBusyStartedEvent").event_data.entry
    assert started.play_collect_info == cc.PlayCollectInfo(play_id, "Busy")
    assert point.entries()[0].play_collect_info == started.play_collect_info
    clock.advance(4)
    # the running id extends it (the schema's "update the duration")
    assert point.play(record.call_id, cc.RoutePointPlay(cc.PLAY_KINDS[0], duration=5, play_collect_id=play_id)) == play_id
    assert rec.take() == []
    clock.advance(4.9)
    assert rec.take() == []
    clock.advance(0.1)
    assert completion(rec.take()) == ("RoutePointBusyCompletedEvent", cc.PlayCollectResult(play_id, "Timeout"))
    assert point.entries()[0].play_collect_info is None
    with pytest.raises(SimulatorError):
        point.play(record.call_id, cc.RoutePointPlay(cc.PLAY_KINDS[0], busy_pattern="Normal", play_collect_id=play_id))


def test_a_treatment_ends_with_eof(engine, rec, clock, point):
    point.set_policy(no_request_seconds=100)
    record, _ = routed(engine, rec)
    play = cc.RoutePointPlay(cc.PLAY_KINDS[4], audio_urls=("http://m/a.wav", "http://m/b.wav"), number_of_play=2)
    play_id = point.play(record.call_id, play)
    rec.take()
    clock.advance(5 * 2 * 2 - 0.5)
    assert rec.take() == []
    clock.advance(0.5)
    assert completion(rec.take()) == ("RoutePointTreatmentCompletedEvent", cc.PlayCollectResult(play_id, "EOF"))
    for bad in (cc.RoutePointPlay(cc.PLAY_KINDS[4], audio_urls=("u",) * 5),
                cc.RoutePointPlay(cc.PLAY_KINDS[4], audio_urls=("u",), number_of_play=6),
                cc.RoutePointPlay(cc.PLAY_KINDS[1], digit_map="x?")):
        with pytest.raises(SimulatorError) as e:
            point.play(record.call_id, bad)
        assert e.value.status_code == 400


def test_digits_match_or_not(engine, rec, point):
    record, call = routed(engine, rec)
    play_id = point.play(record.call_id, cc.RoutePointPlay(cc.PLAY_KINDS[1], digit_map="xx#"))
    rec.take()
    assert engine.route_points.press(call.ext_tracking_id, "1") == COLLECTING
    assert engine.route_points.press(call.ext_tracking_id, "2#") == MATCH
    assert completion(rec.take()) == ("RoutePointMOHCompletedEvent", cc.PlayCollectResult(play_id, "Match", "12#"))
    play_id = point.play(record.call_id, cc.RoutePointPlay(cc.PLAY_KINDS[2], digit_map="9x"))
    rec.take()
    assert engine.route_points.press(call.ext_tracking_id, "5") == NO_MATCH
    assert completion(rec.take()) == ("RoutePointRingbackCompletedEvent", cc.PlayCollectResult(play_id, "NoMatch", "5"))
    with pytest.raises(SimulatorError) as e:
        engine.route_points.press(call.ext_tracking_id, "1")
    assert e.value.error_code == ErrorCode.NOT_COLLECTING
    with pytest.raises(SimulatorError) as e:
        engine.route_points.press("999:9", "1")
    assert e.value.error_code == ErrorCode.UNKNOWN_CALL
    with pytest.raises(SimulatorError):
        engine.route_points.press(call.ext_tracking_id, "1x")


def test_a_new_play_or_a_distribution_stops_the_running_one(engine, rec, point):
    record, _ = routed(engine, rec)
    first = point.play(record.call_id, cc.RoutePointPlay(cc.PLAY_KINDS[1]))
    rec.take()
    second = point.play(record.call_id, cc.RoutePointPlay(cc.PLAY_KINDS[2]))
    events = rec.take()
    assert flow(events) == [("6001", "RoutePointMOHCompletedEvent"), ("6001", "RoutePointRingbackStartedEvent")]
    assert events[0].event_data.play_collect_result == cc.PlayCollectResult(first, "Stopped-NewPlayCollect")
    assert second != first
    point.distribute(record.call_id, cc.RoutePointDistribute("2005"))
    assert completion(rec.take()) == (
        "RoutePointRingbackCompletedEvent", cc.PlayCollectResult(second, "Stopped-OfferedWithRingback"),
    )


@pytest.mark.parametrize(
    "digit_map, digits, verdict",
    [
        ("xx#", "12#", (MATCH, "12#")), ("xx#", "12", (COLLECTING, "12")), ("xx#", "1*", (NO_MATCH, "1*")),
        ("(1|2x)", "1", (MATCH, "1")), ("(1|2x)", "25", (MATCH, "25")), ("(1|2x)", "3", (NO_MATCH, "3")),
        ("x.#", "98765#", (MATCH, "98765#")), ("x.#", "98", (COLLECTING, "98")), ("[1-3]x", "4", (NO_MATCH, "4")),
        ("[1-3]x", "39", (MATCH, "39")), ("*9T", "*9", (MATCH, "*9")), ("12#", "12#5", (MATCH, "12#")),
    ],
)
def test_digit_maps(digit_map, digits, verdict):
    assert DigitMap(digit_map).judge(digits) == verdict


@pytest.mark.parametrize("bad", ["", "1||2", ".1", "[1-", "[5-1]", "x?", "[]"])
def test_digit_maps_outside_the_subset_are_refused(bad):
    with pytest.raises(DigitMapError):
        DigitMap(bad)


# ------------------------------------------- route point state, app controller


def test_the_application_controller_not_ready_fails_the_route_points(engine, rec, point):
    point.set_policy(failed_destination="2009")
    waiting, _ = routed(engine, rec)
    offered, _ = routed(engine, rec, caller="2006")
    point.distribute(offered.call_id, cc.RoutePointDistribute("2005"))
    rec.take()
    engine.route_points.set_controller_state("not ready")
    events = rec.take()
    assert flow(events)[:2] == [("6001", "RoutePointFailedEvent"), ("6001", "RoutePointCallFailedEvent")]
    assert events[0].event_data == cc.RoutePointStateChange("FailureDetected")
    assert events[1].event_data.failure_reason == "RoutePointFailure"
    assert point.calls == [offered]  # the offered call is left alone
    assert engine.status()["app_controller"] == "not ready"
    engine.dial("2007", "6001")  # a new call fails at once
    assert flow(rec.take())[2:4] == [("6001", "RoutePointCallFailedEvent"), ("2009", "CallReceivedEvent")]
    engine.route_points.set_controller_state("ready")
    assert flow(rec.take()) == [("6001", "RoutePointRecoveredEvent")]
    with pytest.raises(SimulatorError):
        engine.route_points.set_controller_state("maybe")


def test_modify_route_point_state(engine, rec, point):
    point.set_state("Failed")
    assert the(rec.take(), "RoutePointFailedEvent").event_data.state_change_reason == "ExternalRequest"
    engine.route_points.set_controller_state("not ready")  # already failed: no new event
    engine.route_points.set_controller_state("ready")
    assert rec.take() == []
    point.set_state("Normal")
    assert flow(rec.take()) == [("6001", "RoutePointRecoveredEvent")]
    with pytest.raises(SimulatorError):
        point.set_state("Broken")


def test_admission(clock):
    engine = CallEngine(clock, users=20, contact_centre=dataclasses.replace(SETTINGS, admission=True))
    rec = Recorder(engine)
    point = engine.route_points.route_point("6001")
    try:
        engine.dial("2001", "6001")
        new = the(rec.take(), "RoutePointNewCallEvent").event_data
        assert new.receive_time == T0 * 1000 and point.calls == []
        point.admit(new.call_id)
        assert flow(rec.take()) == [("6001", "RoutePointCallAddedEvent")]
        with pytest.raises(SimulatorError):
            point.admit(new.call_id)
        engine.dial("2006", "6001")
        second = the(rec.take(), "RoutePointNewCallEvent").event_data
        point.reject(second.call_id)
        events = rec.take()
        assert the(events, "RoutePointCallRejectedEvent").event_data.reject_reason == "CallRejectRequested"
        assert the(events, "CallReleasingEvent").call.release_cause == "Busy"
        engine.dial("2007", "6001")
        rec.take()
        clock.advance(10)
        assert the(rec.take(), "RoutePointCallRejectedEvent").event_data.reject_reason == "CallAdmissionTimeout"
        engine.dial("2008", "6001")
        rec.take()
        engine.release("2008")
        assert the(rec.take(), "RoutePointCallRejectedEvent").event_data.reject_reason == "CallAbandoned"
    finally:
        engine.stop()


# ------------------------------------------------------------------ failover


def test_ungraceful_failover_orphans_queue_and_route_point_entries(engine, rec, clock, point):
    center = engine.call_centers.center("5001")
    engine.call_centers.set_agent_state("2003", "Unavailable", "BREAK")
    record = queued(engine, rec)
    routed_record, routed_call = routed(engine, rec, caller="2006")
    point.play(routed_record.call_id, cc.RoutePointPlay(cc.PLAY_KINDS[1], duration=3))
    rec.take()
    engine.failover("ungraceful")
    clock.advance(5)
    assert rec.take() == []  # nothing unsolicited for queues, no play completes
    status = engine.status()
    assert (status["queued_calls"], status["route_point_calls"], status["orphaned_calls"]) == (0, 0, 2)
    assert center.entries() == () and point.entries() == ()
    for action in (lambda: center.release(record.call_id), lambda: point.fail(routed_record.call_id)):
        with pytest.raises(SimulatorError) as e:
            action()
        assert e.value.error_code == ErrorCode.CALL_ORPHANED
    # the agent's state is profile data: it survives
    assert engine.call_centers.agent_view("2003")["unavailableCode"] == "BREAK"
    engine.hang_up("2001")  # an orphan's hang-up: no event
    assert rec.take() == []
    # a new call runs on the peer AS, in a fresh id space
    engine.dial("2007", "5001")
    added = the(rec.take(), "ACDCallAddedEvent").event_data
    assert added.position == 1 and added.entry.call_id.endswith(":2")
    assert routed_call.ext_tracking_id.endswith(":1")


def test_unsolicited_queue_resync_when_asked(clock):
    settings = dataclasses.replace(SETTINGS, resync_unsolicited=True)
    engine = CallEngine(clock, users=20, resync_delay=2, contact_centre=settings)
    rec = Recorder(engine)
    try:
        queued(engine, rec)
        engine.dial("2006", "6001")
        rec.take()
        engine.failover("ungraceful")
        clock.advance(1.9)
        assert rec.take() == []
        clock.advance(0.1)
        events = rec.take()
        assert sorted(flow(events)) == [
            ("5001", "ACDSubscriptionResyncEvent"), ("6001", "RoutePointSubscriptionResyncEvent"),
        ]
        assert [n.event_data for n in events] == [cc.QueueSnapshot(()), cc.QueueSnapshot(())]
    finally:
        engine.stop()


def test_graceful_failover_keeps_the_queues(engine, rec, point):
    record = queued(engine, rec)
    routed_record, _ = routed(engine, rec, caller="2006")
    engine.failover("graceful")
    assert rec.take() == []
    assert engine.status()["queued_calls"] == 1 and engine.status()["route_point_calls"] == 1
    engine.call_centers.set_agent_state("2002", "Available")
    assert ("2002", "CallReceivedEvent") in flow(rec.take())
    point.release(routed_record.call_id)
    assert flow(rec.take())[-1] == ("6001", "RoutePointCallReleasedEvent")
    assert record.offer is not None


def test_subscription_snapshots_per_package(engine, rec):
    queued(engine, rec)
    routed(engine, rec, caller="2006")
    kind, data = engine.subscription_snapshot(cc.CALL_CENTER_QUEUE, "5001@example.com")
    assert kind == "ACDSubscriptionEvent" and [e.remote_party.user_id for e in data["event_data"].entries] == ["2001@example.com"]
    kind, data = engine.subscription_snapshot(cc.ROUTE_POINT_QUEUE, "6001@example.com")
    assert kind == "RoutePointSubscriptionEvent" and len(data["event_data"].entries) == 1
    kind, data = engine.subscription_snapshot(cc.CALL_CENTER_AGENT, "2002@example.com")
    assert kind == "AgentSubscriptionEvent" and data["event_data"].state_info.state == "Sign-Out"
    kind, data = engine.subscription_snapshot(requests.ADVANCED_CALL, "2001@example.com")
    assert kind == "CallSubscriptionEvent" and len(data["calls"]) == 1
    for package, target, code in (
        (cc.CALL_CENTER_QUEUE, "6001@example.com", ErrorCode.UNKNOWN_QUEUE),
        (cc.ROUTE_POINT_QUEUE, "5001@example.com", ErrorCode.UNKNOWN_QUEUE),
        (cc.CALL_CENTER_AGENT, "2010@example.com", ErrorCode.UNKNOWN_AGENT),
        (requests.ADVANCED_CALL, "5001@example.com", ErrorCode.UNKNOWN_USER),
        ("Do Not Disturb", "2001@example.com", ErrorCode.INVALID_ARGUMENT),
    ):
        with pytest.raises(SimulatorError) as e:
            engine.check_subscription(package, target)
        assert e.value.error_code == code, (package, target)
