"""The simulator's contact centre over real loopback TCP: the project's own
channel set as its client subscribes a call center, an agent and a route
point (the default provisioning: 5001 with agents 2001-2010, 6001), a queued
call is distributed, a call is routed, and an ungraceful failover leaves
orphans that only a refresh reveals. Every document both sides sent
validates against the official schemas."""

import pytest_twisted
from twisted.internet import defer, reactor, task

from csta_connector.broadworks import cti_contact_centre as cti
from csta_connector.broadworks import requests, xsp
from csta_connector.broadworks import xsi_contact_centre as cc


def subscribe(channel_set, target, package):
    d = channel_set.request(requests.add_user_subscription(target, "cs-test", "csta-test", 3600, event_package=package))
    return d.addCallback(lambda response: xsp.xsi_values(response.payload)["subscriptionId"])


def has(sink, target, event_type, count=1):
    return lambda _: len(sink.of(target, event_type)) >= count


@pytest_twisted.inlineCallbacks
def test_queue_agent_and_route_point_over_loopback(simulator, linked, bw_validator):
    channel_set, client, sink = linked
    control = simulator.control
    queue = yield subscribe(channel_set, "5001@example.com", cc.CALL_CENTER_QUEUE)
    agent = yield subscribe(channel_set, "2002@example.com", cc.CALL_CENTER_AGENT)
    yield client.subscribe("2002@example.com")
    point = yield subscribe(channel_set, "6001@example.com", cc.ROUTE_POINT_QUEUE)
    for target, event_type in (("5001@example.com", "ACDSubscriptionEvent"), ("2002@example.com", "AgentSubscriptionEvent"),
                               ("2002@example.com", "CallSubscriptionEvent"), ("6001@example.com", "RoutePointSubscriptionEvent")):
        yield sink.wait_for(has(sink, target, event_type), what="initial " + event_type)
    initial = sink.of("2002@example.com", "AgentSubscriptionEvent")[0].event_data
    assert (initial.state_info.state, initial.join_infos) == ("Sign-Out", (cc.JoinInfo("5001@example.com", True),))

    # 2003 is Unavailable from its phone; 2002 becomes Available over CTI: a call
    # to 5001 is queued and distributed to 2002
    yield control.agent_state("2003", "Unavailable", "LUNCH")
    yield channel_set.request(cti.set_agent_state("2002@example.com", "Available"))
    yield sink.wait_for(has(sink, "2002@example.com", "AgentStateEvent"), what="agent state")
    call = yield control.place_call("2001", "5001")
    yield sink.wait_for(has(sink, "5001@example.com", "ACDCallOfferedToAgentEvent"), what="offered")
    added = sink.of("5001@example.com", "ACDCallAddedEvent")[0]
    assert (added.subscription_id, added.event_data.position) == (queue, 1)
    assert added.event_data.entry.ext_tracking_id == call["extTrackingId"]
    received = sink.of("2002@example.com", "CallReceivedEvent")[0].call
    assert (received.ext_tracking_id, received.redirect.reason) == (call["extTrackingId"], "call-center")
    yield control.user_action("2002", "answer")
    yield sink.wait_for(has(sink, "5001@example.com", "ACDCallAnsweredByAgentEvent"), what="answered")
    answered = sink.of("5001@example.com", "ACDCallAnsweredByAgentEvent")[0].event_data.entry
    assert answered.answering_user_id == "2002@example.com"
    yield control.user_action("2001", "release")
    yield sink.wait_for(has(sink, "2002@example.com", "CallReleasedEvent"), what="released")

    # a route point call, distributed by the routing application
    routed = yield control.place_call("2005", "6001")
    yield sink.wait_for(has(sink, "6001@example.com", "RoutePointCallAddedEvent"), what="route point call")
    entry = sink.of("6001@example.com", "RoutePointCallAddedEvent")[0].event_data.entry
    assert entry.ext_tracking_id == routed["extTrackingId"]
    response = yield channel_set.request(
        cti.route_point_play("6001@example.com", entry.call_id, cc.RoutePointPlay(cc.PLAY_KINDS[2], digit_map="x#"))
    )
    play_collect_id = cc.parse_single_text(response.payload)
    yield control.press_digits(routed["extTrackingId"], "7#")
    yield sink.wait_for(has(sink, "6001@example.com", "RoutePointRingbackCompletedEvent"), what="play completed")
    result = sink.of("6001@example.com", "RoutePointRingbackCompletedEvent")[0].event_data.play_collect_result
    assert result == cc.PlayCollectResult(play_collect_id, "Match", "7#")
    yield channel_set.request(
        cti.route_point_distribute_call("6001@example.com", entry.call_id, cc.RoutePointDistribute("2003@example.com"))
    )
    yield control.user_action("2003", "answer")
    yield sink.wait_for(has(sink, "6001@example.com", "RoutePointCallAnsweredByAgentEvent"), what="routed")
    assert {e.subscription_id for e in sink.of("6001@example.com")} == {point}
    assert {e.subscription_id for e in sink.of("2002@example.com") if e.event_type.startswith("Agent")} == {agent}

    documents = channel_set.wire + simulator.wire
    assert len(documents) > 30
    assert [(d, data) for d, data in documents if bw_validator(data)] == []


@pytest_twisted.inlineCallbacks
def test_an_ungraceful_failover_leaves_queue_orphans_only_a_refresh_reveals(simulator, linked, bw_validator):
    channel_set, client, sink = linked
    control = simulator.control
    queue = yield subscribe(channel_set, "5001@example.com", cc.CALL_CENTER_QUEUE)
    point = yield subscribe(channel_set, "6001@example.com", cc.ROUTE_POINT_QUEUE)
    yield sink.wait_for(has(sink, "6001@example.com", "RoutePointSubscriptionEvent"), what="subscribed")
    yield control.place_call("2001", "5001")  # no agent is signed in: both wait
    yield control.place_call("2006", "5001")
    yield control.place_call("2007", "6001")
    yield sink.wait_for(has(sink, "5001@example.com", "ACDCallAddedEvent", 2), what="queued")
    queued = yield control.queue_calls("5001")
    assert len(queued) == 2
    before = len(sink.items)
    yield control.failover("ungraceful")
    # nothing arrives by itself within twice the resync delay
    yield task.deferLater(reactor, 2 * 0.2 + 0.1, lambda: None)
    assert sink.items[before:] == []
    assert (yield control.queue_calls("5001")) == []
    assert (yield control.route_point_calls("6001")) == []
    # only UpdateSubscriptionRequest shows what the peer AS knows: no orphan
    yield client.update_subscription(queue)
    yield client.update_subscription(point)
    yield sink.wait_for(has(sink, "5001@example.com", "ACDSubscriptionEvent", 2), what="queue refresh")
    yield sink.wait_for(has(sink, "6001@example.com", "RoutePointSubscriptionEvent", 2), what="route point refresh")
    assert sink.of("5001@example.com", "ACDSubscriptionEvent")[-1].event_data.entries == ()
    assert sink.of("6001@example.com", "RoutePointSubscriptionEvent")[-1].event_data.entries == ()
    orphans = [e.event_data.entry.call_id for e in sink.of("5001@example.com", "ACDCallAddedEvent")]
    error = yield defer.maybeDeferred(channel_set.request, cti.acd_release_call("5001@example.com", orphans[0])).addErrback(
        lambda failure: failure.value
    )
    assert getattr(error, "status_code", None) == 404
    # a new call runs on the peer AS and shows in the queue
    yield control.place_call("2008", "5001")
    yield sink.wait_for(has(sink, "5001@example.com", "ACDCallAddedEvent", 3), what="new queued call")
    assert sink.of("5001@example.com", "ACDCallAddedEvent")[-1].event_data.entry.call_id not in orphans
    status = yield control.status()
    assert (status["queued_calls"], status["orphaned_calls"]) == (1, 3)
    documents = channel_set.wire + simulator.wire
    assert [(d, data) for d, data in documents if bw_validator(data)] == []
