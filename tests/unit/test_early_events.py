"""Events that overtake their subscribe's answer: held briefly, boundedly, replayed in order."""

from twisted.internet.task import Clock

from csta_connector.services.early_events import EarlyEvents
from csta_connector.services.subscriptions import SubscriptionManager
from csta_connector.testing import RecordingRouter, ScriptedClient, snapshot_event


def test_held_events_are_released_in_order_per_subscription():
    clock = Clock()
    early = EarlyEvents(clock, hold=1.0)
    for event_id, sub in (("a1", "sub-a"), ("b1", "sub-b"), ("a2", "sub-a")):
        early.hold(snapshot_event(sub, event_id))
    assert early.held == 3
    assert [e.event_id for e in early.release("sub-a")] == ["a1", "a2"]
    assert early.release("sub-a") == [] and early.release("sub-c") == []
    assert early.held == 1
    early.stop()
    assert clock.getDelayedCalls() == [] and early.held == 0


def test_what_is_not_claimed_in_time_is_dropped_and_logged(lms_lines):
    clock = Clock()
    early = EarlyEvents(clock, hold=1.0)
    early.hold(snapshot_event("stale", "s1"))
    clock.advance(0.5)
    early.hold(snapshot_event("stale", "s2", "CallSubscriptionResyncEvent"))
    clock.advance(0.5)
    assert early.release("stale") == []
    assert (early.held, early.dropped) == (0, 2)
    (line,) = lms_lines
    assert (line["lms_id"], line["lms_level"], line["count"]) == (37140, "Trace", 2)
    assert line["event_types"] == "CallSubscriptionEvent, CallSubscriptionResyncEvent"
    assert clock.getDelayedCalls() == []


def test_beyond_the_limit_an_event_is_dropped_at_once(lms_lines):
    clock = Clock()
    early = EarlyEvents(clock, hold=1.0, limit=2)
    for n in range(3):
        early.hold(snapshot_event("sub-%d" % n, "e%d" % n))
    assert (early.held, early.dropped) == (2, 1)
    assert [(l["lms_id"], l["lms_level"], l["subscription_id"]) for l in lms_lines] == [
        (37141, "Standard", "sub-2")]
    early.stop()
    assert clock.getDelayedCalls() == []


def _manager():
    clock = Clock()
    client = ScriptedClient()
    replayed = []
    manager = SubscriptionManager(client, clock, renew_interval=1800, renew_jitter=0,
                                  replay=replayed.append)
    return clock, client, manager, replayed


def test_the_initial_event_before_the_subscribe_answer_is_replayed_after_it():
    clock, client, manager, replayed = _manager()
    router = RecordingRouter(manager)
    acquired = []
    manager.acquire("2001@example.com").addCallback(acquired.append)
    # the stream was faster than the answer: the id is not known yet
    assert router.deliver(snapshot_event("sub-1", "initial")) is False
    assert replayed == []
    client.answer(0, "sub-1")
    assert acquired == ["sub-1"]
    assert [e.event_id for e in replayed] == ["initial"]
    # replayed through the event path, it answers the subscribe's snapshot
    assert router.deliver(replayed[0]) is True
    assert router.snapshots == [("2001@example.com", "initial", ())]
    manager.stop()
    assert all(c.func.__name__ == "_renew" for c in clock.getDelayedCalls())


def test_a_temporary_snapshot_resolves_from_an_early_initial_event():
    clock, client, manager, replayed = _manager()
    router = RecordingRouter(manager)
    snapshot = []
    manager.snapshot("2002@example.com").addCallback(snapshot.append)
    router.deliver(snapshot_event("sub-9", "initial"))
    client.answer(0, "sub-9")
    for event in replayed:
        router.deliver(event)
    assert [e.event_id for e in snapshot] == ["initial"]
    assert client.names()[-1] == ("unsubscribe", "sub-9")


def test_nothing_is_held_while_no_subscribe_is_unanswered():
    clock, client, manager, replayed = _manager()
    router = RecordingRouter(manager)
    assert router.deliver(snapshot_event("stale", "s1")) is False
    assert manager.early_events.held == 0 and clock.getDelayedCalls() == []


def test_early_events_of_a_subscription_released_meanwhile_go_nowhere():
    clock, client, manager, replayed = _manager()
    router = RecordingRouter(manager)
    manager.acquire("2001@example.com").addErrback(lambda f: None)
    router.deliver(snapshot_event("sub-1", "initial"))
    manager.release("2001@example.com")
    client.answer(0, "sub-1")
    assert replayed == [] and manager.early_events.held == 0
    assert client.names()[-1] == ("unsubscribe", "sub-1")
    manager.stop()
    assert clock.getDelayedCalls() == []


def test_a_manager_without_replay_holds_nothing():
    clock = Clock()
    client = ScriptedClient()
    manager = SubscriptionManager(client, clock)
    manager.acquire("2001@example.com")
    assert RecordingRouter(manager).deliver(snapshot_event("sub-1", "initial")) is False
    assert manager.early_events.held == 0
