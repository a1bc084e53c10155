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
):
    """Class decorator: make a frozen, slotted, keyword-only dataclass and
    record it in the registries."""

    def decorate(cls: type) -> type:
        cls = dataclass(frozen=True, slots=True, kw_only=True)(cls)
        info = MessageInfo(
            cls, xml_name, kind, asn1_name, opcode, event_group, response
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

