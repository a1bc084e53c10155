# -*- test-case-name: tests.unit.test_translate -*-
"""Call-model changes -> CSTA events (SPEC §5.4, genesys-connector.md §3.2).

Pure. :func:`translate` is called once per change; the fan-out then stamps
each monitor's ``monitorCrossRefID`` (``dataclasses.replace``), so nothing
here depends on who monitors. The events describe the device whose change
it is: ``localConnectionInfo`` is always that device's state in the call,
while the reported connection follows ECMA-269 (e.g. the far end's
connection in an Established the far end caused by answering).

Mapping (Xsi event -> CSTA events; cause)
-----------------------------------------
=========================  =====================================================
CallOriginating            ServiceInitiated (initiated; makeCall, consultation)
CallCollecting             ServiceInitiated (initiated; newCall, consultation)
CallOriginated             Originated (connected; makeCall after a
                           click-to-dial, consultation with a held call, else
                           newCall)
CallReceived               Delivered (alerting; newCall, or the redirection's
                           cause: redirected, singleStepTransfer, callForward*)
CallAnswered               Established (connected; newCall or as Delivered);
                           the answering party's connection
CallHeld                   Held (hold, or connected for Remote Held: the far
                           end's connection; normal)
CallRetrieved              Retrieved (connected; normal)
CallReleasing              Failed (fail; busy, destNotObtainable,
                           callNotAnswered, ... from internalReleaseCause); the
                           failed connection is the called party's
CallReleased/Detached      ConnectionCleared (null; normalClearing, or the
                           release cause) + CallCleared when it was the call's
                           last known connection
CallRedirected             Diverted (null; redirected, singleStepTransfer,
                           callForward*) - no CallCleared: the call goes on
CallForwarded              Diverted of the far end (connected; redirected)
CallTransferred            Transferred (singleStepTransfer for a blind
                           transfer, transfer for a consultative one)
CallUpdated (new remote)   Transferred (transfer): the consulted party's view
ConferenceStarted          Conferenced (connected; conference)
CallPickedUp, ...          the state's event (see snapshot below)
HookStatus, Conference-    nothing
Released, CallUpdated
(same remote)
=========================  =====================================================

Synchronization (model/sync.py): a cleared party -> ConnectionCleared
(null, switchingFunctionTerminated) + CallCleared if it was the last
connection. An added or corrected party -> the one event that tells its
state: initiated ServiceInitiated, alerting Delivered, connected Originated
(still ringing out) / Retrieved (was held) / Established, hold Held,
fail Failed, null ConnectionCleared; causes as for the live events.

GenerateDigits has no BroadWorks event: :func:`digits_generated` builds the
DigitsGeneratedEvent the service layer sends after a successful request.
"""

from __future__ import annotations

from csta_connector.broadworks import xsi
from csta_connector.csta import messages as m
from csta_connector.model.calls import (
    ALERTING,
    CONNECTED,
    FAIL,
    HOLD,
    INITIATED,
    NULL,
    TERMINATOR,
    XSI_ALERTING,
    XSI_HELD,
    XSI_REMOTE_HELD,
    CallModel,
    Conferenced,
    DeviceTransferred,
    Party,
    PartyAdded,
    PartyChanged,
    PartyDiverted,
    PartyFailed,
    PartyRemoved,
    PartyTransferred,
    local_state,
)

ConnectionID = m.ConnectionID

NEW_CALL = "newCall"
MAKE_CALL = "makeCall"
CONSULTATION = "consultation"
NORMAL = "normal"


# --- the events of one party's state ---------------------------------------------


def _delivery_cause(p: Party) -> str:
    return p.redirection_cause or NEW_CALL


def _origination_cause(p: Party, old: Party | None) -> str:
    if p.consultation_of is not None:
        return CONSULTATION
    if old is not None and old.state == INITIATED:
        return MAKE_CALL  # the click-to-dial's phone went off-hook
    return NEW_CALL


def _service_initiated(p: Party, cause: str, x: str):
    return m.ServiceInitiatedEvent(
        cross_ref_id=x,
        initiated_connection=ConnectionID(call_id=p.call_id, device_id=p.device),
        initiating_device=p.device,
        local_connection_info=p.state,
        cause=cause,
    )


def _originated(p: Party, cause: str, x: str):
    return m.OriginatedEvent(
        cross_ref_id=x,
        originated_connection=ConnectionID(call_id=p.call_id, device_id=p.device),
        calling_device=p.device,
        called_device=p.remote,
        local_connection_info=p.state,
        cause=cause,
    )


def _delivered(p: Party, x: str):
    return m.DeliveredEvent(
        cross_ref_id=x,
        connection=ConnectionID(call_id=p.call_id, device_id=p.device),
        alerting_device=p.device,
        calling_device=p.calling,
        called_device=p.called,
        last_redirection_device=p.last_redirection,
        local_connection_info=p.state,
        cause=_delivery_cause(p),
    )


def _established(p: Party, answered_here: bool, x: str):
    # ECMA-269: the established connection is the answering party's.
    answering = p.device if answered_here else p.remote
    return m.EstablishedEvent(
        cross_ref_id=x,
        established_connection=ConnectionID(call_id=p.call_id, device_id=answering),
        answering_device=answering,
        calling_device=p.calling,
        called_device=p.called,
        last_redirection_device=p.last_redirection,
        local_connection_info=p.state,
        cause=_delivery_cause(p),
    )


def _held(p: Party, x: str):
    # Remote Held: the far end holds; the monitor sees the far connection held.
    holder = p.device if p.xsi_state == XSI_HELD else p.remote
    return m.HeldEvent(
        cross_ref_id=x,
        held_connection=ConnectionID(call_id=p.call_id, device_id=holder),
        holding_device=holder,
        local_connection_info=p.state,
        cause=NORMAL,
    )


def _retrieved(p: Party, old: Party | None, x: str):
    own = old is None or old.xsi_state != XSI_REMOTE_HELD or p.xsi_state == XSI_REMOTE_HELD
    retriever = p.device if own else p.remote
    return m.RetrievedEvent(
        cross_ref_id=x,
        retrieved_connection=ConnectionID(call_id=p.call_id, device_id=retriever),
        retrieving_device=retriever,
        local_connection_info=p.state,
        cause=NORMAL,
    )


def _failed(p: Party, cause: str, x: str):
    # The failing connection is the one that could not be reached: the far end.
    return m.FailedEvent(
        cross_ref_id=x,
        failed_connection=ConnectionID(call_id=p.call_id, device_id=p.remote),
        failing_device=p.remote,
        calling_device=p.calling,
        called_device=p.called,
        last_redirection_device=p.last_redirection,
        local_connection_info=FAIL,
        cause=cause,
    )


def _cleared(p: Party, call_gone: bool, cause: str, x: str) -> list:
    events = [
        m.ConnectionClearedEvent(
            cross_ref_id=x,
            dropped_connection=ConnectionID(call_id=p.call_id, device_id=p.device),
            releasing_device=p.device,
            local_connection_info=NULL,
            cause=cause,
        )
    ]
    if call_gone:
        events.append(
            m.CallClearedEvent(
                cross_ref_id=x,
                cleared_call=ConnectionID(call_id=p.call_id),
                cause=cause,
            )
        )
    return events


def _state_events(p: Party, old: Party | None, x: str) -> list:
    """The event telling a client a party's current state (snapshot
    additions and corrections, pickups and other call events without a
    dedicated mapping)."""
    state = p.state
    if state == CONNECTED:
        if p.xsi_state == XSI_ALERTING:
            return [_originated(p, _origination_cause(p, old), x)]
        if old is not None and old.state == HOLD:
            return [_retrieved(p, old, x)]
        if old is not None and old.state == CONNECTED:
            return []
        answered_here = (
            old.state == ALERTING if old is not None else p.personality == TERMINATOR
        )
        return [_established(p, answered_here, x)]
    if state == ALERTING:
        return [_delivered(p, x)]
    if state == HOLD:
        return [_held(p, x)]
    if state == INITIATED:
        return [_service_initiated(p, MAKE_CALL if p.originating else NEW_CALL, x)]
    if state == FAIL:
        return [_failed(p, "destNotObtainable", x)]
    return _cleared(p, False, "normalClearing", x)


# --- per change type ---------------------------------------------------------------


def _party_event(change, x: str) -> list:
    """PartyAdded / PartyChanged, by the Xsi event that caused it."""
    p = change.party
    old = change.old if type(change) is PartyChanged else None
    event_type = change.event_type
    if event_type == "CallAnsweredEvent":
        if old is not None and old.state == CONNECTED and p.state == CONNECTED:
            # answered again after a blind transfer: the new far end answered
            return [_established(p, False, x)]
        answered_here = (
            old.state == ALERTING if old is not None else p.personality == TERMINATOR
        )
        return [_established(p, answered_here, x)]
    if event_type == "CallReceivedEvent":
        return [_delivered(p, x)]
    if event_type == "CallOriginatedEvent":
        return [_originated(p, _origination_cause(p, old), x)]
    if event_type == "CallOriginatingEvent":
        cause = CONSULTATION if p.consultation_of is not None else MAKE_CALL
        return [_service_initiated(p, cause, x)]
    if event_type == "CallCollectingEvent":
        cause = CONSULTATION if p.consultation_of is not None else NEW_CALL
        return [_service_initiated(p, cause, x)]
    if event_type == "CallHeldEvent":
        return [_held(p, x)]
    if event_type == "CallRetrievedEvent":
        return [_retrieved(p, old, x)]
    if old is not None and old.state == p.state and type(change) is PartyChanged:
        return []  # an attribute update: nothing a client's view depends on
    return _state_events(p, old, x)


def _failed_event(change: PartyFailed, x: str) -> list:
    return [_failed(change.party, change.cause, x)]


def _removed_event(change: PartyRemoved, x: str) -> list:
    return _cleared(change.party, change.call_gone, change.cause, x)


def _diverted_event(change: PartyDiverted, x: str) -> list:
    p = change.party
    if change.removed:
        # the device redirected its call away: its connection is null
        connection = ConnectionID(call_id=p.call_id, device_id=p.device)
        calling, called, local = p.calling, p.called, NULL
        last = p.last_redirection or p.device
    else:
        # the far end was forwarded: the caller sees it from its live connection
        connection = ConnectionID(call_id=p.call_id, device_id=change.diverting_device)
        calling, called, local = p.device, change.diverting_device, p.state
        last = change.diverting_device
    return [
        m.DivertedEvent(
            cross_ref_id=x,
            connection=connection,
            diverting_device=change.diverting_device,
            new_destination=change.new_destination,
            calling_device=calling,
            called_device=called,
            last_redirection_device=last,
            local_connection_info=local,
            cause=change.cause,
        )
    ]


def _transferred_event(change: PartyTransferred, x: str) -> list:
    p, old = change.party, change.old
    transferring = change.transferring_device
    secondary = None
    if old.call_id != p.call_id:
        secondary = ConnectionID(call_id=p.call_id, device_id=transferring)
    connections = [
        m.ConnectionListItem(
            new_connection=ConnectionID(call_id=p.call_id, device_id=p.device),
            old_connection=ConnectionID(call_id=old.call_id, device_id=p.device),
            endpoint=p.device,
        )
    ]
    if p.remote is not None:
        connections.append(
            m.ConnectionListItem(
                new_connection=ConnectionID(call_id=p.call_id, device_id=p.remote),
                endpoint=p.remote,
            )
        )
    return [
        m.TransferredEvent(
            cross_ref_id=x,
            primary_old_call=ConnectionID(call_id=old.call_id, device_id=transferring),
            secondary_old_call=secondary,
            transferring_device=transferring,
            transferred_to_device=change.transferred_to,
            transferred_connections=tuple(connections),
            local_connection_info=p.state,
            cause=change.cause,
        )
    ]


def _device_transferred_event(change: DeviceTransferred, x: str) -> list:
    """The transferring device's TransferredEvent (ECMA-269: the device that
    transferred is dropped from the call; localConnectionInfo null)."""
    held, active = change.held, change.active
    device = held.device
    resulting = active.call_id  # as the TransferCallResponse said
    connections = tuple(
        m.ConnectionListItem(
            new_connection=ConnectionID(call_id=resulting, device_id=far.remote),
            old_connection=ConnectionID(call_id=far.call_id, device_id=far.remote),
            endpoint=far.remote,
        )
        for far in (held, active)
        if far.remote is not None
    )
    return [
        m.TransferredEvent(
            cross_ref_id=x,
            primary_old_call=ConnectionID(call_id=held.call_id, device_id=device),
            secondary_old_call=ConnectionID(call_id=active.call_id, device_id=device),
            transferring_device=device,
            transferred_to_device=active.remote,
            transferred_connections=connections,
            local_connection_info=NULL,
            cause="transfer",
        )
    ]


def _conferenced_event(change: Conferenced, x: str) -> list:
    # BroadWorks keeps one extTrackingId per leg (genesys-connector.md §3.1);
    # the event names the first leg the primary call and the others secondary.
    legs = change.parties
    device = change.device
    first = legs[0]
    secondary = None
    if len(legs) > 1:
        secondary = ConnectionID(call_id=legs[1].call_id, device_id=device)
    connections = [
        m.ConnectionListItem(
            new_connection=ConnectionID(call_id=first.call_id, device_id=device),
            endpoint=device,
        )
    ]
    for leg in legs:
        if leg.remote is not None:
            connections.append(
                m.ConnectionListItem(
                    new_connection=ConnectionID(call_id=leg.call_id, device_id=leg.remote),
                    endpoint=leg.remote,
                )
            )
    return [
        m.ConferencedEvent(
            cross_ref_id=x,
            primary_old_call=ConnectionID(call_id=first.call_id, device_id=device),
            secondary_old_call=secondary,
            conferencing_device=device,
            added_party=legs[-1].remote,
            conference_connections=tuple(connections),
            local_connection_info=CONNECTED,
            cause="conference",
        )
    ]


_BY_TYPE = {
    PartyAdded: _party_event,
    PartyChanged: _party_event,
    PartyFailed: _failed_event,
    PartyRemoved: _removed_event,
    PartyDiverted: _diverted_event,
    PartyTransferred: _transferred_event,
    DeviceTransferred: _device_transferred_event,
    Conferenced: _conferenced_event,
}


def translate(change, cross_ref_id: str = "") -> list:
    """The CSTA events of one model change, in the order to send them."""
    return _BY_TYPE[type(change)](change, cross_ref_id)


def translate_all(changes, cross_ref_id: str = "") -> list:
    out = []
    for change in changes:
        out.extend(_BY_TYPE[type(change)](change, cross_ref_id))
    return out


# --- snapshots and digits -------------------------------------------------------------


def snapshot_items(model: CallModel, device: str) -> tuple[m.SnapshotDeviceItem, ...]:
    """The model's view of a device as SnapshotDeviceResponse items."""
    return tuple(
        m.SnapshotDeviceItem(
            connection=ConnectionID(call_id=p.call_id, device_id=device),
            local_connection_state=p.state,
        )
        for p in model.parties_of(device)
    )


def snapshot_items_from_calls(
    calls: tuple[xsi.Call, ...], device: str
) -> tuple[m.SnapshotDeviceItem, ...]:
    """SnapshotDeviceResponse items from a CallSubscriptionEvent's calls (SPEC
    §6): one per call, connection (callID, deviceID) and the local state."""
    return tuple(
        m.SnapshotDeviceItem(
            connection=ConnectionID(call_id=call.ext_tracking_id, device_id=device),
            local_connection_state=local_state(call),
        )
        for call in calls
    )


def snapshot_response(
    snapshot: xsi.SubscriptionEvent, device: str
) -> m.SnapshotDeviceResponse:
    return m.SnapshotDeviceResponse(items=snapshot_items_from_calls(snapshot.calls, device))


def digits_generated(
    call_id: str, device: str, digits: str, cross_ref_id: str = ""
) -> m.DigitsGeneratedEvent:
    """The DigitsGeneratedEvent for a successful GenerateDigits (BroadWorks
    has no DTMF event: the service layer sends it after the response)."""
    return m.DigitsGeneratedEvent(
        cross_ref_id=cross_ref_id,
        connection=ConnectionID(call_id=call_id, device_id=device),
        digit_generated_list=digits,
    )
