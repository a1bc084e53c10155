"""The contact-centre CSTA messages (SPEC §10): registry facts, round trips in
both encodings, ECMA-323 element names and order, the private-data encoding
of the contact-centre extension keys."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from csta_connector.csta import messages as m
from csta_connector.csta import xml_codec as x
from csta_connector.csta.ber import codec
from csta_connector.csta.messages import MessageKind
from csta_connector.testing import AT_ROUTE_POINT, BUSY, CONTACT_CENTRE_SAMPLES, QUEUED

C = m.ConnectionID


CONTACT_CENTRE_CLASSES = {
    m.SetAgentState, m.SetAgentStateResponse, m.GetAgentState, m.GetAgentStateResponse,
    m.AgentBusyEvent, m.AgentLoggedOnEvent, m.AgentLoggedOffEvent, m.AgentNotReadyEvent,
    m.AgentReadyEvent, m.AgentWorkingAfterCallEvent, m.QueuedEvent, m.CallInformationEvent,
    m.RouteRegister, m.RouteRegisterResponse, m.RouteRegisterCancel,
    m.RouteRegisterCancelResponse, m.RouteRegisterAbort, m.RouteRequest, m.ReRouteRequest,
    m.RouteSelectRequest, m.RouteUsedRequest, m.RouteEndRequest, m.RouteReject,
    m.PlayMessage, m.PlayMessageResponse, m.PlayEvent, m.StopEvent,
    m.OutOfServiceEvent, m.BackInServiceEvent,
}


def _apdu_for(message, invoke_id=5):
    if message.info.kind is MessageKind.RESPONSE:
        return codec.return_result(invoke_id, message)
    return codec.invoke(invoke_id, message)


def test_samples_cover_every_contact_centre_class():
    assert CONTACT_CENTRE_CLASSES <= {type(s) for s in CONTACT_CENTRE_SAMPLES}


# --- registry facts (ECMA-285 opcodes, event tags, one-way operations) ---------


@pytest.mark.parametrize(
    "cls, opcode, responds",
    [
        (m.RouteRequest, 31, False), (m.ReRouteRequest, 32, False),
        (m.RouteSelectRequest, 33, False), (m.RouteUsedRequest, 34, False),
        (m.RouteEndRequest, 35, False), (m.RouteReject, 36, False),
        (m.RouteRegister, 248, True), (m.RouteRegisterAbort, 249, False),
        (m.RouteRegisterCancel, 250, True), (m.GetAgentState, 304, True),
        (m.SetAgentState, 312, True), (m.PlayMessage, 502, True),
    ],
    ids=lambda v: getattr(v, "__name__", str(v)),
)
def test_operations(cls, opcode, responds):
    info = cls.info
    assert info.kind is MessageKind.REQUEST
    assert info.opcode == opcode and m.BY_OPCODE[opcode] is cls
    assert info.responds is responds
    if responds:
        assert m.response_class_for(cls).info.opcode == opcode
        assert codec.OPERATIONS[opcode][1] is not None
    else:
        # "ALWAYS RESPONDS FALSE": no response class and no BER result type.
        assert m.response_class_for(cls) is None
        assert codec.OPERATIONS[opcode][1] is None


def test_every_other_request_responds():
    one_way = {c for c in m.all_message_classes() if not c.info.responds}
    assert one_way == {
        m.RouteRequest, m.ReRouteRequest, m.RouteSelectRequest, m.RouteUsedRequest,
        m.RouteEndRequest, m.RouteReject, m.RouteRegisterAbort,
    }


@pytest.mark.parametrize(
    "cls, group, name",
    [
        (m.QueuedEvent, "callControl", "queued"),
        (m.CallInformationEvent, "callAssociated", "callInformation"),
        (m.AgentBusyEvent, "logicalDeviceFeature", "agentBusy"),
        (m.AgentLoggedOnEvent, "logicalDeviceFeature", "agentLoggedOn"),
        (m.AgentLoggedOffEvent, "logicalDeviceFeature", "agentLoggedOff"),
        (m.AgentNotReadyEvent, "logicalDeviceFeature", "agentNotReady"),
        (m.AgentReadyEvent, "logicalDeviceFeature", "agentReady"),
        (m.AgentWorkingAfterCallEvent, "logicalDeviceFeature", "agentWorkingAfterCall"),
        (m.PlayEvent, "voiceUnit", "play"),
        (m.StopEvent, "voiceUnit", "stop"),
        (m.BackInServiceEvent, "deviceMaintenance", "backInService"),
        (m.OutOfServiceEvent, "deviceMaintenance", "outOfService"),
    ],
    ids=lambda v: getattr(v, "__name__", str(v)),
)
def test_events(cls, group, name):
    assert cls.info.kind is MessageKind.EVENT and cls.info.opcode == 21
    assert (cls.info.event_group, cls.info.asn1_name) == (group, name)
    assert m.BY_EVENT_NAME[(group, name)] is cls
    assert cls.info.xml_name == cls.__name__


# --- round trips ----------------------------------------------------------------


@pytest.mark.parametrize("message", CONTACT_CENTRE_SAMPLES, ids=lambda s: type(s).__name__)
def test_round_trip_both_encodings(message):
    apdu = _apdu_for(message)
    data = codec.encode_apdu(apdu)
    assert codec.decode_apdu(data) == apdu
    assert codec.encode_apdu(codec.decode_apdu(data)) == data
    for namespace in (x.ED3, x.ED5, None):
        body = x.encode(message, namespace)
        assert x.decode(body) == (message, namespace)


def test_one_way_requests_travel_as_plain_invokes():
    data = codec.encode_apdu(codec.invoke(9, m.RouteEndRequest(routing_cross_ref_id="x1")))
    apdu = codec.decode_apdu(data)
    assert isinstance(apdu, codec.Invoke) and not apdu.is_event and apdu.opcode == 35
    with pytest.raises(codec.BerEncodeError):
        codec.encode_apdu(codec.return_result(9, m.RouteEndRequest(routing_cross_ref_id="x1")))


def test_queued_state_in_snapshots():
    item = m.SnapshotDeviceItem(connection=QUEUED, local_connection_state="queued")
    body = x.encode(m.SnapshotDeviceResponse(items=(item,)))
    assert b"<localConnectionState>queued</localConnectionState>" in body
    data = codec.encode_apdu(codec.return_result(1, m.SnapshotDeviceResponse(items=(item,))))
    # compoundCallState [0] { LocalConnectionState [APPLICATION 14] queued (5) }
    assert bytes.fromhex("a0034e0105") in data


# --- ECMA-323 element names and order ---------------------------------------------
#
# Written out by hand from the ECMA-285 SEQUENCEs (the ECMA-323 XSD follows
# them), for every sample that fills its optional fields.

ELEMENT_ORDER = {
    "SetAgentState": ["device", "requestedAgentState", "agentID", "password", "group", "extensions"],
    "GetAgentState": ["device", "acdGroup"],
    "GetAgentStateResponse": ["agentStateList", "extensions"],
    "AgentBusyEvent": ["monitorCrossRefID", "agentDevice", "agentID", "acdGroup",
                       "pendingAgentState", "cause"],
    "AgentLoggedOnEvent": ["monitorCrossRefID", "agentDevice", "agentID", "acdGroup",
                           "agentPassword", "cause"],
    "AgentNotReadyEvent": ["monitorCrossRefID", "agentDevice", "agentID", "extensions"],
    "QueuedEvent": ["monitorCrossRefID", "queuedConnection", "queue", "callingDevice",
                    "calledDevice", "lastRedirectionDevice", "numberQueued", "callsInFront",
                    "localConnectionInfo", "cause"],
    "CallInformationEvent": ["monitorCrossRefID", "connection", "device", "callingDevice"],
    "RouteRegister": ["routeingDevice"],
    "RouteRegisterResponse": ["routeRegisterReqID"],
    "RouteRequest": ["crossRefIdentifier", "routeRegisterReqID", "currentRoute", "callingDevice",
                     "routeingDevice", "routedCall", "routeSelAlgorithm", "priority",
                     "replyTimeout", "correlatorData"],
    "ReRouteRequest": ["crossRefIdentifier", "routeRegisterReqID", "replyTimeout", "correlatorData"],
    "RouteSelectRequest": ["crossRefIdentifier", "routeRegisterReqID", "routeSelected",
                           "remainRetries", "routeUsedReq", "correlatorData"],
    "RouteUsedRequest": ["crossRefIdentifier", "routeRegisterReqID", "routeUsed", "callingDevice",
                         "domain", "correlatorData"],
    "RouteEndRequest": ["crossRefIdentifier", "routeRegisterReqID", "errorValue"],
    "RouteReject": ["crossRefIdentifier", "routeRegisterReqID", "rejectCause", "correlatorData"],
    "PlayMessage": ["messageToBePlayed", "overConnection", "duration", "extensions"],
    "PlayEvent": ["monitorCrossRefID", "connection", "message", "resource", "length",
                  "currentPosition", "speed", "cause"],
    "StopEvent": ["monitorCrossRefID", "connection", "message", "resource", "length",
                  "currentPosition", "cause", "extensions"],
    "OutOfServiceEvent": ["monitorCrossRefID", "device", "cause"],
    "BackInServiceEvent": ["monitorCrossRefID", "device", "cause"],
}


def _fullest_sample(xml_name):
    candidates = [s for s in CONTACT_CENTRE_SAMPLES if s.info.xml_name == xml_name]
    return max(candidates, key=lambda s: len(etree.fromstring(x.encode(s))))


@pytest.mark.parametrize("xml_name", sorted(ELEMENT_ORDER))
def test_element_names_and_order(xml_name):
    root = etree.fromstring(x.encode(_fullest_sample(xml_name)))
    assert etree.QName(root).localname == xml_name
    assert [etree.QName(child).localname for child in root] == ELEMENT_ORDER[xml_name]


def test_route_request_exact_bytes():
    request = m.RouteRequest(
        routing_cross_ref_id="x1", route_register_req_id="rr1", current_route="6001",
        calling_device="2001", routeing_device="6001", routed_call=AT_ROUTE_POINT,
    )
    assert x.encode(request, x.ED4) == (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<RouteRequest xmlns="http://www.ecma-international.org/standards/ecma-323/csta/ed4">'
        b"<crossRefIdentifier>x1</crossRefIdentifier>"
        b"<routeRegisterReqID>rr1</routeRegisterReqID>"
        b"<currentRoute><deviceIdentifier>6001</deviceIdentifier></currentRoute>"
        b"<callingDevice><deviceIdentifier>2001</deviceIdentifier></callingDevice>"
        b"<routeingDevice><deviceIdentifier>6001</deviceIdentifier></routeingDevice>"
        b"<routedCall><callID>c2</callID><deviceID>6001</deviceID></routedCall>"
        b"</RouteRequest>"
    )


def test_route_select_and_route_end_exact_bytes():
    select = m.RouteSelectRequest(
        routing_cross_ref_id="x1", route_selected="2003", remain_retries=1, route_used_req=True
    )
    assert x.encode(select, None) == (
        b'<?xml version="1.0" encoding="UTF-8"?><RouteSelectRequest>'
        b"<crossRefIdentifier>x1</crossRefIdentifier>"
        b"<routeSelected>2003</routeSelected>"
        b"<remainRetries><retryCount>1</retryCount></remainRetries>"
        b"<routeUsedReq>true</routeUsedReq>"
        b"</RouteSelectRequest>"
    )
    end = m.RouteEndRequest(routing_cross_ref_id="x1", error_value=BUSY)
    assert x.encode(end, None) == (
        b'<?xml version="1.0" encoding="UTF-8"?><RouteEndRequest>'
        b"<crossRefIdentifier>x1</crossRefIdentifier>"
        b"<errorValue><systemResourceAvailibility>resourceBusy</systemResourceAvailibility></errorValue>"
        b"</RouteEndRequest>"
    )


def test_get_agent_state_response_exact_bytes():
    response = m.GetAgentStateResponse(
        agent_state_list=(
            m.AgentStateEntry(
                agent_id="2002@example.com", logged_on=True,
                agent_info=(m.AgentInfo(acd_group="5001", agent_state="agentReady"),),
            ),
        )
    )
    assert x.encode(response, None) == (
        b'<?xml version="1.0" encoding="UTF-8"?><GetAgentStateResponse>'
        b"<agentStateList><agentStateEntry>"
        b"<agentID>2002@example.com</agentID><loggedOn>true</loggedOn>"
        b"<agentInfo><agentInfoItem><acdGroup>5001</acdGroup><agentState>agentReady</agentState>"
        b"</agentInfoItem></agentInfo>"
        b"</agentStateEntry></agentStateList>"
        b"</GetAgentStateResponse>"
    )


def test_queued_event_exact_bytes():
    event = m.QueuedEvent(
        cross_ref_id="7", queued_connection=QUEUED, queue="5001", calling_device="2001",
        called_device="5001", number_queued=1, calls_in_front=0,
        local_connection_info="queued", cause="enteringDistribution",
    )
    assert x.encode(event, None) == (
        b'<?xml version="1.0" encoding="UTF-8"?><QueuedEvent>'
        b"<monitorCrossRefID>7</monitorCrossRefID>"
        b"<queuedConnection><callID>c1</callID><deviceID>5001</deviceID></queuedConnection>"
        b"<queue><deviceIdentifier>5001</deviceIdentifier></queue>"
        b"<callingDevice><deviceIdentifier>2001</deviceIdentifier></callingDevice>"
        b"<calledDevice><deviceIdentifier>5001</deviceIdentifier></calledDevice>"
        b"<lastRedirectionDevice><notRequired/></lastRedirectionDevice>"
        b"<numberQueued>1</numberQueued><callsInFront>0</callsInFront>"
        b"<localConnectionInfo>queued</localConnectionInfo>"
        b"<cause>enteringDistribution</cause>"
        b"</QueuedEvent>"
    )


def test_routeing_cross_reference_also_read_under_its_type_name():
    body = (
        b"<RouteEndRequest xmlns='http://www.ecma-international.org/standards/ecma-323/csta/ed3'>"
        b"<routeingCrossRefID>x9</routeingCrossRefID></RouteEndRequest>"
    )
    assert x.decode(body)[0] == m.RouteEndRequest(routing_cross_ref_id="x9")


def test_missing_mandatory_routeing_element_is_malformed():
    with pytest.raises(x.MalformedMessage, match="routeSelected"):
        x.decode(b"<RouteSelectRequest><crossRefIdentifier>x1</crossRefIdentifier></RouteSelectRequest>")
    with pytest.raises(x.MalformedMessage, match="errorValue"):
        x.decode(b"<RouteEndRequest><crossRefIdentifier>x1</crossRefIdentifier>"
                 b"<errorValue/></RouteEndRequest>")


# --- the contact-centre extension keys in private data ------------------------------


def test_extension_helpers():
    play = m.PlayMessage(
        message_to_be_played="4", over_connection=AT_ROUTE_POINT,
        extensions=m.make_extensions(audioUrl=["u1", "u2"], videoUrl=None, collectDigits="x#"),
    )
    assert play.extensions == (("audioUrl", "u1"), ("audioUrl", "u2"), ("collectDigits", "x#"))
    assert m.extension_values(play, m.EXT_AUDIO_URL) == ("u1", "u2")
    assert m.extension_value(play, m.EXT_COLLECT_DIGITS) == "x#"
    assert m.extension_value(play, m.EXT_VIDEO_URL) is None
    assert m.extension_value(m.ReRouteRequest(routing_cross_ref_id="1"), "audioUrl") is None
    assert set(m.CONTACT_CENTRE_EXTENSION_KEYS) == {
        "busyPattern", "collectDigits", "audioUrl", "videoUrl", "unavailableCode",
    }


def test_extensions_in_xml_exact_bytes():
    request = m.SetAgentState(
        device="2002", requested_agent_state="notReady",
        extensions=m.make_extensions(unavailableCode="a<b"),
    )
    assert x.encode(request, None) == (
        b'<?xml version="1.0" encoding="UTF-8"?><SetAgentState>'
        b"<device>2002</device><requestedAgentState>notReady</requestedAgentState>"
        b"<extensions><privateData>"
        b'<private xmlns:cc="urn:csta-connector:private-data:1">'
        b"<cc:unavailableCode>a&lt;b</cc:unavailableCode>"
        b"</private></privateData></extensions>"
        b"</SetAgentState>"
    )


def test_no_extensions_leave_the_element_out():
    assert b"extensions" not in x.encode(m.SetAgentState(device="2002", requested_agent_state="ready"))
    data = codec.encode_apdu(codec.invoke(1, m.SetAgentState(device="2002", requested_agent_state="ready")))
    assert b"\x7e" not in data  # no [APPLICATION 30]


def test_xml_private_data_of_others_is_ignored():
    body = (
        b"<PlayMessage xmlns='http://www.ecma-international.org/standards/ecma-323/csta/ed3'"
        b" xmlns:cc='urn:csta-connector:private-data:1' xmlns:v='http://vendor.example/csta'>"
        b"<messageToBePlayed>1</messageToBePlayed>"
        b"<overConnection><callID>c2</callID><deviceID>6001</deviceID></overConnection>"
        b"<extensions>"
        b"<security><messageSequenceNumber>4</messageSequenceNumber></security>"
        b"<privateData><private><v:thing>1</v:thing><cc:collectDigits>xxx</cc:collectDigits>"
        b"</private></privateData>"
        b"<privateData><private><cc:collectDigits>#</cc:collectDigits></private></privateData>"
        b"</extensions></PlayMessage>"
    )
    play = x.decode(body)[0]
    assert play.extensions == (("collectDigits", "xxx"), ("collectDigits", "#"))


def test_ber_private_data_of_others_is_ignored():
    # PlayMessage { "1", (c2, 6001), extensions { privateData {
    #   NULL, [PRIVATE 1] vendor, OCTET STRING "no key", OCTET STRING "collectDigits=x#" } } }
    connection = "6b10300e80026332a108300680043630303" "1"
    private = "0500" "c10101" "04066e6f206b6579" "0410636f6c6c656374446967697473" "3d7823"
    extensions = "7e%02x" % (len(private) // 2 + 2) + "a1%02x" % (len(private) // 2) + private
    argument = "040131" + connection + extensions
    argument = "30%02x" % (len(argument) // 2) + argument
    apdu = "020101" "020201f6" + argument
    apdu = bytes.fromhex("a1%02x" % (len(apdu) // 2) + apdu)
    play = codec.decode_apdu(apdu).message
    assert play == m.PlayMessage(
        message_to_be_played="1", over_connection=AT_ROUTE_POINT,
        extensions=(("collectDigits", "x#"),),
    )


@pytest.mark.parametrize("bad", [(("1abc", "v"),), (("a:b", "v"),), (("", "v"),), (("k", None),), ("kvx",)])
def test_bad_extensions_cannot_be_encoded(bad):
    message = m.StopEvent(cross_ref_id="7", connection=AT_ROUTE_POINT, message="1", extensions=bad)
    with pytest.raises(x.EncodeError):
        x.encode(message)
    with pytest.raises(codec.BerEncodeError):
        codec.encode_apdu(codec.invoke(1, message))


def test_non_ascii_extension_values_survive_both_encodings():
    stop = m.StopEvent(cross_ref_id="7", connection=AT_ROUTE_POINT, message="1",
                       extensions=(("collectDigits", "1=2"), ("unavailableCode", "Pause café")))
    assert x.decode(x.encode(stop))[0] == stop
    assert codec.decode_apdu(codec.encode_apdu(codec.invoke(1, stop))).message == stop


# --- properties -------------------------------------------------------------------

keys = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,15}", fullmatch=True)
# XML reads element text stripped, so values never start or end with blanks
texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=40
).map(str.strip)
pairs = st.lists(st.tuples(keys, texts), max_size=6).map(tuple)


@settings(max_examples=150, deadline=None)
@given(extensions=pairs, digits=st.text(alphabet="0123456789#*x.", min_size=1, max_size=8))
def test_property_extensions_round_trip_in_both_encodings(extensions, digits):
    message = m.PlayMessage(message_to_be_played=digits, over_connection=AT_ROUTE_POINT,
                            extensions=extensions)
    assert x.decode(x.encode(message))[0] == message
    assert codec.decode_apdu(codec.encode_apdu(codec.invoke(1, message))).message == message
