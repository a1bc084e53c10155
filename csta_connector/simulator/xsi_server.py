# -*- test-case-name: tests.protocol.test_xsi_server -*-
"""The simulator's Xsi front-end: Xsi-Events and Xsi-Actions over HTTP (SPEC §3.1, §4).

One :class:`XsiServer` is one XSP front-end serving Xsi on twisted.web, from
the same :class:`~csta_connector.simulator.xsp_server.XspServer` as the CTI
front-ends: the same engine, users, channels, channel sets and
subscriptions. A channel set may hold CTI connections and Xsi channels alike,
an unacknowledged event is re-sent on another channel of the set whatever its
front-end, and an AS failover looks the same on both.

* ``POST /com.broadsoft.async/com.broadsoft.xsi-events/v2.0/channel`` opens a
  streaming channel: a chunked answer that never ends, one document per chunk
  (``Channel`` first, then ``ChannelHeartBeat`` and ``xsi:Event``), as the
  real XSP writes it (reference/broadworks-xsi.md §2.2);
* ``PUT .../channel/<id>/heartbeat`` writes a ChannelHeartBeat on that
  channel's stream (404 for a channel this front-end does not hold); with
  ``event_timeout`` set, a stream that gets no heartbeat for that long ends;
* ``POST .../channel/eventresponse`` acknowledges an event (by eventID, with
  the status codes of the schema: 404/500 move it to another channel);
* every other request is turned into the CTI request it stands for
  (``broadworks/xsi_http.py``) and served by the CTI request handlers
  (subscriptions, channel renewal and deletion, the Xsi-Actions call control);
  their answers carry the same status codes and ErrorInfo;
* HTTP basic auth on every request: 401 without credentials, or with a
  password ``passwords`` does not know (``passwords`` None: any user and
  password are accepted, as the CTI front-end accepts any credentials);
* the front-end can go down like the CTI ones (control API ``/xsp/<n>/down``):
  ``close`` ends its streams and refuses requests, ``hang`` stalls them (no
  event, no heartbeat, no answer).
"""

from __future__ import annotations

import base64
import binascii

from twisted.logger import Logger
from twisted.web import http, resource, server
from zope.interface import implementer

from csta_connector import lms
from csta_connector.broadworks import xsi, xsi_http, xsp
from csta_connector.simulator.xsp_server import MIN_EXPIRES, CtiRequestHandlers, IChannelConnection

_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}


class _Answering(CtiRequestHandlers):
    """One Xsi request served by the CTI request handlers."""

    def __init__(self, front_end: "XsiServer", http_request):
        self.front_end = front_end
        self.server = front_end.xsp
        self.http_request = http_request

    def _respond(self, request, status=200, reason="OK", payload=None):
        self.front_end.answer(self.http_request, status, reason, payload)

    def _has_channel(self) -> bool:
        # an Xsi request travels apart from its application's event channel
        return bool(self.server.channels)


@implementer(IChannelConnection)
class XsiStream(CtiRequestHandlers):
    """One Xsi event channel: the streaming answer to the channel POST."""

    log = Logger()

    def __init__(self, front_end: "XsiServer", http_request):
        self.xsi = front_end
        self.server = front_end.xsp
        self.front_end = front_end.index
        self.http_request = http_request
        self.channel = None
        self.is_delivering = True
        self._open = False  # the Channel document went out: events may follow
        self._ended = False
        self._waiting: list[bytes] = []  # events given before the Channel document
        self._heartbeat_timer = None
        http_request.notifyFinish().addBoth(self._ended_by_http)

    @property
    def transport(self):
        if self._ended:
            return None
        return getattr(self.http_request.channel, "transport", None)

    def _respond(self, request, status=200, reason="OK", payload=None):
        if status != 200:
            self._ended = True
            self.xsi.answer(self.http_request, status, reason, payload)
            return
        http_request = self.http_request
        http_request.setResponseCode(200)
        http_request.setHeader(b"content-type", xsi_http.STREAM_CONTENT_TYPE)
        self.server.connections.add(self)
        values = xsp.xsi_values(payload)
        self._write(xsi_http.channel_document(values["channelId"], int(values.get("expires") or MIN_EXPIRES)))
        self._open = True
        waiting, self._waiting = self._waiting, []
        for document in waiting:
            self._write(document)
        self._expect_heartbeat()

    def _write(self, document: bytes):
        if self._ended:
            return
        if self.xsi.trace is not None:
            self.xsi.trace("out", document)
        self.http_request.write(document)

    # -- IChannelConnection -------------------------------------------------

    def deliver(self, key, event_xml):
        document = xsi_http.event_document(event_xml)
        if self._open:
            self._write(document)
        else:
            self._waiting.append(document)

    def terminate(self, event):
        self._write(xsi_http.event_document(xsi.event_xml(event)))
        self.end()

    def abort(self):
        transport = self.transport
        if transport is not None:
            transport.abortConnection()

    # -- heartbeats -----------------------------------------------------------

    def heartbeat(self):
        self._write(xsi_http.HEARTBEAT_DOCUMENT)
        self._expect_heartbeat()

    def _expect_heartbeat(self):
        timeout = self.xsi.event_timeout
        if not timeout or self._ended:
            return
        if self._heartbeat_timer is not None and self._heartbeat_timer.active():
            self._heartbeat_timer.reset(timeout)
        else:
            self._heartbeat_timer = self.xsi.clock.callLater(timeout, self._no_heartbeat)

    def _no_heartbeat(self):
        self._heartbeat_timer = None
        lms.emit(
            self.log, lms.SIMULATOR_XSI_NO_HEARTBEAT,
            xsp=self.front_end + 1, channel_id=self.channel.channel_id if self.channel else "?",
            timeout=self.xsi.event_timeout,
        )
        self.end()

    # -- the end ------------------------------------------------------------

    def end(self):
        """Finish the stream (the last chunk); the channel goes with it."""
        if not self._ended:
            self.http_request.finish()

    def _ended_by_http(self, _):
        """The answer finished, or its connection went away."""
        self._ended = True
        if self._heartbeat_timer is not None and self._heartbeat_timer.active():
            self._heartbeat_timer.cancel()
        self._heartbeat_timer = None
        self.server.connections.discard(self)
        if self.channel is not None:
            channel, self.channel = self.channel, None
            self.server.remove_channel(channel)


class _XsiResource(resource.Resource):
    isLeaf = True

    def __init__(self, front_end: "XsiServer"):
        super().__init__()
        self.front_end = front_end

    def render(self, request):
        return self.front_end.render(request)


_EVENT_RESPONSE_LINE = b"POST %s HTTP/1.1\r\n" % xsi_http.EVENT_RESPONSE_PATH.encode("ascii")
_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
_MAX_HEAD = 16384


class _Channel(http.HTTPChannel):
    """One HTTP connection to an Xsi front-end. EventResponse POSTs (one per
    event, pipelined by the connector on a connection of their own) are read
    and answered here, leanly; a connection's first request of any other
    kind hands it, from there on, to twisted.web."""

    front_end: "XsiServer"
    _general = False  # twisted.web reads this connection
    _unread = b""

    def connectionMade(self):
        super().connectionMade()
        # small answers must not wait for Nagle and delayed ACKs
        set_no_delay = getattr(self.transport, "setTcpNoDelay", None)
        if set_no_delay is not None:
            set_no_delay(True)

    def dataReceived(self, data):
        if self._general:
            super().dataReceived(data)
            return
        buffer = self._unread + data if self._unread else data
        position = 0
        while position < len(buffer):
            rest = len(buffer) - position
            if not buffer.startswith(_EVENT_RESPONSE_LINE, position):
                if rest < len(_EVENT_RESPONSE_LINE) and _EVENT_RESPONSE_LINE.startswith(buffer[position:]):
                    break  # perhaps one, when the rest comes
                self._to_general(buffer[position:])
                return
            end = buffer.find(b"\r\n\r\n", position)
            if end < 0:
                if rest > _MAX_HEAD:
                    self._to_general(buffer[position:])
                    return
                break
            headers = {}
            for line in buffer[position + len(_EVENT_RESPONSE_LINE):end].split(b"\r\n"):
                name, _, value = line.partition(b":")
                headers[name.strip().lower()] = value.strip()
            length = headers.get(b"content-length", b"")
            if not length.isdigit() or b"expect" in headers or b"transfer-encoding" in headers:
                self._to_general(buffer[position:])
                return
            body_end = end + 4 + int(length)
            if len(buffer) < body_end:
                break
            answer = self.front_end.event_response(self, headers.get(b"authorization"), buffer[end + 4:body_end])
            if answer is None:  # the front-end is down: nothing is read any more
                self._unread = b""
                return
            self.transport.write(answer)
            position = body_end
        self._unread = buffer[position:]

    def _to_general(self, data):
        self._general = True
        self._unread = b""
        super().dataReceived(data)


class _XsiSite(server.Site):
    protocol = _Channel  # HTTP/1.1, as the XSP speaks it
    noisy = False
    displayTracebacks = False

    def buildProtocol(self, addr):
        channel = super().buildProtocol(addr)
        channel.front_end = self.front_end
        return channel

    def log(self, request):
        """No access log: an Xsi front-end answers a request per event."""


class XsiServer:
    """One Xsi front-end of the simulator's XSP (see the module docstring)."""

    log = Logger()

    def __init__(self, xsp_server, clock, passwords: dict[str, str] | None = None,
                 event_timeout: float | None = None):
        self.xsp = xsp_server
        self.clock = clock
        self.passwords = passwords
        self.event_timeout = event_timeout
        self.index = xsp_server.add_front_end("xsi")
        self._stalled: set = set()  # requests a hanging front-end holds unanswered
        self._credentials_seen: dict[bytes, str] = {}
        #: optional callable(direction, document bytes): an opt-in wire tap
        self.trace = None

    @property
    def state(self) -> str:
        return self.xsp.front_ends[self.index].state

    def site(self) -> server.Site:
        site = _XsiSite(_XsiResource(self), reactor=self.clock)
        site.front_end = self
        return site

    def listening(self, port: int) -> None:
        """The port the site listens on (shown by the control API's /xsp)."""
        self.xsp.front_ends[self.index].port = port

    def stop(self):
        """Drop what a hanging front-end held (tests end with no open request)."""
        stalled, self._stalled = self._stalled, set()
        for request in stalled:
            transport = getattr(request.channel, "transport", None)
            if transport is not None:
                transport.abortConnection()

    # -- requests -------------------------------------------------------------

    def render(self, request):
        state = self.state
        if state == "close":
            request.channel.transport.abortConnection()  # a front-end that is down refuses
            return server.NOT_DONE_YET
        if state == "hang":
            self._stall(request)
            return server.NOT_DONE_YET
        credentials = self._credentials(request)
        if credentials is None:
            request.setHeader(b"www-authenticate", b'Basic realm="BroadWorks"')
            self.answer(request, 401, "Unauthorized", xsp.error_info(110003, "invalid credentials"))
            return server.NOT_DONE_YET
        try:
            segments = [segment.decode("utf-8") for segment in request.postpath]
            query = request.uri.partition(b"?")[2].decode("utf-8")
        except UnicodeDecodeError:
            self.answer(request, 400, "Bad Request", xsp.error_info(100002, "request URI is not UTF-8"))
            return server.NOT_DONE_YET
        method = request.method.decode("ascii", "replace")
        found = xsi_http.match(method, segments)
        if found is None:
            self.answer(
                request, 404, "Not Found",
                xsp.error_info(100001, "no Xsi resource %s %s" % (method, "/" + "/".join(segments))),
            )
            return server.NOT_DONE_YET
        route, params = found
        data = request.content.read() if request.content is not None else b""
        if self.trace is not None and data:
            self.trace("in", data)
        if route.name == xsi_http.EVENT_RESPONSE:
            self._event_response(request, data)
        elif route.name == xsi_http.HEARTBEAT:
            self._heartbeat(request, params["channelId"])
        else:
            body = None
            if data.strip():
                try:
                    body = xsp.parse_document(data)
                except xsp.XspDecodeError as e:
                    self.answer(request, 400, "Bad Request", xsp.error_info(100002, str(e)))
                    return server.NOT_DONE_YET
            cti = xsi_http.cti_request(route, params, request.path.decode("utf-8", "replace"), query, body)
            cti_request = xsp.Request("", "", cti, credentials)
            if route.name == xsi_http.ADD_CHANNEL:
                XsiStream(self, request)._request(cti_request)
            else:
                _Answering(self, request)._request(cti_request)
        return server.NOT_DONE_YET

    def answer(self, request, status, reason, payload=None):
        """Finish one request with its status and its Xsi body (if any)."""
        body = xsi_http.document(payload) if payload is not None else b""
        request.setResponseCode(status, (reason or _REASONS.get(status, "Error")).encode("ascii", "replace"))
        if body:
            request.setHeader(b"content-type", xsi_http.CONTENT_TYPE)
            if self.trace is not None:
                self.trace("out", body)
        request.setHeader(b"content-length", b"%d" % len(body))
        request.write(body)
        request.finish()

    def _stall(self, request):
        self._stalled.add(request)
        request.notifyFinish().addBoth(lambda _: self._stalled.discard(request))

    def _credentials(self, request) -> str | None:
        """The base64 ``user:password`` of a request's basic auth (the CTI
        credentials), None when missing or refused."""
        return self._credentials_of(request.getHeader(b"authorization"))

    def _credentials_of(self, header: bytes | None) -> str | None:
        if not header or not header[:6].lower() == b"basic ":
            return None
        token = header[6:].strip()
        known = self._credentials_seen.get(token)
        if known is not None:
            return known
        try:
            user, colon, password = base64.b64decode(token, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        if not user or not colon:
            return None
        if self.passwords is not None and self.passwords.get(user) != password:
            return None
        credentials = token.decode("ascii")
        if len(self._credentials_seen) < 64:
            self._credentials_seen[token] = credentials
        return credentials

    def event_response(self, connection, authorization, body) -> bytes | None:
        """An EventResponse POST read by the lean path of ``connection``: the
        answer's bytes, or None when the front-end is down (``close``: the
        connection is dropped; ``hang``: nothing is answered)."""
        state = self.state
        if state == "close":
            connection.transport.abortConnection()
            return None
        if state == "hang":
            return None
        if self.trace is not None:
            self.trace("in", body)
        if self._credentials_of(authorization) is None:
            return self._raw_answer(401, "Unauthorized", xsp.error_info(110003, "invalid credentials"),
                                    b'WWW-Authenticate: Basic realm="BroadWorks"\r\n')
        try:
            event_id, status = xsi_http.read_event_response(body)
        except ValueError as e:
            return self._raw_answer(400, "Bad Request", xsp.error_info(100002, str(e)))
        self.xsp.acknowledge(event_id, status)
        return _OK

    def _raw_answer(self, status, reason, payload, extra=b""):
        body = xsi_http.document(payload)
        if self.trace is not None:
            self.trace("out", body)
        return b"HTTP/1.1 %d %s\r\n%sContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s" % (
            status, reason.encode("ascii"), extra, xsi_http.CONTENT_TYPE, len(body), body)

    def _event_response(self, request, data):
        try:
            event_id, status = xsi_http.read_event_response(data)
        except ValueError as e:
            self.answer(request, 400, "Bad Request", xsp.error_info(100002, str(e)))
            return
        self.xsp.acknowledge(event_id, status)
        self.answer(request, 200, "OK")

    def _heartbeat(self, request, channel_id):
        channel = self.xsp.channels.get(channel_id)
        stream = channel.connection if channel is not None else None
        if not isinstance(stream, XsiStream) or stream.front_end != self.index:
            # heartbeats go to the XSP that holds the channel
            self.answer(request, 404, "Not Found", xsp.error_info(110842, "channel %s not found" % channel_id))
            return
        stream.heartbeat()
        self.answer(request, 200, "OK")
