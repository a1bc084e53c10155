# -*- test-case-name: tests.integration.test_connector -*-
"""The connector assembled from its configuration: the embedded simulator
(when enabled), the BroadWorks channel set and client API, the services
(model, subscriptions, call control, fan-out), the CSTA listener and the
metrics endpoint.

Everything is built here, in dependency order, each object with its
collaborators in its constructor: the system status and the event counts
first (shared by the services, the listener and the metrics), then the
channel set, the client over it, the services, the listener, the metrics.
One binding comes after construction: the channel set delivers its events
to the services, which were built on it (``ChannelSet.deliver_to``).
"""

from __future__ import annotations

from twisted.application.service import MultiService
from twisted.internet import defer
from twisted.internet.endpoints import (
    HostnameEndpoint,
    SSL4ServerEndpoint,
    TCP4ClientEndpoint,
    TCP4ServerEndpoint,
)
from twisted.internet.interfaces import IStreamClientEndpoint
from zope.interface import implementer
from twisted.logger import Logger

from csta_connector import __version__, lms, tls
from csta_connector.broadworks import eventreader
from csta_connector.broadworks.channelset import ChannelSet
from csta_connector.broadworks.client import BroadWorksClient
from csta_connector.broadworks.link import LinkProtocol, LinkSettings
from csta_connector.csta.server import CSTAServerFactory, ListenerSettings
from csta_connector.listening import ListenAddress, ListenFailed, listen_now
from csta_connector.services.core import ConnectorCore
from csta_connector.services.counts import EventCounts
from csta_connector.services.devices import DeviceTypes
from csta_connector.services.route_points import RouteingSettings
from csta_connector.status import SystemStatus


@implementer(IStreamClientEndpoint)
class _SimulatorEndpoint:
    """The embedded simulator's XSP front-end ``index``, on whatever port it got
    (a configured port 0 means any free port)."""

    def __init__(self, reactor, simulator, index):
        self.reactor = reactor
        self.simulator = simulator
        self.index = index

    def connect(self, factory):
        if len(self.simulator.cti_ports) <= self.index:
            return defer.fail(ConnectionRefusedError("simulator not listening yet"))
        port = self.simulator.cti_ports[self.index]
        return TCP4ClientEndpoint(self.reactor, "127.0.0.1", port).connect(factory)


class _SimulatorXsiEndpoints:
    """The endpoints of an Xsi link to the embedded simulator's Xsi front-end,
    on whatever port it got (``[simulator] xsi-port = any``)."""

    def __init__(self, reactor, simulator):
        self.reactor = reactor
        self.simulator = simulator

    def endpoint(self, address=None):
        return _SimulatorXsiEndpoint(self.reactor, self.simulator)


@implementer(IStreamClientEndpoint)
class _SimulatorXsiEndpoint:
    def __init__(self, reactor, simulator):
        self.reactor = reactor
        self.simulator = simulator

    def connect(self, factory):
        if self.simulator.xsi_port is None:
            return defer.fail(ConnectionRefusedError("simulator Xsi front-end not listening"))
        return TCP4ClientEndpoint(self.reactor, "127.0.0.1", self.simulator.xsi_port).connect(factory)


class ConnectorService(MultiService):
    log = Logger()

    def __init__(self, config, reactor, detail=lms.EVERY_LEVEL):
        """``detail``: what the log outputs write (``ApplicationService.detail``);
        by default every level, as for a connector whose log is observed
        directly (tests, tools)."""
        super().__init__()
        self.config = config
        self.reactor = reactor
        c = config.connector
        # no link is up yet: clients connecting now learn "disabled"
        self.status = SystemStatus()
        self.counts = EventCounts()
        self.simulator = None
        if config.simulator.enabled:
            from csta_connector.simulator.service import SimulatorService

            self.simulator = SimulatorService(config.simulator, reactor)
            self.simulator.setServiceParent(self)
        self.channel_set = ChannelSet(
            reactor,
            recovery_delay=c.link_recovery_tout,
            max_recovery_delay=c.link_recovery_max_tout,
            detail=detail,
        )
        self._add_links(config, reactor)
        self.channel_set.setServiceParent(self)
        self.client = BroadWorksClient(
            self.channel_set,
            c.channel_set_name,
            c.application_name,
            subscription_expires=c.subscription_expire_tout,
            default_domain=c.default_domain or (config.simulator.domain if self.simulator else None),
        )
        self.core = ConnectorCore(
            self.client,
            reactor,
            snapshot_timeout=c.snapshot_timeout,
            renew_interval=c.subscription_renew_interval,
            renew_jitter=c.subscription_renew_jitter,
            resync_concurrency=c.resync_concurrency,
            status=self.status,
            counts=self.counts,
            detail=detail,
            snapshot_requester_events=config.csta.snapshot_requester_events,
            devices=DeviceTypes.from_config(config),
            agent_login_state=config.contact_centre.agent_login_state,
            proactive_resync=c.proactive_resync,
            proactive_resync_rate=c.proactive_resync_rate,
            proactive_resync_holdoff=c.proactive_resync_holdoff,
            routeing=RouteingSettings.from_config(config),
        )
        self.channel_set.deliver_to(self.core)
        requests = None
        if config.metrics is not None:
            # imported here: twisted.web and prometheus-client load only with [metrics]
            from csta_connector.metrics import ConnectorCollector, MetricsService, RequestRecorder

            requests = RequestRecorder()
        self.csta_factory = CSTAServerFactory(
            self.core,
            reactor,
            ListenerSettings.from_config(config),
            self.status,
            detail=detail,
            request_observer=requests,
        )
        self.metrics = None
        if config.metrics is not None:
            collector = ConnectorCollector(
                c, self.status, self.channel_set, self.core, self.csta_factory, requests
            )
            self.metrics = MetricsService(config.metrics, reactor, collector)
            self.metrics.setServiceParent(self)
        self.csta_port = None
        self.started = None

    def _add_links(self, config, reactor):
        """One link per ``[link-NAME]``: a CTI link to hostname:port, or an Xsi
        link to its url; a link named ``simulator...`` of a connector with the
        embedded simulator reaches the simulator's front-end (CTI front-ends
        in order, or the Xsi one) on whatever port it got."""
        cti_index = 0
        for link in config.links:
            settings = LinkSettings.from_config(config, link)
            embedded = self.simulator is not None and link.name.startswith("simulator")
            if settings.protocol is LinkProtocol.XSI:
                from csta_connector.broadworks.xsi_link import XsiHttp

                endpoints = _SimulatorXsiEndpoints(reactor, self.simulator) if embedded else None
                http = XsiHttp(reactor, settings.url, settings.credentials, settings.tls_ca,
                               endpoints=endpoints, connect_timeout=settings.request_timeout)
                self.channel_set.add_xsi_link(settings, http)
                continue
            if embedded:
                endpoint = _SimulatorEndpoint(reactor, self.simulator, cti_index)
                cti_index += 1
            elif link.tls:
                endpoint = tls.client_endpoint(reactor, link.hostname, link.port, link.tls_ca)
            else:
                endpoint = HostnameEndpoint(reactor, link.hostname, link.port)
            self.channel_set.add_link(settings, endpoint)

    def _listen(self):
        csta = self.config.csta
        if csta.tls:
            endpoint = SSL4ServerEndpoint(
                self.reactor, csta.port, tls.server_options(csta.tls_certificate, csta.tls_key),
                interface=csta.bind,
            )
        else:
            endpoint = TCP4ServerEndpoint(self.reactor, csta.port, interface=csta.bind)
        address = ListenAddress("csta", "port", csta.port, csta.bind)
        self._listening = listen_now(endpoint, self.csta_factory, address)
        self.csta_port = self._listening.getHost().port
        lms.emit(self.log, lms.CSTA_LISTENING, host=csta.bind, port=self.csta_port, encoding=csta.encoding)

    def startService(self):
        """Start everything, here and now: the simulator listens, the links
        start, the metrics and the CSTA listener listen. A port that cannot
        be listened on stops it all again and raises the
        :class:`~csta_connector.config.ConfigError` naming file, section,
        option and port (nothing is left running; the caller says it once)."""
        if self.config.csta.encoding in ("auto", "ber"):
            from csta_connector.csta.ber import codec

            codec.warm_up()  # not on the first BER client's session start
        eventreader.warm_up()  # not on the first event
        lms.emit(self.log, lms.CONFIGURATION_LOADED, source=self.config.source)
        try:
            super().startService()
            self._listen()
        except ListenFailed as failed:
            self._abandon_start()
            raise failed.config_error(self.config.source) from None
        lms.emit(
            self.log, lms.CONNECTOR_STARTED,
            application=self.config.connector.application_name, version=__version__,
        )
        self.started = defer.succeed(None)
        return self.started

    def _abandon_start(self):
        """Undo a start that failed: whatever started stops (quietly: the
        connector never said it started)."""
        self.core.stop()
        self.stopped = MultiService.stopService(self)
        self.stopped.addErrback(
            lambda f: lms.emit(self.log, lms.UNEXPECTED_ERROR, failure=f,
                               what="stopping after a failed start", error=f.getErrorMessage())
        )

    @defer.inlineCallbacks
    def stopService(self):
        listening = getattr(self, "_listening", None)
        if listening is not None:
            yield listening.stopListening()
        for session in list(self.csta_factory.sessions):
            if session.transport is not None:
                session.transport.abortConnection()
        self.core.stop()  # and with it the SystemStatus changes toward clients
        yield super().stopService()
        lms.emit(self.log, lms.CONNECTOR_STOPPED)
