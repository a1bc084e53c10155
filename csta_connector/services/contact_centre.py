# -*- test-case-name: tests.unit.test_contact_centre -*-
"""The contact centre's services: ACD queues and agents (SPEC §10, issue 14).

The core (``services/core.py``) serves users; this module serves what a
contact centre adds, through a few hooks of the core:

* **Subscriptions**, one :class:`SubscriptionManager` per event package
  (:data:`PACKAGES`): an ACD device's monitor holds a ``Call Center Queue``
  subscription; an agent's monitor holds, beside the core's ``Advanced Call``
  one, a ``Call Center Agent`` subscription (one monitor, two
  subscriptions, each reference counted, renewed and refreshed). A refused
  agent subscription leaves the monitor standing; agent services on that
  device then fail (LMS 37250).
* **Events**: :meth:`ContactCentre.broadworks_event` takes the events of
  those subscriptions (the core's ``broadworks_event`` hands over whatever
  its own manager does not know): queue events -> ``model/queues.py`` ->
  ``translate_contact_centre.py`` -> the fan-out; agent events the same
  through ``model/agents.py``. A package's subscription events
  (ACDSubscriptionEvent and its Resync variant, AgentSubscriptionEvent)
  synchronize the model (SPEC §10.5): a stuck queued call is cleared (LMS
  37205), an agent's changed state reported (LMS 37251).
* **Services**: SetAgentState, GetAgentState (from the model while the
  agent subscription is live), SnapshotDevice on an ACD device (from the
  ACDSubscriptionEvent its UpdateSubscriptionRequest causes), ClearConnection
  / DeflectCall / SingleStepTransferCall on a queued connection
  (ACDReleaseCallRequest / ACDBlindTransferRequest).
* **Busy agents**: an agent answering a call a call center delivered is
  AgentBusy (:meth:`ContactCentre.calls_changed`, from the core's call
  changes); when that call ends its state is read again.

Route points (issue 15) plug in the same way: a package, a manager, a model
and a branch of :meth:`ContactCentre.broadworks_event`, in
``services/route_points.py`` (:class:`RoutePoints`, with the routeing
dialogue and the treatments), which shares the queues' synchronization.
"""

from __future__ import annotations

from twisted.internet import defer
from twisted.logger import Logger
from zope.interface import implementer

from csta_connector import lms
from csta_connector.broadworks import xsi_contact_centre as cc
from csta_connector.broadworks.errors import BroadWorksRequestError
from csta_connector.csta import messages as m
from csta_connector.csta.server import CSTARequestError
from csta_connector.interfaces import IResyncTarget
from csta_connector.model.agents import AgentJoined, AgentModel
from csta_connector.model.calls import (
    CONNECTED,
    DISTRIBUTED,
    DeviceTransferred,
    PartyAdded,
    PartyChanged,
    PartyDiverted,
    PartyRemoved,
    user_local_part,
)
from csta_connector.model.queues import QueueModel
from csta_connector.services import translate_contact_centre as translate
from csta_connector.services.callcontrol import HeldCallDestinations, broadworks_error_to_csta, snapshot_error_to_csta
from csta_connector.services.devices import DeviceKind, DeviceTypes
from csta_connector.services.fanout import PLACEHOLDER
from csta_connector.services.resync import HeldCalls
from csta_connector.services.route_points import RoutePoints, RouteingSettings
from csta_connector.services.subscriptions import EventPackage, SubscriptionManager, SubscriptionState

CALL_CENTER_QUEUE_PACKAGE = EventPackage(
    cc.CALL_CENTER_QUEUE,
    frozenset({"ACDSubscriptionEvent"}),
    # the Resync variant synchronizes like the solicited event but answers
    # no request (SPEC §10.5: it is never relied on)
    frozenset({"ACDSubscriptionEvent", "ACDSubscriptionResyncEvent"}),
)
CALL_CENTER_AGENT_PACKAGE = EventPackage(
    cc.CALL_CENTER_AGENT,
    frozenset({"AgentSubscriptionEvent"}),
    frozenset({"AgentSubscriptionEvent"}),
    refused=lms.AGENT_SUBSCRIPTION_REFUSED,
)
#: every package the contact centre subscribes (route points add theirs)
PACKAGES = (CALL_CENTER_QUEUE_PACKAGE, CALL_CENTER_AGENT_PACKAGE)

#: CSTA SetAgentState requestedAgentState -> XSIDataTypes AgentState sent
#: (loggedOn: ``[contact-centre] agent-login-state``)
REQUESTED_STATES = {
    "loggedOff": "Sign-Out",
    "notReady": "Unavailable",
    "ready": "Available",
    "workingAfterCall": "Wrap-Up",
}

class ContactCentre:
    log = Logger()

    def __init__(
        self,
        client,
        clock,
        monitors,
        calls,
        user_of,
        devices: DeviceTypes | None = None,
        *,
        snapshot_timeout=5.0,
        renew_interval=1800.0,
        renew_jitter=600.0,
        semaphore=None,
        login_state="Unavailable",
        detail=lms.EVERY_LEVEL,
        device_of=user_local_part,
        resync=None,
        routeing: RouteingSettings | None = None,
    ):
        """``monitors``: the core's :class:`MonitorRegistry`; ``calls``: its
        :class:`CallModel` (a queue's cleared connection is the call's last
        only when no user's party is left); ``user_of(device)``: the
        BroadWorks id of a device; ``resync``: the proactive failover
        resync (or None), which the queues and agents join and are told
        of every synchronization; ``routeing``: the route points' settings
        (``[contact-centre]`` routeing options, ``app-controller``)."""
        self.client = client
        self.monitors = monitors
        self.user_of = user_of
        self.device_of = device_of
        self.devices = devices if devices is not None else DeviceTypes()
        self.login_state = login_state
        self.detail = detail

        def manager(package, **options):
            return SubscriptionManager(
                client, clock, snapshot_timeout=snapshot_timeout, renew_interval=renew_interval,
                renew_jitter=renew_jitter, package=package, semaphore=semaphore, **options,
            )

        self.queues = manager(CALL_CENTER_QUEUE_PACKAGE)
        self.agent_subscriptions = manager(CALL_CENTER_AGENT_PACKAGE)
        self.queue_model = QueueModel(device_of, call_known=lambda call_id: bool(calls.call(call_id)))
        self.agent_model = AgentModel(device_of)
        #: entry id -> the destination a client asked to send the queued call to
        self._destinations = HeldCallDestinations()
        #: agent devices (monitored) whose Call Center Agent subscription BroadWorks refused
        self._not_agents: set[str] = set()
        #: what synchronization found (metrics, benchmarks)
        self.stats = {"parties_cleared": 0, "synchronizations": 0, "agents_corrected": 0}
        self.resync = resync
        #: route points (issue 15): their package, model, dialogues and services
        self.route_points = RoutePoints(
            client, clock, monitors, manager, user_of, device_of, self.devices, self._synchronize_entries,
            routeing, call_known=lambda call_id: bool(calls.call(call_id)), detail=detail, resync=resync,
        )
        # the peer AS sends nothing for queues: each one holding calls is refreshed
        self.queue_target = HeldCalls("queue", self.queues, self.queue_holds_parties, device_of)
        self.agent_target = AgentStates(self)
        if resync is not None:
            resync.join(self.queue_target)
            resync.join(self.route_points.target)
            resync.join(self.agent_target)

    @property
    def managers(self) -> tuple[SubscriptionManager, ...]:
        return (self.queues, self.route_points.manager, self.agent_subscriptions)

    # -- events (the core hands over what its own manager does not know) ---------

    def broadworks_event(self, event) -> bool:
        """Route and apply one event of a contact-centre subscription; False
        when no manager here knows its subscription."""
        route = self.queues.route(event)
        if route is not None:
            self._received(route, event)
            self._queue_event(route, event)
            return True
        route = self.agent_subscriptions.route(event)
        if route is not None:
            self._received(route, event)
            self._agent_event(route, event)
            return True
        route = self.route_points.manager.route(event)
        if route is not None:
            self._received(route, event)
            self.route_points.event(route, event)
            return True
        return False

    def _received(self, route, event):
        if self.detail.wants(lms.BROADWORKS_EVENT_RECEIVED):
            lms.emit(
                self.log, lms.BROADWORKS_EVENT_RECEIVED, event_type=event.event_type,
                user=route.user_id, subscription_id=event.subscription_id, sequence=event.sequence_number,
            )

    def _queue_event(self, route, event):
        device = self.device_of(route.user_id)
        if event.event_type in CALL_CENTER_QUEUE_PACKAGE.snapshots:
            result = self._synchronize_entries(self.queue_model, device, route.user_id, event, route.requesters)
            if self.resync is not None:
                self.resync.synchronized(
                    self.queue_target, route.user_id, event.event_type, route.solicited, len(result.cleared)
                )
            self.queues.answer(route, event)
            return
        changes = self.queue_model.apply(event, device, self._destinations)
        if changes and self.monitors.is_monitored(device):
            self.monitors.deliver(device, translate.translate_all(changes, PLACEHOLDER))

    def _synchronize_entries(self, model, device, user_id, event, requesters):
        """The queue (or route point: ``model``) made to match its
        subscription event; every monitor but a snapshot's requesters told
        what changed. Returns the model's sync result."""
        result = model.synchronize(device, event)
        self.stats["synchronizations"] += 1
        for connection, _ in result.cleared:
            self.stats["parties_cleared"] += 1
            lms.emit(
                self.log, lms.CALL_PARTY_NOT_SYNCHRONIZED,
                device=device, call_id=connection.call_id, party=connection.entry_id,
            )
        for connection in result.added:
            lms.emit(
                self.log, lms.CALL_PARTY_ADDED, device=device, call_id=connection.call_id,
                party=connection.entry_id, state="queued",
            )
        if result.changes:
            lms.emit(
                self.log, lms.SYNCHRONIZATION_SUMMARY, user=user_id, event_type=event.event_type,
                cleared=len(result.cleared), added=len(result.added), corrected=0,
            )
            self.monitors.deliver(device, translate.translate_all(result.changes, PLACEHOLDER), exclude=requesters)
        return result

    def _agent_event(self, route, event):
        device = self.device_of(route.user_id)
        if event.event_type == "AgentSubscriptionEvent":
            result = self.agent_model.synchronize(device, route.user_id, event)
            self._not_agents.discard(device)
            if result.corrected:
                self.stats["agents_corrected"] += 1
                old, new = result.old, result.new
                lms.emit(
                    self.log, lms.AGENT_CORRECTED, device=device, event_type=event.event_type,
                    old_state=old.state, new_state=new.state,
                    joined=",".join(sorted(set(new.joined) - set(old.joined))) or "-",
                    left=",".join(sorted(set(old.joined) - set(new.joined))) or "-",
                )
            self._deliver_agent_changes(device, result.changes, exclude=route.requesters)
            if self.resync is not None:
                self.resync.synchronized(self.agent_target, route.user_id, event.event_type, route.solicited, 0)
            self.agent_subscriptions.answer(route, event)
            return
        if event.event_data is None:
            return  # SubscriptionTerminatedEvent: the manager subscribes again
        self._deliver_agent_changes(device, self.agent_model.apply(event, device, route.user_id))

    def _deliver_agent_changes(self, device, changes, exclude=()):
        for change in changes:
            events = translate.translate(change, PLACEHOLDER)
            self.monitors.deliver(device, events, exclude=exclude)
            if type(change) is AgentJoined:
                # a queue's monitors see its agents come and go
                self.monitors.deliver(change.queue, events, exclude=exclude)

    # -- the agent's calls (the core's hook after its call model changed) ------

    def is_agent(self, device: str) -> bool:
        """Whether the agent state of a monitored device is known (then the
        core tells :meth:`calls_changed` what its calls did)."""
        return device in self.agent_model

    def calls_changed(self, device: str, changes) -> None:
        """An agent's Advanced Call changes: answering a call a call center
        or route point delivered makes it busy; the end of that call has its
        state read again."""
        for change in changes:
            kind = type(change)
            if kind is PartyAdded or kind is PartyChanged:
                party = change.party
                if (
                    party.state == CONNECTED
                    and party.redirection_cause == DISTRIBUTED
                    and (kind is PartyAdded or change.old.state != CONNECTED)
                ):
                    busy = self.agent_model.call_answered(device, party.call_id, change.event_type)
                    self._deliver_agent_changes(device, busy)
            elif kind is PartyRemoved or (kind is PartyDiverted and change.removed):
                self._call_ended(device, change.party.call_id)
            elif kind is DeviceTransferred:
                self._call_ended(device, change.held.call_id)
                self._call_ended(device, change.active.call_id)

    def _call_ended(self, device, call_id):
        agent = self.agent_model.call_ended(device, call_id)
        if agent is None:
            return
        d = self.client.get_agent_state(agent.agent_id)

        def read(settings):
            state = settings.agent_acd_state or agent.state
            lms.emit(self.log, lms.AGENT_STATE_REREAD, device=device, call_id=call_id, state=state)
            changes = self.agent_model.state_read(
                device, state, settings.agent_unavailable_code, "GetAgentStateRequest"
            )
            self._deliver_agent_changes(device, changes)

        def failed(failure):
            lms.emit(self.log, lms.AGENT_STATE_READ_FAILED, device=device, error=failure.getErrorMessage())

        d.addCallbacks(read, failed)

    # -- monitors (the core's MonitorStart / MonitorStop) ------------------------

    def monitor_queue(self, user_id, requester) -> defer.Deferred:
        """The Call Center Queue subscription of a new ACD device monitor."""
        return self.queues.acquire(user_id, requester=requester)

    def queue_monitor_gone(self, device, user_id) -> defer.Deferred:
        if not self.monitors.is_monitored(device):
            for connection in self.queue_model.remove_device(device):
                self._destinations.pop(connection.entry_id, None)
        return self.queues.release(user_id)

    def agent_monitored(self, device, user_id, requester) -> None:
        """A monitor of a user that may be an agent was added: the device's
        first one subscribes Call Center Agent (one subscription per device,
        held while it is monitored; the monitor stands whatever BroadWorks
        answers)."""
        if len(self.monitors.of_device(device)) != 1:
            return

        def refused(failure):
            if failure.check(BroadWorksRequestError) and self.monitors.is_monitored(device):
                self._not_agents.add(device)
            # the manager logged it (37250); agent services now refuse the device

        self.agent_subscriptions.acquire(user_id, requester=requester).addErrback(refused)

    def agent_monitor_gone(self, device, user_id) -> defer.Deferred:
        """A monitor of a user that may be an agent went: the device's last
        one releases its Call Center Agent subscription."""
        if self.monitors.is_monitored(device):
            return defer.succeed(None)
        self.agent_model.remove_device(device)
        self._not_agents.discard(device)
        return self.agent_subscriptions.release(user_id)

    def refresh_agent(self, user_id) -> None:
        """A SnapshotDevice of an agent refreshes its agent subscription too
        (its event is compared with the model; the response is the calls')."""
        if self.agent_subscriptions.subscription_of(user_id) is not None:
            self.agent_subscriptions.refresh(user_id).addErrback(
                lambda f: lms.emit(self.log, lms.REFRESH_FAILED, user=user_id, error=f.getErrorMessage())
            )

    # -- services ------------------------------------------------------------------

    def snapshot_queue(self, session, request: m.SnapshotDevice) -> defer.Deferred:
        """SnapshotDevice on an ACD device: UpdateSubscriptionRequest, answered
        from the ACDSubscriptionEvent it causes (never GetACDRequest)."""
        device = self.device_of(request.device)
        d = self.queues.snapshot(self.user_of(request.device), requester=session)

        def answered(event):
            if not self.monitors.is_monitored(device):
                # a temporary subscription's: nothing keeps these calls up to date
                self.queue_model.remove_device(device)
            return translate.queue_snapshot_response(event, device)

        return d.addCallbacks(answered, snapshot_error_to_csta, errbackArgs=(device,))

    def _agent_device(self, device_id: str, agent_id: str | None) -> tuple[str, str]:
        """(device, user id) of an agent service's device, or the CSTA error."""
        device = self.device_of(device_id)
        if not device:
            raise CSTARequestError("operation", "invalidDeviceID", "empty device")
        if self.devices.kind_of(device_id) is not DeviceKind.USER:
            raise CSTARequestError("operation", "requestIncompatibleWithObject", "%s is no user" % device_id)
        user = self.user_of(device_id)
        if device in self._not_agents:
            raise CSTARequestError(
                "operation", "requestIncompatibleWithObject",
                "%s is no agent (its Call Center Agent subscription was refused)" % device_id,
            )
        if agent_id and self.device_of(agent_id) != device and self.user_of(agent_id) != user:
            # another agent at this device is hot desking (not built)
            raise CSTARequestError("operation", "invalidAgentIdentifier", "agentID %s is not %s" % (agent_id, device_id))
        return device, user

    def SetAgentState(self, request: m.SetAgentState):
        device, user = self._agent_device(request.device, request.agent_id)
        requested = request.requested_agent_state
        state = self.login_state if requested == "loggedOn" else REQUESTED_STATES.get(requested)
        if state is None:
            raise CSTARequestError("operation", "invalidAgentState", "requestedAgentState %r" % (requested,))
        code = m.extension_value(request, m.EXT_UNAVAILABLE_CODE) if requested == "notReady" else None
        if code is not None and not 1 <= len(" ".join(code.split())) <= cc.MAX_UNAVAILABLE_CODE:
            # XSIDataTypes AgentUnavailableCode: BroadWorks must not get an invalid document
            raise CSTARequestError(
                "operation", "invalidParameterValue",
                "unavailableCode %r: 1 to %d characters" % (code, cc.MAX_UNAVAILABLE_CODE),
            )
        if request.group:
            agent = self.agent_model.agent(device)
            if agent is not None and self.device_of(request.group) not in agent.joined:
                raise CSTARequestError("operation", "invalidAgentGroup", "%s is no queue of %s" % (request.group, device))
        # no transition is refused here: BroadWorks judges (G §3.3)
        d = self.client.set_agent_state(user, state, code)
        d.addErrback(broadworks_error_to_csta, "device")
        return d.addCallback(lambda _: m.SetAgentStateResponse())

    def GetAgentState(self, request: m.GetAgentState):
        device, user = self._agent_device(request.device, None)
        group = self.device_of(request.acd_group) if request.acd_group else None
        agent = self.agent_model.agent(device)
        sub = self.agent_subscriptions.subscription_of(user)
        if agent is not None and sub is not None and sub.state is SubscriptionState.ACTIVE:
            return defer.succeed(self._agent_state_response(
                user, agent.state, agent.joined, agent.unavailable_code, agent.busy_call is not None, group,
            ))
        d = self.client.get_agent_state(user)
        d.addErrback(broadworks_error_to_csta, "device")

        def read(settings: cc.CallCenterSettings):
            queues = [
                details.extension or self.device_of(details.service_user_id)
                for details in settings.call_centers
                if details.available is not False
            ]
            return self._agent_state_response(
                user, settings.agent_acd_state or "Sign-Out", queues, settings.agent_unavailable_code,
                False, group,
            )

        return d.addCallback(read)

    @staticmethod
    def _agent_state_response(user, state, queues, code, busy, group):
        if group is not None and group not in queues:
            raise CSTARequestError("operation", "invalidAgentGroup", "%s is no queue of %s" % (group, user))
        return translate.agent_state_response(user, state, queues, code, busy, group)

    def queued_connection_service(self, request):
        """ClearConnection / DeflectCall / SingleStepTransferCall on a queued
        connection -> ACDReleaseCallRequest / ACDBlindTransferRequest; None
        when the request is not about a queue's connection."""
        kind = type(request)
        if kind is m.ClearConnection:
            connection = request.connection
        elif kind is m.DeflectCall:
            connection = request.call_to_be_diverted
        elif kind is m.SingleStepTransferCall:
            connection = request.active_call
        else:
            return None
        if connection is None or not connection.device_id:
            return None
        kind_of = self.devices.kind_of(connection.device_id)
        if kind_of is DeviceKind.ROUTE_POINT:
            return self.route_points.connection_service(request, connection)
        if kind_of is not DeviceKind.ACD:
            return None
        device = self.device_of(connection.device_id)
        queued = self.queue_model.connection(connection.call_id, device)
        if queued is None:
            raise CSTARequestError(
                "operation", "invalidConnectionID", "no queued call (%s, %s)" % (connection.call_id, device)
            )
        queue = self.user_of(connection.device_id)
        if kind is m.ClearConnection:
            d = self.client.acd_release_call(queue, queued.entry_id)
            d.addErrback(broadworks_error_to_csta)
            return d.addCallback(lambda _: m.ClearConnectionResponse())
        # the ACDCallTransferredEvent may overtake the answer: it reads with this
        return self._destinations.redirect(
            request, queued, lambda destination: self.client.acd_blind_transfer(queue, queued.entry_id, destination)
        )

    # -- resynchronization -----------------------------------------------------------

    def subscription_user(self, subscription_id) -> tuple[SubscriptionManager, str] | None:
        """(manager, user id) of a contact-centre subscription, else None."""
        for manager in self.managers:
            user = manager.user_of_subscription(subscription_id)
            if user is not None:
                return manager, user
        return None

    def refresh_all(self, cause="link recovered") -> None:
        for manager in self.managers:
            manager.refresh_all(cause=cause)

    def queue_holds_parties(self, user_id) -> bool:
        """Whether a subscribed queue holds calls (a resync wave after an AS
        failover refreshes those: the peer AS sends nothing for queues)."""
        return self.queue_model.waiting(self.device_of(user_id)) > 0

    def stop(self):
        self.route_points.stop()
        for manager in self.managers:
            manager.stop()

    # -- views (metrics, status) --------------------------------------------------------

    def calls_waiting(self) -> dict[str, int]:
        """Calls waiting in each subscribed queue, by queue device."""
        return {
            self.device_of(sub.user_id): self.queue_model.waiting(self.device_of(sub.user_id))
            for sub in self.queues.subscriptions
        }

    def agent_states(self) -> dict[str, int]:
        """Monitored agents by CSTA agent state (agentBusy while on a call
        center's call)."""
        counts: dict[str, int] = {}
        for agent in self.agent_model.agents():
            state = translate.csta_agent_state(agent.state, agent.busy_call is not None)
            counts[state] = counts.get(state, 0) + 1
        return counts


@implementer(IResyncTarget)
class AgentStates:
    """The agents' Call Center Agent subscriptions as a target of the wave:
    an agent's state is profile data and survives a failover, but it is read
    again (its AgentSubscriptionEvent is compared with the model); last in the
    wave, after the calls."""

    name = "agent"

    def __init__(self, contact_centre: ContactCentre):
        self.contact_centre = contact_centre

    def holding(self):
        for sub in self.contact_centre.agent_subscriptions.subscriptions:
            if sub.refs:
                yield sub.user_id, True

    def refresh(self, user_id):
        return self.contact_centre.agent_subscriptions.refresh(user_id)

    def device_of(self, user_id):
        return self.contact_centre.device_of(user_id)
