# -*- test-case-name: tests.unit.test_wire,tests.protocol.test_csta_server -*-
"""One connection's CSTA wire, XML or BER, for either end (pure).

:class:`XmlWire` and :class:`BerWire` both provide
:class:`~csta_connector.interfaces.IWire`: ``feed(bytes)`` turns bytes into
:class:`Incoming` items (requests, results, errors, events, problems), and
``request``/``result``/``error``/``event`` turn message objects into bytes
for that connection's encoding, framing and namespace. The invoke ids of
this end's requests, the answers to what cannot be decoded and the Debug
dump of a frame are the wire's concern too, so the CSTA server
(``csta/server.py``), the CSTA client (``csta/client.py``) and the fan-out
are written once for both encodings.

A wire speaks for one end (:class:`Role`): the connector's end refuses
events from its peer (clients do not send events) and learns the XML
namespace to answer in from the client's first message; a client's end
takes events as events and keeps the namespace it was given. Framing errors
propagate as :class:`framing.FramingError`: the connection is unusable and
is closed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from zope.interface import implementer

from csta_connector.csta import framing, messages as m, xml_codec
from csta_connector.csta.ber import codec as ber
from csta_connector.csta.ber.acse import AssociationRequest, AssociationResponse
from csta_connector.csta.ber.rose import Invoke, Reject, ReturnError, ReturnResult
from csta_connector.interfaces import IWire


class Kind(enum.Enum):
    """What an :class:`Incoming` is."""

    REQUEST = "request"  # a request to answer (message, invoke_id)
    RESULT = "result"  # a positive response to one of our requests
    ERROR = "error"  # a negative response to one of our requests (message: CSTAError)
    REJECT = "reject"  # BER: a ROSE reject of something we sent (message: Reject)
    EVENT = "event"  # an event (client role only; message: the event)
    UNKNOWN = "unknown"  # an operation this end does not know (detail: its name/opcode)
    MALFORMED = "malformed"  # a message that cannot be decoded or must not come (detail: why)
    ASSOCIATE = "associate"  # BER server: the AARQ (message: AssociationRequest)
    ASSOCIATED = "associated"  # BER client: the AARE (message: AssociationResponse)
    RELEASE = "release"  # BER: the peer ends the association
    IGNORED = "ignored"  # nothing to do


class Role(enum.Enum):
    """The end of the connection a wire speaks for."""

    SERVER = "server"  # the connector: its peer is a CSTA client
    CLIENT = "client"  # csta-cli, the demo, the tests: the peer is a CSTA server


@dataclass(frozen=True, slots=True)
class Incoming:
    kind: Kind
    invoke_id: int | None = None
    message: Any = None
    #: why, for UNKNOWN and MALFORMED: a text, or the decode error (its str()
    #: is the text) when the answer depends on it (a BER reject names the problem)
    detail: Any = ""


_NOT_FROM_CLIENTS = "clients do not send events"


@implementer(IWire)
class XmlWire:
    """ECMA-323 with the 8-byte header; the server end answers in the client's namespace."""

    encoding = framing.XML

    def __init__(self, namespace: str | None = xml_codec.DEFAULT_NAMESPACE,
                 max_length: int = framing.MAX_XML_FRAME, role: Role = Role.SERVER):
        self.namespace = namespace
        self.role = role
        self._decoder = framing.XmlFrameDecoder(max_length)
        # only the server end adopts its peer's namespace
        self._namespace_learned = role is not Role.SERVER
        self._last_invoke = 0

    def next_invoke_id(self) -> int:
        # 0000-9998 are requests' ids, 9999 is the events'
        self._last_invoke = self._last_invoke % (framing.EVENT_INVOKE_ID - 1) + 1
        return self._last_invoke

    @property
    def buffered(self) -> int:
        return self._decoder.buffered

    def feed(self, data: bytes) -> list[Incoming]:
        return [self._decode(invoke_id, body) for invoke_id, body in self._decoder.feed(data)]

    def _decode(self, invoke_id: int, body: bytes) -> Incoming:
        try:
            message, namespace = xml_codec.decode(body)
        except xml_codec.UnknownOperation as e:
            self._learn(e.namespace)
            return Incoming(Kind.UNKNOWN, invoke_id, detail=e.name)
        except xml_codec.CodecError as e:
            return Incoming(Kind.MALFORMED, invoke_id, detail=str(e))
        self._learn(namespace)
        kind = m.INFO[type(message)].kind
        if kind is m.MessageKind.ERROR:
            return Incoming(Kind.ERROR, invoke_id, message)
        if kind is m.MessageKind.RESPONSE or type(message).__name__.endswith(
            ("Response", "PosResponse", "NegResponse")
        ):
            return Incoming(Kind.RESULT, invoke_id, message)
        if kind is m.MessageKind.EVENT:
            if self.role is Role.CLIENT:
                return Incoming(Kind.EVENT, invoke_id, message)
            return Incoming(Kind.MALFORMED, invoke_id, detail=_NOT_FROM_CLIENTS)
        return Incoming(Kind.REQUEST, invoke_id, message)

    def _learn(self, namespace):
        # answer in the client's namespace: the first CSTA message tells it
        if not self._namespace_learned and namespace != xml_codec.ECMA_354:
            self._namespace_learned = True
            self.namespace = namespace

    def _frame(self, invoke_id: int, message) -> bytes:
        return framing.encode_xml_frame(invoke_id, xml_codec.encode(message, self.namespace))

    def request(self, invoke_id: int, message) -> bytes:
        return self._frame(invoke_id, message)

    def result(self, invoke_id: int, message) -> bytes:
        return self._frame(invoke_id, message)

    def error(self, invoke_id: int, error: m.CSTAError) -> bytes:
        return self._frame(invoke_id, error)

    def unknown(self, invoke_id: int) -> bytes:
        return self.error(invoke_id, m.CSTAError(category="operation", value="serviceNotSupported"))

    def malformed(self, invoke_id: int | None, detail: Any = None) -> bytes | None:
        if invoke_id is None:
            return None
        return self.error(invoke_id, m.CSTAError(category="operation", value="invalidParameterValue"))

    def event(self, message) -> bytes:
        return self._frame(framing.EVENT_INVOKE_ID, message)

    @property
    def event_key(self):
        return (framing.XML, self.namespace)

    def encode_event(self, message) -> bytes:
        return self.event(message)

    def event_from_encoded(self, encoded: bytes) -> bytes:
        return encoded

    def dump(self, data: bytes) -> str:
        return data.decode("utf-8", "backslashreplace")


@implementer(IWire)
class BerWire:
    """ECMA-285 over ACSE + ROSE, with 2-byte-length or HiPath framing."""

    encoding = framing.BER

    def __init__(self, framing_mode: str = framing.LENGTH2, role: Role = Role.SERVER):
        self.framing_mode = framing_mode
        self.role = role
        self._decoder = framing.BerFrameDecoder(framing_mode)
        self.associated = False
        self._last_invoke = 0

    def next_invoke_id(self) -> int:
        # ROSE invoke ids are per association; events and our requests share them
        self._last_invoke = self._last_invoke % 32767 + 1
        return self._last_invoke

    @property
    def buffered(self) -> int:
        return self._decoder.buffered

    def feed(self, data: bytes) -> list[Incoming]:
        return [self._decode(apdu) for apdu in self._decoder.feed(data)]

    def _decode(self, apdu: bytes) -> Incoming:
        try:
            decoded = ber.decode_apdu(apdu)
        except ber.BerDecodeError as e:
            return Incoming(Kind.MALFORMED, e.invoke_id, detail=e)
        kind = type(decoded)
        if kind is Invoke:
            if decoded.message is None:
                return Incoming(Kind.UNKNOWN, decoded.invoke_id, detail="opcode %d" % decoded.opcode)
            if decoded.is_event:
                if self.role is Role.CLIENT:
                    return Incoming(Kind.EVENT, decoded.invoke_id, decoded.message)
                return Incoming(Kind.MALFORMED, decoded.invoke_id, detail=_NOT_FROM_CLIENTS)
            return Incoming(Kind.REQUEST, decoded.invoke_id, decoded.message)
        if kind is ReturnResult:
            return Incoming(Kind.RESULT, decoded.invoke_id, decoded.message)
        if kind is ReturnError:
            return Incoming(Kind.ERROR, decoded.invoke_id, decoded.error)
        if kind is Reject:
            return Incoming(Kind.REJECT, decoded.invoke_id, decoded, detail=decoded.problem)
        if kind is AssociationRequest and self.role is Role.SERVER:
            return Incoming(Kind.ASSOCIATE, None, decoded)
        if kind is AssociationResponse and self.role is Role.CLIENT:
            return Incoming(Kind.ASSOCIATED, None, decoded)
        if kind.__name__ in ("ReleaseRequest", "Abort"):
            return Incoming(Kind.RELEASE, None, decoded)
        return Incoming(Kind.IGNORED, None, decoded, detail=kind.__name__)

    def _frame(self, apdu: bytes) -> bytes:
        return framing.encode_ber_frame(apdu, self.framing_mode)

    # -- the association (ACSE) ------------------------------------------------

    def request_association(self, request: AssociationRequest | None = None) -> bytes:
        """The client's AARQ (by default: CSTA versionFive, ECMA-285 2nd edition)."""
        return self._frame(ber.encode_apdu(request or AssociationRequest(csta_versions=(4,))))

    def associate(self, request: AssociationRequest) -> bytes:
        """The server's AARE accepting ``request``."""
        self.associated = True
        return self._frame(ber.encode_aare(request, accepted=True))

    def refuse_association(self, request: AssociationRequest) -> bytes:
        return self._frame(ber.encode_aare(request, accepted=False))

    # -- operations (ROSE) -------------------------------------------------------

    def request(self, invoke_id: int, message) -> bytes:
        return self._frame(ber.encode_apdu(ber.invoke(invoke_id, message)))

    def result(self, invoke_id: int, message) -> bytes:
        return self._frame(ber.encode_apdu(ber.return_result(invoke_id, message)))

    def error(self, invoke_id: int, error: m.CSTAError) -> bytes:
        return self._frame(ber.encode_apdu(ReturnError(invoke_id, error)))

    def unknown(self, invoke_id: int) -> bytes:
        return self._frame(ber.encode_apdu(Reject.unrecognized_operation(invoke_id)))

    def malformed(self, invoke_id: int | None, detail: Any = None) -> bytes:
        # a decode error knows which X.880 problem it was; anything else is
        # a badly structured APDU
        if isinstance(detail, ber.BerDecodeError):
            reject = detail.reject()
        else:
            reject = Reject.badly_structured(invoke_id)
        return self._frame(ber.encode_apdu(reject))

    def event(self, message) -> bytes:
        return self.request(self.next_invoke_id(), message)

    @property
    def event_key(self):
        return (framing.BER, self.framing_mode)

    def encode_event(self, message) -> bytes:
        # the invoke id differs per association: only the argument is shared
        return ber.encode_event_argument(message)

    def event_from_encoded(self, encoded: bytes) -> bytes:
        return self._frame(ber.event_invoke(self.next_invoke_id(), encoded))

    def dump(self, data: bytes) -> str:
        return data.hex(" ")
