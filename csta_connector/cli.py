# -*- test-case-name: tests.unit.test_cli,tests.integration.test_cli_demo -*-
"""``csta-cli``: an operator's CSTA client (SPEC §2).

Connects to a connector (or any CSTA server speaking ECMA-323 XML or
ECMA-285 BER on TCP), runs one command and exits::

    csta-cli monitor 2001 2002          # print events until Ctrl-C
    csta-cli makecall 2001 2002         # prints the call id
    csta-cli answer 2002                # the alerting call, found by a snapshot
    csta-cli hold 2001 1:1
    csta-cli agent-state 2002 ready     # SetAgentState; without a state: GetAgentState
    csta-cli monitor 5001               # an ACD device: Queued, Delivered, Diverted...
    csta-cli route 6001 --to 2003       # route every call of route point 6001 to 2003

Exit status: 0 success, 1 the request failed (CSTA error, no answer, no such
call), 2 bad usage, 3 the server cannot be reached. Every failure is one line
on stderr, never a traceback.

Parsing, call selection and formatting are pure functions (unit tested
without a reactor); :func:`run` is the one coroutine that talks to the
server, and :func:`main` hands it to ``task.react``.
"""

from __future__ import annotations

import argparse
import enum
import sys
import time
from typing import Iterable, Sequence

from twisted.internet import defer, error as net_error, task
from twisted.internet.endpoints import HostnameEndpoint
from twisted.python.failure import Failure

from csta_connector.csta import messages as m
from csta_connector.csta.client import (
    ClientConnectionLost,
    CSTAClientFactory,
    CSTAErrorResponse,
)
from csta_connector.waiting import WaitTimeout

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2  # argparse's own code for bad usage
EXIT_UNREACHABLE = 3

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 1040
DEFAULT_TIMEOUT = 10.0

#: SetAgentState requestedAgentState values (ECMA-285 ReqAgentState)
AGENT_STATES = m.REQUESTED_AGENT_STATES


class CallSelectionError(Exception):
    """A call id was left out and the device's snapshot does not name one."""


class SessionError(Exception):
    """The CSTA session could not be opened (refused, timed out, no SystemStatus)."""


# --- command line ------------------------------------------------------------------


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be > 0: %r" % text)
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be > 0: %r" % text)
    return value


def build_parser(prog: str = "csta-cli") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="An operator's CSTA client: monitor devices, take snapshots and "
        "control calls on a csta-connector (CSTA XML or BER over TCP).",
        epilog="When CALLID is left out it is taken from a snapshot of DEVICE: the "
        "alerting call for answer, the held call for retrieve, the only or the "
        "connected call otherwise. Exit status: 0 ok, 1 request failed, 2 bad usage, "
        "3 server unreachable.",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="connector address (default %(default)s)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="CSTA port (default %(default)s)")
    parser.add_argument(
        "--encoding", choices=("xml", "ber"), default="xml",
        help="CSTA XML (ECMA-323) or ASN.1/BER (ECMA-285) (default %(default)s)",
    )
    parser.add_argument(
        "--tls", action="store_true",
        help="connect with TLS (a listener with tls = true), verifying its certificate",
    )
    parser.add_argument(
        "--tls-ca", metavar="FILE",
        help="trust the CA certificate in FILE (PEM) instead of the system's; implies --tls",
    )
    parser.add_argument(
        "--timeout", type=_positive_float, default=DEFAULT_TIMEOUT, metavar="S",
        help="seconds to wait for the connection and for each answer (default %(default)g)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    for name, text in (("monitor", "print events of DEVICEs as they come"),
                       ("watch", "same as monitor")):
        monitor = commands.add_parser(name, help=text, description=text + "; stops on Ctrl-C, "
                                      "SIGTERM, --count or --duration")
        monitor.add_argument("devices", nargs="+", metavar="DEVICE")
        monitor.add_argument("--count", type=_positive_int, metavar="N", help="stop after N events")
        monitor.add_argument("--duration", type=_positive_float, metavar="S", help="stop after S seconds")

    snapshot = commands.add_parser("snapshot", help="print the calls at DEVICE (SnapshotDevice)")
    snapshot.add_argument("device", metavar="DEVICE")

    makecall = commands.add_parser("makecall", help="call TO from FROM; prints the call id")
    makecall.add_argument("calling", metavar="FROM")
    makecall.add_argument("called", metavar="TO")

    for name, text in (("answer", "answer the alerting call at DEVICE"),
                       ("clear", "clear DEVICE's connection (hang up)"),
                       ("hold", "put DEVICE's call on hold"),
                       ("retrieve", "retrieve DEVICE's held call")):
        command = commands.add_parser(name, help=text)
        command.add_argument("device", metavar="DEVICE")
        command.add_argument("call_id", nargs="?", metavar="CALLID")

    transfer = commands.add_parser(
        "transfer", help="transfer: HELD_CALLID ACTIVE_CALLID, or CALLID --to DEST (single step)",
        usage="%(prog)s DEVICE HELD_CALLID ACTIVE_CALLID\n       %(prog)s DEVICE [CALLID] --to DEST",
    )
    transfer.add_argument("device", metavar="DEVICE")
    transfer.add_argument("call_ids", nargs="*", metavar="CALLID")
    transfer.add_argument("--to", metavar="DEST", help="single-step transfer of CALLID to DEST")

    agent = commands.add_parser(
        "agent-state", help="print DEVICE's agent state (GetAgentState), or set it to STATE (SetAgentState)",
        description="Without STATE: the agent's state, one line per queue. With STATE (one of %s): "
        "SetAgentState; the connector refuses no transition, BroadWorks judges." % ", ".join(AGENT_STATES),
    )
    agent.add_argument("device", metavar="DEVICE")
    agent.add_argument("state", nargs="?", choices=AGENT_STATES, metavar="STATE")
    agent.add_argument("--code", metavar="CODE", help="with notReady: the BroadWorks unavailable code")
    agent.add_argument("--group", metavar="ACD", help="the ACD device (queue) the request is about")

    route = commands.add_parser(
        "route", help="route every call of the routeing device DEVICE to DEST, printing each dialogue",
        description="RouteRegister for DEVICE (a route point), then answer every RouteRequest (and "
        "ReRouteRequest) with RouteSelect to DEST, printing each message of each dialogue; stops on "
        "Ctrl-C, SIGTERM, --count or --duration, then cancels the registration.",
    )
    route.add_argument("device", metavar="DEVICE")
    route.add_argument("--to", required=True, metavar="DEST", help="where every call goes (RouteSelect)")
    route.add_argument("--count", type=_positive_int, metavar="N", help="stop after N dialogues ended")
    route.add_argument("--duration", type=_positive_float, metavar="S", help="stop after S seconds")

    commands.add_parser("system-status", help="print the server's system status")
    return parser



def parse_args(argv: Sequence[str], parser: argparse.ArgumentParser | None = None) -> argparse.Namespace:
    """The parsed command line; bad usage exits 2 with argparse's message."""
    parser = parser or build_parser()
    args = parser.parse_args(list(argv))
    if args.command == "watch":
        args.command = "monitor"
    if args.command == "transfer":
        if args.to is not None and len(args.call_ids) > 1:
            parser.error("transfer --to takes one CALLID (or none: the active call)")
        if args.to is None and len(args.call_ids) not in (0, 2):
            parser.error("transfer takes HELD_CALLID ACTIVE_CALLID, or CALLID --to DEST")
    return args


# --- pure formatting -----------------------------------------------------------------

# The devices worth a column per event type (label, attribute), in the order
# an operator reads them. ``None`` values (absent / not known) are left out.
EVENT_DEVICES: dict[type, tuple[tuple[str, str], ...]] = {
    m.ServiceInitiatedEvent: (("initiating", "initiating_device"),),
    m.OriginatedEvent: (("calling", "calling_device"), ("called", "called_device")),
    m.DeliveredEvent: (("alerting", "alerting_device"), ("calling", "calling_device"),
                       ("called", "called_device"), ("redirected-by", "last_redirection_device")),
    m.EstablishedEvent: (("answering", "answering_device"), ("calling", "calling_device"),
                         ("called", "called_device"), ("redirected-by", "last_redirection_device")),
    m.HeldEvent: (("holding", "holding_device"),),
    m.RetrievedEvent: (("retrieving", "retrieving_device"),),
    m.ConnectionClearedEvent: (("releasing", "releasing_device"),),
    m.CallClearedEvent: (),
    m.FailedEvent: (("failing", "failing_device"), ("calling", "calling_device"),
                    ("called", "called_device")),
    m.DivertedEvent: (("diverting", "diverting_device"), ("to", "new_destination"),
                      ("calling", "calling_device"), ("called", "called_device")),
    m.TransferredEvent: (("transferring", "transferring_device"), ("to", "transferred_to_device")),
    m.ConferencedEvent: (("conferencing", "conferencing_device"), ("added", "added_party")),
    m.DigitsGeneratedEvent: (("digits", "digit_generated_list"),),
    # contact centre
    m.QueuedEvent: (("queue", "queue"), ("calling", "calling_device"), ("called", "called_device"),
                    ("in-front", "calls_in_front")),
    m.CallInformationEvent: (("device", "device"), ("calling", "calling_device")),
    m.AgentBusyEvent: (("agent", "agent_device"), ("group", "acd_group")),
    m.AgentLoggedOnEvent: (("agent", "agent_device"), ("group", "acd_group")),
    m.AgentLoggedOffEvent: (("agent", "agent_device"), ("group", "acd_group")),
    m.AgentNotReadyEvent: (("agent", "agent_device"), ("group", "acd_group")),
    m.AgentReadyEvent: (("agent", "agent_device"), ("group", "acd_group")),
    m.AgentWorkingAfterCallEvent: (("agent", "agent_device"), ("group", "acd_group"),
                                   ("pending", "pending_agent_state")),
    m.PlayEvent: (("message", "message"),),
    m.StopEvent: (("message", "message"),),
    m.OutOfServiceEvent: (("device", "device"),),
    m.BackInServiceEvent: (("device", "device"),),
}

# Longest event name ("ConnectionCleared"): keeps the columns after it aligned.
_NAME_WIDTH = 17


def event_name(event) -> str:
    """``DeliveredEvent`` -> ``Delivered``."""
    name = type(event).__name__
    return name[: -len("Event")] if name.endswith("Event") else name


event_connection = m.event_connection


def _new_call_id(event) -> str | None:
    """Transferred/Conferenced: the call id the parties continue in."""
    for item in getattr(event, "transferred_connections", ()) or getattr(event, "conference_connections", ()):
        if item.new_connection is not None and item.new_connection.call_id:
            return item.new_connection.call_id
    return None


def format_clock(when: float) -> str:
    """Local wall-clock time with milliseconds: ``14:03:07.251``."""
    millis = int(round(when * 1000))
    seconds, millis = divmod(millis, 1000)
    return time.strftime("%H:%M:%S", time.localtime(seconds)) + ".%03d" % millis


def format_event(event, device: str | None, when: float | None = None) -> str:
    """One readable line per CSTA event::

        14:03:07.251 2002 Delivered         call=1:1 alerting=2002 calling=2001 called=2002 state=alerting cause=newCall

    ``device`` is the monitored device the event was reported for; ``when``
    (epoch seconds) puts the local time first, ``None`` leaves it out.
    """
    parts = [] if when is None else [format_clock(when)]
    parts.append(device or "?")
    parts.append(event_name(event).ljust(_NAME_WIDTH))
    connection = event_connection(event)
    if connection is not None and connection.call_id:
        parts.append("call=%s" % connection.call_id)
    secondary = getattr(event, "secondary_old_call", None)
    if secondary is not None and secondary.call_id:
        parts.append("secondary=%s" % secondary.call_id)
    new_call = _new_call_id(event)
    if new_call is not None and connection is not None and new_call != connection.call_id:
        parts.append("new-call=%s" % new_call)
    if isinstance(event, m.ConnectionClearedEvent) and connection is not None and connection.device_id:
        parts.append("dropped=%s" % connection.device_id)
    for label, attribute in EVENT_DEVICES.get(type(event), ()):
        value = getattr(event, attribute, None)
        if value is not None:
            parts.append("%s=%s" % (label, value))
    state = getattr(event, "local_connection_info", None)
    if state is not None:
        parts.append("state=%s" % state)
    cause = getattr(event, "cause", None)
    if cause is not None:
        parts.append("cause=%s" % cause)
    return " ".join(parts)


def snapshot_calls(items: Iterable[m.SnapshotDeviceItem]) -> list[tuple[str, str]]:
    """(call id, local connection state) of each snapshot item."""
    return [(item.connection.call_id or "?", item.local_connection_state or "?") for item in items]


def format_snapshot(items: Iterable[m.SnapshotDeviceItem]) -> list[str]:
    """``["1:1 connected", "1:2 hold"]``, or ``["idle"]`` for no calls."""
    calls = snapshot_calls(items)
    return ["%s %s" % call for call in calls] if calls else ["idle"]


class WhichCall(enum.Enum):
    """Which call a command means when its CALLID is left out; the value is
    the word in error lines, ``state`` the local connection state sought."""

    ALERTING = ("alerting", "alerting")
    HELD = ("held", "hold")
    ACTIVE = ("active", "connected")

    def __init__(self, word, state):
        self.word = word
        self.state = state

    def __str__(self):
        return self.word


ALERTING, HELD, ACTIVE = WhichCall
IMPLIED_CALL = {"answer": ALERTING, "retrieve": HELD, "clear": ACTIVE, "hold": ACTIVE}


def select_call(device: str, calls: Sequence[tuple[str, str]], which: WhichCall,
                only_call_will_do: bool = True) -> str:
    """The call id of the ``which`` call (alerting / held / active) at ``device``.

    ``calls`` are (call id, state) pairs from a snapshot. For "active" a
    device's only call is taken whatever its state (``only_call_will_do``),
    else the one connected call. Raises :class:`CallSelectionError` when
    there is none or more than one.
    """
    if not calls:
        raise CallSelectionError("no call at %s" % device)
    if which is ACTIVE and only_call_will_do and len(calls) == 1:
        return calls[0][0]
    wanted = [call_id for call_id, state in calls if state == which.state]
    if len(wanted) == 1:
        return wanted[0]
    listing = ", ".join("%s %s" % call for call in calls)
    if not wanted:
        raise CallSelectionError("no %s call at %s (calls: %s)" % (which, device, listing))
    raise CallSelectionError(
        "%d %s calls at %s (%s): give the call id" % (len(wanted), which, device, listing)
    )


def describe_failure(exc: BaseException, timeout: float) -> str:
    """The reason part of an error line, for a request that failed."""
    if isinstance(exc, CSTAErrorResponse):
        return str(exc)  # "category/value", or "rejected: ..."
    if isinstance(exc, (defer.TimeoutError, WaitTimeout)):
        return "no answer within %g s" % timeout
    if isinstance(exc, ClientConnectionLost):
        return "connection lost"
    if isinstance(exc, CallSelectionError):
        return str(exc)
    return "%s: %s" % (type(exc).__name__, exc) if str(exc) else type(exc).__name__


def describe_connect_failure(host: str, port: int, exc: BaseException, timeout: float, tls=False) -> str:
    """``cannot connect to 127.0.0.1:1040: connection refused``."""
    if isinstance(exc, net_error.ConnectionRefusedError):
        reason = "connection refused"
    elif isinstance(exc, (net_error.TimeoutError, defer.TimeoutError)):
        reason = "timed out after %g s" % timeout
    elif isinstance(exc, WaitTimeout):
        reason = "no session start (SystemStatus) within %g s; wrong --encoding%s?" % (
            timeout, "" if tls else ", or a TLS listener (--tls)")
    elif isinstance(exc, ClientConnectionLost) and str(exc) == "connection lost":
        reason = "closed by the server; " + (
            "is TLS on at the listener (tls = true)?" if tls else "wrong --encoding, or a TLS listener (--tls)?")
    elif isinstance(exc, net_error.DNSLookupError):
        reason = "unknown host"
    elif isinstance(exc, ClientConnectionLost):
        reason = str(exc) or "closed by the server"
    elif isinstance(exc, net_error.ConnectError):
        # "An error occurred while connecting: Network is unreachable.." -> the OS's words
        reason = str(exc.osError or (exc.args and exc.args[0]) or exc.__doc__ or "").strip()
        reason = reason.rstrip(".") or type(exc).__name__
    else:
        reason = str(exc).strip().rstrip(".") or type(exc).__name__
    return "cannot connect to %s:%d: %s" % (host, port, reason)


def request_words(args: argparse.Namespace, *call_ids: str | None) -> str:
    """The command as an operator would type it, for error lines: ``hold 2001 1:1``."""
    if args.command == "monitor":
        return " ".join(["monitor"] + list(args.devices))
    if args.command == "makecall":
        return "makecall %s %s" % (args.calling, args.called)
    if args.command == "system-status":
        return "system-status"
    if args.command == "agent-state":
        return " ".join(w for w in ("agent-state", args.device, args.state) if w)
    words = [args.command, args.device] + [c for c in call_ids if c]
    if getattr(args, "to", None):
        words += ["--to", args.to]
    return " ".join(words)


# --- talking to the server -------------------------------------------------------------


class CommandFailed(Exception):
    """A command failed; ``str()`` is the whole error line."""

    def __init__(self, line: str, code: int = EXIT_FAILED):
        super().__init__(line)
        self.code = code


def session_endpoint(reactor, host: str, port: int, timeout: float, tls_ca: str | None = None, use_tls=False):
    """The endpoint to the connector: plain TCP, or TLS with ``use_tls`` or a
    ``tls_ca``; an unusable CA file is a usage error."""
    if not (use_tls or tls_ca):
        return HostnameEndpoint(reactor, host, port, timeout=timeout)
    from csta_connector import tls

    try:
        return tls.client_endpoint(reactor, host, port, tls_ca, timeout)
    except ImportError as exc:
        raise CommandFailed("csta-cli: --tls needs pyOpenSSL (pip install 'twisted[tls]'): %s" % exc, EXIT_USAGE)
    except Exception as exc:  # OSError, or OpenSSL's error for a bad PEM
        raise CommandFailed("csta-cli: --tls-ca %s: cannot be used: %s" % (tls_ca, tls.why(exc)), EXIT_USAGE)


async def open_session(reactor, host: str, port: int, encoding: str, timeout: float,
                       tls_ca: str | None = None, use_tls=False):
    """Connect and complete the CSTA session start; the client protocol."""
    endpoint = session_endpoint(reactor, host, port, timeout, tls_ca, use_tls)
    client = None
    try:
        client = await endpoint.connect(CSTAClientFactory(reactor, encoding=encoding, timeout=timeout))
        if encoding == "xml":
            # Speak first: an auto-detecting listener would otherwise wait its
            # detect-timeout before it takes a silent client for XML.
            opening = client.request(m.RequestSystemStatus())
            opening.addErrback(lambda failure: None)  # the session start below tells
        await client.when_ready(timeout)
    except Exception as exc:
        if client is not None and client.transport is not None:
            client.transport.loseConnection()
        raise CommandFailed(
            describe_connect_failure(host, port, exc, timeout, tls=bool(use_tls or tls_ca)), EXIT_UNREACHABLE
        )
    return client


async def call(client, args, request, *call_ids, words=None):
    """``client.request(request)`` with failures turned into one error line
    (``words``, default the command line, then the reason)."""
    try:
        return await client.request(request)
    except Exception as exc:
        words = words or request_words(args, *call_ids)
        raise CommandFailed("%s: %s" % (words, describe_failure(exc, args.timeout)))


async def device_calls(client, args, device):
    response = await call(client, args, m.SnapshotDevice(device=device))
    return snapshot_calls(response.items)


async def implied_call(client, args, which, only_call_will_do=True):
    calls = await device_calls(client, args, args.device)
    try:
        return select_call(args.device, calls, which, only_call_will_do)
    except CallSelectionError as exc:
        raise CommandFailed("%s: %s" % (request_words(args), exc))


def _connection(call_id, device):
    return m.ConnectionID(call_id=call_id, device_id=device)


async def cmd_snapshot(reactor, client, args, out):
    response = await call(client, args, m.SnapshotDevice(device=args.device))
    for line in format_snapshot(response.items):
        out.write(line + "\n")


async def cmd_makecall(reactor, client, args, out):
    response = await call(client, args, m.MakeCall(calling_device=args.calling, called_directory_number=args.called))
    out.write("%s\n" % response.calling_device_connection.call_id)


_CALL_REQUESTS = {
    "answer": lambda connection: m.AnswerCall(connection=connection),
    "clear": lambda connection: m.ClearConnection(connection=connection),
    "hold": lambda connection: m.HoldCall(connection=connection),
    "retrieve": lambda connection: m.RetrieveCall(connection=connection),
}


async def cmd_call_control(reactor, client, args, out):
    call_id = args.call_id or await implied_call(client, args, IMPLIED_CALL[args.command])
    await call(client, args, _CALL_REQUESTS[args.command](_connection(call_id, args.device)), call_id)
    out.write("%s: ok\n" % request_words(args, call_id))


async def cmd_transfer(reactor, client, args, out):
    if args.to is not None:
        call_id = args.call_ids[0] if args.call_ids else await implied_call(client, args, ACTIVE)
        request = m.SingleStepTransferCall(active_call=_connection(call_id, args.device), transferred_to=args.to)
        response = await call(client, args, request, call_id)
        call_ids = (call_id,)
    else:
        if args.call_ids:
            held, active = args.call_ids
        else:
            calls = await device_calls(client, args, args.device)
            try:
                held = select_call(args.device, calls, HELD)
                active = select_call(args.device, calls, ACTIVE, only_call_will_do=False)
            except CallSelectionError as exc:
                raise CommandFailed("%s: %s" % (request_words(args), exc))
        request = m.TransferCall(held_call=_connection(held, args.device), active_call=_connection(active, args.device))
        response = await call(client, args, request, held, active)
        call_ids = (held, active)
    transferred = response.transferred_call.call_id if response.transferred_call else None
    out.write("%s: ok%s\n" % (request_words(args, *call_ids),
                              ", transferred call %s" % transferred if transferred else ""))


def format_agent_state(response: m.GetAgentStateResponse) -> list[str]:
    """``["2002@example.com logged-on group=5001 state=agentReady"]``: one
    line per queue of each agent."""
    lines = []
    for entry in response.agent_state_list:
        head = "%s %s" % (entry.agent_id or "?", "logged-on" if entry.logged_on else "logged-off")
        code = m.extension_value(response, m.EXT_UNAVAILABLE_CODE)
        tail = " code=%s" % code if code else ""
        for info in entry.agent_info or (None,):
            if info is None:
                lines.append(head + tail)
                continue
            group = " group=%s" % info.acd_group if info.acd_group else ""
            lines.append("%s%s state=%s%s" % (head, group, info.agent_state, tail))
    return lines


async def cmd_agent_state(reactor, client, args, out):
    if args.state is None:
        response = await call(client, args, m.GetAgentState(device=args.device, acd_group=args.group))
        for line in format_agent_state(response):
            out.write(line + "\n")
        return
    extensions = m.make_extensions(**{m.EXT_UNAVAILABLE_CODE: args.code})
    await call(client, args, m.SetAgentState(
        device=args.device, requested_agent_state=args.state, group=args.group, extensions=extensions))
    out.write("%s: ok\n" % request_words(args))


async def cmd_system_status(reactor, client, args, out):
    response = await call(client, args, m.RequestSystemStatus())
    out.write("%s\n" % response.status)


class Watching:
    """What ends a command that runs until told (monitor, route): Ctrl-C /
    SIGTERM (the reactor's shutdown waits until the command has finished
    printing), the end of ``--duration``, or the command itself; and the one
    wait for more in progress, which each stop cancels (nothing polls, no
    delayed call is left behind)."""

    def __init__(self, reactor, duration=None):
        self.reactor = reactor
        self.stopped = False
        self._shutting_down = False
        self._waiting = None
        self._finished = defer.Deferred()
        self._trigger = reactor.addSystemEventTrigger("before", "shutdown", self._on_shutdown)
        self._deadline = reactor.callLater(duration, self.stop) if duration else None

    def stop(self):
        self.stopped = True
        if self._waiting is not None:
            self._waiting.cancel()

    def _on_shutdown(self):
        self._shutting_down = True
        self.stop()
        return self._finished

    async def more(self, *watched) -> bool:
        """Wait until one of the ``(observations, seen)`` pairs holds more
        than ``seen`` items: True; False once stopped. A connection lost
        while waiting raises :class:`ClientConnectionLost`."""
        if self.stopped:
            return False
        waits = [observations.wait_for(lambda items, n=seen: len(items) > n, None, "more")
                 for observations, seen in watched]
        done = defer.Deferred(lambda d: [w.cancel() for w in waits])

        def fired(result):
            if not done.called:
                done.callback(result) if not isinstance(result, Failure) else done.errback(result)
            return None

        for wait in waits:
            wait.addBoth(fired)
        for wait in waits:
            if done.called:
                wait.cancel()
        self._waiting = done
        try:
            await done
        except defer.CancelledError:
            return False
        finally:
            self._waiting = None
            for wait in waits:
                wait.cancel()
        return True

    def close(self):
        if self._deadline is not None and self._deadline.active():
            self._deadline.cancel()
        if not self._shutting_down:
            self.reactor.removeSystemEventTrigger(self._trigger)
        self._finished.callback(None)


async def cmd_monitor(reactor, client, args, out, err=None):
    """Start a monitor per device, then print events until told to stop:
    ``--count`` events printed, ``--duration`` over, Ctrl-C / SIGTERM, or
    the connection lost (exit 1)."""
    device_of = {}
    for device in args.devices:
        response = await call(client, args, m.MonitorStart(device=device), words="monitor %s" % device)
        device_of[response.cross_ref_id] = device
    if err is not None:
        err.write("monitoring %s; Ctrl-C to stop\n" % " ".join(args.devices))
        err.flush()
    watching = Watching(reactor, args.duration)
    printed = 0
    try:
        while args.count is None or printed < args.count:
            try:
                if not await watching.more((client.events, printed)):
                    break
            except ClientConnectionLost:
                raise CommandFailed("%s: connection lost" % request_words(args))
            for event in client.events.items[printed:]:
                if args.count is not None and printed >= args.count:
                    break
                connection = event_connection(event)
                device = device_of.get(event.cross_ref_id, connection.device_id if connection else None)
                out.write(format_event(event, device, time.time()) + "\n")
                printed += 1
            out.flush()
    finally:
        watching.close()


# --- route: a routeing server that sends every call to one destination ----------------


def format_route(message, device: str, call_id: str | None, when: float | None = None) -> str:
    """One line per message of a routeing dialogue::

        14:03:07.251 6001 RouteRequest      route=R1 call=1:1 calling=2001
        14:03:07.252 6001 RouteSelect       route=R1 call=1:1 to=2003
        14:03:07.420 6001 RouteEnd          route=R1 call=1:1 error=operation/invalidDestination
    """
    name = type(message).__name__
    name = name[: -len("Request")] if name.endswith("Request") and name != "RouteRequest" else name
    parts = [] if when is None else [format_clock(when)]
    parts += [device, name.ljust(_NAME_WIDTH)]
    xref = getattr(message, "routing_cross_ref_id", None)
    if xref:
        parts.append("route=%s" % xref)
    if call_id:
        parts.append("call=%s" % call_id)
    if isinstance(message, m.RouteRequest) and message.calling_device:
        parts.append("calling=%s" % message.calling_device)
    elif isinstance(message, m.RouteSelectRequest):
        parts.append("to=%s" % message.route_selected)
    elif isinstance(message, m.RouteUsedRequest) and message.route_used:
        parts.append("used=%s" % message.route_used)
    elif isinstance(message, m.RouteEndRequest):
        error = message.error_value
        parts.append("error=%s/%s" % (error.category, error.value) if error is not None else "result=ok")
    elif isinstance(message, m.RouteRegisterAbort):
        parts.append("registration=%s" % message.route_register_req_id)
    return " ".join(parts)


async def cmd_route(reactor, client, args, out, err=None):
    """Register as DEVICE's routeing server and route every call to
    ``--to``: print each RouteRequest, the RouteSelect sent, and how the
    dialogue ends, until ``--count`` dialogues ended, ``--duration``,
    Ctrl-C / SIGTERM, or the registration is aborted (exit 1). The
    registration is cancelled before the command exits."""
    response = await call(client, args, m.RouteRegister(routeing_device=args.device),
                          words="route %s" % args.device)
    register_id = response.route_register_req_id
    if err is not None:
        err.write("routeing %s to %s (registration %s); Ctrl-C to stop\n" % (args.device, args.to, register_id))
        err.flush()
    calls = {}  # cross reference -> call id
    watching = Watching(reactor, args.duration)
    seen = refused = ended = 0
    aborted = False
    try:
        while not aborted and (args.count is None or ended < args.count):
            try:
                if not await watching.more((client.requests, seen), (client.refusals, refused)):
                    break
            except ClientConnectionLost:
                raise CommandFailed("%s: connection lost" % request_words(args))
            for message, error in client.refusals.items[refused:]:
                refused += 1
                out.write("%s refused: %s/%s\n" % (
                    format_route(message, args.device, calls.get(message.routing_cross_ref_id), time.time()),
                    error.category, error.value))
            for message in client.requests.items[seen:]:
                seen += 1
                if isinstance(message, m.RouteRequest) and message.routed_call is not None:
                    calls[message.routing_cross_ref_id] = message.routed_call.call_id
                call_id = calls.get(getattr(message, "routing_cross_ref_id", None))
                out.write(format_route(message, args.device, call_id, time.time()) + "\n")
                if isinstance(message, (m.RouteRequest, m.ReRouteRequest)):
                    select = m.RouteSelectRequest(
                        routing_cross_ref_id=message.routing_cross_ref_id, route_selected=args.to,
                        route_used_req=True,
                    )
                    client.send(select)
                    out.write(format_route(select, args.device, call_id, time.time()) + "\n")
                elif isinstance(message, m.RouteEndRequest):
                    calls.pop(message.routing_cross_ref_id, None)
                    ended += 1
                    if args.count is not None and ended >= args.count:
                        break
                elif isinstance(message, m.RouteRegisterAbort) and message.route_register_req_id == register_id:
                    aborted = True
                    break
            out.flush()
    finally:
        watching.close()
    if aborted:
        raise CommandFailed("route %s: registration %s aborted by the connector" % (args.device, register_id))
    try:
        await client.request(m.RouteRegisterCancel(route_register_req_id=register_id))
    except Exception:
        pass  # the connector drops it with the connection anyway


COMMANDS = {
    "monitor": cmd_monitor,
    "snapshot": cmd_snapshot,
    "makecall": cmd_makecall,
    "answer": cmd_call_control,
    "clear": cmd_call_control,
    "hold": cmd_call_control,
    "retrieve": cmd_call_control,
    "transfer": cmd_transfer,
    "system-status": cmd_system_status,
    "agent-state": cmd_agent_state,
    "route": cmd_route,
}


async def run(reactor, args: argparse.Namespace, out=None, err=None) -> int:
    """Run one parsed command; the exit status. Errors are one line on ``err``."""
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    client = None
    try:
        client = await open_session(reactor, args.host, args.port, args.encoding, args.timeout,
                                    args.tls_ca, args.tls)
        command = COMMANDS[args.command]
        if command in (cmd_monitor, cmd_route):
            await command(reactor, client, args, out, err)
        else:
            await command(reactor, client, args, out)
        out.flush()
        return EXIT_OK
    except CommandFailed as exc:
        err.write("%s\n" % exc)
        return exc.code
    except BrokenPipeError:
        return EXIT_OK  # `csta-cli monitor ... | head`: the reader has what it wanted
    except Exception as exc:  # never a traceback for an operator
        err.write("%s: unexpected error: %s\n" % (args.command, describe_failure(exc, args.timeout)))
        return EXIT_FAILED
    finally:
        if client is not None and client.transport is not None:
            client.transport.loseConnection()


async def _react_main(reactor, args):
    code = await run(reactor, args)
    # let loseConnection flush (a reactor stopping right away would cut it)
    await task.deferLater(reactor, 0, lambda: None)
    if code:
        raise SystemExit(code)


def _quiet_twisted_logging():
    """Send Twisted's own log events nowhere: before logging starts, Twisted
    writes critical events (tracebacks) to stderr, and an operator's tool
    prints only its own lines."""
    from twisted.logger import globalLogBeginner

    globalLogBeginner.beginLoggingTo([lambda event: None], redirectStandardIO=False)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)  # bad usage: exit 2, no reactor
    _quiet_twisted_logging()
    task.react(_react_main, (args,))


if __name__ == "__main__":
    main()
