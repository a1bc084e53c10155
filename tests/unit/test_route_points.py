"""Route points through the core, on a Clock with a scripted BroadWorks
client: the Route Point Queue subscriptions of monitors and registrations,
the routeing dialogue (RouteRegister, RouteRequest, RouteSelect -> the
BroadWorks request, RouteUsed / RouteEnd, ReRoute, the client's RouteEnd),
treatments, the application controller, synchronization, call admission
(SPEC §10.4; reference/contact-centre.md §10.4.4, §10.4.5, §10.5)."""

import pytest
from twisted.internet import defer
from twisted.internet.task import Clock

from csta_connector.broadworks import xsi
from csta_connector.broadworks import xsi_contact_centre as cc
from csta_connector.broadworks.errors import BroadWorksRequestError
from csta_connector.broadworks.xsi import Redirect
from csta_connector.csta import messages as m
from csta_connector.csta.server import CLOSED, CSTARequestError
from csta_connector.services.core import ConnectorCore
from csta_connector.services.devices import DeviceTypes
from csta_connector.services.route_points import RouteingSettings, play_request
from csta_connector.testing import RecordingSession, ScriptedClient

RP = "6001@example.com"
PACKAGE = "Route Point Queue"
CALLER = xsi.RemoteParty(name="A", address="tel:+15550002001", user_id="2001@example.com")
CONNECTION = m.ConnectionID(call_id="7:1", device_id="6001")


class Setup:
    def __init__(self, renew_interval=0, **routeing):
        self.clock = Clock()
        self.client = ScriptedClient(default_domain="example.com")
        self.core = ConnectorCore(
            self.client, self.clock, renew_interval=renew_interval, renew_jitter=0,
            devices=DeviceTypes(acd_queues=("5001",), route_points=("6001", "6002"), agents=("2001-2010",)),
            routeing=RouteingSettings(**routeing),
        )
        self.rp = self.core.route_points
        self.seq = 0

    def last(self, name):
        return self.client.last(name)

    def answer(self, name, result=None):
        self.client.answer_last(name, result)

    def refuse(self, name, status=404, code=None):
        self.client.refuse_last(name, status, code)

    def requested(self, name):
        return [a for n, a in self.client.names() if n == name]

    def event(self, event_type, data=None, subscription="sub-rp"):
        self.seq += 1
        self.core.broadworks_event(xsi.SubscriptionEvent(
            event_type, "e%d" % self.seq, self.seq, "app", "app", subscription, event_data=data))

    def handle(self, session, request):
        results = []
        defer.maybeDeferred(self.core.handle, session, request).addBoth(results.append)
        return results

    def register(self, session, device="6001", subscribe=True, snapshot=()):
        results = self.handle(session, m.RouteRegister(routeing_device=device))
        if subscribe:
            self.answer("subscribe", "sub-rp")
            self.event("RoutePointSubscriptionEvent", cc.QueueSnapshot(tuple(snapshot)))
        self.clock.advance(0)
        return results[0]

    def monitor(self, session, device="6001"):
        results = self.handle(session, m.MonitorStart(device=device))
        if not results:  # the first monitor subscribes
            self.answer("subscribe", "sub-rp")
        return results[0].cross_ref_id

    def added(self, call_id="rp-1", tracking="7:1"):
        self.event("RoutePointCallAddedEvent", cc.QueueEntryEvent(entry(call_id, tracking)))

    def entry_event(self, event_type, call_id="rp-1", tracking="7:1", entry_fields=None, **kw):
        self.event(event_type, cc.QueueEntryEvent(entry(call_id, tracking, **(entry_fields or {})), **kw))


def entry(call_id="rp-1", tracking="7:1", **kw):
    return cc.RoutePointQueueEntry(call_id, tracking, CALLER, "RoutePoint 6001", "tel:+15550006001", add_time=1, **kw)


def names(messages):
    return [type(message).__name__ for message in messages]


def route_request(session):
    (request,) = [e for e in session.events() if type(e) is m.RouteRequest]
    return request


@pytest.fixture
def logged():
    from twisted.logger import globalLogPublisher

    events = []
    globalLogPublisher.addObserver(events.append)
    yield lambda lms_id: [e for e in events if e.get("lms_id") == lms_id]
    globalLogPublisher.removeObserver(events.append)


# -- registration ---------------------------------------------------------------------


def test_a_registration_subscribes_route_point_queue_and_sets_the_controller_ready(logged):
    s = Setup(app_controller="ctl")
    a = RecordingSession()
    results = s.handle(a, m.RouteRegister(routeing_device="6001"))
    assert s.client.names() == [("subscribe", (RP, PACKAGE))] and results == []
    s.answer("subscribe", "sub-rp")
    response = results[0]
    assert type(response) is m.RouteRegisterResponse and response.route_register_req_id
    assert s.requested("set_application_controller_state") == []  # after the response is written
    s.clock.advance(0)
    assert s.requested("set_application_controller_state") == [("ctl", "ready")]
    s.answer("set_application_controller_state")
    assert [e["state"] for e in logged(37281)] == ["ready"]
    # the same client again: the same registration, nothing more asked
    again = s.handle(a, m.RouteRegister(routeing_device="6001"))[0]
    assert again == response and len(s.client.requests) == 2
    # cancelled: the subscription is released, the controller not ready
    assert s.handle(a, m.RouteRegisterCancel(route_register_req_id=response.route_register_req_id)) == [
        m.RouteRegisterCancelResponse()]
    assert s.client.names()[2:] == [("unsubscribe", "sub-rp"), ("set_application_controller_state", ("ctl", "not ready"))]


def test_registrations_are_refused_for_other_devices_unknown_ids_and_refused_subscriptions():
    s = Setup()
    a, b = RecordingSession("a"), RecordingSession("b")
    for device in ("2001", "5001"):
        with pytest.raises(CSTARequestError) as info:
            s.core.handle(a, m.RouteRegister(routeing_device=device))
        assert info.value.error.value == "requestIncompatibleWithObject"
    results = s.handle(a, m.RouteRegister(routeing_device="6001"))
    s.refuse("subscribe", 404)
    assert results[0].value.error.value == "invalidDeviceID"
    registration = s.register(a)
    for session, register_id in ((b, registration.route_register_req_id), (a, "99")):
        with pytest.raises(CSTARequestError) as info:
            s.core.handle(session, m.RouteRegisterCancel(route_register_req_id=register_id))
        assert info.value.error.value == "invalidRouteRegistrationCrossRefID"


def test_a_registration_for_every_device_covers_the_configured_route_points():
    s = Setup()
    a = RecordingSession()
    results = s.handle(a, m.RouteRegister())
    assert s.client.names() == [("subscribe", (RP, PACKAGE)), ("subscribe", ("6002@example.com", PACKAGE))]
    s.client.answer(0, "sub-rp")
    s.client.requests[1][2].errback(BroadWorksRequestError("Request", 404, "no such route point"))
    assert type(results[0]) is m.RouteRegisterResponse  # what could be subscribed
    s.clock.advance(0)
    s.added()
    assert route_request(a).current_route == "6001"


# -- the dialogue -----------------------------------------------------------------------


def test_a_call_added_is_queued_for_the_monitors_and_requested_of_the_registrant():
    s = Setup()
    a, watcher = RecordingSession("a"), RecordingSession("w")
    registration = s.register(a)
    s.monitor(watcher)
    s.added()
    (queued,) = watcher.events()
    assert type(queued) is m.QueuedEvent and queued.queued_connection == CONNECTION
    request = route_request(a)
    assert (request.route_register_req_id, request.current_route, request.routeing_device) == (
        registration.route_register_req_id, "6001", "6001")
    assert (request.calling_device, request.routed_call, request.reply_timeout) == ("2001", CONNECTION, None)
    assert s.rp.stats.requests == 1


def test_a_selected_agent_gets_the_call_then_route_used_and_route_end():
    s = Setup(route_reply_timeout=8)
    a, watcher = RecordingSession("a"), RecordingSession("w")
    s.register(a)
    s.monitor(watcher)
    s.added()
    xref = route_request(a).routing_cross_ref_id
    watcher.events()
    s.clock.advance(0.25)
    assert s.handle(a, m.RouteSelectRequest(routing_cross_ref_id=xref, route_selected="2003",
                                            route_used_req=True)) == [None]
    assert s.requested("route_point_distribute") == [(RP, "rp-1", "2003@example.com")]
    s.entry_event("RoutePointCallOfferedToAgentEvent")  # may come before the answer
    s.answer("route_point_distribute")
    s.entry_event("RoutePointCallAnsweredByAgentEvent",
                  entry_fields={"answering_user_id": "2003@example.com", "remove_time": 2})
    delivered, diverted = watcher.events()
    assert (delivered.alerting_device, delivered.cause) == ("2003", "distributed")
    assert (diverted.new_destination, diverted.cause) == ("2003", "distributed")
    used, end = a.events()
    assert type(used) is m.RouteUsedRequest and (used.route_used, used.calling_device) == ("2003", "2001")
    assert type(end) is m.RouteEndRequest and end.error_value is None and end.routing_cross_ref_id == xref
    assert (s.rp.stats.selects, s.rp.stats.routed, len(s.rp.dialogues)) == (1, 1, 0)
    assert s.rp.stats.latency_sum == pytest.approx(0.25)


@pytest.mark.parametrize("route_select, destination, request_name", [
    ("auto", "+15551234567", "route_point_blind_transfer"),
    ("auto", "5001", "route_point_blind_transfer"),
    ("auto", "2015@example.com", "route_point_distribute"),
    ("transfer", "2003", "route_point_blind_transfer"),
    ("distribute", "+15551234567", "route_point_distribute"),
])
def test_route_select_distributes_to_a_user_and_transfers_elsewhere(route_select, destination, request_name):
    s = Setup(route_select=route_select)
    a = RecordingSession()
    s.register(a)
    s.added()
    s.handle(a, m.RouteSelectRequest(routing_cross_ref_id=route_request(a).routing_cross_ref_id,
                                     route_selected=destination))
    assert [n for n, _ in s.client.names()][-1] == request_name


def test_a_transfer_succeeds_even_when_its_event_overtakes_the_answer():
    s = Setup()
    a = RecordingSession()
    s.register(a)
    s.added()
    xref = route_request(a).routing_cross_ref_id
    s.handle(a, m.RouteSelectRequest(routing_cross_ref_id=xref, route_selected="+15551234567"))
    redirect = Redirect(reason="transfer", redirect_time=1, address="tel:+15551234567")
    s.entry_event("RoutePointCallTransferredEvent", redirect=redirect)
    s.answer("route_point_blind_transfer")
    assert names(a.events()) == ["RouteEndRequest"]  # no RouteUsed: not asked for
    assert s.rp.stats.routed == 1


def test_a_refused_select_ends_with_an_error_then_a_new_dialogue_then_the_call_is_failed(logged):
    s = Setup()
    a = RecordingSession()
    s.register(a)
    s.added()
    first = route_request(a).routing_cross_ref_id
    s.handle(a, m.RouteSelectRequest(routing_cross_ref_id=first, route_selected="2099"))
    s.refuse("route_point_distribute", 404, 4041)
    end, request = a.events()
    assert end.error_value == m.CSTAError(category="operation", value="invalidDestination")
    assert type(request) is m.RouteRequest and request.routing_cross_ref_id != first
    s.handle(a, m.RouteSelectRequest(routing_cross_ref_id=request.routing_cross_ref_id, route_selected="2099"))
    s.refuse("route_point_distribute", 409)
    (end,) = a.events()
    assert end.error_value == m.CSTAError(category="systemResourceAvailability", value="resourceBusy")
    assert s.requested("route_point_fail") == [(RP, "rp-1")]
    assert len(logged(37273)) == 2 and len(logged(37275)) == 1 and s.rp.stats.refused == 2
    # the select of an ended dialogue is refused
    with pytest.raises(CSTARequestError) as info:
        s.core.handle(a, m.RouteSelectRequest(routing_cross_ref_id=first, route_selected="2003"))
    assert info.value.error.value == "invalidRouteingCrossRefID"


def test_a_bounce_reroutes_within_the_retries_then_the_call_is_failed():
    s = Setup(route_retries=1)
    a = RecordingSession()
    s.register(a)
    s.added()
    xref = route_request(a).routing_cross_ref_id
    for agent in ("2003", "2004"):
        s.handle(a, m.RouteSelectRequest(routing_cross_ref_id=xref, route_selected=agent))
        s.entry_event("RoutePointCallOfferedToAgentEvent")
        s.answer("route_point_distribute")
        s.entry_event("RoutePointCallBouncedEvent", entry_fields={"bounced": True})
    reroute, end = a.events()
    assert type(reroute) is m.ReRouteRequest and reroute.routing_cross_ref_id == xref
    assert type(end) is m.RouteEndRequest and end.error_value == m.CSTAError(
        category="stateIncompatibility", value="invalidDestinationDeviceState")
    assert s.requested("route_point_fail") == [(RP, "rp-1")]
    assert s.rp.stats.reroutes == 1


def test_a_route_selects_remain_retries_counts_for_the_call():
    s = Setup(route_retries=3)
    a = RecordingSession()
    s.register(a)
    s.added()
    xref = route_request(a).routing_cross_ref_id
    s.handle(a, m.RouteSelectRequest(routing_cross_ref_id=xref, route_selected="2003", remain_retries=0))
    s.answer("route_point_distribute")
    s.entry_event("RoutePointCallBouncedEvent")
    assert names(a.events()) == ["RouteEndRequest"]  # no retry left


def test_the_inactivity_timer_ends_the_dialogue_with_routeing_timer_expired(logged):
    s = Setup()
    a = RecordingSession()
    s.register(a)
    s.added()
    route_request(a)
    redirect = Redirect(reason="route-point", redirect_time=1, address="tel:+15550002009")
    s.entry_event("RoutePointCallFailedEvent", failure_reason="CallFailureDueToInactivity", redirect=redirect)
    (end,) = a.events()
    assert end.error_value == m.CSTAError(category="operation", value="routeingTimerExpired")
    assert len(logged(37274)) == 1 and s.rp.stats.timeouts == 1


def test_a_caller_hanging_up_ends_the_dialogue_with_an_error():
    s = Setup()
    a, watcher = RecordingSession("a"), RecordingSession("w")
    s.register(a)
    s.monitor(watcher)
    s.added()
    route_request(a)
    s.entry_event("RoutePointCallAbandonedEvent")
    (end,) = a.events()
    assert end.error_value == m.CSTAError(category="operation", value="invalidCallID")
    assert names(watcher.events()) == ["QueuedEvent", "ConnectionClearedEvent", "CallClearedEvent"]


def test_the_clients_route_end_fails_the_call_and_an_offered_one_when_it_comes_back(logged):
    s = Setup()
    a = RecordingSession()
    s.register(a)
    s.added()
    xref = route_request(a).routing_cross_ref_id
    assert s.handle(a, m.RouteEndRequest(routing_cross_ref_id=xref)) == [None]
    assert s.requested("route_point_fail") == [(RP, "rp-1")]
    s.entry_event("RoutePointCallFailedEvent", failure_reason="CallFailureRequested")
    assert a.events() == [] and len(s.rp.dialogues) == 0  # nothing back: the client ended it
    # while offered: BroadWorks refuses; the call is failed when it bounces
    s.added("rp-2", "8:1")
    xref = route_request(a).routing_cross_ref_id
    s.handle(a, m.RouteSelectRequest(routing_cross_ref_id=xref, route_selected="2003"))
    s.answer("route_point_distribute")
    s.handle(a, m.RouteReject(routing_cross_ref_id=xref, reject_cause="busyOverflow"))
    s.refuse("route_point_fail", 409)
    assert len(logged(37276)) == 1
    s.entry_event("RoutePointCallBouncedEvent", "rp-2", "8:1")
    assert s.requested("route_point_fail")[-1] == (RP, "rp-2") and a.events() == []


def test_one_way_requests_of_no_dialogue_or_at_the_wrong_time_are_refused():
    s = Setup()
    a, b = RecordingSession("a"), RecordingSession("b")
    s.register(a)
    s.added()
    xref = route_request(a).routing_cross_ref_id
    cases = [
        (b, m.RouteSelectRequest(routing_cross_ref_id=xref, route_selected="2003"), "invalidRouteingCrossRefID"),
        (a, m.RouteSelectRequest(routing_cross_ref_id=xref, route_selected="2003", route_register_req_id="9"),
         "invalidRouteRegistrationCrossRefID"),
        (a, m.RouteSelectRequest(routing_cross_ref_id=xref, route_selected=" "), "invalidDestination"),
        (a, m.RouteEndRequest(routing_cross_ref_id="R999"), "invalidRouteingCrossRefID"),
    ]
    for session, request, value in cases:
        with pytest.raises(CSTARequestError) as info:
            s.core.handle(session, request)
        assert info.value.error.value == value
    s.handle(a, m.RouteSelectRequest(routing_cross_ref_id=xref, route_selected="2003"))
    with pytest.raises(CSTARequestError) as info:
        s.core.handle(a, m.RouteSelectRequest(routing_cross_ref_id=xref, route_selected="2004"))
    assert info.value.error.value == "invalidObjectState"  # its first choice is on its way


# -- owners, takeover, abort, the application controller --------------------------------


def test_the_first_registrant_routes_the_next_takes_over_and_the_last_gone_is_not_ready(logged):
    s = Setup(app_controller="ctl")
    a, b = RecordingSession("a"), RecordingSession("b")
    s.register(a)
    s.answer("set_application_controller_state")
    standby = s.handle(b, m.RouteRegister(routeing_device="6001"))[0]
    s.clock.advance(0)
    assert "standing by" in logged(37277)[-1]["role"]
    s.added()
    route_request(a)
    assert b.events() == []
    a.state = CLOSED
    s.core.session_closed(a)
    request = route_request(b)  # a fresh dialogue for the waiting call
    assert request.route_register_req_id == standby.route_register_req_id
    assert [e["register_id"] for e in logged(37280)] == [standby.route_register_req_id]
    assert s.requested("set_application_controller_state") == [("ctl", "ready")]  # still ready
    b.state = CLOSED
    s.core.session_closed(b)
    assert s.requested("set_application_controller_state")[-1] == ("ctl", "not ready")
    assert s.client.names()[-2] == ("unsubscribe", "sub-rp")


def test_nothing_is_sent_to_the_controller_while_nobody_ever_routed_and_a_link_recovery_resends():
    s = Setup(app_controller="ctl")
    a = RecordingSession()
    s.monitor(a)
    s.core.broadworks_link_recovered("link-1")
    assert s.requested("set_application_controller_state") == []
    s.register(a, subscribe=False)
    s.answer("set_application_controller_state")
    s.core.broadworks_link_recovered("link-1")
    assert s.requested("set_application_controller_state") == [("ctl", "ready"), ("ctl", "ready")]
    s.answer("set_application_controller_state")
    s.core.stop()  # at shutdown: not ready
    assert s.requested("set_application_controller_state")[-1] == ("ctl", "not ready")


def test_a_lost_subscription_aborts_the_registration_and_ends_its_dialogues(logged):
    s = Setup()
    a = RecordingSession()
    registration = s.register(a)
    s.added()
    xref = route_request(a).routing_cross_ref_id
    s.event("SubscriptionTerminatedEvent")
    assert s.client.names()[-1] == ("subscribe", (RP, PACKAGE))
    s.refuse("subscribe", 403)
    end, abort = a.events()
    assert (end.routing_cross_ref_id, end.error_value.value) == (xref, "resourceOutOfService")
    assert abort == m.RouteRegisterAbort(route_register_req_id=registration.route_register_req_id)
    assert len(s.rp.registrations) == 0 and len(s.rp.model) == 0 and len(logged(37279)) == 1


# -- synchronization, snapshots ---------------------------------------------------------


def test_a_stuck_call_is_cleared_for_the_monitors_ended_for_its_registrant_and_logged(logged):
    s = Setup()
    a, watcher = RecordingSession("a"), RecordingSession("w")
    s.register(a, snapshot=[entry()])
    xref = route_request(a).routing_cross_ref_id  # a call found by the initial event is routed too
    s.monitor(watcher)
    s.core.route_points.manager.refresh(RP)  # a renewal
    s.answer("update")
    s.event("RoutePointSubscriptionEvent", cc.QueueSnapshot(()))
    (end,) = a.events()
    assert (end.routing_cross_ref_id, end.error_value.value) == (xref, "resourceOutOfService")
    cleared, call_cleared = watcher.events()
    assert (cleared.dropped_connection, cleared.cause) == (CONNECTION, "switchingFunctionTerminated")
    assert [(e["device"], e["call_id"], e["party"]) for e in logged(37205)] == [("6001", "7:1", "rp-1")]


def test_a_snapshot_of_a_route_point_answers_from_the_event_its_request_causes():
    s = Setup()
    a = RecordingSession()
    results = s.handle(a, m.SnapshotDevice(device="6001"))
    s.answer("subscribe", "sub-rp")
    s.event("RoutePointSubscriptionEvent", cc.QueueSnapshot((entry(), entry("rp-2", "8:1", remove_time=5))))
    assert [(i.connection, i.local_connection_state) for i in results[0].items] == [(CONNECTION, "queued")]
    assert s.client.names()[-1] == ("unsubscribe", "sub-rp") and len(s.rp.model) == 0


# -- treatments -------------------------------------------------------------------------


def test_play_message_builds_each_treatment_from_its_extension_keys():
    def play(message, duration=None, **keys):
        return play_request(m.PlayMessage(message_to_be_played=message, over_connection=CONNECTION,
                                          duration=duration, extensions=m.make_extensions(**keys)))

    busy = play("0", 5, busyPattern="FastBusy")
    assert (busy.kind.request, busy.duration, busy.busy_pattern) == ("RoutePointPlayBusyRequest", 5, "FastBusy")
    assert play("0").busy_pattern == "Normal"
    for message, request in (("1", "RoutePointPlayMOHRequest"), ("2", "RoutePointPlayRingbackRequest"),
                             ("3", "RoutePointPlaySilenceRequest")):
        body = play(message, 9, collectDigits="xx#")
        assert (body.kind.request, body.duration, body.digit_map) == (request, 9, "xx#")
    treatment = play("4", 30, audioUrl=("http://m/a.wav", "http://m/b.wav"), videoUrl="http://m/v.mp4")
    assert treatment.kind.request == "RoutePointPlayTreatmentRequest" and treatment.duration is None
    assert (treatment.audio_urls, treatment.video_urls) == (("http://m/a.wav", "http://m/b.wav"), ("http://m/v.mp4",))
    for message, keys, value in (("4", {}, "invalidParameterValue"), ("5", {}, "invalidMsgID"),
                                 ("0", {"busyPattern": "Loud"}, "invalidParameterValue")):
        with pytest.raises(CSTARequestError) as info:
            play(message, **keys)
        assert info.value.error.value == value


def test_play_message_on_a_held_call_reuses_the_running_play_and_reports_play_and_stop():
    s = Setup()
    a = RecordingSession()
    s.monitor(a)
    s.added()
    a.events()
    request = m.PlayMessage(message_to_be_played="1", over_connection=CONNECTION, duration=20)
    results = s.handle(a, request)
    (route_point, call_id, body) = s.requested("route_point_play")[-1]
    assert (route_point, call_id, body.kind.request, body.play_collect_id) == (RP, "rp-1", "RoutePointPlayMOHRequest",
                                                                              None)
    play = cc.PlayCollectInfo("playcollect-1", "MOH")
    s.entry_event("RoutePointMOHStartedEvent", entry_fields={"play_collect_info": play})
    s.answer("route_point_play", "playcollect-1")
    assert results == [m.PlayMessageResponse()]
    (event,) = a.events()
    assert event == m.PlayEvent(cross_ref_id=event.cross_ref_id, connection=CONNECTION, message="1")
    s.handle(a, request)  # the same kind again: extends the running one
    assert s.requested("route_point_play")[-1][2].play_collect_id == "playcollect-1"
    s.answer("route_point_play", "playcollect-1")
    s.entry_event("RoutePointMOHCompletedEvent", entry_fields={"play_collect_info": play},
                  play_collect_result=cc.PlayCollectResult("playcollect-1", "Timeout"))
    (stop,) = a.events()
    assert (type(stop), stop.message, stop.cause) == (m.StopEvent, "1", "timeout")
    s.handle(a, request)  # none running: a new one
    assert s.requested("route_point_play")[-1][2].play_collect_id is None


def test_play_message_is_refused_off_a_route_point_and_for_unknown_calls_without_asking():
    s = Setup()
    a = RecordingSession()
    s.monitor(a)
    before = len(s.client.requests)
    for connection in (m.ConnectionID(call_id="7:1", device_id="2001"), CONNECTION):
        with pytest.raises(CSTARequestError) as info:
            s.core.handle(a, m.PlayMessage(message_to_be_played="2", over_connection=connection))
        assert info.value.error.value == "invalidConnectionID"
    assert len(s.client.requests) == before


# -- call control, admission --------------------------------------------------------------


def test_clear_connection_and_deflect_on_a_held_call():
    s = Setup()
    a = RecordingSession()
    s.monitor(a)
    s.added()
    results = s.handle(a, m.ClearConnection(connection=CONNECTION))
    assert s.requested("route_point_release") == [(RP, "rp-1")]
    s.answer("route_point_release")
    assert results == [m.ClearConnectionResponse()]
    results = s.handle(a, m.DeflectCall(call_to_be_diverted=CONNECTION, new_destination="2009"))
    assert s.requested("route_point_blind_transfer") == [(RP, "rp-1", "2009")]
    s.answer("route_point_blind_transfer")
    assert results == [m.DeflectCallResponse()]


@pytest.mark.parametrize("admit", [True, False])
def test_an_announced_call_is_admitted_or_rejected(admit):
    s = Setup(admit_calls=admit)
    a = RecordingSession()
    s.monitor(a)
    s.event("RoutePointNewCallEvent", cc.QueuePolicyEvent("rp-1", "7:1", "RoutePoint 6001", "6001", CALLER))
    assert s.requested("route_point_admit") == [(RP, "rp-1", admit)]
    assert a.events() == []
