"""The encoding-neutral CSTA message classes and their registry."""

import dataclasses

import pytest

from csta_connector.csta import messages as m
from csta_connector.csta.messages import Kind, MessageKind

ALL = list(m.all_message_classes())


def test_registry_is_consistent():
    assert len(set(m.BY_XML_NAME.values())) == len(m.BY_XML_NAME) == len(ALL)
    for cls in ALL:
        info = cls.info
        assert m.INFO[cls] is info
        assert m.BY_XML_NAME[info.xml_name] is cls
        if info.kind is MessageKind.REQUEST and not info.responds:
            assert m.BY_OPCODE[info.opcode] is cls
            assert m.response_class_for(cls) is None
        elif info.kind is MessageKind.REQUEST:
            assert m.BY_OPCODE[info.opcode] is cls
            response = m.response_class_for(cls)
            assert response.info.kind is MessageKind.RESPONSE
            assert response.info.opcode == info.opcode
            assert response.info.xml_name == info.xml_name + "Response"
        if info.kind is MessageKind.EVENT:
            assert info.opcode == 21
            assert m.BY_EVENT_NAME[(info.event_group, info.asn1_name)] is cls


@pytest.mark.parametrize(
    "cls, opcode",
    [
        (m.AlternateCall, 1), (m.AnswerCall, 2), (m.ClearCall, 4),
        (m.ClearConnection, 5), (m.ConferenceCall, 6), (m.ConsultationCall, 7),
        (m.HoldCall, 9), (m.MakeCall, 10), (m.ReconnectCall, 13),
        (m.RetrieveCall, 14), (m.TransferCall, 16),
        (m.SingleStepTransferCall, 50), (m.MonitorStart, 71),
        (m.MonitorStop, 73), (m.SnapshotDevice, 74), (m.SystemRegister, 207),
        (m.RequestSystemStatus, 210), (m.SystemStatus, 211),
        (m.DeflectCall, 218), (m.GenerateDigits, 232),
    ],
)
def test_ecma_285_opcodes(cls, opcode):
    assert cls.info.opcode == opcode


def test_events_start_with_cross_ref_and_carry_a_cause():
    events = [c for c in ALL if c.info.kind is MessageKind.EVENT]
    assert len(events) == 25
    for cls in events:
        wire = m.wire_fields(cls)
        assert wire[0].attr == "cross_ref_id"
        assert wire[0].path == ("monitorCrossRefID",)
        if cls not in (m.DigitsGeneratedEvent, m.CallInformationEvent):
            assert "cause" in {w.attr for w in wire}


def test_xsd_spellings():
    assert m.TransferredEvent.info.xml_name == "TransferedEvent"
    assert m.CSTAError.info.xml_name == "CSTAErrorCode"


def test_messages_are_frozen_keyword_only_and_slotted():
    call = m.MakeCall(calling_device="2001", called_directory_number="2002")
    with pytest.raises(dataclasses.FrozenInstanceError):
        call.calling_device = "x"
    with pytest.raises(TypeError):
        m.MakeCall("2001", "2002")
    assert not hasattr(call, "__dict__")
    assert call == m.MakeCall(called_directory_number="2002", calling_device="2001")


def test_optional_fields_default_to_none_and_lists_to_empty():
    event = m.ConferencedEvent(
        cross_ref_id="1", primary_old_call=m.ConnectionID(call_id="c"),
        conferencing_device="2001", added_party="2003", cause="conference",
    )
    assert event.secondary_old_call is None
    assert event.local_connection_info is None
    assert event.conference_connections == ()
    assert m.SystemStatus().status == "normal"


def test_field_descriptions():
    for cls in ALL:
        for wf in m.wire_fields(cls):
            assert isinstance(wf.kind, Kind)
            assert all(wf.path)
            if wf.kind is Kind.STRUCT_LIST:
                assert dataclasses.is_dataclass(wf.item)


def test_enumeration_tables():
    assert m.LOCAL_CONNECTION_STATES.index("fail") == 6
    assert m.EVENT_CAUSES["newCall"] == 22
    assert m.EVENT_CAUSES["normalClearing"] == 48
    assert m.EVENT_CAUSES["singleStepTransfer"] == 52
    assert len(set(m.EVENT_CAUSES.values())) == len(m.EVENT_CAUSES)
    assert m.ERROR_CATEGORIES[3] == "systemResourceAvailability"
