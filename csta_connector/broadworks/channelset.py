# -*- test-case-name: tests.protocol.test_channelset -*-
"""The links of one channel set: routing, shared duplicate detection, recovery.

Each ``[link-NAME]`` is one link to its own XSP, kept up by a
``ClientService`` with exponential back-off (the clock is injected): a TCP
connection to its CTI interface (``protocol = cti``, :meth:`ChannelSet.add_link`)
or an Xsi event channel, the streaming answer of an HTTP request
(``protocol = xsi``, :meth:`ChannelSet.add_xsi_link`); one set may mix both.
All links add their channel to the same channel set, so BroadWorks may
deliver an event of any subscription on any of them; one shared
:class:`EventOrdering` drops re-deliveries, one :class:`DocumentReader`
decodes and counts every link's documents. Requests go over a live link,
preferring the best (lowest) priority.
"""

from __future__ import annotations

import random

from twisted.application.internet import ClientService
from twisted.application.service import MultiService
from twisted.internet import defer
from twisted.internet.interfaces import IStreamClientEndpoint
from twisted.internet.protocol import Factory
from twisted.logger import Logger
from zope.interface import implementer

from csta_connector import lms
from csta_connector.broadworks.errors import NoLinkAvailable
from csta_connector.broadworks.link import DocumentReader, LinkSettings, XspLinkProtocol
from csta_connector.broadworks.ordering import EventOrdering
from csta_connector.interfaces import IBroadWorksLink, IEventSink, ILinkListener


class _LinkFactory(Factory):
    def __init__(self, channel_set, settings):
        self.channel_set = channel_set
        self.settings = settings

    def buildProtocol(self, addr):
        cs = self.channel_set
        return XspLinkProtocol(
            self.settings, cs.clock, cs, cs.ordering, cs.reader, cs.detail, trace=cs.trace
        )


@implementer(IStreamClientEndpoint)
class _AnnouncingEndpoint:
    """An endpoint that logs each connection attempt of a link (37101)."""

    def __init__(self, endpoint, settings, log):
        self.endpoint = endpoint
        self.settings = settings
        self.log = log

    def connect(self, factory):
        lms.emit(
            self.log, lms.LINK_CONNECTING, link=self.settings.name, protocol=self.settings.protocol,
            host=self.settings.host, port=self.settings.port,
        )
        return self.endpoint.connect(factory)


@implementer(IEventSink)
class _NullSink:
    def broadworks_event(self, event):
        pass

    def broadworks_sequence_gap(self, gap):
        pass

    def broadworks_link_state(self, up_links, total_links):
        pass

    def broadworks_link_recovered(self, link_name):
        pass


@implementer(IBroadWorksLink, ILinkListener)
class ChannelSet(MultiService):
    log = Logger()

    def __init__(self, clock, sink=None, recovery_delay=10.0, max_recovery_delay=120.0,
                 jitter=random.random, detail=lms.EVERY_LEVEL):
        super().__init__()
        self.clock = clock
        self.detail = detail  # what the log outputs write, for every link
        self.sink = sink if sink is not None else _NullSink()
        self.ordering = EventOrdering()
        #: decodes every link's documents and counts them by reader
        self.reader = DocumentReader()
        self.recovery_delay = recovery_delay
        self.max_recovery_delay = max_recovery_delay
        self.jitter = jitter  # seconds added to each back-off delay, so links don't stampede
        self._settings: list[LinkSettings] = []
        self._up: list[XspLinkProtocol] = []
        self._round_robin = 0
        self._ready_waiters: list[defer.Deferred] = []
        self._lost_at: dict[str, float] = {}  # link name -> when it went down
        self._affinity: dict[str, object] = {}  # subscriptionId -> link of its last event
        self._ever_up: set[str] = set()
        #: optional callable(direction, document bytes) given to every link
        self.trace = None

    # -- configuration ------------------------------------------------------

    def deliver_to(self, sink) -> None:
        """Where events and link changes go (an ``IEventSink``), for a sink
        built after this channel set: the services ask BroadWorks through
        it, so they need it first. Bound once, before the set starts."""
        if self.running or not isinstance(self.sink, _NullSink):
            raise RuntimeError("the channel set's sink is bound once, before it starts")
        self.sink = sink

    def add_link(self, settings: LinkSettings, endpoint) -> ClientService:
        """Add one CTI link (a ClientService connecting ``endpoint``)."""
        return self._add(settings, endpoint, _LinkFactory(self, settings))

    def add_xsi_link(self, settings: LinkSettings, http) -> ClientService:
        """Add one Xsi link: its event channel opened through ``http`` (an
        :class:`~csta_connector.broadworks.xsi_link.XsiHttp` to its XSP), which
        also carries its requests."""
        from csta_connector.broadworks.xsi_link import XsiChannelEndpoint, XsiLinkFactory

        factory = XsiLinkFactory(settings, self.clock, self, http, self.ordering, self.reader, self.detail)
        factory.trace = self.trace
        return self._add(settings, XsiChannelEndpoint(http, settings, self.clock), factory)

    def _add(self, settings, endpoint, factory) -> ClientService:
        self._settings.append(settings)

        def policy(failed_attempts):
            delay = self.retry_delay(failed_attempts)
            lms.emit(
                self.log, lms.LINK_RECONNECT_SCHEDULED, link=settings.name, protocol=settings.protocol,
                host=settings.host, port=settings.port, delay="%.1f" % delay,
            )
            return delay

        service = ClientService(
            _AnnouncingEndpoint(endpoint, settings, self.log), factory,
            retryPolicy=policy, clock=self.clock,
        )
        service.setName(settings.name)
        service.setServiceParent(self)
        return service

    def retry_delay(self, failed_attempts: int) -> float:
        """link-recovery-tout, doubling per failed attempt up to the cap, plus jitter."""
        delay = self.recovery_delay * 2.0 ** max(0, failed_attempts - 1)
        return min(delay, self.max_recovery_delay) + self.jitter()

    @property
    def total_links(self) -> int:
        return len(self._settings)

    @property
    def configured_links(self) -> tuple[LinkSettings, ...]:
        """The settings of every link added, in order."""
        return tuple(self._settings)

    @property
    def up_links(self) -> list:
        return list(self._up)

    @property
    def is_up(self) -> bool:
        return bool(self._up)

    def when_ready(self) -> defer.Deferred:
        """A new Deferred that fires when at least one link is up."""
        if self._up:
            return defer.succeed(self)

        def cancel(d):
            if d in self._ready_waiters:
                self._ready_waiters.remove(d)

        d = defer.Deferred(cancel)
        self._ready_waiters.append(d)
        return d

    def stopService(self):
        waiters, self._ready_waiters = self._ready_waiters, []
        for d in waiters:
            d.errback(NoLinkAvailable("startup"))
        return super().stopService()

    # -- IBroadWorksLink ----------------------------------------------------

    def request(self, cti_request, affinity=None):
        link = None
        if affinity is not None:
            # the link that carries this subscription's events: there the
            # response and the event it causes keep their order
            link = self._affinity.get(affinity)
            if link is not None and not link.is_up:
                link = None
        if link is None:
            link = self._choose_link()
        if link is None:
            return defer.fail(NoLinkAvailable(cti_request.name))
        return link.request(cti_request)

    def forget_subscription(self, subscription_id):
        """A subscription is gone: drop what the set remembers of it (its
        sequence number, its link), so short-lived ones do not pile up."""
        self.ordering.forget(subscription_id)
        self._affinity.pop(subscription_id, None)

    def _choose_link(self):
        if not self._up:
            return None
        best = min(link.settings.priority for link in self._up)
        candidates = [link for link in self._up if link.settings.priority == best]
        self._round_robin += 1
        return candidates[self._round_robin % len(candidates)]

    # -- ILinkListener -----------------------------------------------------

    def _channel_set_name(self):
        return self._settings[0].channel_set_id if self._settings else "?"

    def link_ready(self, link):
        name = link.settings.name
        recovered = name in self._ever_up
        self._ever_up.add(name)
        was_down = not self._up
        if link not in self._up:
            self._up.append(link)
        if recovered:
            lost_at = self._lost_at.pop(name, self.clock.seconds())
            lms.emit(
                self.log, lms.LINK_RECOVERED, link=name, protocol=link.settings.protocol,
                host=link.settings.host, port=link.settings.port,
                downtime="%.1f" % (self.clock.seconds() - lost_at),
            )
        else:
            lms.emit(self.log, lms.LINK_CONNECTED, link=name, protocol=link.settings.protocol,
                     host=link.settings.host, port=link.settings.port)
        if was_down and recovered:
            lms.emit(self.log, lms.CHANNEL_SET_RESTORED, channel_set=self._channel_set_name(), link=name)
        self.sink.broadworks_link_state(len(self._up), self.total_links)
        if recovered:
            # events may have been missed on the way down: the sink repairs
            self.sink.broadworks_link_recovered(name)
        waiters, self._ready_waiters = self._ready_waiters, []
        for d in waiters:
            d.callback(self)

    def link_lost(self, link, reason):
        self._link_down(link, reason.getErrorMessage() if reason is not None else "closed")

    def _link_down(self, link, why):
        if link not in self._up:
            return
        self._up.remove(link)
        name = link.settings.name
        self._lost_at[name] = self.clock.seconds()
        if self.running:  # a link closed by our own stop is no news
            lms.emit(
                self.log, lms.LINK_LOST, link=name, protocol=link.settings.protocol,
                host=link.settings.host, port=link.settings.port, reason=why,
            )
        if not self._up and self.running:
            lms.emit(self.log, lms.ALL_LINKS_DOWN, channel_set=self._channel_set_name())
        self.sink.broadworks_link_state(len(self._up), self.total_links)

    def event_received(self, link, event):
        self._affinity[event.subscription_id] = link
        self.sink.broadworks_event(event)

    def sequence_gap(self, link, gap):
        # the sink logs it (37207), once, with the user it concerns
        self.sink.broadworks_sequence_gap(gap)

    def channel_terminated(self, link, event):
        self._link_down(link, "channel terminated (%s)" % event.reason)
