# -*- test-case-name: tests.unit.test_model_queues -*-
"""The calls of the monitored ACD queues (SPEC §10; reference/contact-centre.md
§10.3.1, §10.5). Pure: no Twisted, no CSTA messages.

A BroadWorks Call Center is a CSTA ACD device; each call waiting in it is one
connection (callID, queue device). The connection is keyed by the queue
entry's ``callId`` (the queue's own call half, the party id of
synchronization and of LMS 37205); its callID is the call's
``extTrackingId``. :meth:`QueueModel.apply` takes one ``Call Center Queue``
event of one queue and returns the :class:`QueueChange` objects that say what
happened to that queue's connections (``services/translate_contact_centre.py``
makes the CSTA events); :meth:`QueueModel.synchronize` makes a queue match an
``ACDSubscriptionEvent`` (or its Resync variant).

Like ``model/calls.py`` for users, this is the one truth about the queues:
snapshots, metrics and call control on a queued connection read it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Union

from csta_connector.model.calls import SWITCHING_FUNCTION_TERMINATED, address_device, user_local_part

QUEUED = "queued"  # ECMA-269 LocalConnectionState queued (5)
NULL = "null"

ENTERING_DISTRIBUTION = "enteringDistribution"
DISTRIBUTED = "distributed"
ALERT_TIME_EXPIRED = "alertTimeExpired"
REDIRECTED = "redirected"
NORMAL_CLEARING = "normalClearing"
NO_AVAILABLE_AGENTS = "noAvailableAgents"
CALL_FORWARD_IMMEDIATE = "callForwardImmediate"
CALENDAR_OVERFLOW = "calendarOverflow"
TRANSFER = "transfer"

#: ACDCallOverflowedEvent overflowReason -> EventCause
OVERFLOW_CAUSES = {"size": "capacityOverflow", "time": "queueTimeOverflow"}
#: the policy events that send a call elsewhere -> EventCause of the Diverted
POLICY_CAUSES = {
    "ACDCallForwardedEvent": CALL_FORWARD_IMMEDIATE,
    "ACDNightPolicyAppliedEvent": CALENDAR_OVERFLOW,
    "ACDHolidayPolicyAppliedEvent": CALENDAR_OVERFLOW,
}
#: the events of a call that leaves the queue cleared -> (EventCause, the
#: caller released it rather than the queue)
CLEARING_EVENTS = {
    "ACDCallAbandonedEvent": (NORMAL_CLEARING, True),
    "ACDCallEscapedEvent": (NORMAL_CLEARING, True),
    "ACDCallReleasedEvent": (NORMAL_CLEARING, False),
    "ACDCallStrandedEvent": (NO_AVAILABLE_AGENTS, False),
    "ACDCallStrandedUnavailableEvent": (NO_AVAILABLE_AGENTS, False),
}
#: XSIDataTypes CallUpdateReason of an ACDCallUpdatedEvent that is a transfer
CALL_TRANSFERRED = "Call Transferred"
#: XSIDataTypes TreatmentCompletionReason: the caller hung up during a treatment
REMOTE_RELEASE = "remoteRelease"


@dataclass(frozen=True, slots=True)
class QueueConnection:
    """One call in one queue: the connection (call_id, device)."""

    entry_id: str  # the queue entry's callId
    call_id: str  # extTrackingId = CSTA callID
    device: str  # the queue's CSTA device
    calling: str | None  # the caller as a CSTA device; None = not known
    last_redirection: str | None = None  # who redirected the call before it came
    position: int | None = None
    offered_to: str | None = None  # the agent device the call is offered to

    @property
    def connection(self) -> tuple[str, str]:
        return (self.call_id, self.device)


# --- changes -------------------------------------------------------------------------
#
# One per thing that happened to one connection of the queue whose event it
# was; ``event_type`` is the Xsi event (the snapshot event for sync changes).


@dataclass(frozen=True, slots=True)
class EntryQueued:
    """A call entered the queue (ACDCallAdded, or found by synchronization)."""

    event_type: str
    connection: QueueConnection
    number_queued: int
    cause: str = ENTERING_DISTRIBUTION


@dataclass(frozen=True, slots=True)
class EntryOffered:
    """A queued call alerts somewhere (offered to an agent; a bounce back)."""

    event_type: str
    connection: QueueConnection
    alerting: str | None
    cause: str


@dataclass(frozen=True, slots=True)
class EntryDiverted:
    """The call left the queue for ``new_destination`` (answered by an agent,
    transferred, overflowed, forwarded...): the call goes on elsewhere."""

    event_type: str
    connection: QueueConnection
    new_destination: str | None
    cause: str


@dataclass(frozen=True, slots=True)
class EntryCleared:
    """The call left the queue released (abandoned, released, stranded, or
    stuck and cleared by synchronization). ``call_gone``: no other
    connection of that call is known."""

    event_type: str
    connection: QueueConnection
    releasing: str | None
    cause: str
    call_gone: bool


@dataclass(frozen=True, slots=True)
class EntryInformed:
    """The call's place or caller changed in the queue (promoted, reordered,
    updated)."""

    event_type: str
    connection: QueueConnection


@dataclass(frozen=True, slots=True)
class EntryTransferred:
    """The caller transferred the call while it waited (ACDCallUpdated,
    reason Call Transferred): ``connection.calling`` is the new far end."""

    event_type: str
    connection: QueueConnection
    transferring: str | None


QueueChange = Union[EntryQueued, EntryOffered, EntryDiverted, EntryCleared, EntryInformed, EntryTransferred]


@dataclass(frozen=True, slots=True)
class QueueSyncResult:
    device: str
    #: the stuck connections as they were, and whether their call is gone
    cleared: tuple[tuple[QueueConnection, bool], ...] = ()
    added: tuple[QueueConnection, ...] = ()
    changes: tuple = ()

    @property
    def in_sync(self) -> bool:
        return not (self.cleared or self.added)


def waiting_entries(entries) -> tuple:
    """The entries of a queue snapshot still waiting in the queue (an entry
    with ``removeTime``, or answered, has left it)."""
    return tuple(e for e in entries if e.remove_time is None and e.answering_user_id is None)


class QueueModel:
    """The queued connections of every monitored queue.

    Which events it reads is in three class tables (a route point's model,
    ``model/route_points.py``, has its own): ``handlers`` (event type ->
    method), ``policy_causes`` and ``clearing_events`` (as the module's
    tables of the same names)."""

    __slots__ = ("_device_of", "_call_known", "_by_device", "_by_entry", "_calls")

    policy_causes = POLICY_CAUSES
    clearing_events = CLEARING_EVENTS
    handlers: dict = {}  # _HANDLERS, once the methods exist

    def __init__(
        self,
        device_of: Callable[[str], str] = user_local_part,
        call_known: Callable[[str], bool] = lambda call_id: False,
    ):
        """``device_of(user_id)``: a user's CSTA device; ``call_known(call_id)``:
        whether some other part of the model (the users' calls) still holds a
        connection of that call (a cleared queue connection is then not the
        call's last)."""
        self._device_of = device_of
        self._call_known = call_known
        self._by_device: dict[str, dict[str, QueueConnection]] = {}
        self._by_entry: dict[str, QueueConnection] = {}
        #: callID -> how many queue connections of that call the model holds
        self._calls: dict[str, int] = {}

    # ------------------------------------------------------------------ queries

    def connections_of(self, device: str) -> tuple[QueueConnection, ...]:
        return tuple(self._by_device.get(device, {}).values())

    def waiting(self, device: str) -> int:
        return len(self._by_device.get(device, ()))

    def connection(self, call_id: str, device: str) -> QueueConnection | None:
        for connection in self._by_device.get(device, {}).values():
            if connection.call_id == call_id:
                return connection
        return None

    def entry(self, entry_id: str) -> QueueConnection | None:
        return self._by_entry.get(entry_id)

    def devices(self) -> tuple[str, ...]:
        return tuple(self._by_device)

    def __len__(self) -> int:
        return len(self._by_entry)

    def party_device(self, party) -> str | None:
        """A CSTA device of an Xsi party (a user's extension, else its number)."""
        if party is None:
            return None
        if party.user_id:
            return self._device_of(party.user_id)
        return address_device(party.address)

    # --------------------------------------------------------------- edits

    def _put(self, connection: QueueConnection) -> None:
        old = self._by_entry.get(connection.entry_id)
        if old is None or old.call_id != connection.call_id:
            if old is not None:
                self._uncount(old.call_id)
            self._calls[connection.call_id] = self._calls.get(connection.call_id, 0) + 1
        self._by_entry[connection.entry_id] = connection
        self._by_device.setdefault(connection.device, {})[connection.entry_id] = connection

    def _uncount(self, call_id: str) -> None:
        left = self._calls.get(call_id, 0) - 1
        if left > 0:
            self._calls[call_id] = left
        else:
            self._calls.pop(call_id, None)

    def _discard(self, entry_id: str) -> tuple[QueueConnection | None, bool]:
        """Remove a connection; returns (it, whether its call is now gone)."""
        connection = self._by_entry.pop(entry_id, None)
        if connection is None:
            return None, False
        held = self._by_device.get(connection.device)
        if held is not None:
            held.pop(entry_id, None)
            if not held:
                del self._by_device[connection.device]
        self._uncount(connection.call_id)
        call_id = connection.call_id
        return connection, call_id not in self._calls and not self._call_known(call_id)

    def remove_device(self, device: str) -> tuple[QueueConnection, ...]:
        """Forget a queue no longer monitored: its connections go, no changes."""
        held = self._by_device.pop(device, {})
        for entry_id, connection in held.items():
            self._by_entry.pop(entry_id, None)
            self._uncount(connection.call_id)
        return tuple(held.values())

    def _new_connection(self, entry, device, old=None, position=None, redirections=()) -> QueueConnection:
        last = old.last_redirection if old is not None else None
        if redirections:
            last = self.party_device(redirections[-1].party) or last
        return QueueConnection(
            entry.call_id,
            entry.ext_tracking_id,
            device,
            self.party_device(entry.remote_party),
            last,
            position if position is not None else (old.position if old is not None else None),
            self._device_of(entry.answering_user_id) if entry.answering_user_id else (
                old.offered_to if old is not None else None
            ),
        )

    # -------------------------------------------------------------------- apply

    def apply(self, event, device: str, destinations: dict | None = None) -> list:
        """Apply one ``Call Center Queue`` event of the queue ``device``; return
        the changes. Snapshot events change nothing here (:meth:`synchronize`).

        ``destinations``: entry id -> the destination a client asked to send
        that queued call to (a transfer out of the queue reads with it, not
        with the number BroadWorks puts in the redirect); taken when used.
        """
        event_type = event.event_type
        data = event.event_data
        if event_type in self.policy_causes:
            return self._policy(event_type, data, device)
        handler = self.handlers.get(event_type)
        if handler is None:
            if event_type in self.clearing_events:
                return self._cleared(event_type, data, device)
            if event_type.endswith("TreatmentCompletedEvent") or event_type.endswith("TreatementCompletedEvent"):
                return self._treatment_completed(event_type, data)
            return []
        return handler(self, event_type, data, device, destinations)

    def _added(self, event_type, data, device, destinations):
        old = self._by_entry.get(data.entry.call_id)
        connection = self._new_connection(data.entry, device, old, data.position, data.redirections)
        self._put(connection)
        return [EntryQueued(event_type, connection, self.waiting(device))]

    def _offered(self, event_type, data, device, destinations):
        old = self._by_entry.get(data.entry.call_id)
        connection = self._new_connection(data.entry, device, old)
        self._put(connection)
        return [EntryOffered(event_type, connection, connection.offered_to or device, DISTRIBUTED)]

    def _answered(self, event_type, data, device, destinations):
        old, _ = self._discard(data.entry.call_id)
        if old is None:
            return []  # never reported to a client
        connection = self._new_connection(data.entry, device, old)
        return [EntryDiverted(event_type, connection, connection.offered_to, DISTRIBUTED)]

    def _bounced(self, event_type, data, device, destinations):
        if data.redirect is not None:
            return self._left(event_type, data, device, destinations, REDIRECTED)
        old = self._by_entry.get(data.entry.call_id)
        connection = replace(self._new_connection(data.entry, device, old, data.position), offered_to=None)
        self._put(connection)
        return [EntryOffered(event_type, connection, device, ALERT_TIME_EXPIRED)]

    def _transferred(self, event_type, data, device, destinations):
        return self._left(event_type, data, device, destinations, REDIRECTED)

    def _overflowed(self, event_type, data, device, destinations):
        cause = OVERFLOW_CAUSES.get(data.overflow_reason, REDIRECTED)
        return self._left(event_type, data, device, destinations, cause)

    def _left(self, event_type, data, device, destinations, cause):
        """The call went elsewhere: a Diverted to where its redirect says (or
        where a client asked)."""
        entry = data.entry
        old, _ = self._discard(entry.call_id)
        if old is None:
            return []
        asked = destinations.pop(entry.call_id, None) if destinations else None
        destination = asked or (address_device(data.redirect.address) if data.redirect is not None else None)
        return [EntryDiverted(event_type, self._new_connection(entry, device, old), destination, cause)]

    def _policy(self, event_type, data, device):
        """Forced forwarding, night and holiday service: the call is sent
        elsewhere, perhaps before it was ever queued; reported either way."""
        old, _ = self._discard(data.call_id)
        connection = old or QueueConnection(
            data.call_id, data.ext_tracking_id, device, self.party_device(data.remote_party)
        )
        destination = address_device(data.redirect.address) if data.redirect is not None else None
        return [EntryDiverted(event_type, connection, destination, self.policy_causes[event_type])]

    def _cleared(self, event_type, data, device):
        entry = data.entry
        old, call_gone = self._discard(entry.call_id)
        if old is None:
            return []
        cause, by_caller = self.clearing_events[event_type]
        connection = self._new_connection(entry, device, old)
        releasing = connection.calling if by_caller else device
        return [EntryCleared(event_type, connection, releasing, cause, call_gone)]

    def _treatment_completed(self, event_type, data):
        """The caller hung up during a policy's treatment: cleared if the
        queue still held the call (the Diverted was already sent otherwise)."""
        if data.reason != REMOTE_RELEASE:
            return []
        entry_id = data.entry.call_id if hasattr(data, "entry") else data.call_id
        old, call_gone = self._discard(entry_id)
        if old is None:
            return []
        return [EntryCleared(event_type, old, old.calling, NORMAL_CLEARING, call_gone)]

    def _moved(self, event_type, data, device, destinations):
        old = self._by_entry.get(data.entry.call_id)
        if old is None:
            return []
        connection = self._new_connection(data.entry, device, old, data.position)
        self._put(connection)
        return [EntryInformed(event_type, connection)]

    def _updated(self, event_type, data, device, destinations):
        old = self._by_entry.get(data.entry.call_id)
        if old is None:
            return []
        connection = self._new_connection(data.entry, device, old)
        self._put(connection)
        if data.reason == CALL_TRANSFERRED:
            return [EntryTransferred(event_type, connection, old.calling)]
        return [EntryInformed(event_type, connection)]

    def _quiet(self, event_type, data, device, destinations):
        old = self._by_entry.get(data.entry.call_id)
        if old is not None:
            self._put(self._new_connection(data.entry, device, old))
        return []

    # -------------------------------------------------------------- synchronize

    def synchronize(self, device: str, snapshot) -> QueueSyncResult:
        """Make the queue ``device`` match a queue snapshot event (SPEC §10.5):
        a connection held but not listed is stuck (cleared, cause
        switchingFunctionTerminated); an entry listed but unknown is added
        (Queued); a known one is updated quietly."""
        event_type = snapshot.event_type
        listed = {entry.call_id: entry for entry in waiting_entries(snapshot.event_data.entries)}
        cleared = []
        changes = []
        for connection in self.connections_of(device):
            if connection.entry_id in listed:
                continue
            stuck, call_gone = self._discard(connection.entry_id)
            cleared.append((stuck, call_gone))
            changes.append(
                EntryCleared(event_type, stuck, device, SWITCHING_FUNCTION_TERMINATED, call_gone)
            )
        added = []
        for position, entry in enumerate(listed.values(), 1):
            old = self._by_entry.get(entry.call_id)
            if old is not None and old.device != device:
                continue  # another queue's entry cannot be listed here
            connection = self._new_connection(entry, device, old, position)
            self._put(connection)
            if old is None:
                added.append(connection)
                changes.append(EntryQueued(event_type, connection, len(listed)))
        return QueueSyncResult(device, tuple(cleared), tuple(added), tuple(changes))


_HANDLERS: dict[str, Callable] = {
    "ACDCallAddedEvent": QueueModel._added,
    "ACDCallOfferedToAgentEvent": QueueModel._offered,
    "ACDCallAnsweredByAgentEvent": QueueModel._answered,
    "ACDCallBouncedEvent": QueueModel._bounced,
    "ACDCallTransferredEvent": QueueModel._transferred,
    "ACDCallOverflowedEvent": QueueModel._overflowed,
    "ACDCallPromotedEvent": QueueModel._moved,
    "ACDCallReorderedEvent": QueueModel._moved,
    "ACDCallUpdatedEvent": QueueModel._updated,
    "ACDWhisperStartedEvent": QueueModel._quiet,
}
QueueModel.handlers = _HANDLERS
