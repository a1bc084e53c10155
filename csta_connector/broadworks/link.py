# -*- test-case-name: tests.protocol.test_link -*-
"""One TCP link to an XSP's CTI interface (SPEC §3).

Framing (stream.py) and documents (xsp.py, xsi.py, eventreader.py) are pure;
this module owns the connection's state: the pending-request table keyed by
``requestId`` with timeouts on the injected clock, the channel added on
connect, the acknowledgement of every event, keepalives, duplicate/gap
detection, and the choice of reader for each document (:class:`DocumentReader`).
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass

from twisted.internet import defer
from twisted.internet.protocol import Protocol
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from csta_connector import lms
from csta_connector.broadworks import eventreader, requests, stream, xsi, xsp
from csta_connector.broadworks.errors import (
    BroadWorksRequestError,
    BroadWorksTimeout,
    LinkLost,
)
from csta_connector.broadworks.ordering import EventOrdering
from csta_connector.interfaces import IBroadWorksLink


@dataclass(frozen=True)
class LinkSettings:
    """What one link needs to know; built from ``[Connector]`` + ``[link-NAME]``."""

    channel_set_id: str
    application_id: str
    name: str = "link"
    priority: int = 1
    weight: int = 50
    channel_expires: int = 3600
    subscription_expires: int = 3600
    credentials: str | None = None
    kpl_interval: float = 10.0
    kpl_tolerance: int = 0
    request_timeout: float = 10.0
    max_document_size: int = stream.DEFAULT_MAX_DOCUMENT_SIZE
    #: checked with GetApplicationControllerStateRequest every kpl_interval when set
    app_controller: str | None = None
    host: str = "?"
    port: int = 0

    @classmethod
    def from_config(cls, config, link) -> "LinkSettings":
        """The settings of one ``[link-NAME]`` section (``link``, a
        ``config.LinkSection``) with the ``[Connector]`` values it inherits."""
        c = config.connector
        return cls(
            channel_set_id=c.channel_set_name,
            application_id=c.application_name,
            name="link-" + link.name if not link.name.startswith("link") else link.name,
            priority=link.priority,
            weight=link.weight,
            channel_expires=c.channel_expire_tout,
            subscription_expires=c.subscription_expire_tout,
            credentials=xsp.credentials_for(link.username, link.password or "") if link.username else None,
            kpl_interval=link.kpl_interval,
            kpl_tolerance=link.kpl_tolerance,
            request_timeout=c.request_timeout,
            max_document_size=c.max_document_size,
            app_controller=c.app_controller,
            host=link.hostname,
            port=link.port,
        )


class Reader(enum.StrEnum):
    """Which reader decoded an event document (the label /metrics shows)."""

    ONE_PASS = "one pass"  # eventreader: the common forms, straight to typed events
    LXML = "lxml"  # xsp.decode + xsi.parse_event: every other form


class DocumentReader:
    """Decodes the documents of the links of one channel set, and counts how.

    An event document goes to the one-pass reader first, which declines what
    it does not fully recognize; everything else, and whatever it declined,
    takes the general path (``xsp.decode``, lxml). A failure inside the
    one-pass reader is a bug of its own, never the peer's fault: it is
    counted and the general path reads the document, so nothing is lost.
    Shared by the links of a channel set (a reconnected link keeps the
    counts); ``/status`` and ``/metrics`` read them at scrape time.
    """

    __slots__ = ("by_reader", "failures")

    def __init__(self):
        #: event documents decoded, by :class:`Reader`
        self.by_reader: dict[Reader, int] = {Reader.ONE_PASS: 0, Reader.LXML: 0}
        #: documents the one-pass reader failed on unexpectedly
        self.failures = 0

    def decode(self, data: bytes):
        """The :mod:`xsp` document of ``data``; :class:`xsp.XspDecodeError`
        when it is not a usable one."""
        try:
            read = eventreader.read_event(data)
        except Exception:
            self.failures += 1
            read = None
        if read is not None:
            self.by_reader[Reader.ONE_PASS] += 1
            return xsp.Event(read[0], None, read[1])
        document = xsp.decode(data)
        if type(document) is xsp.Event:
            self.by_reader[Reader.LXML] += 1
        return document


class _Pending:
    __slots__ = ("deferred", "timer", "name")

    def __init__(self, deferred, timer, name):
        self.deferred = deferred
        self.timer = timer
        self.name = name


@implementer(IBroadWorksLink)
class XspLinkProtocol(Protocol):
    """The client side of one CTI interface connection."""

    log = Logger()

    def __init__(self, settings: LinkSettings, clock, listener, ordering=None, reader=None,
                 detail=lms.EVERY_LEVEL, trace=None):
        """``ordering`` and ``reader`` are shared by the links of a channel
        set (a link of its own gets its own); ``detail``: what the log
        outputs write (the per-document Debug lines are built only then);
        ``trace``: an opt-in wire tap, callable(direction, document bytes)."""
        self.settings = settings
        self.clock = clock
        self.listener = listener
        self.detail = detail
        self.ordering = ordering if ordering is not None else EventOrdering()
        self.reader = reader if reader is not None else DocumentReader()
        self.session_id = uuid.uuid4().hex
        self.channel_id: str | None = None
        self.is_up = False
        self._connected = False
        self._splitter = stream.DocumentSplitter(settings.max_document_size)
        self._pending: dict[str, _Pending] = {}
        self._next_id = 0
        self._keepalive_timer = None
        self._channel_timer = None
        self._keepalive_outstanding = False
        self._missed_keepalives = 0
        self._last_received = 0.0
        self._timeouts_in_a_row = 0
        self._unknown_types_logged: set[str] = set()
        self.trace = trace

    # -- connection ---------------------------------------------------------

    def connectionMade(self):
        self._connected = True
        # small request/response documents must not wait for Nagle + delayed ACKs
        set_no_delay = getattr(self.transport, "setTcpNoDelay", None)
        if set_no_delay is not None:
            set_no_delay(True)
        self._last_received = self.clock.seconds()
        self._schedule_keepalive()
        s = self.settings
        d = self.request(
            requests.add_channel(
                s.channel_set_id, s.priority, s.weight, s.channel_expires, s.application_id
            )
        )
        d.addCallbacks(self._channel_added, self._channel_failed)

    def _channel_added(self, response):
        values = xsp.xsi_values(response.payload)
        self.channel_id = values.get("channelId")
        self.is_up = True
        self._schedule_channel_renewal(values.get("expires"))
        lms.emit(
            self.log,
            lms.CHANNEL_ADDED,
            link=self.settings.name,
            channel_id=self.channel_id,
            channel_set=self.settings.channel_set_id,
            expires=values.get("expires", "?"),
        )
        self.listener.link_ready(self)

    def _channel_failed(self, failure):
        if not failure.check(LinkLost):
            lms.emit(
                self.log,
                lms.CHANNEL_ADD_FAILED,
                link=self.settings.name,
                channel_set=self.settings.channel_set_id,
                reason=failure.getErrorMessage(),
            )
            self.close()

    def _schedule_channel_renewal(self, expires):
        """Renew the channel at half its life, before BroadWorks expires it."""
        try:
            seconds = int(expires) if expires else self.settings.channel_expires
        except ValueError:
            seconds = self.settings.channel_expires
        self._channel_timer = self.clock.callLater(max(1, seconds / 2), self._renew_channel)

    def _renew_channel(self):
        self._channel_timer = None
        if not self.is_up:
            return
        d = self.request(requests.update_channel(self.channel_id, self.settings.channel_expires))

        def renewed(response):
            expires = xsp.xsi_values(response.payload).get("expires")
            lms.emit(
                self.log, lms.CHANNEL_RENEWED, link=self.settings.name,
                channel_id=self.channel_id, expires=expires or self.settings.channel_expires,
            )
            self._schedule_channel_renewal(expires)

        def failed(failure):
            if not failure.check(LinkLost):
                # a channel we cannot renew will expire: start afresh now
                lms.emit(
                    self.log, lms.CHANNEL_ADD_FAILED, link=self.settings.name,
                    channel_set=self.settings.channel_set_id,
                    reason="renewal failed: %s" % failure.getErrorMessage(),
                )
                self.close()

        d.addCallbacks(renewed, failed)

    def close(self):
        """Close the link; pending requests fail in connectionLost."""
        if self.transport is not None and self._connected:
            self.transport.abortConnection()

    def connectionLost(self, reason=None):
        self._connected = False
        self.is_up = False
        for timer in (self._keepalive_timer, self._channel_timer):
            if timer is not None and timer.active():
                timer.cancel()
        self._keepalive_timer = self._channel_timer = None
        pending, self._pending = self._pending, {}
        for entry in pending.values():
            if entry.timer.active():
                entry.timer.cancel()
            entry.deferred.errback(LinkLost(entry.name))
        self.listener.link_lost(self, reason if reason is not None else Failure(LinkLost()))

    def _write(self, data: bytes):
        if self.trace is not None:
            self.trace("out", data)
        if self.detail.wants(lms.BROADWORKS_DOCUMENT_SENT):
            lms.emit(self.log, lms.BROADWORKS_DOCUMENT_SENT, link=self.settings.name, document=_dump(data))
        self.transport.write(data)

    # -- requests -------------------------------------------------------------

    def _allocate_id(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    def request(self, cti_request: xsp.CtiRequest, affinity=None) -> defer.Deferred:
        """Send a CTI request; fires with the 2xx xsp.Response, fails with a
        BroadWorksError (error status, timeout or link loss)."""
        name = cti_request.name
        if not self._connected:
            return defer.fail(LinkLost(name, "link is not connected"))
        request_id = self._allocate_id()

        def cancel(_):
            entry = self._pending.pop(request_id, None)
            if entry is not None and entry.timer.active():
                entry.timer.cancel()

        d = defer.Deferred(cancel)
        timer = self.clock.callLater(
            self.settings.request_timeout, self._request_timed_out, request_id
        )
        self._pending[request_id] = _Pending(d, timer, name)
        self._write(
            xsp.encode(
                xsp.Request(request_id, self.session_id, cti_request, self.settings.credentials)
            )
        )
        if self.detail.wants(lms.BROADWORKS_REQUEST_SENT):
            lms.emit(
                self.log, lms.BROADWORKS_REQUEST_SENT, link=self.settings.name,
                request=name, request_id=request_id,
            )
        return d

    def _request_timed_out(self, request_id):
        entry = self._pending.pop(request_id, None)
        if entry is not None:
            lms.emit(
                self.log,
                lms.BROADWORKS_REQUEST_TIMED_OUT,
                link=self.settings.name,
                request=entry.name,
                request_id=request_id,
                timeout=self.settings.request_timeout,
            )
            entry.deferred.errback(BroadWorksTimeout(entry.name, self.settings.request_timeout))
            # a link that answers nothing is broken even if TCP says otherwise
            self._timeouts_in_a_row += 1
            if self._timeouts_in_a_row > self.settings.kpl_tolerance:
                lms.emit(
                    self.log,
                    lms.LINK_UNRESPONSIVE,
                    link=self.settings.name,
                    missed="%d request(s)" % self._timeouts_in_a_row,
                    tolerance=self.settings.kpl_tolerance,
                )
                self.close()

    def _response_received(self, response: xsp.Response):
        entry = self._pending.pop(response.request_id, None)
        if entry is None:
            self.log.debug(
                "Link {link}: response to unknown request {request_id} dropped",
                link=self.settings.name,
                request_id=response.request_id,
            )
            return
        if entry.timer.active():
            entry.timer.cancel()
        self._timeouts_in_a_row = 0
        if response.ok:
            entry.deferred.callback(response)
        else:
            info = xsp.xsi_values(response.payload)
            error_code = info.get("errorCode")
            lms.emit(
                self.log, lms.BROADWORKS_REQUEST_FAILED, link=self.settings.name,
                request=entry.name, request_id=response.request_id,
                status=response.status_code, reason=response.reason,
            )
            entry.deferred.errback(
                BroadWorksRequestError(
                    entry.name,
                    response.status_code,
                    response.reason,
                    int(error_code) if error_code and error_code.isdigit() else None,
                    info.get("summaryEnglish") or info.get("summary"),
                )
            )

    # -- incoming ---------------------------------------------------------

    def dataReceived(self, data: bytes):
        try:
            documents = self._splitter.feed(data)
        except stream.FramingError as e:
            message = (
                lms.BROADWORKS_DOCUMENT_TOO_LARGE
                if isinstance(e, stream.DocumentTooLarge)
                else lms.MALFORMED_BROADWORKS_DOCUMENT
            )
            lms.emit(
                self.log, message, link=self.settings.name,
                limit=self.settings.max_document_size,
                reason="unusable byte stream (%s), the link is closed" % e,
            )
            self.close()
            return
        if documents:
            self._last_received = self.clock.seconds()
        for document in documents:
            if not self._connected:
                return
            self._document_received(document)

    def _document_received(self, data: bytes):
        if self.trace is not None:
            self.trace("in", data)
        if self.detail.wants(lms.BROADWORKS_DOCUMENT_RECEIVED):
            lms.emit(self.log, lms.BROADWORKS_DOCUMENT_RECEIVED, link=self.settings.name, document=_dump(data))
        try:
            document = self.reader.decode(data)
        except xsp.XspDecodeError as e:
            lms.emit(
                self.log, lms.MALFORMED_BROADWORKS_DOCUMENT, link=self.settings.name,
                reason=str(e),
            )
            return
        kind = type(document)
        if kind is xsp.Event:
            self._event_received(document)
        elif kind is xsp.Response:
            self._response_received(document)
        elif kind is xsp.KeepaliveResponse:
            self._keepalive_outstanding = False
            self._missed_keepalives = 0
        elif kind is xsp.Keepalive:
            self._write(xsp.encode(xsp.KeepaliveResponse(document.request_id)))
        else:
            self.log.warn(
                "Link {link}: unexpected {kind} from XSP ignored",
                link=self.settings.name,
                kind=kind.__name__,
            )

    def _acknowledge(self, envelope, event_id, status=200, reason="OK"):
        self._write(xsp.encode_event_response(envelope.request_id, event_id, status, reason))

    def _event_received(self, envelope: xsp.Event):
        try:
            event = envelope.xsi_event()
        except xsi.XsiParseError as e:
            event_id = _event_id_of(envelope.payload)
            lms.emit(
                self.log, lms.MALFORMED_BROADWORKS_DOCUMENT, link=self.settings.name,
                reason="Xsi event %s refused: %s" % (event_id, e),
            )
            if event_id:
                self._acknowledge(envelope, event_id, 400, "Bad Request")
            return
        if type(event) is xsi.ChannelTerminatedEvent:
            self._channel_terminated(event)
            return
        self._acknowledge(envelope, event.event_id)
        if self.ordering.is_duplicate(event.event_id):
            return
        if type(event) is xsi.UnknownEvent:
            if event.event_type not in self._unknown_types_logged:
                self._unknown_types_logged.add(event.event_type)
                lms.emit(
                    self.log, lms.UNKNOWN_XSI_EVENT, link=self.settings.name,
                    event_type=event.event_type,
                )
            return
        gap = self.ordering.check_sequence(event.subscription_id, event.sequence_number)
        if gap is not None:
            self.listener.sequence_gap(self, gap)
        self.listener.event_received(self, event)

    def _channel_terminated(self, event):
        lms.emit(
            self.log, lms.CHANNEL_TERMINATED, link=self.settings.name,
            channel_id="%s (%s)" % (event.channel_id, event.reason),
        )
        self.is_up = False
        self.listener.channel_terminated(self, event)
        self.close()

    # -- keepalive --------------------------------------------------------

    def _schedule_keepalive(self):
        interval = self.settings.kpl_interval
        if interval and interval > 0 and self._connected:
            self._keepalive_timer = self.clock.callLater(interval, self._keepalive_tick)

    def _keepalive_tick(self):
        self._keepalive_timer = None
        if not self._connected:
            return
        if self._keepalive_outstanding:
            self._missed_keepalives += 1
            if self._missed_keepalives > self.settings.kpl_tolerance:
                lms.emit(
                    self.log, lms.LINK_UNRESPONSIVE, link=self.settings.name,
                    missed=self._missed_keepalives, tolerance=self.settings.kpl_tolerance,
                )
                self.close()
                return
        idle = self.clock.seconds() - self._last_received
        if self._keepalive_outstanding or idle >= self.settings.kpl_interval:
            self._keepalive_outstanding = True
            self._write(
                xsp.encode(
                    xsp.Keepalive("K" + self._allocate_id(), int(self.settings.kpl_interval))
                )
            )
        if self.settings.app_controller and self.is_up:
            self._check_application_controller()
        self._schedule_keepalive()

    def _check_application_controller(self):
        d = self.request(requests.get_application_controller_state(self.settings.app_controller))

        def checked(response):
            state = xsp.xsi_values(response.payload).get("state")
            if state not in (None, "ready"):
                self._controller_failed("application controller state %r" % state)

        def failed(failure):
            if not failure.check(LinkLost, BroadWorksTimeout):
                self._controller_failed(failure.getErrorMessage())

        d.addCallbacks(checked, failed)

    def _controller_failed(self, why):
        lms.emit(
            self.log, lms.LINK_UNRESPONSIVE, link=self.settings.name,
            missed="GetApplicationControllerState (%s)" % why,
            tolerance=self.settings.kpl_tolerance,
        )
        self.close()


def _dump(data: bytes) -> str:
    """A document as a Debug line shows it."""
    return data.decode("utf-8", "backslashreplace").strip()


def _event_id_of(event_element) -> str | None:
    for child in event_element:
        if isinstance(child.tag, str) and child.tag.endswith("}eventID"):
            return child.text
    return None
