# -*- test-case-name: tests.protocol.test_csta_server -*-
"""One connection's CSTA wire, XML or BER, behind one interface (pure).

The server protocol state machine is written once against these two
classes: ``feed(bytes)`` turns bytes into :class:`Incoming` items (requests,
responses, errors, problems), and ``request``/``result``/``error``/``event``
turn message objects into bytes for that client's encoding, framing and
namespace. Framing errors propagate as :class:`framing.FramingError`: the
connection is unusable and is closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from csta_connector.csta import framing, messages as m, xml_codec
from csta_connector.csta.ber import codec as ber
from csta_connector.csta.ber.acse import AssociationRequest
from csta_connector.csta.ber.rose import Invoke, Reject, ReturnError, ReturnResult

# what an Incoming is
REQUEST = "request"  # a request to answer (message, invoke_id)
RESULT = "result"  # a positive response to one of our requests
ERROR = "error"  # a negative response to one of our requests (message: CSTAError)
UNKNOWN = "unknown"  # an operation we do not support (detail: its name/opcode)
MALFORMED = "malformed"  # a message that cannot be decoded (detail: why)
ASSOCIATE = "associate"  # BER: the AARQ (message: AssociationRequest)
RELEASE = "release"  # BER: the client ends the association
IGNORED = "ignored"  # nothing to do (e.g. a ROSE reject of our event)


@dataclass(frozen=True, slots=True)
class Incoming:
    kind: str
    invoke_id: int | None = None
    message: Any = None
    detail: str = ""


class XmlWire:
    """ECMA-323 with the 8-byte header; answers in the client's namespace."""

    encoding = "xml"

    def __init__(self, namespace: str | None = xml_codec.DEFAULT_NAMESPACE, max_length=framing.MAX_XML_FRAME):
        self.namespace = namespace
        self._decoder = framing.XmlFrameDecoder(max_length)
        self._namespace_learned = False

    def feed(self, data: bytes) -> list[Incoming]:
        out = []
        for invoke_id, body in self._decoder.feed(data):
            out.append(self._decode(invoke_id, body))
        return out

    def _decode(self, invoke_id, body) -> Incoming:
        try:
            message, namespace = xml_codec.decode(body)
        except xml_codec.UnknownOperation as e:
            self._learn(e.namespace)
            return Incoming(UNKNOWN, invoke_id, detail=e.name)
        except xml_codec.CodecError as e:
            return Incoming(MALFORMED, invoke_id, detail=str(e))
        self._learn(namespace)
        kind = m.INFO[type(message)].kind
        if kind is m.MessageKind.ERROR:
            return Incoming(ERROR, invoke_id, message)
        if kind is m.MessageKind.RESPONSE or type(message).__name__.endswith(
            ("Response", "PosResponse", "NegResponse")
        ):
            return Incoming(RESULT, invoke_id, message)
        if kind is m.MessageKind.EVENT:
            return Incoming(MALFORMED, invoke_id, detail="clients do not send events")
        return Incoming(REQUEST, invoke_id, message)

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

    def malformed(self, invoke_id: int | None) -> bytes | None:
        if invoke_id is None:
            return None
        return self.error(invoke_id, m.CSTAError(category="operation", value="invalidParameterValue"))

    def event(self, message) -> bytes:
        return self._frame(framing.EVENT_INVOKE_ID, message)

    @property
    def event_key(self):
        """Sessions with equal keys get byte-identical events but for the cross-reference id."""
        return ("xml", self.namespace)

    def encode_event(self, message) -> bytes:
        return self.event(message)

    def event_from_encoded(self, encoded: bytes) -> bytes:
        return encoded


class BerWire:
    """ECMA-285 over ACSE + ROSE, with 2-byte-length or HiPath framing."""

    encoding = "ber"

    def __init__(self, framing_mode: str = framing.LENGTH2):
        self.framing_mode = framing_mode
        self._decoder = framing.BerFrameDecoder(framing_mode)
        self.associated = False
        self._next_invoke = 0

    def next_invoke_id(self) -> int:
        # ROSE invoke ids are per association; events and our requests share them
        self._next_invoke = self._next_invoke % 32767 + 1
        return self._next_invoke

    def feed(self, data: bytes) -> list[Incoming]:
        return [self._decode(apdu) for apdu in self._decoder.feed(data)]

    def _decode(self, apdu: bytes) -> Incoming:
        try:
            decoded = ber.decode_apdu(apdu)
        except ber.BerDecodeError as e:
            return Incoming(MALFORMED, e.invoke_id, detail=str(e), message=e)
        kind = type(decoded)
        if kind is AssociationRequest:
            return Incoming(ASSOCIATE, None, decoded)
        if kind is Invoke:
            if decoded.message is None:
                return Incoming(UNKNOWN, decoded.invoke_id, detail="opcode %d" % decoded.opcode)
            if decoded.is_event:
                return Incoming(MALFORMED, decoded.invoke_id, detail="clients do not send events")
            return Incoming(REQUEST, decoded.invoke_id, decoded.message)
        if kind is ReturnResult:
            return Incoming(RESULT, decoded.invoke_id, decoded.message)
        if kind is ReturnError:
            return Incoming(ERROR, decoded.invoke_id, decoded.error)
        if kind is Reject:
            return Incoming(IGNORED, decoded.invoke_id, decoded, detail=decoded.problem)
        if kind.__name__ in ("ReleaseRequest", "Abort"):
            return Incoming(RELEASE, None, decoded)
        return Incoming(IGNORED, None, decoded, detail=kind.__name__)

    def _frame(self, apdu: bytes) -> bytes:
        return framing.encode_ber_frame(apdu, self.framing_mode)

    def associate(self, request: AssociationRequest) -> bytes:
        self.associated = True
        return self._frame(ber.encode_aare(request, accepted=True))

    def refuse_association(self, request: AssociationRequest) -> bytes:
        return self._frame(ber.encode_aare(request, accepted=False))

    def request(self, invoke_id: int, message) -> bytes:
        return self._frame(ber.encode_apdu(ber.invoke(invoke_id, message)))

    def result(self, invoke_id: int, message) -> bytes:
        return self._frame(ber.encode_apdu(ber.return_result(invoke_id, message)))

    def error(self, invoke_id: int, error: m.CSTAError) -> bytes:
        return self._frame(ber.encode_apdu(ReturnError(invoke_id, error)))

    def unknown(self, invoke_id: int) -> bytes:
        return self._frame(ber.encode_apdu(Reject.unrecognized_operation(invoke_id)))

    def malformed(self, invoke_id: int | None, error=None) -> bytes:
        reject = error.reject() if error is not None else Reject.badly_structured(invoke_id)
        return self._frame(ber.encode_apdu(reject))

    def event(self, message) -> bytes:
        return self.request(self.next_invoke_id(), message)

    @property
    def event_key(self):
        return ("ber", self.framing_mode)

    def encode_event(self, message) -> bytes:
        # the invoke id differs per association: only the argument is shared
        return ber.encode_event_argument(message)

    def event_from_encoded(self, encoded: bytes) -> bytes:
        return self._frame(ber.event_invoke(self.next_invoke_id(), encoded))
