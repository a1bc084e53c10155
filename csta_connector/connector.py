# -*- test-case-name: tests.integration.test_connector -*-
"""The connector assembled from its configuration: the BroadWorks channel set,
the client API over it, and (when enabled) the embedded simulator."""

from __future__ import annotations

from twisted.application.service import MultiService
from twisted.internet.endpoints import HostnameEndpoint
from twisted.logger import Logger

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
    )


class ConnectorService(MultiService):
    log = Logger()

    def __init__(self, config, reactor=None, sink=None):
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
            sink=sink,
            recovery_delay=c.link_recovery_tout,
            max_recovery_delay=c.link_recovery_max_tout,
        )
        for link in config.links:
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
