# -*- test-case-name: tests.unit.test_ber_codec -*-
"""CSTA ASN.1 (ECMA-285) BER codec: one APDU's bytes <-> objects (pure).

An APDU is what one frame of the CSTA BER link carries (``framing.py`` cuts
the stream): an ACSE association APDU (AARQ, AARE, RLRQ, RLRE, ABRT) or a
ROSE APDU (Invoke, ReturnResult, ReturnError, Reject). Decoding is two-stage,
because ROSE carries the CSTA argument as an open type: first the envelope
(``rose.asn``), then the argument or result by opcode (``csta-*.asn``), then
the asn1tools value is mapped onto the encoding-neutral classes of
``csta_connector.csta.messages``.

The mapping is driven by the field metadata of ``messages`` (ECMA-323 element
paths, whose last segment is nearly always the ECMA-285 component name); the
few places where ECMA-285 and ECMA-323 disagree are listed in the tables
below.

Public API::

    decode_apdu(apdu: bytes) -> AssociationRequest | AssociationResponse
        | ReleaseRequest | ReleaseResponse | Abort
        | Invoke | ReturnResult | ReturnError | Reject
    encode_apdu(obj) -> bytes
    encode_aare(request, accepted=True, diagnostic=None) -> bytes
    invoke(invoke_id, message) -> Invoke          (opcode from the message)
    return_result(invoke_id, message) -> ReturnResult
    BerDecodeError (carries invoke_id / opcode when known, and the Reject
    the server should answer with), BerEncodeError

The ASN.1 is compiled once, at import (about 0.25 s).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import functools

import asn1tools

from csta_connector.csta import messages as m
from csta_connector.csta.ber.acse import (
    ASSOCIATION_APDUS,
    Abort,
    AssociationRequest,
    AssociationResponse,
    ReleaseRequest,
    ReleaseResponse,
    aare_for,
    bits_set,
    request_from_asn1,
    response_from_asn1,
)
from csta_connector.csta.ber import acse as _acse
from csta_connector.csta.ber.rose import (
    EVENT_REPORT_OPCODE,
    UNIVERSAL_FAILURE,
    Invoke,
    Reject,
    ReturnError,
    ReturnResult,
    invoke_id_choice,
    invoke_id_value,
)

__all__ = [
    "Abort", "AssociationRequest", "AssociationResponse", "BerDecodeError",
    "BerEncodeError", "Invoke", "OPERATIONS", "Reject", "ReleaseRequest",
    "ReleaseResponse", "ReturnError", "ReturnResult", "decode_apdu",
    "encode_aare", "encode_apdu", "invoke", "return_result",
]

_SCHEMA_FILES = (
    "acse.asn", "rose.asn", "csta-common.asn", "csta-services.asn",
    "csta-events.asn", "csta-contact-centre.asn",
)

class _CompiledOnFirstUse:
    """The compiled ASN.1 (about 0.5 s of asn1tools work), compiled when BER
    is first used: an XML-only process or a short csta-cli run never pays."""

    _db = None

    def __getattr__(self, name):
        if type(self)._db is None:
            type(self)._db = asn1tools.compile_files(
                [str(Path(__file__).with_name(n)) for n in _SCHEMA_FILES], "ber"
            )
        return getattr(type(self)._db, name)


_db = _CompiledOnFirstUse()


def warm_up() -> None:
    """Compile the ASN.1 now: a process that will speak BER does it before it
    is talking to anyone, not in the middle of a session start."""
    _db.types  # noqa: B018 (the attribute access compiles)


class BerDecodeError(ValueError):
    """Bytes that are not a valid APDU of this codec.

    ``invoke_id`` and ``opcode`` are filled when the ROSE envelope could be
    read, so the server can reject exactly that operation (:meth:`reject`).
    """

    def __init__(
        self,
        reason: str,
        *,
        invoke_id: int | None = None,
        opcode: int | None = None,
        apdu_kind: str | None = None,
    ):
        super().__init__(reason)
        self.invoke_id = invoke_id
        self.opcode = opcode
        self.apdu_kind = apdu_kind  # invoke / returnResult / returnError / None

    def reject(self) -> Reject:
        """The ROSE Reject that answers the bad APDU."""
        if self.apdu_kind == "invoke" and self.invoke_id is not None:
            return Reject.mistyped_argument(self.invoke_id)
        if self.apdu_kind == "returnResult" and self.invoke_id is not None:
            return Reject(self.invoke_id, "returnResult", 2)  # mistypedResult
        if self.apdu_kind == "returnError" and self.invoke_id is not None:
            return Reject(self.invoke_id, "returnError", 4)  # mistypedParameter
        return Reject.badly_structured(self.invoke_id)


class BerEncodeError(ValueError):
    """An object that cannot be written as an APDU of this codec."""


# --- operations ---------------------------------------------------------------

#: ROSE opcode -> (argument type, result type) in the project's ASN.1.
#: Opcodes are ECMA-285's ``CODE local: n`` (checked against every module).
OPERATIONS: dict[int, tuple[str, str | None]] = {
    1: ("AlternateCallArgument", "AlternateCallResult"),
    2: ("AnswerCallArgument", "AnswerCallResult"),
    4: ("ClearCallArgument", "ClearCallResult"),
    5: ("ClearConnectionArgument", "ClearConnectionResult"),
    6: ("ConferenceCallArgument", "ConferenceCallResult"),
    7: ("ConsultationCallArgument", "ConsultationCallResult"),
    9: ("HoldCallArgument", "HoldCallResult"),
    10: ("MakeCallArgument", "MakeCallResult"),
    13: ("ReconnectCallArgument", "ReconnectCallResult"),
    14: ("RetrieveCallArgument", "RetrieveCallResult"),
    16: ("TransferCallArgument", "TransferCallResult"),
    EVENT_REPORT_OPCODE: ("CSTAEventReportArgument", None),
    50: ("SingleStepTransArgument", "SingleStepTransResult"),
    71: ("MonitorStartArgument", "MonitorStartResult"),
    73: ("MonitorStopArgument", "MonitorStopResult"),
    74: ("SnapshotDeviceArgument", "SnapshotDeviceResult"),
    207: ("SystemRegisterArgument", "SystemRegisterResult"),
    210: ("RequestSysStatArg", "RequestSysStatRes"),
    211: ("SystemStatusArg", "SystemStatusRes"),
    218: ("DeflectCallArgument", "DeflectCallResult"),
    232: ("GenerateDigitsArgument", "GenerateDigitsResult"),
    # contact centre (csta-contact-centre.asn); None: ALWAYS RESPONDS FALSE
    31: ("RouteRequestArgument", None),
    32: ("ReRouteRequestArgument", None),
    33: ("RouteSelectRequestArgument", None),
    34: ("RouteUsedRequestArgument", None),
    35: ("RouteEndRequestArgument", None),
    36: ("RouteRejectArgument", None),
    248: ("RouteRegisterArgument", "RouteRegisterResult"),
    249: ("RouteRegisterAbortArgument", None),
    250: ("RouteRegisterCancelArgument", "RouteRegisterCancelResult"),
    304: ("GetAgentStateArgument", "GetAgentStateResult"),
    312: ("SetAgentStateArgument", "SetAgentStateResult"),
    502: ("PlayMessageArgument", "PlayMessageResult"),
}

#: Results that are ``CHOICE { extensions, noData NULL }``: the response
#: class has no fields and is sent as ``noData``.
@functools.cache
def _no_data_results() -> frozenset:
    return frozenset(
        name for _, name in OPERATIONS.values()
        if name and "noData" in getattr(_db.types[name].type, "name_to_member", {})
    )

# --- where ECMA-285 and the ECMA-323 paths of messages.py differ ---------------

#: ECMA-323 element name -> ECMA-285 component name.
_ASN1_NAMES = {"monitorCrossRefID": "crossRefIdentifier"}

#: Components that are OCTET STRINGs in ECMA-285 but text in messages.py.
_OCTET_COMPONENTS = frozenset(
    {
        "crossRefIdentifier", "sysStatRegisterID", "serviceCrossRefID",
        # contact centre: RouteRegisterReqID, AgentID, AgentPassword,
        # MessageID, CorrelatorData
        "routeRegisterReqID", "agentID", "password", "agentPassword",
        "messageToBePlayed", "message", "correlatorData",
    }
)

#: Components typed differently from the field's Kind:
#: (ASN.1 type, component) -> Kind. OriginatedEvent.originatingDevice is a
#: plain DeviceID in ECMA-285, not a CHOICE with notKnown.
_KIND_OVERRIDES = {("OriginatedEvent", "originatingDevice"): m.Kind.DEVICE}

#: BIT STRINGs that messages.py spells as a group of booleans: bit numbers.
_BIT_GROUPS = {
    "requestTypes": {
        "systemStatus": 0,
        "requestSystemStatus": 1,
        "switchingFunctionCapsChanged": 2,
        "switchingFunctionDevicesChanged": 3,
    },
}

#: Mandatory ECMA-285 components a message may leave as None, and the value
#: that says "not known" on the wire.
_NOT_KNOWN = {"localCallState": ("unknown", None)}

# --- text <-> OCTET STRING -----------------------------------------------------
#
# Identifiers (callID, monitor cross reference, register id) are text in
# messages.py and opaque octets in ECMA-285. UTF-8 with surrogateescape is a
# bijection for both directions, so an id read from a client goes back out as
# the very same bytes, and the ASCII ids the connector makes stay readable.


def _octets(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _text(octets: bytes) -> str:
    return bytes(octets).decode("utf-8", "surrogateescape")


# --- private data: the contact-centre extension keys ---------------------------
#
# messages.py's one encoding of (key, text) pairs: each pair is one
# CSTAPrivateData of the ``string`` alternative, an OCTET STRING holding the
# UTF-8 text ``key=value``. CSTAPrivateData is ANY in csta-common.asn, so the
# items are whole TLVs here; an item that is not such an OCTET STRING is
# someone else's private data and is skipped.


def _private_item(key: str, value: str) -> bytes:
    if not isinstance(key, str) or not m.EXTENSION_KEY.match(key):
        raise BerEncodeError(f"bad extension key {key!r}")
    if not isinstance(value, str):
        raise BerEncodeError(f"extension {key} needs text, got {value!r}")
    content = _octets(f"{key}={value}")
    return b"\x04" + _ber_length(len(content)) + content


def _octet_string_content(tlv: bytes) -> bytes | None:
    """The content of a primitive OCTET STRING TLV, None for anything else."""
    if len(tlv) < 2 or tlv[0] != 0x04:
        return None
    length, start = tlv[1], 2
    if length & 0x80:
        count = length & 0x7F
        if not 0 < count <= 4 or len(tlv) < 2 + count:
            return None
        length, start = int.from_bytes(tlv[2 : 2 + count], "big"), 2 + count
    if len(tlv) != start + length:
        return None
    return tlv[start:]


def _extensions_to_asn1(pairs) -> dict:
    try:
        return {"privateData": [_private_item(key, value) for key, value in pairs]}
    except BerEncodeError:
        raise
    except (TypeError, ValueError) as exc:  # not pairs, or text UTF-8 cannot carry
        raise BerEncodeError(f"extensions need (key, text) pairs: {exc}") from None


def _extensions_from_asn1(value: dict) -> tuple[tuple[str, str], ...]:
    pairs = []
    for tlv in value.get("privateData", ()):
        content = _octet_string_content(bytes(tlv))
        if content is None:
            continue
        key, sep, text = _text(content).partition("=")
        if sep and m.EXTENSION_KEY.match(key):
            pairs.append((key, text))
    return tuple(pairs)


# --- devices and connections ---------------------------------------------------


def _device_to_asn1(device: str) -> dict:
    return {"deviceIdentifier": ("dialingNumber", device)}


def _device_from_asn1(value: dict) -> str:
    kind, identifier = value["deviceIdentifier"]
    if kind in ("explicitPublic", "explicitPrivate"):
        _, identifier = identifier  # (type of number, digits)
    if isinstance(identifier, (bytes, bytearray)):
        return _text(identifier)
    return str(identifier)


def _connection_to_asn1(connection: m.ConnectionID) -> tuple[str, Any]:
    call_id, device_id = connection.call_id, connection.device_id
    local_device = None
    if device_id is not None:
        local_device = ("staticID", _device_to_asn1(device_id))
    if call_id is not None and device_id is not None:
        return ("both", {"callID": _octets(call_id), "deviceID": local_device})
    if call_id is not None:
        return ("callID", _octets(call_id))
    if device_id is not None:
        return ("deviceID", local_device)
    raise BerEncodeError("ConnectionID needs a callID or a deviceID")


def _local_device_from_asn1(value: tuple[str, Any]) -> str:
    kind, device = value
    return _text(device) if kind == "dynamicID" else _device_from_asn1(device)


def _connection_from_asn1(value: tuple[str, Any]) -> m.ConnectionID:
    kind, content = value
    if kind == "both":
        return m.ConnectionID(
            call_id=_text(content["callID"]),
            device_id=_local_device_from_asn1(content["deviceID"]),
        )
    if kind == "callID":
        return m.ConnectionID(call_id=_text(content))
    return m.ConnectionID(device_id=_local_device_from_asn1(content))


# --- one value by Kind ---------------------------------------------------------


def _to_asn1(kind: m.Kind, component: str, value: Any, item: type | None) -> Any:
    if kind is m.Kind.TEXT:
        return _octets(value) if component in _OCTET_COMPONENTS else value
    if kind is m.Kind.DEVICE:
        return _device_to_asn1(value)
    if kind is m.Kind.EXTENDED_DEVICE:
        if value is None:
            return ("notKnown", None)
        return ("deviceIdentifier", _device_to_asn1(value))
    if kind is m.Kind.REDIRECTION_DEVICE:
        if value is None:
            return ("notRequired", None)
        return ("numberdialed", _device_to_asn1(value))
    if kind is m.Kind.CONNECTION:
        return _connection_to_asn1(value)
    if kind in (m.Kind.STRUCT, m.Kind.STRUCT_LIST):
        return _fields_to_asn1(value, None)
    if kind is m.Kind.EXTENSIONS:
        return _extensions_to_asn1(value)
    if kind is m.Kind.ERROR_VALUE:
        return _error_to_asn1(value)
    return value  # INT, BOOL, TEXT_LIST


def _from_asn1(kind: m.Kind, component: str, value: Any, item: type | None) -> Any:
    if kind is m.Kind.TEXT:
        if isinstance(value, (bytes, bytearray)):
            return _text(value)
        return value
    if kind is m.Kind.DEVICE:
        return _device_from_asn1(value)
    if kind is m.Kind.EXTENDED_DEVICE:
        choice, device = value
        # notKnown and restricted both read as None ("not known").
        return _device_from_asn1(device) if choice == "deviceIdentifier" else None
    if kind is m.Kind.REDIRECTION_DEVICE:
        choice, device = value
        return _device_from_asn1(device) if choice == "numberdialed" else None
    if kind is m.Kind.CONNECTION:
        return _connection_from_asn1(value)
    if kind in (m.Kind.STRUCT, m.Kind.STRUCT_LIST):
        return _fields_from_asn1(item, value, None)
    if kind is m.Kind.EXTENSIONS:
        return _extensions_from_asn1(value)
    if kind is m.Kind.ERROR_VALUE:
        return _error_from_asn1(value)
    return value


# --- a message or record, field by field ----------------------------------------
#
# A field's path (ECMA-323) maps onto ECMA-285 in one of these shapes:
#   name                          -> component
#   a/b            (b a CHOICE alternative of a)   -> a: (b, value)
#   a/b/item       (b a SEQUENCE OF alternative)   -> a: (b, [value])
#   a/item         (STRUCT_LIST, a SEQUENCE OF)    -> a: [values]
#   a/b/item       (STRUCT_LIST, b alternative)    -> a: (b, [values])
#   group/flag     (BOOL in _BIT_GROUPS)           -> group: BIT STRING


def _kind_of(asn1_type: str | None, component: str, kind: m.Kind) -> m.Kind:
    return _KIND_OVERRIDES.get((asn1_type, component), kind)


def _fields_to_asn1(obj: Any, asn1_type: str | None, skip=()) -> dict:
    out: dict[str, Any] = {}
    bit_groups: dict[str, list] = {}
    for wf in m.wire_fields(type(obj)):
        if wf.attr in skip:
            continue
        value = getattr(obj, wf.attr)
        path = tuple(_ASN1_NAMES.get(p, p) for p in wf.path)
        head = path[0]
        if head in _BIT_GROUPS:
            bit_groups.setdefault(head, []).append((path[1], value))
            continue
        if wf.kind is m.Kind.STRUCT_LIST:
            items = [_fields_to_asn1(v, None) for v in value]
            out[head] = items if len(path) == 2 else (path[1], items)
            continue
        if value is None and head in _NOT_KNOWN:
            out[head] = _NOT_KNOWN[head]
            continue
        if value is None and wf.optional:
            continue
        if wf.kind is m.Kind.EXTENSIONS and not value:
            continue  # no extensions: the component is left out
        kind = _kind_of(asn1_type, head, wf.kind)
        converted = _to_asn1(kind, path[-1], value, wf.item)
        if len(path) == 1:
            out[head] = converted
        elif len(path) == 2:
            out[head] = (path[1], converted)
        else:
            out[head] = (path[1], [converted])
    for group, flags in bit_groups.items():
        out[group] = _flags_to_bits(_BIT_GROUPS[group], flags)
    return out


def _fields_from_asn1(
    cls: type, value: dict, asn1_type: str | None, skip=(), **known
) -> Any:
    kwargs: dict[str, Any] = dict(known)
    for wf in m.wire_fields(cls):
        if wf.attr in skip:
            continue
        path = tuple(_ASN1_NAMES.get(p, p) for p in wf.path)
        head = path[0]
        if head in _BIT_GROUPS:
            if head in value:
                kwargs[wf.attr] = _flag_from_bits(_BIT_GROUPS[head][path[1]], value[head])
            continue
        if head not in value:
            if wf.kind is m.Kind.STRUCT_LIST:
                kwargs[wf.attr] = ()
            continue
        found = value[head]
        if len(path) > 2 or (len(path) == 2 and wf.kind is not m.Kind.STRUCT_LIST):
            choice, found = found
            if choice != path[1]:
                kwargs[wf.attr] = () if wf.kind is m.Kind.STRUCT_LIST else None
                continue
        if wf.kind is m.Kind.STRUCT_LIST:
            kwargs[wf.attr] = tuple(_fields_from_asn1(wf.item, v, None) for v in found)
            continue
        if len(path) == 3:
            if not found:
                kwargs[wf.attr] = None
                continue
            found = found[0]
        kind = _kind_of(asn1_type, head, wf.kind)
        kwargs[wf.attr] = _from_asn1(kind, path[-1], found, wf.item)
    return cls(**kwargs)


def _flags_to_bits(bits: dict[str, int], flags: list) -> tuple[bytes, int]:
    """Booleans -> BIT STRING. The string is as long as the last flag that is
    not None, so True / False / None (absent) all survive a round trip."""
    present = [bits[name] for name, flag in flags if flag is not None]
    length = max(present) + 1 if present else 0
    on = [bits[name] for name, flag in flags if flag]
    data = bytearray((length + 7) // 8)
    for n in on:
        data[n // 8] |= 0x80 >> (n % 8)
    return (bytes(data), length)


def _flag_from_bits(bit: int, value: tuple[bytes, int]) -> bool | None:
    data, length = value
    if bit >= length:
        return None
    return bool(data[bit // 8] & (0x80 >> (bit % 8)))


# --- messages <-> (type name, asn1tools value) ----------------------------------


def _info(message: Any) -> m.MessageInfo:
    try:
        return m.INFO[type(message)]
    except KeyError:
        raise BerEncodeError(f"not a CSTA message: {message!r}") from None


def _argument_to_asn1(message: Any) -> tuple[int, str, Any]:
    info = _info(message)
    if info.kind is m.MessageKind.EVENT:
        type_name = info.cls.__name__
        event = _fields_to_asn1(message, type_name, skip=("cross_ref_id",))
        value = {
            "crossRefIdentifier": _octets(message.cross_ref_id),
            "eventSpecificInfo": (
                info.event_group + "Events", (info.asn1_name, event)
            ),
        }
        return EVENT_REPORT_OPCODE, "CSTAEventReportArgument", value
    if info.kind is not m.MessageKind.REQUEST or info.opcode not in OPERATIONS:
        raise BerEncodeError(f"{type(message).__name__} is not a BER request or event")
    type_name = OPERATIONS[info.opcode][0]
    return info.opcode, type_name, _fields_to_asn1(message, type_name)


def _argument_from_asn1(opcode: int, value: Any) -> Any:
    if opcode == EVENT_REPORT_OPCODE:
        group, (name, event) = value["eventSpecificInfo"]
        cls = m.BY_EVENT_NAME[(group[: -len("Events")], name)]
        return _fields_from_asn1(
            cls, event, cls.__name__, skip=("cross_ref_id",),
            cross_ref_id=_text(value["crossRefIdentifier"]),
        )
    cls = m.BY_OPCODE[opcode]
    return _fields_from_asn1(cls, value, OPERATIONS[opcode][0])


def _result_to_asn1(message: Any) -> tuple[int, str, Any]:
    info = _info(message)
    if info.kind is not m.MessageKind.RESPONSE or info.opcode not in OPERATIONS:
        raise BerEncodeError(f"{type(message).__name__} is not a BER response")
    type_name = OPERATIONS[info.opcode][1]
    if type_name in _no_data_results():
        return info.opcode, type_name, ("noData", None)
    return info.opcode, type_name, _fields_to_asn1(message, type_name)


def _result_from_asn1(opcode: int, value: Any) -> Any:
    cls = m.INFO[m.BY_OPCODE[opcode]].response
    if OPERATIONS[opcode][1] in _no_data_results():
        return cls()
    return _fields_from_asn1(cls, value, OPERATIONS[opcode][1])


def _error_to_asn1(error: m.CSTAError) -> tuple[str, Any]:
    if not isinstance(error, m.CSTAError):
        raise BerEncodeError(f"ReturnError needs a CSTAError, not {error!r}")
    return (error.category, None if error.category == "unspecified" else error.value)


def _error_from_asn1(value: tuple[str, Any]) -> m.CSTAError:
    category, error = value
    return m.CSTAError(category=category, value=error)


# --- two-stage decoding ------------------------------------------------------------


def _decode_whole(type_name: str, data: bytes) -> Any:
    """Decode exactly one value of ``type_name`` filling all of ``data``."""
    value, length = _db.decode_with_length(type_name, data)
    if length != len(data):
        raise asn1tools.DecodeError(
            f"{len(data) - length} byte(s) after the {type_name} value"
        )
    return value


def _decode_open(type_name: str, data: bytes, what: str, **ids) -> Any:
    try:
        return _decode_whole(type_name, bytes(data))
    except Exception as exc:  # asn1tools raises more than DecodeError on garbage
        raise BerDecodeError(f"bad {what} ({type_name}): {exc}", **ids) from exc


def _local_code(code: tuple[str, Any]) -> int | None:
    kind, value = code
    return value if kind == "local" else None


def _decode_rose(data: bytes):
    try:
        kind, pdu = _decode_whole("ROSEapdu", data)
    except Exception as exc:
        raise BerDecodeError(f"not a ROSE APDU: {exc}") from exc
    invoke_id = invoke_id_value(pdu["invokeId"])

    if kind == "reject":
        problem_kind, code = pdu["problem"]
        return Reject(invoke_id, problem_kind, code)

    if invoke_id is None:
        raise BerDecodeError(f"{kind} without an invoke id", apdu_kind=kind)

    if kind == "invoke":
        opcode = _local_code(pdu["opcode"])
        argument = bytes(pdu.get("argument", b""))
        if opcode not in OPERATIONS:
            # Unknown (or global) operation: the server rejects it as
            # unrecognizedOperation; -1 stands for a global opcode.
            return Invoke(invoke_id, -1 if opcode is None else opcode, None, argument)
        ids = dict(invoke_id=invoke_id, opcode=opcode, apdu_kind=kind)
        # An all-optional argument may be left out entirely: read it as empty.
        value = _decode_open(OPERATIONS[opcode][0], argument or b"\x30\x00", "argument", **ids)
        try:
            message = _argument_from_asn1(opcode, value)
        except Exception as exc:
            raise BerDecodeError(f"unusable argument of opcode {opcode}: {exc}", **ids) from exc
        return Invoke(invoke_id, opcode, message)

    if kind == "returnResult":
        if "result" not in pdu:
            return ReturnResult(invoke_id, None, None)
        opcode = _local_code(pdu["result"]["opcode"])
        raw = bytes(pdu["result"]["result"])
        if opcode not in OPERATIONS or OPERATIONS[opcode][1] is None:
            return ReturnResult(invoke_id, opcode, None, raw)
        ids = dict(invoke_id=invoke_id, opcode=opcode, apdu_kind=kind)
        value = _decode_open(OPERATIONS[opcode][1], raw, "result", **ids)
        try:
            message = _result_from_asn1(opcode, value)
        except Exception as exc:
            raise BerDecodeError(f"unusable result of opcode {opcode}: {exc}", **ids) from exc
        return ReturnResult(invoke_id, opcode, message, b"")

    # returnError
    ids = dict(invoke_id=invoke_id, apdu_kind=kind)
    if _local_code(pdu["errcode"]) != UNIVERSAL_FAILURE:
        raise BerDecodeError(f"unknown ROSE error code {pdu['errcode']}", **ids)
    if "parameter" not in pdu:
        raise BerDecodeError("universalFailure without its parameter", **ids)
    value = _decode_open("UniversalFailure", pdu["parameter"], "error parameter", **ids)
    return ReturnError(invoke_id, _error_from_asn1(value))


def _csta_versions(apdu: dict) -> tuple[int, ...]:
    """The cSTAVersion bits of the first CSTA user information, if any."""
    for external in apdu.get("user-information", ()):
        reference = external.get("direct-reference")
        kind, data = external["encoding"]
        if kind != "single-ASN1-type" or reference not in (None, _acse.CSTA_USER_INFORMATION_OID):
            continue
        try:
            _, info = _decode_whole("ACSEUserInformationForCSTA", bytes(data))
        except Exception:
            continue  # someone else's user information: not ours to judge
        return bits_set(info["cSTAVersion"])
    return ()


def _decode_acse(data: bytes):
    try:
        kind, apdu = _decode_whole("ACSE-apdu", data)
    except Exception as exc:
        raise BerDecodeError(f"not an ACSE APDU: {exc}") from exc
    if kind == "aarq":
        return request_from_asn1(apdu, _csta_versions(apdu))
    if kind == "aare":
        return response_from_asn1(apdu, _csta_versions(apdu))
    if kind == "rlrq":
        return ReleaseRequest(apdu.get("reason"))
    if kind == "rlre":
        return ReleaseResponse(apdu.get("reason"))
    return Abort(apdu["abort-source"])


def decode_apdu(apdu: bytes):
    """Decode one APDU (the bytes of one frame, without the framing header).

    Returns an ACSE dataclass or a ROSE dataclass. An Invoke with an unknown
    opcode comes back with ``message=None`` (answer it with
    ``Reject.unrecognized_operation``). Raises :class:`BerDecodeError` for
    anything malformed; its ``reject()`` is the answer to send.
    """
    data = bytes(apdu)
    if not data:
        raise BerDecodeError("empty APDU")
    # ACSE APDUs are [APPLICATION 0..4] constructed (0x60..0x64); ROSE ones
    # are context-specific constructed [1..4] (0xa1..0xa4).
    if 0x60 <= data[0] <= 0x64:
        return _decode_acse(data)
    return _decode_rose(data)


# --- encoding -----------------------------------------------------------------------


def _encode(type_name: str, value: Any) -> bytes:
    try:
        return _db.encode(type_name, value)
    except BerEncodeError:
        raise
    except Exception as exc:
        raise BerEncodeError(f"cannot encode {type_name}: {exc}") from exc


def _acse_value(apdu) -> tuple[str, dict]:
    kind, value = _acse.to_asn1(apdu)
    if "user-information" in value:
        externals = []
        for external in value["user-information"]:
            if "csta" in external:  # built from csta_versions: encode it here
                body = _encode("ACSEUserInformationForCSTA", external["csta"])
                external = {
                    "direct-reference": external["direct-reference"],
                    "encoding": ("single-ASN1-type", body),
                }
            externals.append(external)
        value["user-information"] = externals
    return kind, value


def encode_aare(
    request: AssociationRequest,
    accepted: bool = True,
    diagnostic: int | None = None,
) -> bytes:
    """The AARE answering ``request``: same application context, protocol
    version and CSTA user information as the client's (see
    ``acse.aare_for``)."""
    return _encode("ACSE-apdu", ("aare", aare_for(request, accepted, diagnostic)))


def invoke(invoke_id: int, message: Any) -> Invoke:
    """An Invoke of a request or event message (opcode from the message)."""
    return Invoke(invoke_id, _info(message).opcode, message)


def return_result(invoke_id: int, message: Any) -> ReturnResult:
    """The ReturnResult carrying a response message."""
    return ReturnResult(invoke_id, _info(message).opcode, message)


def encode_event_argument(event: Any) -> bytes:
    """The CSTAEventReportArgument of ``event`` alone: the part of an event
    APDU that is the same for every client (see :func:`event_invoke`)."""
    _, type_name, value = _argument_to_asn1(event)
    return _encode(type_name, value)


def _ber_length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def _ber_integer(n: int) -> bytes:
    body = n.to_bytes(max(1, (n.bit_length() + 8) // 8), "big", signed=True)
    return b"\x02" + _ber_length(len(body)) + body


_EVENT_OPCODE = _ber_integer(EVENT_REPORT_OPCODE)


def event_invoke(invoke_id: int, argument: bytes) -> bytes:
    """The ROSE invoke of a cSTAEventReport around an encoded argument: built
    by hand, byte for byte what ``encode_apdu`` gives, without asn1tools on
    the fan-out path."""
    content = _ber_integer(invoke_id) + _EVENT_OPCODE + argument
    return b"\xa1" + _ber_length(len(content)) + content


def encode_apdu(obj) -> bytes:
    """Encode an ACSE or ROSE dataclass (see :func:`decode_apdu`)."""
    if isinstance(obj, ASSOCIATION_APDUS):
        return _encode("ACSE-apdu", _acse_value(obj))
    if isinstance(obj, Invoke):
        if obj.message is None:
            pdu = {"invokeId": invoke_id_choice(obj.invoke_id), "opcode": ("local", obj.opcode)}
            if obj.argument:
                pdu["argument"] = obj.argument
            return _encode("ROSEapdu", ("invoke", pdu))
        opcode, type_name, value = _argument_to_asn1(obj.message)
        if opcode != obj.opcode:
            raise BerEncodeError(
                f"Invoke opcode {obj.opcode} does not match {type(obj.message).__name__} ({opcode})"
            )
        pdu = {
            "invokeId": invoke_id_choice(obj.invoke_id),
            "opcode": ("local", opcode),
            "argument": _encode(type_name, value),
        }
        return _encode("ROSEapdu", ("invoke", pdu))
    if isinstance(obj, ReturnResult):
        pdu = {"invokeId": invoke_id_choice(obj.invoke_id)}
        if obj.message is not None:
            opcode, type_name, value = _result_to_asn1(obj.message)
            pdu["result"] = {"opcode": ("local", opcode), "result": _encode(type_name, value)}
        elif obj.opcode is not None:
            pdu["result"] = {"opcode": ("local", obj.opcode), "result": obj.result}
        return _encode("ROSEapdu", ("returnResult", pdu))
    if isinstance(obj, ReturnError):
        pdu = {
            "invokeId": invoke_id_choice(obj.invoke_id),
            "errcode": ("local", UNIVERSAL_FAILURE),
            "parameter": _encode("UniversalFailure", _error_to_asn1(obj.error)),
        }
        return _encode("ROSEapdu", ("returnError", pdu))
    if isinstance(obj, Reject):
        pdu = {
            "invokeId": invoke_id_choice(obj.invoke_id),
            "problem": (obj.kind, obj.code),
        }
        return _encode("ROSEapdu", ("reject", pdu))
    raise BerEncodeError(f"not an APDU object: {obj!r}")
