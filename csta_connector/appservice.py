"""The top-level service of a twistd plugin: it brings the LMS log outputs along.

twistd asks the application for an ``ILogObserver`` component after
``makeService`` and before logging starts, so the service sets one on the
application it is attached to: the ``[log]`` section then decides what is
written where (SPEC §8), instead of twistd's own format. Its :attr:`detail`
(the levels those outputs write) goes to the services it runs.

A start that fails on the configuration (a port that cannot be listened on)
is one LMS line, 37006, naming the file, section, option and port, and the
process exits with status 1. twistd and ``python -m twisted`` both start the
services before the reactor runs, so the exit comes before anything runs.
"""

from __future__ import annotations

import os

from twisted.application.service import MultiService
from twisted.logger import ILogObserver, Logger
from zope.interface import implementer

from csta_connector import lms
from csta_connector.config import EMBEDDED_SOURCE, ConfigError
from csta_connector.listening import ListenFailed
from csta_connector.logoutput import build_observers, log_detail


@implementer(ILogObserver)
class FanoutObserver:
    def __init__(self, observers):
        self.observers = list(observers)

    def __call__(self, event):
        for observer in self.observers:
            observer(event)


class ApplicationService(MultiService):
    def __init__(self, log_section, source=EMBEDDED_SOURCE, pidfile=None):
        """``source``: the configuration's file, named by a start failure;
        ``pidfile``: twistd's pid file, removed when the start fails (twistd
        removes it only after a reactor ran)."""
        super().__init__()
        observers = build_observers(log_section)
        #: what the outputs write: give it to the services that emit
        self.detail = log_detail(observers)
        self.log_observer = FanoutObserver(observers)
        self.source = source
        self.pidfile = pidfile

    def startService(self):
        try:
            super().startService()
        except (ConfigError, ListenFailed) as e:
            error = e.config_error(self.source) if isinstance(e, ListenFailed) else e
            # straight to the [log] outputs: under `python -m twisted` the
            # global log begins only once the reactor runs, which it never will
            log = Logger(namespace="csta_connector", observer=self.log_observer)
            lms.emit(log, lms.START_FAILED, problem=str(error))
            self._remove_pidfile()
            raise SystemExit(1) from None

    def _remove_pidfile(self):
        if not self.pidfile:
            return
        try:
            with open(self.pidfile) as f:
                ours = f.read().strip() == str(os.getpid())
            if ours:
                os.remove(self.pidfile)
        except OSError:
            pass

    def setServiceParent(self, parent):
        super().setServiceParent(parent)
        set_component = getattr(parent, "setComponent", None)
        if set_component is not None:
            set_component(ILogObserver, self.log_observer)

    def stopService(self):
        d = super().stopService()

        def close(result):
            for observer in self.log_observer.observers:
                observer.close()
            return result

        return d.addBoth(close) if d is not None else close(None)
