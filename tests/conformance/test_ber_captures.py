"""The BER codec against real CSTA Phase III traffic.

Bytes quoted in reference/csta.md §1.2: a Panasonic KX-TDE/NS PBX and its
client (LinTcMon ``phonesystem.py``, a Perl Convert::ASN1 client), each APDU
without its 2-byte length. Plus the example APDUs of csta.md §1.2 whose
structure was checked against those captures.
"""

from __future__ import annotations

import pytest

from csta_connector.csta import messages as m
from csta_connector.csta.ber import codec
from csta_connector.csta.ber.acse import (
    CSTA_APPLICATION_CONTEXT,
    AssociationRequest,
    AssociationResponse,
)
from csta_connector.csta.ber.rose import Invoke, Reject, ReturnError, ReturnResult

h = bytes.fromhex

# Client -> PBX: protocol-version version1, AC 1.3.12.0.218, user information
# EXTERNAL {1.3.12.0.285.200, newDefinition {cSTAVersion versionFive}}.
PANASONIC_AARQ = h(
    "602380020780A10706052B0C00815ABE14281206072B0C00821D8148A007A005"
    "0303000800"
)
# PBX -> client: accepted, echoing the context and the user information.
PANASONIC_AARE = h(
    "612f80020780a10706052b0c00815aa203020100a305a103020101be14281206"
    "072b0c00821d8148a007a0050303000800"
)
# PBX -> client after the AARE: systemStatus (211) normal, invoke id 1.
PANASONIC_SYSTEM_STATUS = h("a10c020101020200d330030a0102")
# Client -> PBX: the answer, noData.
PANASONIC_SYSTEM_STATUS_RESULT = h("A20B0201013006020200D30500")
# Client -> PBX: escape (opcode 51) with Panasonic private data.
PANASONIC_ESCAPE = h("A11602020602020133300DA40BA009A407A105A0030A0105")
PANASONIC_ESCAPE_2 = h("A116020200E0020133300DA40BA009A407A105A0030A0102")
# Client -> PBX: monitorStart of device 101 with an empty filter (all events).
PANASONIC_MONITOR_START = h("A111020178020147300930058003313031A000")
# A rejected association: "A2 03 02 01 01" is what the Perl client checks.
REJECTED_RESULT = h("a203020101")


def test_panasonic_aarq_decodes():
    aarq = codec.decode_apdu(PANASONIC_AARQ)
    assert isinstance(aarq, AssociationRequest)
    assert aarq.application_context == CSTA_APPLICATION_CONTEXT == "1.3.12.0.218"
    assert aarq.csta_versions == (4,)  # versionFive: ECMA-285 2nd edition
    assert aarq.authentication is None


def test_panasonic_aarq_reencodes_to_same_bytes():
    assert codec.encode_apdu(codec.decode_apdu(PANASONIC_AARQ)) == PANASONIC_AARQ


def test_panasonic_aare_decodes_and_reencodes():
    aare = codec.decode_apdu(PANASONIC_AARE)
    assert isinstance(aare, AssociationResponse)
    assert aare.accepted
    assert aare.application_context == "1.3.12.0.218"
    assert aare.csta_versions == (4,)
    assert codec.encode_apdu(aare) == PANASONIC_AARE


# result-source-diagnostic acse-service-user no-reason-given (1), in the capture
PANASONIC_DIAGNOSTIC = h("a305a103020101")
# acse-service-user null (0): what X.227 gives with "accepted"
NULL_DIAGNOSTIC = h("a305a103020100")


def test_answer_to_panasonic_aarq_is_the_panasonic_aare_with_the_x227_diagnostic():
    aarq = codec.decode_apdu(PANASONIC_AARQ)
    assert PANASONIC_AARE.count(PANASONIC_DIAGNOSTIC) == 1
    assert codec.encode_aare(aarq) == PANASONIC_AARE.replace(PANASONIC_DIAGNOSTIC, NULL_DIAGNOSTIC)
    aare = codec.decode_apdu(codec.encode_aare(aarq))
    assert (aare.result, aare.diagnostic) == (0, 0)


def test_the_aare_selects_version1_of_the_versions_asked():
    aarq = codec.decode_apdu(PANASONIC_AARQ)
    both = AssociationRequest(aarq.application_context, aarq.csta_versions,
                              apdu=dict(aarq.apdu, **{"protocol-version": (b"\xc0", 2)}))
    assert codec.encode_aare(both).startswith(h("612f80020780"))  # version1 alone
    bare = AssociationRequest(csta_versions=(4,))  # no protocol-version: version1 by default
    aare = codec.decode_apdu(codec.encode_aare(codec.decode_apdu(codec.encode_apdu(bare))))
    assert "protocol-version" not in aare.apdu


def test_rejecting_aare_carries_rejected_permanent():
    aarq = codec.decode_apdu(PANASONIC_AARQ)
    aare_bytes = codec.encode_aare(aarq, accepted=False)
    assert REJECTED_RESULT in aare_bytes
    aare = codec.decode_apdu(aare_bytes)
    assert not aare.accepted and aare.result == 1
    assert aare.diagnostic == 2  # application-context-name-not-supported
    assert aare.application_context == "1.3.12.0.218"


def test_aare_echoes_another_application_context():
    # HiPath 3000 / OpenScape Business context; any context is echoed.
    aarq = AssociationRequest(application_context="1.3.12.0.180.1", csta_versions=(3,))
    aare = codec.decode_apdu(codec.encode_aare(codec.decode_apdu(codec.encode_apdu(aarq))))
    assert aare.application_context == "1.3.12.0.180.1"
    assert aare.csta_versions == (3,)


def test_panasonic_system_status_invoke():
    apdu = codec.decode_apdu(PANASONIC_SYSTEM_STATUS)
    assert apdu == Invoke(1, 211, m.SystemStatus(status="normal"))
    assert codec.encode_apdu(apdu) == PANASONIC_SYSTEM_STATUS


def test_server_system_status_is_byte_identical_to_panasonic():
    assert codec.encode_apdu(codec.invoke(1, m.SystemStatus())) == PANASONIC_SYSTEM_STATUS


def test_panasonic_system_status_result():
    apdu = codec.decode_apdu(PANASONIC_SYSTEM_STATUS_RESULT)
    assert apdu == ReturnResult(1, 211, m.SystemStatusResponse())
    assert codec.encode_apdu(apdu) == PANASONIC_SYSTEM_STATUS_RESULT


@pytest.mark.parametrize(
    "apdu, invoke_id", [(PANASONIC_ESCAPE, 0x0602), (PANASONIC_ESCAPE_2, 0xE0)]
)
def test_panasonic_escape_is_an_unknown_operation(apdu, invoke_id):
    decoded = codec.decode_apdu(apdu)
    assert decoded.invoke_id == invoke_id
    assert decoded.opcode == 51
    assert decoded.message is None
    # Kept raw, so it re-encodes exactly (e.g. when relayed).
    assert codec.encode_apdu(decoded) == apdu
    reject = Reject.unrecognized_operation(decoded.invoke_id)
    assert codec.decode_apdu(codec.encode_apdu(reject)).problem == "unrecognizedOperation"


def test_panasonic_monitor_start():
    apdu = codec.decode_apdu(PANASONIC_MONITOR_START)
    # The empty filter is accepted and not kept (messages.MonitorStart).
    assert apdu == Invoke(120, 71, m.MonitorStart(device="101"))


# Example APDUs of csta.md §1.2 (structure checked against the captures).


def test_reference_monitor_start_invoke():
    expected = h("a11002010702014730083006800431303031")
    assert codec.encode_apdu(codec.invoke(7, m.MonitorStart(device="1001"))) == expected
    assert codec.decode_apdu(expected).message == m.MonitorStart(device="1001")


def test_reference_monitor_start_result():
    expected = h("a210020107300b0201473006550400000001")
    apdu = codec.decode_apdu(expected)
    assert apdu.invoke_id == 7 and apdu.opcode == 71
    assert isinstance(apdu.message, m.MonitorStartResponse)
    assert codec.encode_apdu(apdu) == expected


def test_reference_return_error():
    expected = h("a30b020107020101a0030a010c")
    error = m.CSTAError(category="operation", value="invalidDeviceID")
    assert codec.encode_apdu(ReturnError(7, error)) == expected
    assert codec.decode_apdu(expected) == ReturnError(7, error)


def test_reference_reject():
    expected = h("a406020107810101")
    assert codec.encode_apdu(Reject.unrecognized_operation(7)) == expected


def test_reference_make_call_argument():
    apdu = codec.encode_apdu(
        codec.invoke(3, m.MakeCall(calling_device="1000", called_directory_number="2000"))
    )
    assert h("301030068004313030303006800432303030") in apdu


def test_event_report_nesting_matches_hipath_template():
    # [1]{ INT id, INT 21, SEQ{ [APP 21] xref, [0]{ [3]{ ConnectionCleared } } } }
    event = m.ConnectionClearedEvent(
        cross_ref_id="\x00\x01",
        dropped_connection=m.ConnectionID(call_id="\x00\x07", device_id="2001"),
        releasing_device="2001",
        local_connection_info="null",
        cause="normalClearing",
    )
    data = codec.encode_apdu(codec.invoke(9, event))
    assert data[0] == 0xA1
    argument = data[data.index(b"\x02\x01\x15") + 3:]
    assert argument[0] == 0x30
    assert argument[2:6] == h("55020001")  # [APPLICATION 21] 00 01
    assert argument[6] == 0xA0 and argument[8] == 0xA3
    assert codec.decode_apdu(data).message == event
