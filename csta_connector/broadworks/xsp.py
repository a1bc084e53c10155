# -*- test-case-name: tests.unit.test_xsp -*-
"""XspXMLInterface documents: the envelope codec of the CTI interface (pure: no Twisted).

The CTI interface carries ``request``, ``response``, ``event``,
``eventResponse``, ``keepalive`` and ``keepaliveResponse`` documents of the
namespace ``http://schema.broadsoft.com/XspXMLInterface`` (SPEC §3). A request
payload is a CTI element (``cti:UpdateSubscriptionRequest`` …) holding the Xsi
``uri``, ``method``, application ``version``, ``params`` and the Xsi body.
Shapes follow ``XspXMLInterface.xsd`` and the ``CTISchema`` files; the envelope
children and the CTI request children are unqualified, the envelope's own
``payload`` is ``xsp:payload``.

Both the connector's link (requests out, responses/events in) and the
simulator's server (the reverse) use this one module. The payloads of the
requests the connector sends are built by :mod:`requests`; which reader
decodes an event document (the one-pass reader or lxml) is the link's
choice: :func:`decode` is the general path, which reads every form.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field

from lxml import etree

from csta_connector.broadworks.xsi import NSMAP as XSI_NSMAP, XSI_NS, _local as _xsi_local, parse_event

XSP_NS = "http://schema.broadsoft.com/XspXMLInterface"
CTI_NS = "http://schema.broadsoft.com/CTI"
_P = "{%s}" % XSP_NS
_C = "{%s}" % CTI_NS
_X = "{%s}" % XSI_NS
NSMAP = {"xsp": XSP_NS, "cti": CTI_NS, **XSI_NSMAP}
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
PROTOCOL_VERSION = "18.0"

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    huge_tree=False,
    remove_blank_text=True,
)


class XspDecodeError(ValueError):
    """A document from the other side that is not a usable XspXMLInterface document."""


# --------------------------------------------------------------------------
# documents


@dataclass(frozen=True, slots=True)
class CtiRequest:
    """One CTI request payload: the Xsi request it tunnels."""

    name: str  # e.g. "UpdateSubscriptionRequest"
    uri: str
    method: str
    params: tuple[tuple[str, str], ...] = ()
    body: object = field(default=None, compare=False)  # Xsi body element or None

    def param(self, name: str, default: str | None = None) -> str | None:
        for key, value in self.params:
            if key == name:
                return value
        return default


@dataclass(frozen=True, slots=True)
class Request:
    request_id: str
    session_id: str
    payload: CtiRequest
    credentials: str | None = None  # base64 of user:password
    version: str = PROTOCOL_VERSION


@dataclass(frozen=True, slots=True)
class Response:
    request_id: str
    session_id: str
    status_code: int
    reason: str
    payload: object = field(default=None, compare=False)  # Xsi element or None

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300


@dataclass(frozen=True, slots=True)
class Event:
    request_id: str
    payload: object = field(compare=False)  # the xsi:Event element (None when `event` is set)
    # the typed Xsi event, when the event reader already read the document
    event: object = field(default=None, compare=False)

    def xsi_event(self):
        """The typed Xsi event; :class:`xsi.XsiParseError` when the payload is
        not a usable Xsi event."""
        if self.event is not None:
            return self.event
        return parse_event(self.payload)


@dataclass(frozen=True, slots=True)
class EventResponse:
    request_id: str
    event_id: str
    status_code: int = 200
    reason: str = "OK"


@dataclass(frozen=True, slots=True)
class Keepalive:
    request_id: str
    period: int


@dataclass(frozen=True, slots=True)
class KeepaliveResponse:
    request_id: str


def credentials_for(username: str, password: str) -> str:
    return base64.b64encode(("%s:%s" % (username, password)).encode()).decode()


# --------------------------------------------------------------------------
# encoding


def _sub(parent, tag, text=None):
    el = etree.SubElement(parent, tag)
    if text is not None:
        el.text = str(text)
    return el


def _xsp(name):
    return etree.Element(_P + name, nsmap=NSMAP)


def _to_bytes(root) -> bytes:
    return XML_DECLARATION + etree.tostring(root) + b"\n"


# The hot documents (an eventResponse per event received, an event per event
# sent by the simulator) are written from string templates instead of lxml
# trees: the same documents (byte for byte where the text is ASCII; lxml writes
# other characters as references), several times faster.
_ROOT_ATTRS = "".join(' xmlns:%s="%s"' % item for item in NSMAP.items()) + ' version="%s"' % PROTOCOL_VERSION
_DECLARATION_TEXT = XML_DECLARATION.decode("ascii")
_EVENT_RESPONSE = (
    _DECLARATION_TEXT + "<xsp:eventResponse" + _ROOT_ATTRS + "><requestId>%s</requestId>"
    "<xsp:payload><xsi:EventResponse><xsi:eventID>%s</xsi:eventID><xsi:statusCode>%d</xsi:statusCode>"
    "<xsi:reason>%s</xsi:reason></xsi:EventResponse></xsp:payload></xsp:eventResponse>\n"
)
_EVENT_HEAD = (_DECLARATION_TEXT + "<xsp:event" + _ROOT_ATTRS + "><requestId>%s</requestId><xsp:payload>").encode()
_EVENT_TAIL = b"</xsp:payload></xsp:event>\n"
_PLAIN_TEXT = re.compile(r"[^&<>\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]*\Z")


def _plain(value) -> bool:
    """True when ``value`` is a str that needs no escaping and is legal XML text."""
    return type(value) is str and _PLAIN_TEXT.match(value) is not None


def encode_event_response(request_id: str, event_id: str, status_code: int = 200, reason: str = "OK") -> bytes:
    """``encode(EventResponse(...))`` without building the document object:
    the link acknowledges every event it receives."""
    if (
        type(request_id) is str
        and type(event_id) is str
        and type(reason) is str
        and type(status_code) is int
        and _PLAIN_TEXT.match(request_id + event_id + reason) is not None
    ):
        return (_EVENT_RESPONSE % (request_id, event_id, status_code, reason)).encode("utf-8")
    return _encode_tree(EventResponse(request_id, event_id, status_code, reason), EventResponse)


def encode(document) -> bytes:
    """Serialize one document as it goes on the wire: declaration, document, newline."""
    kind = type(document)
    if kind is EventResponse:
        return encode_event_response(document.request_id, document.event_id, document.status_code, document.reason)
    elif kind is Event:
        payload = document.payload
        if type(payload) is bytes and _plain(document.request_id):
            # an already serialized xsi:Event (the simulator's xsi.event_xml)
            return b"".join((_EVENT_HEAD % document.request_id.encode("utf-8"), payload, _EVENT_TAIL))
        if _plain(document.request_id) and payload is not None and payload.tag == _X + "Event":
            # the payload serialized alone declares the namespaces it uses
            # again: the same infoset, still schema-valid
            return b"".join(
                (
                    _EVENT_HEAD % document.request_id.encode("utf-8"),
                    etree.tostring(payload, with_tail=False),
                    _EVENT_TAIL,
                )
            )
    return _encode_tree(document, kind)


def _encode_tree(document, kind) -> bytes:
    if kind is Request:
        root = _xsp("request")
        root.set("version", document.version)
        _sub(root, "requestId", document.request_id)
        _sub(root, "sessionId", document.session_id)
        _sub(root, "credentials", document.credentials or "")
        root.append(_cti_request_element(document.payload))
    elif kind is Response:
        root = _xsp("response")
        root.set("version", PROTOCOL_VERSION)
        _sub(root, "requestId", document.request_id)
        _sub(root, "sessionId", document.session_id)
        _sub(root, "statusCode", document.status_code)
        _sub(root, "reason", document.reason)
        payload = _sub(root, _P + "payload")
        if document.payload is not None:
            payload.append(document.payload)
    elif kind is Event:
        root = _xsp("event")
        root.set("version", PROTOCOL_VERSION)
        _sub(root, "requestId", document.request_id)
        _sub(root, _P + "payload").append(document.payload)
    elif kind is EventResponse:
        root = _xsp("eventResponse")
        root.set("version", PROTOCOL_VERSION)
        _sub(root, "requestId", document.request_id)
        body = _sub(_sub(root, _P + "payload"), _X + "EventResponse")
        _sub(body, _X + "eventID", document.event_id)
        _sub(body, _X + "statusCode", document.status_code)
        _sub(body, _X + "reason", document.reason)
    elif kind is Keepalive:
        root = _xsp("keepalive")
        root.set("version", PROTOCOL_VERSION)
        _sub(root, "requestId", document.request_id)
        _sub(root, "period", document.period)
    elif kind is KeepaliveResponse:
        root = _xsp("keepaliveResponse")
        root.set("version", PROTOCOL_VERSION)
        _sub(root, "requestId", document.request_id)
    else:
        raise TypeError("not an XspXMLInterface document: %r" % (document,))
    return _to_bytes(root)


def _cti_request_element(request: CtiRequest):
    el = etree.Element(_C + request.name, nsmap=NSMAP)
    _sub(el, "uri", request.uri)
    _sub(el, "method", request.method)
    _sub(el, "version")
    params = _sub(el, "params")
    for key, value in request.params:
        _sub(params, key, value)
    payload = _sub(el, "payload")
    if request.body is not None:
        payload.append(request.body)
    return el


# --------------------------------------------------------------------------
# decoding


# memoized local names (shared with xsi.py): one dict lookup per child
_local = _xsi_local


def _children(el) -> dict:
    values = {}
    for child in el:
        values[_local(child.tag)] = child
    return values


def _text(values, name, required=True):
    el = values.get(name)
    if el is None or el.text is None:
        if required:
            raise XspDecodeError("missing <%s>" % name)
        return None
    return el.text.strip()


def _payload_element(values):
    payload = values.get("payload")
    if payload is None:
        return None
    for child in payload:
        if isinstance(child.tag, str):
            return child
    return None


def parse_document(data: bytes):
    """Parse one document's bytes into an lxml root element."""
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as e:
        raise XspDecodeError("not well-formed XML: %s" % e) from None


# An eventResponse exactly as :func:`encode` writes it (the simulator reads one
# per event): read without building a tree. Anything else goes to lxml.
_OUR_EVENT_RESPONSE = re.compile(
    re.escape(_EVENT_RESPONSE.split("%s", 1)[0]).encode()
    + rb"([^<&]*)</requestId><xsp:payload><xsi:EventResponse><xsi:eventID>([^<&]*)</xsi:eventID>"
    rb"<xsi:statusCode>(\d+)</xsi:statusCode><xsi:reason>([^<&]*)</xsi:reason></xsi:EventResponse>"
    rb"</xsp:payload></xsp:eventResponse>\s*\Z"
)


def decode(data: bytes):
    """Decode one document into :class:`Request`, :class:`Response`,
    :class:`Event`, :class:`EventResponse`, :class:`Keepalive` or
    :class:`KeepaliveResponse`: the general path, which reads every
    well-formed form of the documents."""
    match = _OUR_EVENT_RESPONSE.match(data)
    if match is not None:
        request_id, event_id, status, reason = match.groups()
        return EventResponse(request_id.decode(), event_id.decode(), int(status), reason.decode())
    return decode_tree(parse_document(data))


def decode_tree(root):
    """:func:`decode` of an already parsed document (its lxml root element)."""
    name = _local(root.tag)
    values = _children(root)
    if name == "event":
        body = _payload_element(values)
        if body is None:
            raise XspDecodeError("event without payload")
        return Event(request_id=_text(values, "requestId"), payload=body)
    if name == "response":
        try:
            status = int(_text(values, "statusCode"))
        except ValueError:
            raise XspDecodeError("statusCode is not an integer") from None
        return Response(
            request_id=_text(values, "requestId"),
            session_id=_text(values, "sessionId", required=False) or "",
            status_code=status,
            reason=_text(values, "reason", required=False) or "",
            payload=_payload_element(values),
        )
    if name == "request":
        cti = None
        for child in root:
            if isinstance(child.tag, str) and _local(child.tag).endswith("Request"):
                cti = child
        if cti is None:
            raise XspDecodeError("request without a CTI request payload")
        return Request(
            request_id=_text(values, "requestId"),
            session_id=_text(values, "sessionId", required=False) or "",
            payload=_decode_cti_request(cti),
            credentials=_text(values, "credentials", required=False),
            version=root.get("version", PROTOCOL_VERSION),
        )
    if name == "eventResponse":
        body = _payload_element(values)
        if body is None:
            raise XspDecodeError("eventResponse without payload")
        inner = _children(body)
        try:
            status = int(_text(inner, "statusCode"))
        except ValueError:
            raise XspDecodeError("statusCode is not an integer") from None
        return EventResponse(
            request_id=_text(values, "requestId"),
            event_id=_text(inner, "eventID"),
            status_code=status,
            reason=_text(inner, "reason", required=False) or "",
        )
    if name == "keepalive":
        try:
            period = int(_text(values, "period", required=False) or 0)
        except ValueError:
            raise XspDecodeError("period is not an integer") from None
        return Keepalive(request_id=_text(values, "requestId"), period=period)
    if name == "keepaliveResponse":
        return KeepaliveResponse(request_id=_text(values, "requestId"))
    raise XspDecodeError("unknown document <%s>" % name)


def _decode_cti_request(el) -> CtiRequest:
    values = _children(el)
    params = values.get("params")
    return CtiRequest(
        name=_local(el.tag),
        uri=_text(values, "uri"),
        method=_text(values, "method"),
        params=tuple(
            (_local(p.tag), (p.text or "").strip())
            for p in (params if params is not None else ())
            if isinstance(p.tag, str)
        ),
        body=_payload_element(values),
    )


# --------------------------------------------------------------------------
# Xsi bodies and response payloads


def xsi_element(name: str, *children: tuple[str, object]):
    """``<xsi:name><xsi:child>text</xsi:child>…</xsi:name>`` skipping None values."""
    el = etree.Element(_X + name, nsmap=XSI_NSMAP)
    for child, value in children:
        if value is not None:
            _sub(el, _X + child, value)
    return el


def xsi_values(el) -> dict:
    """The leaf children of an Xsi element by local name (for response payloads)."""
    if el is None:
        return {}
    return {_local(c.tag): (c.text or "").strip() for c in el if isinstance(c.tag, str)}


def error_info(error_code: int, summary: str):
    return xsi_element(
        "ErrorInfo",
        ("summary", summary),
        ("summaryEnglish", summary),
        ("errorCode", error_code),
    )
