"""The contact centre's services through the core, on a Clock with a scripted
BroadWorks client: subscriptions per package, queue and agent
synchronization, the agent services, call control on a queued connection
(SPEC §10; reference/contact-centre.md §10.2-§10.5, scenarios 12, 15, 16)."""

import pytest
from twisted.internet import defer
from twisted.internet.task import Clock

from csta_connector.broadworks import xsi
from csta_connector.broadworks import xsi_contact_centre as cc
from csta_connector.csta import messages as m
from csta_connector.csta.server import CSTARequestError
from csta_connector.services.core import ConnectorCore
from csta_connector.services.devices import DeviceTypes
from csta_connector.testing import RecordingSession, ScriptedClient

QUEUE = "5001@example.com"
AGENT = "2002@example.com"
CALLER = xsi.RemoteParty(name="A", address="tel:+15550002001", user_id="2001@example.com")


@pytest.fixture
def logged():
    from twisted.logger import globalLogPublisher

    events = []
    globalLogPublisher.addObserver(events.append)
    yield lambda lms_id: [e for e in events if e.get("lms_id") == lms_id]
    globalLogPublisher.removeObserver(events.append)


class Setup:
    def __init__(self, renew_interval=0, **kw):
        self.clock = Clock()
        self.client = ScriptedClient(default_domain="example.com")
        self.core = ConnectorCore(
            self.client, self.clock, renew_interval=renew_interval, renew_jitter=0,
            devices=DeviceTypes(acd_queues=("5001", "5002"), agents=("2001-2010",)), **kw,
        )
        self.cc = self.core.contact_centre
        self.seq = 0

    def last(self, name):
        return self.client.last(name)

    def answer(self, name, result=None):
        self.client.answer_last(name, result)

    def refuse(self, name, status=404):
        self.client.refuse_last(name, status)

    def event(self, subscription, event_type, data=None, **kw):
        self.seq += 1
        self.core.broadworks_event(xsi.SubscriptionEvent(
            event_type, "e%d" % self.seq, self.seq, "app", "app", subscription, event_data=data, **kw))

    def handle(self, session, request):
        results = []
        defer.maybeDeferred(self.core.handle, session, request).addBoth(results.append)
        return results

    def monitor(self, session, device, subscription, snapshot_event=None, data=None):
        results = self.handle(session, m.MonitorStart(device=device))
        self.answer("subscribe", subscription)
        if snapshot_event:
            self.event(subscription, snapshot_event, data)
        return results[0].cross_ref_id


def entry(call_id="q-1", tracking="7:1", **kw):
    return cc.QueueEntry(call_id, tracking, CALLER, 1000, "Queue 5001", "tel:+15550005001", **kw)


def queue_snapshot(*entries):
    return cc.QueueSnapshot(tuple(entries))


def agent_snapshot(state="Sign-Out", joined=True):
    return cc.AgentSnapshot((cc.JoinInfo(QUEUE, joined),), cc.AgentStateInfo(state, 1))


def test_an_acd_monitor_subscribes_call_center_queue_an_agents_two_packages():
    s = Setup()
    a = RecordingSession()
    s.monitor(a, "5001", "sub-q", "ACDSubscriptionEvent", queue_snapshot())
    s.handle(a, m.MonitorStart(device="2002"))
    s.answer("subscribe", "sub-c")
    assert s.client.names() == [
        ("subscribe", (QUEUE, "Call Center Queue")), ("subscribe", AGENT), ("subscribe", (AGENT, "Call Center Agent"))]
    # a second monitor of the agent shares both subscriptions
    b = RecordingSession("b")
    xref = s.handle(b, m.MonitorStart(device="2002"))[0].cross_ref_id
    assert len(s.client.requests) == 3
    s.handle(b, m.MonitorStop(cross_ref_id=xref))
    assert len(s.client.requests) == 3  # a still monitors
    s.core.session_closed(a)
    assert sorted(n for n, _ in s.client.names()[3:]) == ["unsubscribe", "unsubscribe"]  # sub-c, sub-q


def test_a_refused_agent_subscription_leaves_the_monitor_and_agent_services_fail(logged):
    s = Setup()
    a = RecordingSession()
    results = s.handle(a, m.MonitorStart(device="2003"))
    s.answer("subscribe", "sub-c")
    s.refuse("subscribe")
    assert isinstance(results[0], m.MonitorStartResponse)
    assert len(logged(37250)) == 1 and logged(37203) == []
    before = len(s.client.requests)
    for request in (m.SetAgentState(device="2003", requested_agent_state="ready"), m.GetAgentState(device="2003")):
        with pytest.raises(CSTARequestError) as info:
            s.core.handle(a, request)
        assert info.value.error.value == "requestIncompatibleWithObject"
    assert len(s.client.requests) == before  # BroadWorks is not asked


def test_queue_events_reach_the_queues_monitors():
    s = Setup()
    a = RecordingSession()
    s.monitor(a, "5001", "sub-q", "ACDSubscriptionEvent", queue_snapshot())
    s.event("sub-q", "ACDCallAddedEvent", cc.QueueEntryEvent(entry(), position=1))
    s.event("sub-q", "ACDCallAbandonedEvent", cc.QueueEntryEvent(entry()))
    queued, cleared, call_cleared = a.events()
    assert type(queued) is m.QueuedEvent and queued.queued_connection == m.ConnectionID(call_id="7:1", device_id="5001")
    assert (cleared.releasing_device, cleared.cause) == ("2001", "normalClearing")
    assert type(call_cleared) is m.CallClearedEvent


def test_a_queue_snapshot_answers_from_the_event_its_request_causes_and_tells_the_others(logged):
    s = Setup()
    a, b = RecordingSession("a"), RecordingSession("b")
    s.monitor(a, "5001", "sub-q", "ACDSubscriptionEvent", queue_snapshot(entry(), entry("q-2", "8:1")))
    s.handle(b, m.MonitorStart(device="5001"))
    assert a.events() == [] and len(s.cc.queue_model) == 2  # the initial event: learnt, told nobody
    first = s.handle(a, m.SnapshotDevice(device="5001"))
    second = s.handle(b, m.SnapshotDevice(device="5001"))
    assert [n for n, _ in s.client.names()].count("update") == 1  # concurrent snapshots share one request
    # an event before BroadWorks answered is older than the request... once
    # answered, the next ACDSubscriptionEvent answers, after synchronization
    s.answer("update")
    s.event("sub-q", "ACDSubscriptionEvent", queue_snapshot(entry("q-2", "8:1"), entry("q-3", "9:1")))
    for response in (first[0], second[0]):
        assert [i.connection.call_id for i in response.items] == ["8:1", "9:1"]
        assert {i.local_connection_state for i in response.items} == {"queued"}
    # both asked: neither is told by events
    assert a.events() == [] and b.events() == []
    assert [(e["device"], e["call_id"], e["party"]) for e in logged(37205)] == [("5001", "7:1", "q-1")]
    # the initial event added q-1 and q-2, the snapshot q-3
    assert [e["party"] for e in logged(37208)] == ["q-1", "q-2", "q-3"]


def test_a_snapshot_of_a_queue_clears_the_stuck_for_the_other_monitors():
    s = Setup()
    a, b = RecordingSession("a"), RecordingSession("b")
    s.monitor(a, "5001", "sub-q", "ACDSubscriptionEvent", queue_snapshot(entry()))
    s.handle(b, m.MonitorStart(device="5001"))
    results = s.handle(a, m.SnapshotDevice(device="5001"))
    s.answer("update")
    s.event("sub-q", "ACDSubscriptionEvent", queue_snapshot())
    assert results[0].items == ()
    assert a.events() == []
    cleared, call_cleared = b.events()
    assert (cleared.dropped_connection.call_id, cleared.cause) == ("7:1", "switchingFunctionTerminated")
    assert type(call_cleared) is m.CallClearedEvent


def test_a_snapshot_of_an_unmonitored_queue_takes_a_temporary_subscription_and_keeps_nothing():
    s = Setup()
    a = RecordingSession()
    results = s.handle(a, m.SnapshotDevice(device="5001"))
    assert s.client.names() == [("subscribe", (QUEUE, "Call Center Queue"))]
    s.answer("subscribe", "sub-q")
    s.event("sub-q", "ACDSubscriptionEvent", queue_snapshot(entry()))
    assert [i.connection.call_id for i in results[0].items] == ["7:1"]
    assert s.client.names()[-1] == ("unsubscribe", "sub-q")
    assert len(s.cc.queue_model) == 0 and a.events() == []


def test_a_resync_event_synchronizes_like_a_solicited_one_but_answers_no_snapshot(logged):
    s = Setup()
    a, b = RecordingSession("a"), RecordingSession("b")
    s.monitor(a, "5001", "sub-q", "ACDSubscriptionEvent", queue_snapshot(entry()))
    s.handle(b, m.MonitorStart(device="5001"))
    results = s.handle(a, m.SnapshotDevice(device="5001"))
    s.answer("update")
    s.event("sub-q", "ACDSubscriptionResyncEvent", queue_snapshot())
    assert results == []  # still waiting for the event of its request
    assert len(logged(37205)) == 1
    assert [type(e).__name__ for e in a.events()] == ["ConnectionClearedEvent", "CallClearedEvent"]
    assert [type(e).__name__ for e in b.events()] == ["ConnectionClearedEvent", "CallClearedEvent"]
    s.event("sub-q", "ACDSubscriptionEvent", queue_snapshot())
    assert results[0].items == ()


def test_renewal_refreshes_queue_and_agent_subscriptions_and_clears_orphans(logged):
    s = Setup(renew_interval=60)
    a = RecordingSession()
    s.monitor(a, "5001", "sub-q", "ACDSubscriptionEvent", queue_snapshot(entry()))
    s.handle(a, m.MonitorStart(device="2002"))
    s.answer("subscribe", "sub-c")
    s.answer("subscribe", "sub-a")
    s.clock.advance(61)
    assert sorted(a for n, a in s.client.names() if n == "update") == ["sub-a", "sub-c", "sub-q"]
    for index, (name, arg, _) in enumerate(list(s.client.requests)):
        if name == "update":
            s.client.answer(index)
    s.event("sub-q", "ACDSubscriptionEvent", queue_snapshot())
    assert [type(e).__name__ for e in a.events()] == ["ConnectionClearedEvent", "CallClearedEvent"]
    assert len(logged(37205)) == 1


def test_a_sequence_gap_or_a_recovered_link_refreshes_contact_centre_subscriptions():
    from csta_connector.broadworks.ordering import SequenceGap

    s = Setup()
    a = RecordingSession()
    s.monitor(a, "5001", "sub-q", "ACDSubscriptionEvent", queue_snapshot())
    s.handle(a, m.MonitorStart(device="2002"))
    s.answer("subscribe", "sub-c")
    s.answer("subscribe", "sub-a")
    before = len(s.client.requests)
    s.core.broadworks_sequence_gap(SequenceGap("sub-q", 3, 7))
    assert s.client.names()[before:] == [("update", "sub-q")]
    s.answer("update")
    s.core.broadworks_link_recovered("link-1")
    assert sorted(a for n, a in s.client.names()[before + 1:]) == ["sub-a", "sub-c", "sub-q"]


def agent_monitored(s, state="Available"):
    a = RecordingSession()
    s.handle(a, m.MonitorStart(device="2002"))
    s.answer("subscribe", "sub-c")
    s.event("sub-c", "CallSubscriptionEvent", hook_status="On-Hook")
    s.answer("subscribe", "sub-a")
    s.event("sub-a", "AgentSubscriptionEvent", agent_snapshot(state))
    return a


def test_agent_state_events_and_a_corrected_agent(logged):
    s = Setup()
    a = agent_monitored(s, "Sign-Out")
    assert a.events() == []
    s.event("sub-a", "AgentStateEvent", cc.AgentStateChange(cc.AgentStateInfo("Unavailable", 2, unavailable_code="LUNCH")))
    on, not_ready = a.events()
    assert (type(on), type(not_ready)) == (m.AgentLoggedOnEvent, m.AgentNotReadyEvent)
    assert m.extension_value(not_ready, m.EXT_UNAVAILABLE_CODE) == "LUNCH"
    # the refresh after a lost link shows the agent Available and out of 5001
    s.event("sub-a", "AgentSubscriptionEvent", agent_snapshot("Available", joined=False))
    ready, off = a.events()
    assert type(ready) is m.AgentReadyEvent and (type(off), off.acd_group) == (m.AgentLoggedOffEvent, "5001")
    (line,) = logged(37251)
    assert (line["old_state"], line["new_state"], line["left"]) == ("Unavailable", "Available", "5001")


def test_a_join_update_goes_to_the_agents_and_the_queues_monitors():
    s = Setup()
    a = agent_monitored(s)
    q = RecordingSession("q")
    s.monitor(q, "5001", "sub-q", "ACDSubscriptionEvent", queue_snapshot())
    s.event("sub-a", "ACDAgentJoinUpdateEvent", cc.AgentJoinUpdate(cc.JoinInfo(QUEUE, False)))
    for session in (a, q):
        (off,) = session.events()
        assert (type(off), off.agent_device, off.acd_group) == (m.AgentLoggedOffEvent, "2002", "5001")


@pytest.mark.parametrize(
    "requested, state, code",
    [("loggedOn", "Unavailable", None), ("loggedOff", "Sign-Out", None), ("notReady", "Unavailable", "LUNCH"),
     ("ready", "Available", None), ("workingAfterCall", "Wrap-Up", None)],
)
def test_set_agent_state_asks_broadworks_and_answers_after_it(requested, state, code):
    s = Setup()
    a = RecordingSession()
    extensions = m.make_extensions(unavailableCode="LUNCH")
    results = s.handle(a, m.SetAgentState(device="2002", requested_agent_state=requested, extensions=extensions))
    assert s.client.names()[-1] == ("set_agent_state", (AGENT, state, code))
    assert results == []
    s.answer("set_agent_state")
    assert results == [m.SetAgentStateResponse()]


def test_set_agent_state_refusals():
    s = Setup(agent_login_state="Available")
    a = agent_monitored(s)
    s.handle(a, m.SetAgentState(device="2002", requested_agent_state="loggedOn"))
    assert s.client.names()[-1] == ("set_agent_state", (AGENT, "Available", None))
    for request, value in (
        (m.SetAgentState(device="2002", requested_agent_state="ready", agent_id="2009"), "invalidAgentIdentifier"),
        (m.SetAgentState(device="2002", requested_agent_state="ready", group="5002"), "invalidAgentGroup"),
        (m.SetAgentState(device="5001", requested_agent_state="ready"), "requestIncompatibleWithObject"),
        # XSIDataTypes AgentUnavailableCode: 1 to 10 characters, or the document would not validate
        (m.SetAgentState(device="2002", requested_agent_state="notReady",
                         extensions=m.make_extensions(unavailableCode="X" * 11)), "invalidParameterValue"),
        (m.SetAgentState(device="2002", requested_agent_state="notReady",
                         extensions=m.make_extensions(unavailableCode="  ")), "invalidParameterValue"),
    ):
        with pytest.raises(CSTARequestError) as info:
            s.core.handle(a, request)
        assert info.value.error.value == value
    assert s.client.names()[-1] == ("set_agent_state", (AGENT, "Available", None))  # none of them asked
    s.handle(a, m.SetAgentState(device="2002", requested_agent_state="notReady",
                                extensions=m.make_extensions(unavailableCode="X" * 10)))
    assert s.client.names()[-1] == ("set_agent_state", (AGENT, "Unavailable", "X" * 10))
    results = s.handle(a, m.SetAgentState(device="2002", requested_agent_state="ready", agent_id=AGENT, group="5001"))
    s.refuse("set_agent_state", 400)
    assert results[0].value.error.category == "stateIncompatibility"


def test_get_agent_state_from_the_model_or_from_broadworks():
    s = Setup()
    a = agent_monitored(s, "Unavailable")
    before = len(s.client.requests)
    (response,) = s.handle(a, m.GetAgentState(device="2002"))
    assert len(s.client.requests) == before  # the live subscription's model answers
    (entry_,) = response.agent_state_list
    assert (entry_.logged_on, [(i.acd_group, i.agent_state) for i in entry_.agent_info]) == (
        True, [("5001", "agentNotReady")])
    results = s.handle(a, m.GetAgentState(device="2003"))
    assert s.client.names()[-1] == ("get_agent_state", "2003@example.com")
    s.answer("get_agent_state", cc.CallCenterSettings("Available", None, (
        cc.CallCenterDetails(QUEUE, True, extension="5001"), cc.CallCenterDetails("5002@example.com", False))))
    assert [(i.acd_group, i.agent_state) for i in results[0].agent_state_list[0].agent_info] == [("5001", "agentReady")]
    with pytest.raises(CSTARequestError) as info:
        s.core.handle(a, m.GetAgentState(device="2002", acd_group="5002"))
    assert info.value.error.value == "invalidAgentGroup"


def answered_acd_call(s, a):
    call = xsi.Call(
        "callhalf-9:0", "7:1", "Terminator", "Active", CALLER, start_time=1, answer_time=2,
        acd_call_info=cc.AcdCallInfo(QUEUE, "Queue 5001", "tel:+1", 1, 3, CALLER),
    )
    s.event("sub-c", "CallReceivedEvent", call=call._replace(state="Alerting", answer_time=None))
    s.event("sub-c", "CallAnsweredEvent", call=call)
    return call


def test_an_agent_is_busy_on_a_call_centers_call_and_its_state_is_read_after_it(logged):
    s = Setup()
    a = agent_monitored(s)
    call = answered_acd_call(s, a)
    delivered, established, busy = a.events()
    assert (delivered.last_redirection_device, delivered.cause) == ("5001", "distributed")
    assert type(busy) is m.AgentBusyEvent
    (response,) = s.handle(a, m.GetAgentState(device="2002"))
    assert response.agent_state_list[0].agent_info[0].agent_state == "agentBusy"
    s.event("sub-c", "CallReleasedEvent", call=call._replace(state="Released"))
    assert s.client.names()[-1] == ("get_agent_state", AGENT)
    s.answer("get_agent_state", cc.CallCenterSettings("Available"))
    assert [type(e).__name__ for e in a.events()] == ["ConnectionClearedEvent", "CallClearedEvent", "AgentReadyEvent"]
    assert logged(37252)[0]["state"] == "Available"


def test_after_the_call_a_state_event_tells_it_and_the_read_state_is_dropped():
    s = Setup()
    a = agent_monitored(s)
    call = answered_acd_call(s, a)
    s.event("sub-c", "CallReleasedEvent", call=call._replace(state="Released"))
    s.event("sub-a", "AgentStateEvent", cc.AgentStateChange(cc.AgentStateInfo("Wrap-Up", 3)))
    s.answer("get_agent_state", cc.CallCenterSettings("Wrap-Up"))
    names = [type(e).__name__ for e in a.events()]
    assert names[-2:] == ["CallClearedEvent", "AgentWorkingAfterCallEvent"]


def test_an_agents_stuck_acd_call_cleared_by_synchronization_has_its_state_read_again():
    s = Setup()
    a = agent_monitored(s)
    answered_acd_call(s, a)
    a.events()
    s.event("sub-c", "CallSubscriptionEvent", hook_status="On-Hook")  # the AS failed over: no call
    # (the unsolicited event is also a sign of the failover: the resync wave
    # refreshes the agent's Call Center Agent subscription after this read)
    assert ("get_agent_state", AGENT) in s.client.names()
    s.answer("get_agent_state", cc.CallCenterSettings("Available"))
    assert [type(e).__name__ for e in a.events()] == ["ConnectionClearedEvent", "CallClearedEvent", "AgentReadyEvent"]


def test_call_control_on_a_queued_connection_is_the_acd_request():
    s = Setup()
    a = RecordingSession()
    s.monitor(a, "5001", "sub-q", "ACDSubscriptionEvent", queue_snapshot(entry()))
    connection = m.ConnectionID(call_id="7:1", device_id="5001")
    cleared = s.handle(a, m.ClearConnection(connection=connection))
    assert s.client.names()[-1] == ("acd_release_call", (QUEUE, "q-1"))
    s.answer("acd_release_call")
    assert cleared == [m.ClearConnectionResponse()]
    deflected = s.handle(a, m.DeflectCall(call_to_be_diverted=connection, new_destination="2009"))
    assert s.client.names()[-1] == ("acd_blind_transfer", (QUEUE, "q-1", "2009"))
    # the event may overtake the answer: the Diverted names the destination as asked
    s.event("sub-q", "ACDCallTransferredEvent", cc.QueueEntryEvent(
        entry(remove_time=5), redirect=xsi.Redirect("transfer", 5, "tel:+15550002009")))
    s.answer("acd_blind_transfer")
    assert deflected == [m.DeflectCallResponse()]
    (diverted,) = a.events()
    assert (diverted.new_destination, diverted.cause) == ("2009", "redirected")
    before = len(s.client.requests)
    with pytest.raises(CSTARequestError) as info:
        s.core.handle(a, m.SingleStepTransferCall(active_call=connection, transferred_to="2009"))
    assert info.value.error.value == "invalidConnectionID" and len(s.client.requests) == before


def test_a_refused_transfer_out_of_the_queue_is_forgotten():
    s = Setup()
    a = RecordingSession()
    s.monitor(a, "5001", "sub-q", "ACDSubscriptionEvent", queue_snapshot(entry()))
    results = s.handle(a, m.SingleStepTransferCall(
        active_call=m.ConnectionID(call_id="7:1", device_id="5001"), transferred_to="2009"))
    s.refuse("acd_blind_transfer", 404)
    assert results[0].value.error.value == "invalidDestination"
    assert s.cc._destinations == {}


def test_resync_targets_are_the_queues_holding_calls_and_every_agent():
    s = Setup()
    a = RecordingSession()
    s.monitor(a, "5001", "sub-q", "ACDSubscriptionEvent", queue_snapshot(entry()))
    s.monitor(a, "5002", "sub-q2", "ACDSubscriptionEvent", queue_snapshot())
    agent_monitored(s)
    # the proactive resync wave refreshes the queues holding calls (never
    # reported by BroadWorks itself) and, last, every agent
    assert list(s.cc.queue_target.holding()) == [(QUEUE, False)]
    assert list(s.cc.agent_target.holding()) == [(AGENT, True)]
    assert s.cc.calls_waiting() == {"5001": 1, "5002": 0}
    assert s.cc.agent_states() == {"agentReady": 1}
