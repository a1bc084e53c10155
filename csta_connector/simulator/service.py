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
from csta_connector.listening import ListenAddress, ListenFailed, listen_now
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
        self._stopping: defer.Deferred | None = None

    def _front_end_ports(self):
        # cti-port is the first XSP front-end; xsp-ports adds more
        return [self.settings.cti_port, *(self.settings.xsp_ports or ())]

    def _listen_on(self, option, port, factory):
        address = ListenAddress("simulator", option, port, self.settings.bind)
        endpoint = TCP4ServerEndpoint(self.reactor, port, interface=self.settings.bind)
        listening = listen_now(endpoint, factory, address)
        self._ports.append(listening)
        return listening.getHost().port

    def _listen(self):
        for index, port in enumerate(self._front_end_ports()):
            option = "cti-port" if index == 0 else "xsp-ports"
            bound = self._listen_on(option, port, self.xsp.factory(index))
            self.cti_ports.append(bound)
            self.xsp.front_ends[index].port = bound
        if self.xsi is not None:
            self.xsi_port = self._listen_on("xsi-port", self.settings.xsi_port, self.xsi.site())
            self.xsi.listening(self.xsi_port)
            lms.emit(self.log, lms.SIMULATOR_XSI_LISTENING, xsp=self.xsi.index + 1,
                     host=self.settings.bind, port=self.xsi_port)
        self.control_port = self._listen_on(
            "control-port", self.settings.control_port,
            make_control_site(self.engine, self.reactor, self.xsp),
        )
        lms.emit(
            self.log,
            lms.SIMULATOR_STARTED,
            users=self.settings.users,
            domain=self.settings.domain,
            cti_ports=",".join(map(str, self.cti_ports)),
            control_port=self.control_port,
        )

    def startService(self):
        """Listen on every port, here and now; :class:`ListenFailed` (naming
        the option) when one cannot be listened on, and then none is."""
        super().startService()
        self._stopping = None
        try:
            self._listen()
        except ListenFailed:
            self.stopService()
            raise
        self.started = defer.succeed(None)
        return self.started

    def stopService(self):
        """Stop once: a start that failed has stopped already, and a second
        stop waits for the same end."""
        if self._stopping is None:
            self._stopping = self._stop()
        return self._stopping

    @defer.inlineCallbacks
    def _stop(self):
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
        if self.control_port is not None:  # it said it started
            lms.emit(self.log, lms.SIMULATOR_STOPPED)
