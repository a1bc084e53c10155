# -*- test-case-name: tests.integration.test_cli_demo -*-
"""``csta-connector-demo``: the AS-failover story, told as a timeline (SPEC §2, §6).

Starts the embedded default in-process on free loopback ports (the BroadWorks
simulator and the connector linked to it), connects a CSTA client as a
contact-centre server would, and then:

1. monitors the agents 2001-2008;
2. sets up four calls: 2001->2002 and 2003->2004 answered, 2005->2006
   alerting, 2007->2008 answered then held;
3. kills the Application Server (ungraceful failover): the calls become
   orphans the peer AS knows nothing of;
4. the peer AS's unsolicited CallSubscriptionEvent clears the stuck parties of
   the answering agents 2002, 2004, 2008 (ConnectionCleared + LMS 37205);
5. the first of them is a sign of the failover (LMS 37230): the connector
   refreshes 2001, 2003, 2005, 2006, 2007 by itself, which clears the rest —
   the originators' and the alerting call's parties — with no SnapshotDevice
   from the client (the proactive resync, SPEC §6.1; LMS 37231);
6. call control on an orphaned call is refused: the connector holds it no more;
7. every agent is idle and the connector's call model is empty;
8. a new call 2001->2002 works on the peer AS.

then the queue scene (SPEC §10): the call center 5001 monitored by the
client and by a supervisor's client in the other encoding, agent 2009 made
ready (SetAgentState), a call queued and distributed to it and not to
2010, a second call left waiting, the Application Server killed again (the
peer AS says nothing about queues), a SnapshotDevice of 5001 clearing the
stuck queued call (the supervisor sees ConnectionCleared, LMS 37205), and a
new call distributed on the peer AS;

then the routeing scene (SPEC §10.4): the client registers as the routeing
server of route point 6001 (RouteRegister; the application controller is set
ready), a call to 6001 is Queued and asked of it (RouteRequest), hears
ringback (PlayMessage -> PlayEvent), is routed to agent 2009 (RouteSelect ->
RoutePointDistributeCallRequest; StopEvent distributed, Delivered, Diverted,
RouteUsed, RouteEnd); a second call waits for its route when the Application
Server is killed a third time, and a SnapshotDevice of 6001 clears it (the
routeing client gets ConnectionCleared and RouteEnd with an error, LMS 37205).

Every step is checked and every wait is bounded: the exit status is 0 when
the story ran as expected, 1 with one line naming the failed step otherwise.
"""

from __future__ import annotations

import argparse
import sys

from twisted.internet import defer, task
from twisted.logger import globalLogPublisher

from csta_connector import lms
from csta_connector.cli import CommandFailed, event_connection, format_event, open_session
from csta_connector.config import parse_config
from csta_connector.csta import messages as m
from csta_connector.csta.client import CSTAErrorResponse
from csta_connector.simulator.control_client import ControlClient
from csta_connector.waiting import Observations as Waitable, WaitTimeout

AGENTS = tuple(str(n) for n in range(2001, 2009))
# (caller, callee, what happens to the call before the failover)
CALLS = (
    ("2001", "2002", "answered"),
    ("2003", "2004", "answered"),
    ("2005", "2006", "alerting"),
    ("2007", "2008", "held"),
)
# Whose stuck parties the unsolicited resync clears: the agents that answered
# a call they received. BroadWorks says nothing of the others; the
# connector's proactive resync asks for them.
RESYNCED = ("2002", "2004", "2008")
PROACTIVE = ("2001", "2003", "2005", "2006", "2007")
# The queue scene: the call center, its ready agent, an agent signed out, callers
QUEUE = "5001"
READY_AGENT = "2009"
SIGNED_OUT_AGENT = "2010"
QUEUE_CALLERS = ("2011", "2012", "2013")
# The routeing scene: the route point, its callers, the application controller
ROUTE_POINT = "6001"
ROUTE_CALLERS = ("2014", "2015")
APP_CONTROLLER = "csta-connector-demo"

STEP_TIMEOUT = 5.0  # no single wait of the story takes anywhere near this
RESYNC_DELAY = 0.2  # [simulator] resync-delay below
STOP_TIMEOUT = 3.0
STUCK_CAUSE = "switchingFunctionTerminated"


class StepFailed(Exception):
    def __init__(self, step: str, detail: str):
        super().__init__("%s: %s" % (step, detail))
        self.step = step
        self.detail = detail


# The embedded default on free loopback ports, tuned so the story takes
# seconds: the peer AS resynchronizes after 0.2 s (the real platform: about a
# second), a lost link is reopened after 0.2 s, a silent client is XML after 0.3 s.
DEMO_CONFIG = """\
[Connector]
link-recovery-tout = 0.2
app-controller = {app_controller}

[csta]
port = {csta_port}
bind = 127.0.0.1
encoding = {encoding}
detect-timeout = 0.3

[simulator]
enabled = true
cti-port = 0
xsi-port = 0
control-port = 0
users = {users}
resync-delay = {resync_delay}
"""
DEMO_SOURCE = "<csta-connector-demo>"


def demo_config(encoding: str = "auto", csta_port: int = 0):
    """The demo's configuration (:data:`DEMO_CONFIG`), read as a file would be;
    ``csta_port`` 0 is any free port."""
    text = DEMO_CONFIG.format(
        encoding=encoding, users=max(len(AGENTS), 20), csta_port=csta_port, resync_delay=RESYNC_DELAY,
        app_controller=APP_CONTROLLER,
    )
    return parse_config(text, DEMO_SOURCE)


# --- pure presentation ---------------------------------------------------------------


def format_line(elapsed: float, text: str, indent: int = 0) -> str:
    """A timeline line: relative seconds, then the text (``+  1.234s  text``)."""
    return "+%7.3fs  %s%s" % (elapsed, "    " * indent, text)


def lms_text(event) -> str:
    """``Std 37205 Call party not synchronized: ...`` (the timeline has its own clock)."""
    return "%s %d %s" % (
        lms.LEVEL_ABBREVIATIONS[lms.lms_level_of(event)], lms.lms_id_of(event), lms.event_text(event)
    )


class Timeline:
    """Prints the story with times relative to its start."""

    def __init__(self, clock, out, quiet=False):
        self.clock = clock
        self.out = out
        self.quiet = quiet
        self.start = clock.seconds()

    def elapsed(self) -> float:
        return self.clock.seconds() - self.start

    def say(self, text: str, indent: int = 0):
        if not self.quiet:
            self.out.write(format_line(self.elapsed(), text, indent) + "\n")
            self.out.flush()


class LmsCapture(Waitable):
    """The LMS events of interest, as twisted.logger observers see them."""

    def __init__(self, clock, ids=(lms.CALL_PARTY_NOT_SYNCHRONIZED.id,)):
        super().__init__(clock)
        self.ids = frozenset(ids)

    def __call__(self, event):
        if event.get("lms_id") in self.ids:
            self.add(event)

    def parties(self):
        return [(e["device"], e["call_id"], e["party"]) for e in self.items]


# --- the story -------------------------------------------------------------------------


async def bounded(reactor, name, awaitable, timeout=STEP_TIMEOUT):
    """Await a Deferred or coroutine for at most ``timeout`` s; any failure
    fails step ``name``."""
    d = awaitable if isinstance(awaitable, defer.Deferred) else defer.ensureDeferred(awaitable)
    d.addTimeout(timeout, reactor)
    try:
        return await d
    except defer.TimeoutError:
        raise StepFailed(name, "no result within %g s" % timeout)
    except WaitTimeout as exc:
        # its message goes on to list the items seen: the first clause says it
        raise StepFailed(name, str(exc).split(";")[0])
    except StepFailed:
        raise
    except Exception as exc:
        raise StepFailed(name, str(exc) or type(exc).__name__)


class Story:
    def __init__(self, reactor, connector, client, control, timeline, captured, failover_lines,
                 supervisor=None):
        self.reactor = reactor
        self.connector = connector
        self.client = client
        #: a second CSTA client (the other encoding) watching the queue
        self.supervisor = supervisor
        self.supervisor_xref = None
        self.user_parties_cleared = 0
        self.route_points_cleared = 0
        self.control = control
        self.say = timeline.say
        self.captured = captured  # LMS 37205
        self.failover_lines = failover_lines  # LMS 37230, 37231
        self.xrefs: dict[str, str] = {}
        self.device_of: dict[str, str] = {}
        self.calls: dict[str, str] = {}  # caller -> call id

    # helpers ----------------------------------------------------------------------

    def step(self, name, awaitable, timeout=STEP_TIMEOUT):
        return bounded(self.reactor, name, awaitable, timeout)

    def events_at(self, device, kind=None, call_id=None):
        xref = self.xrefs[device]
        found = []
        for event in self.client.events.items:
            if event.cross_ref_id != xref or (kind is not None and not isinstance(event, kind)):
                continue
            connection = event_connection(event)
            if call_id is not None and (connection is None or connection.call_id != call_id):
                continue
            found.append(event)
        return found

    def wait_event(self, step, device, kind, call_id=None):
        what = "%s at %s" % (kind.__name__, device)
        return self.step(step, self.client.events.wait_for(
            lambda items: self.events_at(device, kind, call_id), STEP_TIMEOUT, what))

    def event_line(self, event):
        return format_event(event, self.device_of.get(event.cross_ref_id))

    def check(self, step, condition, detail):
        if not condition:
            raise StepFailed(step, detail)

    # the steps ----------------------------------------------------------------------

    async def monitor_agents(self):
        step = "monitor agents"
        for device in AGENTS:
            response = await self.step(step, self.client.request(m.MonitorStart(device=device)))
            self.xrefs[device] = response.cross_ref_id
            self.device_of[response.cross_ref_id] = device
        self.say("agents %s-%s monitored (MonitorStart x%d)" % (AGENTS[0], AGENTS[-1], len(AGENTS)))

    async def set_up_calls(self):
        step = "set up calls"
        for caller, callee, outcome in CALLS:
            placed = await self.step(step, self.control.place_call(caller, callee))
            call_id = self.calls[caller] = placed["extTrackingId"]
            await self.wait_event(step, callee, m.DeliveredEvent, call_id)
            if outcome in ("answered", "held"):
                await self.step(step, self.control.user_action(callee, "answer"))
                await self.wait_event(step, caller, m.EstablishedEvent, call_id)
            if outcome == "held":
                await self.step(step, self.control.user_action(callee, "hold"))
                await self.wait_event(step, callee, m.HeldEvent, call_id)
            text = {"answered": "answered", "alerting": "alerting (not answered)",
                    "held": "answered, then held by %s" % callee}[outcome]
            self.say("call %-5s %s -> %s  %s" % (call_id, caller, callee, text))
        parties = len(self.connector.core.model)
        self.check(step, parties == 2 * len(CALLS), "the connector holds %d call parties, expected %d"
                   % (parties, 2 * len(CALLS)))
        self.say("the connector's model: %d call parties at %d agents" % (parties, len(AGENTS)))

    async def kill_application_server(self):
        step = "kill the Application Server"
        await self.step(step, self.control.failover("ungraceful"))
        status = await self.step(step, self.control.status())
        self.check(step, status.get("active_as") == "secondary",
                   "the simulator still runs on the %s AS" % status.get("active_as"))
        self.say("*** Application Server killed (ungraceful failover): the peer AS takes over; "
                 "%d calls orphaned, media only, no call control" % status.get("orphaned_calls", 0))

    def stuck_of(self, devices):
        """(call id, device) of every pre-failover party of ``devices``."""
        return sorted((self.calls[caller], device) for caller, callee, _ in CALLS
                      for device in (caller, callee) if device in devices)

    def cleared_at(self, step, devices):
        """The ConnectionCleared events at ``devices``, each checked, as (call id, device)."""
        cleared = []
        for device in devices:
            for event in self.events_at(device, m.ConnectionClearedEvent):
                cleared.append((event.dropped_connection.call_id, event.dropped_connection.device_id))
                self.check(step, event.cause == STUCK_CAUSE, "ConnectionCleared at %s has cause %s"
                           % (device, event.cause))
        return sorted(cleared)

    def logged_at(self, devices):
        return [e for e in self.captured.items if e["device"] in devices]

    async def unsolicited_resync(self):
        step = "unsolicited synchronization"
        expected = self.stuck_of(RESYNCED)
        for device in RESYNCED:
            await self.wait_event(step, device, m.ConnectionClearedEvent)
        await self.step(step, self.captured.wait_for(
            lambda items: len(self.logged_at(RESYNCED)) >= len(RESYNCED), STEP_TIMEOUT,
            "LMS 37205 x%d" % len(RESYNCED)))
        self.say("the peer AS sends unsolicited CallSubscriptionEvents for %s; the connector synchronizes:"
                 % ", ".join(RESYNCED))
        for device in RESYNCED:
            for event in self.events_at(device, m.ConnectionClearedEvent):
                self.say(self.event_line(event), 1)
        for event in self.logged_at(RESYNCED):
            self.say(lms_text(event), 1)
        cleared = self.cleared_at(step, RESYNCED)
        self.check(step, cleared == expected, "cleared %s, expected %s" % (cleared, expected))
        stuck = sorted((c, d) for d, c, _ in self.captured.parties() if d in RESYNCED)
        self.check(step, stuck == expected, "LMS 37205 for %s, expected %s" % (stuck, expected))

    async def proactive_resync(self):
        # The answering agents' events were the sign: the connector asks
        # BroadWorks about everyone else who still holds a call.
        step = "proactive resync"
        expected = self.stuck_of(PROACTIVE)
        await self.step(step, self.failover_lines.wait_for(
            lambda items: any(e["lms_id"] == lms.PROACTIVE_RESYNC_FINISHED.id for e in items),
            STEP_TIMEOUT, "LMS 37231 (resynchronization finished)"))
        for device in PROACTIVE:
            await self.wait_event(step, device, m.ConnectionClearedEvent)

        def cleared_calls(items):
            return sorted(event_connection(e).call_id for e in items if isinstance(e, m.CallClearedEvent))

        # each call is cleared with its last party, whichever came last
        await self.step(step, self.client.events.wait_for(
            lambda items: cleared_calls(items) == sorted(self.calls.values()), STEP_TIMEOUT,
            "CallCleared for every call"))
        suspected = [e for e in self.failover_lines.items if e["lms_id"] == lms.AS_FAILOVER_SUSPECTED.id]
        finished = [e for e in self.failover_lines.items if e["lms_id"] == lms.PROACTIVE_RESYNC_FINISHED.id]
        self.check(step, len(suspected) == 1, "LMS 37230 x%d, expected one" % len(suspected))
        self.say("the connector takes it for an AS failover and refreshes by itself everyone still "
                 "holding a call (no SnapshotDevice from any client):")
        self.say(lms_text(suspected[0]), 1)
        for device in PROACTIVE:
            for event in self.events_at(device):
                if isinstance(event, (m.ConnectionClearedEvent, m.CallClearedEvent)):
                    self.say(self.event_line(event), 1)
        for event in self.logged_at(PROACTIVE):
            self.say(lms_text(event), 1)
        self.say(lms_text(finished[0]), 1)
        cleared = self.cleared_at(step, PROACTIVE)
        self.check(step, cleared == expected, "cleared %s, expected %s" % (cleared, expected))
        stuck = sorted((c, d) for d, c, _ in self.captured.parties() if d in PROACTIVE)
        self.check(step, stuck == expected, "LMS 37205 for %s, expected %s" % (stuck, expected))
        total = len(self.captured.items)
        self.check(step, total == 2 * len(CALLS), "%d LMS 37205 lines, expected one per party (%d)"
                   % (total, 2 * len(CALLS)))

    async def orphan_call_control(self):
        # The orphaned call is gone from the model: refused without asking BroadWorks.
        step = "call control on an orphaned call"
        call_id = self.calls["2001"]
        try:
            await self.client.request(m.HoldCall(connection=m.ConnectionID(call_id=call_id, device_id="2001")))
        except CSTAErrorResponse as refused:
            self.say("HoldCall %s at 2001 (orphaned call) -> error %s: the connector holds it no more"
                     % (call_id, refused))
        except Exception as exc:
            raise StepFailed(step, "HoldCall of the orphaned call %s at 2001: %s" % (call_id, exc))
        else:
            raise StepFailed(step, "HoldCall of the orphaned call %s at 2001 succeeded" % call_id)

    async def all_idle(self):
        step = "every agent idle"
        for device in AGENTS:
            response = await self.step(step, self.client.request(m.SnapshotDevice(device=device)))
            self.check(step, response.items == (), "%s still has calls" % device)
        parties = len(self.connector.core.model)
        self.check(step, parties == 0, "the connector still holds %d call parties" % parties)
        self.say("every agent idle (SnapshotDevice x%d); the connector's model is empty; "
                 "LMS 37205 x%d" % (len(AGENTS), len(self.captured.items)))

    async def new_call(self):
        step = "new call after the failover"
        response = await self.step(step, self.client.request(
            m.MakeCall(calling_device="2001", called_directory_number="2002")))
        call_id = response.calling_device_connection.call_id
        self.check(step, call_id not in self.calls.values(), "the new call reuses call id %s" % call_id)
        await self.wait_event(step, "2002", m.DeliveredEvent, call_id)
        await self.step(step, self.control.user_action("2002", "answer"))
        for device in ("2001", "2002"):
            await self.wait_event(step, device, m.EstablishedEvent, call_id)
        self.say("call %-5s 2001 -> 2002  MakeCall over CSTA, answered at 2002 - runs on the peer AS:"
                 % call_id)
        for event in self.client.events.items:
            connection = event_connection(event)
            if connection is not None and connection.call_id == call_id:
                self.say(self.event_line(event), 1)
        await self.step(step, self.client.request(m.ClearConnection(
            connection=m.ConnectionID(call_id=call_id, device_id="2001"))))
        await self.wait_event(step, "2002", m.CallClearedEvent, call_id)
        self.say("call %-5s cleared by 2001 (ClearConnection); agents idle" % call_id)

    # the queue scene ------------------------------------------------------------------

    def supervisor_events(self, kind=None):
        return [e for e in self.supervisor.events.items
                if e.cross_ref_id == self.supervisor_xref and (kind is None or isinstance(e, kind))]

    async def set_agent(self, step, state, *events):
        before = len(self.events_at(READY_AGENT))
        await self.step(step, self.client.request(m.SetAgentState(device=READY_AGENT, requested_agent_state=state)))
        await self.step(step, self.client.events.wait_for(
            lambda items: len(self.events_at(READY_AGENT)) >= before + len(events), STEP_TIMEOUT,
            "%s at %s" % ("/".join(e.__name__ for e in events), READY_AGENT)))
        got = self.events_at(READY_AGENT)[before:]
        self.check(step, [type(e) for e in got] == list(events), "SetAgentState %s: %s" % (
            state, [type(e).__name__ for e in got]))
        self.say("SetAgentState %s %s ->" % (READY_AGENT, state))
        for event in got:
            self.say(self.event_line(event), 1)

    async def queue_distribution(self):
        step = "queue: distribution"
        for device in (QUEUE, READY_AGENT, SIGNED_OUT_AGENT):
            response = await self.step(step, self.client.request(m.MonitorStart(device=device)))
            self.xrefs[device] = response.cross_ref_id
            self.device_of[response.cross_ref_id] = device
        response = await self.step(step, self.supervisor.request(m.MonitorStart(device=QUEUE)))
        self.supervisor_xref = response.cross_ref_id
        self.say("call center %s monitored (Call Center Queue), agents %s, %s monitored (Advanced Call + "
                 "Call Center Agent); a supervisor's client watches %s too" % (
                     QUEUE, READY_AGENT, SIGNED_OUT_AGENT, QUEUE))
        await self.set_agent(step, "ready", m.AgentLoggedOnEvent, m.AgentReadyEvent)
        placed = await self.step(step, self.control.place_call(QUEUE_CALLERS[0], QUEUE))
        call_id = placed["extTrackingId"]
        await self.wait_event(step, READY_AGENT, m.DeliveredEvent, call_id)
        await self.step(step, self.control.user_action(READY_AGENT, "answer"))
        await self.wait_event(step, QUEUE, m.DivertedEvent, call_id)
        await self.wait_event(step, READY_AGENT, m.AgentBusyEvent)
        self.say("call %-5s %s -> %s, queued and distributed to the Available agent:" % (
            call_id, QUEUE_CALLERS[0], QUEUE))
        for device in (QUEUE, READY_AGENT):
            for event in self.events_at(device, call_id=call_id) + self.events_at(device, m.AgentBusyEvent):
                self.say(self.event_line(event), 1)
        delivered = self.events_at(READY_AGENT, m.DeliveredEvent, call_id)[0]
        self.check(step, delivered.last_redirection_device == QUEUE,
                   "Delivered at %s names %s as the redirecting device" % (READY_AGENT, delivered.last_redirection_device))
        self.check(step, self.events_at(SIGNED_OUT_AGENT) == [], "the signed-out %s was told of the call"
                   % SIGNED_OUT_AGENT)
        self.say("%s (Sign-Out) got nothing" % SIGNED_OUT_AGENT, 1)
        await self.step(step, self.control.user_action(QUEUE_CALLERS[0], "release"))
        await self.step(step, self.client.events.wait_for(
            lambda items: len(self.events_at(READY_AGENT, m.AgentReadyEvent)) >= 2, STEP_TIMEOUT,
            "AgentReady at %s after the call" % READY_AGENT))
        self.say("call %-5s released: %s is ready again (AgentReady)" % (call_id, READY_AGENT))

    async def queue_stuck_call(self):
        step = "queue: a stuck queued call"
        await self.set_agent(step, "notReady", m.AgentNotReadyEvent)
        placed = await self.step(step, self.control.place_call(QUEUE_CALLERS[1], QUEUE))
        call_id = self.calls[QUEUE_CALLERS[1]] = placed["extTrackingId"]
        await self.wait_event(step, QUEUE, m.QueuedEvent, call_id)
        self.say("call %-5s %s -> %s waits: no agent is Available" % (call_id, QUEUE_CALLERS[1], QUEUE))
        await self.step(step, self.supervisor.events.wait_for(
            lambda items: any(e.queued_connection.call_id == call_id for e in self.supervisor_events(m.QueuedEvent)),
            STEP_TIMEOUT, "Queued at the supervisor"))
        self.user_parties_cleared = len(self.captured.items)
        before = len(self.supervisor_events())
        await self.step(step, self.control.failover("ungraceful"))
        self.say("*** Application Server killed again: the queued call is an orphan; the peer AS "
                 "sends nothing about queues")
        await task.deferLater(self.reactor, 3 * RESYNC_DELAY, lambda: None)
        self.check(step, len(self.supervisor_events()) == before,
                   "the supervisor got %s by itself" % [type(e).__name__ for e in self.supervisor_events()[before:]])
        response = await self.step(step, self.client.request(m.SnapshotDevice(device=QUEUE)))
        self.check(step, response.items == (), "SnapshotDevice %s still lists %s" % (
            QUEUE, [i.connection.call_id for i in response.items]))
        await self.step(step, self.supervisor.events.wait_for(
            lambda items: self.supervisor_events(m.CallClearedEvent), STEP_TIMEOUT, "CallCleared at the supervisor"))
        await self.step(step, self.captured.wait_for(
            lambda items: len(items) > self.user_parties_cleared, STEP_TIMEOUT, "LMS 37205 for %s" % QUEUE))
        self.say("SnapshotDevice %s (UpdateSubscriptionRequest -> ACDSubscriptionEvent) -> no calls; the "
                 "supervisor is told:" % QUEUE)
        for event in self.supervisor_events()[before:]:
            self.say(format_event(event, QUEUE), 1)
            if isinstance(event, m.ConnectionClearedEvent):
                self.check(step, event.cause == STUCK_CAUSE, "ConnectionCleared cause %s" % event.cause)
        for event in self.captured.items[self.user_parties_cleared:]:
            self.check(step, event["device"] == QUEUE, "LMS 37205 for %s" % event["device"])
            self.say(lms_text(event), 1)

    async def queue_after_failover(self):
        step = "queue: distribution on the peer AS"
        await self.set_agent(step, "ready", m.AgentReadyEvent)
        placed = await self.step(step, self.control.place_call(QUEUE_CALLERS[2], QUEUE))
        call_id = placed["extTrackingId"]
        await self.wait_event(step, READY_AGENT, m.DeliveredEvent, call_id)
        self.say("call %-5s %s -> %s, queued on the peer AS and offered to %s" % (
            call_id, QUEUE_CALLERS[2], QUEUE, READY_AGENT))
        await self.step(step, self.control.user_action(QUEUE_CALLERS[2], "release"))
        await self.wait_event(step, QUEUE, m.CallClearedEvent, call_id)

    # the routeing scene ----------------------------------------------------------------

    def route_requests(self, kind=None, cross_ref_id=None):
        return [r for r in self.client.requests.items
                if (kind is None or isinstance(r, kind))
                and (cross_ref_id is None or r.routing_cross_ref_id == cross_ref_id)]

    def wait_route(self, step, kind, cross_ref_id=None):
        return self.step(step, self.client.requests.wait_for(
            lambda items: self.route_requests(kind, cross_ref_id), STEP_TIMEOUT, kind.__name__))

    def route_line(self, message):
        from csta_connector.cli import format_route

        return format_route(message, ROUTE_POINT, self.calls.get(getattr(message, "routing_cross_ref_id", None)))

    async def routeing_dialogue(self):
        step = "routeing: a dialogue"
        response = await self.step(step, self.client.request(m.MonitorStart(device=ROUTE_POINT)))
        self.xrefs[ROUTE_POINT] = response.cross_ref_id
        self.device_of[response.cross_ref_id] = ROUTE_POINT
        response = await self.step(step, self.supervisor.request(m.MonitorStart(device=ROUTE_POINT)))
        self.supervisor_xref = response.cross_ref_id
        registered = await self.step(step, self.client.request(m.RouteRegister(routeing_device=ROUTE_POINT)))
        route_points = self.connector.core.route_points
        await self.step(step, self.wait_until(lambda: route_points.controller_state == "ready", "ready"))
        self.say("route point %s monitored (Route Point Queue); the client registers as its routeing "
                 "server (RouteRegister -> registration %s); application controller %s set ready"
                 % (ROUTE_POINT, registered.route_register_req_id, APP_CONTROLLER))
        placed = await self.step(step, self.control.place_call(ROUTE_CALLERS[0], ROUTE_POINT))
        call_id = placed["extTrackingId"]
        await self.wait_route(step, m.RouteRequest)
        request = self.route_requests(m.RouteRequest)[-1]
        xref = request.routing_cross_ref_id
        self.calls[xref] = call_id
        await self.wait_event(step, ROUTE_POINT, m.QueuedEvent, call_id)
        self.say("call %-5s %s -> %s waits for its route:" % (call_id, ROUTE_CALLERS[0], ROUTE_POINT))
        self.say(self.event_line(self.events_at(ROUTE_POINT, m.QueuedEvent, call_id)[0]), 1)
        self.say(self.route_line(request), 1)
        connection = m.ConnectionID(call_id=call_id, device_id=ROUTE_POINT)
        await self.step(step, self.client.request(m.PlayMessage(message_to_be_played="2", over_connection=connection)))
        await self.wait_event(step, ROUTE_POINT, m.PlayEvent, call_id)
        self.say("PlayMessage 2 (ringback: RoutePointPlayRingbackRequest) ->", 0)
        self.say(self.event_line(self.events_at(ROUTE_POINT, m.PlayEvent, call_id)[0]), 1)
        select = m.RouteSelectRequest(routing_cross_ref_id=xref, route_selected=READY_AGENT, route_used_req=True)
        self.client.send(select)
        await self.wait_event(step, READY_AGENT, m.DeliveredEvent, call_id)
        await self.step(step, self.control.user_action(READY_AGENT, "answer"))
        await self.wait_route(step, m.RouteEndRequest, xref)
        end = self.route_requests(m.RouteEndRequest, xref)[0]
        self.check(step, end.error_value is None, "RouteEnd with %s" % (end.error_value,))
        self.say("%s (RoutePointDistributeCallRequest), answered at %s:" % (self.route_line(select), READY_AGENT))
        for event in self.events_at(ROUTE_POINT, call_id=call_id)[2:] + self.events_at(READY_AGENT, call_id=call_id):
            self.say(self.event_line(event), 1)
        for message in self.route_requests(cross_ref_id=xref)[1:]:
            self.say(self.route_line(message), 1)
        await self.step(step, self.control.user_action(ROUTE_CALLERS[0], "release"))
        await self.wait_event(step, READY_AGENT, m.CallClearedEvent, call_id)

    async def wait_until(self, condition, what):
        deadline = self.reactor.seconds() + STEP_TIMEOUT
        while not condition():
            if self.reactor.seconds() > deadline:
                raise StepFailed("wait", "no %s within %g s" % (what, STEP_TIMEOUT))
            await task.deferLater(self.reactor, 0.02, lambda: None)

    async def routeing_stuck_call(self):
        step = "routeing: a stuck call"
        placed = await self.step(step, self.control.place_call(ROUTE_CALLERS[1], ROUTE_POINT))
        call_id = placed["extTrackingId"]
        await self.step(step, self.client.requests.wait_for(
            lambda items: any(r.routed_call.call_id == call_id for r in self.route_requests(m.RouteRequest)),
            STEP_TIMEOUT, "RouteRequest for %s" % call_id))
        request = [r for r in self.route_requests(m.RouteRequest) if r.routed_call.call_id == call_id][0]
        xref = request.routing_cross_ref_id
        self.calls[xref] = call_id
        self.say("call %-5s %s -> %s waits for its route (%s)" % (call_id, ROUTE_CALLERS[1], ROUTE_POINT, xref))
        before = len(self.captured.items)
        await self.step(step, self.control.failover("ungraceful"))
        self.say("*** Application Server killed a third time: the call at the route point is an orphan; the "
                 "peer AS sends nothing about route points")
        await task.deferLater(self.reactor, 3 * RESYNC_DELAY, lambda: None)
        self.check(step, not self.route_requests(m.RouteEndRequest, xref), "the dialogue ended by itself")
        response = await self.step(step, self.supervisor.request(m.SnapshotDevice(device=ROUTE_POINT)))
        self.check(step, response.items == (), "SnapshotDevice %s still lists %s" % (
            ROUTE_POINT, [i.connection.call_id for i in response.items]))
        await self.wait_event(step, ROUTE_POINT, m.ConnectionClearedEvent, call_id)
        await self.wait_route(step, m.RouteEndRequest, xref)
        end = self.route_requests(m.RouteEndRequest, xref)[0]
        self.check(step, end.error_value is not None, "RouteEnd without an error")
        await self.step(step, self.captured.wait_for(
            lambda items: len(items) > before, STEP_TIMEOUT, "LMS 37205 for %s" % ROUTE_POINT))
        self.say("the supervisor's SnapshotDevice %s (UpdateSubscriptionRequest -> RoutePointSubscriptionEvent) "
                 "-> no calls; the routeing client is told:" % ROUTE_POINT)
        for event in self.events_at(ROUTE_POINT, m.ConnectionClearedEvent, call_id):
            self.check(step, event.cause == STUCK_CAUSE, "ConnectionCleared cause %s" % event.cause)
            self.say(self.event_line(event), 1)
        self.say(self.route_line(end), 1)
        for event in self.captured.items[before:]:
            self.check(step, event["device"] == ROUTE_POINT, "LMS 37205 for %s" % event["device"])
            self.say(lms_text(event), 1)
        self.route_points_cleared = len(self.captured.items) - before

    async def run(self):
        await self.monitor_agents()
        await self.set_up_calls()
        await self.kill_application_server()
        await self.unsolicited_resync()
        await self.proactive_resync()
        await self.orphan_call_control()
        await self.all_idle()
        await self.new_call()
        if self.supervisor is not None:
            await self.queue_distribution()
            await self.queue_stuck_call()
            await self.queue_after_failover()
            await self.routeing_dialogue()
            await self.routeing_stuck_call()


# --- running it --------------------------------------------------------------------------


async def run_demo(reactor, encoding="xml", out=None, err=None, quiet=False, csta_port=0) -> int:
    """Tell the story; 0 when it ran as expected, 1 otherwise (one line on
    ``err``: a port that cannot be listened on is one too, naming it)."""
    from csta_connector.connector import ConnectorService

    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    timeline = Timeline(reactor, out, quiet)
    captured = LmsCapture(reactor)
    failover_lines = LmsCapture(reactor, (lms.AS_FAILOVER_SUSPECTED.id, lms.PROACTIVE_RESYNC_FINISHED.id))
    globalLogPublisher.addObserver(captured)
    globalLogPublisher.addObserver(failover_lines)
    connector = ConnectorService(demo_config(csta_port=csta_port), reactor)
    client = None
    story = None
    try:
        step = "start the embedded default"
        try:
            connector.startService()
        except Exception as exc:
            raise StepFailed(step, str(exc))
        await bounded(reactor, step, connector.started)
        await bounded(reactor, step, connector.channel_set.when_ready())
        control = ControlClient(reactor, "127.0.0.1", connector.simulator.control_port)
        timeline.say("embedded default up: BroadWorks simulator (control API 127.0.0.1:%d) + connector "
                     "(CSTA 127.0.0.1:%d), linked" % (connector.simulator.control_port, connector.csta_port))
        try:
            client = await open_session(reactor, "127.0.0.1", connector.csta_port, encoding, STEP_TIMEOUT)
        except CommandFailed as exc:
            raise StepFailed("connect the CSTA client", str(exc))
        timeline.say("CSTA client connected (%s), session started (SystemStatus %s)"
                     % ({"xml": "CSTA XML, ECMA-323", "ber": "CSTA ASN.1/BER, ECMA-285"}[encoding],
                        client.system_statuses[-1]))
        other = {"xml": "ber", "ber": "xml"}[encoding]
        try:
            supervisor = await open_session(reactor, "127.0.0.1", connector.csta_port, other, STEP_TIMEOUT)
        except CommandFailed as exc:
            raise StepFailed("connect the supervisor's CSTA client", str(exc))
        story = Story(reactor, connector, client, control, timeline, captured, failover_lines, supervisor)
        await story.run()
    except StepFailed as failed:
        err.write("demo FAILED at step '%s': %s\n" % (failed.step, failed.detail))
        return 1
    except Exception as exc:  # a bug of the demo itself: still one line
        err.write("demo FAILED: unexpected %s: %s\n" % (type(exc).__name__, exc))
        return 1
    finally:
        globalLogPublisher.removeObserver(captured)
        globalLogPublisher.removeObserver(failover_lines)
        for session in (client, story.supervisor if story is not None else None):
            if session is not None and session.transport is not None:
                session.transport.loseConnection()
        stopping = defer.ensureDeferred(_stop(connector))
        stopping.addTimeout(STOP_TIMEOUT, reactor)
        try:
            await stopping
        except Exception:
            pass  # the verdict is about the story; a slow stop changes nothing of it
    users = story.user_parties_cleared
    routed = story.route_points_cleared
    out.write("demo OK (%s, %.1f s): %d stuck call parties cleared after the AS failover "
              "(%d by the unsolicited resync, %d by the proactive resync, no snapshot), LMS 37205 x%d, "
              "every agent idle, a new call works; queue %s: a call distributed to the Available "
              "agent, %d stuck queued call cleared by SnapshotDevice after a second failover; route "
              "point %s: a call routed to %s, %d stuck call cleared by SnapshotDevice after a third "
              "failover (RouteEnd with an error)\n"
              % (encoding, timeline.elapsed(), users, len(RESYNCED), len(PROACTIVE), users,
                 QUEUE, len(captured.items) - users - routed, ROUTE_POINT, READY_AGENT, routed))
    return 0


async def _stop(connector):
    if connector.running:
        await connector.stopService()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="csta-connector-demo",
        description="Run the AS-failover story against the embedded BroadWorks simulator and print "
        "its timeline: agents monitored, calls placed and answered, the Application Server "
        "killed, the stuck calls cleared by synchronization and the proactive resync, a new call. "
        "Exit status 0 when everything happened as expected.",
    )
    parser.add_argument("--encoding", choices=("xml", "ber"), default="xml",
                        help="the CSTA client's encoding (default %(default)s)")
    parser.add_argument("--quiet", action="store_true", help="print only the verdict")
    parser.add_argument("--csta-port", type=int, default=0, metavar="PORT",
                        help="the connector's CSTA port, to watch the story with csta-cli "
                        "meanwhile (default: any free port)")
    return parser


async def _react_main(reactor, args):
    code = await run_demo(reactor, args.encoding, quiet=args.quiet, csta_port=args.csta_port)
    if code:
        raise SystemExit(code)


def main(argv=None) -> None:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    # Twisted's own log noise goes nowhere (before logging starts it writes
    # critical events to stderr); the LMS lines the story needs are captured
    # by their own observer.
    from twisted.logger import globalLogBeginner

    globalLogBeginner.beginLoggingTo([lambda event: None], redirectStandardIO=False)
    task.react(_react_main, (args,))


if __name__ == "__main__":
    main()
