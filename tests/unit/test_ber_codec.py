"""Unit tests of the CSTA BER codec (csta_connector.csta.ber)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csta_connector.csta import messages as m
from csta_connector.csta.ber import codec
from csta_connector.testing import CONTACT_CENTRE_SAMPLES
from csta_connector.csta.ber.acse import (
    Abort,
    AssociationRequest,
    AssociationResponse,
    ReleaseRequest,
    ReleaseResponse,
)
from csta_connector.csta.ber.rose import Invoke, Reject, ReturnError, ReturnResult

C = m.ConnectionID
CALL = C(call_id="12:3", device_id="2001")
OTHER = C(call_id="12:4", device_id="2001")
ITEM = m.ConnectionListItem(
    new_connection=C(call_id="12:5", device_id="2002"),
    old_connection=C(call_id="12:4", device_id="2002"),
    endpoint="2002",
)

#: One filled-in example of every message the BER codec carries.
SAMPLES = [
    # system
    m.SystemStatus(status="normal"),
    m.SystemStatus(sys_stat_register_id="reg1", status="overloadImminent"),
    m.SystemStatusResponse(),
    m.SystemRegister(system_status=True),
    m.SystemRegister(system_status=False, request_system_status=True),
    m.SystemRegister(),
    m.SystemRegisterResponse(sys_stat_register_id="reg1"),
    m.RequestSystemStatus(),
    m.RequestSystemStatus(sys_stat_register_id="reg1"),
    m.RequestSystemStatusResponse(status="disabled"),
    # monitoring
    m.MonitorStart(device="2001"),
    m.MonitorStartResponse(cross_ref_id="7"),
    m.MonitorStop(cross_ref_id="7"),
    m.MonitorStopResponse(),
    m.SnapshotDevice(device="2001"),
    m.SnapshotDeviceResponse(items=()),
    m.SnapshotDeviceResponse(
        items=(
            m.SnapshotDeviceItem(connection=CALL, local_connection_state="connected"),
            m.SnapshotDeviceItem(connection=OTHER, local_connection_state="hold"),
            m.SnapshotDeviceItem(connection=C(call_id="12:9")),
        )
    ),
    # call control
    m.MakeCall(calling_device="2001", called_directory_number="+15550002002"),
    m.MakeCall(calling_device="2001", called_directory_number="2002", auto_originate="doNotPrompt"),
    m.MakeCallResponse(calling_device_connection=CALL),
    m.AnswerCall(connection=CALL),
    m.AnswerCallResponse(),
    m.ClearConnection(connection=CALL),
    m.ClearConnection(connection=CALL, reason="normalClearing"),
    m.ClearConnectionResponse(),
    m.ClearCall(connection=C(call_id="12:3")),
    m.ClearCallResponse(),
    m.HoldCall(connection=CALL),
    m.HoldCallResponse(),
    m.RetrieveCall(connection=CALL),
    m.RetrieveCallResponse(),
    m.ConsultationCall(existing_call=CALL, consulted_device="2003"),
    m.ConsultationCallResponse(initiated_call=OTHER),
    m.AlternateCall(held_call=CALL, active_call=OTHER),
    m.AlternateCallResponse(),
    m.ReconnectCall(held_call=CALL, active_call=OTHER),
    m.ReconnectCallResponse(),
    m.TransferCall(held_call=CALL, active_call=OTHER),
    m.TransferCallResponse(transferred_call=C(call_id="12:5", device_id="2002")),
    m.TransferCallResponse(transferred_call=C(call_id="12:5"), connections=(ITEM, m.ConnectionListItem())),
    m.ConferenceCall(held_call=CALL, active_call=OTHER),
    m.ConferenceCallResponse(conference_call=C(call_id="12:3"), connections=(ITEM,)),
    m.SingleStepTransferCall(active_call=CALL, transferred_to="2004"),
    m.SingleStepTransferCallResponse(transferred_call=C(call_id="12:6", device_id="2004")),
    m.DeflectCall(call_to_be_diverted=CALL, new_destination="2005"),
    m.DeflectCallResponse(),
    m.GenerateDigits(connection_to_send_digits=CALL, char_to_send="12#*"),
    m.GenerateDigitsResponse(),
    # events
    m.ServiceInitiatedEvent(
        cross_ref_id="7", initiated_connection=CALL, initiating_device="2001",
        local_connection_info="initiated", cause="makeCall",
    ),
    m.OriginatedEvent(
        cross_ref_id="7", originated_connection=CALL, calling_device="2001",
        called_device="2002", originating_device="2001",
        local_connection_info="connected", cause="newCall",
    ),
    m.OriginatedEvent(
        cross_ref_id="7", originated_connection=CALL, calling_device=None,
        called_device=None, cause="newCall",
    ),
    m.DeliveredEvent(
        cross_ref_id="7", connection=C(call_id="12:3", device_id="2002"),
        alerting_device="2002", calling_device="2001", called_device="2002",
        last_redirection_device=None, local_connection_info="alerting",
        cause="newCall",
    ),
    m.DeliveredEvent(
        cross_ref_id="7", connection=CALL, alerting_device="2003",
        calling_device=None, called_device="2002",
        last_redirection_device="2002", cause="redirected",
    ),
    m.EstablishedEvent(
        cross_ref_id="7", established_connection=CALL, answering_device="2002",
        calling_device="2001", called_device="2002",
        local_connection_info="connected", cause="newCall",
    ),
    m.HeldEvent(
        cross_ref_id="7", held_connection=CALL, holding_device="2001",
        local_connection_info="hold", cause="normal",
    ),
    m.RetrievedEvent(
        cross_ref_id="7", retrieved_connection=CALL, retrieving_device="2001",
        local_connection_info="connected", cause="normal",
    ),
    m.ConnectionClearedEvent(
        cross_ref_id="7", dropped_connection=CALL, releasing_device="2001",
        local_connection_info="null", cause="switchingFunctionTerminated",
    ),
    m.CallClearedEvent(cross_ref_id="7", cleared_call=C(call_id="12:3"), cause="normalClearing"),
    m.FailedEvent(
        cross_ref_id="7", failed_connection=CALL, failing_device="2002",
        calling_device="2001", called_device="2002",
        local_connection_info="fail", cause="busy",
    ),
    m.DivertedEvent(
        cross_ref_id="7", connection=CALL, diverting_device="2002",
        new_destination="2005", calling_device="2001", called_device="2002",
        last_redirection_device="2002", local_connection_info="null",
        cause="redirected",
    ),
    m.DivertedEvent(
        cross_ref_id="7", connection=CALL, diverting_device="2002",
        new_destination=None, cause="callForwardNoAnswer",
    ),
    m.TransferredEvent(
        cross_ref_id="7", primary_old_call=CALL, secondary_old_call=OTHER,
        transferring_device="2001", transferred_to_device="2003",
        transferred_connections=(ITEM,), local_connection_info="null",
        cause="transfer",
    ),
    m.TransferredEvent(
        cross_ref_id="7", primary_old_call=CALL, transferring_device="2001",
        transferred_to_device="2003", cause="singleStepTransfer",
    ),
    m.ConferencedEvent(
        cross_ref_id="7", primary_old_call=CALL, secondary_old_call=OTHER,
        conferencing_device="2001", added_party="2003",
        conference_connections=(ITEM, ITEM), local_connection_info="connected",
        cause="conference",
    ),
    m.DigitsGeneratedEvent(cross_ref_id="7", connection=CALL, digit_generated_list="123"),
]


def _apdu_for(message, invoke_id=5):
    kind = message.info.kind
    if kind is m.MessageKind.RESPONSE:
        return codec.return_result(invoke_id, message)
    return codec.invoke(invoke_id, message)


def _ber_classes():
    return {
        cls for cls, info in m.INFO.items()
        if info.kind in (m.MessageKind.REQUEST, m.MessageKind.RESPONSE, m.MessageKind.EVENT)
    }


def test_samples_cover_every_ber_message_class():
    assert _ber_classes() <= {type(s) for s in SAMPLES + CONTACT_CENTRE_SAMPLES}


def test_every_request_opcode_has_an_operation():
    for opcode, cls in m.BY_OPCODE.items():
        assert opcode in codec.OPERATIONS, cls
        # a result type exactly for the operations that respond
        assert (codec.OPERATIONS[opcode][1] is not None) == cls.info.responds


@pytest.mark.parametrize("message", SAMPLES, ids=lambda s: type(s).__name__)
def test_round_trip(message):
    apdu = _apdu_for(message)
    data = codec.encode_apdu(apdu)
    decoded = codec.decode_apdu(data)
    assert decoded == apdu
    # ... and the bytes are stable.
    assert codec.encode_apdu(decoded) == data


@pytest.mark.parametrize(
    "error",
    [
        m.CSTAError(category="operation", value="invalidDeviceID"),
        m.CSTAError(category="operation", value="serviceNotSupported"),
        m.CSTAError(category="stateIncompatibility", value="noCallToAnswer"),
        m.CSTAError(category="systemResourceAvailability", value="resourceBusy"),
        m.CSTAError(category="subscribedResourceAvailability", value="objectMonitorLimitExceeded"),
        m.CSTAError(category="security", value="generic"),
        m.CSTAError(category="performanceManagement", value="performanceLimitExceeded"),
        m.CSTAError(category="privateData", value="cSTAPrivateDataInfoError"),
        m.CSTAError(category="unspecified"),
    ],
    ids=lambda e: f"{e.category}-{e.value}",
)
def test_error_round_trip(error):
    data = codec.encode_apdu(ReturnError(42, error))
    assert codec.decode_apdu(data) == ReturnError(42, error)


def test_event_is_invoke_21_with_cross_reference():
    event = SAMPLES[-1]
    apdu = codec.decode_apdu(codec.encode_apdu(codec.invoke(100, event)))
    assert apdu.opcode == 21 and apdu.is_event
    assert apdu.message.cross_ref_id == "7"


def test_connection_forms():
    for connection in (C(call_id="1"), C(device_id="2001"), C(call_id="1", device_id="2001")):
        message = m.AnswerCall(connection=connection)
        assert codec.decode_apdu(codec.encode_apdu(codec.invoke(1, message))).message == message


def test_connection_without_ids_cannot_be_encoded():
    with pytest.raises(codec.BerEncodeError):
        codec.encode_apdu(codec.invoke(1, m.AnswerCall(connection=C())))


def test_binary_identifiers_survive():
    # Text ids go out as their UTF-8 octets ...
    data = codec.encode_apdu(codec.invoke(1, m.MonitorStop(cross_ref_id="x7")))
    assert b"\x55\x02x7" in data
    # ... and a client's opaque octets (not UTF-8) come back as the same octets.
    raw = bytes.fromhex("a10d0201010201493005550380fe01")  # monitorStop, xref 80 fe 01
    stop = codec.decode_apdu(raw).message
    assert codec.encode_apdu(codec.invoke(1, stop)) == raw


def test_device_number_and_typed_numbers_decode_as_text():
    # monitorStart { deviceObject { deviceNumber 5 } }
    data = bytes.fromhex("a10d020101020147300530038101" "05")
    assert codec.decode_apdu(data).message == m.MonitorStart(device="5")
    # snapshotDevice { explicitPublic [3] { international [1] "4930" } }
    data = bytes.fromhex("a11102010202014a30093007a3058103343933")
    assert codec.decode_apdu(data).message == m.SnapshotDevice(device="493")


# --- ACSE ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "apdu",
    [
        AssociationRequest(application_context="1.3.12.0.218", csta_versions=(4,)),
        AssociationRequest(application_context="1.3.12.0.218"),
        AssociationResponse(application_context="1.3.12.0.218", csta_versions=(18,)),
        AssociationResponse(application_context="1.3.12.0.218", result=1, diagnostic=2),
        ReleaseRequest(),
        ReleaseRequest(reason=0),
        ReleaseResponse(reason=0),
        Abort(),
        Abort(source=1),
    ],
    ids=repr,
)
def test_acse_round_trip(apdu):
    assert codec.decode_apdu(codec.encode_apdu(apdu)) == apdu


def test_aarq_with_authentication_and_titles_is_understood():
    # HiPath-style AARQ: sender-acse-requirements [10] (authentication bit),
    # calling-authentication-value [12] external, plus a called-AP-title [2].
    value = {
        "application-context-name": "1.3.12.0.218",
        "called-AP-title": bytes.fromhex("06032b0c00"),
        "sender-acse-requirements": (b"\x80", 1),
        "calling-authentication-value": (
            "external",
            {"encoding": ("single-ASN1-type", bytes.fromhex("a00c300a0406414d484f53540400"))},
        ),
    }
    data = codec._encode("ACSE-apdu", ("aarq", value))
    request = codec.decode_apdu(data)
    assert isinstance(request, AssociationRequest)
    assert request.authentication[0] == "external"
    assert request.csta_versions == ()
    aare = codec.decode_apdu(codec.encode_aare(request))
    assert aare.accepted and aare.application_context == "1.3.12.0.218"


# --- unknown and malformed input ---------------------------------------------


def test_unknown_opcode_is_reported_distinctly():
    raw = codec.encode_apdu(Invoke(9, 999, None, bytes.fromhex("3000")))
    apdu = codec.decode_apdu(raw)
    assert apdu == Invoke(9, 999, None, bytes.fromhex("3000"))
    assert Reject.unrecognized_operation(apdu.invoke_id).problem == "unrecognizedOperation"


def test_global_opcode_is_unknown():
    # invoke { id 3, opcode global 1.3.12 }
    apdu = codec.decode_apdu(bytes.fromhex("a1080201030603 2b0c00".replace(" ", "")))
    assert apdu.opcode == -1 and apdu.message is None and apdu.invoke_id == 3


def test_result_of_unknown_opcode_keeps_raw_bytes():
    data = codec.encode_apdu(ReturnResult(4, 999, None, bytes.fromhex("0500")))
    assert codec.decode_apdu(data) == ReturnResult(4, 999, None, bytes.fromhex("0500"))


def test_bare_return_result():
    assert codec.decode_apdu(bytes.fromhex("a2030201 04".replace(" ", ""))) == ReturnResult(4, None, None)


def test_mistyped_argument_carries_invoke_id_and_opcode():
    # makeCall (10) whose argument is an INTEGER.
    data = bytes.fromhex("a10b02012a02010a3003020101")
    with pytest.raises(codec.BerDecodeError) as info:
        codec.decode_apdu(data)
    assert info.value.invoke_id == 42 and info.value.opcode == 10
    assert info.value.reject() == Reject(42, "invoke", 2)


def test_bad_enumeration_value_is_a_decode_error():
    # systemStatus with an out-of-range status (99).
    with pytest.raises(codec.BerDecodeError) as info:
        codec.decode_apdu(bytes.fromhex("a10c020101020200d330030a0163"))
    assert info.value.invoke_id == 1 and info.value.opcode == 211


def test_bad_error_parameter():
    with pytest.raises(codec.BerDecodeError) as info:
        codec.decode_apdu(bytes.fromhex("a30b020107020101a0030a01ff"))
    assert info.value.reject() == Reject(7, "returnError", 4)


def test_unknown_error_code():
    with pytest.raises(codec.BerDecodeError):
        codec.decode_apdu(bytes.fromhex("a30b020107020102a0030a010c"))


@pytest.mark.parametrize(
    "hex_apdu",
    [
        "",
        "00",
        "ff",
        "a1",
        "a10c0201",
        "3000",
        "a1050201010500",  # invoke without opcode
        "a406020107810101ff",  # trailing byte
        "6003800207",
        "6100",
        "64",
        "a1ffffffffff",
    ],
)
def test_malformed_bytes_raise_ber_decode_error(hex_apdu):
    with pytest.raises(codec.BerDecodeError) as info:
        codec.decode_apdu(bytes.fromhex(hex_apdu))
    assert isinstance(info.value.reject(), Reject)


def test_encoding_a_non_message_fails_cleanly():
    with pytest.raises(codec.BerEncodeError):
        codec.encode_apdu(object())
    with pytest.raises(codec.BerEncodeError):
        codec.encode_apdu(Invoke(1, 71, m.MonitorStartResponse(cross_ref_id="1")))
    with pytest.raises(codec.BerEncodeError):
        codec.encode_apdu(Invoke(1, 72, m.MonitorStart(device="1")))
    with pytest.raises(codec.BerEncodeError):
        codec.encode_apdu(codec.invoke(1, m.SystemStatus(status="bogus")))


# --- properties ------------------------------------------------------------------

digits = st.text(alphabet="0123456789*#+", min_size=1, max_size=20)
ids = st.text(min_size=1, max_size=16)
invoke_ids = st.integers(min_value=-(2**31), max_value=2**31 - 1)
connections = st.builds(
    m.ConnectionID, call_id=st.one_of(st.none(), ids), device_id=digits
) | st.builds(m.ConnectionID, call_id=ids, device_id=st.none())
devices_or_unknown = st.one_of(st.none(), digits)
states = st.one_of(st.none(), st.sampled_from(m.LOCAL_CONNECTION_STATES))
causes = st.sampled_from(sorted(m.EVENT_CAUSES))

messages_strategy = st.one_of(
    st.builds(m.MonitorStart, device=digits),
    st.builds(m.MonitorStartResponse, cross_ref_id=ids),
    st.builds(m.MakeCall, calling_device=digits, called_directory_number=digits,
              auto_originate=st.one_of(st.none(), st.sampled_from(["prompt", "doNotPrompt"]))),
    st.builds(m.MakeCallResponse, calling_device_connection=connections),
    st.builds(m.SystemStatus, status=st.sampled_from(m.SYSTEM_STATUSES),
              sys_stat_register_id=st.one_of(st.none(), ids)),
    st.builds(
        m.DeliveredEvent, cross_ref_id=ids, connection=connections,
        alerting_device=devices_or_unknown, calling_device=devices_or_unknown,
        called_device=devices_or_unknown, last_redirection_device=devices_or_unknown,
        local_connection_info=states, cause=causes,
    ),
    st.builds(
        m.ConnectionClearedEvent, cross_ref_id=ids, dropped_connection=connections,
        releasing_device=devices_or_unknown, local_connection_info=states, cause=causes,
    ),
    st.builds(
        m.SnapshotDeviceResponse,
        items=st.lists(
            st.builds(m.SnapshotDeviceItem, connection=connections,
                      local_connection_state=states),
            max_size=4,
        ).map(tuple),
    ),
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(message=messages_strategy, invoke_id=invoke_ids)
def test_property_round_trip(message, invoke_id):
    apdu = _apdu_for(message, invoke_id)
    assert codec.decode_apdu(codec.encode_apdu(apdu)) == apdu


@settings(max_examples=200)
@given(error=st.sampled_from(["invalidDeviceID", "generic", "invalidCallID", "serviceNotSupported"]),
       invoke_id=invoke_ids)
def test_property_error_round_trip(error, invoke_id):
    apdu = ReturnError(invoke_id, m.CSTAError(category="operation", value=error))
    assert codec.decode_apdu(codec.encode_apdu(apdu)) == apdu


@settings(max_examples=500)
@given(data=st.binary(max_size=64))
def test_property_garbage_never_crashes(data):
    try:
        codec.decode_apdu(data)
    except codec.BerDecodeError:
        pass


@settings(max_examples=300)
@given(message=messages_strategy, cut=st.integers(min_value=1, max_value=200),
       flip=st.integers(min_value=0, max_value=255))
def test_property_damaged_apdu_never_crashes(message, cut, flip):
    data = bytearray(codec.encode_apdu(_apdu_for(message)))
    position = cut % len(data)
    data[position] ^= flip
    for candidate in (bytes(data), bytes(data[:position])):
        try:
            codec.decode_apdu(candidate)
        except codec.BerDecodeError:
            pass
