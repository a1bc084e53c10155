# -*- test-case-name: tests.unit.test_csta_messages -*-
"""Encoding-neutral CSTA messages: requests, responses, errors and events.

One frozen dataclass per CSTA message, shared by the XML codec (ECMA-323,
``xml_codec.py``) and the BER codec (ECMA-285, ``ber/``), so a service is
written once against these objects and never against an encoding.

How a class describes itself (the codecs are generic over this):

* class attributes (:class:`MessageInfo` via ``cls.info``): the ECMA-323 root
  element name (``xml_name``), the ECMA-285 operation or event name
  (``asn1_name``), the ROSE opcode for operations, the kind of message
  (request / response / event / error / session) and, for requests, the
  response class.
* each field's metadata (:func:`wire`): its ECMA-323 element name or a
  ``/``-separated path of nested elements, its :class:`Kind` (how a value is
  laid out: plain text, device identifier, ``ConnectionID``, ...) and whether
  it is optional on the wire. Field declaration order is the wire order of
  the schemas (ECMA-323 XSD element order, which matches the ECMA-285
  SEQUENCE order). The last path segment is, nearly always, the ECMA-285
  component name as well.

Values are plain Python: device identifiers are ``str``, enumerations
(LocalConnectionState, EventCause, SystemStatus, error values) are the ECMA
names as ``str``, lists are tuples. Every message is keyword-only so that
the declaration order can follow the wire and optional fields can sit
between mandatory ones.

Absent vs. unknown: an *optional* field that is ``None`` is left off the
wire. A *mandatory* device field that is ``None`` means "not known"
(``<notKnown/>``; for ``lastRedirectionDevice`` ``<notRequired/>``, meaning no
redirection happened), as ECMA-269 allows for those device types.
"""

from __future__ import annotations

import enum
import re
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, Iterator


# --- enumerations as ECMA names --------------------------------------------

#: ECMA-285 ``LocalConnectionState`` ([APPLICATION 14] ENUMERATED), by value.
LOCAL_CONNECTION_STATES: tuple[str, ...] = (
    "null",
    "initiated",
    "alerting",
    "connected",
    "hold",
    "queued",
    "fail",
)

#: ECMA-285 ``EventCause`` (module CSTA-event-causes): name -> number.
EVENT_CAUSES: dict[str, int] = {
    "aCDBusy": 57, "aCDForward": 58, "aCDSaturated": 59, "activation": 88,
    "activeParticipation": 1, "alertTimeExpired": 60, "alternate": 2,
    "autoWork": 61, "babble": 89, "badAttribute": 90, "badGrammar": 91,
    "badVoice": 92, "badUri": 93, "blocked": 35, "busy": 3,
    "busyOverflow": 94, "calendarOverflow": 95, "callBack": 4,
    "callCancelled": 5, "callForward": 9, "callForwardImmediate": 6,
    "callForwardBusy": 7, "callForwardNoAnswer": 8, "callInterception": 116,
    "callInterceptionBusy": 117, "callInterceptionForwarded": 118,
    "callInterceptionNoAnswer": 119,
    "callInterceptionResourcesNotAvailable": 120, "callNotAnswered": 10,
    "callPickup": 11, "campOn": 12, "campOnTrunks": 62,
    "capacityOverflow": 96, "characterCountReached": 36, "conference": 63,
    "consultation": 37, "destDetected": 64, "destNotObtainable": 13,
    "destOutOfOrder": 65, "distributed": 38, "distributionDelay": 66,
    "doNotDisturb": 14, "dTMFDigitDetected": 39, "duplicateDTMF": 97,
    "durationExceeded": 40, "earlyStop": 98, "emptyQueue": 99,
    "endOfMessageDetected": 41, "enteringDistribution": 42,
    "forcedPause": 43, "forcedTransition": 67, "incompatibleDestination": 15,
    "interDigitTimeout": 100, "intrude": 68, "invalidAccountCode": 16,
    "invalidConnection": 101, "invalidConnectionState": 102,
    "invalidNumberFormat": 69, "joinCall": 70, "keyOperation": 17,
    "keyOperationInUse": 71, "lawfulInterception": 121, "lockout": 18,
    "maintenance": 19, "makeCall": 44, "makeConnection": 103,
    "makePredictiveCall": 72, "maxTimeout": 104,
    "messageDurationExceeded": 73, "messageSizeExceeded": 45,
    "multipleAlerting": 74, "multipleQueuing": 75, "networkCongestion": 20,
    "networkDialling": 76, "networkNotObtainable": 21,
    "networkOutOfOrder": 77, "networkSignal": 46, "newCall": 22,
    "nextMessage": 47, "noAudioSaved": 105, "noAvailableAgents": 23,
    "noQueue": 106, "normal": 78, "normalClearing": 48, "noRule": 107,
    "noSpeechDetected": 49, "notAvaliableBearerService": 79,
    "notSupportedBearerService": 80, "numberChanged": 50,
    "numberUnallocated": 81, "outOfGrammar": 108, "overflow": 26,
    "override": 24, "park": 25, "pathReplacement": 109, "queueCleared": 82,
    "queueTimeOverflow": 110, "recall": 27, "recallBusy": 111,
    "recallForwarded": 112, "recallNoAnswer": 113,
    "recallResourcesNotAvailable": 114, "redirected": 28,
    "remainsInQueue": 83, "reorderTone": 29, "reserved": 84,
    "resourcesNotAvailable": 30, "selectedTrunkBusy": 85,
    "silentParticipation": 31, "singleStepConference": 51,
    "singleStepTransfer": 52, "speechDetected": 53, "suspend": 86,
    "switchingFunctionTerminated": 54, "terminationCharacterReceived": 55,
    "timeout": 56, "transfer": 32, "trunksBusy": 33,
    "unauthorisedBearerService": 87, "unknownOverflow": 115,
}

#: ECMA-269 SystemStatus value names (ECMA-285 ENUMERATED; numbers are the
#: BER codec's business, this tuple is not in number order).
SYSTEM_STATUSES: tuple[str, ...] = (
    "initializing",
    "enabled",
    "normal",
    "messagesLost",
    "disabled",
    "partiallyDisabled",
    "overloadImminent",
    "overloadReached",
    "overloadRelieved",
)

#: ECMA-285 ``UniversalFailure`` alternatives (module CSTA-error-definition),
#: in tag order [0]..[7]. Names are the ASN.1 ones; the XML codec maps the
#: ECMA-323 spelling quirk ``systemResourceAvailibility`` itself.
ERROR_CATEGORIES: tuple[str, ...] = (
    "operation",
    "security",
    "stateIncompatibility",
    "systemResourceAvailability",
    "subscribedResourceAvailability",
    "performanceManagement",
    "privateData",
    "unspecified",
)


# --- field description ------------------------------------------------------


class Kind(enum.Enum):
    """How a field's value is laid out on the wire.

    The names follow the ECMA-269 data types; each codec knows how to write
    each kind, so a message class never repeats its field list per codec.
    """

    TEXT = "text"  # enumeration name or opaque string (IDs, digits)
    INT = "int"
    BOOL = "bool"
    DEVICE = "device"  # DeviceID: the identifier itself as text
    #: Subject/Calling/Called/Associated*/Network* DeviceID: a CHOICE of
    #: deviceIdentifier | notKnown | restricted. ``None`` = notKnown.
    EXTENDED_DEVICE = "extended_device"
    #: RedirectionDeviceID: numberDialed | notKnown | notRequired |
    #: notSpecified | restricted. ``None`` = notRequired (no redirection).
    REDIRECTION_DEVICE = "redirection_device"
    CONNECTION = "connection"  # ConnectionID
    TEXT_LIST = "text_list"  # tuple[str, ...]; path ends in the item name
    STRUCT = "struct"  # a nested record (``item`` names its class)
    STRUCT_LIST = "struct_list"  # tuple of records; path ends in item name
    #: CSTACommonArguments: the message's ``extensions``, as the tuple of
    #: (key, text) pairs of the project's private-data encoding (see the
    #: contact-centre section). Absent on the wire = ``()``.
    EXTENSIONS = "extensions"
    #: ErrorValue (= UniversalFailure) inside a message: a :class:`CSTAError`.
    ERROR_VALUE = "error_value"


@dataclass(frozen=True, slots=True)
class WireField:
    """Metadata of one message field (built by :func:`wire`)."""

    attr: str  # the Python attribute name
    path: tuple[str, ...]  # ECMA-323 element path, outermost first
    kind: Kind
    optional: bool
    item: type | None = None  # record class for STRUCT / STRUCT_LIST

    @property
    def name(self) -> str:
        """The innermost element name (usually the ECMA-285 component)."""
        return self.path[-1]


_WIRE = "csta_wire"


def wire(
    path: str,
    kind: Kind = Kind.TEXT,
    *,
    optional: bool = False,
    item: type | None = None,
    default: Any = MISSING,
) -> Any:
    """Declare a message field: its ECMA-323 element ``path`` and layout.

    Optional fields default to ``None`` (absent); list fields default to ``()``.
    """
    if default is MISSING:
        if kind in (Kind.TEXT_LIST, Kind.STRUCT_LIST):
            default = ()
        elif optional:
            default = None
    meta = {_WIRE: (tuple(path.split("/")), kind, optional, item)}
    if default is MISSING:
        return field(metadata=meta)
    return field(default=default, metadata=meta)


def wire_fields(cls: type) -> tuple[WireField, ...]:
    """The :class:`WireField` list of a record or message class (cached)."""
    try:
        return cls.__dict__["_wire_fields_cache"]
    except KeyError:
        pass
    result = []
    for f in fields(cls):
        path, kind, optional, item = f.metadata[_WIRE]
        result.append(WireField(f.name, path, kind, optional, item))
    result = tuple(result)
    # Stored on the class (not an instance), so frozen/slots do not object.
    type.__setattr__(cls, "_wire_fields_cache", result)
    return result


# --- registry ----------------------------------------------------------------


class MessageKind(enum.Enum):
    REQUEST = "request"  # a CSTA service request (ROSE invoke)
    RESPONSE = "response"  # positive response (ROSE returnResult)
    ERROR = "error"  # CSTAErrorCode / universalFailure
    EVENT = "event"  # cSTAEventReport (opcode 21, no reply)
    SESSION = "session"  # ECMA-354 application session (XML only)


@dataclass(frozen=True, slots=True)
class MessageInfo:
    """What a codec needs to know about a message class."""

    cls: type
    xml_name: str  # ECMA-323 root element (XSD spelling, quirks kept)
    kind: MessageKind
    asn1_name: str | None  # ECMA-285 operation / event-choice name
    opcode: int | None  # ROSE local opcode of the operation (requests)
    event_group: str | None  # EventSpecificInfo alternative (events)
    response: type | None  # the positive response class (requests)
    #: Requests: False for the ECMA-285 operations that are "ALWAYS
    #: RESPONDS FALSE" (the routeing dialogue): the receiver answers such a
    #: request with nothing, or with an error only, never with a positive
    #: response (there is no response class).
    responds: bool = True


#: ECMA-323 root element name -> message class.
BY_XML_NAME: dict[str, type] = {}
#: message class -> :class:`MessageInfo`.
INFO: dict[type, MessageInfo] = {}
#: ROSE opcode -> request class (ECMA-285 operations).
BY_OPCODE: dict[int, type] = {}
#: (event group, event choice name) -> event class (ECMA-285 events).
BY_EVENT_NAME: dict[tuple[str, str], type] = {}


def _register(
    xml_name: str,
    kind: MessageKind,
    *,
    asn1_name: str | None = None,
    opcode: int | None = None,
    event_group: str | None = None,
    response: type | None = None,
    responds: bool = True,
):
    """Class decorator: make a frozen, slotted, keyword-only dataclass and
    record it in the registries."""

    def decorate(cls: type) -> type:
        cls = dataclass(frozen=True, slots=True, kw_only=True)(cls)
        info = MessageInfo(
            cls, xml_name, kind, asn1_name, opcode, event_group, response,
            responds,
        )
        if xml_name in BY_XML_NAME:
            raise ValueError(f"duplicate ECMA-323 name {xml_name}")
        BY_XML_NAME[xml_name] = cls
        INFO[cls] = info
        type.__setattr__(cls, "info", info)
        if opcode is not None and kind is MessageKind.REQUEST:
            BY_OPCODE[opcode] = cls
        if event_group is not None:
            BY_EVENT_NAME[(event_group, asn1_name)] = cls
        wire_fields(cls)
        return cls

    return decorate


def _record(cls: type) -> type:
    """Class decorator for nested records (not messages on their own)."""
    cls = dataclass(frozen=True, slots=True, kw_only=True)(cls)
    wire_fields(cls)
    return cls


def _request(xml_name, asn1_name, opcode, response):
    return _register(
        xml_name, MessageKind.REQUEST, asn1_name=asn1_name, opcode=opcode,
        response=response,
    )


def _response(xml_name, asn1_name=None, opcode=None):
    return _register(
        xml_name, MessageKind.RESPONSE, asn1_name=asn1_name, opcode=opcode
    )


def _event(xml_name, asn1_name, group="callControl"):
    return _register(
        xml_name, MessageKind.EVENT, asn1_name=asn1_name, opcode=21,
        event_group=group,
    )


def _session(xml_name):
    return _register(xml_name, MessageKind.SESSION)


def all_message_classes() -> Iterator[type]:
    """Every registered message class, in registration order."""
    return iter(INFO)


# --- common types -------------------------------------------------------------


@_record
class ConnectionID:
    """ECMA-269 ConnectionID: a call and/or a device in it.

    XML: ``<x><callID>..</callID><deviceID>..</deviceID></x>`` (either child
    may be missing). ASN.1: ``[APPLICATION 11] CHOICE {callID, deviceID,
    both}``.
    """

    call_id: str | None = wire("callID", optional=True)
    device_id: str | None = wire("deviceID", Kind.DEVICE, optional=True)


@_record
class ConnectionListItem:
    """One item of an ECMA-269 ConnectionList (Transferred/Conferenced
    events, Transfer/Conference responses). ``endpoint`` is the device."""

    new_connection: ConnectionID | None = wire(
        "newConnection", Kind.CONNECTION, optional=True
    )
    old_connection: ConnectionID | None = wire(
        "oldConnection", Kind.CONNECTION, optional=True
    )
    endpoint: str | None = wire("endpoint/deviceID", Kind.DEVICE, optional=True)


@_record
class SnapshotDeviceItem:
    """One ``snapshotDeviceResponseInfo``: a connection at the device and the
    device's LocalConnectionState in it (sent as a one-item
    ``compoundCallState``, the form OpenScape Voice and uaCSTA phones use)."""

    connection: ConnectionID = wire("connectionIdentifier", Kind.CONNECTION)
    local_connection_state: str | None = wire(
        "localCallState/compoundCallState/localConnectionState", optional=True
    )


# --- errors -------------------------------------------------------------------


@_register("CSTAErrorCode", MessageKind.ERROR, asn1_name="universalFailure")
class CSTAError:
    """A negative response: ECMA-285 ``UniversalFailure`` (ROSE error code 1)
    / ECMA-323 ``CSTAErrorCode``.

    ``category`` is the CHOICE alternative by its ECMA-285 name (see
    :data:`ERROR_CATEGORIES`), ``value`` the enumeration name, e.g.
    ``CSTAError(category='operation', value='invalidDeviceID')``. The
    ``unspecified`` category carries no value (``None``). The XML codec writes
    the fields itself (a CHOICE, not a sequence), the path here is nominal.
    """

    category: str = wire("category")
    value: str | None = wire("value", optional=True)


# --- system status and registration (ECMA-269 §12 / ECMA-285 status-reporting)


@_response("SystemStatusResponse", "systemStatus", 211)
class SystemStatusResponse:
    pass


@_request("SystemStatus", "systemStatus", 211, SystemStatusResponse)
class SystemStatus:
    """Sent by the server on connect (OpenScape Voice style; ROSE opcode 211
    after the AARE on BER); the client answers :class:`SystemStatusResponse`."""

    sys_stat_register_id: str | None = wire("sysStatRegisterID", optional=True)
    status: str = wire("systemStatus", default="normal")


@_response("SystemRegisterResponse", "systemRegister", 207)
class SystemRegisterResponse:
    sys_stat_register_id: str = wire("sysStatRegisterID")


@_request("SystemRegister", "systemRegister", 207, SystemRegisterResponse)
class SystemRegister:
    """Registration for system status reports (``requestTypes`` booleans)."""

    system_status: bool | None = wire(
        "requestTypes/systemStatus", Kind.BOOL, optional=True
    )
    request_system_status: bool | None = wire(
        "requestTypes/requestSystemStatus", Kind.BOOL, optional=True
    )


@_response("RequestSystemStatusResponse", "requestSysStat", 210)
class RequestSystemStatusResponse:
    status: str = wire("systemStatus", default="normal")


@_request(
    "RequestSystemStatus", "requestSysStat", 210, RequestSystemStatusResponse
)
class RequestSystemStatus:
    """ECMA-285 calls the operation ``requestSysStat`` (opcode 210)."""

    sys_stat_register_id: str | None = wire("sysStatRegisterID", optional=True)


# --- ECMA-354 application sessions (XML only) -----------------------------------


@_session("StartApplicationSessionPosResponse")
class StartApplicationSessionPosResponse:
    session_id: str = wire("sessionID")
    actual_protocol_version: str = wire("actualProtocolVersion")
    actual_session_duration: int | None = wire(
        "actualSessionDuration", Kind.INT, optional=True
    )


@_session("StartApplicationSessionNegResponse")
class StartApplicationSessionNegResponse:
    """``error_code`` is an ECMA-354 definedError: invalidApplicationInfo,
    requestedProtocolVersionNotSupported, serverResourcesBusy,
    maxNumberSessions."""

    error_code: str = wire("errorCode/definedError")


@_session("StartApplicationSession")
class StartApplicationSession:
    application_id: str = wire("applicationInfo/applicationID")
    requested_protocol_versions: tuple[str, ...] = wire(
        "requestedProtocolVersions/protocolVersion", Kind.TEXT_LIST
    )
    requested_session_duration: int | None = wire(
        "requestedSessionDuration", Kind.INT, optional=True
    )


@_session("ResetApplicationSessionTimerPosResponse")
class ResetApplicationSessionTimerPosResponse:
    actual_session_duration: int | None = wire(
        "actualSessionDuration", Kind.INT, optional=True
    )


@_session("ResetApplicationSessionTimerNegResponse")
class ResetApplicationSessionTimerNegResponse:
    """``error_code``: invalidSessionID or serverCannotResetSessionTimer."""

    error_code: str = wire("errorCode/definedError")


@_session("ResetApplicationSessionTimer")
class ResetApplicationSessionTimer:
    session_id: str = wire("sessionID")
    requested_session_duration: int | None = wire(
        "requestedSessionDuration", Kind.INT, optional=True
    )


@_session("StopApplicationSessionPosResponse")
class StopApplicationSessionPosResponse:
    pass


@_session("StopApplicationSession")
class StopApplicationSession:
    session_id: str = wire("sessionID")
    end_reason: str | None = wire(
        "sessionEndReason/definedEndReason", optional=True
    )


@_session("ApplicationSessionTerminated")
class ApplicationSessionTerminated:
    """Server -> client: ``reason`` is resourceLimitation or
    sessionTimerExpired (ECMA-354 definedTermReason)."""

    session_id: str = wire("sessionID")
    reason: str | None = wire(
        "sessionTermReason/definedTermReason", optional=True
    )


# --- monitoring and snapshot ------------------------------------------------------


@_response("MonitorStartResponse", "monitorStart", 71)
class MonitorStartResponse:
    cross_ref_id: str = wire("monitorCrossRefID")


@_request("MonitorStart", "monitorStart", 71, MonitorStartResponse)
class MonitorStart:
    """Device monitor only (``monitorObject/deviceObject``); the filter and
    monitor type a client may send are accepted and not kept."""

    device: str = wire("monitorObject/deviceObject", Kind.DEVICE)


@_response("MonitorStopResponse", "monitorStop", 73)
class MonitorStopResponse:
    pass


@_request("MonitorStop", "monitorStop", 73, MonitorStopResponse)
class MonitorStop:
    cross_ref_id: str = wire("monitorCrossRefID")


@_response("SnapshotDeviceResponse", "snapshotDevice", 74)
class SnapshotDeviceResponse:
    items: tuple[SnapshotDeviceItem, ...] = wire(
        "crossRefIDorSnapshotData/snapshotData/snapshotDeviceResponseInfo",
        Kind.STRUCT_LIST,
        item=SnapshotDeviceItem,
    )


@_request("SnapshotDevice", "snapshotDevice", 74, SnapshotDeviceResponse)
class SnapshotDevice:
    device: str = wire("snapshotObject", Kind.DEVICE)


# --- call control (ECMA-269 §17) ----------------------------------------------------


@_response("MakeCallResponse", "makeCall", 10)
class MakeCallResponse:
    calling_device_connection: ConnectionID = wire(
        "callingDevice", Kind.CONNECTION
    )


@_request("MakeCall", "makeCall", 10, MakeCallResponse)
class MakeCall:
    calling_device: str = wire("callingDevice", Kind.DEVICE)
    called_directory_number: str = wire("calledDirectoryNumber", Kind.DEVICE)
    auto_originate: str | None = wire("autoOriginate", optional=True)


@_response("AnswerCallResponse", "answerCall", 2)
class AnswerCallResponse:
    pass


@_request("AnswerCall", "answerCall", 2, AnswerCallResponse)
class AnswerCall:
    connection: ConnectionID = wire("callToBeAnswered", Kind.CONNECTION)


@_response("ClearConnectionResponse", "clearConnection", 5)
class ClearConnectionResponse:
    pass


@_request("ClearConnection", "clearConnection", 5, ClearConnectionResponse)
class ClearConnection:
    connection: ConnectionID = wire("connectionToBeCleared", Kind.CONNECTION)
    reason: str | None = wire("reason", optional=True)


@_response("ClearCallResponse", "clearCall", 4)
class ClearCallResponse:
    pass


@_request("ClearCall", "clearCall", 4, ClearCallResponse)
class ClearCall:
    connection: ConnectionID = wire("callToBeCleared", Kind.CONNECTION)


@_response("HoldCallResponse", "holdCall", 9)
class HoldCallResponse:
    pass


@_request("HoldCall", "holdCall", 9, HoldCallResponse)
class HoldCall:
    connection: ConnectionID = wire("callToBeHeld", Kind.CONNECTION)


@_response("RetrieveCallResponse", "retrieveCall", 14)
class RetrieveCallResponse:
    pass


@_request("RetrieveCall", "retrieveCall", 14, RetrieveCallResponse)
class RetrieveCall:
    connection: ConnectionID = wire("callToBeRetrieved", Kind.CONNECTION)


@_response("ConsultationCallResponse", "consultationCall", 7)
class ConsultationCallResponse:
    initiated_call: ConnectionID = wire("initiatedCall", Kind.CONNECTION)


@_request("ConsultationCall", "consultationCall", 7, ConsultationCallResponse)
class ConsultationCall:
    existing_call: ConnectionID = wire("existingCall", Kind.CONNECTION)
    consulted_device: str = wire("consultedDevice", Kind.DEVICE)


@_response("AlternateCallResponse", "alternateCall", 1)
class AlternateCallResponse:
    pass


@_request("AlternateCall", "alternateCall", 1, AlternateCallResponse)
class AlternateCall:
    held_call: ConnectionID = wire("heldCall", Kind.CONNECTION)
    active_call: ConnectionID = wire("activeCall", Kind.CONNECTION)


@_response("ReconnectCallResponse", "reconnectCall", 13)
class ReconnectCallResponse:
    pass


@_request("ReconnectCall", "reconnectCall", 13, ReconnectCallResponse)
class ReconnectCall:
    held_call: ConnectionID = wire("heldCall", Kind.CONNECTION)
    active_call: ConnectionID = wire("activeCall", Kind.CONNECTION)


@_response("TransferCallResponse", "transferCall", 16)
class TransferCallResponse:
    transferred_call: ConnectionID = wire("transferredCall", Kind.CONNECTION)
    connections: tuple[ConnectionListItem, ...] = wire(
        "connections/connectionListItem", Kind.STRUCT_LIST,
        item=ConnectionListItem, optional=True,
    )


@_request("TransferCall", "transferCall", 16, TransferCallResponse)
class TransferCall:
    held_call: ConnectionID = wire("heldCall", Kind.CONNECTION)
    active_call: ConnectionID = wire("activeCall", Kind.CONNECTION)


@_response("ConferenceCallResponse", "conferenceCall", 6)
class ConferenceCallResponse:
    conference_call: ConnectionID = wire("conferenceCall", Kind.CONNECTION)
    connections: tuple[ConnectionListItem, ...] = wire(
        "connections/connectionListItem", Kind.STRUCT_LIST,
        item=ConnectionListItem, optional=True,
    )


@_request("ConferenceCall", "conferenceCall", 6, ConferenceCallResponse)
class ConferenceCall:
    held_call: ConnectionID = wire("heldCall", Kind.CONNECTION)
    active_call: ConnectionID = wire("activeCall", Kind.CONNECTION)


@_response("SingleStepTransferCallResponse", "singleStepTransfer", 50)
class SingleStepTransferCallResponse:
    transferred_call: ConnectionID = wire("transferredCall", Kind.CONNECTION)


@_request(
    "SingleStepTransferCall", "singleStepTransfer", 50,
    SingleStepTransferCallResponse,
)
class SingleStepTransferCall:
    """ECMA-285 names the operation ``singleStepTrans`` in places; the
    ASN.1 module is single-step-transfer (opcode 50)."""

    active_call: ConnectionID = wire("activeCall", Kind.CONNECTION)
    transferred_to: str = wire("transferredTo", Kind.DEVICE)


@_response("DeflectCallResponse", "deflectCall", 218)
class DeflectCallResponse:
    pass


@_request("DeflectCall", "deflectCall", 218, DeflectCallResponse)
class DeflectCall:
    call_to_be_diverted: ConnectionID = wire(
        "callToBeDiverted", Kind.CONNECTION
    )
    new_destination: str = wire("newDestination", Kind.DEVICE)


@_response("GenerateDigitsResponse", "generateDigits", 232)
class GenerateDigitsResponse:
    pass


@_request("GenerateDigits", "generateDigits", 232, GenerateDigitsResponse)
class GenerateDigits:
    connection_to_send_digits: ConnectionID = wire(
        "connectionToSendDigits", Kind.CONNECTION
    )
    char_to_send: str = wire("charactersToSend")


# --- events (ECMA-269 §17.2 call control, §19 call associated) ----------------------
#
# Field order is the ECMA-285 SEQUENCE order (which the ECMA-323 XSD follows).
# Only the mandatory components, localConnectionInfo, and a few optional ones
# the connector fills are modelled; decoders ignore the rest.


@_event("ServiceInitiatedEvent", "serviceInitiated")
class ServiceInitiatedEvent:
    cross_ref_id: str = wire("monitorCrossRefID")
    initiated_connection: ConnectionID = wire(
        "initiatedConnection", Kind.CONNECTION
    )
    initiating_device: str | None = wire(
        "initiatingDevice", Kind.EXTENDED_DEVICE
    )
    local_connection_info: str | None = wire(
        "localConnectionInfo", optional=True
    )
    cause: str = wire("cause")


@_event("OriginatedEvent", "originated")
class OriginatedEvent:
    cross_ref_id: str = wire("monitorCrossRefID")
    originated_connection: ConnectionID = wire(
        "originatedConnection", Kind.CONNECTION
    )
    calling_device: str | None = wire("callingDevice", Kind.EXTENDED_DEVICE)
    called_device: str | None = wire("calledDevice", Kind.EXTENDED_DEVICE)
    originating_device: str | None = wire(
        "originatingDevice", Kind.EXTENDED_DEVICE, optional=True
    )
    local_connection_info: str | None = wire(
        "localConnectionInfo", optional=True
    )
    cause: str = wire("cause")


@_event("DeliveredEvent", "delivered")
class DeliveredEvent:
    cross_ref_id: str = wire("monitorCrossRefID")
    connection: ConnectionID = wire("connection", Kind.CONNECTION)
    alerting_device: str | None = wire("alertingDevice", Kind.EXTENDED_DEVICE)
    calling_device: str | None = wire("callingDevice", Kind.EXTENDED_DEVICE)
    called_device: str | None = wire("calledDevice", Kind.EXTENDED_DEVICE)
    last_redirection_device: str | None = wire(
        "lastRedirectionDevice", Kind.REDIRECTION_DEVICE, default=None
    )
    local_connection_info: str | None = wire(
        "localConnectionInfo", optional=True
    )
    cause: str = wire("cause")


@_event("EstablishedEvent", "established")
class EstablishedEvent:
    cross_ref_id: str = wire("monitorCrossRefID")
    established_connection: ConnectionID = wire(
        "establishedConnection", Kind.CONNECTION
    )
    answering_device: str | None = wire(
        "answeringDevice", Kind.EXTENDED_DEVICE
    )
    calling_device: str | None = wire("callingDevice", Kind.EXTENDED_DEVICE)
    called_device: str | None = wire("calledDevice", Kind.EXTENDED_DEVICE)
    last_redirection_device: str | None = wire(
        "lastRedirectionDevice", Kind.REDIRECTION_DEVICE, default=None
    )
    local_connection_info: str | None = wire(
        "localConnectionInfo", optional=True
    )
    cause: str = wire("cause")


@_event("HeldEvent", "held")
class HeldEvent:
    cross_ref_id: str = wire("monitorCrossRefID")
    held_connection: ConnectionID = wire("heldConnection", Kind.CONNECTION)
    holding_device: str | None = wire("holdingDevice", Kind.EXTENDED_DEVICE)
    local_connection_info: str | None = wire(
        "localConnectionInfo", optional=True
    )
    cause: str = wire("cause")


@_event("RetrievedEvent", "retrieved")
class RetrievedEvent:
    cross_ref_id: str = wire("monitorCrossRefID")
    retrieved_connection: ConnectionID = wire(
        "retrievedConnection", Kind.CONNECTION
    )
    retrieving_device: str | None = wire(
        "retrievingDevice", Kind.EXTENDED_DEVICE
    )
    local_connection_info: str | None = wire(
        "localConnectionInfo", optional=True
    )
    cause: str = wire("cause")


@_event("ConnectionClearedEvent", "connectionCleared")
class ConnectionClearedEvent:
    cross_ref_id: str = wire("monitorCrossRefID")
    dropped_connection: ConnectionID = wire(
        "droppedConnection", Kind.CONNECTION
    )
    releasing_device: str | None = wire(
        "releasingDevice", Kind.EXTENDED_DEVICE
    )
    local_connection_info: str | None = wire(
        "localConnectionInfo", optional=True
    )
    cause: str = wire("cause")


@_event("CallClearedEvent", "callCleared")
class CallClearedEvent:
    cross_ref_id: str = wire("monitorCrossRefID")
    cleared_call: ConnectionID = wire("clearedCall", Kind.CONNECTION)
    cause: str = wire("cause")


@_event("FailedEvent", "failed")
class FailedEvent:
    cross_ref_id: str = wire("monitorCrossRefID")
    failed_connection: ConnectionID = wire("failedConnection", Kind.CONNECTION)
    failing_device: str | None = wire("failingDevice", Kind.EXTENDED_DEVICE)
    calling_device: str | None = wire("callingDevice", Kind.EXTENDED_DEVICE)
    called_device: str | None = wire("calledDevice", Kind.EXTENDED_DEVICE)
    last_redirection_device: str | None = wire(
        "lastRedirectionDevice", Kind.REDIRECTION_DEVICE, default=None
    )
    local_connection_info: str | None = wire(
        "localConnectionInfo", optional=True
    )
    cause: str = wire("cause")


@_event("DivertedEvent", "diverted")
class DivertedEvent:
    cross_ref_id: str = wire("monitorCrossRefID")
    connection: ConnectionID = wire("connection", Kind.CONNECTION)
    diverting_device: str | None = wire(
        "divertingDevice", Kind.EXTENDED_DEVICE
    )
    new_destination: str | None = wire("newDestination", Kind.EXTENDED_DEVICE)
    calling_device: str | None = wire(
        "callingDevice", Kind.EXTENDED_DEVICE, optional=True
    )
    called_device: str | None = wire(
        "calledDevice", Kind.EXTENDED_DEVICE, optional=True
    )
    last_redirection_device: str | None = wire(
        "lastRedirectionDevice", Kind.REDIRECTION_DEVICE, default=None
    )
    local_connection_info: str | None = wire(
        "localConnectionInfo", optional=True
    )
    cause: str = wire("cause")


@_event("TransferedEvent", "transferred")
class TransferredEvent:
    """ECMA-323 spells the element ``TransferedEvent`` (one "r", as in the
    XSD and real OpenScape Voice traffic); ECMA-285 says ``transferred``."""

    cross_ref_id: str = wire("monitorCrossRefID")
    primary_old_call: ConnectionID = wire("primaryOldCall", Kind.CONNECTION)
    secondary_old_call: ConnectionID | None = wire(
        "secondaryOldCall", Kind.CONNECTION, optional=True
    )
    transferring_device: str | None = wire(
        "transferringDevice", Kind.EXTENDED_DEVICE
    )
    transferred_to_device: str | None = wire(
        "transferredToDevice", Kind.EXTENDED_DEVICE
    )
    transferred_connections: tuple[ConnectionListItem, ...] = wire(
        "transferredConnections/connectionListItem", Kind.STRUCT_LIST,
        item=ConnectionListItem,
    )
    local_connection_info: str | None = wire(
        "localConnectionInfo", optional=True
    )
    cause: str = wire("cause")


@_event("ConferencedEvent", "conferenced")
class ConferencedEvent:
    cross_ref_id: str = wire("monitorCrossRefID")
    primary_old_call: ConnectionID = wire("primaryOldCall", Kind.CONNECTION)
    secondary_old_call: ConnectionID | None = wire(
        "secondaryOldCall", Kind.CONNECTION, optional=True
    )
    conferencing_device: str | None = wire(
        "conferencingDevice", Kind.EXTENDED_DEVICE
    )
    added_party: str | None = wire("addedParty", Kind.EXTENDED_DEVICE)
    conference_connections: tuple[ConnectionListItem, ...] = wire(
        "conferenceConnections/connectionListItem", Kind.STRUCT_LIST,
        item=ConnectionListItem,
    )
    local_connection_info: str | None = wire(
        "localConnectionInfo", optional=True
    )
    cause: str = wire("cause")


@_event("DigitsGeneratedEvent", "digitsGeneratedEvent", group="callAssociated")
class DigitsGeneratedEvent:
    """A call-associated event (EventSpecificInfo [1], choice [2]); it has no
    ``cause``."""

    cross_ref_id: str = wire("monitorCrossRefID")
    connection: ConnectionID = wire("connection", Kind.CONNECTION)
    digit_generated_list: str = wire("digitGeneratedList")


# --- convenience -------------------------------------------------------------------


def response_class_for(request_cls: type) -> type | None:
    """The positive response class of a request class (None for others)."""
    return INFO[request_cls].response


def is_event(message: object) -> bool:
    return INFO[type(message)].kind is MessageKind.EVENT


def event_connection(event) -> "ConnectionID | None":
    """The connection an event is about: its first ConnectionID field."""
    for f in fields(event):
        value = getattr(event, f.name)
        if isinstance(value, ConnectionID):
            return value
    return None



# =====================================================================================
# --- contact centre (SPEC §10): agents, ACD queues, routeing, treatments -------------
# =====================================================================================
#
# ECMA-285 names, opcodes and tags from reference/contact-centre.md §10.3/§10.4
# and the ECMA-285 modules named in ber/csta-contact-centre.asn. The ECMA-323
# element names of these messages could not be checked against the XSD: the
# root elements follow the ECMA-323 pattern (operation name; ``Response``;
# ``...Event``) and the child elements follow the ECMA-285 component names, as
# the rest of this module does. Where ECMA-285 gives a SEQUENCE OF no item
# name, the item element is named after its type (``agentStateEntry``,
# ``agentInfoItem``).


# --- private data: the contact-centre extension keys ---------------------------
#
# One encoding for both wires (docs/protocols.md, "Contact-centre extension
# keys"): a message's ``extensions`` field is a tuple of (key, text) pairs,
# kept in order, a key repeated for several values (``audioUrl`` up to 4).
# BER puts each pair in one CSTAPrivateData ``string`` (OCTET STRING, the
# UTF-8 text ``key=value``); XML puts each pair in one element named after the
# key, in the namespace :data:`PRIVATE_DATA_NAMESPACE`, inside
# ``extensions/privateData/private``. Other private data is ignored on input.

#: XML namespace of the project's private-data elements.
PRIVATE_DATA_NAMESPACE = "urn:csta-connector:private-data:1"

#: PlayMessage "0" (RoutePointPlayBusyRequest): ``Normal`` | ``FastBusy``.
EXT_BUSY_PATTERN = "busyPattern"
#: PlayMessage "1".."4": the digit map to collect; StopEvent: the digits.
EXT_COLLECT_DIGITS = "collectDigits"
#: PlayMessage "4" (RoutePointPlayTreatmentRequest): audio URLs, repeatable.
EXT_AUDIO_URL = "audioUrl"
#: PlayMessage "4": video URLs, repeatable.
EXT_VIDEO_URL = "videoUrl"
#: SetAgentState notReady / AgentNotReady / GetAgentState: the agent's
#: BroadWorks unavailable code.
EXT_UNAVAILABLE_CODE = "unavailableCode"

CONTACT_CENTRE_EXTENSION_KEYS: tuple[str, ...] = (
    EXT_BUSY_PATTERN, EXT_COLLECT_DIGITS, EXT_AUDIO_URL, EXT_VIDEO_URL,
    EXT_UNAVAILABLE_CODE,
)

#: What a key may look like: an XML NCName without ``:``, so that the same
#: key is an element name in XML and the text before ``=`` in BER.
EXTENSION_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*\Z")


def make_extensions(**values: "str | tuple[str, ...] | list[str] | None") -> tuple[tuple[str, str], ...]:
    """Build an ``extensions`` value: ``make_extensions(audioUrl=("u1", "u2"),
    collectDigits="xx#")``. ``None`` values are left out."""
    pairs = []
    for key, value in values.items():
        if value is None:
            continue
        for one in (value,) if isinstance(value, str) else value:
            pairs.append((key, one))
    return tuple(pairs)


def extension_values(message: Any, key: str) -> tuple[str, ...]:
    """Every value of ``key`` in a message's extensions, in wire order."""
    return tuple(v for k, v in getattr(message, "extensions", ()) if k == key)


def extension_value(message: Any, key: str) -> str | None:
    """The first value of ``key`` in a message's extensions, or None."""
    for k, v in getattr(message, "extensions", ()):
        if k == key:
            return v
    return None


def _one_way(xml_name, asn1_name, opcode):
    """An ALWAYS RESPONDS FALSE operation: a request without a response."""
    return _register(
        xml_name, MessageKind.REQUEST, asn1_name=asn1_name, opcode=opcode,
        responds=False,
    )


# --- agents (ECMA-269 §21 logical device features) ------------------------------

#: ECMA-285 ReqAgentState (SetAgentState.requestedAgentState), by value.
REQUESTED_AGENT_STATES: tuple[str, ...] = (
    "loggedOn", "loggedOff", "notReady", "ready", "workingAfterCall",
)
#: ECMA-285 AgentState, by value.
AGENT_STATES: tuple[str, ...] = (
    "agentNotReady", "agentNull", "agentReady", "agentBusy",
    "agentWorkingAfterCall",
)
#: ECMA-285 PendingAgentState, by value (AgentWorkingAfterCallEvent has
#: its own: notReady, ready, null).
PENDING_AGENT_STATES: tuple[str, ...] = (
    "agentNotReady", "agentNull", "agentReady", "agentWorkingAfterCall",
)


@_response("SetAgentStateResponse", "setAgentState", 312)
class SetAgentStateResponse:
    pending_agent_state: str | None = wire("pendingAgentState", optional=True)


@_request("SetAgentState", "setAgentState", 312, SetAgentStateResponse)
class SetAgentState:
    """``requested_agent_state`` is one of :data:`REQUESTED_AGENT_STATES`;
    ``group`` an ACD device. Extension key: ``unavailableCode``."""

    device: str = wire("device", Kind.DEVICE)
    requested_agent_state: str = wire("requestedAgentState")
    agent_id: str | None = wire("agentID", optional=True)
    password: str | None = wire("password", optional=True)
    group: str | None = wire("group", Kind.DEVICE, optional=True)
    extensions: tuple[tuple[str, str], ...] = wire(
        "extensions", Kind.EXTENSIONS, default=()
    )


@_record
class AgentInfo:
    """One queue's view of the agent: ``agent_state`` is one of
    :data:`AGENT_STATES`."""

    acd_group: str | None = wire("acdGroup", Kind.DEVICE, optional=True)
    agent_state: str = wire("agentState")
    pending_agent_state: str | None = wire("pendingAgentState", optional=True)
    agent_state_condition: str | None = wire(
        "agentStateCondition", optional=True
    )


@_record
class AgentStateEntry:
    agent_id: str | None = wire("agentID", optional=True)
    logged_on: bool = wire("loggedOn", Kind.BOOL)
    agent_info: tuple[AgentInfo, ...] = wire(
        "agentInfo/agentInfoItem", Kind.STRUCT_LIST, item=AgentInfo,
        optional=True,
    )


@_response("GetAgentStateResponse", "getAgentState", 304)
class GetAgentStateResponse:
    """ECMA-285 allows 1..32 entries; the connector sends one per agent."""

    agent_state_list: tuple[AgentStateEntry, ...] = wire(
        "agentStateList/agentStateEntry", Kind.STRUCT_LIST,
        item=AgentStateEntry,
    )
    extensions: tuple[tuple[str, str], ...] = wire(
        "extensions", Kind.EXTENSIONS, default=()
    )


@_request("GetAgentState", "getAgentState", 304, GetAgentStateResponse)
class GetAgentState:
    """ECMA-269 Phase III's successor of QueryAgentState."""

    device: str = wire("device", Kind.DEVICE)
    acd_group: str | None = wire("acdGroup", Kind.DEVICE, optional=True)


# Agent events: logicalDeviceFeatureEvents [4]. ``agent_device`` is a
# SubjectDeviceID (None = notKnown); ``cause`` is optional in all of them.


@dataclass(frozen=True, slots=True, kw_only=True)
class _AgentEventFields:
    """The components every agent event starts with (not a message)."""

    cross_ref_id: str = wire("monitorCrossRefID")
    agent_device: str | None = wire("agentDevice", Kind.EXTENDED_DEVICE)
    agent_id: str | None = wire("agentID", optional=True)
    acd_group: str | None = wire("acdGroup", Kind.DEVICE, optional=True)


@_event("AgentBusyEvent", "agentBusy", group="logicalDeviceFeature")
class AgentBusyEvent(_AgentEventFields):
    pending_agent_state: str | None = wire("pendingAgentState", optional=True)
    cause: str | None = wire("cause", optional=True)


@_event("AgentLoggedOnEvent", "agentLoggedOn", group="logicalDeviceFeature")
class AgentLoggedOnEvent(_AgentEventFields):
    agent_password: str | None = wire("agentPassword", optional=True)
    cause: str | None = wire("cause", optional=True)


@_event("AgentLoggedOffEvent", "agentLoggedOff", group="logicalDeviceFeature")
class AgentLoggedOffEvent(_AgentEventFields):
    agent_password: str | None = wire("agentPassword", optional=True)
    cause: str | None = wire("cause", optional=True)


@_event("AgentNotReadyEvent", "agentNotReady", group="logicalDeviceFeature")
class AgentNotReadyEvent(_AgentEventFields):
    """Extension key: ``unavailableCode``."""

    cause: str | None = wire("cause", optional=True)
    extensions: tuple[tuple[str, str], ...] = wire(
        "extensions", Kind.EXTENSIONS, default=()
    )


@_event("AgentReadyEvent", "agentReady", group="logicalDeviceFeature")
class AgentReadyEvent(_AgentEventFields):
    cause: str | None = wire("cause", optional=True)


@_event(
    "AgentWorkingAfterCallEvent", "agentWorkingAfterCall",
    group="logicalDeviceFeature",
)
class AgentWorkingAfterCallEvent(_AgentEventFields):
    """``pending_agent_state`` here is notReady | ready | null (the event's
    own enumeration, not PendingAgentState)."""

    pending_agent_state: str | None = wire("pendingAgentState", optional=True)
    cause: str | None = wire("cause", optional=True)


# --- ACD queues ----------------------------------------------------------------------


@_event("QueuedEvent", "queued")
class QueuedEvent:
    """callControlEvents queued [14]. ``number_queued`` counts the calls in
    the queue, ``calls_in_front`` those ahead of this one."""

    cross_ref_id: str = wire("monitorCrossRefID")
    queued_connection: ConnectionID = wire("queuedConnection", Kind.CONNECTION)
    queue: str | None = wire("queue", Kind.EXTENDED_DEVICE)
    calling_device: str | None = wire("callingDevice", Kind.EXTENDED_DEVICE)
    called_device: str | None = wire("calledDevice", Kind.EXTENDED_DEVICE)
    last_redirection_device: str | None = wire(
        "lastRedirectionDevice", Kind.REDIRECTION_DEVICE, default=None
    )
    number_queued: int | None = wire("numberQueued", Kind.INT, optional=True)
    calls_in_front: int | None = wire("callsInFront", Kind.INT, optional=True)
    local_connection_info: str | None = wire(
        "localConnectionInfo", optional=True
    )
    cause: str = wire("cause")


@_event("CallInformationEvent", "callInformation", group="callAssociated")
class CallInformationEvent:
    """callAssociatedEvents callInformation [0]; it has no ``cause``."""

    cross_ref_id: str = wire("monitorCrossRefID")
    connection: ConnectionID = wire("connection", Kind.CONNECTION)
    device: str | None = wire("device", Kind.EXTENDED_DEVICE)
    calling_device: str | None = wire(
        "callingDevice", Kind.EXTENDED_DEVICE, optional=True
    )


# --- routeing (ECMA-269 §20) ---------------------------------------------------------
#
# The routeing dialogue's requests are ALWAYS RESPONDS FALSE (MessageInfo
# ``responds`` is False): RouteRequest, ReRouteRequest, RouteUsedRequest and
# RouteRegisterAbort go connector -> client, RouteSelectRequest and
# RouteReject client -> connector, RouteEndRequest either way. The
# RouteingCrossRefID ([APPLICATION 24] OCTET STRING) names one dialogue; XML
# also accepts it as <routeingCrossRefID> on input (xml_codec aliases).

#: ECMA-285 SelectValue (RouteRequest.routeSelAlgorithm), by value.
SELECT_VALUES: tuple[str, ...] = (
    "normal", "leastCost", "emergency", "aCD", "userDefined",
)
#: ECMA-285 RejectCause (RouteReject.rejectCause): name -> number.
REJECT_CAUSES: dict[str, int] = {
    "busyOverflow": 1, "queueTimeOverflow": 2, "capacityOverflow": 3,
    "calendarOverflow": 4, "unknownOverflow": 5,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class _RouteingDialogueFields:
    """The components every message of one routeing dialogue starts with:
    the dialogue's cross reference and, optionally, its registration (not
    a message)."""

    routing_cross_ref_id: str = wire("crossRefIdentifier")
    route_register_req_id: str | None = wire(
        "routeRegisterReqID", optional=True
    )


@_response("RouteRegisterResponse", "routeRegister", 248)
class RouteRegisterResponse:
    route_register_req_id: str = wire("routeRegisterReqID")


@_request("RouteRegister", "routeRegister", 248, RouteRegisterResponse)
class RouteRegister:
    """``routeing_device`` None registers for every routeing device."""

    routeing_device: str | None = wire(
        "routeingDevice", Kind.DEVICE, optional=True
    )


@_response("RouteRegisterCancelResponse", "routeRegisterCancel", 250)
class RouteRegisterCancelResponse:
    pass


@_request(
    "RouteRegisterCancel", "routeRegisterCancel", 250,
    RouteRegisterCancelResponse,
)
class RouteRegisterCancel:
    route_register_req_id: str = wire("routeRegisterReqID")


@_one_way("RouteRegisterAbort", "routeRegisterAbort", 249)
class RouteRegisterAbort:
    route_register_req_id: str = wire("routeRegisterReqID")


@_one_way("RouteRequest", "routeRequest", 31)
class RouteRequest(_RouteingDialogueFields):
    current_route: str | None = wire("currentRoute", Kind.EXTENDED_DEVICE)
    calling_device: str | None = wire(
        "callingDevice", Kind.EXTENDED_DEVICE, optional=True
    )
    routeing_device: str | None = wire(
        "routeingDevice", Kind.EXTENDED_DEVICE, optional=True
    )
    routed_call: ConnectionID | None = wire(
        "routedCall", Kind.CONNECTION, optional=True
    )
    route_sel_algorithm: str | None = wire("routeSelAlgorithm", optional=True)
    priority: bool | None = wire("priority", Kind.BOOL, optional=True)
    reply_timeout: int | None = wire("replyTimeout", Kind.INT, optional=True)
    correlator_data: str | None = wire("correlatorData", optional=True)


@_one_way("ReRouteRequest", "reRouteRequest", 32)
class ReRouteRequest(_RouteingDialogueFields):
    reply_timeout: int | None = wire("replyTimeout", Kind.INT, optional=True)
    correlator_data: str | None = wire("correlatorData", optional=True)


@_one_way("RouteSelectRequest", "routeSelectRequest", 33)
class RouteSelectRequest(_RouteingDialogueFields):
    """``remain_retries`` is RetryValue's retryCount (its noListAvailable /
    noCountAvailable forms read as None); alternateRoutes is not kept."""

    route_selected: str = wire("routeSelected", Kind.DEVICE)
    remain_retries: int | None = wire(
        "remainRetries/retryCount", Kind.INT, optional=True
    )
    route_used_req: bool | None = wire("routeUsedReq", Kind.BOOL, optional=True)
    correlator_data: str | None = wire("correlatorData", optional=True)


@_one_way("RouteUsedRequest", "routeUsedRequest", 34)
class RouteUsedRequest(_RouteingDialogueFields):
    route_used: str | None = wire("routeUsed", Kind.EXTENDED_DEVICE)
    calling_device: str | None = wire(
        "callingDevice", Kind.EXTENDED_DEVICE, optional=True
    )
    domain: bool | None = wire("domain", Kind.BOOL, optional=True)
    correlator_data: str | None = wire("correlatorData", optional=True)


@_one_way("RouteEndRequest", "routeEndRequest", 35)
class RouteEndRequest(_RouteingDialogueFields):
    """Ends a dialogue, either way; ``error_value`` None means success."""

    error_value: CSTAError | None = wire(
        "errorValue", Kind.ERROR_VALUE, optional=True
    )
    correlator_data: str | None = wire("correlatorData", optional=True)


@_one_way("RouteReject", "routeReject", 36)
class RouteReject(_RouteingDialogueFields):
    """``reject_cause`` is one of :data:`REJECT_CAUSES`."""

    reject_cause: str | None = wire("rejectCause", optional=True)
    correlator_data: str | None = wire("correlatorData", optional=True)


# --- voice unit (ECMA-269 §26): treatments on route-point calls ----------------------


@_response("PlayMessageResponse", "playMessage", 502)
class PlayMessageResponse:
    pass


@_request("PlayMessage", "playMessage", 502, PlayMessageResponse)
class PlayMessage:
    """``message_to_be_played`` is the MessageID ("0".."4" select the
    RoutePointPlay{Busy,MOH,Ringback,Silence,Treatment}Request). Extension
    keys: ``busyPattern``, ``collectDigits``, ``audioUrl``, ``videoUrl``."""

    message_to_be_played: str = wire("messageToBePlayed")
    over_connection: ConnectionID = wire("overConnection", Kind.CONNECTION)
    duration: int | None = wire("duration", Kind.INT, optional=True)
    extensions: tuple[tuple[str, str], ...] = wire(
        "extensions", Kind.EXTENSIONS, default=()
    )


@_event("PlayEvent", "play", group="voiceUnit")
class PlayEvent:
    cross_ref_id: str = wire("monitorCrossRefID")
    connection: ConnectionID = wire("connection", Kind.CONNECTION)
    message: str = wire("message")
    resource: str | None = wire("resource", optional=True)
    length: int | None = wire("length", Kind.INT, optional=True)
    current_position: int | None = wire(
        "currentPosition", Kind.INT, optional=True
    )
    speed: int | None = wire("speed", Kind.INT, optional=True)
    cause: str | None = wire("cause", optional=True)


@_event("StopEvent", "stop", group="voiceUnit")
class StopEvent:
    """Extension key: ``collectDigits`` (the digits the caller entered)."""

    cross_ref_id: str = wire("monitorCrossRefID")
    connection: ConnectionID = wire("connection", Kind.CONNECTION)
    message: str = wire("message")
    resource: str | None = wire("resource", optional=True)
    length: int | None = wire("length", Kind.INT, optional=True)
    current_position: int | None = wire(
        "currentPosition", Kind.INT, optional=True
    )
    cause: str | None = wire("cause", optional=True)
    extensions: tuple[tuple[str, str], ...] = wire(
        "extensions", Kind.EXTENSIONS, default=()
    )


# --- device maintenance (ECMA-269 §22) -----------------------------------------------


@_event("BackInServiceEvent", "backInService", group="deviceMaintenance")
class BackInServiceEvent:
    cross_ref_id: str = wire("monitorCrossRefID")
    device: str | None = wire("device", Kind.EXTENDED_DEVICE)
    cause: str | None = wire("cause", optional=True)


@_event("OutOfServiceEvent", "outOfService", group="deviceMaintenance")
class OutOfServiceEvent:
    cross_ref_id: str = wire("monitorCrossRefID")
    device: str | None = wire("device", Kind.EXTENDED_DEVICE)
    cause: str | None = wire("cause", optional=True)
