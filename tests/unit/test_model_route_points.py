"""The route point model: Route Point Queue events -> changes of the held
calls (as a queue's, plus treatments and the route point's state), and
synchronization against RoutePointSubscriptionEvent (SPEC §10.3.2, §10.5)."""

import pytest

from csta_connector.broadworks import xsi
from csta_connector.broadworks import xsi_contact_centre as cc
from csta_connector.broadworks.xsi import Redirect
from csta_connector.model.queues import EntryCleared, EntryDiverted, EntryInformed, EntryOffered, EntryQueued
from csta_connector.model.route_points import (
    MESSAGE_OF_PREFIX,
    PlayStarted,
    PlayStopped,
    RoutePointModel,
    RoutePointStateChanged,
)

CALLER = xsi.RemoteParty(name="A", address="tel:+15550002001", user_id="2001@example.com")


def entry(call_id="rp-1", tracking="7:1", play=None, **kw):
    return cc.RoutePointQueueEntry(call_id, tracking, CALLER, "RoutePoint 6001", "tel:+15550006001",
                                   add_time=1000, play_collect_info=play, **kw)


def event(event_type, data):
    return xsi.SubscriptionEvent(event_type, "e", 1, "app", "app", "sub-rp", event_data=data)


def apply(model, event_type, destinations=None, data=None, **kw):
    return model.apply(event(event_type, data or cc.QueueEntryEvent(entry(), **kw)), "6001", destinations)


def added(model, call_id="rp-1", tracking="7:1"):
    return model.apply(event("RoutePointCallAddedEvent", cc.QueueEntryEvent(entry(call_id, tracking))), "6001")


def test_the_play_kinds_are_the_message_ids_in_order():
    assert [MESSAGE_OF_PREFIX[kind.event_prefix] for kind in cc.PLAY_KINDS] == ["0", "1", "2", "3", "4"]


def test_a_call_added_is_queued_and_offered_to_the_agent_the_client_chose():
    model = RoutePointModel()
    (queued,) = added(model)
    assert type(queued) is EntryQueued and queued.connection.connection == ("7:1", "6001")
    assert (queued.connection.calling, queued.number_queued, queued.cause) == ("2001", 1, "enteringDistribution")
    destinations = {"rp-1": "2003"}
    (offered,) = apply(model, "RoutePointCallOfferedToAgentEvent", destinations)
    assert type(offered) is EntryOffered and (offered.alerting, offered.cause) == ("2003", "distributed")
    assert destinations == {}  # taken
    (bounced,) = apply(model, "RoutePointCallBouncedEvent")
    assert type(bounced) is EntryOffered and (bounced.alerting, bounced.cause) == ("6001", "alertTimeExpired")
    assert model.connection("7:1", "6001").offered_to is None
    answered = entry(answering_user_id="2003@example.com", remove_time=2000)
    (diverted,) = apply(model, "RoutePointCallAnsweredByAgentEvent", data=cc.QueueEntryEvent(answered))
    assert type(diverted) is EntryDiverted and (diverted.new_destination, diverted.cause) == ("2003", "distributed")
    assert model.waiting("6001") == 0


def test_a_transfer_names_the_destination_as_the_client_gave_it():
    model = RoutePointModel()
    added(model)
    redirect = Redirect(reason="transfer", redirect_time=1, address="tel:+15551234567")
    (diverted,) = apply(model, "RoutePointCallTransferredEvent", {"rp-1": "+15551234567"}, redirect=redirect)
    assert (diverted.new_destination, diverted.cause) == ("+15551234567", "redirected")


@pytest.mark.parametrize("reason, cause", [
    ("CallFailureRequested", "redirected"),
    ("CallFailureDueToInactivity", "timeout"),
    ("RoutePointFailure", "resourcesNotAvailable"),
])
def test_a_failed_call_goes_to_the_failed_destination_or_is_cleared(reason, cause):
    model = RoutePointModel()
    added(model)
    redirect = Redirect(reason="route-point", redirect_time=1, address="tel:+15550002009")
    (diverted,) = apply(model, "RoutePointCallFailedEvent", failure_reason=reason, redirect=redirect)
    assert type(diverted) is EntryDiverted and (diverted.new_destination, diverted.cause) == ("+15550002009", cause)
    added(model)
    (cleared,) = apply(model, "RoutePointCallFailedEvent", failure_reason=reason)  # busy: nowhere to go
    assert type(cleared) is EntryCleared and (cleared.releasing, cleared.cause) == ("6001", cause)


def test_abandoned_released_and_updated():
    model = RoutePointModel(call_known=lambda call_id: False)
    added(model)
    (abandoned,) = apply(model, "RoutePointCallAbandonedEvent")
    assert type(abandoned) is EntryCleared and (abandoned.releasing, abandoned.call_gone) == ("2001", True)
    added(model)
    (released,) = apply(model, "RoutePointCallReleasedEvent", release_reason="CallReleaseRequested")
    assert (released.releasing, released.cause) == ("6001", "normalClearing")
    added(model)
    (informed,) = apply(model, "RoutePointCallUpdatedEvent")
    assert type(informed) is EntryInformed
    assert apply(model, "RoutePointWhisperStartedEvent") == []


def test_treatments_start_and_stop_with_the_message_id_and_mapped_cause():
    model = RoutePointModel()
    added(model)
    play = cc.PlayCollectInfo("playcollect-1", "MOH")
    (started,) = apply(model, "RoutePointMOHStartedEvent", data=cc.QueueEntryEvent(entry(play=play)))
    assert type(started) is PlayStarted and (started.message, started.play_collect_id) == ("1", "playcollect-1")
    assert model.play_of("rp-1") == ("playcollect-1", "1")
    result = cc.PlayCollectResult("playcollect-1", "Match", "12#")
    (stopped,) = apply(model, "RoutePointMOHCompletedEvent", data=cc.QueueEntryEvent(
        entry(play=play), play_collect_result=result))
    assert type(stopped) is PlayStopped
    assert (stopped.message, stopped.cause, stopped.digits) == ("1", "dTMFDigitDetected", "12#")
    assert model.play_of("rp-1") is None


@pytest.mark.parametrize("reason, cause", [
    ("NoMatch", "invalidNumberFormat"), ("Timeout", "timeout"), ("EOF", "terminationCharacterReceived"),
    ("Stopped-OutOfQueue", "switchingFunctionTerminated"), ("Stopped-NewPlayCollect", "nextMessage"),
    ("Stopped-OfferedWithRingback", "distributed"), ("Error", "reserved"),
])
def test_completion_reasons_map_to_stop_causes(reason, cause):
    model = RoutePointModel()
    added(model)
    (stopped,) = apply(model, "RoutePointTreatmentCompletedEvent",
                       play_collect_result=cc.PlayCollectResult("p", reason))
    assert (stopped.message, stopped.cause) == ("4", cause)


def test_a_play_answer_is_kept_until_the_call_leaves():
    model = RoutePointModel()
    added(model)
    model.play_answered("rp-1", "playcollect-7", "0")
    assert model.play_of("rp-1") == ("playcollect-7", "0")
    apply(model, "RoutePointCallAbandonedEvent")
    assert model.play_of("rp-1") is None
    model.play_answered("rp-1", "playcollect-8", "0")  # a call no longer held: nothing kept
    assert model.play_of("rp-1") is None


def test_plays_of_unknown_calls_are_not_reported():
    assert apply(RoutePointModel(), "RoutePointBusyStartedEvent") == []


def test_the_route_point_fails_and_recovers_once_each():
    model = RoutePointModel()
    failed = event("RoutePointFailedEvent", cc.RoutePointStateChange("FailureDetected"))
    (change,) = model.apply(failed, "6001")
    assert change == RoutePointStateChanged("RoutePointFailedEvent", "6001", False, "FailureDetected")
    assert model.apply(failed, "6001") == [] and not model.in_service("6001")
    (back,) = model.apply(event("RoutePointRecoveredEvent", cc.RoutePointStateChange()), "6001")
    assert back.in_service and model.in_service("6001")


def test_synchronization_clears_the_stuck_and_adds_the_unknown():
    model = RoutePointModel()
    added(model, "rp-1", "7:1")
    added(model, "rp-2", "8:1")
    model.play_answered("rp-1", "playcollect-1", "2")
    result = model.synchronize("6001", event("RoutePointSubscriptionEvent", cc.QueueSnapshot((
        entry("rp-2", "8:1"), entry("rp-3", "9:1")))))
    assert [c.entry_id for c, _ in result.cleared] == ["rp-1"]
    assert [c.entry_id for c in result.added] == ["rp-3"]
    assert [type(c) for c in result.changes] == [EntryCleared, EntryQueued]
    assert result.changes[0].cause == "switchingFunctionTerminated"
    assert model.play_of("rp-1") is None  # forgotten with the call


def test_a_queue_model_still_reads_acd_events_only():
    from csta_connector.model.queues import QueueModel

    queue = QueueModel()
    assert queue.apply(event("RoutePointCallAddedEvent", cc.QueueEntryEvent(entry())), "6001") == []
    assert added(RoutePointModel())  # and the route point's model reads its own
