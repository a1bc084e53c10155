# -*- test-case-name: tests.unit.test_model_sync -*-
"""AS failover synchronization (SPEC §6): diff a device's parties in the call
model with the calls a CallSubscriptionEvent lists, and fix the model.

Pure. A CallSubscriptionEvent (solicited, unsolicited, Resync, initial) is a
full snapshot of one user's calls, so:

* a party the model holds but the event does not list is *stuck* (the AS
  that knew it is gone): it is removed -> ``cleared``;
* a call half listed but unknown to the model is added with the event's
  state -> ``added``;
* a party whose LocalConnectionState differs is corrected -> ``corrected``.

Only that device's parties are touched: the other parties of the same call
are synchronized by their own users' CallSubscriptionEvents. Parties are
matched by call-half id; a listed half whose extTrackingId changed is moved
to its new call (a correction).

A CallSubscriptionEvent can be older than call events already applied: with
several links the events of one subscription travel on different channels,
and a call set up on the peer AS while a refresh is answered may overtake
it. ``sequenceNumber`` orders the events of one subscription, and the model
remembers which event last wrote each party (``CallModel.written_after``),
so an older snapshot never undoes a newer event: a party such an event wrote
is neither cleared (``kept``) nor corrected, and while the device has had a
newer event at all (``CallModel.applied_after``) a listed call unknown to the
model is not added either (the newer event may be its release); the live
events, or the next refresh, tell the rest.

The :class:`SyncResult` carries the change objects for translation
(``services/translate.py``): a cleared party is a :class:`PartyRemoved` with
cause ``switchingFunctionTerminated`` (ConnectionCleared, + CallCleared when
it was the call's last known connection); added and corrected parties are
:class:`PartyAdded` / :class:`PartyChanged` whose ``event_type`` is the
snapshot event's, translated to the one event that tells a client the state.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from csta_connector.broadworks import xsi
from csta_connector.model.calls import (
    SWITCHING_FUNCTION_TERMINATED,
    NULL,
    CallModel,
    Party,
    PartyAdded,
    PartyChanged,
    PartyRemoved,
)


@dataclass(frozen=True, slots=True)
class SyncResult:
    device: str
    #: (the stuck party as it was, whether its call is gone with it)
    cleared: tuple[tuple[Party, bool], ...] = ()
    added: tuple[Party, ...] = ()
    #: (old, new)
    corrected: tuple[tuple[Party, Party], ...] = ()
    #: the changes, in order: cleared, then added and corrected in the
    #: event's call order
    changes: tuple = ()
    #: parties the event does not list but a newer event wrote: not cleared
    kept: tuple[Party, ...] = ()

    @property
    def in_sync(self) -> bool:
        """True when the model already matched the event."""
        return not (self.cleared or self.added or self.corrected)


def synchronize(
    model: CallModel, device: str, snapshot: xsi.SubscriptionEvent
) -> SyncResult:
    """Make the model's parties of ``device`` match ``snapshot``'s calls."""
    event_type = snapshot.event_type
    subscription_id, sequence = snapshot.subscription_id, snapshot.sequence_number
    listed = {call.call_id: call for call in snapshot.calls}
    cleared = []
    kept = []
    changes = []
    for party in model.parties_of(device):
        if party.party_id in listed:
            continue
        if model.written_after(party.party_id, subscription_id, sequence):
            kept.append(party)
            continue
        stuck, call_gone = model.discard(party.party_id)
        cleared.append((stuck, call_gone))
        changes.append(
            PartyRemoved(
                event_type,
                None,
                replace(stuck, state=NULL),  # as cleared: null now
                call_gone,
                SWITCHING_FUNCTION_TERMINATED,
            )
        )
    added = []
    corrected = []
    older = model.applied_after(device, subscription_id, sequence)
    model.writing_from(subscription_id, sequence)
    for call in snapshot.calls:
        old = model.party(call.call_id)
        if old is not None and old.device != device:
            # A call half of another device cannot be listed for this one;
            # a misrouted snapshot must not steal it.
            continue
        if old is None and older:
            continue
        if old is not None and model.written_after(old.party_id, subscription_id, sequence):
            continue
        new = model.new_party(call, device, old)
        if old is None:
            model.put(new)
            added.append(new)
            changes.append(PartyAdded(event_type, call, new))
        elif new != old:
            model.put(new)
            if new.state != old.state or new.call_id != old.call_id:
                corrected.append((old, new))
                changes.append(PartyChanged(event_type, call, new, old))
            # else: a detail only (remote party, Remote Held vs Active):
            # kept quietly, nothing a client's view depends on.
    return SyncResult(
        device, tuple(cleared), tuple(added), tuple(corrected), tuple(changes), tuple(kept)
    )
