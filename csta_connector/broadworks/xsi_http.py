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


def read_event_response(body: bytes) -> tuple[str, int]:
    """``(eventID, statusCode)`` of an EventResponse body; ValueError when it is not one."""
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
