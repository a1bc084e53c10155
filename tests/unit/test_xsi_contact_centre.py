"""The contact-centre Xsi codec: every ACD, Agent and Route Point event, the CTI
request bodies and response payloads — built, parsed back and schema-checked."""

import pytest
from lxml import etree

from csta_connector.broadworks import cti_contact_centre as cti
from csta_connector.broadworks import xsi, xsp
from csta_connector.broadworks import xsi_contact_centre as cc

T = 1_700_000_000_000
CALLER = xsi.RemoteParty(
    name="User 2001", address="tel:+15550002001", user_id="2001@example.com",
    user_dn="tel:+15550002001;ext=2001", call_type="Group",
)
ACD_ENTRY = cc.QueueEntry(
    "callhalf-7:1", "4:1", CALLER, T, "Queue 5001", "tel:+15550005001",
    acd_priority="1-High", answering_user_id="2002@example.com", answering_call_id="callhalf-8:1",
)
RP_ENTRY = cc.RoutePointQueueEntry(
    "callhalf-9:1", "5:1", CALLER, "RoutePoint 6001", "tel:+15550006001", add_time=T,
    play_collect_info=cc.PlayCollectInfo("pc-3", "MOH"),
)
REDIRECT = xsi.Redirect("call-center", T + 5, "tel:+15550002009")
REDIRECTIONS = (cc.Redirection(CALLER, "unconditional", 1),)
STATE = cc.AgentStateInfo(
    "Wrap-Up", T, unavailable_code=None, wrap_up_call_id="callhalf-8:1", sign_in_timestamp=T - 60_000,
    total_available_time=42, average_wrap_up_time=3, wrap_up_call_center_user_id="5001@example.com",
)

# a value for each element that follows a queue entry (or a policy event's remoteParty)
_TAIL_VALUES = {
    "position": ("position", 2),
    "redirect": ("redirect", REDIRECT),
    "redirections": ("redirections", REDIRECTIONS),
    "entrancePlaying": ("entrance_playing", True),
    "treatmentStarted": ("treatment_started", True),
    "overflowReason": ("overflow_reason", "time"),
    "overFlowReason": ("overflow_reason", "size"),
    "failureReason": ("failure_reason", "CallFailureDueToInactivity"),
    "releaseReason": ("release_reason", "CallReleaseRequested"),
    "outgoingCallReleaseCause": ("outgoing_call_release_cause", "Busy"),
    "cpdResult": ("cpd_result", "Fax"),
    "playCollectResult": ("play_collect_result", cc.PlayCollectResult("pc-3", "Match", "12#")),
    "receiveTime": ("receive_time", T),
    "rejectReason": ("reject_reason", "CallRejectRequested"),
}


def _tail(event_type, names):
    kw = dict(_TAIL_VALUES[name] for name in names if name != "reason")
    if "reason" in names:
        kw["reason"] = "Call Transferred" if "Updated" in event_type else "remoteRelease"
    return kw


def _data(event_type):
    if event_type in cc.ENTRY_EVENT_TYPES:
        names = {**cc._ACD_ENTRY_EVENTS, **cc._ROUTE_POINT_ENTRY_EVENTS}[event_type]
        entry = RP_ENTRY if event_type.startswith("RoutePoint") else ACD_ENTRY
        return cc.QueueEntryEvent(entry, **_tail(event_type, names))
    if event_type in cc.POLICY_EVENT_TYPES:
        acd = event_type.startswith("ACD")
        return cc.QueuePolicyEvent(
            "callhalf-7:1", "4:1", "Queue 5001" if acd else "RoutePoint 6001",
            "tel:+15550005001" if acd else "tel:+15550006001", CALLER,
            **_tail(event_type, cc._POLICY_EVENTS[event_type]),
        )
    if event_type in cc.QUEUE_SNAPSHOT_TYPES:
        entry = RP_ENTRY if event_type.startswith("RoutePoint") else ACD_ENTRY
        return cc.QueueSnapshot((entry, entry._replace(call_id="callhalf-11:1", ext_tracking_id="6:1")))
    return {
        "AgentSubscriptionEvent": cc.AgentSnapshot(
            (cc.JoinInfo("5001@example.com", True, 3), cc.JoinInfo("5002@example.com")), STATE
        ),
        "AgentStateEvent": cc.AgentStateChange(STATE._replace(state="Unavailable", unavailable_code="LUNCH")),
        "ACDAgentJoinUpdateEvent": cc.AgentJoinUpdate(cc.JoinInfo("5001@example.com", True)),
        "AgentDispositionCodeAddedEvent": cc.DispositionCodeAdded("SALE", "callhalf-8:1"),
        "RoutePointFailedEvent": cc.RoutePointStateChange("ExternalRequest"),
        "RoutePointRecoveredEvent": cc.RoutePointStateChange(),
    }[event_type]


def _event(event_type, data):
    return xsi.SubscriptionEvent(
        event_type, "ev-1", 4, "admin@example.com", "app", "sub-1", "ch-1", "5001@example.com", event_data=data,
    )


ALL = sorted(cc.EVENT_TYPES)


@pytest.mark.parametrize("event_type", ALL)
def test_every_event_round_trips(event_type):
    event = _event(event_type, _data(event_type))
    assert xsi.parse_event(xsi.event_element(event)) == event


@pytest.mark.parametrize("event_type", ALL)
def test_every_event_validates(event_type, bw_validator):
    event = _event(event_type, _data(event_type))
    assert bw_validator(xsp.encode(xsp.Event("E1", xsi.event_xml(event)))) == []


def test_the_tables_cover_the_schemas_event_types():
    """Every eventData type of the three event schemas is read here, except those
    of the packages the product does not subscribe."""
    from tests.conftest import SHARED

    xs = "{http://www.w3.org/2001/XMLSchema}"
    base = SHARED / "reference" / "broadworks-xsd" / "XSISchema"
    declared = set()
    for path in ("ACD/Events/XSIACDEvents.xsd", "RoutePoint/Events/XSIRoutePointEvents.xsd",
                 "Agent/Events/XSIAgentEvents.xsd"):
        for ct in etree.parse(str(base / path)).getroot().iter(xs + "complexType"):
            if ct.get("name") not in ("ACDEvent", "RoutePointEvent"):
                declared.add(ct.get("name"))
    not_subscribed = {
        "ACDConfigurationSubscriptionEvent", "ACDForcedForwardingEvent", "ACDHolidayServiceEvent",
        "ACDNightServiceEvent", "CallCenterMonitoringEvent", "CallCenterAgentMonitoringEvent",
        "CallCenterAgentMonitoringSubscriptionEvent", "CallCenterAgentOnCallAlertEvent",
    }
    assert declared - not_subscribed == set(cc.EVENT_TYPES)
    assert {cc.PACKAGE_OF[t] for t in cc.EVENT_TYPES} == set(cc.PACKAGES)


def test_events_of_unsubscribed_packages_are_unknown():
    text = (
        b'<xsi:Event xmlns:xsi="http://schema.broadsoft.com/xsi" xmlns:xsi1="http://www.w3.org/2001/XMLSchema-instance"'
        b' xsi1:type="xsi:SubscriptionEvent"><xsi:eventID>e</xsi:eventID><xsi:sequenceNumber>1</xsi:sequenceNumber>'
        b"<xsi:userId>a@x</xsi:userId><xsi:externalApplicationId>app</xsi:externalApplicationId>"
        b"<xsi:subscriptionId>s</xsi:subscriptionId>"
        b'<xsi:eventData xsi1:type="xsi:ACDNightServiceEvent"><xsi:active/></xsi:eventData></xsi:Event>'
    )
    event = xsi.parse_event(etree.fromstring(text))
    assert isinstance(event, xsi.UnknownEvent) and event.event_type == "ACDNightServiceEvent"


def test_empty_queue_snapshot_has_no_entries(bw_validator):
    event = _event("ACDSubscriptionEvent", cc.QueueSnapshot())
    data = xsi.event_xml(event)
    assert b"queueEntries" not in data
    assert xsi.parse_event(etree.fromstring(data)).event_data == cc.QueueSnapshot(())
    assert bw_validator(xsp.encode(xsp.Event("E1", data))) == []


def test_reading_is_namespace_aware_and_skips_unknown_children():
    text = (
        b'<a:Event xmlns:a="http://schema.broadsoft.com/xsi" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"'
        b' i:type="a:SubscriptionEvent"><a:eventID>e</a:eventID><a:sequenceNumber>3</a:sequenceNumber>'
        b"<a:userId>a@x</a:userId><a:externalApplicationId>app</a:externalApplicationId>"
        b"<a:subscriptionId>s</a:subscriptionId><a:targetId>5001@x</a:targetId>"
        b'<a:eventData i:type="a:ACDCallAddedEvent"><a:queueEntry><a:callId>c</a:callId>'
        b"<a:extTrackingId>1:1</a:extTrackingId><a:remoteParty><a:address>tel:2001</a:address></a:remoteParty>"
        b"<a:addTime>5</a:addTime><a:acdName>Q</a:acdName><a:acdNumber>tel:5001</a:acdNumber>"
        b"<a:futureElement>x</a:futureElement></a:queueEntry><a:position>1</a:position></a:eventData></a:Event>"
    )
    event = xsi.parse_event(etree.fromstring(text))
    assert event.event_data == cc.QueueEntryEvent(
        cc.QueueEntry("c", "1:1", xsi.RemoteParty(address="tel:2001"), 5, "Q", "tel:5001"), position=1
    )


@pytest.mark.parametrize(
    "event_type, data, problem",
    [
        ("ACDCallAddedEvent", b"<xsi:position>1</xsi:position>", "without queueEntry"),
        ("ACDCallAddedEvent", b"<xsi:queueEntry><xsi:callId>c</xsi:callId></xsi:queueEntry>", "extTrackingId"),
        ("ACDCallAddedEvent", b"<xsi:queueEntry><xsi:callId>c</xsi:callId><xsi:extTrackingId>1</xsi:extTrackingId>"
         b"</xsi:queueEntry>", "addTime"),
        ("AgentStateEvent", b"", "agentStateInfo"),
        ("RoutePointCallAddedEvent", b"<xsi:queueEntry><xsi:callId>c</xsi:callId><xsi:extTrackingId>x</xsi:extTrackingId>"
         b"<xsi:playCollectInfo><xsi:playCollectId>p</xsi:playCollectId></xsi:playCollectInfo></xsi:queueEntry>",
         "playCollectType"),
        ("ACDCallAddedEvent", b"<xsi:queueEntry><xsi:callId>c</xsi:callId><xsi:extTrackingId>1</xsi:extTrackingId>"
         b"<xsi:addTime>soon</xsi:addTime></xsi:queueEntry>", "not an integer"),
    ],
)
def test_malformed_event_data_is_a_clear_error(event_type, data, problem):
    text = (
        b'<xsi:Event xmlns:xsi="http://schema.broadsoft.com/xsi" xmlns:xsi1="http://www.w3.org/2001/XMLSchema-instance"'
        b' xsi1:type="xsi:SubscriptionEvent"><xsi:eventID>e</xsi:eventID><xsi:sequenceNumber>1</xsi:sequenceNumber>'
        b"<xsi:userId>a@x</xsi:userId><xsi:externalApplicationId>app</xsi:externalApplicationId>"
        b'<xsi:subscriptionId>s</xsi:subscriptionId><xsi:eventData xsi1:type="xsi:%s">%s</xsi:eventData></xsi:Event>'
        % (event_type.encode(), data)
    )
    with pytest.raises(xsi.XsiParseError, match=problem):
        xsi.parse_event(etree.fromstring(text))


def test_an_agents_call_carries_acd_call_info(bw_validator):
    info = cc.AcdCallInfo(
        "5001@example.com", "Queue 5001", "tel:+15550005001", 3, 12, CALLER, longest_wait_time=30,
        route_point=False, post_call_agent_state="Available",
    )
    call = xsi.Call(
        "callhalf-8:1", "4:1", "Terminator", "Alerting", CALLER, redirect=REDIRECT, allow_answer=True,
        start_time=T, acd_call_info=info,
    )
    event = xsi.SubscriptionEvent("CallReceivedEvent", "e", 1, "a@x", "app", "s", call=call)
    data = xsi.event_xml(event)
    assert bw_validator(xsp.encode(xsp.Event("E1", data))) == []
    element = etree.fromstring(data)
    found = element.find(".//{%s}acdCallInfo" % xsi.XSI_NS)
    assert cc.parse_acd_call_info(found) == info
    # the call reads with it (the event reader's fast path reads it too)
    assert xsi.parse_event(element).call == call


# -- CTI requests and responses ---------------------------------------------

PLAYS = [
    cc.RoutePointPlay(cc.PLAY_KINDS[0], duration=10, busy_pattern="FastBusy", play_collect_id="pc-1"),
    cc.RoutePointPlay(cc.PLAY_KINDS[1], duration=5, digit_map="xx#"),
    cc.RoutePointPlay(cc.PLAY_KINDS[2]),
    cc.RoutePointPlay(cc.PLAY_KINDS[3], duration=1, digit_map="x.", play_collect_id="pc-2"),
    cc.RoutePointPlay(cc.PLAY_KINDS[4], audio_urls=("http://m/a.wav", "http://m/b.wav"),
                      video_urls=("http://m/v.mp4",), number_of_play=2, digit_map="1|2"),
]
REQUESTS = [
    cti.set_agent_state("2002@example.com", "Unavailable", "LUNCH"),
    cti.get_agent_state("2002@example.com"),
    cti.acd_blind_transfer("5001@example.com", "callhalf-7:1", "+4930123456"),
    cti.acd_promote_call("5001@example.com", "callhalf-7:1", "0-Highest"),
    cti.acd_release_call("5001@example.com", "callhalf-7:1"),
    cti.acd_reorder_call("5001@example.com", "callhalf-7:1", 1),
    cti.get_acd("5001@example.com"),
    cti.route_point_distribute_call(
        "6001@example.com", "callhalf-9:1",
        cc.RoutePointDistribute("2002@example.com", "tel:+15550002001", "User 2001", 4, 1, 4),
    ),
    cti.route_point_blind_transfer("6001@example.com", "callhalf-9:1", "2003"),
    cti.route_point_fail_call("6001@example.com", "callhalf-9:1"),
    cti.route_point_bounce_call("6001@example.com", "callhalf-9:1"),
    cti.route_point_release_call("6001@example.com", "callhalf-9:1"),
    cti.route_point_admit_call("6001@example.com", "callhalf-9:1"),
    cti.route_point_reject_call("6001@example.com", "callhalf-9:1"),
    cti.get_route_point("6001@example.com"),
    cti.get_route_point_state("6001@example.com"),
    cti.modify_route_point_state("6001@example.com", "Failed"),
    cti.set_application_controller_state("csta-connector", "not ready"),
] + [cti.route_point_play("6001@example.com", "callhalf-9:1", play) for play in PLAYS]


@pytest.mark.parametrize("request_", REQUESTS, ids=lambda r: r.name)
def test_cti_requests_validate(request_, bw_validator):
    document = xsp.encode(xsp.Request("1", "S", request_, xsp.credentials_for("u", "p")))
    assert bw_validator(document) == []
    decoded = xsp.decode(document).payload
    assert (decoded.name, decoded.uri, decoded.method, decoded.params) == (
        request_.name, request_.uri, request_.method, request_.params,
    )


@pytest.mark.parametrize("play", PLAYS, ids=lambda p: p.kind.request)
def test_play_bodies_round_trip(play):
    request_ = cti.route_point_play("6001@example.com", "c", play)
    decoded = xsp.decode(xsp.encode(xsp.Request("1", "S", request_))).payload
    assert cc.parse_route_point_play(decoded.name, decoded.body) == play


def test_play_bodies_missing_their_mandatory_parts_are_refused():
    treatment = cc.route_point_play_element(cc.RoutePointPlay(cc.PLAY_KINDS[4]))
    with pytest.raises(xsi.XsiParseError, match="audioUrlList"):
        cc.parse_route_point_play("RoutePointPlayTreatmentRequest", treatment)
    with pytest.raises(xsi.XsiParseError, match="RoutePointPlayBusy"):
        cc.parse_route_point_play("RoutePointPlayBusyRequest", treatment)
    with pytest.raises(xsi.XsiParseError, match="not a RoutePointPlay"):
        cc.parse_route_point_play("DialRequest", treatment)


def test_bodies_read_back():
    agent = cti.set_agent_state("2002@example.com", "Available")
    assert cc.parse_call_center(agent.body) == cc.CallCenterSettings("Available")
    distribute = cc.RoutePointDistribute("2002@example.com", time_in_queue=4)
    assert cc.parse_route_point_distribute(cc.route_point_distribute_element(distribute)) == distribute
    assert cc.parse_single_text(cti.modify_route_point_state("r", "Normal").body) == "Normal"
    assert cc.parse_single_text(cti.acd_promote_call("q", "c", "1-High").body) == "1-High"
    assert cc.parse_single_text(cti.set_application_controller_state("a", "ready").body) == "ready"
    with pytest.raises(xsi.XsiParseError, match="agentId"):
        cc.parse_route_point_distribute(cc.route_point_distribute_element(cc.RoutePointDistribute("")))


RESPONSES = [
    cc.call_center_element(
        cc.CallCenterSettings(
            "Available", None,
            (cc.CallCenterDetails("5001@example.com", True, "+15550005001", "5001"),
             cc.CallCenterDetails("5002@example.com", False)),
        )
    ),
    cc.queue_element((ACD_ENTRY,), route_point=False),
    cc.queue_element((), route_point=False),
    cc.queue_element((RP_ENTRY,), route_point=True),
    cc.queue_call_order_element(2),
    cc.route_point_play_info_element("pc-4"),
    cc.route_point_state_element("Failed"),
    cc.application_controller_element("ready"),
]


@pytest.mark.parametrize("payload", RESPONSES, ids=lambda p: etree.QName(p).localname)
def test_response_payloads_validate(payload, bw_validator):
    assert bw_validator(xsp.encode(xsp.Response("1", "S", 200, "OK", payload))) == []


def test_response_payloads_read_back():
    assert cc.parse_call_center(RESPONSES[0]).call_centers == (
        cc.CallCenterDetails("5001@example.com", True, "+15550005001", "5001"),
        cc.CallCenterDetails("5002@example.com", False),
    )
    assert cc.parse_queue(RESPONSES[1]) == (ACD_ENTRY,)
    assert cc.parse_queue(RESPONSES[2]) == ()
    assert cc.parse_queue(RESPONSES[3]) == (RP_ENTRY,)
    assert cc.parse_single_text(RESPONSES[4]) == "2"
    assert cc.parse_single_text(RESPONSES[5]) == "pc-4"
