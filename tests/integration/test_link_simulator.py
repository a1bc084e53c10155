"""The link client against the simulator over real loopback TCP, driven through the control API."""

import pytest
import pytest_twisted

from csta_connector.broadworks.errors import BroadWorksRequestError


def _subscribed(sink, user, count=1):
    return lambda items: len(sink.of(user, "CallSubscriptionEvent")) >= count


@pytest_twisted.inlineCallbacks
def test_full_call_and_every_document_validates(simulator, linked, bw_validator):
    channel_set, client, sink = linked
    subs = {}
    for ext in ("2001", "2002", "2003"):
        subs[ext] = yield client.subscribe(client.user_id(ext))
        yield sink.wait_for(_subscribed(sink, ext + "@example.com"), what="initial snapshot of " + ext)
    initial = sink.of("2001@example.com", "CallSubscriptionEvent")[0]
    assert initial.calls == () and initial.hook_status == "On-Hook"

    # click-to-dial 2001 -> 2002, answered on 2002's phone
    start = yield client.dial("2001@example.com", "2002")
    yield sink.wait_for(lambda _: sink.of("2002@example.com", "CallReceivedEvent"), what="2002 alerting")
    received = sink.of("2002@example.com", "CallReceivedEvent")[0].call
    assert received.ext_tracking_id == start.ext_tracking_id
    assert received.call_id != start.call_id
    assert (received.personality, received.state, received.allow_answer) == ("Terminator", "Alerting", True)
    yield simulator.control.user_action("2002", "answer")
    yield sink.wait_for(lambda _: sink.of("2001@example.com", "CallAnsweredEvent"), what="answer at 2001")

    # hold / retrieve from the connector
    yield client.hold("2001@example.com", start.call_id)
    yield sink.wait_for(lambda _: sink.of("2001@example.com", "CallHeldEvent"), what="held")
    assert sink.of("2001@example.com", "CallHeldEvent")[0].call.state == "Held"
    yield client.retrieve("2001@example.com", start.call_id)
    yield sink.wait_for(lambda _: sink.of("2001@example.com", "CallRetrievedEvent"), what="retrieved")

    # blind transfer 2001's call to 2003, answered there, then released by 2003
    yield client.blind_transfer("2001@example.com", start.call_id, "2003")
    yield sink.wait_for(lambda _: sink.of("2003@example.com", "CallReceivedEvent"), what="2003 alerting")
    yield simulator.control.user_action("2003", "answer")
    yield sink.wait_for(lambda _: sink.of("2003@example.com", "CallAnsweredEvent"), what="2003 answered")
    yield simulator.control.user_action("2003", "release")
    yield sink.wait_for(
        lambda _: sink.of("2002@example.com", "CallReleasedEvent") and sink.of("2003@example.com", "CallReleasedEvent"),
        what="everyone released",
    )
    status = yield simulator.control.status()
    assert status["calls"] == 0

    # refresh: a new CallSubscriptionEvent follows the response
    yield client.update_subscription(subs["2001"])
    yield sink.wait_for(_subscribed(sink, "2001@example.com", 2), what="refresh snapshot")
    for ext, sub in subs.items():
        yield client.unsubscribe(sub)
    yield sink.wait_for(
        lambda _: len([e for e in sink.items if e.event_type == "SubscriptionTerminatedEvent"]) == 3,
        what="subscriptions terminated",
    )

    # every document both sides sent, all validate against the official schemas
    documents = channel_set.wire + simulator.wire
    kinds = {d for _, data in documents for d in [data.split(b">", 2)[1][:30]]}
    assert len(documents) > 40, kinds
    invalid = [(direction, data, errors) for direction, data in documents for errors in [bw_validator(data)] if errors]
    assert invalid == []


@pytest_twisted.inlineCallbacks
def test_phone_originated_call_events_in_order(simulator, linked):
    _, client, sink = linked
    for ext in ("2004", "2005"):
        yield client.subscribe(client.user_id(ext))
        yield sink.wait_for(_subscribed(sink, ext + "@example.com"))
    call = yield simulator.control.place_call("2004", "2005")
    yield simulator.control.user_action("2005", "answer")
    yield simulator.control.user_action("2004", "release")
    yield sink.wait_for(lambda _: sink.of("2005@example.com", "CallReleasedEvent"), what="released")
    caller = [t for t in sink.types_of("2004@example.com") if t.startswith("Call")]
    callee = [t for t in sink.types_of("2005@example.com") if t.startswith("Call")]
    assert caller == ["CallSubscriptionEvent", "CallOriginatedEvent", "CallAnsweredEvent", "CallReleasedEvent"]
    assert callee == ["CallSubscriptionEvent", "CallReceivedEvent", "CallAnsweredEvent", "CallReleasedEvent"]
    released = sink.of("2004@example.com", "CallReleasedEvent")[0].call
    assert released.ext_tracking_id == call["extTrackingId"]
    assert released.releasing_party == "localRelease"
    assert sink.of("2005@example.com", "CallReleasedEvent")[0].call.releasing_party == "remoteRelease"
    # sequence numbers per subscription run 1, 2, 3 ... without gaps
    for ext in ("2004", "2005"):
        seqs = [e.sequence_number for e in sink.of(ext + "@example.com")]
        assert seqs == list(range(1, len(seqs) + 1))
    assert sink.gaps == []


@pytest_twisted.inlineCallbacks
def test_call_control_errors_come_back_as_typed_errors(simulator, linked):
    _, client, sink = linked
    with pytest.raises(BroadWorksRequestError) as e:
        yield client.hold("2001@example.com", "callhalf-999:1")
    assert 400 <= e.value.status_code < 500
    with pytest.raises(BroadWorksRequestError) as e:
        yield client.subscribe("9999@example.com")
    assert e.value.status_code == 404
    with pytest.raises(BroadWorksRequestError) as e:
        yield client.update_subscription("no-such-subscription")
    assert e.value.status_code == 403
    # the link is still fine
    sub = yield client.subscribe("2001@example.com")
    assert sub


@pytest_twisted.inlineCallbacks
def test_application_controller_state(simulator, linked):
    _, client, _ = linked
    state = yield client.application_controller_state("ctl-1")
    assert state == "ready"
