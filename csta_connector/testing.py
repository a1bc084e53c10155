"""Fakes and helpers shared by the tests, the benchmarks and the demo.

Kept in the package (as ldaptor.testutil, txacme.testing) so downstream code
can reuse them; nothing here runs in production paths.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from twisted.internet import defer
from twisted.internet.protocol import ProcessProtocol
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from zope.interface import implementer

from csta_connector.csta import framing, messages as m, xml_codec
from csta_connector.csta.ber import codec as ber
from csta_connector.csta.server import CSTAServerFactory, CSTARequestError, ListenerSettings
from csta_connector.interfaces import ICSTAServices, IEventSink
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


def free_port_config(users=20, resync_delay=0.2, encoding="auto", **connector):
    """The embedded default (simulator + connector) on free loopback ports,
    tuned for seconds-long runs: links recover after 0.2 s, a silent client
    is XML after 0.3 s, the peer AS resynchronizes after ``resync_delay``.
    Shared by the integration tests, the benchmarks and the demo."""
    import dataclasses

    from csta_connector.config import default_config

    config = default_config()
    return dataclasses.replace(
        config,
        connector=dataclasses.replace(config.connector, link_recovery_tout=0.2, **connector),
        csta=dataclasses.replace(
            config.csta, port=0, bind="127.0.0.1", encoding=encoding, detect_timeout=0.3
        ),
        simulator=dataclasses.replace(
            config.simulator, cti_port=0, control_port=0, users=users, resync_delay=resync_delay
        ),
    )


# --- the CSTA side: the listener on a Clock, its fake services, csta-cli as a process ---


@implementer(ICSTAServices)
class FakeServices:
    """ICSTAServices that record sessions and requests: MonitorStart answers
    (``0000`` is an invalid device), SnapshotDevice stays pending (``pending``),
    anything else is serviceNotSupported."""

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
        self.ended = defer.Deferred()

    def outReceived(self, data):
        self.out += data

    def errReceived(self, data):
        self.err += data
        for line in data.decode().splitlines():
            self.err_lines.add(line)

    def processEnded(self, reason):
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
    captured = CapturedProcess(reactor)
    env = dict(os.environ, PYTHONPATH=str(_CHECKOUT))
    transport = reactor.spawnProcess(
        captured, sys.executable, [sys.executable, "-m", module, *args], env=env, path=str(_CHECKOUT)
    )

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
