"""The agent model: AgentSubscriptionEvent, AgentStateEvent and
ACDAgentJoinUpdateEvent -> changes; busy on a call center's call."""

from csta_connector.broadworks import xsi
from csta_connector.broadworks import xsi_contact_centre as cc
from csta_connector.model.agents import AgentBusy, AgentJoined, AgentModel, AgentStateChanged

AGENT = "2002@example.com"


def event(event_type, data):
    return xsi.SubscriptionEvent(event_type, "e", 1, "app", "app", "sub-a", event_data=data)


def info(state, code=None):
    return cc.AgentStateInfo(state, 1000, unavailable_code=code)


def subscribed(model, state="Sign-Out", joins=(("5001@example.com", True),)):
    snapshot = event("AgentSubscriptionEvent", cc.AgentSnapshot(tuple(cc.JoinInfo(q, j) for q, j in joins), info(state)))
    return model.synchronize("2002", AGENT, snapshot)


def state_event(model, state, code=None):
    return model.apply(event("AgentStateEvent", cc.AgentStateChange(info(state, code))), "2002", AGENT)


def test_the_first_subscription_event_is_learnt_without_changes():
    model = AgentModel()
    result = subscribed(model, "Available", (("5001@example.com", True), ("5002@example.com", False)))
    assert result.old is None and result.changes == () and not result.corrected
    agent = model.agent("2002")
    assert (agent.agent_id, agent.state, agent.joined, agent.queues) == (
        AGENT, "Available", ("5001",), (("5001", True), ("5002", False)))


def test_state_events_are_changes_when_the_state_or_its_code_changes():
    model = AgentModel()
    subscribed(model)
    (change,) = state_event(model, "Available")
    assert type(change) is AgentStateChanged and (change.old.state, change.agent.state) == ("Sign-Out", "Available")
    assert state_event(model, "Available") == []
    state_event(model, "Unavailable", "LUNCH")
    (change,) = state_event(model, "Unavailable", "MEETING")
    assert change.agent.unavailable_code == "MEETING"


def test_joins_and_leaves():
    model = AgentModel()
    subscribed(model)
    (left,) = model.apply(event("ACDAgentJoinUpdateEvent", cc.AgentJoinUpdate(cc.JoinInfo("5001@example.com", False))), "2002", AGENT)
    assert type(left) is AgentJoined and (left.queue, left.joined) == ("5001", False)
    (joined,) = model.apply(event("ACDAgentJoinUpdateEvent", cc.AgentJoinUpdate(cc.JoinInfo("5002@example.com", True))), "2002", AGENT)
    assert (joined.queue, joined.joined) == ("5002", True)
    (unassigned,) = model.apply(event("ACDAgentJoinUpdateEvent", cc.AgentJoinUpdate(None)), "2002", AGENT)
    assert (unassigned.queue, unassigned.joined) == ("5002", False) and model.agent("2002").queues == ()


def test_a_refreshed_subscription_event_corrects_the_state_and_the_queues():
    model = AgentModel()
    subscribed(model, "Available", (("5001@example.com", True), ("5002@example.com", True)))
    result = subscribed(model, "Unavailable", (("5001@example.com", True), ("5003@example.com", True)))
    assert result.corrected
    state, joined, left = result.changes
    assert type(state) is AgentStateChanged and (state.old.state, state.agent.state) == ("Available", "Unavailable")
    assert (joined.queue, joined.joined, left.queue, left.joined) == ("5003", True, "5002", False)
    assert not subscribed(model, "Unavailable", (("5001@example.com", True), ("5003@example.com", True))).corrected


def test_busy_on_a_call_centers_call_then_its_state_read_again():
    model = AgentModel()
    subscribed(model, "Available")
    (busy,) = model.call_answered("2002", "7:1", "CallAnsweredEvent")
    assert type(busy) is AgentBusy and model.agent("2002").busy_call == "7:1"
    assert model.call_answered("2002", "7:1", "CallAnsweredEvent") == []
    assert model.call_ended("2002", "9:9") is None  # another call
    assert model.call_ended("2002", "7:1").rereading
    (ready,) = model.state_read("2002", "Available", None, "GetAgentStateRequest")
    assert type(ready) is AgentStateChanged and ready.old is None and ready.agent.state == "Available"
    assert model.state_read("2002", "Available", None, "GetAgentStateRequest") == []


def test_an_event_after_the_call_tells_the_state_so_the_answer_read_is_dropped():
    model = AgentModel()
    subscribed(model, "Available")
    model.call_answered("2002", "7:1", "CallAnsweredEvent")
    model.call_ended("2002", "7:1")
    (wrap_up,) = state_event(model, "Wrap-Up")
    assert wrap_up.agent.state == "Wrap-Up"
    assert model.state_read("2002", "Wrap-Up", None, "GetAgentStateRequest") == []
    assert model.agent("2002").state == "Wrap-Up"


def test_a_signed_out_agent_is_never_busy_and_unknown_agents_change_nothing():
    model = AgentModel()
    subscribed(model, "Sign-Out")
    assert model.call_answered("2002", "7:1", "CallAnsweredEvent") == []
    assert model.call_answered("2009", "7:1", "CallAnsweredEvent") == []
    assert model.apply(event("ACDAgentJoinUpdateEvent", cc.AgentJoinUpdate(None)), "2009", "2009@x") == []
    # a state event of an agent not known yet teaches it
    (change,) = model.apply(event("AgentStateEvent", cc.AgentStateChange(info("Available"))), "2009", "2009@x")
    assert change.old is None and model.agent("2009").state == "Available"
