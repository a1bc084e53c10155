# -*- test-case-name: tests.protocol.test_xsi_link -*-
"""One link to an XSP over Xsi HTTP(S) (SPEC §3.1): the second implementation
of :class:`~csta_connector.interfaces.IBroadWorksLink`.

Xsi splits what the CTI interface carries on one socket over HTTP requests
(reference/broadworks-xsi.md §2-§5):

* the **event channel**: ``POST /com.broadsoft.async/.../channel`` on a
  connection of its own; the answer's body never ends and carries one XML
  document after another (``Channel`` first, then ``ChannelHeartBeat`` and
  ``xsi:Event`` documents). :class:`XsiChannelEndpoint` opens it, reads the
  answer (``xsi_http.StreamedAnswer``) and hands the body to
  :class:`XsiLinkProtocol` as if it were a connection's byte stream, one call
  per read of the connection, so a ``ClientService`` keeps the channel up
  with the same back-off as a CTI link's TCP connection: the body ending is
  the connection ending.
* the **acknowledgements**, one POST per event: pipelined on one persistent
  connection of their own (``xsi_ack.py``), the link's hot path;
* every other request (subscriptions, Xsi-Actions call control, heartbeats,
  channel renewal) is a short HTTP request on a pool of persistent
  connections to the same XSP (:class:`XsiHttp`, on
  ``twisted.web.client.Agent``).

All but the channel go to the address that accepted the channel, since
heartbeats and acknowledgements must reach the XSP that holds it.

:meth:`XsiLinkProtocol.request` takes the same :class:`xsp.CtiRequest` as the
CTI link and sends the Xsi request it stands for (``xsi_http``); the answer
is an :class:`xsp.Response` (2xx) or a :class:`BroadWorksRequestError` with
the HTTP status and the ErrorInfo, so everything above the link cannot tell
the two link types apart.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from twisted.internet import defer
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.error import ConnectionLost
from twisted.internet.interfaces import IStreamClientEndpoint
from twisted.internet.protocol import Factory, Protocol
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.client import (
    Agent,
    HTTPConnectionPool,
    PartialDownloadError,
    ResponseDone,
    readBody,
)
from twisted.web.http_headers import Headers
from twisted.web.iweb import IAgentEndpointFactory, IBodyProducer
from zope.interface import implementer

from csta_connector import lms
from csta_connector.broadworks import requests, stream, xsi, xsi_http, xsp
from csta_connector.broadworks.errors import BroadWorksRequestError, BroadWorksTimeout, LinkLost
from csta_connector.broadworks.linkcore import LinkBase, channel_added, dump, split
from csta_connector.broadworks.xsi_ack import Acknowledgements
from csta_connector.interfaces import IBroadWorksLink

#: HTTP statuses of a heartbeat that say the XSP no longer knows the channel
_CHANNEL_GONE = frozenset({401, 403, 404})


# --------------------------------------------------------------------------
# HTTP


@implementer(IBodyProducer)
class BytesBody:
    """A request body held in memory, for an Agent: written at once (no
    cooperator, so it runs on whatever clock the agent has)."""

    def __init__(self, data: bytes):
        self.data = data
        self.length = len(data)

    def startProducing(self, consumer):
        consumer.write(self.data)
        return defer.succeed(None)

    def pauseProducing(self):
        pass

    def resumeProducing(self):
        pass

    def stopProducing(self):
        pass


class XsiAnswer:
    """An HTTP answer, its body read."""

    __slots__ = ("status_code", "reason", "body")

    def __init__(self, status_code: int, reason: str, body: bytes):
        self.status_code = status_code
        self.reason = reason
        self.body = body


class XspEndpoints:
    """The endpoints to one XSP: TCP or TLS (``tls.py``) to the base URL's
    host, or to the pinned address while one is set."""

    def __init__(self, reactor, scheme: str, host: str, port: int, tls_ca: str | None = None,
                 timeout: float = 10):
        self.reactor = reactor
        self.scheme = scheme
        self.host = host
        self.port = port
        self.tls_ca = tls_ca
        self.timeout = timeout

    def endpoint(self, address: str | None = None):
        from twisted.internet.endpoints import HostnameEndpoint, TCP4ClientEndpoint, TCP6ClientEndpoint, wrapClientTLS

        from csta_connector import tls

        target = address or self.host
        try:
            version = ipaddress.ip_address(target).version
        except ValueError:
            version = None
        if version == 4:
            plain = TCP4ClientEndpoint(self.reactor, target, self.port, timeout=self.timeout)
        elif version == 6:
            plain = TCP6ClientEndpoint(self.reactor, target, self.port, timeout=self.timeout)
        else:
            plain = HostnameEndpoint(self.reactor, target, self.port, timeout=self.timeout)
        if self.scheme != "https":
            return plain
        return wrapClientTLS(tls.client_options(self.host, self.tls_ca), plain)


def _no_delay(transport):
    """Small requests and answers must not wait for Nagle and delayed ACKs
    (the transport under TLS is the one with the socket)."""
    for candidate in (transport, getattr(transport, "transport", None)):
        set_no_delay = getattr(candidate, "setTcpNoDelay", None)
        if set_no_delay is not None:
            set_no_delay(True)
            return


@implementer(IStreamClientEndpoint)
class _Connecting:
    """An endpoint that looks at each connection it makes: TCP_NODELAY, and
    the peer's address for ``record`` (if given)."""

    def __init__(self, endpoint, record=None):
        self.endpoint = endpoint
        self.record = record

    def connect(self, factory):
        def connected(protocol):
            transport = getattr(protocol, "transport", None)
            if transport is not None:
                _no_delay(transport)
                if self.record is not None:
                    self.record(getattr(transport.getPeer(), "host", None))
            return protocol

        return self.endpoint.connect(factory).addCallback(connected)


@implementer(IAgentEndpointFactory)
class _PinnedEndpoints:
    """The Agent's endpoints: the pinned address, whatever the URI says."""

    def __init__(self, http):
        self.http = http

    def endpointForURI(self, uri):
        http = self.http
        return _Connecting(http.endpoints.endpoint(http.pinned_address))


class XsiHttp:
    """The HTTP side of one Xsi link: the XSP at ``base_url`` (``http://`` or
    ``https://host[:port][/prefix]``), HTTP basic auth with ``credentials``
    (base64 of ``user:password``, as the CTI link carries them).

    The channel's stream gets a connection of its own (:meth:`channel_request`,
    opened by :class:`XsiChannelEndpoint`), so do the acknowledgements
    (:meth:`acknowledgements`); the other requests share up to
    ``max_connections`` persistent connections, pinned to the address that
    accepted the channel. Agent does not pipeline, so at most
    ``max_connections`` requests are on the wire at a time; the others wait
    their turn in order.
    """

    log = Logger()

    def __init__(self, reactor, base_url: str, credentials: str | None, tls_ca: str | None = None,
                 endpoints=None, max_connections: int = 4, connect_timeout: float = 10):
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("Xsi url must be http:// or https://host[:port]: %r" % (base_url,))
        self.base_url = base_url
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.prefix = parts.path.rstrip("/")
        host = "[%s]" % self.host if ":" in self.host else self.host
        self._origin = "%s://%s:%d" % (self.scheme, host, self.port)
        self.endpoints = endpoints or XspEndpoints(
            reactor, self.scheme, self.host, self.port, tls_ca, connect_timeout
        )
        self.pinned_address: str | None = None
        self._headers = {b"accept": [b"application/xml"], b"user-agent": [b"csta-connector"]}
        if credentials:
            self._headers[b"authorization"] = [b"Basic " + credentials.encode("ascii")]
        self.pool = HTTPConnectionPool(reactor, persistent=True)
        self.pool.maxPersistentPerHost = max_connections
        # a request that timed out is the link's business: never sent twice
        self.pool.retryAutomatically = False
        self._agent = Agent.usingEndpointFactory(reactor, _PinnedEndpoints(self), self.pool)
        self._turns = defer.DeferredSemaphore(max_connections)
        self._host_header = "%s:%d" % (host, self.port)
        self._credentials = credentials
        self.event_responses = xsi_http.EventResponsePosts(self._host_header, self.prefix, credentials)

    def _pin(self, address):
        self.pinned_address = address

    def _uri(self, target: str) -> bytes:
        return (self._origin + self.prefix + target).encode("utf-8")

    def _request_headers(self, body):
        headers = Headers(self._headers)
        if body is not None:
            headers.setRawHeaders(b"content-type", [xsi_http.CONTENT_TYPE])
        return headers

    def channel_request(self, body: bytes) -> bytes:
        """The channel POST's bytes (it goes on a connection of its own)."""
        return xsi_http.request_bytes("POST", self.prefix + xsi_http.CHANNEL_PATH, self._host_header,
                                      self._credentials, body)

    def request(self, method: str, target: str, body: bytes | None = None) -> defer.Deferred:
        """One request on the pinned pool; a Deferred of its :class:`XsiAnswer`.
        Cancelling it takes it out of the queue, or aborts its connection."""
        return self._turns.run(self._request, method, target, body)

    def _request(self, method, target, body):
        d = self._agent.request(
            method.encode("ascii"), self._uri(target), self._request_headers(body),
            BytesBody(body) if body is not None else None,
        )
        return d.addCallback(_read_answer)

    def acknowledgements(self, clock, timeout, link_name, failed, trace=None) -> Acknowledgements:
        """The EventResponse POSTs of a channel, on a connection of their own
        to the pinned address (:mod:`~csta_connector.broadworks.xsi_ack`)."""
        endpoint = _Connecting(self.endpoints.endpoint(self.pinned_address))
        return Acknowledgements(clock, endpoint, self.event_responses, timeout, link_name, failed, trace)

    def close(self) -> defer.Deferred:
        """Close the idle persistent connections (the XSP may be gone)."""
        return self.pool.closeCachedConnections()


def _read_answer(response):
    reason = response.phrase.decode("latin-1") if response.phrase else ""

    def partial(failure):
        failure.trap(PartialDownloadError)
        return failure.value.response or b""

    d = readBody(response)
    d.addErrback(partial)
    return d.addCallback(lambda body: XsiAnswer(response.code, reason, body))


# --------------------------------------------------------------------------
# the event channel as a connection


class _StreamTransport:
    """The transport a link protocol sees on the channel's body: closing it
    closes the streaming connection."""

    disconnecting = False

    def __init__(self, transport, peer):
        self._transport = transport
        self._peer = peer

    def loseConnection(self):
        self.disconnecting = True
        self._transport.abortConnection()

    abortConnection = loseConnection

    def write(self, data):
        raise RuntimeError("the event channel's stream carries nothing upstream")

    def getPeer(self):
        return self._peer

    def getHost(self):
        return self._peer


class _ChannelConnection(Protocol):
    """The connection of one event channel: the channel POST goes out, its
    answer comes back; a 200's body (chunked, never ending) then feeds the
    link protocol, as whole as each read of the connection makes it (one
    call per read, not per chunk); any other answer is the refusal, read
    whole. Only the channel travels here (the XSP cannot see anything sent
    behind it)."""

    def __init__(self, endpoint: "XsiChannelEndpoint", protocol_factory, request: bytes, ready):
        self.endpoint = endpoint
        self.protocol_factory = protocol_factory
        self.request = request
        self.ready = ready
        self.answer = xsi_http.StreamedAnswer()
        self.link = None
        self._refusal = []

    def connectionMade(self):
        _no_delay(self.transport)
        self.transport.write(self.request)

    def dataReceived(self, data):
        try:
            body = self.answer.feed(data)
        except xsi_http.HttpFramingError as e:
            self._garbled(str(e))
            return
        if self.answer.status_code is None:
            return
        if self.link is None:
            if self.answer.status_code != 200:
                self._refused(body)
                return
            http = self.endpoint.http
            host = http.pinned_address or http.host
            peer = (IPv6Address if ":" in host else IPv4Address)("TCP", host, http.port)
            self.link = self.protocol_factory.buildProtocol(peer)
            self.link.makeConnection(_StreamTransport(self.transport, peer))
            self.endpoint.opened(self.ready, self.link)
        if body:
            self.link.dataReceived(body)
        if self.answer.ended and self.transport is not None:
            self.transport.loseConnection()  # the XSP ended the channel

    def _refused(self, body):
        self._refusal.append(body)
        if self.answer.ended:
            answer = self.answer
            self.endpoint.refused(self.ready, answer.status_code, answer.reason, b"".join(self._refusal))
            self.transport.loseConnection()

    def _garbled(self, why):
        if self.link is None:
            self.endpoint.failed_to_open(self.ready, ValueError("the channel's answer is not HTTP: %s" % why))
        else:
            lms.emit(
                self.endpoint.log, lms.MALFORMED_BROADWORKS_DOCUMENT, link=self.endpoint.settings.name,
                reason="the event channel's stream is not HTTP/1.1 chunks (%s), the link is closed" % why,
            )
        self.transport.abortConnection()

    def connectionLost(self, reason=None):
        if self.link is not None:
            self.link.connectionLost(Failure(ResponseDone()) if self.answer.ended else reason)
        else:
            self.endpoint.failed_to_open(self.ready, reason.value if reason is not None else ConnectionLost())


class _ChannelFactory(Factory):
    def __init__(self, endpoint, protocol_factory, request, ready):
        self.args = (endpoint, protocol_factory, request, ready)

    def buildProtocol(self, addr):
        return _ChannelConnection(*self.args)


@implementer(IStreamClientEndpoint)
class XsiChannelEndpoint:
    """Opens the event channel: ``connect(factory)`` POSTs the channel (channel
    set, priority, weight, expires, applicationId of ``settings``, a
    :class:`~csta_connector.broadworks.link.LinkSettings`) on a connection of
    its own and fires with the factory's protocol once the XSP answers 200;
    the answer's body then feeds that protocol. Any other answer, or none
    within the request timeout, fails the attempt (the ClientService tries
    again after its back-off)."""

    log = Logger()

    def __init__(self, http: XsiHttp, settings, clock):
        self.http = http
        self.settings = settings
        self.clock = clock

    def connect(self, protocol_factory):
        s = self.settings
        request = self.http.channel_request(
            xsi_http.http_request(
                requests.add_channel(s.channel_set_id, s.priority, s.weight, s.channel_expires, s.application_id)
            ).body
        )
        connecting = []

        def cancel(_):
            for d in connecting:
                d.cancel()
            for connection in opened:
                if connection.transport is not None:
                    connection.transport.abortConnection()

        ready = defer.Deferred(cancel)
        opened = []
        d = _Connecting(self.http.endpoints.endpoint(), self.http._pin).connect(
            _ChannelFactory(self, protocol_factory, request, ready))
        connecting.append(d)

        def connected(connection):
            connecting.clear()
            opened.append(connection)
            return None

        def not_connected(failure):
            connecting.clear()
            self.failed_to_open(ready, failure)
            return None

        d.addCallbacks(connected, not_connected)

        def time_out():
            self.failed_to_open(ready, BroadWorksTimeout(xsi_http.ADD_CHANNEL, s.request_timeout))
            cancel(None)

        timer = self.clock.callLater(s.request_timeout, time_out)

        def done(result):
            if timer.active():
                timer.cancel()
            return result

        ready.addBoth(done)
        ready.addErrback(self._failed)
        return ready

    @staticmethod
    def opened(ready, link):
        if not ready.called:
            ready.callback(link)

    @staticmethod
    def failed_to_open(ready, error):
        if not ready.called:
            ready.errback(error)

    def refused(self, ready, status_code, reason, body):
        response = xsi_http.response(status_code, reason, body)
        self.failed_to_open(ready, BroadWorksRequestError.from_error_info(
            xsi_http.ADD_CHANNEL, status_code, reason, xsp.xsi_values(response.payload)
        ))

    def _failed(self, failure):
        if failure.check(BroadWorksRequestError, BroadWorksTimeout):
            lms.emit(
                self.log, lms.CHANNEL_ADD_FAILED, link=self.settings.name,
                channel_set=self.settings.channel_set_id, reason=failure.getErrorMessage(),
            )
        return failure


# --------------------------------------------------------------------------
# the link


_ROOT = re.compile(rb"\s*(?:<\?xml\s[^>]*\?>\s*)?<(?:[A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)")


@implementer(IBroadWorksLink)
class XsiLinkProtocol(LinkBase):
    """One Xsi event channel and the requests of its link.

    Its transport is the channel's stream (see :class:`XsiChannelEndpoint`);
    ``http`` (an :class:`XsiHttp`) carries every other request.
    """

    log = Logger()

    def __init__(self, settings, clock, listener, http: XsiHttp, ordering=None, reader=None,
                 detail=lms.EVERY_LEVEL, trace=None):
        """``ordering``, ``reader``, ``detail``, ``trace``: as for every
        :class:`~csta_connector.broadworks.linkcore.LinkBase`."""
        super().__init__(settings, clock, listener, ordering, reader, detail, trace)
        self.http = http
        self._channel_wait = None  # until the Channel document comes
        self._heartbeat_timer = None
        self._heartbeat_outstanding = False
        self._missed_heartbeats = 0
        self._acks: Acknowledgements | None = None  # once the stream is open

    # -- the stream ---------------------------------------------------------

    def connectionMade(self):
        self._connected = True
        self._channel_wait = self.clock.callLater(self.settings.request_timeout, self._no_channel_document)
        self._acks = self.http.acknowledgements(
            self.clock, self.settings.request_timeout, self.settings.name, self._unresponsive, self.trace
        )

    def _no_channel_document(self):
        self._channel_wait = None
        lms.emit(
            self.log, lms.CHANNEL_ADD_FAILED, link=self.settings.name,
            channel_set=self.settings.channel_set_id,
            reason="the event channel sent no Channel document within %g s" % self.settings.request_timeout,
        )
        self.close("no Channel document on the event channel")

    def connectionLost(self, reason=None):
        for timer in (self._channel_wait, self._heartbeat_timer):
            if timer is not None and timer.active():
                timer.cancel()
        self._channel_wait = self._heartbeat_timer = None
        if self._acks is not None:
            self._acks.close()
        self._went_down()
        self.http.close().addErrback(
            lambda f: lms.emit(self.log, lms.UNEXPECTED_ERROR, failure=f, error=f.getErrorMessage(),
                               what="closing the idle connections of link %s" % self.settings.name)
        )
        if self._splitter.pending:
            lms.emit(
                self.log, lms.MALFORMED_BROADWORKS_DOCUMENT, link=self.settings.name,
                reason="the event channel ended inside a document (%d bytes dropped)" % self._splitter.pending,
            )
        self.listener.link_lost(self, Failure(LinkLost("event channel", self._why_lost(reason))))

    def _why_lost(self, reason) -> str:
        if self._closed_because is not None:
            return self._closed_because
        if reason is None or reason.check(ResponseDone):
            return "the XSP ended the event channel"
        return "the event channel's connection was lost: %s" % (reason.getErrorMessage() or reason.type.__name__)

    def dataReceived(self, data: bytes):
        for document in split(self, self._splitter, data, "event channel"):
            if not self._connected:
                return
            self._document_received(document)

    def _document_received(self, document: bytes):
        if self.trace is not None:
            self.trace("in", document)
        if self.detail.wants(lms.BROADWORKS_DOCUMENT_RECEIVED):
            lms.emit(self.log, lms.BROADWORKS_DOCUMENT_RECEIVED, link=self.settings.name,
                     document=dump(document))
        root = _ROOT.match(document)
        name = root.group(1) if root is not None else _root_name(document)
        if name == b"Event":
            self._event_document(document)
        elif name == b"ChannelHeartBeat":
            self._heartbeat_outstanding = False
            self._missed_heartbeats = 0
        elif name == b"Channel":
            self._channel_document(document)
        else:
            lms.emit(
                self.log, lms.MALFORMED_BROADWORKS_DOCUMENT, link=self.settings.name,
                reason="a %s document, which an event channel does not carry"
                % (name.decode("ascii", "replace") or "non-XML"),
            )

    def _channel_document(self, document: bytes):
        try:
            values = xsp.xsi_values(xsp.parse_document(document))
        except xsp.XspDecodeError as e:
            lms.emit(self.log, lms.MALFORMED_BROADWORKS_DOCUMENT, link=self.settings.name, reason=str(e))
            return
        if self.channel_id is not None or not values.get("channelId"):
            lms.emit(
                self.log, lms.MALFORMED_BROADWORKS_DOCUMENT, link=self.settings.name,
                reason="a Channel document %s after the first, or without a channelId" % (values,),
            )
            return
        if self._channel_wait is not None and self._channel_wait.active():
            self._channel_wait.cancel()
        self._channel_wait = None
        self._schedule_heartbeat()
        channel_added(self, self.listener, values)

    def _event_document(self, document: bytes):
        try:
            envelope = self.reader.decode_stream_event(document)
        except xsp.XspDecodeError as e:
            lms.emit(self.log, lms.MALFORMED_BROADWORKS_DOCUMENT, link=self.settings.name, reason=str(e))
            return
        root = envelope.payload
        if root is not None and (root.get(_TYPE) or "").endswith("ErrorEvent"):
            # the XSP complains about something sent over the channel
            values = xsp.xsi_values(root)
            lms.emit(
                self.log, lms.XSI_CHANNEL_ERROR, link=self.settings.name,
                code=values.get("errorCode") or "?", error=values.get("errorMessage") or "",
            )
            return
        self._intake.received(envelope)

    def _acknowledge(self, token, event_id, status, reason):
        if self.detail.wants(lms.BROADWORKS_DOCUMENT_SENT):
            request = xsi_http.event_response(event_id, status, reason)
            lms.emit(self.log, lms.BROADWORKS_DOCUMENT_SENT, link=self.settings.name,
                     document="%s %s %s" % (request.method, request.target, dump(request.body)))
        self._acks.send(event_id, status, reason)

    # -- requests -------------------------------------------------------------

    def request(self, cti_request: xsp.CtiRequest, affinity=None) -> defer.Deferred:
        """Send the Xsi request of a CTI request; fires with the 2xx
        xsp.Response, fails with a BroadWorksError (error status, timeout or
        link loss)."""
        if not self._connected:
            return defer.fail(LinkLost(cti_request.name, "link is not connected"))
        return self._send(xsi_http.http_request(cti_request))

    def _send(self, request: xsi_http.XsiRequest) -> defer.Deferred:
        request_id, d = self._pending.add(request.name)
        if d.called:
            return d
        if self.trace is not None and request.body is not None:
            self.trace("out", request.body)
        if self.detail.wants(lms.BROADWORKS_DOCUMENT_SENT):
            lms.emit(self.log, lms.BROADWORKS_DOCUMENT_SENT, link=self.settings.name,
                     document="%s %s %s" % (request.method, request.target, dump(request.body or b"")))
        if self.detail.wants(lms.BROADWORKS_REQUEST_SENT):
            lms.emit(self.log, lms.BROADWORKS_REQUEST_SENT, link=self.settings.name,
                     request=request.name, request_id=request_id)
        work = self.http.request(request.method, request.target, request.body)
        self._pending.attach(request_id, work)
        work.addCallbacks(self._answered, self._not_answered, (request_id,), None, (request_id,))
        return d

    def _answered(self, answer: XsiAnswer, request_id):
        if self.trace is not None and answer.body:
            self.trace("in", answer.body)
        self._pending.answer(request_id, xsi_http.response(answer.status_code, answer.reason, answer.body))

    def _not_answered(self, failure, request_id):
        entry = self._pending.pop(request_id)
        if entry is None:
            return None  # it timed out, was cancelled, or the link went down
        entry.deferred.errback(LinkLost(entry.name, "HTTP request failed: %s" % failure.getErrorMessage()))

    def _internal_failed(self, failure, name):
        """The link's own requests (acknowledgements, heartbeats) need no caller:
        their failures are logged, timeouts already were."""
        if not failure.check(LinkLost, BroadWorksTimeout, BroadWorksRequestError):
            lms.emit(self.log, lms.UNEXPECTED_ERROR, failure=failure, error=failure.getErrorMessage(),
                     what="in %s of link %s" % (name, self.settings.name))

    # -- channel renewal and heartbeats -----------------------------------

    def _schedule_heartbeat(self):
        interval = self.settings.kpl_interval
        if interval and interval > 0 and self._connected:
            self._heartbeat_timer = self.clock.callLater(interval, self._heartbeat_tick)

    def _heartbeat_tick(self):
        """Beat every kpl-interval; each beat's ChannelHeartBeat must come
        back on the stream before the next one, or it counts as missed."""
        self._heartbeat_timer = None
        if not self._connected:
            return
        if self._heartbeat_outstanding:
            self._missed_heartbeats += 1
            if self._missed_heartbeats > self.settings.kpl_tolerance:
                self._unresponsive("%d heartbeat(s)" % self._missed_heartbeats)
                return
        self._heartbeat_outstanding = True
        self._send(xsi_http.heartbeat(self.channel_id)).addErrback(self._heartbeat_failed)
        self._schedule_heartbeat()

    def _heartbeat_failed(self, failure):
        if failure.check(BroadWorksRequestError) and failure.value.status_code in _CHANNEL_GONE:
            # the XSP does not know the channel any more: open a new one
            lms.emit(
                self.log, lms.CHANNEL_TERMINATED, link=self.settings.name,
                channel_id="%s (heartbeat answered %d %s)"
                % (self.channel_id, failure.value.status_code, failure.value.reason),
            )
            self.close("heartbeat refused: %d %s" % (failure.value.status_code, failure.value.reason))
            return None
        return self._internal_failed(failure, xsi_http.HEARTBEAT)


class XsiLinkFactory(Factory):
    """Builds the link protocol of each channel the endpoint opens (what a
    channel set's link factory is for a CTI link)."""

    def __init__(self, settings, clock, listener, http: XsiHttp, ordering=None, reader=None,
                 detail=lms.EVERY_LEVEL):
        self.settings = settings
        self.clock = clock
        self.listener = listener
        self.http = http
        self.ordering = ordering
        self.reader = reader
        self.detail = detail
        self.trace = None

    def buildProtocol(self, addr):
        return XsiLinkProtocol(self.settings, self.clock, self.listener, self.http, self.ordering,
                               self.reader, self.detail, self.trace)


_TYPE = "{%s}type" % xsi.XSD_INSTANCE_NS


def _root_name(document: bytes) -> bytes:
    """The root's local name of a document the quick look cannot place
    (comments before the root, say); b"" when it is not XML at all."""
    try:
        return xsp.parse_document(document).tag.rpartition("}")[2].encode("ascii", "replace")
    except (xsp.XspDecodeError, AttributeError):
        return b""
