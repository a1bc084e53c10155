"""The call engine's records: a session (one call) and its call halves (one per party).

Internal and mutable: the engine changes them in place and hands its listeners
frozen :class:`csta_connector.broadworks.xsi.Call` objects instead. The
constants are the Xsi texts of personalities, call states, hook statuses and
release causes, as the events carry them.
"""

from __future__ import annotations

from csta_connector.broadworks.xsi import RemoteParty

ORIGINATOR = "Originator"
TERMINATOR = "Terminator"
CLICK_TO_DIAL = "Click-to-Dial"

ALERTING = "Alerting"
ACTIVE = "Active"
HELD = "Held"
REMOTE_HELD = "Remote Held"
RELEASED = "Released"
DETACHED = "Detached"

OFF_HOOK = "Off-Hook"
ON_HOOK = "On-Hook"

LOCAL_RELEASE = "localRelease"
REMOTE_RELEASE = "remoteRelease"

BUSY = "Busy"
USER_NOT_FOUND = "User Not Found"
TEMPORARILY_UNAVAILABLE = "Temporarily Unavailable"


class Session:
    """One call: its ``extTrackingId`` and its halves; orphaned once no AS knows it."""

    __slots__ = ("ext_tracking_id", "halves", "orphaned", "policy_redirects")

    def __init__(self, ext_tracking_id):
        self.ext_tracking_id = ext_tracking_id
        self.halves = []
        self.orphaned = False
        self.policy_redirects = 0  # overflows and failures that sent it elsewhere


class CallHalf:
    """One party's side of a session: a user's (it gets events), a network
    party's, or a call center's or route point's (``held``: no events).

    The contact centre marks halves: ``held`` is the queue record of a call
    center's or route point's half; ``offer`` the record that offered an
    agent's (still alerting) half; ``on_end`` what runs when an agent's ACD
    call ends (its wrap-up)."""

    __slots__ = (
        "call_id",
        "session",
        "user",
        "number",
        "personality",
        "base",
        "local_held",
        "remote_held",
        "start_time",
        "answer_time",
        "held_time",
        "release_cause",
        "dialled",
        "route",
        "treatment",
        "redirect",
        "acd_call_info",
        "held",
        "offer",
        "on_end",
    )

    def __init__(self, call_id, session, user, number, personality, now):
        self.call_id = call_id
        self.session = session
        self.user = user  # addressing.User, or None for a network party
        self.number = number  # the network party's number
        self.personality = personality
        self.base = ALERTING  # ALERTING or ACTIVE; hold is kept in the flags
        self.local_held = False
        self.remote_held = False
        self.start_time = now
        self.answer_time = None
        self.held_time = None
        self.release_cause = None
        self.dialled = None  # remote party shown while there is no peer
        self.route = None  # where a click-to-dial goes once off-hook
        self.treatment = None  # the pending delayed release of a failed call
        self.redirect = None  # xsi.Redirect: who delivered the call (call-center, route-point)
        self.acd_call_info = None  # xsi_contact_centre.AcdCallInfo of an agent's ACD call
        self.held = None
        self.offer = None
        self.on_end = None

    @property
    def state(self):
        if self.base == ALERTING:
            return ALERTING
        if self.local_held:
            return HELD
        if self.remote_held:
            return REMOTE_HELD
        return ACTIVE

    @property
    def ringing(self):
        """Alerting at this party's phone, never answered: the phone is on-hook."""
        return (
            self.base == ALERTING
            and self.personality != ORIGINATOR
            and self.answer_time is None
        )

    @property
    def peer(self):
        if self.offer is not None:
            return self.offer.caller  # not the call center's own half
        for half in self.session.halves:
            if half is not self:
                return half
        return None

    @property
    def party(self) -> RemoteParty:
        if self.user is not None:
            return self.user.party
        if self.held is not None:
            return self.held.holder.subscriber.party
        return RemoteParty(address="tel:" + self.number, call_type="Network")
