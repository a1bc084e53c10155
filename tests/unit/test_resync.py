"""The proactive failover resync (SPEC §6.1, issue 12) on a Clock: the core
with a scripted BroadWorks client, its call model fed Xsi events, the wave's
requests read off the client."""

from twisted.internet.task import Clock
from zope.interface.verify import verifyObject

from csta_connector.broadworks import xsi
from csta_connector.broadworks.errors import BroadWorksRequestError
from csta_connector.csta import messages as m
from csta_connector.csta.server import CSTARequestError
from csta_connector.interfaces import IResyncTarget
from csta_connector.services.core import ConnectorCore
from csta_connector.services.resync import call_unknown_to_broadworks, failover_trigger
from csta_connector.testing import ScriptedClient, snapshot_event

DOMAIN = "example.com"


class Session:
    name, state, wire = "client", "running", None

    def write(self, data):
        pass


class World:
    """A core whose users 2001.. are monitored (subscription ``sub-2001`` …),
    with calls between them made of Xsi events."""

    def __init__(self, users, **core_options):
        self.clock = Clock()
        self.client = ScriptedClient(default_domain=DOMAIN)
        self.core = ConnectorCore(self.client, self.clock, **core_options)
        self.session = Session()
        self.seq = {}
        for device in users:
            self.core.handle(self.session, m.MonitorStart(device=device))
            self.client.answer(len(self.client.requests) - 1, "sub-" + device)
            self.event(device, snapshot_event("sub-" + device, "initial-" + device))

    def event(self, device, event):
        self.seq[device] = self.seq.get(device, 0) + 1
        self.core.broadworks_event(event._replace(sequence_number=self.seq[device]))

    def call_event(self, device, event_type, call):
        self.event(device, xsi.SubscriptionEvent(
            event_type, "%s-%s-%s" % (device, event_type, call.call_id), 0, "admin", "app",
            "sub-" + device, "ch", None, call=call))

    def call(self, caller, callee, n, answered=True):
        """``caller`` -> ``callee``, call ``n:1`` (halves ``o-n``, ``t-n``)."""
        def half(device, personality, state, **times):
            party = xsi.RemoteParty(user_id="%s@%s" % (device, DOMAIN))
            return xsi.Call("%s-%d" % (personality[0].lower(), n), "%d:1" % n, personality, state,
                            party, start_time=1, **times)

        self.call_event(caller, "CallOriginatedEvent", half(callee, "Originator", "Alerting"))
        self.call_event(callee, "CallReceivedEvent", half(caller, "Terminator", "Alerting"))
        if answered:
            self.call_event(callee, "CallAnsweredEvent", half(caller, "Terminator", "Active", answer_time=2))
            self.call_event(caller, "CallAnsweredEvent", half(callee, "Originator", "Active", answer_time=2))

    def unsolicited(self, device, event_type="CallSubscriptionEvent", calls=()):
        """What the peer AS sends by itself after a failover: ``calls`` only."""
        self.event(device, snapshot_event("sub-" + device, "resync-" + device, event_type)._replace(
            calls=calls))

    def updates(self, since=0):
        return [arg for name, arg, _ in self.client.requests[since:] if name == "update"]

    def answer_updates(self, calls_of=lambda device: ()):
        """BroadWorks answers every unanswered UpdateSubscriptionRequest, then
        sends the CallSubscriptionEvent it causes (listing ``calls_of(device)``)."""
        for name, arg, d in list(self.client.requests):
            if name == "update" and not d.called:
                d.callback(None)
                device = arg[len("sub-"):]
                self.event(device, snapshot_event(arg, "answer-" + device)._replace(
                    calls=calls_of(device)))

    def parties(self, device):
        return [p.call_id for p in self.core.model.parties_of(device)]


def ids(events, lms_id):
    return [e for e in events if e["lms_id"] == lms_id]


def failover(world, pairs):
    """Answered calls caller -> callee, then the callees' unsolicited events
    are still to come (the AS just died)."""
    for n, (caller, callee) in enumerate(pairs, 1):
        world.call(caller, callee, n)


# -- detection --------------------------------------------------------------


def test_an_unsolicited_event_that_clears_a_party_starts_one_wave(lms_lines):
    w = World(["2001", "2002", "2003", "2004", "2005", "2006"])
    failover(w, [("2001", "2002"), ("2003", "2004")])
    w.call("2005", "2006", 3, answered=False)
    before = len(w.client.requests)
    w.unsolicited("2002")
    assert w.parties("2002") == []
    (suspected,) = ids(lms_lines, 37230)
    assert (suspected["trigger"], suspected["device"], suspected["count"]) == (
        "unsolicited CallSubscriptionEvent", "2002", 5)
    # the subscriptions BroadWorks reports nothing of go first: the originators
    # and the alerting callee; 2004, which answered, last; never 2002 again
    w.clock.advance(1)
    assert w.updates(before) == ["sub-2001", "sub-2003", "sub-2005", "sub-2006", "sub-2004"]
    w.answer_updates()
    assert w.core.model.devices() == ()
    assert len(ids(lms_lines, 37205)) == 6
    (finished,) = ids(lms_lines, 37231)
    assert (finished["users"], finished["cleared"], finished["failed"]) == (5, 5, 0)
    assert w.core.resync.stats == {"waves": 1, "refreshed": 5, "parties_cleared": 5}
    assert w.core.resync.wave.finished and w.core.resync.wave.timer is None


def test_an_unsolicited_event_that_clears_nothing_is_no_sign():
    w = World(["2001", "2002", "2003"])
    w.call("2001", "2002", 1)
    before = len(w.client.requests)
    w.unsolicited("2003")
    w.unsolicited("2002", calls=tuple(
        xsi.Call(p.party_id, p.call_id, p.personality, "Active", answer_time=2)
        for p in w.core.model.parties_of("2002")))
    w.clock.advance(60)
    assert w.updates(before) == [] and w.core.resync.wave is None


def test_a_solicited_event_that_clears_a_party_is_no_sign():
    """A client's snapshot (or a renewal) that finds a stuck party clears it
    and tells the others; it is no sign of a failover by itself."""
    w = World(["2001", "2002"])
    w.call("2001", "2002", 1)
    answered = []
    w.core.handle(w.session, m.SnapshotDevice(device="2002")).addCallback(answered.append)
    before = len(w.client.requests)
    w.answer_updates()
    assert answered[0].items == () and w.parties("2002") == []
    w.clock.advance(60)
    assert w.updates(before) == [] and w.core.resync.wave is None


def test_a_resync_event_is_a_sign_even_when_it_clears_nothing(lms_lines):
    w = World(["2001", "2002", "2003"])
    w.call("2001", "2002", 1)
    before = len(w.client.requests)
    w.unsolicited("2003", "CallSubscriptionResyncEvent")
    (suspected,) = ids(lms_lines, 37230)
    assert (suspected["trigger"], suspected["device"]) == ("CallSubscriptionResyncEvent", "2003")
    assert w.updates(before) == ["sub-2001"]
    w.clock.advance(1)
    assert w.updates(before) == ["sub-2001", "sub-2002"]


def test_call_control_refused_on_an_unknown_call_refreshes_that_user_at_once(lms_lines):
    w = World(["2001", "2002", "2003", "2004"])
    failover(w, [("2001", "2002"), ("2003", "2004")])
    call_id = w.parties("2001")[0]
    results = []
    w.core.handle(w.session, m.HoldCall(connection=m.ConnectionID(call_id=call_id, device_id="2001"))
                  ).addBoth(results.append)
    name, (user, half), d = w.client.requests[-1]
    assert (name, user) == ("hold", "2001@example.com")
    before = len(w.client.requests)
    d.errback(BroadWorksRequestError("HoldRequest", 404, "Not Found", 4043, "lost in the failover"))
    assert results[0].check(CSTARequestError)
    assert results[0].value.error.value == "invalidConnectionID"
    (unknown,) = ids(lms_lines, 37233)
    assert (unknown["call_id"], unknown["device"], unknown["request"]) == (call_id, "2001", "HoldRequest")
    (suspected,) = ids(lms_lines, 37230)
    assert suspected["trigger"] == "HoldRequest refused, call unknown" and suspected["count"] == 4
    # 2001 at once, whatever the rate; then the wave's first
    assert w.updates(before)[:2] == ["sub-2001", "sub-2003"]
    w.answer_updates()
    w.clock.advance(1)
    w.answer_updates()
    assert sorted(w.updates(before)) == ["sub-2001", "sub-2002", "sub-2003", "sub-2004"]
    assert w.core.model.devices() == ()


def test_clear_call_is_a_sign_only_when_broadworks_knows_no_half_of_it():
    """Releasing one half of a two-party call ends it: the other release may
    find its half gone, which is no sign. Both refused: the call is unknown."""
    w = World(["2001", "2002", "2003", "2004"])
    w.call("2001", "2002", 1)
    w.call("2003", "2004", 2)
    request = m.ClearCall(connection=m.ConnectionID(call_id="1:1", device_id="2001"))
    results = []
    w.core.handle(w.session, request).addBoth(results.append)
    before = len(w.client.requests)
    first, second = [d for name, _, d in w.client.requests[-2:]]
    first.callback(None)
    second.errback(BroadWorksRequestError("ReleaseRequest", 404, "Not Found", 4042, "gone"))
    assert isinstance(results[0], m.ClearCallResponse)
    assert w.updates(before) == [] and w.core.resync.wave is None
    w.core.handle(w.session, m.ClearCall(connection=m.ConnectionID(call_id="2:1", device_id="2003"))
                  ).addBoth(results.append)
    for _, _, d in w.client.requests[-2:]:
        d.errback(BroadWorksRequestError("ReleaseRequest", 404, "Not Found", 4043, "orphaned"))
    assert results[1].check(CSTARequestError)
    assert w.core.resync.stats["waves"] == 1
    assert set(w.updates(before)) >= {"sub-2003", "sub-2004"}


def test_a_404_about_the_destination_is_no_sign():
    w = World(["2001", "2002"])
    w.call("2001", "2002", 1)
    call_id = w.parties("2002")[0]
    results = []
    w.core.handle(w.session, m.SingleStepTransferCall(
        active_call=m.ConnectionID(call_id=call_id, device_id="2002"), transferred_to="7777",
    )).addBoth(results.append)
    before = len(w.client.requests)
    w.client.requests[-1][2].errback(
        BroadWorksRequestError("BlindTransferRequest", 404, "Not Found", 4044, "no such destination"))
    assert results[0].value.error.value == "invalidDestination"
    assert w.updates(before) == [] and w.core.resync.wave is None


def test_what_a_call_unknown_to_broadworks_looks_like():
    from twisted.python.failure import Failure

    def refused(status, code):
        return Failure(BroadWorksRequestError("HoldRequest", status, "x", code))

    assert call_unknown_to_broadworks(refused(404, 4042))
    assert call_unknown_to_broadworks(refused(404, 4043), "destination")
    assert call_unknown_to_broadworks(refused(404, None))  # real BroadWorks: the status says it
    assert call_unknown_to_broadworks(refused(404, 110001))
    assert not call_unknown_to_broadworks(refused(404, None), "destination")
    assert not call_unknown_to_broadworks(refused(404, 4041))  # the user, not the call
    assert not call_unknown_to_broadworks(refused(409, 4091))
    assert not call_unknown_to_broadworks(refused(400, 4002))
    assert not call_unknown_to_broadworks(Failure(RuntimeError("x")))


def test_failover_triggers_of_events():
    assert failover_trigger("CallSubscriptionEvent", False, 1) == "unsolicited CallSubscriptionEvent"
    assert failover_trigger("CallSubscriptionEvent", False, 0) is None
    assert failover_trigger("CallSubscriptionEvent", True, 3) is None
    assert failover_trigger("CallSubscriptionResyncEvent", False, 0) == "CallSubscriptionResyncEvent"
    # the contact centre's packages read the same way
    assert failover_trigger("ACDSubscriptionResyncEvent", True, 0) == "ACDSubscriptionResyncEvent"


# -- one wave per failover --------------------------------------------------


def test_signs_within_the_holdoff_only_take_their_users_off(lms_lines):
    """The callees' unsolicited events come one after the other: the first
    starts the wave, the others synchronize their users, who are then not
    refreshed; no second wave."""
    w = World(["2001", "2002", "2003", "2004", "2005", "2006"], proactive_resync_rate=1)
    failover(w, [("2001", "2002"), ("2003", "2004"), ("2005", "2006")])
    before = len(w.client.requests)
    w.unsolicited("2002")
    assert w.updates(before) == ["sub-2001"]  # one token at the start
    w.unsolicited("2004")
    w.unsolicited("2006")
    assert len(ids(lms_lines, 37230)) == 1
    assert [e["device"] for e in ids(lms_lines, 37232)] == ["2004", "2006"]
    for _ in range(5):
        w.answer_updates()
        w.clock.advance(1)
    assert w.updates(before) == ["sub-2001", "sub-2003", "sub-2005"]
    assert w.core.model.devices() == ()
    (finished,) = ids(lms_lines, 37231)
    assert (finished["users"], finished["cleared"]) == (3, 3)


def test_users_synchronized_by_another_path_are_not_refreshed_twice():
    w = World(["2001", "2002", "2003", "2004", "2005", "2006"], proactive_resync_rate=1)
    failover(w, [("2001", "2002"), ("2003", "2004"), ("2005", "2006")])
    before = len(w.client.requests)
    w.unsolicited("2002")
    # a client's snapshot of 2003, a renewal of 2005 (the same request)
    w.core.handle(w.session, m.SnapshotDevice(device="2003"))
    w.core.subscriptions.refresh("2005@example.com")
    w.answer_updates()
    w.unsolicited("2004")
    w.unsolicited("2006")
    w.clock.advance(10)
    w.answer_updates()
    assert sorted(w.updates(before)) == ["sub-2001", "sub-2003", "sub-2005"]
    assert w.core.resync.stats["refreshed"] == 1
    assert w.core.model.devices() == ()


def test_a_late_sign_within_the_holdoff_refreshes_only_its_user(lms_lines):
    """The wave is over; a call made meanwhile turns out unknown too (a
    second AS lost, or the same failover seen late): its user is refreshed
    at once, no new wave."""
    w = World(["2001", "2002", "2003", "2004"], proactive_resync_holdoff=30)
    failover(w, [("2001", "2002")])
    w.unsolicited("2002")
    w.answer_updates()
    assert w.core.resync.wave.finished
    w.clock.advance(5)
    w.call("2003", "2004", 7)
    results = []
    w.core.handle(w.session, m.HoldCall(connection=m.ConnectionID(call_id="7:1", device_id="2003"))
                  ).addBoth(results.append)
    before = len(w.client.requests)
    w.client.requests[-1][2].errback(BroadWorksRequestError("HoldRequest", 404, "Not Found", 4042, "x"))
    assert w.updates(before) == ["sub-2003"]  # 2003 only, not 2004
    assert len(ids(lms_lines, 37230)) == 1 and w.core.resync.stats["waves"] == 1
    w.answer_updates()
    assert w.parties("2003") == [] and w.parties("2004") == ["7:1"]
    assert w.core.resync.stats["refreshed"] == 2
    results[0].trap(CSTARequestError)


def test_after_the_holdoff_a_new_failover_gives_a_new_wave(lms_lines):
    w = World(["2001", "2002", "2003", "2004"], proactive_resync_holdoff=30)
    failover(w, [("2001", "2002")])
    w.unsolicited("2002")
    w.answer_updates()
    w.clock.advance(31)
    w.call("2003", "2004", 2)
    before = len(w.client.requests)
    w.unsolicited("2004")
    assert len(ids(lms_lines, 37230)) == 2 and w.core.resync.stats["waves"] == 2
    assert w.updates(before) == ["sub-2003"]


def test_a_wave_longer_than_the_holdoff_is_still_one_wave():
    w = World(["2001", "2002", "2003", "2004", "2005", "2006"], proactive_resync_rate=1,
              proactive_resync_holdoff=1)
    failover(w, [("2001", "2002"), ("2003", "2004"), ("2005", "2006")])
    w.unsolicited("2002")
    w.clock.advance(1.5)
    w.unsolicited("2004")
    assert w.core.resync.stats["waves"] == 1


# -- the rate cap and the concurrency ----------------------------------------


def test_the_wave_keeps_to_its_rate():
    users = [str(2001 + i) for i in range(20)]
    w = World(users, proactive_resync_rate=4, resync_concurrency=100)
    for i in range(0, 20, 2):
        w.call(users[i], users[i + 1], i + 1, answered=False)
    before = len(w.client.requests)
    w.unsolicited("2001", "CallSubscriptionResyncEvent")
    started = [len(w.updates(before))]
    for _ in range(4):
        w.clock.pump([0.125] * 8)
        started.append(len(w.updates(before)))
    # one at once, then 4 a second
    assert started == [1, 5, 9, 13, 17]
    # a reactor late by a whole second catches up 0.2 s worth, not 1 s
    w.clock.advance(1)
    assert len(w.updates(before)) == 18
    w.clock.pump([0.125] * 8)
    assert len(w.updates(before)) == 19
    w.core.stop()
    w.answer_updates()
    w.clock.advance(10)
    assert len(w.updates(before)) == 19


def test_the_wave_keeps_to_its_concurrency():
    users = [str(2001 + i) for i in range(12)]
    w = World(users, proactive_resync_rate=1000, resync_concurrency=3)
    for i in range(0, 12, 2):
        w.call(users[i], users[i + 1], i + 1, answered=False)
    before = len(w.client.requests)
    w.unsolicited("2001", "CallSubscriptionResyncEvent")
    assert len(w.updates(before)) == 1  # the first token
    w.clock.pump([0.01] * 10)
    assert len(w.updates(before)) == 3
    # each answer makes room for the next at once
    w.answer_updates()
    assert len(w.updates(before)) == 6
    w.clock.pump([0.01] * 10)
    assert len(w.updates(before)) == 6


def test_a_refresh_that_fails_is_counted_and_the_wave_goes_on(lms_lines):
    w = World(["2001", "2002", "2003", "2004"])
    failover(w, [("2001", "2002"), ("2003", "2004")])
    before = len(w.client.requests)
    w.unsolicited("2002")
    w.client.requests[before][2].errback(BroadWorksRequestError("UpdateSubscriptionRequest", 500, "x"))
    w.clock.advance(1)
    w.answer_updates()
    w.clock.advance(1)
    w.answer_updates()
    (finished,) = ids(lms_lines, 37231)
    assert finished["failed"] == 1 and finished["users"] == 3


# -- off: today's behaviour --------------------------------------------------


def test_with_proactive_resync_off_nothing_is_refreshed():
    w = World(["2001", "2002", "2003", "2004"], proactive_resync=False)
    failover(w, [("2001", "2002"), ("2003", "2004")])
    before = len(w.client.requests)
    w.unsolicited("2002")
    w.unsolicited("2004", "CallSubscriptionResyncEvent")
    results = []
    w.core.handle(w.session, m.HoldCall(connection=m.ConnectionID(call_id="1:1", device_id="2001"))
                  ).addBoth(results.append)
    w.client.requests[-1][2].errback(BroadWorksRequestError("HoldRequest", 404, "Not Found", 4043, "x"))
    w.clock.advance(60)
    assert w.updates(before) == [] and w.core.resync is None
    assert w.parties("2001") == ["1:1"] and w.parties("2003") == ["2:1"]
    results[0].trap(CSTARequestError)


def test_the_users_target_is_an_iresynctarget():
    w = World(["2001", "2002"])
    w.call("2001", "2002", 1, answered=False)
    assert verifyObject(IResyncTarget, w.core.user_calls)
    assert sorted(w.core.user_calls.holding()) == [
        ("2001@example.com", False), ("2002@example.com", False)]
    w.call_event("2002", "CallAnsweredEvent", xsi.Call(
        "t-1", "1:1", "Terminator", "Active", start_time=1, answer_time=2))
    assert dict(w.core.user_calls.holding())["2002@example.com"] is True
