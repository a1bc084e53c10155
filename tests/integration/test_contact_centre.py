"""The contact centre end to end (SPEC §10, issue 14): the embedded simulator's
call center 5001 with agents 2001-2010, the connector, and real CSTA clients
in both encodings over loopback TCP (reference/contact-centre.md §10.8,
scenarios 1-6, 12, 13, 15-17). Every BroadWorks document of each test
validates against the official schemas."""

import dataclasses

import pytest
import pytest_twisted

from csta_connector.csta import messages as m
from csta_connector.csta.client import CSTAErrorResponse
from csta_connector.testing import (
    CONTACT_CENTRE_RESYNC_DELAY as RESYNC_DELAY,
    CSTA_ENCODINGS as ENCODINGS,
    OTHER_ENCODING as OTHER,
    cleared_lines,
    contact_centre_config,
    monitoring_client as client_of,
    pause,
    start_contact_centre as start,
    wait_until,
)


@pytest.fixture
def connector(bw_validator):
    service = pytest_twisted.blockon(start(contact_centre_config()))
    yield service
    pytest_twisted.blockon(service.stopService())
    assert [(d, data) for d, data in service.documents if bw_validator(data)] == []


# -- agents ----------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest_twisted.inlineCallbacks
def test_agent_state_set_queried_and_evented(connector, encoding):
    client = yield client_of(connector, encoding)
    yield client.monitor("2002")
    yield pause()  # the agent subscription's initial event
    expected = [
        ("loggedOn", "Unavailable", ["AgentLoggedOnEvent", "AgentNotReadyEvent"], "agentNotReady"),
        ("ready", "Available", ["AgentReadyEvent"], "agentReady"),
        ("workingAfterCall", "Wrap-Up", ["AgentWorkingAfterCallEvent"], "agentWorkingAfterCall"),
        ("notReady", "Unavailable", ["AgentNotReadyEvent"], "agentNotReady"),
        ("loggedOff", "Sign-Out", ["AgentLoggedOffEvent"], "agentNull"),
    ]
    asked = []
    real_get = connector.client.get_agent_state
    connector.client.get_agent_state = lambda agent: asked.append(agent) or real_get(agent)
    for requested, state, events, csta_state in expected:
        before = len(client.of("2002"))
        response = yield client.request(m.SetAgentState(
            device="2002", requested_agent_state=requested, extensions=m.make_extensions(unavailableCode="BREAK")))
        assert response == m.SetAgentStateResponse()
        yield client.wait("2002", count=before + len(events), what="%s events" % requested)
        assert client.names("2002")[before:] == events
        assert (yield connector.control.get("/agents/2002"))["state"] == state
        # queried: the monitored agent from the model, the same answer BroadWorks gives
        monitored = yield client.request(m.GetAgentState(device="2002"))
        assert asked == []
        (entry,) = monitored.agent_state_list
        assert (entry.agent_id, entry.logged_on) == ("2002@example.com", state != "Sign-Out")
        assert [(i.acd_group, i.agent_state) for i in entry.agent_info] == [("5001", csta_state)]
    last = client.of("2002")[-2]
    assert m.extension_value(last, m.EXT_UNAVAILABLE_CODE) == "BREAK"  # notReady's code

    # a state changed on the phone: the event, no CSTA request
    before = len(client.of("2002"))
    yield connector.control.agent_state("2002", "Available")
    yield client.wait("2002", count=before + 2)
    assert client.names("2002")[before:] == ["AgentLoggedOnEvent", "AgentReadyEvent"]
    # an unmonitored agent: GetAgentStateRequest, the same kind of answer
    yield connector.control.agent_state("2003", "Available")
    unmonitored = yield client.request(m.GetAgentState(device="2003"))
    assert asked == ["2003@example.com"]
    monitored = yield client.request(m.GetAgentState(device="2002"))
    assert [dataclasses.replace(e, agent_id=None) for e in unmonitored.agent_state_list] == [
        dataclasses.replace(e, agent_id=None) for e in monitored.agent_state_list]
    client.close()


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest_twisted.inlineCallbacks
def test_joining_and_leaving_reach_the_agent_and_the_queue(connector, encoding):
    client = yield client_of(connector, encoding)
    yield client.monitor("2002", "5001")
    yield connector.control.join("2002", "5001", False)
    for device in ("2002", "5001"):
        yield client.wait(device, "AgentLoggedOffEvent")
        (off,) = client.of(device)
        assert (off.agent_device, off.agent_id, off.acd_group) == ("2002", "2002@example.com", "5001")
    yield connector.control.join("2002", "5001", True)
    yield client.wait("5001", "AgentLoggedOnEvent")
    assert client.of("5001", "AgentLoggedOnEvent")[0].acd_group == "5001"
    client.close()


@pytest_twisted.inlineCallbacks
def test_a_user_who_is_no_agent_keeps_its_monitor_and_agent_services_fail(bw_validator, lms_lines):
    config = contact_centre_config()
    config = dataclasses.replace(
        config, contact_centre=dataclasses.replace(config.contact_centre, agents=("2001-2020",)))
    connector = yield start(config)
    try:
        client = yield client_of(connector, "xml")
        yield client.monitor("2015")  # a user, no agent of any call center
        yield pause()
        assert [e["user"] for e in lms_lines if e["lms_id"] == 37250] == ["2015@example.com"]
        with pytest.raises(CSTAErrorResponse) as info:
            yield client.request(m.SetAgentState(device="2015", requested_agent_state="ready"))
        assert info.value.error.value == "requestIncompatibleWithObject"
        # the monitor works: a call to 2015 is reported
        yield connector.control.place_call("2001", "2015")
        yield client.wait("2015", "DeliveredEvent")
        client.close()
    finally:
        yield connector.stopService()
    assert [(d, data) for d, data in connector.documents if bw_validator(data)] == []


# -- queues ------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest_twisted.inlineCallbacks
def test_a_queued_call_is_distributed_to_the_available_agent_only_then_wrap_up(connector, encoding):
    client = yield client_of(connector, encoding)
    yield client.monitor("5001", "2002", "2003", "2004")
    yield pause()
    yield connector.control.agent_state("2003", "Unavailable")
    yield client.wait("2003", "AgentNotReadyEvent")
    call = yield connector.control.place_call("2001", "5001")
    tracking = call["extTrackingId"]
    (queued,) = (yield client.wait("5001", "QueuedEvent")) and client.of("5001", "QueuedEvent")
    assert queued.queued_connection == m.ConnectionID(call_id=tracking, device_id="5001")
    assert (queued.queue, queued.calling_device, queued.called_device, queued.cause) == (
        "5001", "2001", "5001", "enteringDistribution")
    assert queued.last_redirection_device is None and queued.number_queued == 1
    yield pause(0.2)
    assert client.of("2002") == client.of("2002", "AgentLoggedOnEvent", "AgentReadyEvent") == []  # nobody Available

    response = yield client.request(m.SetAgentState(device="2002", requested_agent_state="ready"))
    assert response == m.SetAgentStateResponse()
    yield client.wait("2002", "DeliveredEvent")
    delivered = client.of("2002", "DeliveredEvent")[0]
    assert (delivered.connection.call_id, delivered.last_redirection_device, delivered.cause) == (
        tracking, "5001", "distributed")
    yield connector.control.user_action("2002", "answer")
    yield client.wait("5001", "DivertedEvent")
    yield client.wait("2002", "AgentBusyEvent")
    assert client.names("5001") == ["QueuedEvent", "DeliveredEvent", "DivertedEvent"]
    diverted = client.of("5001", "DivertedEvent")[0]
    assert (diverted.diverting_device, diverted.new_destination, diverted.cause) == ("5001", "2002", "distributed")
    assert client.names("2002") == [
        "AgentLoggedOnEvent", "AgentReadyEvent", "DeliveredEvent", "EstablishedEvent", "AgentBusyEvent"]
    # not to the others: 2003 Unavailable, 2004 Sign-Out
    assert client.names("2003") == ["AgentLoggedOnEvent", "AgentNotReadyEvent"]
    assert client.names("2004") == []

    # wrap-up, then Available again after wrap-up-seconds
    yield connector.control.user_action("2001", "release")
    yield client.wait("2002", "AgentReadyEvent", count=2, what="ready after wrap-up")
    assert client.names("2002")[5:] == [
        "ConnectionClearedEvent", "CallClearedEvent", "AgentWorkingAfterCallEvent", "AgentReadyEvent"]
    client.close()


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest_twisted.inlineCallbacks
def test_abandoned_while_queued_and_cleared_by_the_client(connector, encoding):
    client = yield client_of(connector, encoding)
    yield client.monitor("5001")
    first = yield connector.control.place_call("2001", "5001")
    second = yield connector.control.place_call("2006", "5001")
    yield client.wait("5001", "QueuedEvent", count=2)
    assert [e.calls_in_front for e in client.of("5001", "QueuedEvent")] == [0, 1]
    yield connector.control.user_action("2001", "release")
    yield client.wait("5001", "CallClearedEvent")
    cleared = client.of("5001", "ConnectionClearedEvent")[0]
    assert cleared.dropped_connection == m.ConnectionID(call_id=first["extTrackingId"], device_id="5001")
    assert (cleared.releasing_device, cleared.cause) == ("2001", "normalClearing")
    # ClearConnection on the queued connection: ACDReleaseCallRequest
    response = yield client.request(m.ClearConnection(
        connection=m.ConnectionID(call_id=second["extTrackingId"], device_id="5001")))
    assert response == m.ClearConnectionResponse()
    yield client.wait("5001", "CallClearedEvent", count=2)
    assert (yield connector.control.queue_calls("5001")) == []
    assert b"ACDReleaseCallRequest" in b"".join(data for _, data in connector.documents)
    snapshot = yield client.request(m.SnapshotDevice(device="5001"))
    assert snapshot.items == ()
    client.close()


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest_twisted.inlineCallbacks
def test_a_stuck_queued_call_is_cleared_by_a_queue_snapshot_after_an_ungraceful_failover(
    connector, lms_lines, encoding
):
    requester = yield client_of(connector, encoding)
    other = yield client_of(connector, OTHER[encoding])
    yield requester.monitor("5001")
    yield other.monitor("5001")
    calls = []
    for caller in ("2001", "2006"):
        calls.append((yield connector.control.place_call(caller, "5001"))["extTrackingId"])
    yield other.wait("5001", "QueuedEvent", count=2)
    snapshot = yield requester.request(m.SnapshotDevice(device="5001"))
    assert sorted(i.connection.call_id for i in snapshot.items) == sorted(calls)
    before = (len(requester.of("5001")), len(other.of("5001")))
    yield connector.control.failover("ungraceful")
    # the peer AS tells nothing about queues by itself
    yield pause(2 * RESYNC_DELAY + 0.1)
    assert (len(requester.of("5001")), len(other.of("5001"))) == before
    assert cleared_lines(lms_lines, "5001") == []

    snapshot = yield requester.request(m.SnapshotDevice(device="5001"))
    assert snapshot.items == ()
    yield other.wait("5001", "CallClearedEvent", count=2)
    got = other.of("5001")[before[1]:]
    assert [type(e).__name__ for e in got] == ["ConnectionClearedEvent", "CallClearedEvent"] * 2
    assert sorted(e.dropped_connection.call_id for e in got if type(e) is m.ConnectionClearedEvent) == sorted(calls)
    assert {(e.cause, e.releasing_device) for e in got if type(e) is m.ConnectionClearedEvent} == {
        ("switchingFunctionTerminated", "5001")}
    assert len(requester.of("5001")) == before[0]  # the requester learns it from its response
    assert sorted(c for c, _ in cleared_lines(lms_lines, "5001")) == sorted(calls)
    assert len(connector.core.contact_centre.queue_model) == 0

    # a new call on the peer AS queues normally
    new = yield connector.control.place_call("2007", "5001")
    yield other.wait("5001", "QueuedEvent", count=3)
    assert other.of("5001", "QueuedEvent")[-1].queued_connection.call_id == new["extTrackingId"]
    requester.close()
    other.close()


@pytest_twisted.inlineCallbacks
def test_renewal_clears_a_stuck_queued_call_and_refreshes_the_agent(bw_validator, lms_lines):
    """Without any SnapshotDevice, and with no sign of the failover for the
    proactive resync (no user call was up): each queue and agent subscription
    is renewed (UpdateSubscriptionRequest) and the orphans are cleared."""
    connector = yield start(contact_centre_config({"subscription_renew_interval": 1, "subscription_renew_jitter": 0}))
    try:
        client = yield client_of(connector, "ber")
        yield client.monitor("5001", "2002")
        yield connector.control.place_call("2001", "5001")
        yield client.wait("5001", "QueuedEvent")
        yield connector.control.failover("ungraceful")
        yield client.wait("5001", "CallClearedEvent", what="the orphan cleared by renewal")
        (cleared,) = client.of("5001", "ConnectionClearedEvent")
        assert cleared.cause == "switchingFunctionTerminated"
        assert len(cleared_lines(lms_lines, "5001")) == 1
        # every subscription is renewed: the queue's, the agent's and 2002's calls
        renewed = yield wait_until(lambda: {e["subscription_id"] for e in lms_lines if e["lms_id"] == 37204},
                                   lambda ids: len(ids) == 3, "three subscriptions renewed")
        assert renewed == {sub.subscription_id for manager in (connector.core.subscriptions,)
                           + connector.core.contact_centre.managers for sub in manager.subscriptions}
        client.close()
    finally:
        yield connector.stopService()
    assert [(d, data) for d, data in connector.documents if bw_validator(data)] == []


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest_twisted.inlineCallbacks
def test_the_resync_wave_clears_a_stuck_queued_call_without_a_snapshot(connector, lms_lines, encoding):
    """The peer AS says nothing of queues; an answered call an agent received
    gives the sign of the failover (its unsolicited CallSubscriptionEvent),
    and the proactive resync wave refreshes the queue holding a call."""
    client = yield client_of(connector, encoding)
    yield client.monitor("5001", "2002", "2003")
    talk = (yield connector.control.place_call("2003", "2002"))["extTrackingId"]
    yield connector.control.user_action("2002", "answer")
    yield client.wait("2003", "EstablishedEvent")
    queued = (yield connector.control.place_call("2001", "5001"))["extTrackingId"]
    yield client.wait("5001", "QueuedEvent")  # every agent signed out: it waits
    yield connector.control.failover("ungraceful")
    yield client.wait("5001", "CallClearedEvent", what="the stuck queued call cleared by the wave")
    (cleared,) = client.of("5001", "ConnectionClearedEvent")
    assert (cleared.dropped_connection.call_id, cleared.cause) == (queued, "switchingFunctionTerminated")
    assert [c for c, _ in cleared_lines(lms_lines, "5001")] == [queued]
    yield client.wait("2003", "CallClearedEvent", what="the originator's stuck call cleared too")
    assert [e["call_id"] for e in lms_lines if e["lms_id"] == 37205 and e["device"] in ("2002", "2003")] == [talk] * 2
    assert [e["lms_id"] for e in lms_lines if e["lms_id"] in (37230, 37231)][:1] == [37230]
    # no client asked: the queue's refresh was the wave's
    assert connector.core.contact_centre.queues.update_requests == 1
    assert len(connector.core.contact_centre.queue_model) == 0
    client.close()


@pytest_twisted.inlineCallbacks
def test_an_unsolicited_queue_resync_is_processed_like_a_solicited_one(bw_validator, lms_lines):
    connector = yield start(contact_centre_config(queue_resync_unsolicited=True))
    try:
        client = yield client_of(connector, "xml")
        yield client.monitor("5001")
        call = yield connector.control.place_call("2001", "5001")
        yield client.wait("5001", "QueuedEvent")
        yield connector.control.failover("ungraceful")
        yield client.wait("5001", "CallClearedEvent", what="cleared by the ACDSubscriptionResyncEvent")
        assert cleared_lines(lms_lines, "5001") == [(call["extTrackingId"], cleared_lines(lms_lines, "5001")[0][1])]
        assert b"ACDSubscriptionResyncEvent" in b"".join(data for d, data in connector.documents if d == "out")
        client.close()
    finally:
        yield connector.stopService()
    assert [(d, data) for d, data in connector.documents if bw_validator(data)] == []


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest_twisted.inlineCallbacks
def test_a_graceful_failover_clears_nothing(connector, lms_lines, encoding):
    client = yield client_of(connector, encoding)
    yield client.monitor("5001", "2002")
    yield client.request(m.SetAgentState(device="2002", requested_agent_state="notReady"))
    calls = []
    for caller in ("2001", "2006"):
        calls.append((yield connector.control.place_call(caller, "5001"))["extTrackingId"])
    yield client.wait("5001", "QueuedEvent", count=2)
    before = len(client.protocol.events.items)
    yield connector.control.failover("graceful")
    yield pause(2 * RESYNC_DELAY + 0.1)
    snapshot = yield client.request(m.SnapshotDevice(device="5001"))
    assert sorted(i.connection.call_id for i in snapshot.items) == sorted(calls)
    yield client.request(m.SnapshotDevice(device="2002"))  # refreshes the agent as well
    yield pause()
    assert client.protocol.events.items[before:] == []
    assert cleared_lines(lms_lines, "5001") == [] and 37251 not in [e["lms_id"] for e in lms_lines]
    # and distribution goes on
    yield client.request(m.SetAgentState(device="2002", requested_agent_state="ready"))
    yield client.wait("5001", "DeliveredEvent")
    client.close()


@pytest_twisted.inlineCallbacks
def test_an_agent_changed_while_the_link_was_down_is_corrected_after_it_returns(connector, lms_lines):
    client = yield client_of(connector, "xml")
    yield client.monitor("2002")
    yield pause()
    yield connector.control.post("/xsp/1/down", {"mode": "close"})
    yield pause(0.1)
    yield connector.control.agent_state("2002", "Available")  # its event is lost with the link
    yield connector.control.post("/xsp/1/up")
    yield client.wait("2002", "AgentReadyEvent", what="the refreshed AgentSubscriptionEvent's correction")
    assert client.names("2002") == ["AgentLoggedOnEvent", "AgentReadyEvent"]
    (line,) = [e for e in lms_lines if e["lms_id"] == 37251]
    assert (line["device"], line["old_state"], line["new_state"]) == ("2002", "Sign-Out", "Available")
    client.close()
