# -*- test-case-name: tests.unit.test_model_routeing -*-
"""The routeing dialogue's state (SPEC §10.4; reference/contact-centre.md
§10.4.4). Pure: no Twisted, no I/O; the service (``services/route_points.py``)
sends what these records say.

**Registrations.** A CSTA client registers as the routeing server of one
routeing device (RouteRegister with routeingDevice) or of every one (none).
One registration per client and device: a second RouteRegister of the same
client for the same device gets the same routeRegisterReqID. Several clients
may register for the same route point, but **one owns its routeing at a
time**: the first registered (for that device or for every device). The
others stand by, in registration order; the next takes over when the owner
cancels, disconnects or is aborted.

**Dialogues.** One per call held at a route point that is being routed,
keyed by (route point device, queue entry ``callId``) and by its
RouteingCrossRefID (unique for the life of the process)::

    REQUESTED --RouteSelect--> SELECTED --BroadWorks accepts--> ROUTED
        ^                        |  (refused: ended; a new dialogue          |
        |                        v   while the call's retries last)          |
        +------ ReRoute (bounced, retries left) <-----------------------------+
    any --answered / transferred--> ended (RouteUsed?, RouteEnd)
    any --the call left otherwise--> ended (RouteEnd with an error)
    REQUESTED / SELECTED / ROUTED --the client's RouteEnd or RouteReject--> CLIENT_ENDED
        (the call is failed; a call still offered is failed when it bounces)

:func:`outcome` says what a change of the route point's model does to the
call's dialogue.
"""

from __future__ import annotations

import enum
import itertools
from dataclasses import dataclass
from typing import NamedTuple

from csta_connector.model.queues import EntryCleared, EntryDiverted, EntryOffered
from csta_connector.model.route_points import (
    CALL_FAILURE_DUE_TO_INACTIVITY,
    CALL_FAILURE_REQUESTED,
    ROUTE_POINT_FAILURE,
)


class DialogueState(enum.Enum):
    REQUESTED = "requested"  # RouteRequest (or ReRoute) sent: a RouteSelect is awaited
    SELECTED = "selected"  # RouteSelect taken, its BroadWorks request unanswered
    ROUTED = "routed"  # BroadWorks accepted: the call is offered or on its way
    CLIENT_ENDED = "client ended"  # the client's RouteEnd / RouteReject: the call is failed
    ENDED = "ended"


@dataclass(eq=False)
class Registration:
    register_id: str  # routeRegisterReqID
    session: object
    device: str | None  # the routeing device; None: every one
    #: (device, BroadWorks user id) of every route point it covers (and holds
    #: a subscription of)
    targets: tuple = ()
    order: int = 0

    def covers(self, device: str) -> bool:
        return any(target == device for target, _ in self.targets)


@dataclass(eq=False)
class Dialogue:
    cross_ref_id: str
    device: str  # the route point
    entry_id: str  # its queue entry's callId
    call_id: str  # the call's extTrackingId (CSTA callID)
    registration: Registration
    retries: int  # how many more destinations the client may choose for the call
    state: DialogueState = DialogueState.REQUESTED
    selected: str | None = None  # routeSelected, as the client gave it
    route_used_req: bool = False
    #: clock time of the last RouteRequest / ReRoute sent (the select's latency)
    asked_at: float = 0.0
    #: the client ended it while the call was offered: fail the call once it is back
    fail_when_back: bool = False


class Registrations:
    """Every client's registrations, and who owns each routeing device."""

    def __init__(self):
        self._by_id: dict[str, Registration] = {}
        self._ids = itertools.count(1)
        self._order = itertools.count(1)

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self):
        return iter(sorted(self._by_id.values(), key=lambda r: r.order))

    def get(self, register_id: str | None) -> Registration | None:
        return self._by_id.get(register_id) if register_id is not None else None

    def find(self, session, device: str | None) -> Registration | None:
        for registration in self._by_id.values():
            if registration.session is session and registration.device == device:
                return registration
        return None

    def add(self, session, device: str | None, targets=()) -> Registration:
        """A new registration (the caller checked there was none for this
        client and device)."""
        registration = Registration(str(next(self._ids)), session, device, tuple(targets), next(self._order))
        self._by_id[registration.register_id] = registration
        return registration

    def remove(self, registration: Registration) -> None:
        self._by_id.pop(registration.register_id, None)

    def of_session(self, session) -> list[Registration]:
        return [r for r in self if r.session is session]

    def covering(self, device: str) -> list[Registration]:
        """The registrations for ``device`` in registration order: the owner first."""
        return [r for r in self if r.covers(device)]

    def owner(self, device: str) -> Registration | None:
        covering = self.covering(device)
        return covering[0] if covering else None


class Dialogues:
    """The open dialogues, by cross reference and by call."""

    def __init__(self, prefix: str = "R"):
        self._by_xref: dict[str, Dialogue] = {}
        self._by_entry: dict[tuple[str, str], Dialogue] = {}
        self._xrefs = itertools.count(1)
        self._prefix = prefix

    def __len__(self) -> int:
        return len(self._by_xref)

    def __iter__(self):
        return iter(list(self._by_xref.values()))

    def open(self, device, entry_id, call_id, registration, retries, now=0.0) -> Dialogue:
        """A new dialogue for a call (one a call had is closed first)."""
        old = self._by_entry.get((device, entry_id))
        if old is not None:
            self.close(old)
        dialogue = Dialogue(
            "%s%d" % (self._prefix, next(self._xrefs)), device, entry_id, call_id, registration, retries,
            asked_at=now,
        )
        self._by_xref[dialogue.cross_ref_id] = dialogue
        self._by_entry[(device, entry_id)] = dialogue
        return dialogue

    def close(self, dialogue: Dialogue) -> None:
        """The dialogue is over: nothing refers to it any more."""
        dialogue.state = DialogueState.ENDED
        self._by_xref.pop(dialogue.cross_ref_id, None)
        if self._by_entry.get((dialogue.device, dialogue.entry_id)) is dialogue:
            del self._by_entry[(dialogue.device, dialogue.entry_id)]

    def by_cross_ref(self, cross_ref_id: str) -> Dialogue | None:
        return self._by_xref.get(cross_ref_id)

    def of_call(self, device: str, entry_id: str) -> Dialogue | None:
        return self._by_entry.get((device, entry_id))

    def of_device(self, device: str) -> list[Dialogue]:
        return [d for d in self._by_xref.values() if d.device == device]

    def of_registration(self, registration: Registration) -> list[Dialogue]:
        return [d for d in self._by_xref.values() if d.registration is registration]


# --- what a change of the model does to the call's dialogue -------------------------


class Action(enum.Enum):
    #: RouteUsed (if the client asked for it), then RouteEnd without an error
    SUCCEEDED = "succeeded"
    #: ReRouteRequest: the chosen destination did not take the call, it is back
    REROUTE = "reroute"
    #: no retry left: RoutePointFailCallRequest, RouteEnd with an error
    FAIL = "fail"
    #: the call left the route point otherwise: RouteEnd with an error
    ENDED = "ended"


class Outcome(NamedTuple):
    action: Action
    #: (category, value) of the RouteEnd's errorValue (ECMA-285 UniversalFailure)
    error: tuple[str, str] | None = None


#: why a dialogue ended with an error -> its errorValue (docs/protocols.md)
CALL_GONE = ("operation", "invalidCallID")
ROUTEING_TIMER_EXPIRED = ("operation", "routeingTimerExpired")
OUT_OF_SERVICE = ("systemResourceAvailability", "resourceOutOfService")
POLICY_APPLIED = ("stateIncompatibility", "invalidObjectState")
NOT_ANSWERED = ("stateIncompatibility", "invalidDestinationDeviceState")

FAILURE_ERRORS = {
    CALL_FAILURE_DUE_TO_INACTIVITY: ROUTEING_TIMER_EXPIRED,
    ROUTE_POINT_FAILURE: OUT_OF_SERVICE,
    CALL_FAILURE_REQUESTED: POLICY_APPLIED,
}
#: the events of a call that went where the client chose
SUCCESS_EVENTS = frozenset({"RoutePointCallAnsweredByAgentEvent", "RoutePointCallTransferredEvent"})


def outcome(dialogue: Dialogue, change, failure_reason: str | None = None) -> Outcome | None:
    """What ``change`` (a change of the route point model about the
    dialogue's call) does to ``dialogue``; None: nothing.
    ``failure_reason``: a RoutePointCallFailedEvent's."""
    kind = type(change)
    event_type = change.event_type
    if dialogue.state is DialogueState.CLIENT_ENDED:
        if kind is EntryOffered and event_type == "RoutePointCallBouncedEvent" and dialogue.fail_when_back:
            return Outcome(Action.FAIL)
        return Outcome(Action.ENDED) if kind in (EntryDiverted, EntryCleared) else None
    if kind is EntryDiverted:
        if event_type in SUCCESS_EVENTS and dialogue.state is not DialogueState.REQUESTED:
            return Outcome(Action.SUCCEEDED)
        if event_type == "RoutePointCallFailedEvent":
            return Outcome(Action.ENDED, FAILURE_ERRORS.get(failure_reason, POLICY_APPLIED))
        return Outcome(Action.ENDED, POLICY_APPLIED)
    if kind is EntryCleared:
        if event_type == "RoutePointCallFailedEvent":
            return Outcome(Action.ENDED, FAILURE_ERRORS.get(failure_reason, POLICY_APPLIED))
        if event_type.endswith("SubscriptionEvent") or event_type.endswith("SubscriptionResyncEvent"):
            return Outcome(Action.ENDED, OUT_OF_SERVICE)  # a stuck call, cleared by synchronization
        return Outcome(Action.ENDED, CALL_GONE)
    if kind is EntryOffered and event_type == "RoutePointCallBouncedEvent":
        if dialogue.state is DialogueState.REQUESTED:
            return None  # nothing was chosen in this dialogue
        if dialogue.retries > 0:
            return Outcome(Action.REROUTE)
        return Outcome(Action.FAIL, NOT_ANSWERED)
    return None
