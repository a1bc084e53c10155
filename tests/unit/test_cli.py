"""csta-cli's and the demo's pure parts: parsing, call selection, formatting
(issue 7); and ``monitor`` on a Clock, stopped by each of its four ends."""

from __future__ import annotations

import io
import re
import time

import pytest
from twisted.internet import defer, error as net_error
from twisted.internet.defer import TimeoutError as DeferredTimeoutError
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.logger import Logger
from twisted.python.failure import Failure

from csta_connector import cli, demo, lms
from csta_connector.csta import messages as m
from csta_connector.csta.client import ClientConnectionLost, CSTAClientProtocol, CSTAErrorResponse
from csta_connector.csta.wire import Kind, XmlWire
from csta_connector.waiting import WaitTimeout


def conn(call_id, device):
    return m.ConnectionID(call_id=call_id, device_id=device)


def item(call_id, state, device="2001"):
    return m.SnapshotDeviceItem(connection=conn(call_id, device), local_connection_state=state)


# --- parsing -------------------------------------------------------------------------


def test_defaults_and_global_options():
    args = cli.parse_args(["snapshot", "2001"])
    assert (args.host, args.port, args.encoding, args.timeout) == ("127.0.0.1", 1040, "xml", 10.0)
    args = cli.parse_args(["--host", "cc1", "--port", "2040", "--encoding", "ber", "--timeout", "2.5",
                           "hold", "2001", "1:1"])
    assert (args.host, args.port, args.encoding, args.timeout) == ("cc1", 2040, "ber", 2.5)
    assert (args.command, args.device, args.call_id) == ("hold", "2001", "1:1")


def test_watch_is_monitor():
    args = cli.parse_args(["watch", "2001", "2002", "--count", "3", "--duration", "1.5"])
    assert (args.command, args.devices, args.count, args.duration) == ("monitor", ["2001", "2002"], 3, 1.5)
    assert cli.parse_args(["monitor", "2001"]).count is None


@pytest.mark.parametrize("command", ["answer", "clear", "hold", "retrieve"])
def test_call_id_is_optional(command):
    assert cli.parse_args([command, "2002"]).call_id is None


def test_transfer_forms():
    args = cli.parse_args(["transfer", "2001", "1:1", "1:2"])
    assert (args.call_ids, args.to) == (["1:1", "1:2"], None)
    args = cli.parse_args(["transfer", "2001", "1:1", "--to", "2003"])
    assert (args.call_ids, args.to) == (["1:1"], "2003")
    assert cli.parse_args(["transfer", "2001", "--to", "2003"]).call_ids == []


@pytest.mark.parametrize("argv", [
    [],
    ["bogus"],
    ["monitor"],
    ["monitor", "2001", "--count", "0"],
    ["makecall", "2001"],
    ["transfer", "2001", "1:1"],
    ["transfer", "2001", "1:1", "1:2", "--to", "2003"],
    ["--encoding", "json", "snapshot", "2001"],
    ["--timeout", "-1", "snapshot", "2001"],
])
def test_bad_usage_exits_2_with_argparse_message(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        cli.parse_args(argv)
    assert exited.value.code == cli.EXIT_USAGE == 2
    err = capsys.readouterr().err
    assert re.match(r"usage: csta-cli.*\ncsta-cli( [a-z-]+)?: error: ", err, re.S), err
    assert "Traceback" not in err


# --- event lines -------------------------------------------------------------------------


def test_delivered_line():
    event = m.DeliveredEvent(cross_ref_id="0002", connection=conn("1:1", "2002"), alerting_device="2002",
                             calling_device="2001", called_device="2002", local_connection_info="alerting",
                             cause="newCall")
    assert cli.format_event(event, "2002") == (
        "2002 Delivered         call=1:1 alerting=2002 calling=2001 called=2002 state=alerting cause=newCall"
    )


def test_line_starts_with_local_time():
    event = m.CallClearedEvent(cross_ref_id="1", cleared_call=m.ConnectionID(call_id="1:1"), cause="normalClearing")
    when = time.mktime((2026, 11, 24, 14, 3, 7, 0, 0, -1)) + 0.251
    assert cli.format_event(event, "2002", when) == "14:03:07.251 2002 CallCleared       call=1:1 cause=normalClearing"


def test_connection_cleared_names_the_dropped_party():
    event = m.ConnectionClearedEvent(cross_ref_id="1", dropped_connection=conn("1:1", "2002"),
                                     releasing_device="2002", local_connection_info="null",
                                     cause="switchingFunctionTerminated")
    assert cli.format_event(event, "2002") == (
        "2002 ConnectionCleared call=1:1 dropped=2002 releasing=2002 state=null cause=switchingFunctionTerminated"
    )


def test_unknown_devices_are_left_out_and_device_falls_back():
    event = m.EstablishedEvent(cross_ref_id="1", established_connection=conn("1:1", "2002"), answering_device="2002",
                               calling_device=None, called_device="2002", local_connection_info="connected",
                               cause="newCall")
    assert cli.format_event(event, None) == (
        "? Established       call=1:1 answering=2002 called=2002 state=connected cause=newCall"
    )


def test_transferred_line_shows_both_old_calls_and_the_new_one():
    event = m.TransferredEvent(
        cross_ref_id="1", primary_old_call=conn("1:1", "2001"), secondary_old_call=conn("1:2", "2001"),
        transferring_device="2001", transferred_to_device="2003",
        transferred_connections=(m.ConnectionListItem(new_connection=conn("1:3", "2002"), endpoint="2002"),),
        local_connection_info="null", cause="transfer",
    )
    assert cli.format_event(event, "2001") == (
        "2001 Transferred       call=1:1 secondary=1:2 new-call=1:3 transferring=2001 to=2003 state=null cause=transfer"
    )


def test_digits_generated_line_has_no_state_or_cause():
    event = m.DigitsGeneratedEvent(cross_ref_id="1", connection=conn("1:1", "2001"), digit_generated_list="12#")
    assert cli.format_event(event, "2001") == "2001 DigitsGenerated   call=1:1 digits=12#"


def test_every_event_class_has_a_device_table():
    events = {cls for cls in m.all_message_classes() if m.INFO[cls].kind is m.MessageKind.EVENT}
    assert events == set(cli.EVENT_DEVICES)


# --- snapshots and call selection --------------------------------------------------------


def test_format_snapshot():
    assert cli.format_snapshot(()) == ["idle"]
    assert cli.format_snapshot((item("1:1", "connected"), item("1:2", "hold"))) == ["1:1 connected", "1:2 hold"]
    assert cli.format_snapshot((item("1:1", None),)) == ["1:1 ?"]


CALLS = [("1:1", "hold"), ("1:2", "connected"), ("1:3", "alerting")]


def test_select_call_by_command():
    assert cli.select_call("2001", CALLS, cli.IMPLIED_CALL["answer"]) == "1:3"
    assert cli.select_call("2001", CALLS, cli.IMPLIED_CALL["retrieve"]) == "1:1"
    assert cli.select_call("2001", CALLS, cli.IMPLIED_CALL["hold"]) == "1:2"
    assert cli.select_call("2001", CALLS, cli.IMPLIED_CALL["clear"]) == "1:2"


def test_an_only_call_is_the_active_one_whatever_its_state():
    assert cli.select_call("2002", [("1:1", "alerting")], cli.ACTIVE) == "1:1"
    with pytest.raises(cli.CallSelectionError):
        cli.select_call("2002", [("1:1", "alerting")], cli.ACTIVE, only_call_will_do=False)


def test_select_call_errors_are_clear():
    with pytest.raises(cli.CallSelectionError, match="^no call at 2001$"):
        cli.select_call("2001", [], cli.ALERTING)
    with pytest.raises(cli.CallSelectionError, match=r"^no held call at 2001 \(calls: 1:2 connected, 1:3 alerting\)$"):
        cli.select_call("2001", CALLS[1:], cli.HELD)
    with pytest.raises(cli.CallSelectionError,
                       match=r"^2 active calls at 2001 \(1:1 connected, 1:2 connected\): give the call id$"):
        cli.select_call("2001", [("1:1", "connected"), ("1:2", "connected")], cli.ACTIVE)


# --- error lines --------------------------------------------------------------------------


def test_request_words():
    assert cli.request_words(cli.parse_args(["hold", "2001"]), "1:1") == "hold 2001 1:1"
    assert cli.request_words(cli.parse_args(["transfer", "2001", "--to", "2003"]), "1:1") == "transfer 2001 1:1 --to 2003"
    assert cli.request_words(cli.parse_args(["transfer", "2001", "1:1", "1:2"]), "1:1", "1:2") == "transfer 2001 1:1 1:2"
    assert cli.request_words(cli.parse_args(["watch", "2001", "2002"])) == "monitor 2001 2002"
    assert cli.request_words(cli.parse_args(["makecall", "2001", "2002"])) == "makecall 2001 2002"


def test_describe_failure():
    error = CSTAErrorResponse(m.CSTAError(category="stateIncompatibility", value="invalidConnectionState"))
    assert cli.describe_failure(error, 10) == "stateIncompatibility/invalidConnectionState"
    assert cli.describe_failure(DeferredTimeoutError("x"), 2.5) == "no answer within 2.5 s"
    assert cli.describe_failure(ClientConnectionLost("connection lost"), 10) == "connection lost"
    assert cli.describe_failure(ValueError("odd"), 10) == "ValueError: odd"


@pytest.mark.parametrize("exc, reason", [
    (net_error.ConnectionRefusedError("Connection refused"), "connection refused"),
    (net_error.TimeoutError(), "timed out after 3 s"),
    (WaitTimeout("timed out waiting for session start"),
     "no session start (SystemStatus) within 3 s; wrong --encoding, or a TLS listener (--tls)?"),
    (net_error.DNSLookupError("x"), "unknown host"),
    (net_error.ConnectError("Network is unreachable."), "Network is unreachable"),
    (net_error.NoRouteError(), "No route to host"),
    (ClientConnectionLost("connection lost"), "closed by the server; wrong --encoding, or a TLS listener (--tls)?"),
    (ClientConnectionLost("TLS handshake failed: certificate verify failed"),
     "TLS handshake failed: certificate verify failed"),
])
def test_describe_connect_failure(exc, reason):
    assert cli.describe_connect_failure("127.0.0.1", 1040, exc, 3.0) == "cannot connect to 127.0.0.1:1040: " + reason


def test_describe_connect_failure_with_tls():
    def describe(exc):
        return cli.describe_connect_failure("h", 1, exc, 3.0, tls=True)

    assert describe(ClientConnectionLost("connection lost")) == (
        "cannot connect to h:1: closed by the server; is TLS on at the listener (tls = true)?")
    assert describe(WaitTimeout("x")) == "cannot connect to h:1: no session start (SystemStatus) within 3 s; wrong --encoding?"


# --- the demo's pure parts ------------------------------------------------------------------


def test_demo_config_is_the_embedded_default_on_free_ports():
    config = demo.demo_config()
    assert config.simulator.enabled
    assert (config.csta.port, config.simulator.cti_port, config.simulator.control_port) == (0, 0, 0)
    assert config.simulator.users >= len(demo.AGENTS)


def test_demo_timeline_lines():
    assert demo.format_line(1.23456, "call 1:1") == "+  1.235s  call 1:1"
    assert demo.format_line(0, "LMS", indent=1) == "+  0.000s      LMS"


def test_demo_lms_text_omits_the_iso_time():
    events = []
    lms.emit(Logger(observer=events.append), lms.CALL_PARTY_NOT_SYNCHRONIZED,
             device="2002", call_id="1:1", party="callhalf-2:1")
    assert demo.lms_text(events[0]) == (
        "Std 37205 Call party not synchronized: device 2002, call 1:1, party callhalf-2:1, cleared"
    )


def test_tls_options():
    args = cli.build_parser().parse_args(["--tls-ca", "ca.pem", "system-status"])
    assert (args.tls, args.tls_ca) == (False, "ca.pem")
    assert cli.build_parser().parse_args(["--tls", "system-status"]).tls


def test_an_unusable_tls_ca_is_a_usage_error(tmp_path):
    pytest.importorskip("OpenSSL", reason="TLS needs pyOpenSSL (twisted[tls])")
    from twisted.internet.testing import MemoryReactorClock

    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    for path, words in ((str(tmp_path / "missing.pem"), "No such file"), (str(bad), "")):
        with pytest.raises(cli.CommandFailed) as raised:
            cli.session_endpoint(MemoryReactorClock(), "127.0.0.1", 1040, 3.0, path)
        assert raised.value.code == cli.EXIT_USAGE
        assert str(raised.value).startswith("csta-cli: --tls-ca %s: cannot be used: %s" % (path, words))
        assert "\n" not in str(raised.value)


def test_tls_failures_are_described_in_a_few_words():
    SSL = pytest.importorskip("OpenSSL.SSL", reason="TLS needs pyOpenSSL (twisted[tls])")
    from twisted.internet import error
    from twisted.python.failure import Failure

    from csta_connector.csta.client import describe_lost

    failure = Failure(SSL.Error([("SSL routines", "", "certificate verify failed")]))
    assert describe_lost(failure) == "TLS handshake failed: certificate verify failed"
    assert describe_lost(Failure(error.ConnectionDone())) == "connection lost"
    assert describe_lost(Failure(ValueError("odd."))) == "connection lost: odd"


# --- monitor on a Clock: no polling, four ways to stop ---------------------------------------


class ShutdownClock(Clock):
    """A Clock with the system event triggers ``monitor`` uses for Ctrl-C."""

    def __init__(self):
        super().__init__()
        self.triggers = []

    def addSystemEventTrigger(self, phase, event_type, callable_):
        assert (phase, event_type) == ("before", "shutdown")
        self.triggers.append(callable_)
        return callable_

    def removeSystemEventTrigger(self, trigger):
        self.triggers.remove(trigger)


class Running:
    """A csta-cli command running against a client on a StringTransport whose
    session started; the test answers as the server."""

    def __init__(self, *argv):
        self.reactor = ShutdownClock()
        self.client = CSTAClientProtocol(self.reactor, timeout=10.0)
        self.transport = StringTransport()
        self.client.makeConnection(self.transport)
        self.server = XmlWire()
        self.client.dataReceived(self.server.request(self.server.next_invoke_id(), m.SystemStatus(status="normal")))
        self.out, self.err = io.StringIO(), io.StringIO()
        self.args = cli.parse_args(list(argv))
        self.result = []


class Monitoring(Running):
    """``csta-cli monitor``."""

    def __init__(self, *argv):
        super().__init__("monitor", *argv)
        args = self.args
        defer.ensureDeferred(cli.cmd_monitor(self.reactor, self.client, args, self.out, self.err)).addBoth(
            self.result.append)
        for n, device in enumerate(args.devices, 1):
            (request,) = [i for i in self.server.feed(self.transport.value()) if i.kind is Kind.REQUEST]
            self.transport.clear()
            assert request.message == m.MonitorStart(device=device)
            self.client.dataReceived(self.server.result(request.invoke_id, m.MonitorStartResponse(cross_ref_id="%06d" % n)))

    def event(self, cross_ref_id="000001", device="2001"):
        self.client.dataReceived(self.server.event(m.HeldEvent(
            cross_ref_id=cross_ref_id, held_connection=m.ConnectionID(call_id="1:1", device_id=device),
            holding_device=device, local_connection_info="hold", cause="normal")))

    def printed(self):
        return [line.split(" ", 2)[1:] for line in self.out.getvalue().splitlines()]

    def leftovers(self):
        """Timers and waits the command left behind."""
        return self.reactor.getDelayedCalls(), self.client.events.waiting


def test_monitor_prints_each_event_as_it_comes_and_stops_at_count():
    run = Monitoring("2001", "2002", "--count", "3")
    assert run.err.getvalue() == "monitoring 2001 2002; Ctrl-C to stop\n"
    run.event("000002", "2002")
    assert run.printed() == [["2002", "Held              call=1:1 holding=2002 state=hold cause=normal"]]
    run.event()
    assert run.result == []
    run.event()
    run.event()  # one more than asked for
    assert run.result == [None] and len(run.printed()) == 3
    assert run.leftovers() == ([], 0) and run.reactor.triggers == []


def test_monitor_stops_at_the_end_of_its_duration():
    run = Monitoring("2001", "--duration", "5")
    run.event()
    run.reactor.advance(4.9)
    assert run.result == [] and run.client.events.waiting == 1
    run.reactor.advance(0.1)
    assert run.result == [None] and len(run.printed()) == 1
    assert run.leftovers() == ([], 0) and run.reactor.triggers == []


def test_monitor_stops_on_ctrl_c_and_holds_the_shutdown_until_it_has():
    run = Monitoring("2001", "--duration", "60")
    (on_shutdown,) = run.reactor.triggers
    finished = on_shutdown()
    assert run.result == [None] and finished.called
    assert run.leftovers() == ([], 0)


def test_monitor_on_a_lost_connection_is_one_error_line():
    run = Monitoring("2001")
    run.event()
    run.client.connectionLost(Failure(net_error.ConnectionLost()))
    (failure,) = run.result
    assert failure.check(cli.CommandFailed) and str(failure.value) == "monitor 2001: connection lost"
    assert len(run.printed()) == 1
    assert run.leftovers() == ([], 0) and run.reactor.triggers == []


def test_agent_state_command_and_its_lines():
    args = cli.parse_args(["agent-state", "2002"])
    assert (args.command, args.device, args.state) == ("agent-state", "2002", None)
    args = cli.parse_args(["agent-state", "2002", "notReady", "--code", "LUNCH", "--group", "5001"])
    assert (args.state, args.code, args.group) == ("notReady", "LUNCH", "5001")
    assert cli.request_words(args) == "agent-state 2002 notReady"
    response = m.GetAgentStateResponse(
        agent_state_list=(m.AgentStateEntry(agent_id="2002@x", logged_on=True, agent_info=(
            m.AgentInfo(acd_group="5001", agent_state="agentNotReady"), m.AgentInfo(agent_state="agentNotReady"))),),
        extensions=m.make_extensions(unavailableCode="LUNCH"),
    )
    assert cli.format_agent_state(response) == [
        "2002@x logged-on group=5001 state=agentNotReady code=LUNCH", "2002@x logged-on state=agentNotReady code=LUNCH"]
    off = m.GetAgentStateResponse(agent_state_list=(m.AgentStateEntry(agent_id="2002@x", logged_on=False),))
    assert cli.format_agent_state(off) == ["2002@x logged-off"]


def test_agent_state_takes_the_ecma_states_only(capsys):
    with pytest.raises(SystemExit) as info:
        cli.parse_args(["agent-state", "2002", "busy"])
    assert info.value.code == 2
    assert "invalid choice: 'busy'" in capsys.readouterr().err


class Routing(Running):
    """``csta-cli route``; the test plays the connector."""

    def __init__(self, *argv):
        super().__init__("route", *argv)
        defer.ensureDeferred(cli.cmd_route(self.reactor, self.client, self.args, self.out, self.err)).addBoth(
            self.result.append)
        (request,) = self.received()
        assert request.message == m.RouteRegister(routeing_device=self.args.device)
        self.client.dataReceived(self.server.result(request.invoke_id, m.RouteRegisterResponse(route_register_req_id="7")))

    def received(self):
        items = [i for i in self.server.feed(self.transport.value()) if i.kind is Kind.REQUEST]
        self.transport.clear()
        return items

    def send(self, message):
        self.client.dataReceived(self.server.request(self.server.next_invoke_id(), message))

    def printed(self):
        return [line.split(" ", 1)[1] for line in self.out.getvalue().splitlines()]


def route_request(xref, call_id="1:1"):
    return m.RouteRequest(routing_cross_ref_id=xref, route_register_req_id="7", current_route="6001",
                          calling_device="2001", routed_call=m.ConnectionID(call_id=call_id, device_id="6001"))


def test_route_answers_every_route_request_with_the_destination_and_prints_the_dialogue():
    run = Routing("6001", "--to", "2003", "--count", "2")
    assert run.err.getvalue() == "routeing 6001 to 2003 (registration 7); Ctrl-C to stop\n"
    run.send(route_request("R1"))
    (select,) = run.received()
    assert select.message == m.RouteSelectRequest(routing_cross_ref_id="R1", route_selected="2003", route_used_req=True)
    run.send(m.RouteUsedRequest(routing_cross_ref_id="R1", route_used="2003"))
    run.send(m.RouteEndRequest(routing_cross_ref_id="R1"))
    run.send(route_request("R2", "2:1"))
    run.send(m.ReRouteRequest(routing_cross_ref_id="R2"))
    assert [i.message.route_selected for i in run.received()] == ["2003", "2003"]
    error = m.CSTAError(category="operation", value="invalidRouteingCrossRefID")
    run.client.dataReceived(run.server.error(select.invoke_id + 2, error))  # the last select refused
    run.send(m.RouteEndRequest(routing_cross_ref_id="R2", error_value=m.CSTAError(
        category="operation", value="invalidDestination")))
    (cancel,) = run.received()
    assert cancel.message == m.RouteRegisterCancel(route_register_req_id="7")
    run.client.dataReceived(run.server.result(cancel.invoke_id, m.RouteRegisterCancelResponse()))
    assert run.result == [None]
    assert run.printed() == [
        "6001 RouteRequest      route=R1 call=1:1 calling=2001",
        "6001 RouteSelect       route=R1 call=1:1 to=2003",
        "6001 RouteUsed         route=R1 call=1:1 used=2003",
        "6001 RouteEnd          route=R1 call=1:1 result=ok",
        "6001 RouteRequest      route=R2 call=2:1 calling=2001",
        "6001 RouteSelect       route=R2 call=2:1 to=2003",
        "6001 ReRoute           route=R2 call=2:1",
        "6001 RouteSelect       route=R2 call=2:1 to=2003",
        "6001 RouteSelect       route=R2 call=2:1 to=2003 refused: operation/invalidRouteingCrossRefID",
        "6001 RouteEnd          route=R2 call=2:1 error=operation/invalidDestination",
    ]
    assert run.reactor.getDelayedCalls() == [] and run.reactor.triggers == []


def test_route_fails_when_its_registration_is_aborted_and_stops_on_ctrl_c():
    run = Routing("6001", "--to", "2003")
    run.send(m.RouteRegisterAbort(route_register_req_id="7"))
    (failure,) = run.result
    assert failure.check(cli.CommandFailed) and str(failure.value) == "route 6001: registration 7 aborted by the connector"
    run = Routing("6001", "--to", "2003", "--duration", "60")
    (on_shutdown,) = run.reactor.triggers
    finished = on_shutdown()
    assert finished.called and [i.message for i in run.received()] == [m.RouteRegisterCancel(route_register_req_id="7")]


def test_route_needs_a_destination(capsys):
    with pytest.raises(SystemExit) as info:
        cli.parse_args(["route", "6001"])
    assert info.value.code == 2 and "--to" in capsys.readouterr().err
