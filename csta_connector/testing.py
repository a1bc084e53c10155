"""Fakes and helpers shared by the tests, the benchmarks and the demo.

Kept in the package (as ldaptor.testutil, txacme.testing) so downstream code
can reuse them; nothing here runs in production paths.
"""

from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path

from twisted.internet import defer
from twisted.internet.protocol import ProcessProtocol
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from zope.interface import implementer

from csta_connector.broadworks import requests, stream, xsi, xsp
from csta_connector.broadworks.client import BroadWorksClient
from csta_connector.csta import framing, messages as m, xml_codec
from csta_connector.csta.ber import codec as ber
from csta_connector.csta.server import CSTAServerFactory, CSTARequestError, ListenerSettings
from csta_connector.interfaces import ICSTAServices, IEventSink, ILinkListener, ISubscriptionClient
from csta_connector.waiting import Observations, WaitTimeout  # noqa: F401 (re-exported)

# The waiting primitive is a product module now (csta_connector.waiting);
# these names stay for the code that still imports them from here.
Waitable = Observations


@implementer(IEventSink)
class RecordingEventSink(Waitable):
    """An IEventSink that keeps every event, gap and link-state change."""

    def __init__(self, clock):
        super().__init__(clock)
        self.gaps = []
        self.link_states = []

    def broadworks_event(self, event):
        self.add(event)

    def broadworks_sequence_gap(self, gap):
        self.gaps.append(gap)

    def broadworks_link_state(self, up_links, total_links):
        self.link_states.append((up_links, total_links))

    def broadworks_link_recovered(self, link_name):
        self.link_states.append(("recovered", link_name))

    def of(self, user_id, event_type=None):
        return [
            e for e in self.items
            if e.target_id == user_id and (event_type is None or e.event_type == event_type)
        ]

    def types_of(self, user_id):
        return [e.event_type for e in self.items if e.target_id == user_id]


def free_port_config(users=20, resync_delay=0.2, encoding="auto", xsi_port=None,
                     protocols=("cti",), **connector):
    """The embedded default (simulator + connector) on free loopback ports,
    tuned for seconds-long runs: links recover after 0.2 s, a silent client
    is XML after 0.3 s, the peer AS resynchronizes after ``resync_delay``.
    ``protocols``: one link per entry to the simulator, ``cti`` (its CTI
    front-ends in order) or ``xsi`` (its Xsi front-end, then on a free port
    unless ``xsi_port`` says otherwise; without one there is none).
    Shared by the integration tests, the benchmarks and the demo."""
    import dataclasses

    from csta_connector.config import default_config

    config = default_config()
    (cti,) = config.links
    links = []
    for index, protocol in enumerate(protocols):
        name = "simulator" if index == 0 else "simulator-%d" % index
        if protocol == "xsi":
            links.append(dataclasses.replace(cti, name=name, protocol="xsi", hostname=None,
                                             url="http://127.0.0.1", username="csta-connector",
                                             password="secret"))
        else:
            links.append(dataclasses.replace(cti, name=name))
    if "xsi" in protocols and xsi_port is None:
        xsi_port = 0
    return dataclasses.replace(
        config,
        connector=dataclasses.replace(config.connector, link_recovery_tout=0.2, **connector),
        csta=dataclasses.replace(
            config.csta, port=0, bind="127.0.0.1", encoding=encoding, detect_timeout=0.3
        ),
        simulator=dataclasses.replace(
            config.simulator, cti_port=0, control_port=0, xsi_port=xsi_port, users=users,
            resync_delay=resync_delay,
            xsp_ports=tuple(0 for _ in range(sum(p == "cti" for p in protocols) - 1)),
        ),
        links=tuple(links),
    )


def until(reactor, predicate, timeout=10.0, what="the condition"):
    """A Deferred that fires once ``predicate()`` is true (it looks every
    10 ms, for what no observation announces); fails with
    :class:`WaitTimeout` after ``timeout`` s."""
    from twisted.internet import task

    @defer.inlineCallbacks
    def watch():
        deadline = reactor.seconds() + timeout
        while not predicate():
            if reactor.seconds() > deadline:
                raise WaitTimeout("timed out after %g s waiting for %s" % (timeout, what))
            yield task.deferLater(reactor, 0.01, lambda: None)

    return watch()


def all_links_up(reactor, channel_set, timeout=10.0):
    """A Deferred that fires once every link of ``channel_set`` is up."""
    return until(reactor, lambda: len(channel_set.up_links) == channel_set.total_links, timeout,
                 "all %d links up" % channel_set.total_links)


def running_connector(reactor, config):
    """A Deferred of a started :class:`~csta_connector.connector.ConnectorService`
    of ``config`` (an embedded simulator's), every link up, its simulator's
    control API client as ``control``."""
    from csta_connector.connector import ConnectorService
    from csta_connector.simulator.control_client import ControlClient

    @defer.inlineCallbacks
    def start():
        service = ConnectorService(config, reactor)
        service.startService()
        yield service.started
        yield all_links_up(reactor, service.channel_set)
        service.control = ControlClient(reactor, "127.0.0.1", service.simulator.control_port)
        return service

    return start()


def linked_config_text(cti_port, name="test", metrics=False) -> str:
    """The INI text of a connector (no embedded simulator) linked to a
    simulator's CTI port, on free ports: channel set ``cs-NAME``,
    application ``csta-connector-NAME`` (two connectors of different names
    are independent in BroadWorks), a ``[metrics]`` endpoint if asked."""
    text = (
        "[Connector]\nchannel-set-name = cs-%s\napplication-name = csta-connector-%s\n"
        "default-domain = example.com\nlink-recovery-tout = 0.2\n\n"
        "[link-sim]\nhostname = 127.0.0.1\nport = %s\n\n"
        "[csta]\nport = 0\ndetect-timeout = 0.3\n" % (name, name, cti_port)
    )
    return text + ("\n[metrics]\nport = 0\n" if metrics else "")


# --- the CSTA side: the listener on a Clock, its fake services, csta-cli as a process ---


@implementer(ICSTAServices)
class FakeServices:
    """ICSTAServices that record sessions and requests: MonitorStart answers
    (``0000`` is an invalid device), SnapshotDevice stays pending (``pending``),
    a RouteSelectRequest (one-way) is taken unless its crossRefIdentifier is
    ``unknown``, anything else is serviceNotSupported."""

    def __init__(self):
        self.opened, self.closed, self.requests = [], [], []
        self.pending = None

    def session_opened(self, session):
        self.opened.append(session)

    def session_closed(self, session):
        self.closed.append(session)

    def handle(self, session, request):
        self.requests.append(request)
        if isinstance(request, m.MonitorStart):
            if request.device == "0000":
                raise CSTARequestError("operation", "invalidDeviceID")
            return m.MonitorStartResponse(cross_ref_id="0001")
        if isinstance(request, m.SnapshotDevice):
            self.pending = defer.Deferred()
            return self.pending
        if isinstance(request, m.RouteSelectRequest):
            if request.routing_cross_ref_id == "unknown":
                raise CSTARequestError("operation", "invalidRouteingCrossRefID")
            return None
        raise CSTARequestError("operation", "serviceNotSupported")


class ListenerOnClock:
    """A CSTAServerFactory on a ``Clock`` with :class:`FakeServices` (or the
    services given), whose sessions are connected to StringTransports."""

    def __init__(self, encoding="auto", services=None, status=None, **settings):
        self.clock = Clock()
        self.services = services if services is not None else FakeServices()
        settings = dict(dict(detect_timeout=1.0, request_timeout=30), **settings)
        self.factory = CSTAServerFactory(
            self.services, self.clock, ListenerSettings(encoding=encoding, **settings), status
        )

    def connect(self):
        """A new session: (protocol, its StringTransport)."""
        protocol = self.factory.buildProtocol(None)
        transport = StringTransport()
        protocol.makeConnection(transport)
        return protocol, transport

    def disconnect_all(self):
        """End every session as a lost connection would; the delayed calls left
        on the clock (none, unless something leaks a timer)."""
        for session in list(self.factory.sessions):
            session.connectionLost(None)
        return self.clock.getDelayedCalls()


def xml_request(invoke_id, message, namespace=None) -> bytes:
    """An ECMA-323 frame of ``message`` (ED3 unless told) as a client sends it."""
    return framing.encode_xml_frame(invoke_id, xml_codec.encode(message, namespace or xml_codec.ED3))


def xml_frames(transport) -> list:
    """What the server wrote, decoded by the codec alone: [(invoke id,
    (message, namespace))]; the transport is cleared."""
    frames = framing.XmlFrameDecoder().feed(transport.value())
    transport.clear()
    return [(invoke_id, xml_codec.decode(body)) for invoke_id, body in frames]


def ber_apdus(transport, framing_mode="length2") -> list:
    """What the server wrote, as decoded APDUs; the transport is cleared."""
    apdus = framing.BerFrameDecoder(framing_mode).feed(transport.value())
    transport.clear()
    return [ber.decode_apdu(a) for a in apdus]


class CapturedProcess(ProcessProtocol):
    """A subprocess's stdout, stderr (also as lines one can wait for) and exit code."""

    def __init__(self, clock):
        self.out = b""
        self.err = b""
        self.err_lines = Observations(clock)
        #: stdout's complete lines, as they come (a server's LMS log)
        self.out_lines = Observations(clock)
        self.ended = defer.Deferred()
        self.end_signal = None

    def outReceived(self, data):
        start = len(self.out) - len(self.out.rpartition(b"\n")[2])
        self.out += data
        complete = self.out[start:].rpartition(b"\n")[0]
        if complete:
            for line in complete.decode("utf-8", "replace").split("\n"):
                self.out_lines.add(line)

    def errReceived(self, data):
        self.err += data
        for line in data.decode().splitlines():
            self.err_lines.add(line)

    def processEnded(self, reason):
        #: the signal that ended the process (twistd re-raises the SIGTERM it
        #: stopped cleanly on), else None; ``ended`` fires with the exit code
        self.end_signal = getattr(reason.value, "signal", None)
        self.ended.callback(reason.value.exitCode)

    @property
    def stdout_lines(self):
        return self.out.decode().splitlines()

    @property
    def stderr_lines(self):
        return self.err.decode().splitlines()


#: the checkout the package runs from (subprocesses run ``python -m`` there)
_CHECKOUT = Path(__file__).resolve().parents[1]


def spawn_module(reactor, module, *args, timeout=20.0) -> CapturedProcess:
    """Run ``python -m module args`` as an operator would; killed after
    ``timeout`` seconds if it has not ended."""
    return spawn_command(reactor, [sys.executable, "-m", module, *args], timeout=timeout)


def twistd_command(*args) -> list[str]:
    """``twistd args``: the twistd of this interpreter's environment."""
    twistd = Path(sys.executable).with_name("twistd")
    if twistd.exists():
        return [str(twistd), *args]
    return [sys.executable, "-c", "from twisted.scripts.twistd import run; run()", *args]


def spawn_twistd(reactor, *args, timeout=30.0) -> CapturedProcess:
    """Run ``twistd args`` as an operator would (this checkout's plugins);
    killed after ``timeout`` seconds if it has not ended."""
    return spawn_command(reactor, twistd_command(*args), timeout=timeout)


def spawn_command(reactor, argv, timeout=20.0, cwd=None) -> CapturedProcess:
    """Run ``argv`` (in ``cwd``, by default the checkout); killed after
    ``timeout`` seconds if it has not ended (None: never). The result's
    ``transport`` signals the process."""
    captured = CapturedProcess(reactor)
    env = dict(os.environ, PYTHONPATH=str(_CHECKOUT))
    transport = reactor.spawnProcess(
        captured, argv[0], argv, env=env, path=str(cwd or _CHECKOUT)
    )
    if timeout is None:
        return captured

    def kill_if_stuck():
        if not captured.ended.called:
            transport.signalProcess("KILL")

    timer = reactor.callLater(timeout, kill_if_stuck)

    def ended(result):
        if timer.active():
            timer.cancel()
        return result

    captured.ended.addBoth(ended)
    return captured


@defer.inlineCallbacks
def run_cli(reactor, port, *args):
    """Run csta-cli against ``port`` to the end: (exit code, stdout lines, stderr lines)."""
    captured = spawn_module(reactor, "csta_connector.cli", "--port", str(port), *args)
    code = yield captured.ended
    return code, captured.stdout_lines, captured.stderr_lines


# ---------------------------------------------------------------------------
# BroadWorks side and services


@implementer(ISubscriptionClient)
class ScriptedClient:
    """A stand-in for :class:`~csta_connector.broadworks.client.BroadWorksClient`:
    records the subscription requests; the test answers them by firing the
    returned Deferreds (:meth:`answer`, or ``requests[i][2]`` directly)."""

    subscription_expires = 3600

    def __init__(self, default_domain: str | None = None):
        self.requests = []  # (name, argument, Deferred)
        self.forgotten = []
        self.default_domain = default_domain

    # bare device ids get the default domain, as the real client gives them
    user_id = BroadWorksClient.user_id

    def forget(self, subscription_id):
        self.forgotten.append(subscription_id)

    def _request(self, name, arg):
        d = defer.Deferred()
        self.requests.append((name, arg, d))
        return d

    def subscribe(self, user_id, package=None):
        """Recorded as ("subscribe", user_id), or ("subscribe", (user_id,
        package)) for a package other than Advanced Call."""
        return self._request("subscribe", user_id if package is None else (user_id, package))

    def update_subscription(self, subscription_id):
        return self._request("update", subscription_id)

    def unsubscribe(self, subscription_id):
        return self._request("unsubscribe", subscription_id)

    # the contact centre's requests (services/contact_centre.py)

    def set_agent_state(self, agent_id, state, unavailable_code=None):
        return self._request("set_agent_state", (agent_id, state, unavailable_code))

    def get_agent_state(self, agent_id):
        """Answer with a ``xsi_contact_centre.CallCenterSettings``."""
        return self._request("get_agent_state", agent_id)

    def acd_release_call(self, call_center_id, call_id):
        return self._request("acd_release_call", (call_center_id, call_id))

    def acd_blind_transfer(self, call_center_id, call_id, address):
        return self._request("acd_blind_transfer", (call_center_id, call_id, address))

    # the route points' requests (services/route_points.py), as
    # (name, (route point, call id[, ...]))

    def route_point_distribute(self, route_point_id, call_id, agent_id):
        return self._request("route_point_distribute", (route_point_id, call_id, agent_id))

    def route_point_blind_transfer(self, route_point_id, call_id, address):
        return self._request("route_point_blind_transfer", (route_point_id, call_id, address))

    def route_point_fail(self, route_point_id, call_id):
        return self._request("route_point_fail", (route_point_id, call_id))

    def route_point_release(self, route_point_id, call_id):
        return self._request("route_point_release", (route_point_id, call_id))

    def route_point_admit(self, route_point_id, call_id, admit=True):
        return self._request("route_point_admit", (route_point_id, call_id, admit))

    def route_point_play(self, route_point_id, call_id, play):
        """Answer with the playCollectId."""
        return self._request("route_point_play", (route_point_id, call_id, play))

    def set_application_controller_state(self, controller_id, state):
        return self._request("set_application_controller_state", (controller_id, state))

    # a few call-control requests (the others are BroadWorksClient's), as
    # (name, (user_id, call_id[, address]))

    def hold(self, user_id, call_id):
        return self._request("hold", (user_id, call_id))

    def release(self, user_id, call_id, decline=False):
        return self._request("release", (user_id, call_id))

    def blind_transfer(self, user_id, call_id, address):
        return self._request("blind_transfer", (user_id, call_id, address))

    def names(self):
        """(name, argument) of every request so far."""
        return [(n, a) for n, a, _ in self.requests]

    def answer(self, index, result=None):
        self.requests[index][2].callback(result)

    def last(self, name) -> int:
        """The index of the latest request called ``name``."""
        for index in range(len(self.requests) - 1, -1, -1):
            if self.requests[index][0] == name:
                return index
        raise AssertionError("no %s request" % name)

    def answer_last(self, name, result=None):
        self.answer(self.last(name), result)

    def refuse_last(self, name, status=404, code=None):
        """The latest ``name`` request refused by BroadWorks (HTTP-like ``status``)."""
        from csta_connector.broadworks.errors import BroadWorksRequestError

        self.requests[self.last(name)][2].errback(
            BroadWorksRequestError("Request", status, "refused", error_code=code))


class RecordingSession:
    """A running CSTA session as the services see it (``name``, ``state``,
    ``wire``, ``write``): it keeps what the fan-out wrote to it, on a real
    XML wire, and decodes it (:meth:`events`)."""

    def __init__(self, name="client"):
        from csta_connector.csta.server import RUNNING
        from csta_connector.csta.wire import XmlWire

        self.name = name
        self.state = RUNNING
        self.wire = XmlWire()
        self.written = bytearray()

    def write(self, data):
        self.written += data

    def send_request(self, message):
        """A request of the connector's (the routeing dialogue's one-way ones)."""
        self.write(self.wire.request(self.wire.next_invoke_id(), message))

    def events(self) -> list:
        """The events (and the connector's requests) written since the last
        call, decoded."""
        frames = framing.XmlFrameDecoder().feed(bytes(self.written))
        self.written.clear()
        return [xml_codec.decode(body)[0] for _, body in frames]


class RecordingRouter:
    """Plays the core's part of the event path for a
    :class:`~csta_connector.services.subscriptions.SubscriptionManager`:
    routes each event as ``ConnectorCore.broadworks_event`` does (route, then
    answer the snapshot) and records where each one went."""

    def __init__(self, manager):
        self.manager = manager
        self.snapshots = []  # (user_id, event_id, requesters)
        self.events = []  # (user_id, event_id)

    def deliver(self, event) -> bool:
        """Route ``event``; False when its subscription is unknown (then the
        manager may hold it, as for the core, when a subscribe is unanswered)."""
        route = self.manager.route(event)
        if route is None:
            self.manager.held(event)
            return False
        if event.is_snapshot:
            self.snapshots.append((route.user_id, event.event_id, route.requesters))
            self.manager.answer(route, event)
        else:
            self.events.append((route.user_id, event.event_id))
        return True


class XspWire:
    """One CTI connection to the simulator's XSP server (an ``XspServer``) on a
    StringTransport, as the connector's link sees it: requests out, documents
    back, each checked by ``validator`` (the tests' bw_validator) if given."""

    def __init__(self, server, validator=None, front_end=0):
        self.server = server
        self.validator = validator
        self.protocol = server.factory(front_end).buildProtocol(None)
        self.transport = StringTransport()
        self.protocol.makeConnection(self.transport)
        self._splitter = stream.DocumentSplitter()
        self._ids = itertools.count(1)

    def documents(self):
        """Every document written since the last read, as decoded (events not acknowledged)."""
        data = self.transport.value()
        self.transport.clear()
        documents = []
        for raw in self._splitter.feed(data):
            if self.validator is not None:
                assert self.validator(raw) == [], raw
            documents.append(xsp.decode(raw))
        return documents

    def read(self):
        """Every document written since the last read, events acknowledged
        (and given as their Xsi events)."""
        documents = []
        for document in self.documents():
            if isinstance(document, xsp.Event):
                event = document.xsi_event()
                self.protocol.dataReceived(xsp.encode(xsp.EventResponse(document.request_id, event.event_id)))
                document = event
            documents.append(document)
        return documents

    def send(self, cti_request):
        """Send one request: (its response, the events that followed)."""
        request_id = str(next(self._ids))
        self.protocol.dataReceived(
            xsp.encode(xsp.Request(request_id, "S", cti_request, xsp.credentials_for("admin", "pw")))
        )
        documents = self.read()
        assert isinstance(documents[0], xsp.Response) and documents[0].request_id == request_id, documents
        return documents[0], documents[1:]

    def ok(self, cti_request):
        response, events = self.send(cti_request)
        assert response.status_code == 200, xsp.xsi_values(response.payload)
        return response, events

    def refused(self, cti_request, status):
        response, events = self.send(cti_request)
        assert response.status_code == status, (response.status_code, xsp.xsi_values(response.payload))
        assert events == []
        return xsp.xsi_values(response.payload)

    def subscribe(self, target, package, channel_set="cs"):
        response, events = self.ok(
            requests.add_user_subscription(target, channel_set, "app", 3600, event_package=package)
        )
        return xsp.xsi_values(response.payload)["subscriptionId"], events


def snapshot_event(subscription_id, event_id, event_type="CallSubscriptionEvent", seq=1):
    """A CallSubscriptionEvent (or Resync) of a subscription, listing no call."""
    return xsi.SubscriptionEvent(
        event_type, event_id, seq, "admin", "app", subscription_id, "ch", None, hook_status="On-Hook"
    )


#: the simulator clock's start in model tests (a plausible epoch)
T0 = 1_700_000_000


def subscription_event_of(notification, seq, owner="app@example.com"):
    """A simulator Notification in its subscription envelope, as the link
    delivers it (the owner is the application, the target the user)."""
    return xsi.SubscriptionEvent(
        event_type=notification.event_type,
        event_id="e%d" % seq,
        sequence_number=seq,
        user_id=owner,
        external_application_id="csta-connector",
        subscription_id="sub-" + notification.user_id,
        target_id=notification.user_id,
        call=notification.call,
        calls=notification.calls,
        conference=notification.conference,
        hook_status=notification.hook_status,
    )


def _brief_value(value):
    from csta_connector.csta import messages as m

    if isinstance(value, m.ConnectionID):
        if value.device_id is None:
            return value.call_id
        return "%s/%s" % (value.call_id, value.device_id)
    return value


def brief(event):
    """A CSTA event as (name without "Event", every scalar field but the
    cross ref id, in wire order); connections as 'callID/deviceID'."""
    from dataclasses import fields

    return (type(event).__name__[: -len("Event")],) + tuple(
        _brief_value(getattr(event, f.name))
        for f in fields(event)
        if f.name != "cross_ref_id" and not isinstance(getattr(event, f.name), tuple)
    )


class Harness:
    """The simulator's engine on a Clock feeding a CallModel (with call
    control's Expectations, as the core gives them); every change translated.
    Snapshot events are kept aside for sync tests."""

    def __init__(self, monitored=None, **engine_options):
        from csta_connector.model.calls import CallModel
        from csta_connector.services.callcontrol import Expectations
        from csta_connector.simulator.engine import CallEngine

        self.clock = Clock()
        self.clock.advance(T0)
        self.engine = CallEngine(self.clock, users=20, **engine_options)
        self.model = CallModel()
        self.expectations = Expectations()
        self.monitored = monitored  # None: every user
        self.changes = []  # (device, change)
        self.events = []  # (device, CSTA event)
        self.snapshots = []  # wrapped CallSubscription(Resync)Events
        self._seq = 0
        self.engine.add_listener(self._on_notification)

    def _on_notification(self, notification):
        from csta_connector.services.translate import translate

        self._seq += 1
        event = subscription_event_of(notification, self._seq)
        device = notification.user_id.partition("@")[0]
        if self.monitored is not None and device not in self.monitored:
            return
        if event.is_snapshot:
            self.snapshots.append(event)
            return
        for change in self.model.apply(event, expectations=self.expectations):
            self.changes.append((device, change))
            for csta in translate(change):
                self.events.append((device, csta))

    def take(self):
        """(device, brief event) since the last take."""
        out = [(device, brief(e)) for device, e in self.events]
        del self.events[:]
        return out

    def take_changes(self):
        out = list(self.changes)
        del self.changes[:]
        return out

    def snapshot_event(self, user, event_type="CallSubscriptionEvent"):
        """A CallSubscriptionEvent of the engine's current view of ``user``."""
        calls, conference, hook = self.engine.snapshot(user)
        self._seq += 1
        user_id = user if "@" in user else user + "@example.com"
        return xsi.SubscriptionEvent(
            event_type=event_type,
            event_id="e%d" % self._seq,
            sequence_number=self._seq,
            user_id="app@example.com",
            external_application_id="csta-connector",
            # the subscription of the user's call events (subscription_event_of)
            subscription_id="sub-" + user_id,
            target_id=user_id,
            calls=calls,
            conference=conference,
            hook_status=hook,
        )

    def stop(self):
        self.engine.stop()


def consult_and_answer(h: Harness):
    """2002 calls 2001, 2001 consults 2003: 2001's (held, active) parties."""
    h.engine.dial("2002", "2001")
    h.engine.answer("2001")
    h.engine.dial("2001", "2003")
    h.engine.answer("2003")
    held, active = h.model.parties_of("2001")
    return held, active


# -- Xsi events as a real XSP sends them -----------------------------------------

PARTY = xsi.RemoteParty(
    name="Agent 1", address="tel:+15550002001", user_id="2001@example.com",
    user_dn="tel:+15550002001;ext=2001", call_type="Group",
)
ALERTING = xsi.Call(
    "callhalf-3:0", "3:0", "Terminator", "Alerting", PARTY, allow_answer=True, start_time=1700000000000
)
RELEASED = xsi.Call(
    "callhalf-3:0", "3:0", "Terminator", "Released", PARTY, release_cause="Busy",
    releasing_party="remoteRelease", start_time=1, release_time=3,
)
REDIRECTED = xsi.Call(
    "callhalf-3:0", "3:0", "Terminator", "Detached", PARTY,
    redirect=xsi.Redirect("transfer", 5, "tel:2003"), start_time=1, detached_time=5,
)


def xsi_event(event_type, **data):
    """A SubscriptionEvent of user 2002's subscription ``sub-1`` (eventID
    ``ev-1``, sequence 4) carrying ``data`` (call=, calls=, hook_status= …)."""
    return xsi.SubscriptionEvent(
        event_type, "ev-1", 4, "admin@example.com", "app", "sub-1", "ch-1", "2002@example.com", **data
    )


#: One event of each form the one-pass event reader reads.
READER_EVENTS = [
    xsi_event("CallReceivedEvent", call=ALERTING),
    xsi_event("CallReleasedEvent", call=RELEASED),
    xsi_event("CallHeldEvent", call=xsi.Call(
        "c", "1:0", "Originator", "Held", PARTY, allow_retrieve=True, start_time=1, answer_time=2, held_time=3)),
    xsi_event("CallRedirectedEvent", calls=(REDIRECTED,)),
    xsi_event("CallSubscriptionEvent", calls=(ALERTING, RELEASED), hook_status="Off-Hook"),
    xsi_event("CallSubscriptionResyncEvent", hook_status="On-Hook"),
    xsi_event("HookStatusEvent", hook_status="Off-Hook"),
    xsi_event("SubscriptionTerminatedEvent"),
    xsi_event("CallAnsweredEvent", call=xsi.Call(
        "c", "1:0", "Originator", "Active", xsi.RemoteParty(), start_time=0, answer_time=0)),
]


# -- one link, with the test as its XSP ----------------------------------------------


@implementer(ILinkListener)
class RecordingListener:
    """An ILinkListener (a link's channel set) that keeps every call."""

    def __init__(self):
        self.calls = []
        self._lost_reasons = []

    def link_ready(self, link):
        self.calls.append(("ready",))

    def link_lost(self, link, reason):
        self.calls.append(("lost",))
        self._lost_reasons.append(reason)

    def event_received(self, link, event):
        self.calls.append(("event", event))

    def sequence_gap(self, link, gap):
        self.calls.append(("gap", gap))

    def channel_terminated(self, link, event):
        self.calls.append(("terminated", event))

    def events(self):
        return [c[1] for c in self.calls if c[0] == "event"]

    def lost(self):
        """The reason (a Failure) of each link_lost, in order."""
        return list(self._lost_reasons)


class Wire:
    """The XSP's view of one link on a StringTransport and a Clock: the
    documents the link wrote, decoded; documents the test sends it."""

    def __init__(self, **settings):
        from csta_connector.broadworks import stream
        from csta_connector.broadworks.link import LinkSettings, XspLinkProtocol

        self.clock = Clock()
        self.listener = RecordingListener()
        self.settings = LinkSettings("cs1", "app", name="link-1", request_timeout=5, **settings)
        self.link = XspLinkProtocol(self.settings, self.clock, self.listener)
        self.transport = StringTransport()
        self.link.makeConnection(self.transport)
        self._splitter = stream.DocumentSplitter()

    def sent(self):
        """The documents the link wrote since the last call."""
        from csta_connector.broadworks import xsp

        data = self.transport.value()
        self.transport.clear()
        return [xsp.decode(d) for d in self._splitter.feed(data)]

    def receive(self, document, byte_by_byte=False):
        from csta_connector.broadworks import xsp

        data = xsp.encode(document)
        if byte_by_byte:
            for i in range(len(data)):
                self.link.dataReceived(data[i : i + 1])
        else:
            self.link.dataReceived(data)

    def add_channel(self):
        """Answer the link's AddChannelRequest (channel ``ch-1``, 3600 s)."""
        from csta_connector.broadworks import xsp

        (request,) = self.sent()
        assert request.payload.name == "AddChannelRequest"
        self.receive(
            xsp.Response(request.request_id, request.session_id, 200, "OK",
                         xsp.xsi_element("Channel", ("channelId", "ch-1"), ("expires", 3600)))
        )
        return request

    def close(self):
        """The connection ends (as a real transport reports it, once); the
        delayed calls left on the clock, which should be none."""
        from twisted.internet.error import ConnectionDone
        from twisted.python.failure import Failure

        if self.link._connected:
            self.link.connectionLost(Failure(ConnectionDone()))
        return self.clock.getDelayedCalls()


# --- CSTA message samples of the contact centre -----------------------------------
# The contact-centre codec tests round-trip them; the BER codec test checks that
# its own samples plus these cover every message class.

C = m.ConnectionID
QUEUED = C(call_id="c1", device_id="5001")
AT_ROUTE_POINT = C(call_id="c2", device_id="6001")
BUSY = m.CSTAError(category="systemResourceAvailability", value="resourceBusy")

#: One or more filled-in examples of every contact-centre message (the BER
#: codec test checks that every class is covered by its samples plus these).
CONTACT_CENTRE_SAMPLES = [
    # agents
    m.SetAgentState(device="2002", requested_agent_state="ready"),
    m.SetAgentState(
        device="2002", requested_agent_state="notReady", agent_id="2002@example.com",
        password="secret", group="5001",
        extensions=m.make_extensions(unavailableCode="17"),
    ),
    m.SetAgentStateResponse(),
    m.SetAgentStateResponse(pending_agent_state="agentWorkingAfterCall"),
    m.GetAgentState(device="2002"),
    m.GetAgentState(device="2002", acd_group="5001"),
    m.GetAgentStateResponse(
        agent_state_list=(m.AgentStateEntry(agent_id="2002@example.com", logged_on=False),)
    ),
    m.GetAgentStateResponse(
        agent_state_list=(
            m.AgentStateEntry(
                agent_id="2002@example.com", logged_on=True,
                agent_info=(
                    m.AgentInfo(acd_group="5001", agent_state="agentNotReady",
                                pending_agent_state="agentReady",
                                agent_state_condition="other"),
                    m.AgentInfo(acd_group="5002", agent_state="agentBusy"),
                ),
            ),
            m.AgentStateEntry(logged_on=True, agent_info=(m.AgentInfo(agent_state="agentReady"),)),
        ),
        extensions=m.make_extensions(unavailableCode="Lunch"),
    ),
    m.AgentBusyEvent(cross_ref_id="7", agent_device="2002"),
    m.AgentBusyEvent(
        cross_ref_id="7", agent_device="2002", agent_id="2002@example.com", acd_group="5001",
        pending_agent_state="agentWorkingAfterCall", cause="distributed",
    ),
    m.AgentLoggedOnEvent(
        cross_ref_id="7", agent_device="2002", agent_id="2002@example.com", acd_group="5001",
        agent_password="pw", cause="normal",
    ),
    m.AgentLoggedOnEvent(cross_ref_id="7", agent_device=None),
    m.AgentLoggedOffEvent(cross_ref_id="7", agent_device="2002", acd_group="5001"),
    m.AgentNotReadyEvent(
        cross_ref_id="7", agent_device="2002", agent_id="2002@example.com",
        extensions=m.make_extensions(unavailableCode="17"),
    ),
    m.AgentReadyEvent(cross_ref_id="7", agent_device="2002", cause="normal"),
    m.AgentWorkingAfterCallEvent(cross_ref_id="7", agent_device="2002", pending_agent_state="ready"),
    # ACD
    m.QueuedEvent(
        cross_ref_id="7", queued_connection=QUEUED, queue="5001", calling_device="2001",
        called_device="5001", number_queued=2, calls_in_front=1,
        local_connection_info="queued", cause="enteringDistribution",
    ),
    m.QueuedEvent(
        cross_ref_id="7", queued_connection=QUEUED, queue="5001", calling_device=None,
        called_device="5001", last_redirection_device="2009", cause="redirected",
    ),
    m.CallInformationEvent(cross_ref_id="7", connection=QUEUED, device="5001"),
    m.CallInformationEvent(cross_ref_id="7", connection=QUEUED, device="5001", calling_device="2001"),
    # routeing
    m.RouteRegister(),
    m.RouteRegister(routeing_device="6001"),
    m.RouteRegisterResponse(route_register_req_id="rr1"),
    m.RouteRegisterCancel(route_register_req_id="rr1"),
    m.RouteRegisterCancelResponse(),
    m.RouteRegisterAbort(route_register_req_id="rr1"),
    m.RouteRequest(routing_cross_ref_id="x1", current_route="6001"),
    m.RouteRequest(
        routing_cross_ref_id="x1", route_register_req_id="rr1", current_route="6001",
        calling_device="2001", routeing_device="6001", routed_call=AT_ROUTE_POINT,
        route_sel_algorithm="aCD", priority=False, reply_timeout=10, correlator_data="cd",
    ),
    m.ReRouteRequest(routing_cross_ref_id="x1"),
    m.ReRouteRequest(routing_cross_ref_id="x1", route_register_req_id="rr1", reply_timeout=5,
                     correlator_data="cd"),
    m.RouteSelectRequest(routing_cross_ref_id="x1", route_selected="2003"),
    m.RouteSelectRequest(
        routing_cross_ref_id="x1", route_register_req_id="rr1", route_selected="+15550001234",
        remain_retries=2, route_used_req=True, correlator_data="cd",
    ),
    m.RouteUsedRequest(routing_cross_ref_id="x1", route_used="2003"),
    m.RouteUsedRequest(
        routing_cross_ref_id="x1", route_register_req_id="rr1", route_used="2003",
        calling_device="2001", domain=True, correlator_data="cd",
    ),
    m.RouteEndRequest(routing_cross_ref_id="x1"),
    m.RouteEndRequest(routing_cross_ref_id="x1", route_register_req_id="rr1", error_value=BUSY),
    m.RouteEndRequest(routing_cross_ref_id="x1", error_value=m.CSTAError(category="unspecified")),
    m.RouteReject(routing_cross_ref_id="x1"),
    m.RouteReject(routing_cross_ref_id="x1", route_register_req_id="rr1",
                  reject_cause="queueTimeOverflow", correlator_data="cd"),
    # voice unit
    m.PlayMessage(message_to_be_played="2", over_connection=AT_ROUTE_POINT),
    m.PlayMessage(
        message_to_be_played="4", over_connection=AT_ROUTE_POINT, duration=30,
        extensions=m.make_extensions(
            audioUrl=("http://media/a.wav?x=1&y=2", "http://media/b.wav"),
            videoUrl="http://media/v.mp4", collectDigits="xx#",
        ),
    ),
    m.PlayMessage(message_to_be_played="0", over_connection=AT_ROUTE_POINT,
                  extensions=m.make_extensions(busyPattern="FastBusy")),
    m.PlayMessageResponse(),
    m.PlayEvent(cross_ref_id="7", connection=AT_ROUTE_POINT, message="1"),
    m.PlayEvent(cross_ref_id="7", connection=AT_ROUTE_POINT, message="4", resource="ann",
                length=12, current_position=0, speed=100, cause="normal"),
    m.StopEvent(cross_ref_id="7", connection=AT_ROUTE_POINT, message="1", cause="timeout"),
    m.StopEvent(
        cross_ref_id="7", connection=AT_ROUTE_POINT, message="3", resource="r", length=5,
        current_position=5, cause="dTMFDigitDetected",
        extensions=m.make_extensions(collectDigits="12#"),
    ),
    # device maintenance
    m.OutOfServiceEvent(cross_ref_id="7", device="6001"),
    m.OutOfServiceEvent(cross_ref_id="7", device="6001", cause="maintenance"),
    m.BackInServiceEvent(cross_ref_id="7", device="6001", cause="normal"),
    # the queued state in a snapshot of an ACD device
    m.SnapshotDeviceResponse(
        items=(m.SnapshotDeviceItem(connection=QUEUED, local_connection_state="queued"),)
    ),
]


# --------------------------------------------------------------------------
# the contact centre end to end (tests/integration/test_contact_centre*.py,
# test_route_points.py): the embedded simulator and real CSTA clients, on the
# global reactor


#: the CSTA encodings a contact-centre test runs with, and each one's other
CSTA_ENCODINGS = ["xml", "ber"]
OTHER_ENCODING = {"xml": "ber", "ber": "xml"}
#: the peer AS's resync delay of :func:`contact_centre_config`
CONTACT_CENTRE_RESYNC_DELAY = 0.2


def contact_centre_config(connector=None, **simulator):
    """:func:`free_port_config` (``connector``: its keyword arguments, e.g.
    ``{"protocols": ("xsi",)}``) with a short wrap-up and no offer delay;
    ``simulator``: more ``[simulator]`` options."""
    import dataclasses

    config = free_port_config(resync_delay=CONTACT_CENTRE_RESYNC_DELAY, **(connector or {}))
    options = {"wrap_up_seconds": 0.4, "offer_seconds": 0.0}
    options.update(simulator)
    return dataclasses.replace(config, simulator=dataclasses.replace(config.simulator, **options))


@defer.inlineCallbacks
def start_contact_centre(config):
    """The started connector of ``config``, its link(s) ready; ``control``: its
    simulator's control API client; ``documents``: every BroadWorks document
    the simulator received ("in") or sent ("out"), on its CTI and Xsi
    front-ends alike, as (direction, bytes)."""
    from twisted.internet import reactor

    from csta_connector.connector import ConnectorService
    from csta_connector.simulator.control_client import ControlClient

    service = ConnectorService(config, reactor)
    service.startService()
    yield service.started
    yield service.channel_set.when_ready()
    service.control = ControlClient(reactor, "127.0.0.1", service.simulator.control_port)
    service.documents = []

    def record(direction, data):
        service.documents.append((direction, data))

    service.simulator.xsp.trace = record
    if service.simulator.xsi is not None:
        service.simulator.xsi.trace = record
    return service


def pause(seconds=0.15):
    """A Deferred that fires after ``seconds`` on the global reactor."""
    from twisted.internet import reactor, task

    return task.deferLater(reactor, seconds, lambda: None)


@defer.inlineCallbacks
def wait_until(value, good, what, timeout=5.0):
    """``value()`` once ``good(value())``, polling (a state, not an event)."""
    from twisted.internet import reactor

    deadline = reactor.seconds() + timeout
    while not good(value()):
        if reactor.seconds() > deadline:
            raise AssertionError("timed out waiting for " + what)
        yield pause(0.05)
    return value()


class MonitoringClient:
    """A real CSTA client (``csta.client``) and its monitors by device."""

    def __init__(self, protocol):
        self.protocol = protocol
        self.xrefs = {}

    @defer.inlineCallbacks
    def monitor(self, *devices):
        for device in devices:
            response = yield self.protocol.request(m.MonitorStart(device=device))
            self.xrefs[device] = response.cross_ref_id

    def request(self, message):
        return self.protocol.request(message)

    def of(self, device, *types):
        xref = self.xrefs[device]
        return [
            e for e in self.protocol.events.items
            if e.cross_ref_id == xref and (not types or type(e).__name__ in types)
        ]

    def names(self, device):
        return [type(e).__name__ for e in self.of(device)]

    def wait(self, device, *types, count=1, what=None):
        return self.protocol.events.wait_for(
            lambda items: len(self.of(device, *types)) >= count, timeout=5,
            what=what or "%d x %s at %s" % (count, "/".join(types), device),
        )

    def close(self):
        self.protocol.transport.loseConnection()


@defer.inlineCallbacks
def monitoring_client(connector, encoding):
    """A :class:`MonitoringClient` connected to ``connector``'s CSTA port."""
    from twisted.internet import reactor

    from csta_connector.csta.client import connect

    protocol = yield connect(reactor, "127.0.0.1", connector.csta_port, encoding)
    return MonitoringClient(protocol)


def cleared_lines(lms_lines, device):
    """(call id, party) of each stuck call cleared at ``device`` (LMS 37205)."""
    return [(e["call_id"], e["party"]) for e in lms_lines if e["lms_id"] == 37205 and e["device"] == device]
