# -*- test-case-name: tests.protocol.test_link -*-
"""One TCP link to an XSP's CTI interface (SPEC §3), and the settings of every link.

Framing (stream.py) and documents (xsp.py, xsi.py, eventreader.py) are pure;
what a link does whatever its wire (the pending-request table, the event
intake, the channel renewal, the choice of reader for each document,
:class:`~csta_connector.broadworks.linkcore.LinkBase`) is in ``linkcore.py``.
This module owns the CTI connection's own part: the channel added on
connect, requests and acknowledgements written as XSP envelopes,
keepalives, the optional application controller check; and, for both link
types, the settings of a link (:class:`LinkSettings`, its
:class:`LinkProtocol`).
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from csta_connector import lms
from csta_connector.broadworks import requests, stream, xsp
from csta_connector.broadworks.errors import BroadWorksTimeout, LinkLost
from csta_connector.broadworks.linkcore import DocumentReader, LinkBase, Reader, channel_added, dump, split
from csta_connector.interfaces import IBroadWorksLink

__all__ = ["DocumentReader", "LinkProtocol", "LinkSettings", "Reader", "XspLinkProtocol", "url_host_port"]


class LinkProtocol(enum.StrEnum):
    """How a link reaches its XSP (``[link-NAME] protocol``)."""

    CTI = "cti"  # the CTI interface: XML documents over one TCP connection
    XSI = "xsi"  # Xsi-Events and Xsi-Actions over HTTP(S)


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
    protocol: LinkProtocol = LinkProtocol.CTI
    #: an Xsi link's base URL (``https://xsp1.example.net``); host and port are its
    url: str | None = None
    #: PEM file of the CA certificates of an Xsi link's https:// XSP (None: the system's)
    tls_ca: str | None = None

    @classmethod
    def from_config(cls, config, link) -> "LinkSettings":
        """The settings of one ``[link-NAME]`` section (``link``, a
        ``config.LinkSection``) with the ``[Connector]`` values it inherits."""
        c = config.connector
        protocol = LinkProtocol(link.protocol)
        host, port = link.hostname, link.port
        if protocol is LinkProtocol.XSI:
            host, port = url_host_port(link.url)
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
            host=host,
            port=port,
            protocol=protocol,
            url=link.url if protocol is LinkProtocol.XSI else None,
            tls_ca=link.tls_ca,
        )


def url_host_port(url: str) -> tuple[str, int]:
    """The host and port of an Xsi base URL (80 / 443 by its scheme when absent)."""
    parts = urlsplit(url)
    return parts.hostname or "?", parts.port or (443 if parts.scheme == "https" else 80)


@implementer(IBroadWorksLink)
class XspLinkProtocol(LinkBase):
    """The client side of one CTI interface connection."""

    log = Logger()

    def __init__(self, settings: LinkSettings, clock, listener, ordering=None, reader=None,
                 detail=lms.EVERY_LEVEL, trace=None):
        """``ordering`` and ``reader`` are shared by the links of a channel
        set (a link of its own gets its own); ``detail``: what the log
        outputs write (the per-document Debug lines are built only then);
        ``trace``: an opt-in wire tap, callable(direction, document bytes)."""
        super().__init__(settings, clock, listener, ordering, reader, detail, trace)
        self.session_id = uuid.uuid4().hex
        self._keepalive_timer = None
        self._keepalive_outstanding = False
        self._missed_keepalives = 0
        self._keepalive_ids = 0
        self._last_received = 0.0

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
        channel_added(self, self.listener, xsp.xsi_values(response.payload))

    def _channel_failed(self, failure):
        if not failure.check(LinkLost):
            lms.emit(
                self.log,
                lms.CHANNEL_ADD_FAILED,
                link=self.settings.name,
                channel_set=self.settings.channel_set_id,
                reason=failure.getErrorMessage(),
            )
            self.close("the channel was refused: %s" % failure.getErrorMessage())

    def connectionLost(self, reason=None):
        if self._keepalive_timer is not None and self._keepalive_timer.active():
            self._keepalive_timer.cancel()
        self._keepalive_timer = None
        self._went_down()
        if self._closed_because is not None:
            reason = Failure(LinkLost("link", self._closed_because))
        self.listener.link_lost(self, reason if reason is not None else Failure(LinkLost()))

    def _write(self, data: bytes):
        if self.trace is not None:
            self.trace("out", data)
        if self.detail.wants(lms.BROADWORKS_DOCUMENT_SENT):
            lms.emit(self.log, lms.BROADWORKS_DOCUMENT_SENT, link=self.settings.name, document=dump(data))
        self.transport.write(data)

    # -- requests -------------------------------------------------------------

    def request(self, cti_request: xsp.CtiRequest, affinity=None) -> defer.Deferred:
        """Send a CTI request; fires with the 2xx xsp.Response, fails with a
        BroadWorksError (error status, timeout or link loss)."""
        name = cti_request.name
        if not self._connected:
            return defer.fail(LinkLost(name, "link is not connected"))
        request_id, d = self._pending.add(name)
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

    def _response_received(self, response: xsp.Response):
        if not self._pending.answer(response.request_id, response):
            lms.emit(
                self.log, lms.MALFORMED_BROADWORKS_DOCUMENT, link=self.settings.name,
                reason="response %s %s to requestId %s, which is not pending (never sent, "
                "or timed out)" % (response.status_code, response.reason, response.request_id),
            )

    # -- incoming ---------------------------------------------------------

    def dataReceived(self, data: bytes):
        documents = split(self, self._splitter, data)
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
            lms.emit(self.log, lms.BROADWORKS_DOCUMENT_RECEIVED, link=self.settings.name, document=dump(data))
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
            self._intake.received(document, document)
        elif kind is xsp.Response:
            self._response_received(document)
        elif kind is xsp.KeepaliveResponse:
            self._keepalive_outstanding = False
            self._missed_keepalives = 0
        elif kind is xsp.Keepalive:
            self._write(xsp.encode(xsp.KeepaliveResponse(document.request_id)))
        else:
            lms.emit(
                self.log, lms.MALFORMED_BROADWORKS_DOCUMENT, link=self.settings.name,
                reason="a %s document, which an XSP does not send to its client" % kind.__name__,
            )

    def _acknowledge(self, envelope, event_id, status, reason):
        self._write(xsp.encode_event_response(envelope.request_id, event_id, status, reason))

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
                self._unresponsive("%d keepalive(s)" % self._missed_keepalives)
                return
        idle = self.clock.seconds() - self._last_received
        if self._keepalive_outstanding or idle >= self.settings.kpl_interval:
            self._keepalive_outstanding = True
            self._keepalive_ids += 1
            self._write(
                xsp.encode(xsp.Keepalive("K%d" % self._keepalive_ids, int(self.settings.kpl_interval)))
            )
        if self.settings.app_controller and self.is_up:
            self._check_application_controller()
        self._schedule_keepalive()

    def _check_application_controller(self):
        d = self.request(requests.get_application_controller_state(self.settings.app_controller))

        def checked(response):
            # "not ready" is an answer too: the connector says so itself when
            # no client routes (services/route_points.py)
            state = xsp.xsi_values(response.payload).get("state")
            if state not in (None, "ready", "not ready"):
                self._controller_failed("application controller state %r" % state)

        def failed(failure):
            if not failure.check(LinkLost, BroadWorksTimeout):
                self._controller_failed(failure.getErrorMessage())

        d.addCallbacks(checked, failed)

    def _controller_failed(self, why):
        self._unresponsive("GetApplicationControllerState (%s)" % why)
