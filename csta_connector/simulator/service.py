# -*- test-case-name: tests.integration.test_link_simulator -*-
"""The whole simulator as one Twisted service: engine, XSP front-ends, control API.

Used by ``twistd broadworks-sim``, by the connector's embedded default and by
the tests (port 0 binds a free port; :attr:`cti_ports`, :attr:`xsi_port` and
:attr:`control_port` tell which). The CTI front-ends come first (XSP 1..N of
the control API's ``/xsp``), the Xsi front-end (``xsi-port``) after them.
"""

from __future__ import annotations

from twisted.application.service import Service
from twisted.internet import defer
from twisted.internet.endpoints import TCP4ServerEndpoint
from twisted.logger import Logger

from csta_connector import lms
from csta_connector.simulator.contact_centre import ContactCentreSettings
from csta_connector.simulator.control import make_control_site
from csta_connector.simulator.engine import CallEngine
from csta_connector.simulator.xsi_server import XsiServer
from csta_connector.simulator.xsp_server import XspServer


class SimulatorService(Service):
    log = Logger()

    def __init__(self, settings, reactor=None):
        """``settings``: a :class:`csta_connector.config.SimulatorSection`."""
        if reactor is None:
            from twisted.internet import reactor
        self.settings = settings
        self.reactor = reactor
        self.engine = CallEngine(
            reactor,
            users=settings.users,
            domain=settings.domain,
            resync_delay=settings.resync_delay,
            resync_event=settings.resync_event,
            contact_centre=ContactCentreSettings.from_section(settings),
        )
        self.xsp = XspServer(
            self.engine, reactor, domain=settings.domain,
            front_ends=len(self._front_end_ports()),
            drop_channels_on_failover=settings.failover_drops_channels,
        )
        self.xsi: XsiServer | None = None
        if settings.xsi_port is not None:
            self.xsi = XsiServer(
                self.xsp, reactor, passwords=dict(settings.xsi_credentials) or None,
                event_timeout=settings.xsi_event_timeout or None,
            )
        self._ports = []
        self.cti_ports: list[int] = []
        #: the Xsi front-end's port once listening (None without one)
        self.xsi_port: int | None = None
        self.control_port: int | None = None
        self.started: defer.Deferred | None = None

    def _front_end_ports(self):
        # cti-port is the first XSP front-end; xsp-ports adds more
        return [self.settings.cti_port, *(self.settings.xsp_ports or ())]

    @defer.inlineCallbacks
    def _listen(self):
        bind = self.settings.bind
        for index, port in enumerate(self._front_end_ports()):
            listening = yield TCP4ServerEndpoint(self.reactor, port, interface=bind).listen(
                self.xsp.factory(index)
            )
            self._ports.append(listening)
            self.cti_ports.append(listening.getHost().port)
            self.xsp.front_ends[index].port = listening.getHost().port
        if self.xsi is not None:
            listening = yield TCP4ServerEndpoint(self.reactor, self.settings.xsi_port, interface=bind).listen(
                self.xsi.site()
            )
            self._ports.append(listening)
            self.xsi_port = listening.getHost().port
            self.xsi.listening(self.xsi_port)
            lms.emit(self.log, lms.SIMULATOR_XSI_LISTENING, xsp=self.xsi.index + 1, host=bind,
                     port=self.xsi_port)
        control = yield TCP4ServerEndpoint(
            self.reactor, self.settings.control_port, interface=bind
        ).listen(make_control_site(self.engine, self.reactor, self.xsp))
        self._ports.append(control)
        self.control_port = control.getHost().port
        lms.emit(
            self.log,
            lms.SIMULATOR_STARTED,
            users=self.settings.users,
            domain=self.settings.domain,
            cti_ports=",".join(map(str, self.cti_ports)),
            control_port=self.control_port,
        )

    def startService(self):
        super().startService()
        self.started = self._listen()
        self.started.addErrback(self._listen_failed)
        return self.started

    def _listen_failed(self, failure):
        self.log.failure("Simulator could not listen", failure)
        return failure

    @defer.inlineCallbacks
    def stopService(self):
        super().stopService()
        ports, self._ports = self._ports, []
        for port in ports:
            yield port.stopListening()
        for connection in list(self.xsp.connections):
            if connection.transport is not None:
                connection.transport.abortConnection()
        if self.xsi is not None:
            self.xsi.stop()
        self.xsp.stop()
        self.engine.stop()
        lms.emit(self.log, lms.SIMULATOR_STOPPED)
