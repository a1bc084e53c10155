"""AS failover call synchronization end to end (SPEC §6, issue 5): simulator,
connector and real CSTA clients over loopback TCP; over a CTI link, over an
Xsi link (the unsolicited CallSubscriptionEvent and the snapshot's come on its
event channel) and over a cti+xsi channel set. What the connector does
without the proactive resync (``proactive-resync = false``: the commercial
connector's behaviour); tests/integration/test_proactive_resync.py has the rest."""

import pytest
import pytest_twisted
from twisted.internet import reactor, task

from csta_connector.csta import messages as m
from csta_connector.csta.client import connect

AGENTS = [str(n) for n in range(2001, 2011)]


@pytest_twisted.inlineCallbacks
def monitor_all(client, devices):
    xrefs = {}
    for device in devices:
        response = yield client.request(m.MonitorStart(device=device))
        xrefs[device] = response.cross_ref_id
    return xrefs


def events_for(client, xref, *types):
    return [e for e in client.events.items if e.cross_ref_id == xref and (not types or type(e).__name__ in types)]


@pytest_twisted.inlineCallbacks
def settle(connector, seconds=0.3):
    yield task.deferLater(reactor, seconds, lambda: None)


def cleared_parties(lms_lines):
    return [(e["device"], e["call_id"], e["party"]) for e in lms_lines if e["lms_id"] == 37205]


WITHOUT_PROACTIVE_RESYNC = {"proactive_resync": False}
LINK_SETS = {"cti": ("cti",), "xsi": ("xsi",), "cti+xsi": ("cti", "xsi")}


@pytest.mark.parametrize(
    "embedded_connector", [dict(WITHOUT_PROACTIVE_RESYNC, protocols=p) for p in LINK_SETS.values()],
    indirect=True, ids=list(LINK_SETS))
@pytest.mark.parametrize("encoding", ["xml", "ber"])
@pytest_twisted.inlineCallbacks
def test_ungraceful_failover_clears_stuck_calls(embedded_connector, lms_lines, encoding):
    connector = embedded_connector
    control = connector.control
    agent = yield connect(reactor, "127.0.0.1", connector.csta_port, encoding)
    other = yield connect(reactor, "127.0.0.1", connector.csta_port, "xml" if encoding == "ber" else "ber")
    xrefs = yield monitor_all(agent, AGENTS)
    other_xrefs = yield monitor_all(other, ["2001", "2003", "2005", "2006", "2007"])

    calls = {}
    for caller, callee in (("2001", "2002"), ("2003", "2004"), ("2005", "2006"), ("2007", "2008")):
        placed = yield control.place_call(caller, callee)
        calls[caller] = placed["extTrackingId"]
    for callee in ("2002", "2004", "2008"):
        yield control.user_action(callee, "answer")
    yield control.user_action("2008", "hold")
    yield agent.events.wait_for(
        lambda items: events_for(agent, xrefs["2008"], "HeldEvent"), what="2008 held"
    )
    assert len(connector.core.model) == 8  # parties: 4 calls x 2

    before = len(agent.events.items)
    yield control.failover("ungraceful")
    # the unsolicited CallSubscriptionEvent reaches the terminating agents that answered
    yield agent.events.wait_for(
        lambda items: all(events_for(agent, xrefs[d], "ConnectionClearedEvent") for d in ("2002", "2004", "2008")),
        what="stuck parties cleared at 2002, 2004, 2008",
    )
    yield settle(connector)
    new = agent.events.items[before:]
    cleared = [(e.dropped_connection.call_id, e.dropped_connection.device_id) for e in new if isinstance(e, m.ConnectionClearedEvent)]
    assert sorted(cleared) == sorted([(calls["2001"], "2002"), (calls["2003"], "2004"), (calls["2007"], "2008")])
    for event in new:
        if isinstance(event, m.ConnectionClearedEvent):
            assert event.cause == "switchingFunctionTerminated"
            assert event.local_connection_info == "null"
            assert event.releasing_device == event.dropped_connection.device_id
    # the originators' and the alerting call's parties are still held: not call-cleared yet
    assert not [e for e in new if isinstance(e, m.CallClearedEvent)]
    lines = cleared_parties(lms_lines)
    assert sorted((d, c) for d, c, _ in lines) == sorted(cleared[i][::-1] for i in range(3))
    assert all(p.startswith("callhalf-") for _, _, p in lines)

    # a SnapshotDevice on each remaining device clears the rest; the requester learns it from
    # the (empty) response, the other client monitoring the device from events
    # 2005's call still has 2006's (alerting) party: CallCleared comes with the last one
    expected = {"2001": 2, "2003": 2, "2005": 1, "2006": 2, "2007": 2}
    for device, count in expected.items():
        other_before = len(events_for(other, other_xrefs[device]))
        agent_before = len(events_for(agent, xrefs[device]))
        snapshot = yield agent.request(m.SnapshotDevice(device=device))
        assert snapshot.items == ()
        yield other.events.wait_for(
            lambda items: len(events_for(other, other_xrefs[device])) >= other_before + count,
            what="ConnectionCleared (+ CallCleared) for %s at the other client" % device,
        )
        yield settle(connector, 0.05)
        got = events_for(other, other_xrefs[device])[other_before:]
        assert [type(e).__name__ for e in got] == ["ConnectionClearedEvent", "CallClearedEvent"][:count]
        assert got[0].dropped_connection.device_id == device
        assert got[0].cause == "switchingFunctionTerminated"
        assert len(events_for(agent, xrefs[device])) == agent_before  # the requester: no events

    assert len(cleared_parties(lms_lines)) == 8
    for device in AGENTS:
        snapshot = yield agent.request(m.SnapshotDevice(device=device))
        assert snapshot.items == (), device
    assert len(connector.core.model) == 0

    # the orphaned calls hang up later: no events, nothing changes
    yield control.user_action("2001", "release")
    # a new call runs normally on the peer AS
    before = len(agent.events.items)
    placed = yield control.place_call("2001", "2002")
    yield control.user_action("2002", "answer")
    yield agent.events.wait_for(
        lambda items: sum(isinstance(e, m.EstablishedEvent) for e in items[before:]) == 2,
        what="new call established at both ends",
    )
    new = agent.events.items[before:]
    assert [type(e).__name__ for e in new if e.cross_ref_id == xrefs["2002"]] == ["DeliveredEvent", "EstablishedEvent"]
    assert all(
        getattr(e, "connection", None) is None or e.connection.call_id == placed["extTrackingId"]
        for e in new
    )
    assert sorted(p.device for p in connector.core.model.call(placed["extTrackingId"])) == ["2001", "2002"]
    assert len(connector.core.model) == 2
    agent.transport.loseConnection()
    other.transport.loseConnection()


@pytest.mark.parametrize(
    "embedded_connector",
    [WITHOUT_PROACTIVE_RESYNC, {"proactive_resync": True}]
    + [dict(WITHOUT_PROACTIVE_RESYNC, protocols=LINK_SETS[name]) for name in ("xsi", "cti+xsi")],
    indirect=True, ids=["proactive-resync-off", "proactive-resync-on", "xsi", "cti+xsi"])
@pytest_twisted.inlineCallbacks
def test_graceful_failover_clears_nothing(embedded_connector, lms_lines):
    connector = embedded_connector
    agent = yield connect(reactor, "127.0.0.1", connector.csta_port, "xml")
    xrefs = yield monitor_all(agent, ["2001", "2002"])
    yield connector.control.place_call("2001", "2002")
    yield connector.control.user_action("2002", "answer")
    yield agent.events.wait_for(lambda items: events_for(agent, xrefs["2001"], "EstablishedEvent"))
    before = len(agent.events.items)
    yield connector.control.failover("graceful")
    yield settle(connector, 0.5)
    for device in ("2001", "2002"):
        snapshot = yield agent.request(m.SnapshotDevice(device=device))
        assert [i.local_connection_state for i in snapshot.items] == ["connected"]
    assert agent.events.items[before:] == []
    assert cleared_parties(lms_lines) == []
    assert [e for e in lms_lines if e["lms_id"] == 37230] == []  # no failover suspected
    assert len(connector.core.model) == 2
    agent.transport.loseConnection()


@pytest.mark.parametrize("protocol", ["cti", "xsi"])
@pytest.mark.parametrize("proactive_resync", [False, True], ids=["proactive-resync-off", "proactive-resync-on"])
@pytest_twisted.inlineCallbacks
def test_failover_that_drops_the_channels_is_repaired_after_the_link_returns(lms_lines, proactive_resync, protocol):
    """The simulator's failover-drops-channels variant: the link is lost with the
    AS; it comes back by itself and the refresh clears the stuck parties."""
    import dataclasses

    from csta_connector.connector import ConnectorService
    from csta_connector.simulator.control_client import ControlClient
    from csta_connector.testing import free_port_config as embedded_config

    config = embedded_config(proactive_resync=proactive_resync, protocols=(protocol,))
    config = dataclasses.replace(
        config, simulator=dataclasses.replace(config.simulator, failover_drops_channels=True))
    service = ConnectorService(config, reactor)
    service.startService()
    yield service.started
    yield service.channel_set.when_ready()
    control = ControlClient(reactor, "127.0.0.1", service.simulator.control_port)
    try:
        agent = yield connect(reactor, "127.0.0.1", service.csta_port, "xml")
        xrefs = yield monitor_all(agent, ["2001", "2002"])
        yield control.place_call("2001", "2002")
        yield control.user_action("2002", "answer")
        yield agent.events.wait_for(lambda items: len(events_for(agent, xrefs["2001"], "EstablishedEvent")) == 1)
        yield control.failover("ungraceful")
        yield agent.events.wait_for(
            lambda items: events_for(agent, xrefs["2001"], "ConnectionClearedEvent")
            and events_for(agent, xrefs["2002"], "ConnectionClearedEvent"),
            timeout=10, what="both stuck parties cleared after the link returned",
        )
        assert len(service.core.model) == 0
        assert 37104 in [e["lms_id"] for e in lms_lines]  # the link recovered
        assert sorted(d for d, _, _ in cleared_parties(lms_lines)) == ["2001", "2002"]
        agent.transport.loseConnection()
    finally:
        yield service.stopService()
