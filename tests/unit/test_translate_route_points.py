"""Route point changes -> CSTA events, and the routeing dialogue's messages,
in both encodings (reference/contact-centre.md §10.3.2, §10.4.4)."""

from csta_connector.csta import messages as m, xml_codec
from csta_connector.csta.ber import codec as ber
from csta_connector.model.queues import EntryQueued, QueueConnection
from csta_connector.model.route_points import PlayStarted, PlayStopped, RoutePointStateChanged
from csta_connector.model.routeing import ROUTEING_TIMER_EXPIRED, Dialogues, Registrations
from csta_connector.services import translate_route_points as t

HELD = QueueConnection("rp-1", "7:1", "6001", "2001")
CONNECTION = m.ConnectionID(call_id="7:1", device_id="6001")


def both_ways(message):
    """The message survives both encodings unchanged."""
    body = xml_codec.encode(message, xml_codec.ED3)
    assert xml_codec.decode(body)[0] == message
    apdu = ber.invoke(3, message)
    assert ber.decode_apdu(ber.encode_apdu(apdu)).message == message
    return body


def test_treatments_are_play_and_stop_events_with_the_digits_in_collect_digits():
    (play,) = t.translate(PlayStarted("RoutePointMOHStartedEvent", HELD, "1", "p-1"), "x1")
    assert play == m.PlayEvent(cross_ref_id="x1", connection=CONNECTION, message="1")
    (stop,) = t.translate(PlayStopped("RoutePointMOHCompletedEvent", HELD, "1", "dTMFDigitDetected", "12#", "p-1"), "x1")
    assert (stop.connection, stop.message, stop.cause) == (CONNECTION, "1", "dTMFDigitDetected")
    assert m.extension_value(stop, m.EXT_COLLECT_DIGITS) == "12#"
    (quiet,) = t.translate(PlayStopped("RoutePointBusyCompletedEvent", HELD, "0", "timeout", None, "p-2"))
    assert quiet.extensions == ()
    for event in (play, stop):
        assert b"<message>1</message>" in both_ways(event)


def test_the_route_points_state_is_out_of_and_back_in_service():
    (out,) = t.translate(RoutePointStateChanged("RoutePointFailedEvent", "6001", False, "FailureDetected"), "x")
    (back,) = t.translate(RoutePointStateChanged("RoutePointRecoveredEvent", "6001", True, None), "x")
    assert out == m.OutOfServiceEvent(cross_ref_id="x", device="6001")
    assert back == m.BackInServiceEvent(cross_ref_id="x", device="6001")


def test_held_calls_are_reported_as_a_queues():
    (queued,) = t.translate_all([EntryQueued("RoutePointCallAddedEvent", HELD, 1)], "x")
    assert type(queued) is m.QueuedEvent and (queued.queue, queued.queued_connection) == ("6001", CONNECTION)


def test_the_dialogues_messages_name_the_dialogue_and_its_registration():
    registration = Registrations().add(object(), "6001", [("6001", "6001@x")])
    dialogue = Dialogues().open("6001", "rp-1", "7:1", registration, 1)
    dialogue.selected = "2003"
    request = t.route_request(dialogue, "2001", reply_timeout=10)
    assert request == m.RouteRequest(
        routing_cross_ref_id=dialogue.cross_ref_id, route_register_req_id=registration.register_id,
        current_route="6001", calling_device="2001", routeing_device="6001", routed_call=CONNECTION,
        reply_timeout=10,
    )
    body = both_ways(request)
    assert b"<crossRefIdentifier>R1</crossRefIdentifier>" in body
    assert t.reroute(dialogue).routing_cross_ref_id == dialogue.cross_ref_id
    used = t.route_used(dialogue, "2001")
    assert (used.route_used, used.calling_device) == ("2003", "2001")
    assert t.route_end(dialogue).error_value is None
    failed = t.route_end(dialogue, ROUTEING_TIMER_EXPIRED)
    assert failed.error_value == m.CSTAError(category="operation", value="routeingTimerExpired")
    for message in (t.reroute(dialogue), used, t.route_end(dialogue), failed):
        both_ways(message)
