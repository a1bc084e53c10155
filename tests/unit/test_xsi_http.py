"""The Xsi HTTP requests behind the CTI requests: both directions, the Xsi spellings, schema validity."""

from urllib.parse import unquote

import pytest

from csta_connector.broadworks import cti_contact_centre, requests, xsi, xsi_http, xsp

USER = "2001@example.com"

# (CTI request, the Xsi method and target it must become)
EXPECTED = [
    (requests.add_channel("cs1", 1, 50, 3600, "app"), "POST",
     "/com.broadsoft.async/com.broadsoft.xsi-events/v2.0/channel"),
    (requests.update_channel("ch-1", 3600), "PUT", "/com.broadsoft.xsi-events/v2.0/channel/ch-1"),
    (requests.delete_channel("ch-1"), "DELETE", "/com.broadsoft.xsi-events/v2.0/channel/ch-1"),
    (requests.add_user_subscription(USER, "cs1", "app", 3600), "POST",
     "/com.broadsoft.xsi-events/v2.0/user/2001@example.com"),
    (requests.update_subscription("sub-1", 3600), "PUT", "/com.broadsoft.xsi-events/v2.0/subscription/sub-1"),
    (requests.delete_subscription("sub-1"), "DELETE", "/com.broadsoft.xsi-events/v2.0/subscription/sub-1"),
    (requests.get_application_controller_state("ctl-1"), "GET",
     "/com.broadsoft.xsi-actions/v2.0/system/services/routepoint/applicationcontroller/ctl-1"),
    (requests.dial(USER, "+15550002003"), "POST",
     "/com.broadsoft.xsi-actions/v2.0/user/2001@example.com/calls/new?address=%2B15550002003"),
    (requests.talk(USER, "callhalf-1:0"), "PUT",
     "/com.broadsoft.xsi-actions/v2.0/user/2001@example.com/calls/callhalf-1:0/Talk"),
    (requests.hold(USER, "callhalf-1:0"), "PUT",
     "/com.broadsoft.xsi-actions/v2.0/user/2001@example.com/calls/callhalf-1:0/Hold"),
    (requests.reconnect(USER, "callhalf-1:0"), "PUT",
     "/com.broadsoft.xsi-actions/v2.0/user/2001@example.com/calls/callhalf-1:0/Reconnect"),
    (requests.release(USER, "callhalf-1:0"), "DELETE",
     "/com.broadsoft.xsi-actions/v2.0/user/2001@example.com/calls/callhalf-1:0"),
    (requests.release(USER, "callhalf-1:0", decline=True), "DELETE",
     "/com.broadsoft.xsi-actions/v2.0/user/2001@example.com/calls/callhalf-1:0?decline=true"),
    (requests.blind_transfer(USER, "callhalf-1:0", "2003"), "PUT",
     "/com.broadsoft.xsi-actions/v2.0/user/2001@example.com/calls/callhalf-1:0/BlindTransfer?address=2003"),
    (requests.consultative_transfer(USER, "callhalf-1:0", "callhalf-2:0"), "PUT",
     "/com.broadsoft.xsi-actions/v2.0/user/2001@example.com/calls/callhalf-1:0/ConsultTransfer/callhalf-2:0"),
    (requests.transmit_dtmf(USER, "callhalf-1:0", "12#*"), "PUT",
     "/com.broadsoft.xsi-actions/v2.0/user/2001@example.com/calls/callhalf-1:0/TransmitDTMF?playdtmf=12%23%2A"),
    (requests.conference_start(USER, ["callhalf-1:0", "callhalf-2:0"]), "POST",
     "/com.broadsoft.xsi-actions/v2.0/user/2001@example.com/calls/Conference"),
    (cti_contact_centre.set_agent_state(USER, "Unavailable", "BREAK"), "PUT",
     "/com.broadsoft.xsi-actions/v2.0/user/2001@example.com/services/CallCenter"),
    (cti_contact_centre.get_agent_state(USER), "GET",
     "/com.broadsoft.xsi-actions/v2.0/user/2001@example.com/services/CallCenter"),
    (cti_contact_centre.acd_blind_transfer("5001@example.com", "callhalf-9:0", "+15550002003"), "PUT",
     "/com.broadsoft.xsi-actions/v2.0/callcenter/5001@example.com/calls/callhalf-9:0/blindtransfer"
     "?phoneno=%2B15550002003"),
    (cti_contact_centre.acd_release_call("5001@example.com", "callhalf-9:0"), "DELETE",
     "/com.broadsoft.xsi-actions/v2.0/callcenter/5001@example.com/calls/callhalf-9:0"),
]


def _contact_centre_requests():
    from csta_connector.broadworks import cti_contact_centre as c, xsi_contact_centre as cc

    queue, point, call = "5001@example.com", "6001@example.com", "callhalf-9:0"
    play = cc.RoutePointPlay(cc.PLAY_KINDS[1], duration=10)
    requests_ = [
        c.set_agent_state(USER, "Available"), c.get_agent_state(USER), c.get_acd(queue),
        c.acd_release_call(queue, call), c.acd_blind_transfer(queue, call, "+15550002003"),
        c.acd_promote_call(queue, call, "1-High"), c.acd_reorder_call(queue, call, 2),
        c.get_route_point(point), c.get_route_point_state(point), c.modify_route_point_state(point, "Normal"),
        c.route_point_release_call(point, call), c.route_point_fail_call(point, call),
        c.route_point_bounce_call(point, call), c.route_point_admit_call(point, call),
        c.route_point_reject_call(point, call), c.route_point_blind_transfer(point, call, "2003"),
        c.set_application_controller_state("ctl-1", "ready"),
    ]
    return requests_ + [c.route_point_play(point, call, play)]


@pytest.mark.parametrize("cti", _contact_centre_requests(), ids=lambda r: r.name)
def test_the_contact_centre_requests_go_as_their_xsi_actions_and_come_back(cti):
    """Their CTI URIs are Xsi-Actions ones: on an Xsi link they go as they are
    (a ``+`` in a query value percent-encoded), and the simulator's Xsi
    front-end reads them back to the same request."""
    request = xsi_http.http_request(cti)
    assert (request.method, request.target.partition("?")[0].lower()) == (
        cti.method, cti.uri.partition("?")[0].lower())
    path, _, query = request.target.partition("?")
    route, params = xsi_http.match(request.method, [unquote(s) for s in path.split("/")[1:]])
    back = xsi_http.cti_request(route, params, path, query, None)
    assert (back.name, dict(back.params)) == (cti.name, dict(cti.params))


def _ids(case):
    return case[0].name + ("-decline" if case[0].param("decline") else "")


@pytest.mark.parametrize("case", EXPECTED, ids=_ids)
def test_each_cti_request_becomes_the_xsi_request_of_the_specification(case):
    cti, method, target = case
    request = xsi_http.http_request(cti)
    assert (request.name, request.method, request.target) == (cti.name, method, target)
    assert (request.body is None) == (cti.body is None)


@pytest.mark.parametrize("case", EXPECTED, ids=_ids)
def test_the_simulator_reads_back_the_cti_request(case):
    cti, _, _ = case
    request = xsi_http.http_request(cti)
    path, _, query = request.target.partition("?")
    segments = [unquote(s) for s in path.split("/")[1:]]
    route, params = xsi_http.match(request.method, segments)
    body = xsp.parse_document(request.body) if request.body else None
    back = xsi_http.cti_request(route, params, path, query, body)
    assert back.name == cti.name and back.method == cti.method
    assert dict(back.params) == dict(cti.params)
    if body is not None:
        assert xsp.xsi_values(back.body) == xsp.xsi_values(cti.body)


@pytest.mark.parametrize("case", [c for c in EXPECTED if c[0].body is not None], ids=_ids)
def test_request_bodies_validate_against_the_xsi_schema(case, bw_validator):
    assert bw_validator(xsi_http.http_request(case[0]).body) == []


def test_cti_spellings_of_the_actions_are_understood_too():
    """The CTI schema documents lowercase action names; the simulator takes both."""
    for suffix, name in (("talk", "TalkRequest"), ("HOLD", "HoldRequest"), ("blindtransfer", "BlindTransferRequest"),
                         ("transmitDTMF", "TransmitDTMFRequest")):
        segments = "com.broadsoft.xsi-actions/v2.0/user/u/calls/c/{}".format(suffix).split("/")
        route, params = xsi_http.match("PUT", segments)
        assert route.name == name and params == {"subscriberid": "u", "callid": "c"}
    for method, name in (("PUT", "SetAgentStateRequest"), ("GET", "GetAgentStateRequest")):
        route, params = xsi_http.match(method, "com.broadsoft.xsi-actions/v2.0/user/u/services/callcenter".split("/"))
        assert route.name == name and params == {"subscriberid": "u"}


def test_a_literal_segment_wins_over_a_placeholder():
    """``calls/new`` is the dial, never a call whose id is "new"."""
    route, params = xsi_http.match("POST", "com.broadsoft.xsi-actions/v2.0/user/u/calls/new".split("/"))
    assert route.name == "DialRequest" and params == {"subscriberid": "u"}
    route, _ = xsi_http.match("POST", "com.broadsoft.xsi-events/v2.0/channel/eventresponse".split("/"))
    assert route.name == xsi_http.EVENT_RESPONSE


def test_unknown_paths_and_methods_match_nothing():
    assert xsi_http.match("GET", "com.broadsoft.xsi-events/v2.0/channel".split("/")) is None
    assert xsi_http.match("PUT", "com.broadsoft.xsi-actions/v2.0/user/u/calls/c/Dance".split("/")) is None
    assert xsi_http.match("PUT", "com.broadsoft.xsi-actions/v2.0/user//calls/c/Talk".split("/")) is None


def test_a_request_the_table_does_not_know_goes_as_its_cti_uri():
    cti = xsp.CtiRequest("RetrieveCallIdInfoListRequest", "/com.broadsoft.xsi-actions/v2.0/user/u/calls", "GET",
                         (("subscriberid", "u"),))
    assert xsi_http.http_request(cti) == xsi_http.XsiRequest(cti.name, "GET", cti.uri, None)


def test_path_values_keep_plus_and_at_query_values_do_not_keep_plus():
    request = xsi_http.http_request(requests.blind_transfer("+15550002001@example.com", "c/1", "+1 555"))
    assert request.target.endswith("/user/+15550002001@example.com/calls/c%2F1/BlindTransfer?address=%2B1%20555")


@pytest.mark.parametrize(
    "document",
    [
        xsi_http.channel_document("ch-1", 3600),
        xsi_http.HEARTBEAT_DOCUMENT,
        xsi_http.event_response("ev-1").body,
        xsi_http.event_response("a<b&c", 400, "Bad Request").body,
        xsi_http.event_document(xsi.event_xml(xsi.ChannelTerminatedEvent("ch-1", "ExplicitDelete"))),
    ],
    ids=["Channel", "ChannelHeartBeat", "EventResponse", "EventResponse-escaped", "ChannelTerminatedEvent"],
)
def test_channel_documents_validate_against_the_xsi_schema(document, bw_validator):
    assert bw_validator(document) == []


def test_event_response_round_trip_and_refusals():
    assert xsi_http.read_event_response(xsi_http.event_response("a<b&c", 404, "Not Found").body) == ("a<b&c", 404)
    for body in (b"", b"<nope", xsi_http.HEARTBEAT_DOCUMENT,
                 b'<EventResponse xmlns="http://schema.broadsoft.com/xsi"><statusCode>200</statusCode></EventResponse>',
                 b'<EventResponse xmlns="http://schema.broadsoft.com/xsi"><eventID>e</eventID>'
                 b"<statusCode>OK</statusCode></EventResponse>"):
        with pytest.raises(ValueError):
            xsi_http.read_event_response(body)


def test_answers_become_responses_with_their_payload():
    ok = xsi_http.response(200, "OK", xsi_http.document(xsp.xsi_element("Subscription", ("subscriptionId", "s"))))
    assert ok.ok and xsp.xsi_values(ok.payload) == {"subscriptionId": "s"}
    refused = xsi_http.response(404, "Not Found", xsi_http.document(xsp.error_info(110862, "gone")))
    assert not refused.ok and xsp.xsi_values(refused.payload)["errorCode"] == "110862"
    # a proxy's HTML page or an empty body is no payload
    assert xsi_http.response(502, "Bad Gateway", b"<html><body>oops").payload is None
    assert xsi_http.response(200, "OK", b"").payload is None
