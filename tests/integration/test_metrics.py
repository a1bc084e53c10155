"""The ``[metrics]`` endpoint over real loopback (issue 7): the embedded default
with ``[metrics] port = 0``, a CSTA client monitoring, a call through the
simulator's control API, then ``/metrics`` and ``/status`` read over HTTP."""

import dataclasses
import json

import prometheus_client
import pytest
import pytest_twisted
from prometheus_client.parser import text_string_to_metric_families
from twisted.internet import defer, reactor, task
from twisted.python.failure import Failure
from twisted.web.client import Agent, readBody

from csta_connector import lms
from csta_connector.broadworks import xsi_contact_centre as cc
from csta_connector.config import MetricsSection
from csta_connector.connector import ConnectorService
from csta_connector.csta import messages as m
from csta_connector.csta.client import connect
from csta_connector.csta.server import CSTARequestError
from csta_connector.metrics import LATENCY_BUCKETS, RequestRecorder, request_result
from csta_connector.testing import free_port_config as embedded_config, running_connector


@pytest.fixture(params=[("cti",), ("cti", "xsi")], ids=["cti", "cti+xsi"])
def connector(request):
    config = dataclasses.replace(embedded_config(protocols=request.param),
                                 metrics=MetricsSection(port=0, bind="127.0.0.1"))
    service = pytest_twisted.blockon(running_connector(reactor, config))
    pytest_twisted.blockon(service.metrics.started)
    yield service
    pytest_twisted.blockon(service.stopService())


@defer.inlineCallbacks
def http_get(port, path):
    response = yield Agent(reactor).request(b"GET", b"http://127.0.0.1:%d%s" % (port, path))
    body = yield readBody(response)
    return response.code, response.headers.getRawHeaders(b"content-type")[0], body


def samples(text):
    """{(sample name, frozenset of labels): value} of a Prometheus exposition."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def pause(seconds=0.15):
    return task.deferLater(reactor, seconds, lambda: None)


@pytest_twisted.inlineCallbacks
def test_metrics_per_queue_and_per_agent_state(connector):
    """A monitored call center with two calls waiting and two monitored agents,
    one Available: /status and /metrics count them."""
    client = yield connect(reactor, "127.0.0.1", connector.csta_port, "ber")
    for device in ("5001", "2002", "2003"):
        yield client.request(m.MonitorStart(device=device))
    yield pause()
    yield client.request(m.SetAgentState(device="2003", requested_agent_state="notReady"))
    for caller in ("2011", "2012"):
        yield connector.control.place_call(caller, "5001")
    yield client.events.wait_for(
        lambda events: sum(isinstance(e, m.QueuedEvent) for e in events) == 2, what="two queued")
    yield client.request(m.SetAgentState(device="2002", requested_agent_state="ready"))
    yield client.events.wait_for(
        lambda events: any(isinstance(e, m.DeliveredEvent) for e in events), what="offered to 2002")
    yield connector.control.user_action("2002", "answer")
    yield client.events.wait_for(
        lambda events: any(isinstance(e, m.AgentBusyEvent) for e in events), what="2002 busy")

    code, _, body = yield http_get(connector.metrics.port, b"/status")
    cc_status = json.loads(body)["contact_centre"]
    assert cc_status["subscriptions"] == {"Call Center Queue": 1, "Route Point Queue": 0, "Call Center Agent": 2}
    assert cc_status["calls_waiting"] == {"5001": 1}
    assert cc_status["agents"] == {"agentBusy": 1, "agentNotReady": 1}
    assert cc_status["queue_calls_cleared"] == 0 and cc_status["agents_corrected"] == 0
    code, _, body = yield http_get(connector.metrics.port, b"/metrics")
    got = samples(body.decode())
    p = "csta_connector_"
    assert got[(p + "queue_calls_waiting", frozenset({("queue", "5001")}))] == 1
    assert got[(p + "agents", frozenset({("state", "agentBusy")}))] == 1
    assert got[(p + "agents", frozenset({("state", "agentNotReady")}))] == 1
    assert got[(p + "agents", frozenset({("state", "agentReady")}))] == 0
    assert got[(p + "contact_centre_subscriptions", frozenset({("package", "Call Center Agent")}))] == 2
    assert got[(p + "queue_calls_cleared_total", frozenset())] == 0
    client.transport.loseConnection()


@pytest_twisted.inlineCallbacks
def test_metrics_of_the_routeing_dialogues(connector):
    """A routeing client answering two RouteRequests: one call routed, one
    RouteSelect refused (then failed): the dialogues' counts and the
    RouteRequest -> RouteSelect latency."""
    client = yield connect(reactor, "127.0.0.1", connector.csta_port, "xml")
    yield client.request(m.RouteRegister(routeing_device="6001"))
    for caller in ("2011", "2012"):
        yield connector.control.place_call(caller, "6001")
    yield client.requests.wait_for(lambda r: len(r) == 2, what="two RouteRequests")
    first, second = client.requests.items
    client.send(m.RouteSelectRequest(routing_cross_ref_id=first.routing_cross_ref_id, route_selected="+15551234567"))
    client.send(m.RouteSelectRequest(routing_cross_ref_id=second.routing_cross_ref_id, route_selected="2099",
                                     remain_retries=0))
    yield client.requests.wait_for(
        lambda r: sum(isinstance(x, m.RouteEndRequest) for x in r) == 2, what="two RouteEnds")
    code, _, body = yield http_get(connector.metrics.port, b"/status")
    rp = json.loads(body)["contact_centre"]["route_points"]
    assert (rp["registrations"], rp["dialogues_open"]) == (1, 0)
    assert {k: rp["stats"][k] for k in ("requests", "selects", "routed", "refused", "calls_failed")} == {
        "requests": 2, "selects": 2, "routed": 1, "refused": 1, "calls_failed": 1}
    assert rp["select_latency"]["count"] == 2
    code, _, body = yield http_get(connector.metrics.port, b"/metrics")
    got = samples(body.decode())
    p = "csta_connector_"
    assert got[(p + "route_requests_total", frozenset())] == 2
    assert got[(p + "routed_calls_total", frozenset())] == 1
    assert got[(p + "route_selects_refused_total", frozenset())] == 1
    assert got[(p + "route_select_latency_seconds_count", frozenset())] == 2
    assert got[(p + "route_select_latency_seconds_bucket", frozenset({("le", "+Inf")}))] == 2
    assert got[(p + "route_registrations", frozenset())] == 1
    client.transport.loseConnection()


@pytest_twisted.inlineCallbacks
def test_metrics_and_status_reflect_a_monitored_call(lms_lines, connector):
    """A monitored, answered call shows in /status and /metrics: links, clients,
    monitors, the model, events in and out per type, request latency."""
    client = yield connect(reactor, "127.0.0.1", connector.csta_port, "xml")
    for device in ("2001", "2002"):
        yield client.request(m.MonitorStart(device=device))
    yield connector.control.place_call("2001", "2002")
    yield pause()
    yield connector.control.user_action("2002", "answer")
    yield client.events.wait_for(
        lambda events: any(isinstance(e, m.EstablishedEvent) for e in events), what="Established")
    yield pause(0.1)
    snapshot = yield client.request(m.SnapshotDevice(device="2001"))
    assert snapshot is not None

    code, content_type, body = yield http_get(connector.metrics.port, b"/status")
    assert code == 200 and content_type == b"application/json"
    status = json.loads(body)
    assert status["system_status"] == "normal"
    links = connector.channel_set.configured_links
    assert status["links"]["up"] == status["links"]["total"] == len(links)
    assert status["links"]["states"] == {link.name: "up" for link in links}
    # each link's protocol and the channel it holds
    channels = {link.settings.name: link.channel_id for link in connector.channel_set.up_links}
    assert status["links"]["detail"] == {
        link.name: {"protocol": str(link.protocol), "state": "up", "channel_id": channels[link.name]}
        for link in links
    }
    assert all(channels.values()) and len(set(channels.values())) == len(links)
    assert status["clients"] == {"total": 1, "xml": 1, "ber": 0, "detecting": 0}
    assert status["monitors"] == 2 and status["subscriptions"] == 2
    assert status["model"] == {"devices": 2, "calls": 1, "parties": 2}
    events_in = status["events"]["broadworks_in"]
    for event_type in ("CallOriginatedEvent", "CallReceivedEvent", "CallAnsweredEvent",
                       "CallSubscriptionEvent"):
        assert events_in["by_type"].get(event_type, 0) >= 1, events_in
    assert events_in["total"] == sum(events_in["by_type"].values())
    events_out = status["events"]["csta_out"]
    assert events_out["by_type"]["OriginatedEvent"] == 1  # to 2001's monitor
    assert events_out["by_type"]["DeliveredEvent"] == 1  # to 2002's monitor
    assert events_out["by_type"]["EstablishedEvent"] == 2  # to both
    assert events_out["total"] == len(client.events.items)
    assert status["requests"]["MonitorStart"]["count"] == 2
    assert status["requests"]["MonitorStart"]["results"] == {"ok": 2}
    assert status["snapshots"] == {"count": 1, "timeouts": 0}
    assert status["update_subscription_requests"] >= 1
    assert status["synchronizations"] >= 3  # two initial events and the snapshot
    assert status["parties_cleared"] == 0
    assert status["proactive_resync"] == {
        "enabled": True, "waves": 0, "refreshed": 0, "parties_cleared": 0, "in_progress": False}
    # the simulator writes every call event in the form the one-pass reader
    # reads (the reader also counts documents no subscription of the core
    # wanted); the agents' Call Center Agent events take lxml
    agent_events = sum(n for t, n in events_in["by_type"].items() if t in cc.EVENT_TYPES)
    assert agent_events >= 2  # 2001 and 2002 are agents of the default call center
    assert status["event_documents_by_reader"]["one pass"] >= events_in["total"] - agent_events
    assert status["event_reader_failures"] == 0

    code, content_type, body = yield http_get(connector.metrics.port, b"/metrics")
    assert code == 200 and content_type.startswith(b"text/plain")
    got = samples(body.decode())
    p = "csta_connector_"
    for link in links:
        assert got[(p + "link_up", frozenset({("link", link.name), ("protocol", str(link.protocol))}))] == 1
    assert got[(p + "links_up", frozenset())] == len(links)
    assert got[(p + "system_status", frozenset({("status", "normal")}))] == 1
    assert got[(p + "system_status", frozenset({("status", "disabled")}))] == 0
    assert got[(p + "csta_clients", frozenset({("encoding", "xml")}))] == 1
    assert got[(p + "monitors", frozenset())] == 2
    assert got[(p + "model_calls", frozenset())] == 1
    assert got[(p + "model_parties", frozenset())] == 2
    assert got[(p + "broadworks_events_total", frozenset({("event_type", "CallReceivedEvent")}))] >= 1
    assert got[(p + "csta_events_total", frozenset({("event_type", "EstablishedEvent")}))] == 2
    monitor_start = frozenset({("service", "MonitorStart")})
    assert got[(p + "csta_request_duration_seconds_count", monitor_start)] == 2
    assert got[(p + "csta_request_duration_seconds_bucket", monitor_start | {("le", "+Inf")})] == 2
    assert got[(p + "csta_request_duration_seconds_sum", monitor_start)] > 0
    assert got[(p + "csta_requests_total", monitor_start | {("result", "ok")})] == 2
    assert got[(p + "snapshots_total", frozenset())] == 1
    assert got[(p + "snapshot_timeouts_total", frozenset())] == 0
    assert got[(p + "parties_cleared_total", frozenset())] == 0
    assert got[(p + "update_subscription_requests_total", frozenset())] >= 1
    assert got[(p + "broadworks_event_documents_total", frozenset({("reader", "one_pass")}))] >= (
        events_in["total"] - agent_events)
    assert (p + "broadworks_event_documents_total", frozenset({("reader", "lxml")})) in got
    assert got[(p + "event_reader_failures_total", frozenset())] == 0

    code, _, _ = yield http_get(connector.metrics.port, b"/nothing")
    assert code == 404

    listening = [e for e in lms_lines if e["lms_id"] == lms.METRICS_LISTENING.id]
    assert [e["port"] for e in listening] == [connector.metrics.port]
    # a registry of its own: nothing lands in the process-global one
    assert not [n for n in prometheus_client.REGISTRY._names_to_collectors if n.startswith(p)]
    client.transport.loseConnection()


def test_no_metrics_section_no_endpoint():
    """Without [metrics] no request is recorded and nothing listens; the
    channel set delivers straight to the services."""
    service = ConnectorService(embedded_config(), reactor)
    assert service.metrics is None
    assert service.csta_factory.request_observer is None
    assert service.channel_set.sink is service.core


def test_request_recorder_buckets_and_results():
    """Latencies land in the first bucket whose bound is not below them; a
    snapshot answered performanceLimitExceeded counts as a timeout."""
    recorder = RequestRecorder()
    recorder("SnapshotDevice", 0.004)
    recorder("SnapshotDevice", 0.005)
    recorder("SnapshotDevice", 99.0, Failure(CSTARequestError("performanceManagement", "performanceLimitExceeded")))
    latency = recorder.services["SnapshotDevice"]
    cumulative = dict(latency.cumulative())
    assert cumulative[repr(LATENCY_BUCKETS[0])] == 2
    assert cumulative[repr(LATENCY_BUCKETS[-1])] == 2
    assert cumulative["+Inf"] == 3 == latency.count
    assert latency.results == {"ok": 2, "timeout": 1}
    assert request_result(Failure(defer.TimeoutError())) == "timeout"
    assert request_result(Failure(defer.CancelledError())) == "cancelled"
    assert request_result(Failure(CSTARequestError("operation", "invalidDeviceID"))) == "error"
