# -*- test-case-name: tests.integration.test_connector -*-
"""The connector assembled from its configuration: the embedded simulator
(when enabled), the BroadWorks channel set and client API, the services
(model, subscriptions, call control, fan-out) and the CSTA listener."""

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
from csta_connector.csta.server import CSTAServerFactory, ListenerSettings
from csta_connector.services.core import ConnectorCore

from csta_connector.broadworks import eventreader
from csta_connector.broadworks.channelset import ChannelSet
from csta_connector.broadworks.client import BroadWorksClient
from csta_connector.broadworks.link import LinkSettings
from csta_connector.broadworks.xsp import credentials_for


def link_settings(config, link) -> LinkSettings:
    """The settings of one ``[link-NAME]`` with the ``[Connector]`` values it inherits."""
    c = config.connector
    return LinkSettings(
        channel_set_id=c.channel_set_name,
        application_id=c.application_name,
        name="link-" + link.name if not link.name.startswith("link") else link.name,
        priority=link.priority,
        weight=link.weight,
        channel_expires=c.channel_expire_tout,
        subscription_expires=c.subscription_expire_tout,
        credentials=credentials_for(link.username, link.password or "") if link.username else None,
        kpl_interval=link.kpl_interval,
        kpl_tolerance=link.kpl_tolerance,
        request_timeout=c.request_timeout,
        max_document_size=c.max_document_size,
        app_controller=c.app_controller,
        host=link.hostname,
        port=link.port,
    )


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


class ConnectorService(MultiService):
    log = Logger()

    def __init__(self, config, reactor=None):
        super().__init__()
        if reactor is None:
            from twisted.internet import reactor
        self.config = config
        self.reactor = reactor
        self.simulator = None
        if config.simulator.enabled:
            from csta_connector.simulator.service import SimulatorService

            self.simulator = SimulatorService(config.simulator, reactor)
            self.simulator.setServiceParent(self)
        c = config.connector
        self.channel_set = ChannelSet(
            reactor,
            recovery_delay=c.link_recovery_tout,
            max_recovery_delay=c.link_recovery_max_tout,
        )
        for index, link in enumerate(config.links):
            if self.simulator is not None and link.name.startswith("simulator"):
                endpoint = _SimulatorEndpoint(reactor, self.simulator, index)
            elif link.tls:
                endpoint = tls.client_endpoint(reactor, link.hostname, link.port, link.tls_ca)
            else:
                endpoint = HostnameEndpoint(reactor, link.hostname, link.port)
            self.channel_set.add_link(link_settings(config, link), endpoint)
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
        )
        self.channel_set.sink = self.core
        csta = config.csta
        self.csta_factory = CSTAServerFactory(
            self.core,
            reactor,
            ListenerSettings(
                encoding=csta.encoding,
                detect_timeout=csta.detect_timeout,
                ber_framing=csta.ber_framing,
                xml_namespace=csta.xml_namespace,
                request_timeout=max(30.0, c.request_timeout + c.snapshot_timeout),
            ),
        )
        # no link is up yet: clients connecting now learn it from SystemStatus
        self.csta_factory.system_status = "disabled"
        self.core.server_factory = self.csta_factory
        self.metrics = None
        if config.metrics is not None:
            # imported here: twisted.web and prometheus-client load only with [metrics]
            from csta_connector.metrics import MetricsService

            self.metrics = MetricsService(self, config.metrics, reactor)
            self.metrics.attach(self.channel_set, self.csta_factory)
            self.metrics.setServiceParent(self)
        self.csta_port = None
        self.started = None

    @defer.inlineCallbacks
    def _listen(self):
        if self.simulator is not None:
            yield self.simulator.started
        csta = self.config.csta
        if csta.tls:
            endpoint = SSL4ServerEndpoint(
                self.reactor, csta.port, tls.server_options(csta.tls_certificate, csta.tls_key),
                interface=csta.bind,
            )
        else:
            endpoint = TCP4ServerEndpoint(self.reactor, csta.port, interface=csta.bind)
        self._listening = yield endpoint.listen(self.csta_factory)
        self.csta_port = self._listening.getHost().port
        lms.emit(self.log, lms.CSTA_LISTENING, host=csta.bind, port=self.csta_port, encoding=csta.encoding)

    def startService(self):
        if self.config.csta.encoding in ("auto", "ber"):
            from csta_connector.csta.ber import codec

            codec.warm_up()  # not on the first BER client's session start
        eventreader.warm_up()  # not on the first event
        lms.emit(
            self.log, lms.CONNECTOR_STARTED,
            application=self.config.connector.application_name, version=__version__,
        )
        lms.emit(self.log, lms.CONFIGURATION_LOADED, source=self.config.source)
        super().startService()
        self.started = self._listen()
        self.started.addErrback(self._listen_failed)
        return self.started

    def _listen_failed(self, failure):
        self.log.failure("CSTA listener could not start", failure)
        return failure

    @defer.inlineCallbacks
    def stopService(self):
        listening = getattr(self, "_listening", None)
        if listening is not None:
            yield listening.stopListening()
        for session in list(self.csta_factory.sessions):
            if session.transport is not None:
                session.transport.abortConnection()
        self.core.stop()
        self.core.server_factory = None  # no SystemStatus to clients while stopping
        yield super().stopService()
        lms.emit(self.log, lms.CONNECTOR_STOPPED)
