# -*- test-case-name: tests.unit.test_xsi_http -*-
"""The Xsi HTTP requests behind the CTI requests, and the event channel's documents (pure: no Twisted).

A CTI request (:class:`xsp.CtiRequest`) is the envelope of one Xsi request:
it names the CTI request, the Xsi ``method``, the ``params`` that fill the
URI and the Xsi body (SPEC §3). The Xsi link sends that very request over
HTTP (reference/broadworks-xsi.md §1-§5), and the simulator's Xsi front-end
turns an HTTP request back into the CTI request its CTI front-end serves. One
route table serves both directions, so the two cannot drift apart.

Where the CTI interface and Xsi spell a request differently, the table
follows Xsi (the CTI schema documents lowercase action names, the Xsi-Actions
specification the capitalized ones; the simulator accepts both)::

    AddChannelRequest      CTI  POST /com.broadsoft.xsi-events/v2.0/channel
                           Xsi  POST /com.broadsoft.async/com.broadsoft.xsi-events/v2.0/channel
                                (the streaming channel, on a connection of its own)
    TalkRequest ...        CTI  PUT  .../calls/<callId>/talk, /hold, /reconnect
                           Xsi  PUT  .../calls/<callId>/Talk, /Hold, /Reconnect
    BlindTransferRequest   CTI  .../blindtransfer?address=  Xsi  .../BlindTransfer?address=
    TransmitDTMFRequest    CTI  .../transmitDTMF?PlayDTMF   Xsi  .../TransmitDTMF?playdtmf=
    ConferenceStartRequest CTI  POST .../calls/conference   Xsi  POST .../calls/Conference
    SetAgentStateRequest,  CTI  .../user/<id>/services/callcenter
    GetAgentStateRequest   Xsi  .../user/<id>/services/CallCenter (PUT / GET, body xsi:CallCenter)

Two Xsi commands have no CTI request: the channel heartbeat
(``PUT .../channel/<channelId>/heartbeat``) and the event acknowledgement
(``POST .../channel/eventresponse``); the table names them :data:`HEARTBEAT`
and :data:`EVENT_RESPONSE`.

Values in a path keep ``@ + :`` as they are; in a query string ``+`` is
percent-encoded, since HTTP servers read a bare ``+`` there as a space.
"""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import parse_qsl, quote

from lxml import etree

from csta_connector.broadworks import requests, xsp
from csta_connector.broadworks import xsi_contact_centre as cc
from csta_connector.broadworks.xsi import XSI_NS

XSI_EVENTS = requests.XSI_EVENTS
XSI_ACTIONS = requests.XSI_ACTIONS
CHANNEL_PATH = "/com.broadsoft.async/com.broadsoft.xsi-events/v2.0/channel"
EVENT_RESPONSE_PATH = XSI_EVENTS + "/channel/eventresponse"

HEARTBEAT = "ChannelHeartBeat"
EVENT_RESPONSE = "EventResponse"
ADD_CHANNEL = "AddChannelRequest"

DECLARATION = xsp.XML_DECLARATION
CONTENT_TYPE = b"application/xml; charset=UTF-8"
STREAM_CONTENT_TYPE = b"text/xml;charset=UTF-8"


class Route(NamedTuple):
    """One Xsi request: its HTTP method, its path with ``{param}`` placeholders
    (the CTI request's param names), and the query keys taken from params."""

    name: str
    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()  # (Xsi query key, CTI param name)

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.path.split("/")[1:])


_USER_CALLS = XSI_ACTIONS + "/user/{subscriberid}/calls"
_AGENT = XSI_ACTIONS + "/user/{subscriberid}/services/CallCenter"
_CALL_CENTER_CALLS = XSI_ACTIONS + "/callcenter/{callcenterid}/calls"
_ROUTE_POINT = XSI_ACTIONS + "/routepoint/{routepointId}"
_ROUTE_POINT_CALL = _ROUTE_POINT + "/calls/{callId}"

ROUTES = (
    Route(ADD_CHANNEL, "POST", CHANNEL_PATH),
    Route(EVENT_RESPONSE, "POST", EVENT_RESPONSE_PATH),
    Route(HEARTBEAT, "PUT", XSI_EVENTS + "/channel/{channelId}/heartbeat"),
    Route("UpdateChannelRequest", "PUT", XSI_EVENTS + "/channel/{channelId}"),
    Route("DeleteChannelRequest", "DELETE", XSI_EVENTS + "/channel/{channelId}"),
    Route("AddUserSubscriptionRequest", "POST", XSI_EVENTS + "/user/{userId}"),
    Route("UpdateSubscriptionRequest", "PUT", XSI_EVENTS + "/subscription/{subscriptionId}"),
    Route("DeleteSubscriptionRequest", "DELETE", XSI_EVENTS + "/subscription/{subscriptionId}"),
    Route(
        "GetApplicationControllerStateRequest",
        "GET",
        XSI_ACTIONS + "/system/services/routepoint/applicationcontroller/{applicationcontrollerid}",
    ),
    Route("DialRequest", "POST", _USER_CALLS + "/new", (("address", "address"),)),
    Route("ConferenceStartRequest", "POST", _USER_CALLS + "/Conference"),
    Route("TalkRequest", "PUT", _USER_CALLS + "/{callid}/Talk"),
    Route("HoldRequest", "PUT", _USER_CALLS + "/{callid}/Hold"),
    Route("ReconnectRequest", "PUT", _USER_CALLS + "/{callid}/Reconnect"),
    Route("ReleaseRequest", "DELETE", _USER_CALLS + "/{callid}", (("decline", "decline"),)),
    Route("BlindTransferRequest", "PUT", _USER_CALLS + "/{callid}/BlindTransfer", (("address", "address"),)),
    Route("ConsultativeTransferRequest", "PUT", _USER_CALLS + "/{callid1}/ConsultTransfer/{callid2}"),
    Route("TransmitDTMFRequest", "PUT", _USER_CALLS + "/{callid}/TransmitDTMF", (("playdtmf", "PlayDTMF"),)),
    # the contact centre (CTIAgent, CTIACD, CTIRoutePoint, CTISystem): its
    # CTI URIs are the Xsi-Actions ones already (cti_contact_centre.py), but
    # for the agent's service, which Xsi-Actions spells CallCenter
    Route("SetAgentStateRequest", "PUT", _AGENT),
    Route("GetAgentStateRequest", "GET", _AGENT),
    Route("GetACDRequest", "GET", _CALL_CENTER_CALLS),
    Route("ACDReleaseCallRequest", "DELETE", _CALL_CENTER_CALLS + "/{callid}"),
    Route("ACDBlindTransferRequest", "PUT", _CALL_CENTER_CALLS + "/{callid}/blindtransfer", (("phoneno", "phoneno"),)),
    Route("ACDPromoteCallRequest", "PUT", _CALL_CENTER_CALLS + "/{callid}/promote"),
    Route("ACDReorderCallRequest", "PUT", _CALL_CENTER_CALLS + "/{callid}/reorder", (("index", "index"),)),
    Route("GetRoutePointRequest", "GET", _ROUTE_POINT + "/calls"),
    Route("GetRoutePointStateRequest", "GET", _ROUTE_POINT + "/profile/state"),
    Route("ModifyRoutePointStateRequest", "PUT", _ROUTE_POINT + "/profile/state"),
    Route("RoutePointReleaseCallRequest", "DELETE", _ROUTE_POINT_CALL + "/"),
    *(Route(name, "PUT", _ROUTE_POINT_CALL + suffix) for name, suffix in (
        ("RoutePointFailCallRequest", "/fail"), ("RoutePointBounceCallRequest", "/bounce"),
        ("RoutePointAdmitCallRequest", "/admit"), ("RoutePointRejectCallRequest", "/reject"),
        ("RoutePointDistributeCallRequest", "/distribute"),
    )),
    Route("RoutePointBlindTransferRequest", "PUT", _ROUTE_POINT_CALL + "/blindtransfer", (("address", "address"),)),
    *(Route(kind.request, "PUT", _ROUTE_POINT_CALL + "/" + kind.uri_suffix) for kind in cc.PLAY_KINDS),
    Route(
        "SetApplicationControllerStateRequest",
        "PUT",
        XSI_ACTIONS + "/system/services/routepoint/applicationcontroller/{applicationcontrollerid}",
    ),
)
ROUTE_OF = {route.name: route for route in ROUTES}

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class XsiRequest(NamedTuple):
    """One request as HTTP: method, target (path and query) and body bytes."""

    name: str
    method: str
    target: str
    body: bytes | None = None


# --------------------------------------------------------------------------
# the connector's direction: CTI request -> HTTP


def document(element) -> bytes:
    """An Xsi element as a document of its own (the body of a request or answer)."""
    return DECLARATION + etree.tostring(element)


def http_request(cti: xsp.CtiRequest) -> XsiRequest:
    """The HTTP request of a CTI request. A request the table does not know
    goes as its CTI ``method`` and ``uri`` (which are Xsi's)."""
    body = document(cti.body) if cti.body is not None else None
    route = ROUTE_OF.get(cti.name)
    if route is None:
        return XsiRequest(cti.name, cti.method, cti.uri, body)
    params = dict(cti.params)
    missing = [name for name in _PLACEHOLDER.findall(route.path) if not params.get(name)]
    if missing:
        return XsiRequest(cti.name, cti.method, cti.uri, body)
    target = _PLACEHOLDER.sub(lambda m: quote(params[m.group(1)], safe="@+:"), route.path)
    query = [
        "%s=%s" % (key, quote(params[param], safe="@:"))
        for key, param in route.query
        if params.get(param)
    ]
    if query:
        target += "?" + "&".join(query)
    return XsiRequest(cti.name, route.method, target, body)


def heartbeat(channel_id: str) -> XsiRequest:
    return XsiRequest(
        HEARTBEAT, "PUT", "%s/channel/%s/heartbeat" % (XSI_EVENTS, quote(channel_id, safe="@+:"))
    )


_EVENT_RESPONSE = (
    DECLARATION.decode("ascii") + '<EventResponse xmlns="%s"><eventID>%%s</eventID>'
    "<statusCode>%%d</statusCode><reason>%%s</reason></EventResponse>" % XSI_NS
)


def _escape(text: str) -> str:
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


def event_response(event_id: str, status_code: int = 200, reason: str = "OK") -> XsiRequest:
    """The acknowledgement of one event (every event but ChannelTerminatedEvent)."""
    body = _EVENT_RESPONSE % (_escape(event_id), status_code, _escape(reason))
    return XsiRequest(EVENT_RESPONSE, "POST", EVENT_RESPONSE_PATH, body.encode("utf-8"))


def request_bytes(method: str, target: str, host: str, credentials: str | None,
                  body: bytes | None = None, accept: bytes = b"application/xml") -> bytes:
    """One HTTP/1.1 request as it goes on the wire (basic auth when
    ``credentials``, base64 of ``user:password``)."""
    lines = [b"%s %s HTTP/1.1" % (method.encode("ascii"), target.encode("utf-8")),
             b"Host: " + host.encode("ascii")]
    if credentials:
        lines.append(b"Authorization: Basic " + credentials.encode("ascii"))
    lines += [b"Accept: " + accept, b"User-Agent: csta-connector"]
    if body is not None:
        lines += [b"Content-Type: " + CONTENT_TYPE, b"Content-Length: %d" % len(body)]
    return b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")


class StreamedAnswer:
    """The answer to one HTTP request read as it comes, its body never whole
    (the event channel's never ends): :meth:`feed` the connection's bytes;
    once ``status_code`` is set (the head is in), each call returns the body
    bytes the data completed, the chunk framing of ``Transfer-Encoding:
    chunked`` taken off (else ``Content-Length`` bytes, else up to the end of
    the connection); ``ended`` once the body is complete.
    :class:`HttpFramingError` for what is not HTTP/1.1."""

    def __init__(self):
        self.status_code: int | None = None
        self.reason = ""
        self.headers: dict[bytes, bytes] = {}
        self.ended = False
        self._buffer = b""
        self._chunked = False
        self._left: int | None = None  # bytes left in this chunk / the body (None: to the end)
        self._in_chunk = False

    def feed(self, data: bytes) -> bytes:
        buffer = self._buffer + data if self._buffer else data
        position = 0
        if self.status_code is None:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > AnswerReader.max_head:
                    raise HttpFramingError("the answer's head exceeds %d bytes" % AnswerReader.max_head)
                self._buffer = buffer
                return b""
            status = _STATUS_LINE.match(buffer)
            if status is None:
                raise HttpFramingError("not an HTTP/1.1 status line: %r" % buffer[:40])
            head = buffer[status.end():end] if status.end() <= end else b""
            for line in head.split(b"\r\n") if head else ():
                name, colon, value = line.partition(b":")
                if not colon:
                    raise HttpFramingError("not a header line: %r" % line[:40])
                self.headers[name.strip().lower()] = value.strip()
            self.status_code = int(status.group(1))
            self.reason = (status.group(2) or b"").decode("latin-1")
            position = end + 4
            self._chunked = b"chunked" in self.headers.get(b"transfer-encoding", b"").lower()
            if not self._chunked:
                length = self.headers.get(b"content-length")
                try:
                    self._left = int(length) if length is not None else None
                except ValueError:
                    raise HttpFramingError("Content-Length is not a number") from None
                if self.status_code in (204, 304) or self.status_code < 200:
                    self._left = 0
        body, position = (self._dechunk if self._chunked else self._plain)(buffer, position)
        self._buffer = buffer[position:]
        return body

    def _plain(self, buffer, position):
        if self._left is None:
            return buffer[position:], len(buffer)
        taken = buffer[position:position + self._left]
        self._left -= len(taken)
        self.ended = self._left == 0
        return taken, position + len(taken)

    def _dechunk(self, buffer, position):
        pieces = []
        size = len(buffer)
        while not self.ended and position < size:
            if self._in_chunk:
                if self._left:
                    piece = buffer[position:position + self._left]
                    pieces.append(piece)
                    self._left -= len(piece)
                    position += len(piece)
                    continue
                if size - position < 2:
                    break
                if buffer[position:position + 2] != b"\r\n":
                    raise HttpFramingError("a chunk does not end with CRLF")
                position += 2
                self._in_chunk = False
                continue
            line_end = buffer.find(b"\r\n", position)
            if line_end < 0:
                if size - position > 1024:
                    raise HttpFramingError("a chunk size line exceeds 1024 bytes")
                break
            try:
                chunk = int(buffer[position:line_end].split(b";", 1)[0], 16)
            except ValueError:
                raise HttpFramingError("not a chunk size: %r" % buffer[position:line_end][:40]) from None
            if chunk == 0:
                # the last chunk: trailers (if any) up to an empty line
                end = buffer.find(b"\r\n\r\n", line_end)
                if end == line_end:
                    position, self.ended = line_end + 4, True
                elif end < 0:
                    break
                else:
                    position, self.ended = end + 4, True
                break
            position = line_end + 2
            self._left = chunk
            self._in_chunk = True
        return b"".join(pieces), position


class EventResponsePosts:
    """The bytes of EventResponse POSTs to one XSP, everything but the body
    built once (the acknowledgement of every event goes this way: it must
    cost next to nothing). ``host``: the Host header's value; ``prefix``: the
    base URL's path; ``credentials``: base64 of ``user:password`` or None."""

    def __init__(self, host: str, prefix: str = "", credentials: str | None = None):
        authorization = "Authorization: Basic %s\r\n" % credentials if credentials else ""
        self._head = (
            "POST %s%s HTTP/1.1\r\nHost: %s\r\n%sUser-Agent: csta-connector\r\n"
            "Content-Type: %s\r\nContent-Length: " % (
                prefix, EVENT_RESPONSE_PATH, host, authorization, CONTENT_TYPE.decode("ascii"))
        ).encode("ascii")

    def post(self, event_id: str, status_code: int = 200, reason: str = "OK") -> tuple[bytes, bytes]:
        """(the whole request, its body) acknowledging one event."""
        body = (_EVENT_RESPONSE % (_escape(event_id), status_code, _escape(reason))).encode("utf-8")
        return b"%s%d\r\n\r\n%s" % (self._head, len(body), body), body


class HttpFramingError(ValueError):
    """Bytes that are not HTTP/1.1 answers."""


class Answer(NamedTuple):
    """One HTTP answer read off a connection."""

    status_code: int
    reason: str
    body: bytes
    #: the server closes the connection after it (``Connection: close``)
    closing: bool


_STATUS_LINE = re.compile(rb"HTTP/1\.[01] (\d{3})(?: ([^\r\n]*))?\r\n")


class AnswerReader:
    """Splits a connection's bytes into HTTP/1.1 answers, in order, however
    they are chunked by TCP: the status line, the headers, a body of
    ``Content-Length`` bytes or ``Transfer-Encoding: chunked`` (1xx, 204 and
    304 have none). Anything else raises :class:`HttpFramingError`."""

    max_head = 16384

    def __init__(self):
        self._buffer = b""

    def feed(self, data: bytes) -> list[Answer]:
        buffer = self._buffer + data if self._buffer else data
        answers = []
        position = 0
        while True:
            read = self._answer(buffer, position)
            if read is None:
                break
            answer, position = read
            if answer.status_code >= 200:
                answers.append(answer)
        self._buffer = buffer[position:]
        return answers

    def _answer(self, buffer, start):
        """(the answer at ``start``, where the next begins), or None while incomplete."""
        end = buffer.find(b"\r\n\r\n", start)
        if end < 0:
            if len(buffer) - start > self.max_head:
                raise HttpFramingError("an answer's head exceeds %d bytes" % self.max_head)
            return None
        status = _STATUS_LINE.match(buffer, start)
        if status is None:
            raise HttpFramingError("not an HTTP/1.1 status line: %r" % buffer[start:start + 40])
        code = int(status.group(1))
        headers = {}
        head = buffer[status.end():end] if status.end() <= end else b""  # no header at all
        for line in head.split(b"\r\n") if head else ():
            name, colon, value = line.partition(b":")
            if not colon:
                raise HttpFramingError("not a header line: %r" % line[:40])
            headers[name.strip().lower()] = value.strip()
        body_start = end + 4
        closing = headers.get(b"connection", b"").lower() == b"close"
        reason = (status.group(2) or b"").decode("latin-1")
        if code < 200 or code in (204, 304):
            return Answer(code, reason, b"", closing), body_start
        if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
            return self._chunked(buffer, code, reason, body_start, closing)
        try:
            length = int(headers.get(b"content-length", b"0"))
        except ValueError:
            raise HttpFramingError("Content-Length is not a number") from None
        if len(buffer) < body_start + length:
            return None
        return Answer(code, reason, buffer[body_start:body_start + length], closing), body_start + length

    @staticmethod
    def _chunked(buffer, code, reason, position, closing):
        body = []
        while True:
            line_end = buffer.find(b"\r\n", position)
            if line_end < 0:
                return None
            try:
                size = int(buffer[position:line_end].split(b";", 1)[0], 16)
            except ValueError:
                raise HttpFramingError("not a chunk size") from None
            position = line_end + 2
            if size == 0:
                trailer_end = buffer.find(b"\r\n", position)
                while trailer_end > position:  # trailers, if any, are skipped
                    position = trailer_end + 2
                    trailer_end = buffer.find(b"\r\n", position)
                if trailer_end < 0:
                    return None
                return Answer(code, reason, b"".join(body), closing), trailer_end + 2
            if len(buffer) < position + size + 2:
                return None
            body.append(buffer[position:position + size])
            position += size + 2


def parse_body(body: bytes):
    """The root element of an answer's body; None when it is empty or not XML
    (an HTTP error page from a proxy, for example)."""
    if not body or not body.strip():
        return None
    try:
        return xsp.parse_document(body)
    except xsp.XspDecodeError:
        return None


def response(status_code: int, reason: str, body: bytes) -> xsp.Response:
    """An HTTP answer in the shape the CTI link answers: an :class:`xsp.Response`
    (no requestId or sessionId; HTTP correlates)."""
    return xsp.Response("", "", status_code, reason, parse_body(body))


# --------------------------------------------------------------------------
# the simulator's direction: HTTP -> CTI request


def match(method: str, segments) -> tuple[Route, dict] | None:
    """The route of a request path (its unquoted segments) and the params its
    placeholders capture. Literal segments match case-insensitively; the route
    with the most literal segments wins."""
    best = None
    for route in _ROUTES_BY_METHOD.get(method.upper(), ()):
        pattern = route.segments
        if len(pattern) != len(segments):
            continue
        params = {}
        for want, got in zip(pattern, segments):
            if want.startswith("{"):
                if not got:
                    break
                params[want[1:-1]] = got
            elif want.lower() != got.lower():
                break
        else:
            if best is None or len(params) < len(best[1]):
                best = (route, params)
    return best


_ROUTES_BY_METHOD: dict[str, list[Route]] = {}
for _route in ROUTES:
    _ROUTES_BY_METHOD.setdefault(_route.method, []).append(_route)


def cti_request(route: Route, params: dict, path: str, query: str, body) -> xsp.CtiRequest:
    """The CTI request an HTTP request of ``route`` stands for (``query``: the
    raw query string; ``body``: the parsed body element or None)."""
    values = dict(params)
    given = dict(parse_qsl(query, keep_blank_values=True))
    for key, param in route.query:
        if key in given:
            values[param] = given[key]
    return xsp.CtiRequest(route.name, path, route.method, tuple(values.items()), body)


# --------------------------------------------------------------------------
# the event channel's documents (the streaming response body)


def channel_document(channel_id: str, expires: int) -> bytes:
    """The first document on a channel's stream: its id and granted expiry."""
    return document(xsp.xsi_element("Channel", ("channelId", channel_id), ("expires", expires)))


HEARTBEAT_DOCUMENT = DECLARATION + b'<ChannelHeartBeat xmlns="%s"/>' % XSI_NS.encode()


def event_document(event_xml: bytes) -> bytes:
    """An ``xsi:Event`` (serialized without a declaration) as a stream document."""
    return DECLARATION + event_xml


# An EventResponse exactly as event_response writes it (one per event):
# read without building a tree. Anything else goes to lxml.
_OUR_EVENT_RESPONSE = re.compile(
    re.escape(_EVENT_RESPONSE.split("%s", 1)[0]).encode()
    + rb"([^<&]+)</eventID><statusCode>(\d+)</statusCode><reason>[^<&]*</reason></EventResponse>\Z"
)


def read_event_response(body: bytes) -> tuple[str, int]:
    """``(eventID, statusCode)`` of an EventResponse body; ValueError when it is not one."""
    ours = _OUR_EVENT_RESPONSE.match(body)
    if ours is not None:
        return ours.group(1).decode("utf-8"), int(ours.group(2))
    root = parse_body(body)
    if root is None or etree.QName(root).localname != EVENT_RESPONSE:
        raise ValueError("not an EventResponse")
    values = xsp.xsi_values(root)
    event_id = values.get("eventID")
    if not event_id:
        raise ValueError("EventResponse without eventID")
    try:
        return event_id, int(values.get("statusCode") or "")
    except ValueError:
        raise ValueError("EventResponse statusCode is not an integer") from None
