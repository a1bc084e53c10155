# -*- test-case-name: tests.protocol.test_csta_server -*-
"""The CSTA listener: one protocol per client connection, both encodings (SPEC §5.1).

A connection starts *detecting*: its first bytes tell XML (``00 00`` + length
+ 4 digits) from BER (a 2-byte length or the ``0x26`` header, then an AARQ);
a client that sends nothing within ``detect_timeout`` is an XML client
waiting for the server's SystemStatus. From then on the connection's
:mod:`~csta_connector.csta.wire` does the encoding and this module does the
state: session start, the invoke ids of our own requests, a timeout on every
client request, dispatch of services, and the connection's end.

Session-level operations (SystemStatus, SystemRegister, RequestSystemStatus,
ECMA-354 application sessions) are answered here; every other request goes
to the services (an :class:`~csta_connector.interfaces.ICSTAServices`), whose
Deferred fires with the response message or fails with a
:class:`CSTARequestError`.
"""

from __future__ import annotations

import collections
import itertools
import uuid
from dataclasses import dataclass

from twisted.internet import defer
from twisted.internet.protocol import Factory, Protocol
from twisted.logger import Logger
from twisted.python.failure import Failure

from csta_connector import lms
from csta_connector.csta import framing, messages as m, wire as w, xml_codec

DETECTING, ASSOCIATING, RUNNING, CLOSED = "detecting", "associating", "running", "closed"


class CSTARequestError(Exception):
    """A request the services refuse, with the CSTA error to answer."""

    def __init__(self, category: str, value: str | None, detail: str = ""):
        self.error = m.CSTAError(category=category, value=value)
        super().__init__(detail or "%s/%s" % (category, value))


@dataclass(frozen=True)
class ListenerSettings:
    encoding: str = "auto"  # auto | xml | ber
    detect_timeout: float = 1.0
    ber_framing: str = framing.LENGTH2
    xml_namespace: str | None = xml_codec.DEFAULT_NAMESPACE
    request_timeout: float = 30.0


_NAMESPACES = {
    "ed2": xml_codec.ED2,
    "ed3": xml_codec.ED3,
    "ed4": xml_codec.ED4,
    "ed5": xml_codec.ED5,
    "ed6": xml_codec.ED6,
    "none": None,
}


def namespace_of(name: str | None) -> str | None:
    """The namespace URI for a ``[csta] xml-namespace`` value (ed2…ed6, none, or a URI)."""
    if name is None:
        return xml_codec.DEFAULT_NAMESPACE
    return _NAMESPACES.get(name, name)


class CSTAServerProtocol(Protocol):
    log = Logger()

    def __init__(self, factory: "CSTAServerFactory"):
        self.factory = factory
        self.clock = factory.clock
        self.settings = factory.settings
        self.services = factory.services
        self.detail = factory.detail
        self.state = DETECTING
        self.wire = None
        self.name = "client"
        self._buffer = b""
        self._detect_timer = None
        self._outgoing: dict[int, object] = {}  # our requests awaiting an answer
        self._xml_invoke_ids = itertools.cycle(range(1, 9999))
        self._pending_requests: set[defer.Deferred] = set()
        self.registered = False  # SystemRegister: wants SystemStatus updates

    # -- connection -----------------------------------------------------------

    def connectionMade(self):
        # small request/response documents must not wait for Nagle + delayed ACKs
        set_no_delay = getattr(self.transport, "setTcpNoDelay", None)
        if set_no_delay is not None:
            set_no_delay(True)
        peer = self.transport.getPeer()
        self.name = "%s:%s" % (getattr(peer, "host", "?"), getattr(peer, "port", "?"))
        self.factory.sessions.add(self)
        lms.emit(self.log, lms.CLIENT_CONNECTED, client=self.name)
        encoding = self.settings.encoding
        if encoding == "xml":
            self._start_xml("configured")
        elif encoding == "ber":
            self._start_ber(self.settings.ber_framing, "configured")
        else:
            self._detect_timer = self.clock.callLater(
                self.settings.detect_timeout, self._detect_timed_out
            )

    def connectionLost(self, reason=None):
        previous, self.state = self.state, CLOSED
        self.factory.sessions.discard(self)
        self._cancel_detect_timer()
        for timer in self._outgoing.values():
            if timer.active():
                timer.cancel()
        self._outgoing.clear()
        pending, self._pending_requests = self._pending_requests, set()
        for d in pending:
            d.cancel()
        if previous in (RUNNING, ASSOCIATING) or self.wire is not None:
            self.services.session_closed(self)
        lms.emit(
            self.log,
            lms.CLIENT_DISCONNECTED,
            client=self.name,
            reason=reason.getErrorMessage() if reason is not None else "closed",
        )

    def _close(self, why: str):
        lms.emit(self.log, lms.MALFORMED_CLIENT_FRAME, client=self.name, reason=why)
        self.state = CLOSED
        if self.transport is not None:
            self.transport.abortConnection()

    def _write(self, data: bytes | None):
        if data and self.state != CLOSED and self.transport is not None:
            if self.detail.wants(lms.CSTA_FRAME_SENT):
                lms.emit(self.log, lms.CSTA_FRAME_SENT, client=self.name, frame=self._dump(data))
            self.transport.write(data)

    def _dump(self, data: bytes) -> str:
        """A frame as a Debug line shows it: XML as text, BER in hex."""
        if isinstance(self.wire, w.XmlWire):
            return data.decode("utf-8", "backslashreplace")
        return data.hex(" ")

    # -- encoding detection -------------------------------------------------

    def _cancel_detect_timer(self):
        if self._detect_timer is not None and self._detect_timer.active():
            self._detect_timer.cancel()
        self._detect_timer = None

    def _detect_timed_out(self):
        self._detect_timer = None
        if self.state == DETECTING:
            self._start_xml("silent client")

    def _start_xml(self, how):
        self._cancel_detect_timer()
        self.wire = w.XmlWire(namespace_of(self.settings.xml_namespace))
        self.state = RUNNING
        lms.emit(self.log, lms.CLIENT_ENCODING_DETECTED, client=self.name, encoding="xml", how=how)
        self.services.session_opened(self)
        self.send_request(m.SystemStatus(status=self.factory.system_status))
        lms.emit(self.log, lms.CLIENT_SESSION_STARTED, client=self.name, encoding="xml", protocol="ECMA-323")

    def _start_ber(self, framing_mode, how):
        self._cancel_detect_timer()
        self.wire = w.BerWire(framing_mode)
        self.state = ASSOCIATING
        lms.emit(
            self.log, lms.CLIENT_ENCODING_DETECTED, client=self.name,
            encoding="ber/" + framing_mode, how=how,
        )

    # -- incoming -----------------------------------------------------------

    def dataReceived(self, data: bytes):
        if self.state == CLOSED:
            return
        if self.detail.wants(lms.CSTA_FRAME_RECEIVED):
            lms.emit(self.log, lms.CSTA_FRAME_RECEIVED, client=self.name, frame=self._dump(data))
        if self.state == DETECTING:
            self._buffer += data
            try:
                detected = framing.detect_framing(self._buffer)
            except framing.FramingError as e:
                self._close(str(e))
                return
            if detected is None:
                return
            data, self._buffer = self._buffer, b""
            if detected[0] == framing.XML:
                self._start_xml("first bytes")
            else:
                self._start_ber(detected[1], "first bytes")
        try:
            items = self.wire.feed(data)
        except framing.FramingError as e:
            self._close(str(e))
            return
        for item in items:
            if self.state == CLOSED:
                return
            try:
                self._incoming(item)
            except Exception:
                # one message we failed on must not take the connection down
                self.log.failure("Serving {client}: {kind} failed", client=self.name, kind=item.kind)

    def _incoming(self, item: w.Incoming):
        kind = item.kind
        if self.state == ASSOCIATING:
            if kind == w.ASSOCIATE:
                self._write(self.wire.associate(item.message))
                self.state = RUNNING
                self.services.session_opened(self)
                lms.emit(self.log, lms.CLIENT_SESSION_STARTED, client=self.name, encoding="ber", protocol="ECMA-285")
                self.send_request(m.SystemStatus(status=self.factory.system_status))
            else:
                self._close("BER client did not open with an AARQ")
            return
        if kind == w.REQUEST:
            self._request(item.invoke_id, item.message)
        elif kind in (w.RESULT, w.ERROR):
            timer = self._outgoing.pop(item.invoke_id, None)
            if timer is not None and timer.active():
                timer.cancel()
        elif kind == w.UNKNOWN:
            lms.emit(self.log, lms.UNSUPPORTED_CSTA_OPERATION, client=self.name, operation=item.detail)
            self._write(self.wire.unknown(item.invoke_id))
        elif kind == w.MALFORMED:
            lms.emit(
                self.log, lms.MALFORMED_CLIENT_MESSAGE, client=self.name,
                invoke_id=item.invoke_id, reason=item.detail,
            )
            if isinstance(self.wire, w.BerWire):
                self._write(self.wire.malformed(item.invoke_id, item.message))
            else:
                self._write(self.wire.malformed(item.invoke_id))
        elif kind == w.ASSOCIATE:
            self._write(self.wire.associate(item.message))  # a repeated AARQ: accept again
        elif kind == w.RELEASE:
            self.transport.loseConnection()

    # -- our requests ----------------------------------------------------------

    def _next_invoke_id(self) -> int:
        if isinstance(self.wire, w.BerWire):
            return self.wire.next_invoke_id()
        return next(self._xml_invoke_ids)

    def send_request(self, message):
        """Send a request of ours (SystemStatus); its answer is awaited briefly."""
        if self.state != RUNNING:
            return
        invoke_id = self._next_invoke_id()
        self._outgoing[invoke_id] = self.clock.callLater(
            self.settings.request_timeout, self._outgoing.pop, invoke_id, None
        )
        self._write(self.wire.request(invoke_id, message))

    def send_event(self, event):
        """Deliver one CSTA event (its cross_ref_id already set)."""
        if self.state == RUNNING:
            self.factory.events_sent[type(event).__name__] += 1
            self._write(self.wire.event(event))

    # Fan-out encodes each event once per event_key and stamps each monitor's
    # cross-reference id into the bytes (services/fanout.py).

    @property
    def event_key(self):
        return self.wire.event_key if self.state == RUNNING else None

    def encode_event(self, event) -> bytes:
        return self.wire.encode_event(event)

    def send_encoded_event(self, name: str, encoded: bytes):
        if self.state == RUNNING:
            self.factory.events_sent[name] += 1
            self._write(self.wire.event_from_encoded(encoded))

    # -- client requests -------------------------------------------------------

    def _request(self, invoke_id, message):
        started = self.clock.seconds()
        name = type(message).__name__
        if self.detail.wants(lms.CSTA_REQUEST_RECEIVED):
            lms.emit(self.log, lms.CSTA_REQUEST_RECEIVED, client=self.name, service=name, invoke_id=invoke_id)
        handler = getattr(self, "csta_" + name, None)
        if handler is not None:
            d = defer.maybeDeferred(handler, message)
        else:
            d = defer.maybeDeferred(self.services.handle, self, message)
        d.addTimeout(self.settings.request_timeout, self.clock)
        if self.factory.request_observer is not None:
            d.addBoth(self._observe, name, started)
        self._pending_requests.add(d)
        d.addBoth(self._request_done, d)
        d.addCallbacks(self._answer, self._refuse, (invoke_id,), None, (invoke_id, name))

    def _request_done(self, result, d):
        self._pending_requests.discard(d)
        return result

    def _observe(self, result, name, started):
        failure = result if isinstance(result, Failure) else None
        self.factory.request_observer(name, self.clock.seconds() - started, failure)
        return result

    def _answer(self, response, invoke_id):
        self._write(self.wire.result(invoke_id, response))

    def _refuse(self, failure, invoke_id, name):
        if self.state == CLOSED:
            return None
        if failure.check(CSTARequestError):
            error = failure.value.error
            detail = str(failure.value)
        elif failure.check(defer.TimeoutError, defer.CancelledError):
            error = m.CSTAError(category="performanceManagement", value="performanceLimitExceeded")
            detail = "no answer within %g s" % self.settings.request_timeout
        else:
            self.log.failure("Unexpected error serving {service}", failure, service=name)
            error = m.CSTAError(category="operation", value="generic")
            detail = failure.getErrorMessage()
        lms.emit(
            self.log, lms.CSTA_REQUEST_FAILED, client=self.name, service=name,
            invoke_id=invoke_id, error="%s/%s (%s)" % (error.category, error.value, detail),
        )
        self._write(self.wire.error(invoke_id, error))
        return None

    # -- session-level services -----------------------------------------------

    def csta_SystemStatus(self, message):
        return m.SystemStatusResponse()

    def csta_SystemRegister(self, message):
        self.registered = True
        return m.SystemRegisterResponse(sys_stat_register_id=self.factory.register_id(self))

    def csta_RequestSystemStatus(self, message):
        return m.RequestSystemStatusResponse(status=self.factory.system_status)

    def csta_StartApplicationSession(self, message):
        versions = message.requested_protocol_versions or ()
        version = versions[0] if versions else "http://www.ecma-international.org/standards/ecma-323/csta/ed3"
        self.application_session = uuid.uuid4().hex
        return m.StartApplicationSessionPosResponse(
            session_id=self.application_session,
            actual_protocol_version=version,
            actual_session_duration=message.requested_session_duration,
        )

    def csta_ResetApplicationSessionTimer(self, message):
        return m.ResetApplicationSessionTimerPosResponse(
            actual_session_duration=getattr(message, "requested_session_duration", None)
        )

    def csta_StopApplicationSession(self, message):
        self.clock.callLater(0, self._stop_session)
        return m.StopApplicationSessionPosResponse()

    def _stop_session(self):
        if self.transport is not None and self.state != CLOSED:
            self.transport.loseConnection()


class CSTAServerFactory(Factory):
    protocol = CSTAServerProtocol

    def __init__(self, services, clock, settings: ListenerSettings | None = None, status=None,
                 detail=lms.EVERY_LEVEL, request_observer=None):
        self.services = services
        self.clock = clock
        self.settings = settings or ListenerSettings()
        self.detail = detail  # what the log outputs write (per-frame lines only then)
        self.sessions: set[CSTAServerProtocol] = set()
        # the SystemStatus (status.py) the services set; observed, told to every session
        self.system_status = "normal" if status is None else status.status
        if status is not None:
            status.add_observer(self.set_system_status)
        #: CSTA events sent, by event type (metrics: one dict increment per event)
        self.events_sent: collections.Counter[str] = collections.Counter()
        #: optional callable(service name, seconds, Failure or None), told when
        #: a client request is answered (metrics: latency per service)
        self.request_observer = request_observer
        self._register_ids = itertools.count(1)

    def buildProtocol(self, addr):
        return self.protocol(self)

    def register_id(self, session) -> str:
        return str(next(self._register_ids))

    def set_system_status(self, status: str):
        """Tell every session (SPEC: link state toward CSTA clients)."""
        if status == self.system_status:
            return
        self.system_status = status
        lms.emit(self.log, lms.SYSTEM_STATUS_SENT, status=status, clients=len(self.sessions))
        for session in list(self.sessions):
            session.send_request(m.SystemStatus(status=status))

    log = Logger()
