# -*- test-case-name: tests.unit.test_model_agents -*-
"""The state of the monitored agents (SPEC §10; reference/contact-centre.md
§10.3.3, §10.5). Pure: no Twisted, no CSTA messages.

An agent is a user with the Call Center agent service: an ACD state
(XSIDataTypes ``AgentState``: Sign-In, Available, Unavailable, Wrap-Up,
Sign-Out), per agent and not per queue, and the call centers it belongs to
(joined or not). The ``Call Center Agent`` subscription tells both:
``AgentSubscriptionEvent`` (the initial one and every refresh: compared,
:meth:`AgentModel.synchronize`), ``AgentStateEvent`` and
``ACDAgentJoinUpdateEvent`` (:meth:`AgentModel.apply`). The agent is also
*busy* while it talks on a call a call center or route point delivered
(:meth:`AgentModel.call_answered`, :meth:`AgentModel.call_ended`, read from
its Advanced Call events).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Union

from csta_connector.model.calls import user_local_part

SIGN_OUT = "Sign-Out"


@dataclass(frozen=True, slots=True)
class Agent:
    device: str  # the agent's CSTA device
    agent_id: str  # its BroadWorks user id (the CSTA agentID)
    state: str  # XSIDataTypes AgentState
    unavailable_code: str | None = None
    #: (queue device, joined) of every call center the agent belongs to
    queues: tuple[tuple[str, bool], ...] = ()
    #: the callID of the call center's call the agent talks on, else None
    busy_call: str | None = None
    #: that call ended and no event has told the state since: the state is
    #: being read again
    rereading: bool = False

    @property
    def joined(self) -> tuple[str, ...]:
        return tuple(queue for queue, joined in self.queues if joined)

    @property
    def logged_on(self) -> bool:
        return self.state != SIGN_OUT


# --- changes -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AgentStateChanged:
    """The agent's ACD state changed (``old`` None: it was not known)."""

    event_type: str
    agent: Agent
    old: Agent | None


@dataclass(frozen=True, slots=True)
class AgentJoined:
    """The agent joined (``joined``) or left a call center's queue."""

    event_type: str
    agent: Agent
    queue: str
    joined: bool


@dataclass(frozen=True, slots=True)
class AgentBusy:
    """The agent talks on a call a call center or route point delivered."""

    event_type: str
    agent: Agent
    call_id: str


AgentChange = Union[AgentStateChanged, AgentJoined, AgentBusy]


@dataclass(frozen=True, slots=True)
class AgentSyncResult:
    device: str
    #: the model's agent before (None: not known) and after
    old: Agent | None
    new: Agent
    changes: tuple = ()

    @property
    def corrected(self) -> bool:
        """The model knew the agent and had it wrong."""
        return self.old is not None and bool(self.changes)


class AgentModel:
    """The agents of the monitored agent devices, by device."""

    __slots__ = ("_device_of", "_agents")

    def __init__(self, device_of: Callable[[str], str] = user_local_part):
        self._device_of = device_of
        self._agents: dict[str, Agent] = {}

    def agent(self, device: str) -> Agent | None:
        return self._agents.get(device)

    def agents(self) -> tuple[Agent, ...]:
        return tuple(self._agents.values())

    def remove_device(self, device: str) -> Agent | None:
        return self._agents.pop(device, None)

    def __len__(self) -> int:
        return len(self._agents)

    def __contains__(self, device: str) -> bool:
        return device in self._agents

    # -------------------------------------------------------------------- apply

    def apply(self, event, device: str, agent_id: str) -> list:
        """Apply an AgentStateEvent or ACDAgentJoinUpdateEvent of ``device``;
        return the changes. An agent not known yet (no AgentSubscriptionEvent
        came) is learnt from the event."""
        event_type = event.event_type
        data = event.event_data
        old = self._agents.get(device)
        if event_type == "AgentStateEvent":
            info = data.state_info
            base = old or Agent(device, agent_id, info.state)
            new = replace(
                base, state=info.state, unavailable_code=info.unavailable_code, busy_call=None, rereading=False
            )
            self._agents[device] = new
            if old is not None and (old.state, old.unavailable_code) == (new.state, new.unavailable_code):
                return []
            return [AgentStateChanged(event_type, new, old)]
        if event_type == "ACDAgentJoinUpdateEvent":
            if old is None:
                return []  # the AgentSubscriptionEvent that follows tells all
            if data.join_info is None:
                # the agent service was taken away: it belongs to no queue
                new = replace(old, queues=())
                self._agents[device] = new
                return [AgentJoined(event_type, new, queue, False) for queue in old.joined]
            queue = self._device_of(data.join_info.acd_user_id)
            joined = data.join_info.joined
            queues = dict(old.queues)
            was = queues.get(queue)
            queues[queue] = joined
            new = replace(old, queues=tuple(queues.items()))
            self._agents[device] = new
            if was == joined:
                return []
            return [AgentJoined(event_type, new, queue, joined)]
        return []

    def synchronize(self, device: str, agent_id: str, snapshot) -> AgentSyncResult:
        """Make the agent match an AgentSubscriptionEvent: a changed state and
        every queue joined or left are changes; an agent not known yet is
        learnt without any."""
        data = snapshot.event_data
        old = self._agents.get(device)
        queues = tuple((self._device_of(j.acd_user_id), j.joined) for j in data.join_infos)
        info = data.state_info
        if info is None:
            state, code = (old.state, old.unavailable_code) if old is not None else (SIGN_OUT, None)
        else:
            state, code = info.state, info.unavailable_code
        if old is None:
            new = Agent(device, agent_id, state, code, queues)
            self._agents[device] = new
            return AgentSyncResult(device, None, new)
        changed = (old.state, old.unavailable_code) != (state, code)
        if changed:
            new = Agent(device, agent_id, state, code, queues)
        else:
            new = replace(old, queues=queues)
        self._agents[device] = new
        changes = []
        if changed:
            changes.append(AgentStateChanged(snapshot.event_type, new, old))
        before = set(old.joined)
        after = set(new.joined)
        for queue in sorted(after - before):
            changes.append(AgentJoined(snapshot.event_type, new, queue, True))
        for queue in sorted(before - after):
            changes.append(AgentJoined(snapshot.event_type, new, queue, False))
        return AgentSyncResult(device, old, new, tuple(changes))

    # ---------------------------------------------------------- the agent's calls

    def call_answered(self, device: str, call_id: str, event_type: str) -> list:
        """The agent talks on a call a call center delivered: busy."""
        old = self._agents.get(device)
        if old is None or old.busy_call == call_id or not old.logged_on:
            return []
        new = replace(old, busy_call=call_id, rereading=False)
        self._agents[device] = new
        return [AgentBusy(event_type, new, call_id)]

    def call_ended(self, device: str, call_id: str) -> Agent | None:
        """That call ended: the agent is no longer busy. Returns the agent
        when it was (its state is then to be read again: BroadWorks may send
        no AgentStateEvent when the state after the call is the one before)."""
        old = self._agents.get(device)
        if old is None or old.busy_call != call_id:
            return None
        new = replace(old, busy_call=None, rereading=True)
        self._agents[device] = new
        return new

    def state_read(self, device: str, state: str, unavailable_code: str | None, event_type: str) -> list:
        """The state read again after a busy call (GetAgentStateRequest): the
        state's change (from busy), unless an event told the state meanwhile
        (its answer is then older than the model) or the agent is busy again."""
        old = self._agents.get(device)
        if old is None or not old.rereading or old.busy_call is not None:
            return []
        new = replace(old, state=state, unavailable_code=unavailable_code, rereading=False)
        self._agents[device] = new
        return [AgentStateChanged(event_type, new, None)]
