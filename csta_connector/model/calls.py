# -*- test-case-name: tests.unit.test_model_calls -*-
"""The call model: the one truth about monitored devices, calls and connections.

Pure (no Twisted, no CSTA messages). :meth:`CallModel.apply` takes one typed
Xsi call event of one user and returns the :class:`Change` objects that say
exactly what happened to that user's connections; ``services/translate.py``
turns each change into CSTA events, ``model/sync.py`` diffs the model against
a CallSubscriptionEvent (SPEC §6).

Identifiers (SPEC §5.3)
-----------------------
* device: the CSTA device id, the user's extension (``2001``), from the
  ``device_of(user_id)`` function given at construction;
* call: the BroadWorks ``extTrackingId`` (the CSTA ``callID``);
* party: one connection (callID, deviceID), keyed internally by the
  BroadWorks call-half id (``callhalf-..``), which never changes while the
  call's ``extTrackingId`` may (CallTransferred, consultative transfer,
  pickup): a party then moves from one call to another.

The model only knows what the subscribed users' events told it; a call's
"last known connection" is the last one of a *monitored* device. What the
connector itself asked BroadWorks for (a transfer, a redirect) changes how
some events read; call control keeps those intentions
(``services/callcontrol.py`` ``Expectations``) and hands them to
:meth:`CallModel.apply`, so the model holds nothing but the calls.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from typing import Callable, Union

from csta_connector.broadworks import xsi

# --- LocalConnectionState (ECMA-269 names) ------------------------------------


class ConnectionState(enum.StrEnum):
    """A party's LocalConnectionState, by its ECMA-269 name (the value the
    CSTA messages carry)."""

    NULL = "null"
    INITIATED = "initiated"
    ALERTING = "alerting"
    CONNECTED = "connected"
    HOLD = "hold"
    FAIL = "fail"


NULL, INITIATED, ALERTING, CONNECTED, HOLD, FAIL = ConnectionState

# BroadWorks personalities and states (XSICallSession.xsd)
ORIGINATOR = "Originator"
TERMINATOR = "Terminator"
CLICK_TO_DIAL = "Click-to-Dial"
XSI_ALERTING = "Alerting"
XSI_ACTIVE = "Active"
XSI_HELD = "Held"
XSI_REMOTE_HELD = "Remote Held"

#: Redirect reason (Xsi ``RedirectReason``) -> CSTA EventCause of the
#: Diverted event and of the Delivered/Established at the new destination.
REDIRECT_CAUSES = {
    "transfer": "singleStepTransfer",
    "deflection": "redirected",
    "user-busy": "callForwardBusy",
    "no-answer": "callForwardNoAnswer",
    "unconditional": "callForwardImmediate",
    "do-not-disturb": "doNotDisturb",
    "call-center": "distributed",
    "hunt-group": "distributed",
}

#: Xsi ``internalReleaseCause`` -> CSTA EventCause of Failed / ConnectionCleared.
RELEASE_CAUSES = {
    "Busy": "busy",
    "User Not Found": "destNotObtainable",
    "Temporarily Unavailable": "callNotAnswered",
    "Request Timeout": "callNotAnswered",
    "Translation Failure": "invalidNumberFormat",
    "Forbidden": "blocked",
    "Insufficient Credits": "blocked",
    "Dial Tone Timeout": "timeout",
    "Routing Failure": "destNotObtainable",
    "Request Failure": "destNotObtainable",
    "Global Failure": "networkNotObtainable",
    "Server Failure": "resourcesNotAvailable",
}

NORMAL_CLEARING = "normalClearing"
DISTRIBUTED = "distributed"
SWITCHING_FUNCTION_TERMINATED = "switchingFunctionTerminated"

# How many redirections of calls no party of which the model knows any more
# are remembered (for the lastRedirectionDevice of a later CallReceived).
_MAX_REDIRECTIONS = 4096

#: ``sequenceNumber`` counts per subscription from 1 to this and wraps to 1.
MAX_SEQUENCE = 2147483647


def sequence_newer(a: int, b: int) -> bool:
    """Whether sequenceNumber ``a`` comes after ``b`` of the same subscription
    (serial-number order: a wrap from 2147483647 to 1 is still "after")."""
    difference = (a - b) % MAX_SEQUENCE
    return 0 < difference < MAX_SEQUENCE // 2


def local_state(call: xsi.Call) -> ConnectionState:
    """The device's LocalConnectionState in ``call`` (ECMA-269 names).

    Xsi ``Alerting`` means three things: the user's own phone ringing for an
    incoming call (``alerting``), the phone being rung to start a
    click-to-dial (``initiated``), and the user waiting for the far end
    (an originator, or a party transferred back to ringback: ``connected``).
    A released cause on a live call is a treatment: ``fail``.
    """
    state = call.state
    if state == XSI_ACTIVE or state == XSI_REMOTE_HELD:
        return FAIL if call.release_cause else CONNECTED
    if state == XSI_HELD:
        return HOLD
    if state == XSI_ALERTING:
        if call.release_cause:
            return FAIL
        if call.personality == CLICK_TO_DIAL:
            return INITIATED
        if call.personality == TERMINATOR and call.answer_time is None:
            return ALERTING
        return CONNECTED
    return NULL  # Released, Detached, Idle


def user_local_part(user_id: str) -> str:
    """The default ``device_of``: ``2001@example.com`` -> ``2001``."""
    return user_id.partition("@")[0]


def address_device(address: str | None) -> str | None:
    """A CSTA device string from an Xsi address: ``tel:+1555;ext=1`` ->
    ``+1555``, ``sip:bob@x`` -> ``bob``."""
    if not address:
        return None
    text = address
    colon = text.find(":")
    if colon != -1 and text[:colon].lower() in ("tel", "sip", "sips"):
        text = text[colon + 1 :]
    text = text.partition(";")[0].partition("@")[0]
    return text or None


# --- the model's records --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Party:
    """One connection of a monitored device: (call_id, device).

    Immutable; the model replaces it on every change, so a :class:`Change`
    can hold parties without copying.
    """

    party_id: str  # BroadWorks call-half id
    call_id: str  # extTrackingId = CSTA callID
    device: str
    state: ConnectionState
    xsi_state: str  # the BroadWorks state (tells Held from Remote Held)
    personality: str
    remote: str | None  # the other party as a CSTA device; None = not known
    #: the callID of the device's held call when this call was originated
    #: (a consultation call), else None
    consultation_of: str | None = None
    #: the conference this party is a leg of (its first leg's callID), else None
    conference: str | None = None
    #: who redirected the call before it reached this party, and the cause
    last_redirection: str | None = None
    redirection_cause: str | None = None

    @property
    def connection(self) -> tuple[str, str]:
        return (self.call_id, self.device)

    @property
    def originating(self) -> bool:
        return self.personality != TERMINATOR

    @property
    def calling(self) -> str | None:
        """The calling device of the call, seen from this party."""
        return self.device if self.personality != TERMINATOR else self.remote

    @property
    def called(self) -> str | None:
        return self.remote if self.personality != TERMINATOR else self.device


# --- changes ------------------------------------------------------------------------
#
# One change per thing that happened to one party of the device whose event it
# was. ``event_type`` is the Xsi event (or the snapshot event for sync changes),
# ``call`` the Xsi Call that said so (None for a sync-cleared party).


@dataclass(frozen=True, slots=True)
class PartyAdded:
    """A connection new to the model (Originating, Originated, Collecting,
    Received, or any call event / snapshot for a call half not known yet)."""

    event_type: str
    call: xsi.Call | None
    party: Party


@dataclass(frozen=True, slots=True)
class PartyChanged:
    """A known connection changed state or attributes (Originated after a
    click-to-dial's Originating, Answered, Held, Retrieved, a pickup, a
    snapshot correction)."""

    event_type: str
    call: xsi.Call | None
    party: Party
    old: Party


@dataclass(frozen=True, slots=True)
class PartyFailed:
    """CallReleasing: the call went to a treatment (busy, unknown number...)."""

    event_type: str
    call: xsi.Call
    party: Party
    old: Party | None
    cause: str


@dataclass(frozen=True, slots=True)
class PartyDiverted:
    """A call was redirected.

    ``removed``: the device itself redirected it (CallRedirected: its
    connection is gone, no CallCleared: the call goes on elsewhere). Else the
    device's far end was redirected (CallForwarded at the caller).
    """

    event_type: str
    call: xsi.Call
    party: Party
    diverting_device: str | None
    new_destination: str | None
    cause: str
    removed: bool


@dataclass(frozen=True, slots=True)
class PartyTransferred:
    """The device's far end changed by a transfer (CallTransferred, or a
    CallUpdated with a new remote party). ``party.call_id`` differs from
    ``old.call_id`` when the party joined another call (consultative
    transfer); the old call is then gone without a CallCleared."""

    event_type: str
    call: xsi.Call
    party: Party
    old: Party
    transferring_device: str | None
    transferred_to: str | None
    cause: str


@dataclass(frozen=True, slots=True)
class PartyRemoved:
    """A connection is gone (CallReleased, CallDetached, or a stuck party
    cleared by synchronization). ``call_gone``: it was the last connection
    the model knew of that call."""

    event_type: str
    call: xsi.Call | None
    party: Party
    call_gone: bool
    cause: str


@dataclass(frozen=True, slots=True)
class DeviceTransferred:
    """The device completed a transfer the connector made for it (a CSTA
    TransferCall): its held and its active connection are gone (both with
    state null here) and their far ends talk to each other in the active
    call. BroadWorks tells the transferring user only two releases; the
    connector knows what they mean because it asked."""

    event_type: str
    call: xsi.Call
    held: Party
    active: Party


@dataclass(frozen=True, slots=True)
class Conferenced:
    """ConferenceStarted: the device joined its calls ``parties`` (the legs,
    in the conference's order) into one conference."""

    event_type: str
    device: str
    parties: tuple[Party, ...]


Change = Union[
    PartyAdded,
    PartyChanged,
    PartyFailed,
    PartyDiverted,
    PartyTransferred,
    PartyRemoved,
    DeviceTransferred,
    Conferenced,
]


@dataclass(frozen=True, slots=True)
class ModelCounts:
    devices: int
    calls: int
    parties: int


# --- the model ----------------------------------------------------------------------

_ORIGINATION_EVENTS = frozenset(
    {"CallOriginatingEvent", "CallOriginatedEvent", "CallCollectingEvent"}
)


class CallModel:
    """Devices, calls and connections; :meth:`apply` Xsi events to it."""

    __slots__ = (
        "_device_of", "_parties", "_by_device", "_calls", "_redirections",
        "_source", "_marks", "_latest",
    )

    def __init__(self, device_of: Callable[[str], str] = user_local_part):
        self._device_of = device_of
        self._parties: dict[str, Party] = {}  # party_id -> Party
        # ordered sets (dict -> None) of party ids: by device, by call
        self._by_device: dict[str, dict[str, None]] = {}
        self._calls: dict[str, dict[str, None]] = {}
        # callID -> (redirecting device, cause) of a redirected call
        self._redirections: dict[str, tuple[str | None, str]] = {}
        # Which event last wrote each party, and the last call event applied
        # per device, as (subscriptionId, sequenceNumber): with several links
        # a CallSubscriptionEvent can arrive after a newer event of the same
        # subscription, and must not undo what that event did (model/sync.py).
        # One tuple per event, shared by both tables.
        self._source: tuple[str, int] | None = None
        self._marks: dict[str, tuple[str, int] | None] = {}
        self._latest: dict[str, tuple[str, int]] = {}

    # ------------------------------------------------------------------ queries

    def device_of(self, user_id: str) -> str:
        return self._device_of(user_id)

    def party(self, party_id: str) -> Party | None:
        return self._parties.get(party_id)

    def parties_of(self, device: str) -> tuple[Party, ...]:
        ids = self._by_device.get(device)
        if not ids:
            return ()
        parties = self._parties
        return tuple(parties[i] for i in ids)

    def call(self, call_id: str) -> tuple[Party, ...]:
        ids = self._calls.get(call_id)
        if not ids:
            return ()
        parties = self._parties
        return tuple(parties[i] for i in ids)

    def calls(self) -> tuple[str, ...]:
        return tuple(self._calls)

    def devices(self) -> tuple[str, ...]:
        return tuple(self._by_device)

    def counts(self) -> ModelCounts:
        return ModelCounts(len(self._by_device), len(self._calls), len(self._parties))

    def __len__(self) -> int:
        return len(self._parties)

    def written_after(self, party_id: str, subscription_id: str, sequence: int) -> bool:
        """Whether an event of ``subscription_id`` newer than ``sequence``
        wrote the party ``party_id`` (created or changed it)."""
        mark = self._marks.get(party_id)
        return mark is not None and mark[0] == subscription_id and sequence_newer(mark[1], sequence)

    def applied_after(self, device: str, subscription_id: str, sequence: int) -> bool:
        """Whether the last call event applied for ``device`` is an event of
        ``subscription_id`` newer than ``sequence``."""
        latest = self._latest.get(device)
        return latest is not None and latest[0] == subscription_id and sequence_newer(latest[1], sequence)

    def writing_from(self, subscription_id: str, sequence: int) -> None:
        """The parties stored from now on come from this event (model/sync.py
        says so before it applies a CallSubscriptionEvent)."""
        self._source = (subscription_id, sequence)

    def remote_device(self, party: xsi.RemoteParty) -> str | None:
        """The CSTA device of an Xsi remote party: a user's extension, else
        the number of its address (``tel:+15550009999`` -> ``+15550009999``)."""
        if party.user_id:
            return self._device_of(party.user_id)
        return address_device(party.address)

    # --------------------------------------------------------- low-level edits
    # (also used by model/sync.py; each keeps the three indexes consistent)

    def put(self, party: Party) -> Party | None:
        """Store ``party`` (new or replacing the one with its party_id); move it
        between calls when its call_id changed. Returns the old party."""
        pid = party.party_id
        old = self._parties.get(pid)
        self._parties[pid] = party
        self._marks[pid] = self._source
        if old is None:
            self._by_device.setdefault(party.device, {})[pid] = None
            self._calls.setdefault(party.call_id, {})[pid] = None
        elif old.call_id != party.call_id:
            self._unlink_call(old.call_id, pid)
            self._calls.setdefault(party.call_id, {})[pid] = None
        return old

    def discard(self, party_id: str) -> tuple[Party | None, bool]:
        """Remove a party; returns (the party, whether its call is now gone)."""
        party = self._parties.pop(party_id, None)
        if party is None:
            return None, False
        self._marks.pop(party_id, None)
        ids = self._by_device.get(party.device)
        if ids is not None:
            ids.pop(party_id, None)
            if not ids:
                del self._by_device[party.device]
        return party, self._unlink_call(party.call_id, party_id)

    def _unlink_call(self, call_id: str, party_id: str) -> bool:
        ids = self._calls.get(call_id)
        if ids is None:
            return True
        ids.pop(party_id, None)
        if ids:
            return False
        del self._calls[call_id]
        return True

    def remove_device(self, device: str) -> tuple[Party, ...]:
        """Forget a device no longer monitored: its parties go, no changes."""
        parties = self.parties_of(device)
        for party in parties:
            gone = self.discard(party.party_id)[1]
            if gone:
                self._redirections.pop(party.call_id, None)
        self._latest.pop(device, None)
        return parties

    def new_party(self, call: xsi.Call, device: str, old: Party | None = None) -> Party:
        """The Party for an Xsi Call, keeping the links an older version had."""
        last, cause = self._redirection_of(call, old)
        return Party(
            call.call_id,
            call.ext_tracking_id,
            device,
            local_state(call),
            call.state,
            call.personality,
            self.remote_device(call.remote_party),
            old.consultation_of if old is not None else None,
            old.conference if old is not None else None,
            last,
            cause,
        )

    def _redirection_of(self, call: xsi.Call, old: Party | None) -> tuple[str | None, str | None]:
        """(last redirection, its cause) of the party ``call`` makes of ``old``:
        kept while the party stays in its call, else the call's own; a call
        a call center or route point delivered names it (``acdCallInfo``)."""
        if old is not None and old.call_id == call.ext_tracking_id:
            return old.last_redirection, old.redirection_cause
        redirection = self._redirections.get(call.ext_tracking_id)
        if redirection is not None:
            return redirection
        info = call.acd_call_info
        if info is not None:
            return self._device_of(info.acd_user_id), DISTRIBUTED
        return None, None

    def _held_call_of(self, device: str, but: str) -> str | None:
        ids = self._by_device.get(device)
        if ids:
            for pid in ids:
                party = self._parties[pid]
                if party.state == HOLD and pid != but:
                    return party.call_id
        return None

    def _remember_redirection(self, call_id: str, device: str | None, cause: str):
        redirections = self._redirections
        redirections.pop(call_id, None)
        redirections[call_id] = (device, cause)
        if len(redirections) > _MAX_REDIRECTIONS:
            del redirections[next(iter(redirections))]

    # -------------------------------------------------------------------- apply

    def apply(self, event: xsi.SubscriptionEvent, device: str | None = None, expectations=None) -> list:
        """Apply one user's Xsi event; return the :class:`Change` list.

        ``device`` is the subscribed user's device; by default it comes from
        the event's ``targetId`` (else ``userId``). The subscription manager,
        which maps events by subscriptionId, should pass it. Snapshot events
        (CallSubscriptionEvent, CallSubscriptionResyncEvent), hook status and
        unknown events change nothing here: snapshots go to model/sync.py.

        ``expectations``: what the connector asked BroadWorks for, whose
        events have not come (call control's ``Expectations``, or None): a
        transfer asked for reads its releases as one transfer, a redirect
        names the destination as the client gave it. The model reads and
        forgets them (``transfer_of``, ``destination_of``, ``party_gone``),
        never keeps them.
        """
        handler = _HANDLERS.get(event.event_type)
        if handler is None:
            return []
        if device is None:
            device = self._device_of(event.target_id or event.user_id)
        self._source = self._latest[device] = (event.subscription_id, event.sequence_number)
        return handler(self, event, device, expectations)

    # ---------------------------------------------------------------- handlers
    # Each builds every Party it stores once, from the event's Call.

    def _party(self, call, device, state, consultation_of, conference, redirection) -> Party:
        return Party(
            call.call_id,
            call.ext_tracking_id,
            device,
            state,
            call.state,
            call.personality,
            self.remote_device(call.remote_party),
            consultation_of,
            conference,
            redirection[0],
            redirection[1],
        )

    def _on_call(self, event, device, expectations):
        """Originating/Originated/Collecting/Received/Answered/Held/Retrieved,
        pickups: store the new state; report it."""
        call = event.call
        event_type = event.event_type
        old = self._parties.get(call.call_id)
        if event_type == "CallReceivedEvent" and call.state == XSI_ALERTING:
            state = ALERTING  # a recall rings the phone even after an earlier answer
        else:
            state = local_state(call)
        consultation_of = old.consultation_of if old is not None else None
        if consultation_of is None and event_type in _ORIGINATION_EVENTS:
            consultation_of = self._held_call_of(device, call.call_id)
        party = self._party(
            call, device, state, consultation_of,
            old.conference if old is not None else None, self._redirection_of(call, old),
        )
        self.put(party)
        if old is None:
            return [PartyAdded(event_type, call, party)]
        return [PartyChanged(event_type, call, party, old)]

    def _on_updated(self, event, device, expectations):
        """CallUpdated: quietly stored, unless the far end changed (the other
        side of a consultative transfer): then it is a transfer."""
        call = event.call
        old = self._parties.get(call.call_id)
        party = self.new_party(call, device, old)
        self.put(party)
        if old is None:
            return [PartyAdded(event.event_type, call, party)]
        if old.remote != party.remote or old.call_id != party.call_id:
            return [
                PartyTransferred(
                    event.event_type, call, party, old, old.remote, device, "transfer"
                )
            ]
        if old.state != party.state:
            return [PartyChanged(event.event_type, call, party, old)]
        return []

    def _on_transferred(self, event, device, expectations):
        """CallTransferred: the far end was transferred (blind: back to
        ringback in the same call; consultative: into another call)."""
        call = event.call
        old = self._parties.get(call.call_id)
        if old is None:
            party = self.new_party(call, device)
            self.put(party)
            return [PartyAdded(event.event_type, call, party)]
        same_call = old.call_id == call.ext_tracking_id
        # a party that left its call is no consultation or conference leg
        party = self._party(
            call, device, local_state(call),
            old.consultation_of if same_call else None,
            old.conference if same_call else None,
            self._redirection_of(call, old),
        )
        self.put(party)
        if same_call and call.state == XSI_ALERTING and old.xsi_state != XSI_ALERTING:
            cause = "singleStepTransfer"  # blind: back to ringback, same call
        else:
            cause = "transfer"
        return [
            PartyTransferred(
                event.event_type, call, party, old, old.remote, party.remote, cause
            )
        ]

    def _on_forwarded(self, event, device, expectations):
        """CallForwarded: the device's far end forwarded the call elsewhere."""
        call = event.call
        old = self._parties.get(call.call_id)
        diverting = old.remote if old is not None else None
        reason = call.redirect.reason if call.redirect is not None else "deflection"
        cause = REDIRECT_CAUSES.get(reason, "redirected")
        self._remember_redirection(call.ext_tracking_id, diverting, cause)
        redirection = (diverting, cause) if diverting is not None else self._redirection_of(call, old)
        party = self._party(
            call, device, local_state(call),
            old.consultation_of if old is not None else None,
            old.conference if old is not None else None,
            redirection,
        )
        self.put(party)
        return [
            PartyDiverted(
                event.event_type, call, party, diverting, party.remote, cause, False
            )
        ]

    def _on_redirected(self, event, device, expectations):
        """CallRedirected (a list): the device sent its calls elsewhere; its
        connections are gone, the calls are not."""
        changes = []
        for call in event.calls:
            reason = call.redirect.reason if call.redirect is not None else "unknown"
            cause = REDIRECT_CAUSES.get(reason, "redirected")
            self._remember_redirection(call.ext_tracking_id, device, cause)
            asked = expectations.destination_of(call.call_id) if expectations is not None else None
            old, _ = self.discard(call.call_id)
            if old is None:
                continue  # never reported to a client: nothing to divert
            if expectations is not None:
                expectations.party_gone(old.party_id)
            party = self.new_party(call, device, old)
            destination = asked or (
                address_device(call.redirect.address) if call.redirect else None
            )
            changes.append(
                PartyDiverted(
                    event.event_type, call, party, device, destination, cause, True
                )
            )
        return changes

    def _on_releasing(self, event, device, expectations):
        call = event.call
        old = self._parties.get(call.call_id)
        party = self._party(
            call, device, FAIL,
            old.consultation_of if old is not None else None,
            old.conference if old is not None else None,
            self._redirection_of(call, old),
        )
        self.put(party)
        cause = RELEASE_CAUSES.get(call.release_cause, "destNotObtainable")
        return [PartyFailed(event.event_type, call, party, old, cause)]

    def _on_released(self, event, device, expectations):
        call = event.call
        if expectations is not None:
            transfer = expectations.transfer_of(call.call_id)
            if transfer is not None:
                changes = self._transferred_away(event, device, transfer, expectations)
                if changes is not None:
                    return changes
        old, call_gone = self.discard(call.call_id)
        if old is None:
            # Unknown (never reported, or already diverted away): no client
            # holds this connection.
            return []
        if expectations is not None:
            expectations.party_gone(old.party_id)
        if call_gone:
            self._redirections.pop(old.call_id, None)
        if call.release_cause:
            cause = RELEASE_CAUSES.get(call.release_cause, NORMAL_CLEARING)
        else:
            cause = NORMAL_CLEARING
        party = replace(old, state=NULL, xsi_state=call.state)
        return [PartyRemoved(event.event_type, call, party, call_gone, cause)]

    def _transferred_away(self, event, device, transfer, expectations):
        """The first release of a transfer asked for: both connections go in
        one change; the second release then finds nothing."""
        held_id, active_id = transfer
        held = self._parties.get(held_id)
        active = self._parties.get(active_id)
        if held is None or active is None or held.device != device or active.device != device:
            return None
        for party in (held, active):
            expectations.party_gone(party.party_id)
            if self.discard(party.party_id)[1]:
                self._redirections.pop(party.call_id, None)
        return [
            DeviceTransferred(
                event.event_type, event.call,
                replace(held, state=NULL, xsi_state=event.call.state),
                replace(active, state=NULL, xsi_state=event.call.state),
            )
        ]

    def _on_conference_started(self, event, device, expectations):
        conference = event.conference
        if conference is None:
            return []
        legs = [self._parties.get(pid) for pid in conference.participants]
        legs = [p for p in legs if p is not None and p.device == device]
        if not legs:
            return []
        key = legs[0].call_id
        parties = []
        for leg in legs:
            party = replace(leg, conference=key)
            self.put(party)
            parties.append(party)
        return [Conferenced(event.event_type, device, tuple(parties))]

    def _on_conference_released(self, event, device, expectations):
        # No CSTA event: the legs' own releases (or their staying up as plain
        # calls) tell the clients what happened. Only the links go.
        for party in self.parties_of(device):
            if party.conference is not None:
                self.put(replace(party, conference=None))
        return []


def _handlers() -> dict[str, Callable]:
    """Event type -> handler, for every call event type xsi knows: each
    single-call event is stored and reported as it says (``_on_call``) unless
    it means more."""
    meaning = {
        "CallUpdatedEvent": CallModel._on_updated,
        "CallTransferredEvent": CallModel._on_transferred,
        "CallForwardedEvent": CallModel._on_forwarded,
        "CallReleasingEvent": CallModel._on_releasing,
        "CallReleasedEvent": CallModel._on_released,
        "CallDetachedEvent": CallModel._on_released,
    }
    lists = {"CallRedirectedEvent": CallModel._on_redirected}
    conferences = {
        "ConferenceStartedEvent": CallModel._on_conference_started,
        "ConferenceReleasedEvent": CallModel._on_conference_released,
    }
    handlers = {event_type: CallModel._on_call for event_type in sorted(xsi.CALL_EVENT_TYPES)}
    handlers.update(meaning)
    handlers.update(lists)
    handlers.update(conferences)
    return handlers


# event type -> handler: the one dispatch of the hot path
_HANDLERS: dict[str, Callable] = _handlers()
