"""The queue model: Call Center Queue events -> changes of one queue's
connections, and synchronization against ACDSubscriptionEvent (SPEC §10.5)."""

import pytest

from csta_connector.broadworks import xsi
from csta_connector.broadworks import xsi_contact_centre as cc
from csta_connector.model.queues import (
    EntryCleared,
    EntryDiverted,
    EntryInformed,
    EntryOffered,
    EntryQueued,
    EntryTransferred,
    QueueModel,
)

CALLER = xsi.RemoteParty(name="A", address="tel:+15550002001", user_id="2001@example.com")
OUTSIDER = xsi.RemoteParty(address="tel:+15559990000")


def entry(call_id="q-1", tracking="7:1", caller=CALLER, **kw):
    return cc.QueueEntry(call_id, tracking, caller, 1000, "Queue 5001", "tel:+15550005001", **kw)


def event(event_type, data):
    return xsi.SubscriptionEvent(event_type, "e", 1, "app", "app", "sub-q", event_data=data)


def added(model, call_id="q-1", tracking="7:1", position=1, **kw):
    return model.apply(
        event("ACDCallAddedEvent", cc.QueueEntryEvent(entry(call_id, tracking), position=position, **kw)), "5001"
    )


def snapshot(*entries, event_type="ACDSubscriptionEvent"):
    return event(event_type, cc.QueueSnapshot(tuple(entries)))


def test_a_call_added_is_queued_with_its_place_and_its_redirection():
    model = QueueModel()
    (first,) = added(model)
    redirected = cc.Redirection(xsi.RemoteParty(user_id="2009@example.com"), "no-answer", 1)
    (second,) = added(model, "q-2", "8:1", 2, redirections=(redirected,))
    assert type(first) is EntryQueued and first.number_queued == 1
    assert first.connection.connection == ("7:1", "5001")
    assert (first.connection.calling, first.connection.position, first.cause) == ("2001", 1, "enteringDistribution")
    assert second.number_queued == 2 and second.connection.last_redirection == "2009"
    assert model.waiting("5001") == 2 and model.connection("8:1", "5001").entry_id == "q-2"


def test_offer_answer_and_bounce():
    model = QueueModel()
    added(model)
    (offered,) = model.apply(event("ACDCallOfferedToAgentEvent", cc.QueueEntryEvent(entry())), "5001")
    assert type(offered) is EntryOffered and (offered.alerting, offered.cause) == ("5001", "distributed")
    (bounced,) = model.apply(event("ACDCallBouncedEvent", cc.QueueEntryEvent(entry(bounced=True), position=1)), "5001")
    assert type(bounced) is EntryOffered and (bounced.alerting, bounced.cause) == ("5001", "alertTimeExpired")
    answered = entry(answering_user_id="2002@example.com", remove_time=2000)
    (diverted,) = model.apply(event("ACDCallAnsweredByAgentEvent", cc.QueueEntryEvent(answered)), "5001")
    assert type(diverted) is EntryDiverted
    assert (diverted.new_destination, diverted.cause) == ("2002", "distributed")
    assert model.waiting("5001") == 0
    # the call went on to the agent: an answer of a call never seen is nothing
    assert model.apply(event("ACDCallAnsweredByAgentEvent", cc.QueueEntryEvent(answered)), "5001") == []


@pytest.mark.parametrize(
    "event_type, fields, cause",
    [
        ("ACDCallBouncedEvent", {"redirect": xsi.Redirect("no-answer", 3, "tel:+15550002009")}, "redirected"),
        ("ACDCallTransferredEvent", {"redirect": xsi.Redirect("transfer", 3, "tel:+15550002009")}, "redirected"),
        ("ACDCallOverflowedEvent", {"overflow_reason": "time", "redirect": xsi.Redirect("call-center", 3, "tel:+15550002009")}, "queueTimeOverflow"),
        ("ACDCallOverflowedEvent", {"overflow_reason": "size"}, "capacityOverflow"),
    ],
)
def test_the_ways_out_of_the_queue_elsewhere_are_diverted(event_type, fields, cause):
    model = QueueModel()
    added(model)
    (change,) = model.apply(event(event_type, cc.QueueEntryEvent(entry(), **fields)), "5001")
    assert type(change) is EntryDiverted and change.cause == cause
    assert change.new_destination == ("+15550002009" if "redirect" in fields else None)
    assert model.waiting("5001") == 0


def test_a_transfer_a_client_asked_for_names_its_destination():
    model = QueueModel()
    added(model)
    destinations = {"q-1": "2009"}
    redirect = xsi.Redirect("transfer", 3, "tel:+15550002009")
    (change,) = model.apply(event("ACDCallTransferredEvent", cc.QueueEntryEvent(entry(), redirect=redirect)), "5001", destinations)
    assert change.new_destination == "2009" and destinations == {}


@pytest.mark.parametrize(
    "event_type, cause",
    [("ACDNightPolicyAppliedEvent", "calendarOverflow"), ("ACDHolidayPolicyAppliedEvent", "calendarOverflow"),
     ("ACDCallForwardedEvent", "callForwardImmediate")],
)
def test_policies_divert_even_a_call_never_queued(event_type, cause):
    model = QueueModel()
    data = cc.QueuePolicyEvent("q-9", "9:1", "Queue 5001", "tel:+1", CALLER, redirect=xsi.Redirect("x", 1, "tel:+15550002010"))
    (change,) = model.apply(event(event_type, data), "5001")
    assert type(change) is EntryDiverted and change.cause == cause
    assert (change.connection.connection, change.new_destination) == (("9:1", "5001"), "+15550002010")


@pytest.mark.parametrize(
    "event_type, cause, releasing",
    [("ACDCallAbandonedEvent", "normalClearing", "2001"), ("ACDCallEscapedEvent", "normalClearing", "2001"),
     ("ACDCallReleasedEvent", "normalClearing", "5001"), ("ACDCallStrandedEvent", "noAvailableAgents", "5001"),
     ("ACDCallStrandedUnavailableEvent", "noAvailableAgents", "5001")],
)
def test_the_ways_out_released_are_cleared(event_type, cause, releasing):
    model = QueueModel()
    added(model)
    (change,) = model.apply(event(event_type, cc.QueueEntryEvent(entry())), "5001")
    assert type(change) is EntryCleared
    assert (change.cause, change.releasing, change.call_gone) == (cause, releasing, True)


def test_a_cleared_connection_is_the_calls_last_only_when_no_other_party_is_known():
    users_calls = {"7:1"}
    model = QueueModel(call_known=lambda call_id: call_id in users_calls)
    added(model)
    (change,) = model.apply(event("ACDCallAbandonedEvent", cc.QueueEntryEvent(entry())), "5001")
    assert change.call_gone is False
    # the same call in two queues: clearing one leaves the other
    added(model, "q-2", "8:1")
    model.apply(event("ACDCallAddedEvent", cc.QueueEntryEvent(entry("q-3", "8:1"), position=1)), "5002")
    (change,) = model.apply(event("ACDCallReleasedEvent", cc.QueueEntryEvent(entry("q-2", "8:1"))), "5001")
    assert change.call_gone is False


def test_promoted_reordered_and_updated_are_call_information_a_transfer_is_transferred():
    model = QueueModel()
    added(model)
    added(model, "q-2", "8:1", 2)
    (promoted,) = model.apply(event("ACDCallPromotedEvent", cc.QueueEntryEvent(entry("q-2", "8:1"), position=1)), "5001")
    assert type(promoted) is EntryInformed and promoted.connection.position == 1
    (reordered,) = model.apply(event("ACDCallReorderedEvent", cc.QueueEntryEvent(entry(), position=2)), "5001")
    assert type(reordered) is EntryInformed
    (updated,) = model.apply(event("ACDCallUpdatedEvent", cc.QueueEntryEvent(entry(caller=OUTSIDER))), "5001")
    assert type(updated) is EntryInformed and updated.connection.calling == "+15559990000"
    (transfer,) = model.apply(
        event("ACDCallUpdatedEvent", cc.QueueEntryEvent(entry(caller=CALLER), reason="Call Transferred")), "5001"
    )
    assert type(transfer) is EntryTransferred
    assert (transfer.transferring, transfer.connection.calling) == ("+15559990000", "2001")
    assert model.apply(event("ACDWhisperStartedEvent", cc.QueueEntryEvent(entry())), "5001") == []


def test_a_treatment_ended_by_the_caller_clears_only_a_call_still_held():
    model = QueueModel()
    added(model)
    data = cc.QueueEntryEvent(entry(), overflow_reason="time", reason="EOF")
    assert model.apply(event("ACDCallOverflowedTreatmentCompletedEvent", data), "5001") == []
    (change,) = model.apply(
        event("ACDCallOverflowedTreatmentCompletedEvent", data._replace(reason="remoteRelease")), "5001"
    )
    assert type(change) is EntryCleared and change.releasing == "2001"
    assert model.apply(event("ACDCallOverflowedTreatmentCompletedEvent", data._replace(reason="remoteRelease")), "5001") == []


def test_synchronization_clears_the_stuck_adds_the_unknown_and_keeps_the_rest():
    model = QueueModel()
    added(model)
    added(model, "q-2", "8:1", 2)
    gone_to_agent = entry("q-4", "10:1", answering_user_id="2002@example.com")
    removed = entry("q-5", "11:1", remove_time=5)
    result = model.synchronize("5001", snapshot(entry("q-2", "8:1"), entry("q-3", "9:1"), gone_to_agent, removed))
    assert [(c.entry_id, gone) for c, gone in result.cleared] == [("q-1", True)]
    assert [c.entry_id for c in result.added] == ["q-3"]
    cleared, queued = result.changes
    assert type(cleared) is EntryCleared
    assert (cleared.cause, cleared.releasing) == ("switchingFunctionTerminated", "5001")
    assert type(queued) is EntryQueued and queued.connection.connection == ("9:1", "5001")
    assert [c.entry_id for c in model.connections_of("5001")] == ["q-2", "q-3"]
    assert model.synchronize("5001", snapshot(entry("q-2", "8:1"), entry("q-3", "9:1"))).in_sync


def test_synchronization_touches_only_its_own_queue():
    model = QueueModel()
    added(model)
    model.apply(event("ACDCallAddedEvent", cc.QueueEntryEvent(entry("q-7", "7:2"), position=1)), "5002")
    result = model.synchronize("5002", snapshot(entry("q-1", "7:1"), event_type="ACDSubscriptionResyncEvent"))
    assert [c.entry_id for c, _ in result.cleared] == ["q-7"]
    assert result.added == ()  # q-1 is 5001's
    assert [c.entry_id for c in model.connections_of("5001")] == ["q-1"]


def test_a_queue_no_longer_monitored_is_forgotten():
    model = QueueModel()
    added(model)
    assert [c.entry_id for c in model.remove_device("5001")] == ["q-1"]
    assert len(model) == 0 and model.entry("q-1") is None
