# -*- test-case-name: tests.unit.test_sim_engine -*-
"""The Application Server pair: which AS is active, its call-id space, the calls it lost.

AS failover (SPEC §4, broadworks-xsi.md §7): ``graceful`` flips the active AS
and nothing else. ``ungraceful`` orphans every call: the peer AS forgets them
and allocates ids in a fresh space (the ``k`` of ``<n>:<k>``), so new calls
never collide with the orphans. The orphans stay here until a phone hangs
up; the engine refuses call control on them (``CALL_ORPHANED``).

For each user with an orphaned *answered call received by that user* the
peer AS sends, ``resync_delay`` seconds later, a ``resync_event`` listing the
calls it knows (nothing for calls the user originated or that were still
alerting): :meth:`ApplicationServerPair.orphan` chooses those users, the
engine sends the events on its clock.
"""

from __future__ import annotations

from twisted.logger import Logger

from csta_connector import lms
from csta_connector.simulator.errors import invalid
from csta_connector.simulator.sessions import TERMINATOR

FAILOVER_MODES = ("graceful", "ungraceful")
RESYNC_EVENTS = ("CallSubscriptionEvent", "CallSubscriptionResyncEvent")


class ApplicationServerPair:
    """The primary and the secondary AS as the call engine sees them."""

    log = Logger()

    def __init__(self, resync_delay=1.0, resync_event="CallSubscriptionEvent"):
        if resync_event not in RESYNC_EVENTS:
            raise ValueError("resync_event must be one of %s" % (RESYNC_EVENTS,))
        self.resync_delay = resync_delay
        self.resync_event = resync_event
        self._active = 0  # 0 primary, 1 secondary
        self._space = 1  # the AS call-id space: the ``k`` of the ids
        self._next_session = 1
        self._next_half = 1
        self.orphan_sessions = {}  # ext_tracking_id -> Session
        self.orphan_halves = {}  # call_id -> CallHalf

    @property
    def active_name(self) -> str:
        return "primary" if self._active == 0 else "secondary"

    def new_session_id(self) -> str:
        ext_tracking_id = "%d:%d" % (self._next_session, self._space)
        self._next_session += 1
        return ext_tracking_id

    def new_call_id(self) -> str:
        call_id = "callhalf-%d:%d" % (self._next_half, self._space)
        self._next_half += 1
        return call_id

    def switch(self, mode):
        """Make the peer AS the active one (``SimulatorError`` 400 for an unknown mode)."""
        if mode not in FAILOVER_MODES:
            raise invalid("failover mode must be graceful or ungraceful, not %r" % (mode,))
        self._active = 1 - self._active

    def orphan(self, sessions):
        """The active AS forgot ``sessions`` (an ungraceful failover): keep them
        as orphans, start a fresh id space, return the users to resync."""
        self._space += 1
        self._next_session = 1
        self._next_half = 1
        resync = []
        resync_set = set()  # a list keeps the order; the set keeps it O(n)
        for session in sessions:
            session.orphaned = True
            self.orphan_sessions[session.ext_tracking_id] = session
            for half in session.halves:
                self.orphan_halves[half.call_id] = half
                user = half.user
                if user is None:
                    continue
                user.orphans.append(half)
                if (
                    half.personality == TERMINATOR
                    and half.answer_time is not None
                    and user not in resync_set
                ):
                    resync.append(user)
                    resync_set.add(user)
        return resync

    def orphan_of(self, user, call_id):
        """The orphaned half ``call_id`` of ``user``, or None."""
        orphan = self.orphan_halves.get(call_id)
        if orphan is not None and orphan.user is user:
            return orphan
        return None

    def drop(self, session):
        """A phone hung up an orphaned call: no AS knows it, so nothing is sent."""
        lms.emit(self.log, lms.SIMULATOR_ORPHAN_HUNG_UP, call=session.ext_tracking_id)
        self.orphan_sessions.pop(session.ext_tracking_id, None)
        for half in session.halves:
            self.orphan_halves.pop(half.call_id, None)
            if half.user is not None:
                half.user.orphans.remove(half)
