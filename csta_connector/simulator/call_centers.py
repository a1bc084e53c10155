# -*- test-case-name: tests.unit.test_sim_contact_centre -*-
"""Call centers (ACD queues) and their agents (SPEC §10, reference/contact-centre.md §10.6).

A call center is a virtual subscriber (``5001@example.com``, "Queue 5001",
package ``Call Center Queue``); its agents are users. A call to it is queued
(ACDCallAddedEvent, its position) and offered, by the queue's policy, to a
joined agent that is ``Available`` and has no call (no call waiting for
agents): ACDCallOfferedToAgentEvent, and the agent's CallReceivedEvent with
``acdCallInfo`` and redirect reason ``call-center``. Then:

* the agent answers: CallAnswered (agent and caller) and
  ACDCallAnsweredByAgentEvent (``answeringUserId``, ``removeTime``); when
  that call ends the agent is ``Wrap-Up`` for ``wrap_up_seconds``, then
  ``agent_state_after_call`` (each change an AgentStateEvent);
* no answer within ``offer_seconds``, or the agent rejects it: the agent's
  phone stops, ACDCallBouncedEvent, and the call is offered again (to
  another agent when there is one);
* the caller hangs up: ACDCallAbandonedEvent;
* ``overflow_seconds`` in the queue, or a full queue (``queue_length``):
  ACDCallOverflowedEvent (``time`` / ``size``), the call goes to
  ``overflow_destination`` or gets busy;
* CTI: ACDBlindTransferRequest (ACDCallTransferredEvent),
  ACDReleaseCallRequest (ACDCallReleasedEvent), ACDPromoteCallRequest
  (ACDCallPromotedEvent), ACDReorderCallRequest (ACDCallReorderedEvent),
  GetACDRequest.

Policies (XSIDataTypes ``HuntPolicy``): ``Uniform`` offers the agent idle the
longest, ``Circular`` the next agent after the last one offered a call,
``Regular`` the first agent in order. An agent that let the call bounce is
offered it again only when no other agent can take it.

An agent's ACD state (``Sign-In``, ``Available``, ``Unavailable``,
``Wrap-Up``, ``Sign-Out``) is per agent, not per queue; it changes over CTI
(SetAgentStateRequest), on the phone (control API) or after a call, and each
change is an AgentStateEvent on the agent's ``Call Center Agent``
subscriptions. Joining or leaving a queue (the control API: an
administrator's change) is an ACDAgentJoinUpdateEvent. Agent state and
membership are profile data: they survive an AS failover.
"""

from __future__ import annotations

from twisted.logger import Logger

from csta_connector import lms
from csta_connector.broadworks import xsi_contact_centre as cc
from csta_connector.simulator.addressing import RouteKind
from csta_connector.simulator.contact_centre import CallHolder, HeldCall, action, check_destination, provision
from csta_connector.simulator.errors import ErrorCode, SimulatorError, bad_state, invalid

DEFAULT_PRIORITY = "1-High"


class Agent:
    """A user with the call center agent service: ACD state and queues."""

    __slots__ = (
        "user",
        "state",
        "state_time",
        "unavailable_code",
        "sign_in_time",
        "idle_since",
        "memberships",
        "wrap_up_timer",
        "wrap_up_call_id",
        "wrap_up_center",
    )

    def __init__(self, user, state, now):
        self.user = user
        self.state = state
        self.state_time = now
        self.unavailable_code = None
        self.sign_in_time = None if state == "Sign-Out" else now
        self.idle_since = now
        self.memberships = {}  # CallCenter -> joined, in assignment order
        self.wrap_up_timer = None
        self.wrap_up_call_id = None
        self.wrap_up_center = None

    @property
    def free(self) -> bool:
        """No call at the phone (the queue offers no call waiting to agents)."""
        return not self.user.halves and not self.user.busy

    def state_info(self) -> cc.AgentStateInfo:
        return cc.AgentStateInfo(
            state=self.state,
            state_timestamp=self.state_time,
            unavailable_code=self.unavailable_code if self.state == "Unavailable" else None,
            wrap_up_call_id=self.wrap_up_call_id,
            sign_in_timestamp=self.sign_in_time,
            wrap_up_call_center_user_id=(
                self.wrap_up_center.subscriber.user_id if self.wrap_up_center is not None else None
            ),
        )


class QueuedCall(HeldCall):
    __slots__ = ("priority", "order", "bucket_time", "reordered", "overflow_timer", "bounced_by")

    def __init__(self, holder, half, caller, now):
        super().__init__(holder, half, caller, now)
        self.priority = DEFAULT_PRIORITY
        self.order = 0  # the order within its priority: the time it got that priority
        self.bucket_time = None  # when a promotion gave it its priority
        self.reordered = False
        self.overflow_timer = None
        self.bounced_by = set()  # agents that let it bounce


class CallCenter(CallHolder):
    """One call center: its queue, its agents, its policy."""

    package = cc.CALL_CENTER_QUEUE
    record_class = QueuedCall
    _abandoned_event = "ACDCallAbandonedEvent"
    _updated_event = "ACDCallUpdatedEvent"

    def __init__(self, engine, manager, subscriber, settings):
        super().__init__(engine, subscriber, settings)
        self.manager = manager
        self.policy = settings.queue_policy
        self.agents: list[Agent] = []  # assigned, in order
        self.last_offered = None
        self._orders = 0

    def entry(self, record, answered_by=None) -> cc.QueueEntry:
        return cc.QueueEntry(
            call_id=record.call_id,
            ext_tracking_id=record.ext_tracking_id,
            remote_party=record.caller.party,
            add_time=record.add_time,
            acd_name=self.subscriber.name,
            acd_number=self.subscriber.party.address,
            remove_time=record.remove_time,
            bounced=record.bounced,
            reordered=record.reordered,
            acd_priority=record.priority,
            add_time_in_priority_bucket=record.bucket_time,
            answering_user_id=answered_by.user.user_id if answered_by is not None else None,
            answering_call_id=answered_by.call_id if answered_by is not None else None,
        )

    def _sort(self):
        self.calls.sort(key=lambda r: (cc.ACD_PRIORITIES.index(r.priority), r.order))

    # -- calls in -----------------------------------------------------------

    def accept(self, caller, route):
        """A call arrives (the engine's delivery for RouteKind.CALL_CENTER)."""
        record = self.take(caller)
        if len(self.calls) >= self.settings.queue_length:
            self.send_caller_to_policy(
                record, self.settings.overflow_destination, "ACDCallOverflowedEvent", "call-center",
                overflow_reason="size",
            )
            return
        self._orders += 1
        record.order = self._orders
        self.calls.append(record)
        self._sort()
        self.emit("ACDCallAddedEvent", record, position=self.position(record))
        if self.settings.overflow_seconds > 0:
            record.overflow_timer = self.engine._call_later(self.settings.overflow_seconds, self._overflow, record)
        self.distribute()

    def _overflow(self, record):
        record.overflow_timer = None
        if record in self.calls:
            self.send_caller_to_policy(
                record, self.settings.overflow_destination, "ACDCallOverflowedEvent", "call-center",
                overflow_reason="time",
            )

    def _stop_timers(self, record):
        super()._stop_timers(record)
        self.engine._cancel(record.overflow_timer)
        record.overflow_timer = None

    # -- distribution -------------------------------------------------------

    def distribute(self):
        """Offer every waiting call an agent can take, in queue order."""
        for record in list(self.calls):
            if record.offer is not None or record not in self.calls:
                continue
            agent = self._pick(record)
            if agent is None:
                continue
            self.last_offered = agent
            self.offer_to(record, agent.user, "call-center")
            self.emit("ACDCallOfferedToAgentEvent", record)

    def _pick(self, record):
        candidates = [
            agent for agent in self.agents
            if agent.memberships.get(self) and agent.state == "Available" and agent.free
        ]
        fresh = [agent for agent in candidates if agent not in record.bounced_by]
        candidates = fresh or candidates
        if not candidates:
            return None
        if self.policy == "Regular":
            return candidates[0]
        if self.policy == "Circular":
            if self.last_offered in self.agents:
                start = self.agents.index(self.last_offered)
                for agent in self.agents[start + 1:] + self.agents[: start + 1]:
                    if agent in candidates:
                        return agent
            return candidates[0]
        return min(candidates, key=lambda agent: agent.idle_since)  # Uniform: the longest idle

    def _bounced(self, record, user):
        agent = self.manager.agents.get(user.user_id)
        if agent is not None:
            record.bounced_by.add(agent)
        self.emit("ACDCallBouncedEvent", record)
        self.distribute()

    def _answered(self, record, half, entry):
        self.emit("ACDCallAnsweredByAgentEvent", record, entry)
        agent = self.manager.agents.get(half.user.user_id)
        if agent is not None:
            half.on_end = lambda: self.manager.call_ended(agent, self, half.call_id)

    # -- CTI (CTIACD) -------------------------------------------------------

    @action
    def blind_transfer(self, call_id, address):
        """ACDBlindTransferRequest: the call leaves the queue for ``address``."""
        record = self.record(call_id)
        route = self.destination(address)
        self.send_caller(record, route, "transfer", "ACDCallTransferredEvent")

    @action
    def release(self, call_id):
        """ACDReleaseCallRequest: the call leaves the queue, the caller is released."""
        self.release_caller(self.record(call_id), "ACDCallReleasedEvent")

    @action
    def promote(self, call_id, priority) -> int:
        """ACDPromoteCallRequest: a higher priority (never a lower one); the new position."""
        record = self.record(call_id)
        if priority not in cc.ACD_PRIORITIES:
            raise invalid("priority must be one of %s" % ", ".join(cc.ACD_PRIORITIES))
        if record.bounced:
            raise bad_state("call %s has bounced: it cannot be promoted" % call_id)
        if cc.ACD_PRIORITIES.index(priority) >= cc.ACD_PRIORITIES.index(record.priority):
            raise bad_state("call %s is %s: a call can only be promoted" % (call_id, record.priority))
        record.priority = priority
        record.bucket_time = self.engine._now()
        self._orders += 1
        record.order = self._orders  # behind the calls that had the priority before
        self._sort()
        position = self.position(record)
        self.emit("ACDCallPromotedEvent", record, position=position)
        return position

    @action
    def reorder(self, call_id, index) -> int:
        """ACDReorderCallRequest: move a ``0-Highest`` call to ``index`` (from 1)
        among the calls of that priority; the new position."""
        record = self.record(call_id)
        try:
            index = int(index)
        except (TypeError, ValueError):
            raise invalid("index must be a number from 1") from None
        if index < 1:
            raise invalid("index must be a number from 1")
        if record.priority != cc.ACD_PRIORITIES[0] or record.bounced:
            raise bad_state("only a 0-Highest call that has not bounced can be reordered")
        bucket = [r for r in self.calls if r.priority == record.priority]
        orders = sorted(r.order for r in bucket)
        bucket.remove(record)
        bucket.insert(min(index - 1, len(bucket)), record)
        for r, order in zip(bucket, orders):
            r.order = order
        record.reordered = True
        self._sort()
        position = self.position(record)
        self.emit("ACDCallReorderedEvent", record, position=position)
        return position

    # -- views --------------------------------------------------------------

    def view(self) -> dict:
        return {
            "acd": self.subscriber.extension,
            "userId": self.subscriber.user_id,
            "policy": self.policy,
            "agents": [
                {"agent": agent.user.extension, "joined": agent.memberships.get(self, False)}
                for agent in self.agents
            ],
            "calls": len(self.calls),
        }


class CallCenters:
    """Every call center and agent of the platform."""

    log = Logger()

    def __init__(self, engine, settings):
        self.engine = engine
        self.settings = settings
        self.centers: list[CallCenter] = []
        self.agents: dict[str, Agent] = {}  # user id -> Agent
        directory = engine._directory
        now = engine._now()
        for extension, members in settings.call_centers:
            subscriber = provision(engine, extension, "Queue %s" % extension, RouteKind.CALL_CENTER, self.log)
            if subscriber is None:
                continue
            center = CallCenter(engine, self, subscriber, settings)
            self.centers.append(center)
            for member in members:
                user = directory.user_by_address(member)
                if user is None:
                    lms.emit(self.log, lms.SIMULATOR_AGENT_UNKNOWN, agent=member, extension=extension)
                    continue
                agent = self.agents.get(user.user_id)
                if agent is None:
                    agent = self.agents[user.user_id] = Agent(user, settings.initial_agent_state, now)
                agent.memberships[center] = True
                center.agents.append(agent)
        check_destination(engine, "overflow-destination", settings.overflow_destination)

    # -- lookups ------------------------------------------------------------

    def center(self, address) -> CallCenter:
        subscriber = self.engine._directory.virtual(address)
        if subscriber is None or not isinstance(subscriber.holder, CallCenter):
            raise SimulatorError(404, ErrorCode.UNKNOWN_QUEUE, "no call center %r" % (address,))
        return subscriber.holder

    def agent(self, address) -> Agent:
        user = self.engine._directory.user_by_address(address)
        agent = self.agents.get(user.user_id) if user is not None else None
        if agent is None:
            raise SimulatorError(404, ErrorCode.UNKNOWN_AGENT, "%r is not a call center agent" % (address,))
        return agent

    # -- agent state --------------------------------------------------------

    @action
    def set_agent_state(self, address, state, unavailable_code=None) -> cc.AgentStateInfo:
        """The agent's ACD state, set over CTI or on the phone: always an
        AgentStateEvent; no transition is refused."""
        agent = self.agent(address)
        if state not in cc.AGENT_STATES:
            raise invalid("agent state must be one of %s" % ", ".join(cc.AGENT_STATES))
        if unavailable_code is not None and not 1 <= len(str(unavailable_code)) <= 10:
            raise invalid("an unavailable code has 1 to 10 characters")
        self._set_state(agent, state, unavailable_code)
        return agent.state_info()

    def _set_state(self, agent, state, unavailable_code=None, wrap_up=None):
        now = self.engine._now()
        was_available = agent.state == "Available"
        self.engine._cancel(agent.wrap_up_timer)
        agent.wrap_up_timer = None
        agent.wrap_up_call_id, agent.wrap_up_center = wrap_up if wrap_up is not None else (None, None)
        if agent.state == "Sign-Out" and state != "Sign-Out":
            agent.sign_in_time = now
        elif state == "Sign-Out":
            agent.sign_in_time = None
        agent.state = state
        agent.state_time = now
        agent.unavailable_code = unavailable_code if state == "Unavailable" else None
        self.engine._emit(
            agent.user, "AgentStateEvent", package=cc.CALL_CENTER_AGENT,
            event_data=cc.AgentStateChange(agent.state_info()),
        )
        if state == "Available":
            if not was_available:
                agent.idle_since = now
            self._offer_calls_to(agent)

    def _offer_calls_to(self, agent):
        for center, joined in list(agent.memberships.items()):
            if joined and agent.state == "Available" and agent.free:
                center.distribute()

    def call_ended(self, agent, center, call_id):
        """An agent's ACD call ended: wrap-up, then the state after a call."""
        agent.idle_since = self.engine._now()
        if agent.state != "Available":
            return  # the agent changed state during the call: that stands
        after = self.settings.agent_state_after_call
        if self.settings.wrap_up_seconds > 0:
            self._set_state(agent, "Wrap-Up", wrap_up=(call_id, center))
            agent.wrap_up_timer = self.engine._call_later(self.settings.wrap_up_seconds, self._wrapped_up, agent)
        elif after != "Available":
            self._set_state(agent, after, wrap_up=(call_id, center) if after == "Wrap-Up" else None)

    def _wrapped_up(self, agent):
        agent.wrap_up_timer = None
        if agent.state == "Wrap-Up":
            after = self.settings.agent_state_after_call
            if after == "Wrap-Up":
                agent.wrap_up_call_id = agent.wrap_up_center = None  # stays, until the agent moves on
            else:
                self._set_state(agent, after)

    def user_free(self, user):
        """A user's last call ended: an Available agent takes the next call."""
        agent = self.agents.get(user.user_id)
        if agent is not None and agent.state == "Available" and agent.free:
            self._offer_calls_to(agent)

    @action
    def join(self, address, center_address, joined) -> cc.JoinInfo:
        """The administrator joins the agent to a call center or takes it out
        (an ACDAgentJoinUpdateEvent); joining assigns the agent if need be."""
        center = self.center(center_address)
        user = self.engine._directory.user_by_address(address)
        if user is None:
            raise SimulatorError(404, ErrorCode.UNKNOWN_USER, "unknown user %r" % (address,))
        agent = self.agents.get(user.user_id)
        if agent is None or center not in agent.memberships:
            if not joined:
                raise SimulatorError(
                    404, ErrorCode.UNKNOWN_AGENT, "%s is no agent of %s" % (user.user_id, center.subscriber.user_id)
                )
            if agent is None:
                agent = self.agents[user.user_id] = Agent(user, self.settings.initial_agent_state, self.engine._now())
            center.agents.append(agent)
        agent.memberships[center] = bool(joined)
        info = cc.JoinInfo(center.subscriber.user_id, bool(joined))
        self.engine._emit(
            agent.user, "ACDAgentJoinUpdateEvent", package=cc.CALL_CENTER_AGENT,
            event_data=cc.AgentJoinUpdate(info),
        )
        if joined:
            self._offer_calls_to(agent)
        return info

    # -- views --------------------------------------------------------------

    def agent_snapshot(self, address) -> cc.AgentSnapshot:
        """The AgentSubscriptionEvent of an agent."""
        agent = self.agent(address)
        return cc.AgentSnapshot(
            tuple(cc.JoinInfo(c.subscriber.user_id, joined) for c, joined in agent.memberships.items()),
            agent.state_info(),
        )

    def agent_settings(self, address) -> cc.CallCenterSettings:
        """The ``xsi:CallCenter`` answer of GetAgentStateRequest."""
        agent = self.agent(address)
        return cc.CallCenterSettings(
            agent.state,
            agent.unavailable_code if agent.state == "Unavailable" else None,
            tuple(
                cc.CallCenterDetails(
                    c.subscriber.user_id, joined, c.subscriber.number, c.subscriber.extension
                )
                for c, joined in agent.memberships.items()
            ),
        )

    def agent_view(self, address) -> dict:
        agent = self.agent(address)
        return {
            "agent": agent.user.extension,
            "userId": agent.user.user_id,
            "state": agent.state,
            "unavailableCode": agent.unavailable_code if agent.state == "Unavailable" else None,
            "queues": [{"acd": c.subscriber.extension, "joined": joined} for c, joined in agent.memberships.items()],
        }

    def forget_calls(self) -> list:
        """The ungraceful failover: the centers that held calls."""
        return [center for center in self.centers if center.forget_calls()]

    @property
    def queued_calls(self) -> int:
        return sum(len(center.calls) for center in self.centers)

    @property
    def agents_available(self) -> int:
        return sum(1 for agent in self.agents.values() if agent.state == "Available")
