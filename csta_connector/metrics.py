# -*- test-case-name: tests.integration.test_metrics -*-
"""Prometheus metrics and a JSON status page for one connector (SPEC §7 ``[metrics]``).

``[metrics] port`` opens an HTTP endpoint (twisted.web) with two pages:

``GET /metrics``
    the Prometheus text exposition format;
``GET /status``
    the same figures as one JSON document, for a person or a health check.

Collection is *pull-style*: at scrape time a :class:`ConnectorCollector` reads
the live objects (channel set and its document reader, CSTA sessions,
monitors, call model, subscription manager, the core's ``stats``), so the
event path pays nothing for them. Only what has no live source is counted as
it happens, with one dict increment each, in the narrowest place:

* events in and out: the connector's one
  :class:`~csta_connector.services.counts.EventCounts` (BroadWorks events by
  Xsi type, counted by the core; CSTA events by type, counted by the fan-out);
* CSTA request latency and outcome per service: :class:`RequestRecorder`,
  the factory's ``request_observer``.

Every connector has its own :class:`prometheus_client.CollectorRegistry`
(never the process-global one), so several connectors in one process — the
test suite, benchmarks — do not collide.
"""

from __future__ import annotations

import bisect
import enum
import json
from collections import Counter

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from twisted.application.service import Service
from twisted.internet import defer
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.logger import Logger
from twisted.web import resource, server

from csta_connector import __version__, lms
from csta_connector.csta import messages as m, wire
from csta_connector.csta.server import CSTARequestError
from csta_connector.listening import ListenAddress, listen_now
from csta_connector.services.route_points import SELECT_LATENCY_BUCKETS
from csta_connector.status import Status

PREFIX = "csta_connector_"

#: Upper bounds (seconds) of the request latency histogram buckets. A CSTA
#: request waits for a BroadWorks round trip (ms) and, for a snapshot, for the
#: CallSubscriptionEvent after it (up to ``snapshot-timeout``, default 5 s).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

class RequestResult(enum.StrEnum):
    """How a request ended (the ``result`` label)."""

    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"


OK, ERROR, TIMEOUT, CANCELLED = RequestResult

#: System statuses always exported, so a dashboard sees the 0 as well as the 1.
SYSTEM_STATUSES = tuple(str(status) for status in Status)
#: every ECMA-285 AgentState, so that each agents{state} series exists from the start
AGENT_STATES = m.AGENT_STATES


# ---------------------------------------------------------------------------
# What is counted as it happens


class ServiceLatency:
    """Latency histogram and outcomes of one CSTA service."""

    __slots__ = ("buckets", "sum", "results")

    def __init__(self):
        self.buckets = [0] * (len(LATENCY_BUCKETS) + 1)  # the last one is +Inf
        self.sum = 0.0
        self.results: Counter[str] = Counter()

    @property
    def count(self) -> int:
        return sum(self.buckets)

    def cumulative(self) -> list[tuple[str, int]]:
        """``(le, count)`` pairs as Prometheus wants them, ``+Inf`` last."""
        pairs, total = [], 0
        for bound, n in zip(LATENCY_BUCKETS + (float("inf"),), self.buckets):
            total += n
            pairs.append(("+Inf" if bound == float("inf") else repr(bound), total))
        return pairs


def request_result(failure) -> RequestResult:
    """``ok``, ``timeout``, ``cancelled`` or ``error`` for a request's outcome.

    A snapshot that timed out is answered ``performanceLimitExceeded``, as is
    a request the server gave up on; both count as timeouts.
    """
    if failure is None:
        return OK
    if failure.check(defer.TimeoutError):
        return TIMEOUT
    if failure.check(CSTARequestError) and failure.value.error.value == "performanceLimitExceeded":
        return TIMEOUT
    if failure.check(defer.CancelledError):
        return CANCELLED  # the client went away before the answer
    return ERROR


class RequestRecorder:
    """The CSTA server's ``request_observer``: latency and outcome per service."""

    def __init__(self):
        self.services: dict[str, ServiceLatency] = {}

    def __call__(self, service: str, seconds: float, failure=None):
        latency = self.services.get(service)
        if latency is None:
            latency = self.services[service] = ServiceLatency()
        latency.buckets[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
        latency.sum += seconds
        latency.results[request_result(failure)] += 1


# ---------------------------------------------------------------------------
# Reading the live objects


def _route_points(route_points) -> dict:
    """The route points' figures (/status ``contact_centre.route_points``)."""
    stats = route_points.stats
    pairs, total = [], 0
    for bound, n in zip(SELECT_LATENCY_BUCKETS + (float("inf"),), stats.latency_buckets):
        total += n
        pairs.append(("+Inf" if bound == float("inf") else repr(bound), total))
    return {
        "calls_held": route_points.calls_held(),
        "registrations": len(route_points.registrations),
        "dialogues_open": len(route_points.dialogues),
        "app_controller": route_points.controller_state,
        "stats": stats.as_dict(),
        "select_latency": {"buckets": pairs, "sum": round(stats.latency_sum, 6), "count": stats.selects},
    }


def session_encoding(session) -> str:
    """``xml``, ``ber`` or ``detecting`` (not yet known) for a CSTA session."""
    if isinstance(session.wire, wire.XmlWire):
        return "xml"
    if isinstance(session.wire, wire.BerWire):
        return "ber"
    return "detecting"


def link_states(channel_set) -> dict[str, bool]:
    """Link name -> up, for every configured link of the channel set."""
    up = {link.settings.name for link in channel_set.up_links}
    return {service.name: service.name in up for service in channel_set}


def link_details(channel_set) -> dict[str, dict]:
    """Link name -> its protocol (cti, xsi), state and channel id (None while
    down), for every configured link of the channel set."""
    up = {link.settings.name: link for link in channel_set.up_links}
    return {
        settings.name: {
            "protocol": str(settings.protocol),
            "state": "up" if settings.name in up else "down",
            "channel_id": up[settings.name].channel_id if settings.name in up else None,
        }
        for settings in channel_set.configured_links
    }


class ConnectorCollector:
    """A prometheus-client collector reading the live objects of one
    connector at scrape time (the assembly, ``connector.py``, hands them in)."""

    def __init__(self, connector_section, status, channel_set, core, csta_factory,
                 requests: RequestRecorder):
        """``connector_section``: the ``[Connector]`` config; ``status``: the
        :class:`~csta_connector.status.SystemStatus` told to clients;
        ``core``: the services (model, monitors, subscriptions, event counts)."""
        self.connector_section = connector_section
        self.system_status = status
        self.channel_set = channel_set
        self.core = core
        self.csta_factory = csta_factory
        self.requests = requests

    def status(self) -> dict:
        """Everything at a glance, as plain data (the ``/status`` document)."""
        core, factory, events = self.core, self.csta_factory, self.core.counts
        reader = self.channel_set.reader
        links = link_states(self.channel_set)
        clients = Counter(session_encoding(s) for s in factory.sessions)
        counts = core.model.counts()
        snapshots = self.requests.services.get("SnapshotDevice")
        contact_centre = core.contact_centre
        return {
            "application": self.connector_section.application_name,
            "version": __version__,
            "channel_set": self.connector_section.channel_set_name,
            "system_status": str(self.system_status.status),
            "links": {
                "up": sum(links.values()),
                "total": len(links),
                "states": {name: "up" if up else "down" for name, up in links.items()},
                "detail": link_details(self.channel_set),
            },
            "clients": {
                "total": len(factory.sessions),
                **{encoding: clients.get(encoding, 0) for encoding in ("xml", "ber", "detecting")},
            },
            "monitors": core.monitors.count,
            "subscriptions": len(core.subscriptions.subscriptions),
            "model": {"devices": counts.devices, "calls": counts.calls, "parties": counts.parties},
            "events": {
                "broadworks_in": {
                    "total": events.events_in,
                    "by_type": dict(sorted(events.received.items())),
                },
                "csta_out": {
                    "total": events.events_out,
                    "by_type": dict(sorted(events.sent.items())),
                },
            },
            "requests": {
                service: {
                    "count": latency.count,
                    "mean_seconds": round(latency.sum / latency.count, 6) if latency.count else 0.0,
                    "results": dict(sorted(latency.results.items())),
                }
                for service, latency in sorted(self.requests.services.items())
            },
            "snapshots": {
                "count": snapshots.count if snapshots else 0,
                "timeouts": snapshots.results.get(TIMEOUT, 0) if snapshots else 0,
            },
            "event_documents_by_reader": {str(kind): n for kind, n in reader.by_reader.items()},
            "event_reader_failures": reader.failures,
            "update_subscription_requests": core.subscriptions.update_requests,
            "synchronizations": core.stats["synchronizations"],
            # every LMS 37205 line: users' parties and queues' calls
            "parties_cleared": core.stats["parties_cleared"] + contact_centre.stats["parties_cleared"],
            "contact_centre": {
                "subscriptions": {
                    manager.package.name: len(manager.subscriptions) for manager in contact_centre.managers
                },
                "calls_waiting": contact_centre.calls_waiting(),
                "agents": contact_centre.agent_states(),
                "queue_synchronizations": contact_centre.stats["synchronizations"],
                "queue_calls_cleared": contact_centre.stats["parties_cleared"],
                "agents_corrected": contact_centre.stats["agents_corrected"],
                "route_points": _route_points(contact_centre.route_points),
            },
            "proactive_resync": _proactive_resync(core.resync),
        }

    def collect(self):
        s = self.status()
        yield _info(s)

        link_up = GaugeMetricFamily(
            PREFIX + "link_up", "1 while the BroadWorks link's channel is up, else 0; protocol: "
            "cti (CTI interface) or xsi (Xsi over HTTP).", labels=["link", "protocol"])
        for name, link in s["links"]["detail"].items():
            link_up.add_metric([name, link["protocol"]], 1 if link["state"] == "up" else 0)
        yield link_up
        yield GaugeMetricFamily(PREFIX + "links_up", "BroadWorks links up.", value=s["links"]["up"])
        yield GaugeMetricFamily(PREFIX + "links", "BroadWorks links configured.", value=s["links"]["total"])

        status = GaugeMetricFamily(
            PREFIX + "system_status",
            "The SystemStatus told to CSTA clients: 1 for the current one.", labels=["status"])
        for name in dict.fromkeys(SYSTEM_STATUSES + (s["system_status"],)):
            status.add_metric([name], 1 if name == s["system_status"] else 0)
        yield status

        clients = GaugeMetricFamily(
            PREFIX + "csta_clients", "Connected CSTA clients by encoding.", labels=["encoding"])
        for encoding in ("xml", "ber", "detecting"):
            clients.add_metric([encoding], s["clients"][encoding])
        yield clients

        yield GaugeMetricFamily(PREFIX + "monitors", "CSTA monitors (one per client and device).",
                                value=s["monitors"])
        yield GaugeMetricFamily(PREFIX + "subscriptions", "BroadWorks Advanced Call subscriptions.",
                                value=s["subscriptions"])
        for what, meaning in (("devices", "Devices with a call"), ("calls", "Calls"),
                              ("parties", "Call parties (connections)")):
            yield GaugeMetricFamily(PREFIX + "model_" + what, meaning + " in the call model.",
                                    value=s["model"][what])

        yield _by_type(PREFIX + "broadworks_events", "BroadWorks events received, by Xsi event type.",
                       s["events"]["broadworks_in"]["by_type"])
        yield _by_type(PREFIX + "csta_events", "CSTA events sent to clients, by CSTA event type.",
                       s["events"]["csta_out"]["by_type"])

        readers = CounterMetricFamily(
            PREFIX + "broadworks_event_documents",
            "BroadWorks event documents decoded, by reader: the one-pass reader for the "
            "common forms, lxml for every other.", labels=["reader"])
        for reader, n in s["event_documents_by_reader"].items():
            readers.add_metric([reader.replace(" ", "_")], n)
        yield readers
        yield CounterMetricFamily(
            PREFIX + "event_reader_failures",
            "Event documents the one-pass reader failed on unexpectedly (then read by lxml: "
            "nothing lost; please report).", value=s["event_reader_failures"])

        yield from self._requests()

        yield CounterMetricFamily(PREFIX + "snapshots", "CSTA SnapshotDevice requests answered.",
                                  value=s["snapshots"]["count"])
        yield CounterMetricFamily(
            PREFIX + "snapshot_timeouts",
            "SnapshotDevice requests answered performanceLimitExceeded (snapshot-timeout).",
            value=s["snapshots"]["timeouts"])
        yield CounterMetricFamily(
            PREFIX + "update_subscription_requests",
            "UpdateSubscriptionRequests sent (snapshots, renewals, resynchronizations).",
            value=s["update_subscription_requests"])
        yield CounterMetricFamily(
            PREFIX + "synchronizations", "CallSubscriptionEvents compared with the call model.",
            value=s["synchronizations"])
        yield CounterMetricFamily(
            PREFIX + "parties_cleared",
            "Call parties found stuck and cleared by synchronization (LMS 37205 lines).",
            value=s["parties_cleared"])
        yield from self._contact_centre(s["contact_centre"])
        resync = s["proactive_resync"]
        yield CounterMetricFamily(
            PREFIX + "proactive_resync_waves",
            "Proactive resynchronizations started: AS failovers suspected (LMS 37230).",
            value=resync["waves"])
        yield CounterMetricFamily(
            PREFIX + "proactive_resync_refreshes",
            "Subscriptions refreshed (UpdateSubscriptionRequest) by the proactive resynchronizations.",
            value=resync["refreshed"])
        yield CounterMetricFamily(
            PREFIX + "proactive_resync_parties_cleared",
            "Stuck call parties cleared by the events of the proactive resynchronizations' refreshes "
            "(part of parties_cleared).",
            value=resync["parties_cleared"])
        yield GaugeMetricFamily(
            PREFIX + "proactive_resync_in_progress",
            "1 while a proactive resynchronization has subscriptions left to refresh, else 0.",
            value=1 if resync["in_progress"] else 0)

    @staticmethod
    def _contact_centre(cc):
        subscriptions = GaugeMetricFamily(
            PREFIX + "contact_centre_subscriptions",
            "BroadWorks subscriptions of the contact centre, by event package.", labels=["package"])
        for package, n in cc["subscriptions"].items():
            subscriptions.add_metric([package], n)
        yield subscriptions
        waiting = GaugeMetricFamily(
            PREFIX + "queue_calls_waiting", "Calls waiting in each monitored ACD queue.", labels=["queue"])
        for queue, n in sorted(cc["calls_waiting"].items()):
            waiting.add_metric([queue], n)
        yield waiting
        agents = GaugeMetricFamily(
            PREFIX + "agents", "Monitored agents by CSTA agent state (agentBusy: on a call center's call).",
            labels=["state"])
        for state in dict.fromkeys(AGENT_STATES + tuple(cc["agents"])):
            agents.add_metric([state], cc["agents"].get(state, 0))
        yield agents
        yield CounterMetricFamily(
            PREFIX + "queue_calls_cleared",
            "Queued calls, and calls held at route points, found stuck and cleared by synchronization "
            "(among the 37205 lines).",
            value=cc["queue_calls_cleared"])
        yield CounterMetricFamily(
            PREFIX + "agents_corrected",
            "Agents whose state or queues a refreshed AgentSubscriptionEvent corrected (LMS 37251).",
            value=cc["agents_corrected"])
        yield from ConnectorCollector._route_points(cc["route_points"])

    @staticmethod
    def _route_points(rp):
        held = GaugeMetricFamily(
            PREFIX + "route_point_calls_held", "Calls held at each subscribed route point.", labels=["route_point"])
        for route_point, n in sorted(rp["calls_held"].items()):
            held.add_metric([route_point], n)
        yield held
        yield GaugeMetricFamily(
            PREFIX + "route_registrations", "CSTA routeing registrations (RouteRegister) held.",
            value=rp["registrations"])
        yield GaugeMetricFamily(
            PREFIX + "route_dialogues_open", "Routeing dialogues open (RouteRequest sent, not ended).",
            value=rp["dialogues_open"])
        for name, key, meaning in (
            ("route_requests", "requests", "RouteRequests sent to routeing clients."),
            ("route_reroutes", "reroutes", "ReRouteRequests sent (the chosen agent did not answer)."),
            ("route_selects", "selects", "RouteSelects taken from routeing clients."),
            ("routed_calls", "routed", "Dialogues ended without an error: the call went where the client chose."),
            ("route_ends_with_error", "ended_with_error", "RouteEnds with an error sent to routeing clients."),
            ("route_selects_refused", "refused", "RouteSelects whose BroadWorks request was refused."),
            ("route_timeouts", "timeouts",
             "Calls failed by the route point's inactivity timer while routed (LMS 37274)."),
            ("route_calls_failed", "calls_failed", "RoutePointFailCallRequests sent."),
        ):
            yield CounterMetricFamily(PREFIX + name, meaning, value=rp["stats"][key])
        latency = rp["select_latency"]
        yield HistogramMetricFamily(
            PREFIX + "route_select_latency_seconds",
            "Time from a RouteRequest (or ReRouteRequest) sent to the client's RouteSelect.",
            buckets=latency["buckets"], sum_value=latency["sum"])
        controller = GaugeMetricFamily(
            PREFIX + "application_controller_ready",
            "1 while BroadWorks has accepted the application controller ready, 0 not ready, "
            "absent when never set.")
        if rp["app_controller"] is not None:
            controller.add_metric([], 1 if rp["app_controller"] == "ready" else 0)
        yield controller

    def _requests(self):
        histogram = HistogramMetricFamily(
            PREFIX + "csta_request_duration_seconds",
            "Time from a CSTA request to its answer, by service.", labels=["service"])
        results = CounterMetricFamily(
            PREFIX + "csta_requests", "CSTA requests answered, by service and result.",
            labels=["service", "result"])
        for service, latency in sorted(self.requests.services.items()):
            histogram.add_metric([service], latency.cumulative(), latency.sum)
            for result, n in sorted(latency.results.items()):
                results.add_metric([service, result], n)
        yield histogram
        yield results


def _proactive_resync(resync) -> dict:
    """The proactive resync's counts (all 0 when ``proactive-resync = false``)."""
    if resync is None:
        return {"enabled": False, "waves": 0, "refreshed": 0, "parties_cleared": 0,
                "in_progress": False}
    wave = resync.wave
    return {"enabled": True, **resync.stats, "in_progress": wave is not None and not wave.finished}


def _info(s):
    info = GaugeMetricFamily(
        PREFIX + "info", "Always 1; the labels say which connector this is.",
        labels=["version", "application", "channel_set"])
    info.add_metric([s["version"], s["application"], s["channel_set"]], 1)
    return info


def _by_type(name, documentation, counts):
    family = CounterMetricFamily(name, documentation, labels=["event_type"])
    for event_type, n in counts.items():
        family.add_metric([event_type], n)
    return family


# ---------------------------------------------------------------------------
# The HTTP endpoint


class MetricsResource(resource.Resource):
    """``/metrics`` (Prometheus text format) and ``/status`` (JSON)."""

    isLeaf = True

    def __init__(self, registry: CollectorRegistry, collector: ConnectorCollector):
        super().__init__()
        self.registry = registry
        self.collector = collector

    def render_GET(self, request):
        if request.path == b"/metrics":
            request.setHeader(b"Content-Type", CONTENT_TYPE_LATEST.encode())
            return generate_latest(self.registry)
        if request.path == b"/status":
            request.setHeader(b"Content-Type", b"application/json")
            return json.dumps(self.collector.status(), indent=2).encode() + b"\n"
        request.setResponseCode(404)
        request.setHeader(b"Content-Type", b"text/plain")
        return b"not found: try /metrics or /status\n"


class _QuietSite(server.Site):
    """A Site without an access log: a scrape every few seconds must not fill
    the connector's log."""

    noisy = False
    displayTracebacks = False

    def log(self, request):
        pass


class MetricsService(Service):
    """The ``[metrics]`` endpoint of one connector, as a child service.

    Starting listens on ``(bind, port)``; :attr:`port` is the port bound (a
    configured 0 picks a free one) once :attr:`started` fired.
    """

    log = Logger()

    def __init__(self, settings, reactor, collector: ConnectorCollector):
        """``settings``: a :class:`csta_connector.config.MetricsSection`."""
        self.settings = settings
        self.reactor = reactor
        self.collector = collector
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(collector)
        self.site = _QuietSite(MetricsResource(self.registry, collector), reactor=reactor)
        self.port: int | None = None
        self.started: defer.Deferred | None = None
        self._listening = None

    def startService(self):
        """Listen here and now; :class:`~csta_connector.listening.ListenFailed`
        when the port cannot be listened on."""
        super().startService()
        endpoint = TCP4ServerEndpoint(self.reactor, self.settings.port, interface=self.settings.bind)
        address = ListenAddress("metrics", "port", self.settings.port, self.settings.bind)
        try:
            self._listening = listen_now(endpoint, self.site, address)
        except Exception:
            super().stopService()
            raise
        self.port = self._listening.getHost().port
        lms.emit(self.log, lms.METRICS_LISTENING, host=self.settings.bind, port=self.port)
        self.started = defer.succeed(None)

    def stopService(self):
        super().stopService()
        listening, self._listening = self._listening, None
        if listening is not None:
            return listening.stopListening()
        return None
