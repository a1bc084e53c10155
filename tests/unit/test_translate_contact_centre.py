"""Queue and agent changes -> CSTA events (reference/contact-centre.md
§10.3.1, §10.3.3): the mandatory fields, the causes, and each event in both
encodings."""

import dataclasses

import pytest

from csta_connector.broadworks import xsi
from csta_connector.broadworks import xsi_contact_centre as cc
from csta_connector.csta import messages as m
from csta_connector.csta import xml_codec as x
from csta_connector.csta.ber import codec
from csta_connector.model.agents import Agent, AgentBusy, AgentJoined, AgentStateChanged
from csta_connector.model.queues import (
    EntryCleared,
    EntryDiverted,
    EntryInformed,
    EntryOffered,
    EntryQueued,
    EntryTransferred,
    QueueConnection,
)
from csta_connector.services import translate_contact_centre as t



def C(call_id, device_id=None):
    return m.ConnectionID(call_id=call_id, device_id=device_id)

QUEUED = QueueConnection("q-1", "7:1", "5001", "2001", "2009", 3, None)


def round_trip(events):
    """Every event goes through both wires unchanged."""
    for event in (dataclasses.replace(e, cross_ref_id="000001") for e in events):
        assert x.decode(x.encode(event))[0] == event
        assert codec.decode_apdu(codec.encode_apdu(codec.invoke(1, event))).message == event
    return events


def test_queued_has_every_mandatory_field():
    (event,) = round_trip(t.translate(EntryQueued("ACDCallAddedEvent", QUEUED, 4)))
    assert event == m.QueuedEvent(
        cross_ref_id="", queued_connection=C("7:1", "5001"), queue="5001", calling_device="2001",
        called_device="5001", last_redirection_device="2009", number_queued=4, calls_in_front=2,
        local_connection_info="queued", cause="enteringDistribution",
    )


def test_offered_and_bounced_are_delivered_at_the_queue():
    (offered,) = round_trip(t.translate(EntryOffered("ACDCallOfferedToAgentEvent", QUEUED, "2002", "distributed")))
    assert (offered.connection, offered.alerting_device, offered.calling_device, offered.called_device) == (
        C("7:1", "5001"), "2002", "2001", "5001")
    assert (offered.local_connection_info, offered.cause, offered.last_redirection_device) == ("queued", "distributed", "2009")


def test_a_call_out_of_the_queue_is_diverted():
    (event,) = round_trip(t.translate(EntryDiverted("ACDCallAnsweredByAgentEvent", QUEUED, "2002", "distributed")))
    assert (event.connection, event.diverting_device, event.new_destination) == (C("7:1", "5001"), "5001", "2002")
    assert (event.calling_device, event.called_device, event.local_connection_info, event.cause) == (
        "2001", "5001", "null", "distributed")


def test_a_cleared_connection_and_the_last_one_of_its_call():
    cleared, call_cleared = round_trip(
        t.translate(EntryCleared("ACDSubscriptionEvent", QUEUED, "5001", "switchingFunctionTerminated", True)))
    assert (cleared.dropped_connection, cleared.releasing_device, cleared.local_connection_info, cleared.cause) == (
        C("7:1", "5001"), "5001", "null", "switchingFunctionTerminated")
    assert call_cleared.cleared_call == C("7:1") and call_cleared.cause == "switchingFunctionTerminated"
    assert len(t.translate(EntryCleared("ACDCallAbandonedEvent", QUEUED, "2001", "normalClearing", False))) == 1


def test_call_information_and_a_transfer_while_queued():
    (info,) = round_trip(t.translate(EntryInformed("ACDCallPromotedEvent", QUEUED)))
    assert (info.connection, info.device, info.calling_device) == (C("7:1", "5001"), "5001", "2001")
    (moved,) = round_trip(t.translate(EntryTransferred("ACDCallUpdatedEvent", QUEUED, "2004")))
    assert (moved.transferring_device, moved.transferred_to_device, moved.cause) == ("2004", "5001", "transfer")
    assert [i.endpoint for i in moved.transferred_connections] == ["5001", "2001"]


AVAILABLE = Agent("2002", "2002@example.com", "Available", queues=(("5001", True),))


@pytest.mark.parametrize(
    "old, new, code, names",
    [
        ("Sign-Out", "Sign-In", None, ["AgentLoggedOnEvent", "AgentNotReadyEvent"]),
        ("Sign-Out", "Available", None, ["AgentLoggedOnEvent", "AgentReadyEvent"]),
        ("Sign-Out", "Unavailable", "LUNCH", ["AgentLoggedOnEvent", "AgentNotReadyEvent"]),
        ("Available", "Unavailable", "LUNCH", ["AgentNotReadyEvent"]),
        ("Available", "Wrap-Up", None, ["AgentWorkingAfterCallEvent"]),
        ("Wrap-Up", "Available", None, ["AgentReadyEvent"]),
        ("Available", "Sign-Out", None, ["AgentLoggedOffEvent"]),
        (None, "Available", None, ["AgentReadyEvent"]),  # from busy: the state alone
    ],
)
def test_agent_states(old, new, code, names):
    before = Agent("2002", "2002@example.com", old) if old else None
    agent = Agent("2002", "2002@example.com", new, code)
    events = round_trip(t.translate(AgentStateChanged("AgentStateEvent", agent, before)))
    assert [type(e).__name__ for e in events] == names
    assert all((e.agent_device, e.agent_id, e.acd_group) == ("2002", "2002@example.com", None) for e in events)
    if code:
        assert m.extension_value(events[-1], m.EXT_UNAVAILABLE_CODE) == code


def test_joining_and_leaving_a_queue_name_it_and_busy_is_busy():
    (on,) = round_trip(t.translate(AgentJoined("ACDAgentJoinUpdateEvent", AVAILABLE, "5001", True)))
    (off,) = round_trip(t.translate(AgentJoined("ACDAgentJoinUpdateEvent", AVAILABLE, "5001", False)))
    assert (type(on), on.acd_group, type(off), off.acd_group) == (m.AgentLoggedOnEvent, "5001", m.AgentLoggedOffEvent, "5001")
    (busy,) = round_trip(t.translate(AgentBusy("CallAnsweredEvent", AVAILABLE, "7:1")))
    assert type(busy) is m.AgentBusyEvent and busy.agent_device == "2002"


def test_the_queue_snapshot_lists_the_waiting_entries_only():
    def entry(call_id, tracking, **kw):
        return cc.QueueEntry(call_id, tracking, xsi.RemoteParty(), 1, "Q", "tel:+1", **kw)

    snapshot = xsi.SubscriptionEvent("ACDSubscriptionEvent", "e", 1, "a", "a", "s", event_data=cc.QueueSnapshot((
        entry("q-1", "7:1"), entry("q-2", "8:1", answering_user_id="2002@example.com"),
        entry("q-3", "9:1", remove_time=5), entry("q-4", "10:1"))))
    response = t.queue_snapshot_response(snapshot, "5001")
    assert [(i.connection, i.local_connection_state) for i in response.items] == [
        (C("7:1", "5001"), "queued"), (C("10:1", "5001"), "queued")]


def test_get_agent_state_responses():
    response = t.agent_state_response("2002@example.com", "Unavailable", ["5001", "5002"], "LUNCH")
    (entry,) = response.agent_state_list
    assert (entry.agent_id, entry.logged_on) == ("2002@example.com", True)
    assert [(i.acd_group, i.agent_state) for i in entry.agent_info] == [("5001", "agentNotReady"), ("5002", "agentNotReady")]
    assert m.extension_value(response, m.EXT_UNAVAILABLE_CODE) == "LUNCH"
    only = t.agent_state_response("2002@example.com", "Available", ["5001", "5002"], busy=True, acd_group="5002")
    assert [(i.acd_group, i.agent_state) for i in only.agent_state_list[0].agent_info] == [("5002", "agentBusy")]
    out = t.agent_state_response("2002@example.com", "Sign-Out", [])
    assert out.agent_state_list[0].logged_on is False
    assert [(i.acd_group, i.agent_state) for i in out.agent_state_list[0].agent_info] == [(None, "agentNull")]
    for message in (response, only, out):
        assert x.decode(x.encode(message))[0] == message
        assert codec.decode_apdu(codec.encode_apdu(codec.return_result(1, message))).message == message
