"""The subscription manager on a Clock with a scripted BroadWorks client."""

import pytest
from twisted.internet import defer
from twisted.internet.task import Clock

from csta_connector.broadworks import xsi
from csta_connector.broadworks.errors import BroadWorksRequestError
from csta_connector.services.subscriptions import (
    SnapshotTimeout,
    SubscriptionLost,
    SubscriptionManager,
    SubscriptionState,
)
from csta_connector.testing import RecordingRouter, ScriptedClient, snapshot_event


@pytest.fixture
def env():
    clock = Clock()
    client = ScriptedClient()
    manager = SubscriptionManager(client, clock, snapshot_timeout=5, renew_interval=1800, renew_jitter=600)
    return clock, client, RecordingRouter(manager), manager


def subscribed(env, user="2001@example.com", sub_id="sub-1"):
    clock, client, router, manager = env
    results = []
    manager.acquire(user).addCallback(results.append)
    client.answer(len(client.requests) - 1, sub_id)
    router.deliver(snapshot_event(sub_id, "initial-" + sub_id))
    assert results == [sub_id]
    return sub_id


def test_acquire_is_reference_counted(env):
    clock, client, router, manager = env
    got = []
    manager.acquire("u").addCallback(got.append)
    manager.acquire("u").addCallback(got.append)
    assert client.names() == [("subscribe", "u")]
    client.answer(0, "sub-1")
    assert got == ["sub-1", "sub-1"]
    manager.acquire("u").addCallback(got.append)
    assert got[-1] == "sub-1" and len(client.requests) == 1
    manager.release("u")
    manager.release("u")
    assert len(client.requests) == 1
    manager.release("u")
    assert client.names()[-1] == ("unsubscribe", "sub-1")
    client.answer(1)
    assert clock.getDelayedCalls() == []


def test_initial_event_is_reported_as_a_snapshot(env):
    clock, client, router, manager = env
    subscribed(env)
    assert router.snapshots == [("2001@example.com", "initial-sub-1", ())]


def test_snapshot_resolves_only_from_an_event_after_the_response(env):
    clock, client, router, manager = env
    sub = subscribed(env)
    result = []
    manager.snapshot("2001@example.com", requester="client-A").addCallback(result.append)
    assert client.names()[-1] == ("update", sub)
    # an event already in flight when the request went out: it does not answer it
    router.deliver(snapshot_event(sub, "old", "CallSubscriptionResyncEvent"))
    assert result == []
    assert router.snapshots[-1][1] == "old"
    client.answer(-1)
    clock.advance(0.1)
    router.deliver(snapshot_event(sub, "fresh"))
    assert [e.event_id for e in result] == ["fresh"]
    assert router.snapshots[-1] == ("2001@example.com", "fresh", ("client-A",))
    assert all(c.func.__name__ == "_renew" for c in clock.getDelayedCalls())


def test_concurrent_snapshots_share_one_unanswered_request(env):
    clock, client, router, manager = env
    sub = subscribed(env)
    results = []
    for requester in ("A", "B", "C"):
        manager.snapshot("2001@example.com", requester=requester).addCallback(results.append)
    assert [n for n, _ in client.names()].count("update") == 1
    client.answer(-1)
    # asked after the answer: a request of its own
    manager.snapshot("2001@example.com", requester="D").addCallback(results.append)
    assert [n for n, _ in client.names()].count("update") == 2
    router.deliver(snapshot_event(sub, "e1"))
    assert [e.event_id for e in results] == ["e1", "e1", "e1"]
    assert router.snapshots[-1][2] == ("A", "B", "C")
    client.answer(-1)
    router.deliver(snapshot_event(sub, "e2"))
    assert [e.event_id for e in results][-1] == "e2"
    assert manager.update_requests == 2


def test_snapshot_times_out_cleanly(env):
    clock, client, router, manager = env
    subscribed(env)
    failures = []
    manager.snapshot("2001@example.com").addErrback(failures.append)
    client.answer(-1)
    clock.advance(4.9)
    assert failures == []
    clock.advance(0.2)
    assert failures[0].check(SnapshotTimeout)
    assert "no CallSubscriptionEvent within 5 s" in failures[0].getErrorMessage()
    assert all(c.func.__name__ == "_renew" for c in clock.getDelayedCalls())


def test_update_refused_fails_the_snapshot(env):
    clock, client, router, manager = env
    subscribed(env)
    failures = []
    manager.snapshot("2001@example.com").addErrback(failures.append)
    client.requests[-1][2].errback(BroadWorksRequestError("UpdateSubscriptionRequest", 403, "Forbidden"))
    assert failures[0].check(BroadWorksRequestError)


def test_unmonitored_device_uses_a_temporary_subscription(env):
    clock, client, router, manager = env
    results = []
    manager.snapshot("2009@example.com", requester="A").addCallback(results.append)
    assert client.names() == [("subscribe", "2009@example.com")]
    client.answer(0, "tmp-1")
    router.deliver(snapshot_event("tmp-1", "initial"))
    assert [e.event_id for e in results] == ["initial"]
    assert client.names()[-1] == ("unsubscribe", "tmp-1")
    assert client.forgotten == ["tmp-1"]  # the link's per-subscription state goes too
    client.answer(-1)
    assert manager.subscription_of("2009@example.com") is None
    assert clock.getDelayedCalls() == []


def test_temporary_snapshot_does_not_remove_a_monitor_that_came_meanwhile(env):
    clock, client, router, manager = env
    results = []
    manager.snapshot("u", requester="A").addCallback(results.append)
    manager.acquire("u")
    client.answer(0, "sub-9")
    router.deliver(snapshot_event("sub-9", "initial"))
    assert results and ("unsubscribe", "sub-9") not in client.names()
    assert manager.is_monitored("u")


def test_renewal_schedule_counts_from_the_last_update(env):
    clock, client, router, manager = env
    manager._rng.random = lambda: 0.5  # jitter 300 s
    sub = subscribed(env)
    clock.advance(2099)
    assert ("update", sub) not in client.names()
    clock.advance(1)
    assert client.names()[-1] == ("update", sub)
    client.answer(-1)
    router.deliver(snapshot_event(sub, "renewal"))
    # a snapshot resets the schedule
    clock.advance(1000)
    manager.snapshot("2001@example.com")
    client.answer(-1)
    router.deliver(snapshot_event(sub, "snap"))
    updates = [n for n, _ in client.names()].count("update")
    clock.advance(2099)
    assert [n for n, _ in client.names()].count("update") == updates
    clock.advance(1)
    assert [n for n, _ in client.names()].count("update") == updates + 1


def test_a_snapshot_holds_the_subscription_its_last_monitor_releases(env):
    clock, client, router, manager = env
    subscribed(env)
    answered = []
    manager.snapshot("2001@example.com").addCallback(answered.append)
    manager.release("2001@example.com")
    assert client.names()[-1] == ("update", "sub-1")  # not unsubscribed under the snapshot
    client.answer(-1)
    router.deliver(snapshot_event("sub-1", "snap"))
    assert [e.event_id for e in answered] == ["snap"]
    assert client.names()[-1] == ("unsubscribe", "sub-1")  # and removed after it
    assert manager.subscription_of("2001@example.com") is None
    client.answer(-1)
    assert clock.getDelayedCalls() == []


def test_stop_fails_waiting_snapshots_and_leaves_no_timers(env):
    clock, client, router, manager = env
    subscribed(env)
    failures = []
    manager.snapshot("2001@example.com").addErrback(failures.append)
    client.answer(-1)
    manager.stop()
    assert failures[0].check(SubscriptionLost)
    assert clock.getDelayedCalls() == []


def test_a_second_temporary_snapshot_outlives_the_first(env):
    # the race of issue 17: B asked once A's subscribe was answered, so B has a
    # request of its own; A done released the temporary subscription under B
    clock, client, router, manager = env
    a, b = [], []
    manager.snapshot("u").addBoth(a.append)
    client.answer(0, "sub-u")
    manager.snapshot("u").addBoth(b.append)
    assert client.names() == [("subscribe", "u"), ("update", "sub-u")]
    router.deliver(snapshot_event("sub-u", "initial"))
    assert [e.event_id for e in a] == ["initial"] and b == []
    assert ("unsubscribe", "sub-u") not in client.names()
    client.answer(1)
    router.deliver(snapshot_event("sub-u", "second"))
    assert [e.event_id for e in b] == ["second"]
    assert client.names()[-1] == ("unsubscribe", "sub-u")
    assert manager.subscription_of("u") is None


class _BroadWorks:
    """Plays BroadWorks for a scripted client, in a random but reproducible
    order: each request is answered some time after it was sent, the
    CallSubscriptionEvent a subscribe or update causes comes after its
    answer, events of a removed subscription are lost."""

    def __init__(self, client, router, rng):
        self.client = client
        self.router = router
        self.rng = rng
        self.seen = 0
        self.ids = 0
        self.actions = []  # callables, run in random order
        self.live = set()

    def collect(self):
        for name, argument, d in self.client.requests[self.seen:]:
            self.actions.append(lambda name=name, argument=argument, d=d: self._answer(name, argument, d))
        self.seen = len(self.client.requests)

    def _answer(self, name, argument, d):
        if name == "subscribe":
            self.ids += 1
            sub_id = "sub-%d" % self.ids
            self.live.add(sub_id)
            d.callback(sub_id)
            self.actions.append(lambda: self._event(sub_id))
        elif name == "update":
            d.callback(None)
            self.actions.append(lambda: self._event(argument))
        else:
            self.live.discard(argument)
            d.callback(None)

    def _event(self, sub_id):
        if sub_id in self.live:
            self.ids += 1
            self.router.deliver(snapshot_event(sub_id, "ev-%d" % self.ids))

    def step(self):
        self.collect()
        if not self.actions:
            return False
        self.actions.pop(self.rng.randrange(len(self.actions)))()
        return True


def test_two_thousand_concurrent_snapshots_of_monitored_and_unmonitored_devices(env):
    import random

    clock, client, router, manager = env
    rng = random.Random(17)
    broadworks = _BroadWorks(client, router, rng)
    monitored = ["m%d@example.com" % n for n in range(20)]
    unmonitored = ["u%d@example.com" % n for n in range(20)]
    for user in monitored:
        manager.acquire(user)
    while broadworks.step():
        pass
    results = {"ok": 0, "failed": []}

    def ok(event):
        results["ok"] += 1

    asked = 0
    while asked < 2000 or broadworks.step():
        if asked < 2000 and rng.random() < 0.5:
            user = rng.choice(monitored + unmonitored)
            manager.snapshot(user).addCallbacks(ok, results["failed"].append)
            asked += 1
            if rng.random() < 0.05:  # monitors come and go meanwhile
                manager.acquire(user).addErrback(results["failed"].append)
                manager.release(user)
        else:
            broadworks.step()
    assert results["failed"] == []
    assert results["ok"] == 2000
    for user in unmonitored:  # every temporary subscription is gone again
        assert manager.subscription_of(user) is None
    assert all(manager.is_monitored(user) for user in monitored)
    assert [c.func.__name__ for c in clock.getDelayedCalls()] == ["_renew"] * len(monitored)


def test_subscribe_failure_reaches_every_waiter(env):
    clock, client, router, manager = env
    failures = []
    manager.acquire("u").addErrback(failures.append)
    manager.snapshot("u").addErrback(failures.append)
    client.requests[0][2].errback(BroadWorksRequestError("AddUserSubscriptionRequest", 404, "Not Found"))
    assert len(failures) == 2
    assert manager.subscription_of("u") is None


def test_call_events_are_routed_and_unknown_subscriptions_reported(env):
    clock, client, router, manager = env
    sub = subscribed(env)
    call = xsi.Call("c", "1:1", "Terminator", "Alerting")
    event = xsi.SubscriptionEvent("CallReceivedEvent", "e5", 2, "a", "app", sub, "ch", None, call=call)
    assert router.deliver(event)
    assert router.events == [("2001@example.com", "e5")]
    assert not router.deliver(xsi.SubscriptionEvent("CallReceivedEvent", "e6", 1, "a", "app", "nope", "ch", None, call=call))


def test_terminated_subscription_is_renewed(env):
    clock, client, router, manager = env
    sub = subscribed(env)
    router.deliver(xsi.SubscriptionEvent("SubscriptionTerminatedEvent", "t", 3, "a", "app", sub, "ch", None))
    assert client.names()[-1] == ("subscribe", "2001@example.com")
    client.answer(-1, "sub-2")
    assert manager.subscription_of("2001@example.com").subscription_id == "sub-2"


def test_refresh_all_is_bounded(env):
    clock, client, router, manager = env
    manager._semaphore = defer.DeferredSemaphore(2)
    for i in range(5):
        subscribed(env, "u%d" % i, "s%d" % i)
    done = []
    manager.refresh_all(cause="test").addCallback(done.append)
    updates = [r for r in client.requests if r[0] == "update"]
    assert len(updates) == 2
    for i in range(5):
        pending = [r for r in client.requests if r[0] == "update" and not r[2].called]
        pending[0][2].callback(None)
        router.deliver(snapshot_event(pending[0][1], "r%d" % i))
    assert done == [5]


def test_stop_leaves_no_delayed_calls(env):
    clock, client, router, manager = env
    subscribed(env)
    manager.snapshot("2001@example.com").addErrback(lambda f: None)
    client.answer(-1)
    manager.stop()
    assert clock.getDelayedCalls() == []


def test_event_that_overtakes_its_response_answers_after_a_grace(env):
    """With several links the event can arrive (on the subscription's channel)
    before the response (on the request's link): nothing later follows, so the
    early one answers."""
    clock, client, router, manager = env
    sub = subscribed(env)
    result = []
    manager.snapshot("2001@example.com", requester="A").addCallback(result.append)
    router.deliver(snapshot_event(sub, "overtaking"))
    assert router.snapshots[-1] == ("2001@example.com", "overtaking", ("A",))
    client.answer(-1)
    assert result == []
    clock.advance(manager.early_grace)
    assert [e.event_id for e in result] == ["overtaking"]
    assert all(c.func.__name__ == "_renew" for c in clock.getDelayedCalls())


def test_a_new_request_does_not_lose_its_overtaking_event_to_an_older_one(env):
    """Request 1's event overtakes its answer and waits out the grace; request 2
    goes out and its event overtakes its own answer too: it answers request 1
    (the first after its answer) and is kept for request 2, which is not left
    waiting for an event that was taken (an Xsi link)."""
    clock, client, router, manager = env
    sub = subscribed(env)
    first, second = [], []
    manager.snapshot("2001@example.com", requester="A").addCallback(first.append)
    router.deliver(snapshot_event(sub, "event-1"))
    client.answer(-1)
    manager.snapshot("2001@example.com", requester="B").addCallback(second.append)
    router.deliver(snapshot_event(sub, "event-2"))
    assert [e.event_id for e in first] == ["event-2"]
    assert router.snapshots[-1] == ("2001@example.com", "event-2", ("A",))
    client.answer(-1)
    clock.advance(manager.early_grace)
    assert [e.event_id for e in second] == ["event-2"]


def test_an_initial_event_that_overtakes_the_subscribe_response_answers_it(env):
    """Its subscription id is not known yet: recognized by its target, it
    answers the subscribe as soon as the response comes (nothing older can
    exist), and the next request's event answers the next request."""
    clock, client, router, manager = env
    snapshots = []
    manager.acquire("2001@example.com", requester="A")
    manager.snapshot("2001@example.com", requester="B").addCallback(snapshots.append)
    initial = snapshot_event("sub-1", "initial")._replace(target_id="2001@example.com")
    assert router.deliver(initial)
    assert router.snapshots == [("2001@example.com", "initial", ("A", "B"))]
    # another user's initial event, or a call event, of an id not known is still unknown
    assert not router.deliver(initial._replace(subscription_id="sub-2", target_id="2002@example.com"))
    assert not router.deliver(initial._replace(subscription_id="sub-3", event_type="CallReceivedEvent", event_id="x"))
    client.answer(0, "sub-1")
    assert [e.event_id for e in snapshots] == ["initial"]
    later = []
    manager.snapshot("2001@example.com").addCallback(later.append)
    client.answer(-1)
    router.deliver(snapshot_event("sub-1", "refresh", seq=2))
    assert [e.event_id for e in later] == ["refresh"]
    assert all(c.func.__name__ == "_renew" for c in clock.getDelayedCalls())


def test_subscribe_failing_at_once_fails_the_caller_cleanly(env):
    """No link at all: the client's Deferred has already failed when returned."""
    from csta_connector.broadworks.errors import NoLinkAvailable

    clock, client, router, manager = env
    client.subscribe = lambda user_id: defer.fail(NoLinkAvailable("AddUserSubscriptionRequest"))
    failures = []
    manager.acquire("u", requester="A").addErrback(failures.append)
    manager.snapshot("v", requester="A").addErrback(failures.append)
    assert [f.check(NoLinkAvailable) for f in failures] == [NoLinkAvailable, NoLinkAvailable]
    assert manager.subscription_of("u") is None and manager.subscription_of("v") is None


def test_states_from_subscribing_to_active_to_removed(env):
    clock, client, router, manager = env
    manager.acquire("u")
    sub = manager.subscription_of("u")
    assert sub.state is SubscriptionState.SUBSCRIBING
    client.answer(0, "sub-1")
    assert sub.state is SubscriptionState.ACTIVE
    router.deliver(xsi.SubscriptionEvent("SubscriptionTerminatedEvent", "t", 2, "a", "app", "sub-1", "ch", None))
    assert sub.state is SubscriptionState.SUBSCRIBING and sub.subscription_id is None
    client.answer(-1, "sub-2")
    assert sub.state is SubscriptionState.ACTIVE
    manager.release("u")
    assert sub.state is SubscriptionState.REMOVED
    assert client.names()[-1] == ("unsubscribe", "sub-2")


def test_a_cancelled_acquire_is_undone(env):
    """A client gone while its MonitorStart waits: the waiter goes, and with
    it its claim on the subscription, which is removed once answered."""
    clock, client, router, manager = env
    failures = []
    manager.acquire("u").addErrback(failures.append).cancel()
    assert failures[0].check(defer.CancelledError)
    assert manager.subscription_of("u") is None
    client.answer(0, "sub-1")
    assert client.names() == [("subscribe", "u"), ("unsubscribe", "sub-1")]


def test_a_cancelled_acquire_leaves_the_others_waiting(env):
    clock, client, router, manager = env
    got = []
    first = manager.acquire("u")
    first.addErrback(lambda f: None)
    manager.acquire("u").addCallback(got.append)
    first.cancel()
    client.answer(0, "sub-1")
    assert got == ["sub-1"] and manager.is_monitored("u")
    assert ("unsubscribe", "sub-1") not in client.names()


def test_a_cancelled_snapshot_waiter_is_removed_and_the_others_answered(env):
    clock, client, router, manager = env
    sub = subscribed(env)
    results, failures = [], []
    gone = manager.snapshot("2001@example.com", requester="A")
    gone.addErrback(failures.append)
    manager.snapshot("2001@example.com", requester="B").addCallback(results.append)
    gone.cancel()
    assert failures[0].check(defer.CancelledError)
    client.answer(-1)
    router.deliver(snapshot_event(sub, "fresh"))
    assert [e.event_id for e in results] == ["fresh"]
    assert all(c.func.__name__ == "_renew" for c in clock.getDelayedCalls())


def test_a_cancelled_temporary_snapshot_releases_its_subscription(env):
    clock, client, router, manager = env
    d = manager.snapshot("2009@example.com", requester="A")
    d.addErrback(lambda f: None)
    d.cancel()
    client.answer(0, "tmp-1")
    assert client.names()[-1] == ("unsubscribe", "tmp-1")
    assert manager.subscription_of("2009@example.com") is None
    client.answer(-1)
    assert clock.getDelayedCalls() == []


def test_a_route_says_whether_a_request_of_ours_caused_the_event(env):
    """The initial event and a snapshot's are solicited; one BroadWorks sends
    by itself is not (the sign of an AS failover, SPEC §6.1)."""
    clock, client, router, manager = env
    manager.acquire("u")
    client.answer(0, "sub-1")
    assert manager.route(snapshot_event("sub-1", "initial")).solicited
    assert not manager.route(snapshot_event("sub-1", "unsolicited", seq=2)).solicited
    assert not manager.route(snapshot_event("sub-1", "resync", "CallSubscriptionResyncEvent", 3)).solicited
    ended = []
    manager.snapshot("u").addBoth(ended.append)
    # overtaking its response, then after it
    assert manager.route(snapshot_event("sub-1", "early", seq=4)).solicited
    client.answer(-1)
    manager.snapshot("u").addBoth(ended.append)
    client.answer(-1)
    answer = snapshot_event("sub-1", "answer", seq=5)
    route = manager.route(answer)
    assert route.solicited
    manager.answer(route, answer)
    manager.stop()
    assert len(ended) == 2


def test_an_initial_event_before_its_subscribes_answer_is_the_answer(env):
    # with several links the event comes on the subscription's channel, the
    # response on the request's link: the event may be first
    clock, client, router, manager = env
    answered = []
    manager.snapshot("2001@example.com", requester="A").addCallback(answered.append)
    initial = snapshot_event("sub-9", "initial")._replace(target_id="2001@example.com")
    assert router.deliver(initial)
    assert router.snapshots == [("2001@example.com", "initial", ("A",))]  # the model sees it now
    client.answer(0, "sub-9")
    # nothing older than a new subscription's initial event exists: it answers at once
    assert [e.event_id for e in answered] == ["initial"]


def test_an_adopted_id_stays_only_if_broadworks_gives_it(env):
    clock, client, router, manager = env
    manager.acquire("2001@example.com")
    stray = snapshot_event("sub-old", "stray")._replace(target_id="2001@example.com")
    assert router.deliver(stray)
    client.answer(0, "sub-new")
    assert manager.user_of_subscription("sub-old") is None
    assert manager.user_of_subscription("sub-new") == "2001@example.com"


def test_a_removed_subscriptions_late_event_is_never_adopted(env):
    clock, client, router, manager = env
    subscribed(env)
    manager.release("2001@example.com")
    manager.acquire("2001@example.com")  # subscribing again
    late = snapshot_event("sub-1", "late")._replace(target_id="2001@example.com")
    assert not router.deliver(late)


def test_one_event_answers_every_request_answered_before_it(env):
    # a refresh's event overtook its answer (kept, 0.5 s grace); a second
    # snapshot's request is answered meanwhile: the event that follows is the
    # first after both answers, so it answers both, and no request is left
    # waiting for an event that was already taken
    clock, client, router, manager = env
    sub = subscribed(env)
    first, second = [], []
    manager.snapshot("2001@example.com").addCallback(first.append)
    router.deliver(snapshot_event(sub, "overtaking", seq=2))
    client.answer(-1)
    manager.snapshot("2001@example.com").addCallback(second.append)
    assert client.names()[-1] == ("update", sub)
    client.answer(-1)
    router.deliver(snapshot_event(sub, "after-both", seq=3))
    assert [e.event_id for e in first] == ["after-both"]
    assert [e.event_id for e in second] == ["after-both"]
    assert all(c.func.__name__ == "_renew" for c in clock.getDelayedCalls())
