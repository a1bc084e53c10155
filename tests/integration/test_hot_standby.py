"""Hot standby and restart, proven (issue 17; reference/genesys-connector.md §6).

Two connectors, each its own process with its own channel set and CSTA port,
linked to one BroadWorks simulator process; a CSTA client monitors the same
devices on both, as a T-Server holding links to two connectors does. A
``kill -9`` of one leaves the other serving every event and correct
snapshots; the killed one, restarted, rebuilds its view of every call that is
up from the initial CallSubscriptionEvents when the client monitors again:
no state store, BroadWorks' state is the connector's.
"""

import json
import re

import pytest_twisted
from twisted.internet import defer, reactor, task
from twisted.web.client import Agent, readBody

from csta_connector.csta import messages as m
from csta_connector.csta.client import connect
from csta_connector.simulator.control_client import ControlClient
from csta_connector.testing import linked_config_text, spawn_command, twistd_command

DEVICES = [str(2001 + n) for n in range(6)]

SIMULATOR_INI = """\
[simulator]
users = 20
cti-port = 0
xsi-port = 0
control-port = 0
"""

class Server:
    """A ``twistd -n`` child process, and what its LMS lines said."""

    def __init__(self, tmp_path, name, plugin, ini):
        self.name = name
        (tmp_path / (name + ".ini")).write_text(ini)
        self.process = spawn_command(
            reactor, twistd_command("-n", "--pidfile=", plugin, "--config", name + ".ini"),
            timeout=None, cwd=tmp_path)

    @defer.inlineCallbacks
    def said(self, lms_id, pattern, timeout=20):
        """The groups of ``pattern`` in the first LMS line ``lms_id``."""
        shape = re.compile(r" %d %s" % (lms_id, pattern))
        lines = yield self.process.out_lines.wait_for(
            lambda lines: any(shape.search(line) for line in lines), timeout,
            "LMS %d" % lms_id)
        return next(shape.search(line) for line in lines if shape.search(line)).groups()

    def kill(self, signal="KILL"):
        if not self.process.ended.called:
            self.process.transport.signalProcess(signal)
        return self.process.ended


@defer.inlineCallbacks
def start_connector(tmp_path, name, cti_port):
    server = Server(tmp_path, name, "csta-connector", linked_config_text(cti_port, name, metrics=True))
    (csta_port,) = yield server.said(37005, r"CSTA listener on 127\.0\.0\.1:(\d+)")
    (metrics_port,) = yield server.said(37004, r"Metrics endpoint listening on 127\.0\.0\.1:(\d+)")
    yield server.said(37110, r"Link link-sim \(cti\): channel \S+ added to channel set (cs-\w+)")
    server.csta_port, server.metrics_port = int(csta_port), int(metrics_port)
    return server


@defer.inlineCallbacks
def status_of(server):
    """The connector's /status page (the call model as it holds it)."""
    response = yield Agent(reactor).request(
        b"GET", b"http://127.0.0.1:%d/status" % server.metrics_port)
    return json.loads((yield readBody(response)))


def pause(seconds):
    return task.deferLater(reactor, seconds, lambda: None)


@defer.inlineCallbacks
def monitor(client):
    xrefs = {}
    for device in DEVICES:
        xrefs[device] = (yield client.request(m.MonitorStart(device=device))).cross_ref_id
    return xrefs


def kinds(client, xrefs, device, since=0):
    return [type(e).__name__ for e in client.events.items[since:] if e.cross_ref_id == xrefs[device]]


@defer.inlineCallbacks
def states(client):
    """Every device's calls, as SnapshotDevice tells: {device: [(callID, state)]}."""
    out = {}
    for device in DEVICES:
        snapshot = yield client.request(m.SnapshotDevice(device=device))
        out[device] = sorted((i.connection.call_id, i.local_connection_state) for i in snapshot.items)
    return out


@pytest_twisted.inlineCallbacks
def test_kill_9_of_one_connector_leaves_the_other_serving_and_the_restarted_one_rebuilds(tmp_path):
    servers = []
    try:
        simulator = Server(tmp_path, "sim", "broadworks-sim", SIMULATOR_INI)
        servers.append(simulator)
        cti_port, control_port = yield simulator.said(
            37401, r"Simulator started: .* CTI port\(s\) (\d+), control port (\d+)")
        control = ControlClient(reactor, "127.0.0.1", int(control_port))
        a = yield start_connector(tmp_path, "a", cti_port)
        servers.append(a)
        b = yield start_connector(tmp_path, "b", cti_port)
        servers.append(b)

        # the T-Server's two links: XML to a, BER to b, the same devices on both
        on_a = yield connect(reactor, "127.0.0.1", a.csta_port, "xml")
        on_b = yield connect(reactor, "127.0.0.1", b.csta_port, "ber")
        xa = yield monitor(on_a)
        xb = yield monitor(on_b)
        first = (yield control.place_call("2001", "2002"))["extTrackingId"]
        yield control.user_action("2002", "answer")
        held = (yield control.place_call("2003", "2004"))["extTrackingId"]
        yield control.user_action("2004", "answer")
        yield control.user_action("2004", "hold")
        for client, xrefs in ((on_a, xa), (on_b, xb)):
            yield client.events.wait_for(lambda items: "HeldEvent" in kinds(client, xrefs, "2004"),
                                         what="2004 held")
        assert kinds(on_a, xa, "2004") == kinds(on_b, xb, "2004") == [
            "DeliveredEvent", "EstablishedEvent", "HeldEvent"]

        # kill -9 of a: b serves every event and correct snapshots
        yield a.kill()
        # the client's link to a is lost (its events Observations fail then)
        yield on_a.events.wait_for(lambda items: False, timeout=10).addErrback(lambda f: None)
        assert not on_a.connected
        since = len(on_b.events.items)
        third = (yield control.place_call("2005", "2006"))["extTrackingId"]
        yield control.user_action("2006", "answer")
        yield on_b.events.wait_for(
            lambda items: kinds(on_b, xb, "2006", since) == ["DeliveredEvent", "EstablishedEvent"]
            and "EstablishedEvent" in kinds(on_b, xb, "2005", since), what="the new call at b")
        assert kinds(on_b, xb, "2005", since) == ["OriginatedEvent", "EstablishedEvent"]
        expected = {
            "2001": [(first, "connected")], "2002": [(first, "connected")],
            "2003": [(held, "connected")], "2004": [(held, "hold")],
            "2005": [(third, "connected")], "2006": [(third, "connected")],
        }
        assert (yield states(on_b)) == expected

        # a restarted, with nothing but its configuration: the client
        # monitors again and a's view is rebuilt from the initial events
        a = yield start_connector(tmp_path, "a", cti_port)
        servers.append(a)
        assert (yield status_of(a))["model"] == {"devices": 0, "calls": 0, "parties": 0}
        on_a = yield connect(reactor, "127.0.0.1", a.csta_port, "xml")
        xa = yield monitor(on_a)
        for _ in range(100):
            model = (yield status_of(a))["model"]
            if model["parties"] == 6:
                break
            yield pause(0.05)
        assert model == {"devices": 6, "calls": 3, "parties": 6}  # before any snapshot
        assert (yield states(on_a)) == expected  # the held call is shown held

        # and the calls' later events flow through both
        since_a, since_b = len(on_a.events.items), len(on_b.events.items)
        yield control.user_action("2004", "retrieve")
        yield control.user_action("2001", "release")
        for client, xrefs, since in ((on_a, xa, since_a), (on_b, xb, since_b)):
            yield client.events.wait_for(
                lambda items: kinds(client, xrefs, "2002", since) == ["ConnectionClearedEvent",
                                                                      "CallClearedEvent"]
                and kinds(client, xrefs, "2004", since) == ["RetrievedEvent"],
                what="retrieved and released")
            assert kinds(client, xrefs, "2001", since) == ["ConnectionClearedEvent"]
            retrieved = [e for e in client.events.items[since:] if isinstance(e, m.RetrievedEvent)]
            assert retrieved[0].retrieved_connection == m.ConnectionID(call_id=held, device_id="2004")
        assert (yield status_of(a))["model"]["parties"] == 4
        on_a.transport.loseConnection()
        on_b.transport.loseConnection()
    finally:
        for server in servers:  # shown when the test fails
            print("---- %s\n%s%s" % (server.name, server.process.out.decode()[-4000:],
                                     server.process.err.decode()[-2000:]))
        for server in reversed(servers):
            server.kill("TERM")
        yield defer.DeferredList([server.process.ended for server in servers])
