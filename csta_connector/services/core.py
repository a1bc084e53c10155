# -*- test-case-name: tests.integration.test_csta_end_to_end -*-
"""The services: where the BroadWorks side and the CSTA side meet.

The event path (docs/architecture.md) is one function, :meth:`broadworks_event`:
count it -> ``subscriptions.route`` (which user, which requesters) ->
``model.apply`` -> ``translate`` -> ``monitors.deliver`` -> the CSTA
sessions; each step returns to it, none calls back up. CallSubscriptionEvents
take the synchronization branch (SPEC §6): ``synchronize`` -> translate ->
every monitor of the device except the snapshot's requesters, one LMS 37205
line per party cleared, then ``subscriptions.answer`` gives the requesters
their snapshot. The proactive resync (``services/resync.py``, SPEC §6.1) is
told each synchronization and each call-control request refused because
BroadWorks does not know the call; it refreshes the rest after a failover.

Requests come the other way: the CSTA server calls :meth:`handle`, which
serves monitoring here and hands call control to :class:`CallControl`.

The contact centre's devices (ACD queues, agents, route points; SPEC §10)
are served by :class:`~csta_connector.services.contact_centre.ContactCentre`
(and its :class:`~csta_connector.services.route_points.RoutePoints`) through
a few hooks here: the events of its subscriptions, the monitors and
snapshots of ACD and routeing devices, an agent monitor's second
subscription, the agent services, the routeing dialogue and treatments, and
call control on a queued or held connection.
"""

from __future__ import annotations

from twisted.internet import defer
from twisted.logger import Logger
from zope.interface import implementer

from csta_connector import lms
from csta_connector.broadworks.errors import BroadWorksRequestError
from csta_connector.csta import messages as m
from csta_connector.csta.server import CLOSED, CSTARequestError
from csta_connector.interfaces import ICSTAServices, IEventSink
from csta_connector.model.calls import CallModel
from csta_connector.model.sync import synchronize
from csta_connector.services import translate
from csta_connector.services.callcontrol import CallControl, broadworks_error_to_csta, snapshot_error_to_csta
from csta_connector.services.contact_centre import ContactCentre
from csta_connector.services.counts import EventCounts
from csta_connector.services.devices import DeviceKind, DeviceTypes
from csta_connector.services.fanout import PLACEHOLDER, MonitorRegistry
from csta_connector.services.resync import ProactiveResync, UserCalls
from csta_connector.services.route_points import SERVICES as ROUTE_POINT_SERVICES
from csta_connector.services.subscriptions import SubscriptionManager
from csta_connector.status import SystemStatus


def local_part(user_or_device: str) -> str:
    return user_or_device.partition("@")[0]


@implementer(ICSTAServices, IEventSink)
class ConnectorCore:
    log = Logger()

    def __init__(self, client, clock, snapshot_timeout=5.0, renew_interval=1800.0,
                 renew_jitter=600.0, resync_concurrency=10, *, status=None, counts=None,
                 detail=lms.EVERY_LEVEL, snapshot_requester_events=False, devices=None,
                 agent_login_state="Unavailable", proactive_resync=True,
                 proactive_resync_rate=200, proactive_resync_holdoff=30.0, routeing=None):
        """``status``: the :class:`SystemStatus` the CSTA listener shows, set
        here from the link state; ``counts``: the :class:`EventCounts` of the
        event path (BroadWorks events in are counted here, CSTA events out by
        the fan-out); ``detail``: what the log outputs write (the per-event
        Interaction lines are built only when some output writes them);
        ``snapshot_requester_events`` (``[csta]``): the requesters of a
        synchronized CallSubscriptionEvent get its events too, after their
        response (docs/failover.md); ``devices``: the :class:`DeviceTypes` (by
        default every device is a user and no agent); ``agent_login_state``:
        what SetAgentState loggedOn asks for; ``proactive_resync``: whether a
        sign of an AS failover refreshes every user (and queue) holding calls
        (``proactive_resync_rate`` per second at most, ``resync_concurrency``
        at once, one wave per ``proactive_resync_holdoff`` seconds); False:
        only BroadWorks' own events and the clients' snapshots clear stuck
        calls; ``routeing``: the route points' ``RouteingSettings``."""
        self.client = client
        self.clock = clock
        self.status = status if status is not None else SystemStatus()
        self.counts = counts if counts is not None else EventCounts()
        self.detail = detail
        self.snapshot_requester_events = snapshot_requester_events
        self.model = CallModel(local_part)
        self.monitors = MonitorRegistry(
            counts=self.counts,
            on_sent=self._events_sent if detail.wants(lms.CSTA_EVENT_SENT) else None,
        )
        # one bound on the refreshes of a resynchronization, for every package
        semaphore = defer.DeferredSemaphore(max(1, resync_concurrency))
        self.subscriptions = SubscriptionManager(
            client,
            clock,
            snapshot_timeout=snapshot_timeout,
            renew_interval=renew_interval,
            renew_jitter=renew_jitter,
            semaphore=semaphore,
            replay=self._route_event,
        )
        #: the users' subscriptions, as the proactive resync refreshes them
        self.user_calls = UserCalls(self.model, self.subscriptions, local_part)
        self.resync = None
        if proactive_resync:
            self.resync = ProactiveResync(
                clock, rate=proactive_resync_rate, holdoff=proactive_resync_holdoff,
                concurrency=resync_concurrency, targets=(self.user_calls,), detail=detail,
            )
        self.devices = devices if devices is not None else DeviceTypes()
        # its queues and agents join the resync wave
        self.contact_centre = ContactCentre(
            client, clock, self.monitors, self.model, self.user_of, self.devices,
            snapshot_timeout=snapshot_timeout, renew_interval=renew_interval, renew_jitter=renew_jitter,
            semaphore=semaphore, login_state=agent_login_state, detail=detail, device_of=local_part,
            resync=self.resync, routeing=routeing,
        )
        self.route_points = self.contact_centre.route_points
        self.callcontrol = CallControl(
            client, self.model, self.user_of, local_part,
            call_unknown=self._call_unknown if self.resync is not None else None,
        )
        self.expectations = self.callcontrol.expectations
        self._stopped = False
        #: what synchronization found (metrics, benchmarks)
        self.stats = {"parties_cleared": 0, "synchronizations": 0}

    def _events_sent(self, monitor, events):
        for event in events:
            connection = m.event_connection(event)
            lms.emit(
                self.log, lms.CSTA_EVENT_SENT, client=getattr(monitor.session, "name", "?"),
                event=type(event).__name__, device=monitor.device,
                call_id=connection.call_id if connection is not None else "-",
                cross_ref_id=monitor.cross_ref_id,
            )

    def user_of(self, device: str) -> str:
        return self.client.user_id(device)

    # -- IEventSink (the channel set) ------------------------------------------

    def broadworks_event(self, event):
        """The event path: count, route, then the model and the monitors."""
        self.counts.received[event.event_type] += 1
        self._route_event(event)

    def _route_event(self, event):
        """The event path after the count (also the way of an event the
        subscription manager held until its subscriptionId was known)."""
        route = self.subscriptions.route(event)
        if route is None:
            if not self.contact_centre.broadworks_event(event) and not self.subscriptions.held(event):
                self._ignored(event)
            return
        user_id = route.user_id
        if self.detail.wants(lms.BROADWORKS_EVENT_RECEIVED):
            lms.emit(
                self.log, lms.BROADWORKS_EVENT_RECEIVED, event_type=event.event_type,
                user=user_id, subscription_id=event.subscription_id, sequence=event.sequence_number,
            )
        device = local_part(user_id)
        if event.is_snapshot:
            cleared, events = self._synchronize(device, user_id, event, route.requesters)
            if self.resync is not None:
                self.resync.synchronized(
                    self.user_calls, user_id, event.event_type, route.solicited, cleared
                )
            self.subscriptions.answer(route, event)  # the requesters' responses are written
            if events and route.requesters and self.snapshot_requester_events:
                self._tell_requesters(device, events, route.requesters)
            return
        # a SubscriptionTerminatedEvent, hook status and conference updates
        # change nothing in the model: no changes, nothing sent
        changes = self.model.apply(event, device, self.expectations)
        if changes:
            if self.monitors.is_monitored(device):
                self.monitors.deliver(device, translate.translate_all(changes, PLACEHOLDER))
            if self.contact_centre.is_agent(device):
                self.contact_centre.calls_changed(device, changes)

    def _ignored(self, event):
        """An event of no subscription of ours: one line per subscription."""
        why = self.subscriptions.ignored(event)
        if why == "unknown":
            lms.emit(self.log, lms.EVENT_FOR_UNKNOWN_SUBSCRIPTION, event_type=event.event_type,
                     subscription_id=event.subscription_id)
        elif why is not None:
            lms.emit(self.log, lms.EVENT_FOR_REMOVED_SUBSCRIPTION, event_type=event.event_type,
                     subscription_id=event.subscription_id,
                     reason="removed by the connector" if why == "removed" else "it has ended")

    def broadworks_sequence_gap(self, gap):
        manager = self.subscriptions
        user = manager.user_of_subscription(gap.subscription_id)
        if user is None:
            manager, user = self.contact_centre.subscription_user(gap.subscription_id) or (None, None)
        if user is None:
            return  # not ours: the event itself says so (37215, 37216)
        lms.emit(
            self.log, lms.SEQUENCE_GAP, subscription_id=gap.subscription_id, user=user,
            expected=gap.expected, received=gap.received,
        )
        manager.refresh_all([user], cause="sequence gap")

    def broadworks_link_state(self, up_links, total_links):
        if not self._stopped:  # links closed by our own stop are no news for clients
            self.status.links_changed(up_links)

    def broadworks_link_recovered(self, link_name):
        # events may have been lost with the link: repair by refreshing every
        # subscription and synchronizing on the CallSubscriptionEvents (SPEC §6)
        self.subscriptions.refresh_all(cause="link %s recovered" % link_name)
        self.contact_centre.refresh_all(cause="link %s recovered" % link_name)
        self.route_points.links_recovered()  # the application controller's state again

    def _synchronize(self, device, user_id, event, requesters) -> tuple[int, list]:
        """A CallSubscriptionEvent: the model made to match it; every monitor
        but the snapshot's requesters told what changed (SPEC §6). Returns
        how many parties it cleared, and the events told."""
        result = synchronize(self.model, device, event)
        self.expectations.forget_parties(party for party, _ in result.cleared)
        self.stats["synchronizations"] += 1
        for party, _ in result.cleared:
            self.stats["parties_cleared"] += 1
            lms.emit(
                self.log, lms.CALL_PARTY_NOT_SYNCHRONIZED,
                device=device, call_id=party.call_id, party=party.party_id,
            )
        for party in result.added:
            lms.emit(
                self.log, lms.CALL_PARTY_ADDED, device=device, call_id=party.call_id,
                party=party.party_id, state=party.state,
            )
        for old, new in result.corrected:
            lms.emit(
                self.log, lms.CALL_PARTY_CORRECTED, device=device, call_id=new.call_id,
                party=new.party_id, old_state=old.state, new_state=new.state,
            )
        if result.changes:
            lms.emit(
                self.log, lms.SYNCHRONIZATION_SUMMARY, user=user_id, event_type=event.event_type,
                cleared=len(result.cleared), added=len(result.added),
                corrected=len(result.corrected),
            )
            events = translate.translate_all(result.changes, PLACEHOLDER)
            self.monitors.deliver(device, events, exclude=requesters)
            if self.contact_centre.is_agent(device):
                # a stuck call center's call cleared: the agent's state is read again
                self.contact_centre.calls_changed(device, result.changes)
            return len(result.cleared), events
        return 0, []

    def _call_unknown(self, party, request_name):
        # call control's sign of an AS failover: that user is refreshed at once
        self.resync.call_unknown(
            self.user_calls, self.user_of(party.device), request_name, party.call_id
        )

    def _tell_requesters(self, device, events, requesters):
        """``[csta] snapshot-requester-events``: the requesters' monitors of
        ``device`` get the synchronization's events as well, now that their
        response went out (a client that keeps its state from events alone
        learns of a stuck party from its ConnectionCleared)."""
        others = {monitor.session for monitor in self.monitors.of_device(device)}
        others.difference_update(requesters)
        self.monitors.deliver(device, events, exclude=others)

    # -- ICSTAServices ----------------------------------------------------------

    def session_opened(self, session):
        pass

    def session_closed(self, session):
        for monitor in self.monitors.remove_session(session):
            self._monitor_gone(monitor)
        self.route_points.session_closed(session)  # its routeing registrations

    def _monitor_gone(self, monitor):
        device, user = monitor.device, monitor.user_id
        kind = self.devices.kind_of(device)
        if kind is DeviceKind.ACD:
            released = self.contact_centre.queue_monitor_gone(device, user)
        elif kind is DeviceKind.ROUTE_POINT:
            released = self.route_points.monitor_gone(device, user)
        else:
            if not self.monitors.is_monitored(device):
                self.expectations.forget_parties(self.model.remove_device(device))
            released = self.subscriptions.release(user)
            if self.devices.may_be_agent(device):
                self.contact_centre.agent_monitor_gone(device, user).addErrback(
                    self._release_failed, user
                )
        released.addErrback(self._release_failed, user)

    def _release_failed(self, failure, user):
        lms.emit(
            self.log, lms.UNEXPECTED_ERROR, failure=failure,
            what="releasing the subscription of %s" % user, error=failure.getErrorMessage(),
        )

    def handle(self, session, request):
        name = type(request).__name__
        handler = getattr(self, "csta_" + name, None)
        if handler is not None:
            return handler(session, request)
        service = getattr(self.callcontrol, name, None)
        if service is not None:
            queued = self.contact_centre.queued_connection_service(request)
            return queued if queued is not None else service(request)
        service = getattr(self.contact_centre, name, None) if name in _CONTACT_CENTRE_SERVICES else None
        if service is not None:
            return service(request)
        if name in ROUTE_POINT_SERVICES:
            return self.route_points.handle(session, request)
        raise CSTARequestError("operation", "serviceNotSupported", "%s not supported" % name)

    def csta_MonitorStart(self, session, request: m.MonitorStart):
        device = local_part(request.device)
        if not device:
            raise CSTARequestError("operation", "invalidDeviceID", "empty device")
        user = self.user_of(request.device)
        kind = self.devices.kind_of(request.device)
        if kind is DeviceKind.ACD:
            manager = self.contact_centre.queues
            d = self.contact_centre.monitor_queue(user, session)
        elif kind is DeviceKind.ROUTE_POINT:
            manager = self.route_points.manager
            d = self.route_points.monitor(user, session)
        else:
            manager = self.subscriptions
            d = self.subscriptions.acquire(user, requester=session)

        def subscribed(_):
            if session.state == CLOSED:
                manager.release(user)
                raise CSTARequestError("operation", "generic", "client gone")
            monitor = self.monitors.add(session, device, user)
            if manager is self.subscriptions and self.devices.may_be_agent(request.device):
                self.contact_centre.agent_monitored(device, user, session)
            lms.emit(
                self.log, lms.MONITOR_STARTED, client=session.name,
                cross_ref_id=monitor.cross_ref_id, device=device,
            )
            return m.MonitorStartResponse(cross_ref_id=monitor.cross_ref_id)

        def refused(failure):
            if failure.check(BroadWorksRequestError) and failure.value.status_code == 404:
                raise CSTARequestError("operation", "invalidDeviceID", "unknown device %s" % request.device)
            return broadworks_error_to_csta(failure, "device")

        return d.addCallbacks(subscribed, refused)

    def csta_MonitorStop(self, session, request: m.MonitorStop):
        monitor = self.monitors.remove(session, request.cross_ref_id)
        if monitor is None:
            raise CSTARequestError(
                "operation", "invalidMonitorCrossRefID", "no monitor %s" % request.cross_ref_id
            )
        lms.emit(
            self.log, lms.MONITOR_STOPPED, client=session.name,
            cross_ref_id=monitor.cross_ref_id, device=monitor.device,
        )
        self._monitor_gone(monitor)
        return m.MonitorStopResponse()

    def csta_SnapshotDevice(self, session, request: m.SnapshotDevice):
        device = local_part(request.device)
        kind = self.devices.kind_of(request.device)
        if kind is DeviceKind.ACD:
            return self.contact_centre.snapshot_queue(session, request)
        if kind is DeviceKind.ROUTE_POINT:
            return self.route_points.snapshot(session, request)
        user = self.user_of(request.device)
        d = self.subscriptions.snapshot(user, requester=session)
        if self.devices.may_be_agent(request.device):
            self.contact_centre.refresh_agent(user)

        def answered(event):
            return translate.snapshot_response(event, device)

        return d.addCallbacks(answered, snapshot_error_to_csta, errbackArgs=(device,))

    def csta_GenerateDigits(self, session, request: m.GenerateDigits):
        # BroadWorks reports no DTMF event: the monitors learn it from here
        d = self.callcontrol.GenerateDigits(request)

        def sent(response):
            connection = request.connection_to_send_digits
            device = local_part(connection.device_id)
            event = translate.digits_generated(
                connection.call_id, device, request.char_to_send, PLACEHOLDER
            )
            self.monitors.deliver(device, [event])
            return response

        return d.addCallback(sent)

    def stop(self):
        """No more timers, waiters or system status changes (the connector stops)."""
        self._stopped = True
        if self.resync is not None:
            self.resync.stop()
        self.subscriptions.stop()
        self.contact_centre.stop()


#: the CSTA services the contact centre serves (SPEC §10.4)
_CONTACT_CENTRE_SERVICES = frozenset({"SetAgentState", "GetAgentState"})
