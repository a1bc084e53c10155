"""csta-cli against a running embedded default, and the demo (issue 7).

Both commands run as real subprocesses (``python -m ...``) so exit status,
stdout and stderr are what an operator sees; the connector under test runs
in this process on free loopback ports, on the reactor the subprocesses are
driven from.
"""

import socket

import pytest_twisted
from twisted.internet import defer, reactor
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.internet.protocol import Factory, Protocol

from csta_connector.testing import run_cli, spawn_module


def spawn(module, *args):
    # A monitor ends at its --count; the generous --duration and kill timer
    # only matter on a loaded machine, where each csta-cli the test runs
    # meanwhile takes seconds to start.
    return spawn_module(reactor, module, *args, timeout=60.0)


def cli(port, *args):
    """Run csta-cli to the end: (exit code, stdout lines, stderr lines)."""
    return run_cli(reactor, port, *args)


def parse_monitor_line(line):
    """``HH:MM:SS.mmm DEVICE EVENT call=ID ...`` -> (device, event, call id, {k: v})."""
    words = line.split()
    fields = dict(word.split("=", 1) for word in words[3:])
    return words[1], words[2], fields.get("call"), fields


@pytest_twisted.inlineCallbacks
def test_monitor_prints_the_events_of_a_makecall_answered_and_cleared(embedded_connector):
    port = embedded_connector.csta_port
    monitor = spawn("csta_connector.cli", "--port", str(port), "monitor", "2001", "2002",
                    "--count", "8", "--duration", "45")
    yield monitor.err_lines.wait_for(
        lambda lines: any(line.startswith("monitoring 2001 2002") for line in lines), 10, "monitor started"
    )
    code, out, err = yield cli(port, "makecall", "2001", "2002")
    assert (code, err) == (0, [])
    [call_id] = out
    # the callee's call id is found by a snapshot (the alerting call), over BER this time
    code, out, err = yield cli(port, "--encoding", "ber", "answer", "2002")
    assert (code, out, err) == (0, ["answer 2002 %s: ok" % call_id], [])
    code, out, err = yield cli(port, "clear", "2001", call_id)
    assert (code, out, err) == (0, ["clear 2001 %s: ok" % call_id], [])

    assert (yield monitor.ended) == 0
    events = [parse_monitor_line(line) for line in monitor.stdout_lines]
    assert len(events) == 8, monitor.stdout_lines
    assert {e[2] for e in events} == {call_id}
    per_device = {d: [(e[1], e[3].get("state"), e[3].get("cause")) for e in events if e[0] == d]
                  for d in ("2001", "2002")}
    assert per_device["2001"] == [
        ("ServiceInitiated", "initiated", "makeCall"),
        ("Originated", "connected", "makeCall"),
        ("Established", "connected", "newCall"),
        ("ConnectionCleared", "null", "normalClearing"),
    ]
    assert per_device["2002"] == [
        ("Delivered", "alerting", "newCall"),
        ("Established", "connected", "newCall"),
        ("ConnectionCleared", "null", "normalClearing"),
        ("CallCleared", None, "normalClearing"),
    ]
    delivered = [e[3] for e in events if e[1] == "Delivered"][0]
    assert (delivered["alerting"], delivered["calling"], delivered["called"]) == ("2002", "2001", "2002")
    assert len(embedded_connector.core.model) == 0


@pytest_twisted.inlineCallbacks
def test_snapshot_call_selection_csta_errors_and_system_status(embedded_connector):
    port = embedded_connector.csta_port
    code, out, err = yield cli(port, "snapshot", "2003")
    assert (code, out, err) == (0, ["idle"], [])

    placed = yield embedded_connector.control.place_call("2003", "2004")
    call_id = placed["extTrackingId"]
    # independent commands, run side by side (each process takes a second to start)
    snapshot, hold, retrieve, unknown, status = yield defer.gatherResults([
        cli(port, "snapshot", "2004"),
        # a CSTA error response: exit 1, one line naming the request and the error
        cli(port, "hold", "2004"),
        # nothing to retrieve: the snapshot names no held call
        cli(port, "retrieve", "2004"),
        cli(port, "snapshot", "7777"),
        cli(port, "--encoding", "ber", "system-status"),
    ])
    assert snapshot == (0, ["%s alerting" % call_id], [])
    assert hold == (1, [], ["hold 2004 %s: stateIncompatibility/invalidConnectionState" % call_id])
    assert retrieve == (1, [], ["retrieve 2004: no held call at 2004 (calls: %s alerting)" % call_id])
    assert unknown == (1, [], ["snapshot 7777: operation/invalidDeviceID"])
    assert status == (0, ["normal"], [])


@pytest_twisted.inlineCallbacks
def test_agent_state_and_a_monitored_queue(embedded_connector):
    """csta-cli agent-state sets and reads an agent's state; monitor of an ACD
    device prints the queue's events (the embedded call center 5001)."""
    port = embedded_connector.csta_port
    monitor = spawn("csta_connector.cli", "--port", str(port), "--encoding", "ber", "monitor", "5001",
                    "--count", "3", "--duration", "45")
    yield monitor.err_lines.wait_for(
        lambda lines: any(line.startswith("monitoring 5001") for line in lines), 10, "monitor started"
    )
    placed = yield embedded_connector.control.place_call("2011", "5001")
    ready, not_ready = yield defer.gatherResults([
        cli(port, "agent-state", "2005", "ready"),
        cli(port, "--encoding", "ber", "agent-state", "2006", "notReady", "--code", "LUNCH"),
    ])
    assert (ready, not_ready) == ((0, ["agent-state 2005 ready: ok"], []), (0, ["agent-state 2006 notReady: ok"], []))
    shown = yield cli(port, "agent-state", "2006")
    assert shown == (0, ["2006@example.com logged-on group=5001 state=agentNotReady code=LUNCH"], [])
    yield embedded_connector.control.user_action("2005", "answer")
    assert (yield monitor.ended) == 0
    events = [parse_monitor_line(line) for line in monitor.stdout_lines]
    assert [(d, e, c) for d, e, c, _ in events] == [
        ("5001", "Queued", placed["extTrackingId"]), ("5001", "Delivered", placed["extTrackingId"]),
        ("5001", "Diverted", placed["extTrackingId"])]
    assert (events[0][3]["queue"], events[0][3]["calling"], events[2][3]["to"]) == ("5001", "2011", "2005")


@pytest_twisted.inlineCallbacks
def test_route_sends_every_call_to_its_destination_and_prints_each_dialogue(embedded_connector):
    """csta-cli route registers for the embedded route point 6001 and routes
    each call to 2003 (XML and BER): the call rings at 2003, is answered, and
    the dialogue ends well."""
    port = embedded_connector.csta_port
    for encoding, caller in (("xml", "2011"), ("ber", "2012")):
        route = spawn("csta_connector.cli", "--port", str(port), "--encoding", encoding, "route", "6001",
                      "--to", "2003", "--count", "1", "--duration", "45")
        yield route.err_lines.wait_for(
            lambda lines: any(line.startswith("routeing 6001 to 2003") for line in lines), 10, "route started")
        placed = yield embedded_connector.control.place_call(caller, "6001")
        deadline = reactor.seconds() + 10
        while not (yield embedded_connector.control.calls_of("2003")):
            assert reactor.seconds() < deadline, "the call never reached 2003"
            yield task_pause()
        yield embedded_connector.control.user_action("2003", "answer")
        assert (yield route.ended) == 0
        lines = [parse_monitor_line(line) for line in route.stdout_lines]
        assert [(d, e, c) for d, e, c, _ in lines] == [
            ("6001", name, placed["extTrackingId"])
            for name in ("RouteRequest", "RouteSelect", "RouteUsed", "RouteEnd")]
        assert (lines[0][3]["calling"], lines[1][3]["to"], lines[2][3]["used"]) == (caller, "2003", "2003")
        assert lines[-1][3]["result"] == "ok"
        yield embedded_connector.control.user_action("2003", "release")


def task_pause(seconds=0.05):
    from twisted.internet import task

    return task.deferLater(reactor, seconds, lambda: None)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest_twisted.inlineCallbacks
def test_connection_refused_is_one_line():
    port = free_port()
    code, out, err = yield cli(port, "snapshot", "2001")
    assert (code, out, err) == (3, [], ["cannot connect to 127.0.0.1:%d: connection refused" % port])


@pytest_twisted.inlineCallbacks
def test_a_server_that_never_starts_the_session_times_out():
    listening = yield TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1").listen(Factory.forProtocol(Protocol))
    port = listening.getHost().port
    try:
        code, out, err = yield cli(port, "--encoding", "ber", "--timeout", "0.5", "snapshot", "2001")
    finally:
        yield listening.stopListening()
    assert (code, out) == (3, [])
    assert err == ["cannot connect to 127.0.0.1:%d: no session start (SystemStatus) within 0.5 s; "
                   "wrong --encoding, or a TLS listener (--tls)?" % port]


@pytest_twisted.inlineCallbacks
def test_demo_tells_the_failover_story_and_exits_0():
    demo = spawn("csta_connector.demo", "--quiet")
    code = yield demo.ended
    assert demo.stderr_lines == []
    assert code == 0
    [verdict] = demo.stdout_lines
    assert verdict.startswith("demo OK (xml, ")
    assert "8 stuck call parties cleared" in verdict
    assert "queue 5001: a call distributed to the Available agent, 1 stuck queued call cleared" in verdict
    assert "5 by the proactive resync, no snapshot" in verdict
    assert "route point 6001: a call routed to 2009, 1 stuck call cleared by SnapshotDevice" in verdict
