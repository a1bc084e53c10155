"""The top-level service of a twistd plugin: it brings the LMS log outputs along.

twistd asks the application for an ``ILogObserver`` component after
``makeService`` and before logging starts, so the service sets one on the
application it is attached to: the ``[log]`` section then decides what is
written where (SPEC §8), instead of twistd's own format. Its :attr:`detail`
(the levels those outputs write) goes to the services it runs.
"""

from __future__ import annotations

from twisted.application.service import MultiService
from twisted.logger import ILogObserver
from zope.interface import implementer

from csta_connector.logoutput import build_observers, log_detail


@implementer(ILogObserver)
class FanoutObserver:
    def __init__(self, observers):
        self.observers = list(observers)

    def __call__(self, event):
        for observer in self.observers:
            observer(event)


class ApplicationService(MultiService):
    def __init__(self, log_section):
        super().__init__()
        observers = build_observers(log_section)
        #: what the outputs write: give it to the services that emit
        self.detail = log_detail(observers)
        self.log_observer = FanoutObserver(observers)

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
