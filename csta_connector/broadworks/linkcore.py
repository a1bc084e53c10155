# -*- test-case-name: tests.protocol.test_xsi_link -*-
"""What a BroadWorks link does whatever its wire: the table of requests in
flight, the splitting of its incoming stream, the reading of its documents,
the intake of the events it receives, and the renewal of its channel; and
:class:`LinkBase`, the base both link protocols build on.

A link to an XSP (``link.py`` over the CTI interface, ``xsi_link.py`` over
Xsi HTTP) answers every request exactly once: with the response, a
:class:`BroadWorksTimeout` after the request timeout on the injected clock,
or :class:`LinkLost` when the link goes down (:class:`PendingRequests`).
Every event it receives is acknowledged (except ChannelTerminatedEvent),
re-deliveries are dropped and sequence gaps reported through the channel
set's shared :class:`EventOrdering` before the event goes up
(:class:`EventIntake`). Its channel is renewed at half its life
(:class:`ChannelRenewal`). The two links differ only in how a request
travels and how an acknowledgement is written.

A link using these provides ``settings`` (a ``LinkSettings``), ``is_up``,
``channel_id``, ``request(cti_request)`` and ``close(why)``; a
:class:`LinkBase` has them all but ``request`` and the writing of an
acknowledgement.
"""

from __future__ import annotations

import enum

from twisted.internet import defer
from twisted.internet.protocol import Protocol
from twisted.logger import Logger

from csta_connector import lms
from csta_connector.broadworks import eventreader, requests, stream, xsi, xsp
from csta_connector.broadworks.errors import BroadWorksRequestError, BroadWorksTimeout, LinkLost
from csta_connector.broadworks.ordering import EventOrdering

_log = Logger()


def dump(data: bytes) -> str:
    """A document as a Debug line shows it."""
    return data.decode("utf-8", "backslashreplace").strip()


def split(link, splitter: stream.DocumentSplitter, data: bytes, what: str = "byte stream") -> list[bytes]:
    """The complete documents ``data`` ends; a stream that cannot be split into
    documents is logged and the link closed (no documents)."""
    try:
        return splitter.feed(data)
    except stream.FramingError as e:
        message = (
            lms.BROADWORKS_DOCUMENT_TOO_LARGE
            if isinstance(e, stream.DocumentTooLarge)
            else lms.MALFORMED_BROADWORKS_DOCUMENT
        )
        lms.emit(
            _log, message, link=link.settings.name, limit=splitter.max_size,
            reason="unusable %s (%s), the link is closed" % (what, e),
        )
        link.close("unusable %s (%s)" % (what, e))
        return []


class _Pending:
    __slots__ = ("deferred", "timer", "name", "work")

    def __init__(self, deferred, timer, name, work):
        self.deferred = deferred
        self.timer = timer
        self.name = name
        self.work = work


class PendingRequests:
    """One link's requests in flight, keyed by request id.

    ``add`` returns the caller's Deferred; exactly one of :meth:`answer`,
    :meth:`refuse`, the timeout or :meth:`fail_all` fires it, and each removes
    the entry first. ``work`` (the Deferred of the request on the wire, if it
    has one) is cancelled when the request times out, is cancelled, or the
    link goes down. ``on_timeout(name, request_id, in_a_row)`` hears of each
    timeout after the caller's Deferred failed, with the number of requests
    that timed out since the last answer (a link that answers nothing is
    broken even if TCP says otherwise).
    """

    log = Logger()

    def __init__(self, clock, timeout: float, link_name: str, on_timeout=None):
        self.clock = clock
        self.timeout = timeout
        self.link_name = link_name
        self.on_timeout = on_timeout
        self._entries: dict[str, _Pending] = {}
        self._next_id = 0
        self._timeouts_in_a_row = 0
        #: set by fail_all: later requests fail at once with it
        self.lost: LinkLost | None = None

    def __len__(self) -> int:
        return len(self._entries)

    def next_id(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    def add(self, name: str, request_id: str | None = None) -> tuple[str, defer.Deferred]:
        if request_id is None:
            request_id = self.next_id()
        if self.lost is not None:
            return request_id, defer.fail(LinkLost(name, "link is not connected"))

        def cancel(_):
            entry = self._entries.pop(request_id, None)
            if entry is not None:
                self._stop(entry)

        d = defer.Deferred(cancel)
        timer = self.clock.callLater(self.timeout, self._timed_out, request_id)
        self._entries[request_id] = _Pending(d, timer, name, None)
        return request_id, d

    def attach(self, request_id: str, work: defer.Deferred) -> None:
        """The request's own Deferred on the wire, cancelled if the caller's ends first."""
        entry = self._entries.get(request_id)
        if entry is None:
            work.cancel()
        else:
            entry.work = work

    def pop(self, request_id: str):
        """The entry of a request that was answered (None if it ended already)."""
        entry = self._entries.pop(request_id, None)
        if entry is not None:
            self._timeouts_in_a_row = 0
            if entry.timer.active():
                entry.timer.cancel()
        return entry

    def answer(self, request_id: str, response: xsp.Response) -> bool:
        """Fire a request's Deferred with its answer: the response when it is
        2xx, else a :class:`BroadWorksRequestError` (status and ErrorInfo).
        False when the request ended already (timed out, cancelled)."""
        entry = self.pop(request_id)
        if entry is None:
            return False
        if response.ok:
            entry.deferred.callback(response)
            return True
        lms.emit(
            self.log, lms.BROADWORKS_REQUEST_FAILED, link=self.link_name, request=entry.name,
            request_id=request_id, status=response.status_code, reason=response.reason,
        )
        entry.deferred.errback(
            BroadWorksRequestError.from_error_info(
                entry.name, response.status_code, response.reason, xsp.xsi_values(response.payload)
            )
        )
        return True

    @staticmethod
    def _stop(entry):
        if entry.timer.active():
            entry.timer.cancel()
        work, entry.work = entry.work, None
        if work is not None:
            work.cancel()  # a no-op once it has its result

    def _timed_out(self, request_id):
        entry = self._entries.pop(request_id, None)
        if entry is None:
            return
        work, entry.work = entry.work, None
        if work is not None:
            work.cancel()
        lms.emit(
            self.log, lms.BROADWORKS_REQUEST_TIMED_OUT, link=self.link_name,
            request=entry.name, request_id=request_id, timeout=self.timeout,
        )
        self._timeouts_in_a_row += 1
        entry.deferred.errback(BroadWorksTimeout(entry.name, self.timeout))
        if self.on_timeout is not None:
            self.on_timeout(entry.name, request_id, self._timeouts_in_a_row)

    def fail_all(self, detail: str = "link lost") -> None:
        """The link went down: every request fails with LinkLost, and so do later ones."""
        self.lost = LinkLost("request", detail)
        entries, self._entries = self._entries, {}
        for entry in entries.values():
            self._stop(entry)
            entry.deferred.errback(LinkLost(entry.name, detail))


class EventIntake:
    """The events of one link, from decoded event document to the listener.

    ``acknowledge(token, event_id, status, reason)`` writes one
    acknowledgement on the link's wire (``token``: what the wire needs to
    address it, e.g. the envelope of a CTI event). ``terminated(event)`` hears
    of a ChannelTerminatedEvent, which is not acknowledged.
    """

    log = Logger()

    def __init__(self, link, listener, ordering, acknowledge, terminated, link_name: str):
        self.link = link
        self.listener = listener
        self.ordering = ordering
        self.acknowledge = acknowledge
        self.terminated = terminated
        self.link_name = link_name
        self._unknown_types_logged: set[str] = set()

    def received(self, envelope: xsp.Event, token=None) -> None:
        """One event document (its :class:`xsp.Event`, typed already or its
        element): refused when it is no usable Xsi event, else acknowledged
        and, unless it is a re-delivery, handed to the listener."""
        try:
            event = envelope.xsi_event()
        except xsi.XsiParseError as e:
            self.refused(_event_id_of(envelope.payload), str(e), token)
            return
        if type(event) is xsi.ChannelTerminatedEvent:
            lms.emit(
                self.log, lms.CHANNEL_TERMINATED, link=self.link_name,
                channel_id="%s (%s)" % (event.channel_id, event.reason),
            )
            self.terminated(event)
            return
        self.acknowledge(token, event.event_id, 200, "OK")
        if self.ordering.is_duplicate(event.event_id):
            return
        if type(event) is xsi.UnknownEvent:
            if event.event_type not in self._unknown_types_logged:
                self._unknown_types_logged.add(event.event_type)
                lms.emit(
                    self.log, lms.UNKNOWN_XSI_EVENT, link=self.link_name, event_type=event.event_type,
                )
            return
        gap = self.ordering.check_sequence(event.subscription_id, event.sequence_number)
        if gap is not None:
            self.listener.sequence_gap(self.link, gap)
        self.listener.event_received(self.link, event)

    def refused(self, event_id: str | None, reason: str, token=None) -> None:
        """An event document that is not a usable Xsi event: refused with 400
        when its eventID can be read (BroadWorks then drops it), logged."""
        lms.emit(
            self.log, lms.MALFORMED_BROADWORKS_DOCUMENT, link=self.link_name,
            reason="Xsi event %s refused: %s" % (event_id, reason),
        )
        if event_id:
            self.acknowledge(token, event_id, 400, "Bad Request")


def _event_id_of(event_element) -> str | None:
    for child in event_element:
        if isinstance(child.tag, str) and child.tag.endswith("}eventID"):
            return child.text
    return None


def channel_added(link, listener, values: dict) -> None:
    """A link's channel is up (``values``: the Channel's children): its id, the
    renewal at half its life, the 37110 line, the listener told."""
    settings = link.settings
    link.channel_id = values.get("channelId")
    link.is_up = True
    link.renewal.schedule(values.get("expires"))
    lms.emit(
        _log, lms.CHANNEL_ADDED, link=settings.name, protocol=settings.protocol,
        channel_id=link.channel_id, channel_set=settings.channel_set_id,
        expires=values.get("expires", "?"),
    )
    listener.link_ready(link)


class ChannelRenewal:
    """Renews one link's channel at half its life, before BroadWorks expires
    it (UpdateChannelRequest, over the link's own wire). A renewal that fails
    (other than by the link going down) closes the link, which then starts
    afresh with a new channel."""

    log = Logger()

    def __init__(self, link, clock):
        self.link = link
        self.clock = clock
        self._timer = None

    def schedule(self, expires) -> None:
        """The channel lives ``expires`` seconds (BroadWorks' answer, a text or None)."""
        settings = self.link.settings
        try:
            seconds = int(expires) if expires else settings.channel_expires
        except ValueError:
            seconds = settings.channel_expires
        self._timer = self.clock.callLater(max(1, seconds / 2), self._renew_channel)

    def stop(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def _renew_channel(self):
        self._timer = None
        link = self.link
        if not link.is_up:
            return
        d = link.request(requests.update_channel(link.channel_id, link.settings.channel_expires))
        d.addCallbacks(self._renewed, self._failed)

    def _renewed(self, response):
        link = self.link
        expires = xsp.xsi_values(response.payload).get("expires")
        lms.emit(
            self.log, lms.CHANNEL_RENEWED, link=link.settings.name,
            channel_id=link.channel_id, expires=expires or link.settings.channel_expires,
        )
        if link.is_up:
            self.schedule(expires)

    def _failed(self, failure):
        if failure.check(LinkLost):
            return
        link = self.link
        # a channel we cannot renew will expire: start afresh now
        lms.emit(
            self.log, lms.CHANNEL_ADD_FAILED, link=link.settings.name,
            channel_set=link.settings.channel_set_id,
            reason="renewal failed: %s" % failure.getErrorMessage(),
        )
        link.close("channel renewal failed")


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
    Shared by the links of a channel set, CTI and Xsi alike (a reconnected
    link keeps the counts); ``/status`` and ``/metrics`` read them at scrape
    time.
    """

    __slots__ = ("by_reader", "failures")

    def __init__(self):
        #: event documents decoded, by :class:`Reader`
        self.by_reader: dict[Reader, int] = {Reader.ONE_PASS: 0, Reader.LXML: 0}
        #: documents the one-pass reader failed on unexpectedly
        self.failures = 0

    def decode(self, data: bytes):
        """The :mod:`xsp` document of ``data`` (a CTI link's); :class:`xsp.XspDecodeError`
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

    def decode_stream_event(self, data: bytes) -> xsp.Event:
        """An ``xsi:Event`` document off an Xsi event channel (no envelope), as
        the :class:`xsp.Event` a CTI link reads: the typed event when the
        one-pass reader recognizes it, else the document's element (lxml);
        counted alike. :class:`xsp.XspDecodeError` when it is not XML."""
        try:
            event = eventreader.read_stream_event(data)
        except Exception:
            self.failures += 1
            event = None
        if event is not None:
            self.by_reader[Reader.ONE_PASS] += 1
            return xsp.Event("", None, event)
        root = xsp.parse_document(data)
        self.by_reader[Reader.LXML] += 1
        return xsp.Event("", root)


class LinkBase(Protocol):
    """The part of a link protocol both link types share: its state (``settings``,
    ``channel_id``, ``is_up``), its pending requests, its event intake, its
    channel renewal, how it closes and how it goes down.

    A subclass writes acknowledgements (``_acknowledge(token, event_id,
    status, reason)``) and requests (``request``), calls :meth:`_went_down`
    from its ``connectionLost``, and tells its listener the link is lost.
    ``ordering`` and ``reader`` are shared by the links of a channel set (a
    link of its own gets its own); ``detail``: what the log outputs write;
    ``trace``: an opt-in wire tap, callable(direction, document bytes).
    """

    log = Logger()

    def __init__(self, settings, clock, listener, ordering=None, reader=None,
                 detail=lms.EVERY_LEVEL, trace=None):
        self.settings = settings
        self.clock = clock
        self.listener = listener
        self.detail = detail
        self.trace = trace
        self.ordering = ordering if ordering is not None else EventOrdering()
        self.reader = reader if reader is not None else DocumentReader()
        self.channel_id: str | None = None
        self.is_up = False
        self._connected = False
        self._closed_because: str | None = None
        self._splitter = stream.DocumentSplitter(settings.max_document_size)
        self._pending = PendingRequests(
            clock, settings.request_timeout, settings.name, self._request_timed_out
        )
        self._intake = EventIntake(
            self, listener, self.ordering, self._acknowledge, self._channel_terminated, settings.name
        )
        self.renewal = ChannelRenewal(self, clock)

    def _acknowledge(self, token, event_id, status, reason):
        raise NotImplementedError

    def close(self, why: str = "closed by the connector"):
        """Close the link; pending requests fail when it is down, the
        listener hears ``why``."""
        if self.transport is not None and self._connected:
            if self._closed_because is None:
                self._closed_because = why
            self.transport.abortConnection()

    def _went_down(self):
        """The link's connection ended: nothing is pending, nothing renews."""
        self._connected = False
        self.is_up = False
        self.renewal.stop()
        self._pending.fail_all()

    def _request_timed_out(self, name, request_id, in_a_row):
        # a link that answers nothing is broken even if TCP says otherwise
        if in_a_row > self.settings.kpl_tolerance and self._closed_because is None:
            self._unresponsive("%d request(s)" % in_a_row)

    def _unresponsive(self, missed: str):
        lms.emit(
            self.log, lms.LINK_UNRESPONSIVE, link=self.settings.name, missed=missed,
            tolerance=self.settings.kpl_tolerance,
        )
        self.close("%s unanswered" % missed)

    def _channel_terminated(self, event):
        self.is_up = False
        self.listener.channel_terminated(self, event)
        self.close("channel terminated (%s)" % event.reason)
