# -*- test-case-name: tests.unit.test_translate_contact_centre -*-
"""Queue and agent changes -> CSTA events (SPEC §10; reference/contact-centre.md
§10.3.1, §10.3.3). Pure.

Queue events (the connection is always (callID, queue device); calledDevice
the queue; lastRedirectionDevice whoever redirected the call to the queue,
else notKnown):

==========================  ====================================================
ACDCallAdded, sync added    Queued (queued; enteringDistribution); numberQueued,
                            callsInFront = position - 1
ACDCallOfferedToAgent       Delivered (queued; distributed); alertingDevice the
                            agent, else the queue
ACDCallBounced              Delivered (queued; alertTimeExpired), alerting the
                            queue; with a redirect: Diverted (redirected)
ACDCallAnsweredByAgent      Diverted (null; distributed) to the agent
ACDCallTransferred          Diverted (null; redirected)
ACDCallOverflowed           Diverted (null; capacityOverflow | queueTimeOverflow)
ACDCallForwarded            Diverted (null; callForwardImmediate)
Night/Holiday policy        Diverted (null; calendarOverflow)
ACDCallAbandoned / Escaped  ConnectionCleared (null; normalClearing), releasing
                            the caller; CallCleared when no other connection
                            of the call is known
ACDCallReleased             ConnectionCleared (normalClearing), releasing the
                            queue (+ CallCleared as above)
ACDCallStranded(Unavail.)   ConnectionCleared (noAvailableAgents)
ACDCallPromoted/Reordered,  CallInformation (device the queue)
ACDCallUpdated
ACDCallUpdated (Call        Transferred (queued; transfer)
Transferred)
*TreatmentCompleted         ConnectionCleared when the caller hung up
(remoteRelease)             (normalClearing) and the queue still held the call
sync cleared                ConnectionCleared (null; switchingFunctionTerminated)
                            + CallCleared as above
==========================  ====================================================

Agent states (XSIDataTypes AgentState -> the event that reports it):
Sign-In -> AgentNotReady, Available -> AgentReady, Unavailable ->
AgentNotReady (extension ``unavailableCode``), Wrap-Up ->
AgentWorkingAfterCall, Sign-Out -> AgentLoggedOff; from Sign-Out into any
other state AgentLoggedOn comes first. Joining a queue -> AgentLoggedOn with
acdGroup, leaving it -> AgentLoggedOff with acdGroup; answering a call a call
center delivered -> AgentBusy. The agentID is the agent's BroadWorks user id.
"""

from __future__ import annotations

from csta_connector.csta import messages as m
from csta_connector.model.agents import SIGN_OUT, Agent, AgentBusy, AgentJoined, AgentStateChanged
from csta_connector.model.queues import (
    NULL,
    QUEUED,
    TRANSFER,
    EntryCleared,
    EntryDiverted,
    EntryInformed,
    EntryOffered,
    EntryQueued,
    EntryTransferred,
    QueueConnection,
    waiting_entries,
)

ConnectionID = m.ConnectionID

#: XSIDataTypes AgentState -> ECMA-285 AgentState (GetAgentState)
CSTA_AGENT_STATES = {
    "Sign-In": "agentNotReady",
    "Available": "agentReady",
    "Unavailable": "agentNotReady",
    "Wrap-Up": "agentWorkingAfterCall",
    "Sign-Out": "agentNull",
}
BUSY = "agentBusy"


def _connection(c: QueueConnection) -> m.ConnectionID:
    return ConnectionID(call_id=c.call_id, device_id=c.device)


def _queued(change: EntryQueued, x: str) -> list:
    c = change.connection
    return [
        m.QueuedEvent(
            cross_ref_id=x,
            queued_connection=_connection(c),
            queue=c.device,
            calling_device=c.calling,
            called_device=c.device,
            last_redirection_device=c.last_redirection,
            number_queued=change.number_queued,
            calls_in_front=c.position - 1 if c.position else None,
            local_connection_info=QUEUED,
            cause=change.cause,
        )
    ]


def _offered(change: EntryOffered, x: str) -> list:
    c = change.connection
    return [
        m.DeliveredEvent(
            cross_ref_id=x,
            connection=_connection(c),
            alerting_device=change.alerting,
            calling_device=c.calling,
            called_device=c.device,
            last_redirection_device=c.last_redirection,
            local_connection_info=QUEUED,
            cause=change.cause,
        )
    ]


def _diverted(change: EntryDiverted, x: str) -> list:
    c = change.connection
    return [
        m.DivertedEvent(
            cross_ref_id=x,
            connection=_connection(c),
            diverting_device=c.device,
            new_destination=change.new_destination,
            calling_device=c.calling,
            called_device=c.device,
            last_redirection_device=c.last_redirection,
            local_connection_info=NULL,
            cause=change.cause,
        )
    ]


def _cleared(change: EntryCleared, x: str) -> list:
    c = change.connection
    events = [
        m.ConnectionClearedEvent(
            cross_ref_id=x,
            dropped_connection=_connection(c),
            releasing_device=change.releasing,
            local_connection_info=NULL,
            cause=change.cause,
        )
    ]
    if change.call_gone:
        events.append(
            m.CallClearedEvent(cross_ref_id=x, cleared_call=ConnectionID(call_id=c.call_id), cause=change.cause)
        )
    return events


def _informed(change: EntryInformed, x: str) -> list:
    c = change.connection
    return [
        m.CallInformationEvent(
            cross_ref_id=x, connection=_connection(c), device=c.device, calling_device=c.calling
        )
    ]


def _transferred(change: EntryTransferred, x: str) -> list:
    c = change.connection
    connections = [m.ConnectionListItem(new_connection=_connection(c), endpoint=c.device)]
    if c.calling is not None:
        connections.append(
            m.ConnectionListItem(
                new_connection=ConnectionID(call_id=c.call_id, device_id=c.calling), endpoint=c.calling
            )
        )
    return [
        m.TransferredEvent(
            cross_ref_id=x,
            primary_old_call=ConnectionID(call_id=c.call_id, device_id=change.transferring),
            transferring_device=change.transferring,
            transferred_to_device=c.device,
            transferred_connections=tuple(connections),
            local_connection_info=QUEUED,
            cause=TRANSFER,
        )
    ]


# --- agents ----------------------------------------------------------------------------


def _agent_fields(agent: Agent, x: str, acd_group: str | None = None) -> dict:
    return {"cross_ref_id": x, "agent_device": agent.device, "agent_id": agent.agent_id, "acd_group": acd_group}


def state_event(agent: Agent, x: str = ""):
    """The one event that reports the agent's ACD state."""
    fields = _agent_fields(agent, x)
    state = agent.state
    if state == "Available":
        return m.AgentReadyEvent(**fields)
    if state == "Wrap-Up":
        return m.AgentWorkingAfterCallEvent(**fields)
    if state == SIGN_OUT:
        return m.AgentLoggedOffEvent(**fields)
    extensions = ()
    if state == "Unavailable" and agent.unavailable_code:
        extensions = m.make_extensions(**{m.EXT_UNAVAILABLE_CODE: agent.unavailable_code})
    return m.AgentNotReadyEvent(extensions=extensions, **fields)  # Unavailable, Sign-In


def _state_changed(change: AgentStateChanged, x: str) -> list:
    agent, old = change.agent, change.old
    events = []
    if old is not None and old.state == SIGN_OUT and agent.state != SIGN_OUT:
        events.append(m.AgentLoggedOnEvent(**_agent_fields(agent, x)))
    events.append(state_event(agent, x))
    return events


def _joined(change: AgentJoined, x: str) -> list:
    fields = _agent_fields(change.agent, x, change.queue)
    return [m.AgentLoggedOnEvent(**fields) if change.joined else m.AgentLoggedOffEvent(**fields)]


def _busy(change: AgentBusy, x: str) -> list:
    return [m.AgentBusyEvent(**_agent_fields(change.agent, x))]


_BY_TYPE = {
    EntryQueued: _queued,
    EntryOffered: _offered,
    EntryDiverted: _diverted,
    EntryCleared: _cleared,
    EntryInformed: _informed,
    EntryTransferred: _transferred,
    AgentStateChanged: _state_changed,
    AgentJoined: _joined,
    AgentBusy: _busy,
}


def translate(change, cross_ref_id: str = "") -> list:
    """The CSTA events of one queue or agent change, in the order to send them."""
    return _BY_TYPE[type(change)](change, cross_ref_id)


def translate_all(changes, cross_ref_id: str = "") -> list:
    by_type = _BY_TYPE
    return [event for change in changes for event in by_type[type(change)](change, cross_ref_id)]


# --- responses ---------------------------------------------------------------------------


def queue_snapshot_response(snapshot, device: str) -> m.SnapshotDeviceResponse:
    """SnapshotDevice on an ACD device: one item per entry still waiting in
    the queue event's list, connection (callID, queue), state queued."""
    return m.SnapshotDeviceResponse(
        items=tuple(
            m.SnapshotDeviceItem(
                connection=ConnectionID(call_id=entry.ext_tracking_id, device_id=device),
                local_connection_state=QUEUED,
            )
            for entry in waiting_entries(snapshot.event_data.entries)
        )
    )


def csta_agent_state(state: str, busy: bool = False) -> str:
    """The ECMA-285 AgentState of an XSIDataTypes AgentState."""
    if busy and state != SIGN_OUT:
        return BUSY
    return CSTA_AGENT_STATES.get(state, "agentNotReady")


def agent_state_response(
    agent_id: str, state: str, queues, unavailable_code: str | None = None, busy: bool = False,
    acd_group: str | None = None,
) -> m.GetAgentStateResponse:
    """GetAgentState: one entry for the agent, one agentInfo per joined queue
    (only ``acd_group`` when given), or one without a group when it joined
    none."""
    agent_state = csta_agent_state(state, busy)
    groups = [queue for queue in queues if acd_group is None or queue == acd_group] or [acd_group]
    info = tuple(m.AgentInfo(acd_group=group, agent_state=agent_state) for group in groups)
    extensions = ()
    if state == "Unavailable" and unavailable_code:
        extensions = m.make_extensions(**{m.EXT_UNAVAILABLE_CODE: unavailable_code})
    return m.GetAgentStateResponse(
        agent_state_list=(m.AgentStateEntry(agent_id=agent_id, logged_on=state != SIGN_OUT, agent_info=info),),
        extensions=extensions,
    )
