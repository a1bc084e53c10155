"""The proactive failover resync end to end (SPEC §6.1, issue 12): the
embedded default (simulator + connector) with real CSTA clients, XML and BER,
over loopback TCP. After an ungraceful failover no stuck party waits for a
client's snapshot; calls made on the peer AS meanwhile are never cleared."""

import time

import pytest
import pytest_twisted
from twisted.internet import reactor, task

from csta_connector.csta import messages as m
from csta_connector.csta.client import CSTAErrorResponse, connect

AGENTS = [str(n) for n in range(2001, 2011)]
STF = "switchingFunctionTerminated"


@pytest_twisted.inlineCallbacks
def monitor_all(client, devices):
    xrefs = {}
    for device in devices:
        response = yield client.request(m.MonitorStart(device=device))
        xrefs[device] = response.cross_ref_id
    return xrefs


@pytest_twisted.inlineCallbacks
def until(predicate, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        yield task.deferLater(reactor, 0.02, lambda: None)


def logged(lms_lines, lms_id):
    return [e for e in lms_lines if e["lms_id"] == lms_id]


def cleared_at(client, xrefs):
    """(device, call id) of every ConnectionCleared the client received."""
    device_of = {xref: device for device, xref in xrefs.items()}
    return sorted(
        (device_of[e.cross_ref_id], e.dropped_connection.call_id)
        for e in client.events.items
        if isinstance(e, m.ConnectionClearedEvent) and e.cross_ref_id in device_of
    )


@pytest_twisted.inlineCallbacks
def set_up_calls(control, agent, xrefs):
    """2001->2002 answered; 2003->2004 answered, then held by its originator
    2003; 2005->2006 alerting; 2007->2008 answered, then held by 2008.
    Returns caller -> call id."""
    calls = {}
    for caller, callee in (("2001", "2002"), ("2003", "2004"), ("2005", "2006"), ("2007", "2008")):
        placed = yield control.place_call(caller, callee)
        calls[caller] = placed["extTrackingId"]
    for callee in ("2002", "2004", "2008"):
        yield control.user_action(callee, "answer")
    yield control.user_action("2003", "hold")
    yield control.user_action("2008", "hold")
    yield agent.events.wait_for(
        lambda items: sum(isinstance(e, m.HeldEvent) and e.cross_ref_id in (xrefs["2003"], xrefs["2008"])
                          for e in items) >= 2, what="2003 and 2008 held")
    return calls


def stuck_parties(calls):
    return sorted(
        [(device, calls[caller]) for caller, callee in
         (("2001", "2002"), ("2003", "2004"), ("2005", "2006"), ("2007", "2008"))
         for device in (caller, callee)]
    )


@pytest.mark.parametrize(
    "embedded_connector, encoding",
    [
        ({"proactive_resync_rate": 10}, "xml"),
        ({"proactive_resync_rate": 10, "simulator": {"resync_event": "CallSubscriptionResyncEvent"}}, "ber"),
        ({"proactive_resync_rate": 10, "protocols": ("xsi",)}, "xml"),
    ],
    indirect=["embedded_connector"],
    ids=["xml-CallSubscriptionEvent", "ber-CallSubscriptionResyncEvent", "xsi-link"],
)
@pytest_twisted.inlineCallbacks
def test_every_stuck_party_is_cleared_without_a_snapshot(embedded_connector, lms_lines, encoding):
    connector = embedded_connector
    control = connector.control
    agent = yield connect(reactor, "127.0.0.1", connector.csta_port, encoding)
    other = yield connect(reactor, "127.0.0.1", connector.csta_port, "xml" if encoding == "ber" else "ber")
    xrefs = yield monitor_all(agent, AGENTS)
    other_xrefs = yield monitor_all(other, ["2001", "2003", "2005", "2006", "2007"])
    calls = yield set_up_calls(control, agent, xrefs)
    assert len(connector.core.model) == 8

    yield control.failover("ungraceful")
    # a call on the peer AS before the first sign: 2009 rings 2001, which
    # still holds its stuck originated call
    early = (yield control.place_call("2009", "2001"))["extTrackingId"]
    yield until(lambda: logged(lms_lines, 37230), what="the failover suspected")
    # and one while the wave runs (10 refreshes a second): 2010 calls 2005, answered
    during = (yield control.place_call("2010", "2005"))["extTrackingId"]
    yield control.user_action("2005", "answer")
    yield until(lambda: logged(lms_lines, 37231), what="the resynchronization finished")
    yield until(lambda: len(cleared_at(agent, xrefs)) >= 8, what="8 ConnectionCleared at the agent")

    # every stuck party cleared once, every client told, no snapshot asked
    stuck = stuck_parties(calls)
    assert sorted((e["device"], e["call_id"]) for e in logged(lms_lines, 37205)) == stuck
    assert cleared_at(agent, xrefs) == stuck
    yield until(lambda: len(cleared_at(other, other_xrefs)) >= 5, what="5 ConnectionCleared at the other")
    assert cleared_at(other, other_xrefs) == [p for p in stuck if p[0] in other_xrefs]
    for client in (agent, other):
        for event in client.events.items:
            if isinstance(event, m.ConnectionClearedEvent):
                assert (event.cause, event.local_connection_info) == (STF, "null")
    # the agent monitors both ends: each old call is cleared with its last party
    assert sorted(m.event_connection(e).call_id for e in agent.events.items
                  if isinstance(e, m.CallClearedEvent)) == sorted(calls.values())
    # the wave's refreshes: the users holding calls, then the agents (their
    # state is read again; 2001-2010 are agents of the default call center)
    managers = (connector.core.subscriptions,) + connector.core.contact_centre.managers
    assert sum(manager.update_requests for manager in managers) == logged(lms_lines, 37231)[0]["users"]
    assert connector.core.contact_centre.agent_subscriptions.update_requests == len(AGENTS)

    # the calls made on the peer AS are untouched
    assert sorted(p.device for p in connector.core.model.call(early)) == ["2001", "2009"]
    assert sorted(p.device for p in connector.core.model.call(during)) == ["2005", "2010"]
    assert len(connector.core.model) == 4
    assert not [e for e in agent.events.items
                if isinstance(e, (m.ConnectionClearedEvent, m.CallClearedEvent))
                and m.event_connection(e) is not None and m.event_connection(e).call_id in (early, during)]
    (suspected,) = logged(lms_lines, 37230)
    assert suspected["trigger"].endswith(
        "CallSubscriptionResyncEvent" if encoding == "ber" else "unsolicited CallSubscriptionEvent")
    (finished,) = logged(lms_lines, 37231)
    assert finished["failed"] == 0 and finished["cleared"] >= 5  # 2001, 2003, 2005, 2006, 2007
    # BroadWorks agrees: a snapshot lists only the new calls
    for device, expected in (("2001", [early]), ("2003", []), ("2005", [during]), ("2006", []), ("2008", [])):
        snapshot = yield agent.request(m.SnapshotDevice(device=device))
        assert [i.connection.call_id for i in snapshot.items] == expected, device
    agent.transport.loseConnection()
    other.transport.loseConnection()


@pytest.mark.parametrize(
    "embedded_connector", [{"simulator": {"resync_delay": 60.0}}], indirect=True,
    ids=["no-unsolicited-event"],
)
@pytest_twisted.inlineCallbacks
def test_call_control_refused_on_an_orphan_starts_the_wave(embedded_connector, lms_lines):
    """The peer AS says nothing (yet); a client's HoldCall on an orphaned call
    is refused: that user is refreshed at once and the wave clears the rest."""
    connector = embedded_connector
    agent = yield connect(reactor, "127.0.0.1", connector.csta_port, "ber")
    xrefs = yield monitor_all(agent, AGENTS)
    calls = yield set_up_calls(connector.control, agent, xrefs)
    yield connector.control.failover("ungraceful")
    with pytest.raises(CSTAErrorResponse):
        yield agent.request(m.HoldCall(connection=m.ConnectionID(call_id=calls["2001"], device_id="2001")))
    yield until(lambda: logged(lms_lines, 37231), what="the resynchronization finished")
    (unknown,) = logged(lms_lines, 37233)
    assert (unknown["device"], unknown["call_id"]) == ("2001", calls["2001"])
    (suspected,) = logged(lms_lines, 37230)
    assert suspected["device"] == "2001" and "call unknown" in suspected["trigger"]
    yield until(lambda: len(cleared_at(agent, xrefs)) >= 8, what="8 ConnectionCleared")
    assert cleared_at(agent, xrefs) == stuck_parties(calls)
    assert sorted((e["device"], e["call_id"]) for e in logged(lms_lines, 37205)) == stuck_parties(calls)
    assert len(connector.core.model) == 0
    agent.transport.loseConnection()


@pytest_twisted.inlineCallbacks
def test_the_embedded_default_resyncs_out_of_the_box(embedded_connector, lms_lines):
    """No option set: an originator's stuck call is cleared with no snapshot."""
    from csta_connector.config import default_config

    c = default_config().connector
    assert (c.proactive_resync, c.proactive_resync_rate, c.proactive_resync_holdoff) == (True, 200, 30.0)
    connector = embedded_connector
    agent = yield connect(reactor, "127.0.0.1", connector.csta_port, "xml")
    xrefs = yield monitor_all(agent, ["2001", "2002"])
    call_id = (yield connector.control.place_call("2001", "2002"))["extTrackingId"]
    yield connector.control.user_action("2002", "answer")
    yield agent.events.wait_for(
        lambda items: any(isinstance(e, m.EstablishedEvent) and e.cross_ref_id == xrefs["2001"] for e in items))
    yield connector.control.failover("ungraceful")
    yield until(lambda: len(cleared_at(agent, xrefs)) == 2, what="both parties cleared")
    assert cleared_at(agent, xrefs) == [("2001", call_id), ("2002", call_id)]
    assert [e["device"] for e in logged(lms_lines, 37205)] == ["2002", "2001"]
    assert len(connector.core.model) == 0
    yield until(lambda: logged(lms_lines, 37231), what="the resynchronization finished")

    # what operations see
    from csta_connector.metrics import ConnectorCollector, RequestRecorder

    collector = ConnectorCollector(connector.config.connector, connector.status, connector.channel_set,
                                   connector.core, connector.csta_factory, RequestRecorder())
    # refreshed: the originator 2001, then the agents 2001 and 2002 (their
    # state is read again)
    assert collector.status()["proactive_resync"] == {
        "enabled": True, "waves": 1, "refreshed": 3, "parties_cleared": 1, "in_progress": False}
    got = {family.name: family.samples[0].value for family in collector.collect() if family.samples}
    p = "csta_connector_"
    assert (got[p + "proactive_resync_waves"], got[p + "proactive_resync_refreshes"],
            got[p + "proactive_resync_parties_cleared"], got[p + "proactive_resync_in_progress"]) == (1, 3, 1, 0)
    assert got[p + "parties_cleared"] == 2
    agent.transport.loseConnection()
