# -*- test-case-name: tests.protocol.test_csta_server -*-
"""The CSTA listener: one protocol per client connection, both encodings (SPEC §5.1).

A connection goes through four states (:class:`SessionState`): *detecting*
(its first bytes tell XML, ``00 00`` + length + 4 digits, from BER, a 2-byte
length or the ``0x26`` header, then an AARQ; a client that sends nothing
within ``detect_timeout`` is an XML client waiting for the server's
SystemStatus), *associating* (BER: until the AARQ), *running* and *closed*.
From detection on the connection's :mod:`~csta_connector.csta.wire` does the
encoding (and numbers our own requests); this module does the state, a
timeout on every client request, dispatch of services, and the
connection's end.

Two limits keep one client from costing the connector without bound
(``[csta]`` options): a frame begun must be complete ``frame-timeout``
seconds after its first byte, as must a BER client's AARQ after it
connected; and a client that stops reading is disconnected once more than
``max-output-buffer`` bytes were written to it while its connection's send
buffer was full. The protocol is the transport's push producer: Twisted
says when that buffer is full (``pauseProducing``) and when it is empty
again (``resumeProducing``).

Session-level operations (SystemStatus, SystemRegister, RequestSystemStatus,
ECMA-354 application sessions) are answered here; every other request goes
to the services (an :class:`~csta_connector.interfaces.ICSTAServices`), whose
Deferred fires with the response message or fails with a
:class:`CSTARequestError`.
"""

from __future__ import annotations

import enum
import itertools
import uuid
from dataclasses import dataclass

from twisted.internet import defer
from twisted.internet.interfaces import IPushProducer
from twisted.internet.protocol import Factory, Protocol
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from csta_connector import lms
from csta_connector.csta import framing, messages as m, wire as w, xml_codec
from csta_connector.status import NORMAL, SystemStatus


class SessionState(enum.StrEnum):
    """Where a client connection is; the transitions are the protocol's
    ``_detected_*``, ``_associated`` and ``_closed`` methods. (Text too:
    the services compare a session's state with ``"closed"``.)"""

    DETECTING = "detecting"  # waiting for the first bytes (or the detect timeout)
    ASSOCIATING = "associating"  # BER: waiting for the AARQ
    RUNNING = "running"  # the session started: requests, responses, events
    CLOSED = "closed"  # nothing more is read or written


DETECTING, ASSOCIATING, RUNNING, CLOSED = SessionState

_TRANSITIONS = {
    DETECTING: (ASSOCIATING, RUNNING, CLOSED),
    ASSOCIATING: (RUNNING, CLOSED),
    RUNNING: (CLOSED,),
    CLOSED: (CLOSED,),
}


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
    frame_timeout: float = 5.0
    max_output_buffer: int = 4 * 1024 * 1024

    @classmethod
    def from_config(cls, config) -> "ListenerSettings":
        """The listener's settings from a loaded configuration (``[csta]``,
        and ``[connector]`` for how long a client request may take: a
        BroadWorks request plus a snapshot, and never under 30 s)."""
        csta, connector = config.csta, config.connector
        return cls(
            encoding=csta.encoding,
            detect_timeout=csta.detect_timeout,
            ber_framing=csta.ber_framing,
            xml_namespace=csta.xml_namespace,
            request_timeout=max(30.0, connector.request_timeout + connector.snapshot_timeout),
            frame_timeout=csta.frame_timeout,
            max_output_buffer=csta.max_output_buffer,
        )


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


@implementer(IPushProducer)
class CSTAServerProtocol(Protocol):
    log = Logger()

    def __init__(self, factory: "CSTAServerFactory"):
        self.factory = factory
        self.clock = factory.clock
        self.settings = factory.settings
        self.services = factory.services
        self.detail = factory.detail
        self.state = DETECTING
        self.wire = None  # the IWire of the detected encoding
        self.name = "client"
        self._buffer = b""
        self._detect_timer = None
        self._stop_timer = None  # StopApplicationSession: the close to come
        self._outgoing: dict[int, object] = {}  # our requests awaiting an answer: their timers
        self._pending_requests: set[defer.Deferred] = set()
        self.registered = False  # SystemRegister: wants SystemStatus updates
        self._frame_timer = None  # a frame begun must be complete when it fires
        self._association_timer = None  # BER: the AARQ must have come when it fires
        self._transport_full = False  # the transport said its send buffer is full
        self._written_while_full = 0

    # -- state ------------------------------------------------------------------

    def _enter(self, state: SessionState) -> SessionState:
        previous = self.state
        if state not in _TRANSITIONS[previous]:
            raise RuntimeError("session %s cannot go from %s to %s" % (self.name, previous, state))
        self.state = state
        return previous

    def _detected_xml(self, how):
        self._cancel_detect_timer()
        self.wire = w.XmlWire(namespace_of(self.settings.xml_namespace))
        self._enter(RUNNING)
        lms.emit(self.log, lms.CLIENT_ENCODING_DETECTED, client=self.name, encoding="xml", how=how)
        self.services.session_opened(self)
        self.send_request(m.SystemStatus(status=self.factory.status.status))
        lms.emit(self.log, lms.CLIENT_SESSION_STARTED, client=self.name, encoding="xml", protocol="ECMA-323")

    def _detected_ber(self, framing_mode, how):
        self._cancel_detect_timer()
        self.wire = w.BerWire(framing_mode)
        self._enter(ASSOCIATING)
        self._association_timer = self.clock.callLater(
            self.settings.frame_timeout, self._association_timed_out
        )
        lms.emit(
            self.log, lms.CLIENT_ENCODING_DETECTED, client=self.name,
            encoding="ber/" + framing_mode, how=how,
        )

    def _associated(self, request):
        self._association_timer = _cancelled(self._association_timer)
        self.write(self.wire.associate(request))
        self._enter(RUNNING)
        self.services.session_opened(self)
        lms.emit(self.log, lms.CLIENT_SESSION_STARTED, client=self.name, encoding="ber", protocol="ECMA-285")
        self.send_request(m.SystemStatus(status=self.factory.status.status))

    def _closed(self) -> SessionState:
        """Nothing more is read or written; the state before."""
        return self._enter(CLOSED)

    # -- connection -----------------------------------------------------------

    def connectionMade(self):
        # small request/response documents must not wait for Nagle + delayed ACKs
        set_no_delay = getattr(self.transport, "setTcpNoDelay", None)
        if set_no_delay is not None:
            set_no_delay(True)
        peer = self.transport.getPeer()
        self.name = "%s:%s" % (getattr(peer, "host", "?"), getattr(peer, "port", "?"))
        self.factory.sessions.add(self)
        # streaming: the transport tells when its send buffer is full and empty
        self.transport.registerProducer(self, True)
        lms.emit(self.log, lms.CLIENT_CONNECTED, client=self.name)
        encoding = self.settings.encoding
        if encoding == "xml":
            self._detected_xml("configured")
        elif encoding == "ber":
            self._detected_ber(self.settings.ber_framing, "configured")
        else:
            self._detect_timer = self.clock.callLater(
                self.settings.detect_timeout, self._detect_timed_out
            )

    def connectionLost(self, reason=None):
        self._closed()
        self.factory.sessions.discard(self)
        self._cancel_detect_timer()
        self._frame_timer = _cancelled(self._frame_timer)
        self._association_timer = _cancelled(self._association_timer)
        if self._stop_timer is not None and self._stop_timer.active():
            self._stop_timer.cancel()
        self._stop_timer = None
        for timer in self._outgoing.values():
            if timer.active():
                timer.cancel()
        self._outgoing.clear()
        pending, self._pending_requests = self._pending_requests, set()
        for d in pending:
            d.cancel()
        if self.wire is not None:
            self.services.session_closed(self)
        lms.emit(
            self.log,
            lms.CLIENT_DISCONNECTED,
            client=self.name,
            reason=reason.getErrorMessage() if reason is not None else "closed",
        )

    def _close(self, why: str):
        self._abort(lms.MALFORMED_CLIENT_FRAME, reason=why)

    def _abort(self, message, **fields):
        """Log ``message`` and drop the connection now (what it has not taken
        is discarded); connectionLost follows."""
        lms.emit(self.log, message, client=self.name, **fields)
        self._closed()
        if self.transport is not None:
            self.transport.abortConnection()

    def write(self, data: bytes | None):
        """Send bytes of this session's wire (nothing once closed)."""
        if data and self.state is not CLOSED and self.transport is not None:
            if self.detail.wants(lms.CSTA_FRAME_SENT):
                lms.emit(self.log, lms.CSTA_FRAME_SENT, client=self.name, frame=self.wire.dump(data))
            self.transport.write(data)
            if self._transport_full:
                self._written_while_full += len(data)
                if self._written_while_full > self.settings.max_output_buffer:
                    self._abort(
                        lms.CLIENT_OUTPUT_OVERFLOW, pending=self._written_while_full,
                        limit=self.settings.max_output_buffer,
                    )

    # -- IPushProducer: the transport's send buffer ---------------------------

    def pauseProducing(self):
        # the transport holds more than its buffer size: the client is not
        # reading (it may say so on every write until the buffer drains)
        self._transport_full = True

    def resumeProducing(self):
        # the transport's buffer is empty again
        self._transport_full = False
        self._written_while_full = 0

    def stopProducing(self):
        pass  # the connection is going: connectionLost does the rest

    # -- frames and the association in time ---------------------------------------

    def _buffered(self) -> int:
        """Bytes of a frame begun and not complete."""
        if self.state is DETECTING:
            return len(self._buffer)
        return self.wire.buffered if self.wire is not None else 0

    def _frame_progress(self, completed: bool):
        """After received bytes were taken: time the frame now begun (a new
        one when a frame was ``completed``), none when none is begun."""
        if self.state is CLOSED:
            return
        if not self._buffered():
            self._frame_timer = _cancelled(self._frame_timer)
        elif completed or self._frame_timer is None:
            _cancelled(self._frame_timer)
            self._frame_timer = self.clock.callLater(self.settings.frame_timeout, self._frame_timed_out)

    def _frame_timed_out(self):
        self._frame_timer = None
        if self.state is not CLOSED:
            self._abort(lms.CLIENT_FRAME_INCOMPLETE, timeout=self.settings.frame_timeout,
                        received=self._buffered())

    def _association_timed_out(self):
        self._association_timer = None
        # an AARQ under way is a frame: its own timer decides
        if self.state is ASSOCIATING and not self._buffered():
            self._abort(lms.CLIENT_NOT_ASSOCIATED, timeout=self.settings.frame_timeout)

    # -- encoding detection -------------------------------------------------

    def _cancel_detect_timer(self):
        if self._detect_timer is not None and self._detect_timer.active():
            self._detect_timer.cancel()
        self._detect_timer = None

    def _detect_timed_out(self):
        self._detect_timer = None
        # a client that sent part of a frame is not silent: the frame timer decides
        if self.state is DETECTING and not self._buffer:
            self._detected_xml("silent client")

    # -- incoming -----------------------------------------------------------

    def dataReceived(self, data: bytes):
        if self.state is CLOSED:
            return
        if self.detail.wants(lms.CSTA_FRAME_RECEIVED):
            frame = self.wire.dump(data) if self.wire is not None else data.hex(" ")
            lms.emit(self.log, lms.CSTA_FRAME_RECEIVED, client=self.name, frame=frame)
        if self.state is DETECTING:
            self._buffer += data
            try:
                detected = framing.detect_framing(self._buffer)
            except framing.FramingError as e:
                self._close(str(e))
                return
            if detected is None:
                self._frame_progress(False)
                return
            data, self._buffer = self._buffer, b""
            if detected[0] == framing.XML:
                self._detected_xml("first bytes")
            else:
                self._detected_ber(detected[1], "first bytes")
        try:
            items = self.wire.feed(data)
        except framing.FramingError as e:
            self._close(str(e))
            return
        for item in items:
            if self.state is CLOSED:
                return
            try:
                self._incoming(item)
            except Exception:
                # one message we failed on must not take the connection down
                failure = Failure()
                lms.emit(self.log, lms.UNEXPECTED_CSTA_ERROR, failure=failure, client=self.name,
                         what="a %s message" % item.kind.value, error=failure.getErrorMessage())
        self._frame_progress(bool(items))

    def _incoming(self, item: w.Incoming):
        kind = item.kind
        if self.state is ASSOCIATING:
            if kind is w.Kind.ASSOCIATE:
                self._associated(item.message)
            else:
                self._close("BER client did not open with an AARQ")
            return
        if kind is w.Kind.REQUEST:
            self._request(item.invoke_id, item.message)
        elif kind in (w.Kind.RESULT, w.Kind.ERROR, w.Kind.REJECT):
            timer = self._outgoing.pop(item.invoke_id, None)
            if timer is not None and timer.active():
                timer.cancel()
        elif kind is w.Kind.UNKNOWN:
            lms.emit(self.log, lms.UNSUPPORTED_CSTA_OPERATION, client=self.name, operation=item.detail)
            self.write(self.wire.unknown(item.invoke_id))
        elif kind is w.Kind.MALFORMED:
            lms.emit(
                self.log, lms.MALFORMED_CLIENT_MESSAGE, client=self.name,
                invoke_id=item.invoke_id, reason=str(item.detail),
            )
            self.write(self.wire.malformed(item.invoke_id, item.detail))
        elif kind is w.Kind.ASSOCIATE:
            self.write(self.wire.associate(item.message))  # a repeated AARQ: accept again
        elif kind is w.Kind.RELEASE:
            self.transport.loseConnection()

    # -- our requests ----------------------------------------------------------

    def send_request(self, message):
        """Send a request of ours (SystemStatus; the routeing dialogue's
        RouteRequest, ReRoute, RouteUsed, RouteEnd, RouteRegisterAbort). The
        answer to one that has an answer is awaited briefly; a one-way
        operation (ALWAYS RESPONDS FALSE) gets none on success, and its
        error, if the client sends one, is an answer to nothing pending."""
        if self.state is not RUNNING:
            return
        invoke_id = self.wire.next_invoke_id()
        if m.INFO[type(message)].responds:
            self._outgoing[invoke_id] = self.clock.callLater(
                self.settings.request_timeout, self._outgoing.pop, invoke_id, None
            )
        self.write(self.wire.request(invoke_id, message))

    # Events reach a session through the fan-out (services/fanout.py), which
    # encodes each one once per wire key and writes it with write().

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
        d.addCallbacks(
            self._answer, self._refuse, (invoke_id, m.INFO[type(message)].responds), None, (invoke_id, name)
        )

    def _request_done(self, result, d):
        self._pending_requests.discard(d)
        return result

    def _observe(self, result, name, started):
        failure = result if isinstance(result, Failure) else None
        self.factory.request_observer(name, self.clock.seconds() - started, failure)
        return result

    def _answer(self, response, invoke_id, responds=True):
        # a one-way operation (RouteSelect, RouteEnd...) is answered only
        # when it fails
        if responds:
            self.write(self.wire.result(invoke_id, response))

    def _refuse(self, failure, invoke_id, name):
        if self.state is CLOSED:
            return None
        if failure.check(CSTARequestError):
            error = failure.value.error
            detail = str(failure.value)
        elif failure.check(defer.TimeoutError, defer.CancelledError):
            error = m.CSTAError(category="performanceManagement", value="performanceLimitExceeded")
            detail = "no answer within %g s" % self.settings.request_timeout
        else:
            lms.emit(self.log, lms.UNEXPECTED_CSTA_ERROR, failure=failure, client=self.name,
                     what=name, error=failure.getErrorMessage())
            error = m.CSTAError(category="operation", value="generic")
            detail = failure.getErrorMessage()
        lms.emit(
            self.log, lms.CSTA_REQUEST_FAILED, client=self.name, service=name,
            invoke_id=invoke_id, error="%s/%s (%s)" % (error.category, error.value, detail),
        )
        self.write(self.wire.error(invoke_id, error))
        return None

    # -- session-level services -----------------------------------------------

    def csta_SystemStatus(self, message):
        return m.SystemStatusResponse()

    def csta_SystemRegister(self, message):
        self.registered = True
        return m.SystemRegisterResponse(sys_stat_register_id=self.factory.register_id(self))

    def csta_RequestSystemStatus(self, message):
        return m.RequestSystemStatusResponse(status=self.factory.status.status)

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
        # after the response is written
        if self._stop_timer is None:
            self._stop_timer = self.clock.callLater(0, self._stop_session)
        return m.StopApplicationSessionPosResponse()

    def _stop_session(self):
        self._stop_timer = None
        if self.transport is not None and self.state is not CLOSED:
            self.transport.loseConnection()


def _cancelled(timer):
    """Cancel ``timer`` if it is pending; None (what the attribute becomes)."""
    if timer is not None and timer.active():
        timer.cancel()
    return None


class CSTAServerFactory(Factory):
    """The CSTA listener: builds one protocol per client and tells every
    session when the :class:`~csta_connector.status.SystemStatus` it
    observes changes."""

    protocol = CSTAServerProtocol
    log = Logger()

    def __init__(self, services, clock, settings: ListenerSettings | None = None,
                 status: SystemStatus | None = None, detail=lms.EVERY_LEVEL,
                 request_observer=None):
        self.services = services
        self.clock = clock
        self.settings = settings or ListenerSettings()
        self.detail = detail  # what the log outputs write (per-frame lines only then)
        #: what clients are told in SystemStatus (a listener of its own, as in
        #: the tests, is ``normal`` until told otherwise)
        self.status = status if status is not None else SystemStatus(NORMAL)
        self.sessions: set[CSTAServerProtocol] = set()
        #: optional callable(service name, seconds, Failure or None), told when
        #: a client request is answered (metrics: latency per service)
        self.request_observer = request_observer
        self._register_ids = itertools.count(1)
        self._observing = False
        self._observe_status()

    def buildProtocol(self, addr):
        return self.protocol(self)

    def register_id(self, session) -> str:
        return str(next(self._register_ids))

    # -- the system status ------------------------------------------------------

    def _observe_status(self):
        if not self._observing:
            self._observing = True
            self.status.add_observer(self._status_changed)

    def startFactory(self):
        self._observe_status()

    def stopFactory(self):
        # a listener that stopped tells its last sessions nothing more
        self._observing = False
        self.status.remove_observer(self._status_changed)

    def _status_changed(self, status: str):
        """Tell every session (SPEC: link state toward CSTA clients)."""
        lms.emit(self.log, lms.SYSTEM_STATUS_SENT, status=status, clients=len(self.sessions))
        for session in list(self.sessions):
            session.send_request(m.SystemStatus(status=status))

