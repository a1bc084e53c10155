"""The routeing dialogue's state: registrations and who owns a route point,
dialogues by cross reference and by call, and what each change of a held
call does to its dialogue (reference/contact-centre.md §10.4.4)."""

import pytest

from csta_connector.model.queues import EntryCleared, EntryDiverted, EntryOffered, EntryQueued, QueueConnection
from csta_connector.model.routeing import (
    CALL_GONE,
    NOT_ANSWERED,
    OUT_OF_SERVICE,
    POLICY_APPLIED,
    ROUTEING_TIMER_EXPIRED,
    Action,
    Dialogues,
    DialogueState,
    Outcome,
    Registrations,
    outcome,
)

HELD = QueueConnection("rp-1", "7:1", "6001", "2001")
A, B = object(), object()


def test_one_registration_per_client_and_device_and_the_first_owns_the_route_point():
    registrations = Registrations()
    first = registrations.add(A, "6001", [("6001", "6001@x")])
    every = registrations.add(B, None, [("6001", "6001@x"), ("6002", "6002@x")])
    assert registrations.find(A, "6001") is first and registrations.find(A, None) is None
    assert registrations.owner("6001") is first and registrations.owner("6002") is every
    assert registrations.covering("6001") == [first, every]
    assert registrations.owner("6003") is None
    registrations.remove(first)
    assert registrations.owner("6001") is every  # the next takes over
    assert registrations.get(first.register_id) is None and len(registrations) == 1
    assert first.register_id != every.register_id
    assert registrations.of_session(B) == [every]


def test_dialogues_by_cross_reference_and_by_call():
    dialogues = Dialogues()
    registration = Registrations().add(A, "6001", [("6001", "6001@x")])
    first = dialogues.open("6001", "rp-1", "7:1", registration, 1, now=5.0)
    assert (first.state, first.retries, first.asked_at) == (DialogueState.REQUESTED, 1, 5.0)
    assert dialogues.by_cross_ref(first.cross_ref_id) is first and dialogues.of_call("6001", "rp-1") is first
    second = dialogues.open("6001", "rp-1", "7:1", registration, 0)  # a new one for the same call
    assert first.state is DialogueState.ENDED and dialogues.by_cross_ref(first.cross_ref_id) is None
    assert second.cross_ref_id != first.cross_ref_id and len(dialogues) == 1
    assert dialogues.of_device("6001") == [second] == dialogues.of_registration(registration)
    dialogues.close(second)
    assert dialogues.of_call("6001", "rp-1") is None and len(dialogues) == 0


def dialogue(state=DialogueState.ROUTED, retries=1):
    registration = Registrations().add(A, "6001", [("6001", "6001@x")])
    d = Dialogues().open("6001", "rp-1", "7:1", registration, retries)
    d.state = state
    return d


def diverted(event_type, cause="distributed"):
    return EntryDiverted(event_type, HELD, "2003", cause)


def cleared(event_type, cause="normalClearing"):
    return EntryCleared(event_type, HELD, "2001", cause, True)


BOUNCED = EntryOffered("RoutePointCallBouncedEvent", HELD, "6001", "alertTimeExpired")


@pytest.mark.parametrize("event_type", ["RoutePointCallAnsweredByAgentEvent", "RoutePointCallTransferredEvent"])
def test_the_call_going_where_the_client_chose_succeeds(event_type):
    assert outcome(dialogue(DialogueState.ROUTED), diverted(event_type)) == Outcome(Action.SUCCEEDED)
    # its event may overtake BroadWorks' answer
    assert outcome(dialogue(DialogueState.SELECTED), diverted(event_type)) == Outcome(Action.SUCCEEDED)
    # moved by someone else before any choice: an error
    assert outcome(dialogue(DialogueState.REQUESTED), diverted(event_type)) == Outcome(Action.ENDED, POLICY_APPLIED)


def test_a_bounce_reroutes_while_retries_last_then_fails():
    assert outcome(dialogue(retries=1), BOUNCED) == Outcome(Action.REROUTE)
    assert outcome(dialogue(retries=0), BOUNCED) == Outcome(Action.FAIL, NOT_ANSWERED)
    assert outcome(dialogue(DialogueState.REQUESTED), BOUNCED) is None
    offered = EntryOffered("RoutePointCallOfferedToAgentEvent", HELD, "2003", "distributed")
    assert outcome(dialogue(), offered) is None


@pytest.mark.parametrize("reason, error", [
    ("CallFailureDueToInactivity", ROUTEING_TIMER_EXPIRED),
    ("RoutePointFailure", OUT_OF_SERVICE),
    ("CallFailureRequested", POLICY_APPLIED),
])
def test_a_failed_call_ends_with_the_error_of_its_reason(reason, error):
    for change in (diverted("RoutePointCallFailedEvent", "timeout"), cleared("RoutePointCallFailedEvent", "timeout")):
        assert outcome(dialogue(DialogueState.REQUESTED), change, reason) == Outcome(Action.ENDED, error)


def test_the_call_leaving_otherwise_ends_with_an_error():
    assert outcome(dialogue(), cleared("RoutePointCallAbandonedEvent")) == Outcome(Action.ENDED, CALL_GONE)
    assert outcome(dialogue(), cleared("RoutePointCallReleasedEvent")) == Outcome(Action.ENDED, CALL_GONE)
    stuck = cleared("RoutePointSubscriptionEvent", "switchingFunctionTerminated")
    assert outcome(dialogue(), stuck) == Outcome(Action.ENDED, OUT_OF_SERVICE)
    night = diverted("RoutePointNightPolicyAppliedEvent", "calendarOverflow")
    assert outcome(dialogue(), night) == Outcome(Action.ENDED, POLICY_APPLIED)


def test_a_dialogue_the_client_ended_fails_its_call_when_it_comes_back_and_ends_silently():
    ended = dialogue(DialogueState.CLIENT_ENDED)
    assert outcome(ended, BOUNCED) is None
    ended.fail_when_back = True
    assert outcome(ended, BOUNCED) == Outcome(Action.FAIL)
    assert outcome(ended, diverted("RoutePointCallFailedEvent"), "CallFailureRequested") == Outcome(Action.ENDED)
    assert outcome(ended, cleared("RoutePointCallAbandonedEvent")) == Outcome(Action.ENDED)
    assert outcome(ended, EntryQueued("RoutePointCallAddedEvent", HELD, 1)) is None
