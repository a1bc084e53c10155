"""CSTA XML (ECMA-323) codec: round trips for every message, exact bytes for
a few, namespaces, the XSD spelling quirks, hardened parsing, errors."""

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from csta_connector.csta import messages as m
from csta_connector.csta import xml_codec as x
from csta_connector.csta.messages import ConnectionID, ConnectionListItem, Kind

NAMESPACES = [x.ED3, x.ED4, x.ED2_ECMA_CH, x.ED6, None]


# --- building one example of every message, from its field description --------


def example_value(wf, cls, variant):
    """A value for one field; ``variant`` 0 fills optionals, 1 leaves them out
    and uses the "not known" forms where a mandatory field allows None."""
    tag = f"{cls.__name__[:6]}-{wf.attr}"
    if variant == 1 and wf.optional:
        return () if wf.kind in (Kind.TEXT_LIST, Kind.STRUCT_LIST) else None
    if wf.kind is Kind.TEXT or wf.kind is Kind.DEVICE:
        return tag + "&<>\"'"
    if wf.kind is Kind.INT:
        return 600
    if wf.kind is Kind.BOOL:
        return True
    if wf.kind in (Kind.EXTENDED_DEVICE, Kind.REDIRECTION_DEVICE):
        return None if variant == 1 else tag
    if wf.kind is Kind.CONNECTION:
        if variant == 1:
            return ConnectionID(call_id=tag)
        return ConnectionID(call_id="FF00" + tag, device_id="2001")
    if wf.kind is Kind.TEXT_LIST:
        return (tag + "-1", tag + "-2")
    if wf.kind is Kind.STRUCT_LIST:
        count = 0 if variant == 1 else 2
        return tuple(example(wf.item, variant) for _ in range(count))
    if wf.kind is Kind.EXTENSIONS:
        return () if variant == 1 else (("audioUrl", tag + "&<"), ("audioUrl", "2"))
    if wf.kind is Kind.ERROR_VALUE:
        return m.CSTAError(category="systemResourceAvailability", value="resourceBusy")
    raise AssertionError(wf.kind)


def example(cls, variant=0):
    if cls is m.CSTAError:
        return m.CSTAError(category="operation", value="invalidDeviceID")
    return cls(**{wf.attr: example_value(wf, cls, variant) for wf in m.wire_fields(cls)})


ALL_MESSAGES = list(m.all_message_classes())


def test_every_message_class_is_covered():
    # The registry is what the round-trip tests iterate over; make sure the
    # SPEC §5.2 services and §5.4 events are in it.
    names = {cls.__name__ for cls in ALL_MESSAGES}
    for service in (
        "MonitorStart MonitorStop SnapshotDevice SystemStatus SystemRegister "
        "RequestSystemStatus MakeCall AnswerCall ClearConnection ClearCall "
        "HoldCall RetrieveCall ConsultationCall AlternateCall ReconnectCall "
        "TransferCall ConferenceCall SingleStepTransferCall DeflectCall "
        "GenerateDigits"
    ).split():
        assert service in names
        assert service + "Response" in names
    for ev in (
        "ServiceInitiated Originated Delivered Established Held Retrieved "
        "ConnectionCleared CallCleared Failed Diverted Transferred Conferenced "
        "DigitsGenerated"
    ).split():
        assert ev + "Event" in names


@pytest.mark.parametrize("cls", ALL_MESSAGES, ids=lambda c: c.__name__)
def test_round_trip(cls):
    # Variants and namespaces loop inside: one test item per class keeps the
    # suite fast (the shared conftest collects garbage after every item).
    for variant in (0, 1):
        message = example(cls, variant)
        for namespace in NAMESPACES:
            body = x.encode(message, namespace)
            decoded, got_namespace = x.decode(body)
            assert decoded == message, (variant, namespace)
            if cls.info.kind is m.MessageKind.SESSION and namespace is not None:
                assert got_namespace == x.ECMA_354
            else:
                assert got_namespace == namespace
            # Well-formed UTF-8 with the XML declaration, root named per the XSD.
            assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
            root = etree.fromstring(body)
            assert etree.QName(root).localname == cls.info.xml_name
            assert etree.QName(root).namespace == got_namespace


def test_make_call_exact_bytes():
    body = x.encode(m.MakeCall(calling_device="2001", called_directory_number="2002"))
    assert body == (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<MakeCall xmlns="http://www.ecma-international.org/standards/ecma-323/csta/ed3">'
        b"<callingDevice>2001</callingDevice>"
        b"<calledDirectoryNumber>2002</calledDirectoryNumber>"
        b"</MakeCall>"
    )


def test_delivered_event_exact_bytes_and_element_order():
    event = m.DeliveredEvent(
        cross_ref_id="7",
        connection=ConnectionID(call_id="c1", device_id="2002"),
        alerting_device="2002",
        calling_device="2001",
        called_device="2002",
        local_connection_info="alerting",
        cause="newCall",
    )
    assert x.encode(event, x.ED4) == (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<DeliveredEvent xmlns="http://www.ecma-international.org/standards/ecma-323/csta/ed4">'
        b"<monitorCrossRefID>7</monitorCrossRefID>"
        b"<connection><callID>c1</callID><deviceID>2002</deviceID></connection>"
        b"<alertingDevice><deviceIdentifier>2002</deviceIdentifier></alertingDevice>"
        b"<callingDevice><deviceIdentifier>2001</deviceIdentifier></callingDevice>"
        b"<calledDevice><deviceIdentifier>2002</deviceIdentifier></calledDevice>"
        b"<lastRedirectionDevice><notRequired/></lastRedirectionDevice>"
        b"<localConnectionInfo>alerting</localConnectionInfo>"
        b"<cause>newCall</cause>"
        b"</DeliveredEvent>"
    )


def test_transferred_event_keeps_xsd_spelling():
    body = x.encode(example(m.TransferredEvent))
    assert b"<TransferedEvent " in body and b"Transferred" not in body
    assert m.TransferredEvent.info.asn1_name == "transferred"


def test_error_code_keeps_xsd_spelling_and_reads_both():
    error = m.CSTAError(category="systemResourceAvailability", value="resourceBusy")
    body = x.encode(error)
    assert b"<systemResourceAvailibility>resourceBusy</systemResourceAvailibility>" in body
    assert x.decode(body)[0] == error
    correct = body.replace(b"Availibility", b"Availability")
    assert x.decode(correct)[0] == error


@pytest.mark.parametrize(
    "category, value",
    [
        ("operation", "invalidDeviceID"),
        ("operation", "invalidConnectionID"),
        ("operation", "serviceNotSupported"),
        ("stateIncompatibility", "invalidObjectState"),
        ("security", "generic"),
        ("unspecified", None),
    ],
)
def test_error_code_variants(category, value):
    error = m.CSTAError(category=category, value=value)
    assert x.decode(x.encode(error, x.ED4))[0] == error


def test_empty_response_is_an_empty_element():
    body = x.encode(m.MonitorStopResponse(), None)
    assert body == b'<?xml version="1.0" encoding="UTF-8"?><MonitorStopResponse/>'


def test_session_messages_use_ecma_354_namespace():
    body = x.encode(m.StartApplicationSessionPosResponse(
        session_id="s1", actual_protocol_version=x.ED3, actual_session_duration=600,
    ), x.ED3)
    assert b'xmlns="http://www.ecma-international.org/standards/ecma-354/appl_session"' in body


def test_snapshot_device_response_shape():
    response = m.SnapshotDeviceResponse(items=(
        m.SnapshotDeviceItem(
            connection=ConnectionID(call_id="c1", device_id="2001"),
            local_connection_state="connected",
        ),
    ))
    body = x.encode(response)
    assert (
        b"<crossRefIDorSnapshotData><snapshotData><snapshotDeviceResponseInfo>"
        b"<connectionIdentifier><callID>c1</callID><deviceID>2001</deviceID></connectionIdentifier>"
        b"<localCallState><compoundCallState><localConnectionState>connected"
        b"</localConnectionState></compoundCallState></localCallState>"
        b"</snapshotDeviceResponseInfo></snapshotData></crossRefIDorSnapshotData>"
    ) in body


def test_optional_lists_left_out_when_empty():
    response = m.TransferCallResponse(transferred_call=ConnectionID(call_id="c"))
    assert b"connections" not in x.encode(response)


# --- decoding tolerance ---------------------------------------------------------


def test_decode_prefixed_namespace():
    body = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<ns3:MonitorStart xmlns:ns2="http://schemas.xmlsoap.org/soap/envelope/" '
        b'xmlns:ns3="http://www.ecma-international.org/standards/ecma-323/csta/ed4">'
        b'<ns3:monitorObject><ns3:deviceObject typeOfNumber="dialingNumber">3021033'
        b"</ns3:deviceObject></ns3:monitorObject></ns3:MonitorStart>"
    )
    assert x.decode(body) == (m.MonitorStart(device="3021033"), x.ED4)


def test_decode_pretty_printed_with_extensions_and_unknown_elements():
    body = b"""<?xml version="1.0" encoding="utf-8"?>
<MonitorStart xmlns="http://www.ecma-international.org/standards/ecma-323/csta/ed5">
   <monitorObject>
      <deviceObject> 2001 </deviceObject>
   </monitorObject>
   <requestedMonitorFilter><callcontrol><delivered>true</delivered></callcontrol></requestedMonitorFilter>
   <monitorType>device</monitorType>
   <!-- a comment -->
   <extensions>
      <privateData>
         <private xmlns:scx="http://www.siemens.com/schema/csta">
            <scx:staticOndDN>17133013</scx:staticOndDN>
         </private>
      </privateData>
   </extensions>
</MonitorStart>"""
    assert x.decode(body) == (m.MonitorStart(device="2001"), x.ED5)


def test_decode_connection_children_in_any_order_and_alone():
    body = (
        b"<DeflectCall><callToBeDiverted><deviceID>SUB_C</deviceID>"
        b"<callID>FF0001</callID></callToBeDiverted>"
        b"<newDestination>SUB_D</newDestination></DeflectCall>"
    )
    message, namespace = x.decode(body)
    assert namespace is None
    assert message == m.DeflectCall(
        call_to_be_diverted=ConnectionID(call_id="FF0001", device_id="SUB_C"),
        new_destination="SUB_D",
    )
    answer = b"<AnswerCall><callToBeAnswered><callID>c</callID></callToBeAnswered></AnswerCall>"
    assert x.decode(answer)[0].connection == ConnectionID(call_id="c", device_id=None)


def test_decode_defaults_for_absent_mandatory_with_default():
    # OSV sends an empty SystemStatus; the status defaults to normal.
    body = (
        b'<ns3:SystemStatus xmlns:ns3="http://www.ecma-international.org/'
        b'standards/ecma-323/csta/ed4"/>'
    )
    assert x.decode(body)[0] == m.SystemStatus(status="normal")


def test_decode_not_known_devices():
    body = x.encode(example(m.DeliveredEvent)).replace(
        b"<callingDevice><deviceIdentifier>", b"<callingDevice><restricted/><x>"
    ).replace(b"</deviceIdentifier></callingDevice>", b"</x></callingDevice>")
    assert x.decode(body)[0].calling_device is None
    body = x.encode(m.FailedEvent(
        cross_ref_id="1", failed_connection=ConnectionID(call_id="c"),
        failing_device="1", calling_device="2", called_device="3",
        last_redirection_device="4", cause="busy",
    ))
    assert b"<lastRedirectionDevice><numberDialed>4</numberDialed>" in body
    assert x.decode(body)[0].last_redirection_device == "4"


# --- errors ------------------------------------------------------------------------


def test_unknown_operation():
    with pytest.raises(x.UnknownOperation) as info:
        x.decode(
            b'<SetForwarding xmlns="http://www.ecma-international.org/standards/ecma-323/csta/ed3"/>'
        )
    assert info.value.name == "SetForwarding"
    assert info.value.namespace == x.ED3
    assert isinstance(info.value, x.CodecError)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   ",
        b"<MakeCall>",
        b"not xml at all",
        b"<MakeCall><callingDevice>1</callingDevice></MakeCall>",  # missing mandatory
        b"<MonitorStart><monitorObject><callObject><callID>1</callID></callObject>"
        b"</monitorObject></MonitorStart>",
        b"<StartApplicationSession><applicationInfo><applicationID>a</applicationID>"
        b"</applicationInfo><requestedSessionDuration>soon</requestedSessionDuration>"
        b"</StartApplicationSession>",
        b"<SystemRegister><requestTypes><systemStatus>maybe</systemStatus>"
        b"</requestTypes></SystemRegister>",
        b'<MonitorStop xmlns="urn:not-csta"><monitorCrossRefID>1</monitorCrossRefID></MonitorStop>',
        b"<CSTAErrorCode/>",
        b"\xff\xfe garbage",
    ],
)
def test_malformed(body):
    with pytest.raises(x.MalformedMessage):
        x.decode(body)


def test_size_cap():
    body = b"<MonitorStop><monitorCrossRefID>" + b"1" * 100 + b"</monitorCrossRefID></MonitorStop>"
    x.decode(body, max_size=len(body))
    with pytest.raises(x.MalformedMessage):
        x.decode(body, max_size=len(body) - 1)
    with pytest.raises(x.MalformedMessage):
        x.decode(b" " * (x.MAX_DOCUMENT_SIZE + 1))


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<MonitorStop><monitorCrossRefID>&lol4;</monitorCrossRefID></MonitorStop>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE m [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<MonitorStop><monitorCrossRefID>&xxe;</monitorCrossRefID></MonitorStop>"""


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_entity_documents_rejected(body):
    with pytest.raises(x.MalformedMessage):
        x.decode(body)


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_entity_documents_rejected_when_byte_scan_is_bypassed(body):
    # UTF-16 hides "<!DOCTYPE" from the byte scan; the parse-time check holds.
    utf16 = body.replace(b'<?xml version="1.0"?>', b"").decode().encode("utf-16")
    with pytest.raises(x.MalformedMessage):
        x.decode(utf16)


def test_utf16_document_without_dtd_is_fine():
    body = "<MonitorStop><monitorCrossRefID>5</monitorCrossRefID></MonitorStop>".encode("utf-16")
    assert x.decode(body)[0] == m.MonitorStop(cross_ref_id="5")


def test_encode_errors():
    with pytest.raises(x.EncodeError):
        x.encode(m.MonitorStop(cross_ref_id=None))
    with pytest.raises(x.EncodeError):
        x.encode(m.MonitorStop(cross_ref_id="bad\x00char"))
    with pytest.raises(x.EncodeError):
        x.encode(m.MakeCallResponse(calling_device_connection="not a connection"))
    with pytest.raises(x.EncodeError):
        x.encode(object())
    with pytest.raises(x.EncodeError):
        x.encode(m.StartApplicationSessionPosResponse(
            session_id="s", actual_protocol_version=x.ED3, actual_session_duration="600",
        ))


def test_integers_as_text_are_written():
    # Cross-reference ids are opaque text, but an int is written faithfully.
    assert b"<monitorCrossRefID>42</monitorCrossRefID>" in x.encode(m.MonitorStop(cross_ref_id=42))


# --- properties -----------------------------------------------------------------------

# Text the XML 1.0 can carry, not starting or ending in whitespace (decoding
# strips the text of identifiers, as pretty-printing peers indent them).
xml_char = st.characters(
    exclude_categories=("Cs",), exclude_characters="\ufffe\uffff"
).filter(lambda c: c in "\t\n\r" or ord(c) >= 0x20)
texts = st.text(xml_char, max_size=40).filter(lambda s: s == s.strip())
opt_texts = st.none() | texts
connections = st.builds(ConnectionID, call_id=opt_texts, device_id=opt_texts)
causes = st.sampled_from(sorted(m.EVENT_CAUSES))
states = st.none() | st.sampled_from(m.LOCAL_CONNECTION_STATES)
namespaces = st.sampled_from(NAMESPACES)


def round_trips(message, namespace):
    decoded, got_namespace = x.decode(x.encode(message, namespace))
    assert decoded == message
    assert got_namespace == namespace


@settings(max_examples=100, deadline=None)
@given(st.builds(m.MakeCall, calling_device=texts, called_directory_number=texts,
                 auto_originate=st.none() | st.sampled_from(["prompt", "doNotPrompt"])),
       namespaces)
def test_property_make_call(message, namespace):
    round_trips(message, namespace)


@settings(max_examples=100, deadline=None)
@given(st.builds(m.DeliveredEvent, cross_ref_id=texts, connection=connections,
                 alerting_device=opt_texts, calling_device=opt_texts,
                 called_device=opt_texts, last_redirection_device=opt_texts,
                 local_connection_info=states, cause=causes),
       namespaces)
def test_property_delivered_event(message, namespace):
    round_trips(message, namespace)


items = st.builds(ConnectionListItem, new_connection=st.none() | connections,
                  old_connection=st.none() | connections, endpoint=opt_texts)


@settings(max_examples=100, deadline=None)
@given(st.builds(m.TransferredEvent, cross_ref_id=texts, primary_old_call=connections,
                 secondary_old_call=st.none() | connections,
                 transferring_device=opt_texts, transferred_to_device=opt_texts,
                 transferred_connections=st.lists(items, max_size=3).map(tuple),
                 local_connection_info=states, cause=causes),
       namespaces)
def test_property_transferred_event(message, namespace):
    round_trips(message, namespace)


@settings(max_examples=100, deadline=None)
@given(st.builds(m.SnapshotDeviceResponse, items=st.lists(
    st.builds(m.SnapshotDeviceItem, connection=connections,
              local_connection_state=states), max_size=4).map(tuple)),
       namespaces)
def test_property_snapshot_device_response(message, namespace):
    round_trips(message, namespace)


@settings(max_examples=50, deadline=None)
@given(st.builds(m.CSTAError, category=st.sampled_from(m.ERROR_CATEGORIES),
                 value=texts.filter(bool)), namespaces)
def test_property_error(message, namespace):
    round_trips(message, namespace)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_property_decode_never_raises_anything_but_codec_errors(body):
    try:
        x.decode(body)
    except x.CodecError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(ALL_MESSAGES), st.data())
def test_property_mutated_documents_only_raise_codec_errors(cls, data):
    body = bytearray(x.encode(example(cls)))
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(body) - 1))
        body[i] = data.draw(st.integers(0, 255))
    try:
        x.decode(bytes(body))
    except x.CodecError:
        pass


def test_messages_are_hashable_and_frozen():
    message = example(m.ConferencedEvent)
    assert hash(message) == hash(dataclasses.replace(message))
    with pytest.raises(dataclasses.FrozenInstanceError):
        message.cause = "x"


def test_struct_kind_nests_a_record():
    # No current message uses a single nested record; check the codec path with
    # a throwaway class (not registered, driven through the private helpers).
    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Holder:
        item: ConnectionListItem = m.wire("outer/item", Kind.STRUCT, item=ConnectionListItem)
        note: str | None = m.wire("note", optional=True)

    value = Holder(item=ConnectionListItem(endpoint="2001"), note="n")
    out = []
    x._encode_record(x._plan(Holder), value, out)
    xml = "".join(out)
    assert xml == (
        "<outer><item><endpoint><deviceID>2001</deviceID></endpoint></item></outer>"
        "<note>n</note>"
    )
    element = etree.fromstring(f"<Holder>{xml}</Holder>")
    assert x._decode_record(x._plan(Holder), Holder, element) == value
