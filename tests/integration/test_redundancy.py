"""Link redundancy and recovery over real loopback TCP (issue 6): two XSP
front-ends of the simulator, one channel set of two links in the connector:
two CTI links, or a CTI link and an Xsi link (issue 13), either one going
down (close: its connection or stream ends; hang: nothing answers)."""

import collections
import dataclasses

import pytest
import pytest_twisted
from twisted.internet import reactor, task

from csta_connector.csta import messages as m
from csta_connector.csta.client import connect
from csta_connector.testing import free_port_config as embedded_config, running_connector

CALLERS = [str(n) for n in range(2001, 2011)]
CALLEES = [str(n) for n in range(2011, 2021)]


def two_xsp_config(protocols):
    config = embedded_config(kpl_interval=1, kpl_tolerance=0, request_timeout=2.0, link_recovery_max_tout=1.0,
                             protocols=protocols)
    links = tuple(dataclasses.replace(link, kpl_interval=1, kpl_tolerance=0) for link in config.links)
    return dataclasses.replace(config, links=links, simulator=dataclasses.replace(config.simulator, users=30))


# (the links' protocols, the XSP front-end that goes down); the simulator's
# CTI front-ends are XSP 1.., its Xsi front-end the one after them
SETS = {
    "cti+cti": (("cti", "cti"), 1),
    "cti+xsi, xsi down": (("cti", "xsi"), 2),
    "cti+xsi, cti down": (("cti", "xsi"), 1),
}


@pytest.fixture(params=list(SETS))
def redundant(request):
    protocols, down = SETS[request.param]
    service = pytest_twisted.blockon(running_connector(reactor, two_xsp_config(protocols)))
    service.simulator.xsp.ack_timeout = 0.5
    service.down_xsp = down
    yield service
    pytest_twisted.blockon(service.stopService())


def pause(seconds):
    return task.deferLater(reactor, seconds, lambda: None)


@pytest_twisted.inlineCallbacks
def wait_until(predicate, timeout=15.0, what="condition"):
    deadline = reactor.seconds() + timeout
    while not predicate():
        if reactor.seconds() > deadline:
            raise AssertionError("timed out waiting for " + what)
        yield pause(0.05)


def lms_ids(lms_lines):
    return [e["lms_id"] for e in lms_lines]


@pytest_twisted.inlineCallbacks
def test_no_event_lost_or_duplicated_while_an_xsp_closes_hangs_and_returns(redundant, lms_lines):
    control = redundant.control
    client = yield connect(reactor, "127.0.0.1", redundant.csta_port, "xml")
    xrefs = {}
    for device in CALLERS + CALLEES:
        response = yield client.request(m.MonitorStart(device=device))
        xrefs[response.cross_ref_id] = device

    schedule = {40: ("down", "close"), 90: ("up", None), 110: ("down", "hang"), 170: ("up", None)}
    placed = []
    for i in range(200):
        if i in schedule:
            action, mode = schedule[i]
            if mode == "hang":  # a live link must find the hang out
                yield wait_until(lambda: len(redundant.channel_set.up_links) == 2, what="both links up")
            yield control.post("/xsp/%d/%s" % (redundant.down_xsp, action), {"mode": mode} if mode else {})
        caller, callee = CALLERS[i % 10], CALLEES[i % 10]
        call = yield control.place_call(caller, callee)
        yield control.user_action(callee, "answer")
        yield control.user_action(caller, "release")
        placed.append((call["extTrackingId"], caller, callee))
        if i in (45, 115):
            yield pause(2.5)  # let the failure be detected while calls go on
    yield wait_until(lambda: len(redundant.channel_set.up_links) == 2, what="XSP 1 link back")
    expected_total = 7 * len(placed)
    yield wait_until(lambda: len(client.events.items) >= expected_total, what="%d events" % expected_total)
    yield pause(0.5)

    seen = collections.defaultdict(list)
    for event in client.events.items:
        connection = next(getattr(event, f.name) for f in dataclasses.fields(event)
                          if isinstance(getattr(event, f.name), m.ConnectionID))
        seen[(connection.call_id, xrefs[event.cross_ref_id])].append(type(event).__name__)
    for call_id, caller, callee in placed:
        at_caller, at_callee = seen.pop((call_id, caller)), seen.pop((call_id, callee))
        # events are ordered per user, not across users (two links): CallCleared
        # goes with whichever party the connector saw released last — or with
        # both when one user's whole call arrived before the other's began
        assert (at_caller + at_callee).count("CallClearedEvent") in (1, 2), call_id
        for events in (at_caller, at_callee):
            if "CallClearedEvent" in events:
                assert events[-1] == "CallClearedEvent"
                events.pop()
        assert at_caller == ["OriginatedEvent", "EstablishedEvent", "ConnectionClearedEvent"], call_id
        assert at_callee == ["DeliveredEvent", "EstablishedEvent", "ConnectionClearedEvent"], call_id
    assert dict(seen) == {}  # nothing extra, nothing twice
    assert len(redundant.core.model) == 0
    # the transitions are in the log: lost (close), unresponsive (hang), recovered
    ids = lms_ids(lms_lines)
    assert 37103 in ids and 37106 in ids and 37104 in ids
    assert 37105 not in ids  # one link stayed up all along: no alarm
    assert client.system_statuses == ["normal"]  # nothing changed for the client
    client.transport.loseConnection()


@pytest_twisted.inlineCallbacks
def test_both_links_down_then_up_repairs_by_synchronization(redundant, lms_lines):
    control = redundant.control
    client = yield connect(reactor, "127.0.0.1", redundant.csta_port, "ber")
    devices = ["2001", "2002", "2003", "2004", "2005", "2006"]
    for device in devices:
        yield client.request(m.MonitorStart(device=device))
    for caller, callee in (("2001", "2002"), ("2003", "2004")):
        yield control.place_call(caller, callee)
        yield control.user_action(callee, "answer")
    yield wait_until(lambda: len(redundant.core.model) == 4, what="two calls in the model")

    yield control.post("/xsp/1/down", {"mode": "close"})
    yield control.post("/xsp/2/down", {"mode": "close"})
    yield wait_until(lambda: client.system_statuses[-1:] == ["disabled"], what="SystemStatus disabled")
    # while BroadWorks is unreachable, calls change: their events are lost
    yield control.user_action("2001", "release")
    yield control.user_action("2004", "hold")
    yield control.place_call("2005", "2006")
    yield pause(0.3)
    assert len(redundant.core.model) == 4  # the connector could not know

    yield control.post("/xsp/1/up")
    yield control.post("/xsp/2/up")
    yield wait_until(lambda: client.system_statuses[-1:] == ["normal"], what="SystemStatus normal")
    yield wait_until(lambda: len(redundant.channel_set.up_links) == 2, what="both links")
    assert client.system_statuses == ["normal", "disabled", "normal"]

    def state_of(call):
        # ECMA-269: a caller whose call rings out is already "connected"
        if call["state"] == "Alerting":
            return {"Terminator": "alerting", "Click-to-Dial": "initiated"}.get(call["personality"], "connected")
        return {"Active": "connected", "Held": "hold", "Remote Held": "connected"}[call["state"]]

    @pytest_twisted.inlineCallbacks
    def matches():
        for device in devices:
            snapshot = yield client.request(m.SnapshotDevice(device=device))
            calls = yield control.calls_of(device)
            mine = sorted((i.connection.call_id, i.local_connection_state) for i in snapshot.items)
            theirs = sorted((c["extTrackingId"], state_of(c)) for c in calls)
            assert mine == theirs, (device, mine, theirs)
            model = sorted((p.call_id, p.state) for p in redundant.core.model.parties_of(device))
            assert model == theirs, (device, model, theirs)

    yield matches()
    ids = lms_ids(lms_lines)
    assert ids.count(37105) == 1  # all links down: one alarm
    assert 37108 in ids  # channel set restored
    assert 37205 in ids  # the released call's parties were cleared by synchronization
    client.transport.loseConnection()
