# -*- test-case-name: tests.unit.test_xsi_contact_centre -*-
"""The contact-centre packages of Xsi: typed eventData and bodies (pure: no Twisted).

Three event packages (XSISchema ``Events/XSISubscription.xsd`` ``EventPackage``):

* ``Call Center Queue`` (ACD events, ``ACD/Events/XSIACDEvents.xsd``): the
  calls of a BroadWorks Call Center, each an ``ACDQueueEntry``;
* ``Route Point Queue`` (``RoutePoint/Events/XSIRoutePointEvents.xsd``): the
  calls held at a Route Point (``RoutePointQueueEntry``), their treatments
  (play-collect operations) and the route point's own state;
* ``Call Center Agent`` (``Agent/Events/XSIAgentEvents.xsd``): an agent's ACD
  state and the call centers it has joined.

:class:`csta_connector.broadworks.xsi.SubscriptionEvent` carries the eventData
of these events in ``event_data``, as one of the NamedTuples below:

=============================  ===============================================
``QueueEntryEvent``            every event about one queue entry (XSD base
                               types ``ACDEvent`` and ``RoutePointEvent``)
``QueuePolicyEvent``           the policy events that carry the entry's
                               fields flat (Forwarded, Night, Holiday, and the
                               route point's NewCall and CallRejected)
``QueueSnapshot``              ``ACDSubscriptionEvent``,
                               ``RoutePointSubscriptionEvent`` (and Resync)
``AgentSnapshot``              ``AgentSubscriptionEvent``
``AgentStateChange``           ``AgentStateEvent``
``AgentJoinUpdate``            ``ACDAgentJoinUpdateEvent``
``DispositionCodeAdded``       ``AgentDispositionCodeAddedEvent``
``RoutePointStateChange``      ``RoutePointFailedEvent`` / ``RoutePointRecoveredEvent``
=============================  ===============================================

Events of the packages this product does not subscribe (``Call Center
Monitoring``, ``Call Center Configuration``, ``Call Center Agent
Monitoring``) are not listed in :data:`EVENT_TYPES`: they parse as
``xsi.UnknownEvent``.

The same module builds and reads the Xsi bodies of the CTI requests of
CTISchema ACD, Agent, RoutePoint and System (``xsi:CallCenter``,
``xsi:RoutePointDistribute``, the ``xsi:RoutePointPlay*`` elements,
``xsi:RoutePointState``, ``xsi:ApplicationController``, ``xsi:ACDPromote``)
and of their responses (``xsi:ACDQueue``, ``xsi:RoutePointQueue``,
``xsi:QueueCallOrder``, ``xsi:RoutePointPlayInfo``). Element order follows the
schemas; built documents validate (``tests/unit/test_xsi_contact_centre.py``).

Writing is string joins, as in ``xsi.py`` (the simulator writes one document
per event); elements for request and response payloads are parsed from that
text. Reading is namespace-aware and tolerant of unknown children.

Times are epoch milliseconds (XSD ``Timestamp``), as everywhere in Xsi.
"""

from __future__ import annotations

from typing import NamedTuple

# The names come first: xsi.py imports this module at its end for them, and
# this module then imports xsi's types (whichever of the two is imported first).

CALL_CENTER_QUEUE = "Call Center Queue"
ROUTE_POINT_QUEUE = "Route Point Queue"
CALL_CENTER_AGENT = "Call Center Agent"
PACKAGES = (CALL_CENTER_QUEUE, ROUTE_POINT_QUEUE, CALL_CENTER_AGENT)

#: XSIDataTypes ``AgentState``
AGENT_STATES = ("Sign-In", "Available", "Unavailable", "Wrap-Up", "Sign-Out")
#: XSIDataTypes ``AgentUnavailableCode``: a token of 1 to this many characters
MAX_UNAVAILABLE_CODE = 10
#: XSIACD ``AgentACDAutomaticState`` (the state after a call's wrap-up)
AGENT_AUTOMATIC_STATES = ("Available", "Unavailable", "Wrap-Up")
#: XSIACD ``ACDPriorityType``, highest first
ACD_PRIORITIES = ("0-Highest", "1-High", "2-Medium", "3-Low")
#: XSIDataTypes ``HuntPolicy``
HUNT_POLICIES = ("Circular", "Regular", "Simultaneous", "Uniform", "Weighted")
#: XSIRoutePoint ``PlayCompletionReason``
PLAY_COMPLETION_REASONS = (
    "Match", "NoMatch", "Timeout", "EOF", "Stopped-OutOfQueue", "Stopped-NewPlayCollect",
    "Stopped-OfferedWithRingback", "Error",
)
#: XSIRoutePoint ``RoutePointState``
ROUTE_POINT_STATES = ("Normal", "Failed")
#: XSISystem ``ApplicationControllerState``
APPLICATION_CONTROLLER_STATES = ("ready", "not ready")

# Events about one queue entry: event type -> the elements after queueEntry,
# in schema order (an element name; "name?" marks nothing, the writer skips
# every absent value and the schema says what is mandatory).
_ACD_ENTRY_EVENTS = {
    "ACDCallAbandonedEvent": ("entrancePlaying",),
    "ACDCallAddedEvent": ("position", "redirections"),
    "ACDCallAnsweredByAgentEvent": (),
    "ACDCallBouncedEvent": ("position", "redirect"),
    "ACDCallEscapedEvent": (),
    "ACDCallOfferedToAgentEvent": (),
    "ACDCallOverflowedEvent": ("overflowReason", "redirect", "treatmentStarted", "redirections"),
    "ACDCallOverflowedTreatmentCompletedEvent": ("overflowReason", "redirect", "reason"),
    "ACDCallPromotedEvent": ("position",),
    "ACDCallReleasedEvent": (),
    "ACDCallReorderedEvent": ("position",),
    "ACDCallStrandedEvent": ("redirect", "treatmentStarted", "redirections"),
    "ACDCallStrandedTreatementCompletedEvent": ("redirect", "reason"),
    "ACDCallStrandedUnavailableEvent": ("redirect", "treatmentStarted"),
    "ACDCallStrandedUnavailableTreatementCompletedEvent": ("redirect", "reason"),
    "ACDCallTransferredEvent": ("redirect",),
    "ACDCallUpdatedEvent": ("reason",),
    "ACDWhisperStartedEvent": (),
}
_PLAY_COMPLETED = ("playCollectResult",)
_ROUTE_POINT_ENTRY_EVENTS = {
    "RoutePointBusyStartedEvent": (),
    "RoutePointBusyCompletedEvent": _PLAY_COMPLETED,
    "RoutePointMOHStartedEvent": (),
    "RoutePointMOHCompletedEvent": _PLAY_COMPLETED,
    "RoutePointRingbackStartedEvent": (),
    "RoutePointRingbackCompletedEvent": _PLAY_COMPLETED,
    "RoutePointSilenceStartedEvent": (),
    "RoutePointSilenceCompletedEvent": _PLAY_COMPLETED,
    "RoutePointTreatmentStartedEvent": (),
    "RoutePointTreatmentCompletedEvent": _PLAY_COMPLETED,
    "RoutePointCallAbandonedEvent": (),
    "RoutePointCallAddedEvent": ("redirections",),
    "RoutePointCallAnsweredByAgentEvent": (),
    "RoutePointCallBouncedEvent": ("redirect",),
    "RoutePointCallFailedEvent": ("failureReason", "redirect"),
    "RoutePointCallOfferedToAgentEvent": (),
    "RoutePointCallOverflowedEvent": ("overFlowReason", "redirect", "treatmentStarted", "redirections"),
    "RoutePointCallOverflowedTreatmentCompletedEvent": ("overFlowReason", "redirect", "reason"),
    "RoutePointCallReleasedEvent": ("releaseReason", "outgoingCallReleaseCause", "cpdResult"),
    "RoutePointCallTransferredEvent": ("redirect",),
    "RoutePointCallUpdatedEvent": ("cpdResult", "reason"),
    "RoutePointWhisperStartedEvent": (),
    "RoutePointOutgoingCallOriginatedEvent": (),
    "RoutePointOutgoingCallAnsweredEvent": (),
    "RoutePointConnectingToVoiceXMLEvent": (),
    "RoutePointConnectedToVoiceXMLEvent": (),
    "RoutePointFailedVoiceXMLEvent": (),
}
# Policy events with the entry's fields flat: the elements after remoteParty.
_APPLIED = ("redirect", "treatmentStarted", "redirections")
_TREATED = ("redirect", "reason")
_POLICY_EVENTS = {
    "ACDCallForwardedEvent": _APPLIED,
    "ACDCallForwardedTreatmentCompletedEvent": _TREATED,
    "ACDHolidayPolicyAppliedEvent": _APPLIED,
    "ACDHolidayPolicyTreatmentCompletedEvent": _TREATED,
    "ACDNightPolicyAppliedEvent": _APPLIED,
    "ACDNightPolicyTreatmentCompletedEvent": _TREATED,
    "RoutePointCallForwardedEvent": _APPLIED,
    "RoutePointCallForwardedTreatmentCompletedEvent": _TREATED,
    "RoutePointHolidayPolicyAppliedEvent": _APPLIED,
    "RoutePointHolidayPolicyTreatmentCompletedEvent": _TREATED,
    "RoutePointNightPolicyAppliedEvent": _APPLIED,
    "RoutePointNightPolicyTreatmentCompletedEvent": _TREATED,
    "RoutePointNewCallEvent": ("receiveTime", "redirections"),
    "RoutePointCallRejectedEvent": ("redirections", "rejectReason"),
}
QUEUE_SNAPSHOT_TYPES = frozenset(
    {
        "ACDSubscriptionEvent",
        "ACDSubscriptionResyncEvent",
        "RoutePointSubscriptionEvent",
        "RoutePointSubscriptionResyncEvent",
    }
)
AGENT_EVENT_TYPES = frozenset(
    {"AgentSubscriptionEvent", "AgentStateEvent", "ACDAgentJoinUpdateEvent", "AgentDispositionCodeAddedEvent"}
)
ROUTE_POINT_STATE_EVENT_TYPES = frozenset({"RoutePointFailedEvent", "RoutePointRecoveredEvent"})
ENTRY_EVENT_TYPES = frozenset(_ACD_ENTRY_EVENTS) | frozenset(_ROUTE_POINT_ENTRY_EVENTS)
POLICY_EVENT_TYPES = frozenset(_POLICY_EVENTS)
ACD_EVENT_TYPES = frozenset(
    name for name in ENTRY_EVENT_TYPES | POLICY_EVENT_TYPES | QUEUE_SNAPSHOT_TYPES if name.startswith("ACD")
)
ROUTE_POINT_EVENT_TYPES = (
    frozenset(
        name for name in ENTRY_EVENT_TYPES | POLICY_EVENT_TYPES | QUEUE_SNAPSHOT_TYPES
        if name.startswith("RoutePoint")
    )
    | ROUTE_POINT_STATE_EVENT_TYPES
)
#: every event type of the three packages this module reads and writes
EVENT_TYPES = ACD_EVENT_TYPES | ROUTE_POINT_EVENT_TYPES | AGENT_EVENT_TYPES
#: the package each event type belongs to
PACKAGE_OF = {
    **dict.fromkeys(ACD_EVENT_TYPES, CALL_CENTER_QUEUE),
    **dict.fromkeys(ROUTE_POINT_EVENT_TYPES, ROUTE_POINT_QUEUE),
    **dict.fromkeys(AGENT_EVENT_TYPES, CALL_CENTER_AGENT),
}

from lxml import etree  # noqa: E402

from csta_connector.broadworks.xsi import (  # noqa: E402
    XSI_NS,
    Redirect,
    RemoteParty,
    XsiParseError,
    _int,
    _leaf,
    _local,
    _parse_remote_party,
    _text,
)

# --------------------------------------------------------------------------
# types


class Redirection(NamedTuple):
    """XSIDataTypes ``Redirection``: one party that redirected the call before."""

    party: RemoteParty | None = None
    reason: str | None = None
    counter: int | None = None


class QueueEntry(NamedTuple):
    """XSIACD ``ACDQueueEntry``: one call in a Call Center's queue.

    ``call_id`` is the queue's own call half; ``ext_tracking_id`` is shared
    with every other party of the call."""

    call_id: str
    ext_tracking_id: str
    remote_party: RemoteParty
    add_time: int
    acd_name: str
    acd_number: str
    remove_time: int | None = None
    mandatory_entrance: bool = False
    bounced: bool = False
    reordered: bool = False
    preserved_wait_time: int | None = None
    acd_priority: str | None = None
    add_time_in_priority_bucket: int | None = None
    preserved_wait_time_in_priority_bucket: int | None = None
    answering_user_id: str | None = None
    answering_call_id: str | None = None
    answering_network_call_id: str | None = None


class PlayCollectInfo(NamedTuple):
    """XSIRoutePoint ``PlayCollectInfo``: the treatment running on a route point call."""

    play_collect_id: str
    play_collect_type: str  # Treatment | MOH | Ringback | Busy | Silence


class PlayCollectResult(NamedTuple):
    """XSIRoutePoint ``PlayCollectResult``: how a treatment ended."""

    play_collect_id: str
    completion_reason: str  # PLAY_COMPLETION_REASONS
    digits: str | None = None
    error_reason: str | None = None


class RoutePointQueueEntry(NamedTuple):
    """XSIRoutePoint ``RoutePointQueueEntry``: one call held at a Route Point."""

    call_id: str
    ext_tracking_id: str
    remote_party: RemoteParty
    route_point_name: str
    route_point_number: str
    add_time: int | None = None
    remove_time: int | None = None
    bounced: bool = False
    play_collect_info: PlayCollectInfo | None = None
    outgoing_call: bool = False
    outgoing_call_answer_time: int | None = None
    answering_user_id: str | None = None
    answering_call_id: str | None = None
    answering_network_call_id: str | None = None


class AgentStateInfo(NamedTuple):
    """XSIAgent ``AgentStateInformation`` (the severities of the timestamps are not kept)."""

    state: str  # AGENT_STATES
    state_timestamp: int
    unavailable_code: str | None = None
    wrap_up_call_id: str | None = None
    sign_in_timestamp: int | None = None
    total_available_time: int | None = None
    average_wrap_up_time: int | None = None
    wrap_up_call_center_user_id: str | None = None


class JoinInfo(NamedTuple):
    """XSIAgent ``ACDAgentJoinInfo``: one call center an agent belongs to."""

    acd_user_id: str
    joined: bool = False
    skill_level: int | None = None


class AcdCallInfo(NamedTuple):
    """XSIDataTypes ``ACDCallInfo``: on an agent's call that a call center (or,
    with ``route_point``, a route point) delivered."""

    acd_user_id: str
    acd_name: str
    acd_number: str
    num_calls_in_queue: int
    wait_time: int  # seconds
    calling_party_info: RemoteParty
    longest_wait_time: int | None = None
    hold_reminder: bool = False
    route_point: bool = False
    disposition_code: str | None = None
    post_call_agent_state: str | None = None


# eventData


class QueueEntryEvent(NamedTuple):
    """An ACD or Route Point event about one queue entry; the optional fields are
    those of the event type (see the schema for which it has)."""

    entry: QueueEntry | RoutePointQueueEntry
    position: int | None = None
    redirect: Redirect | None = None
    redirections: tuple[Redirection, ...] = ()
    entrance_playing: bool = False
    treatment_started: bool = False
    overflow_reason: str | None = None  # size | time
    reason: str | None = None  # CallUpdateReason, or TreatmentCompletionReason
    failure_reason: str | None = None  # RoutePointCallFailureReason
    release_reason: str | None = None  # RoutePointCallReleaseReason
    outgoing_call_release_cause: str | None = None  # its internalReleaseCause
    cpd_result: str | None = None
    play_collect_result: PlayCollectResult | None = None


class QueuePolicyEvent(NamedTuple):
    """A policy event of a call center or route point (the entry's fields flat):
    ``name`` / ``number`` are the acdName/acdNumber or routePointName/Number."""

    call_id: str
    ext_tracking_id: str
    name: str
    number: str
    remote_party: RemoteParty
    redirect: Redirect | None = None
    treatment_started: bool = False
    redirections: tuple[Redirection, ...] = ()
    reason: str | None = None  # TreatmentCompletionReason
    receive_time: int | None = None  # RoutePointNewCallEvent
    reject_reason: str | None = None  # RoutePointCallRejectedEvent


class QueueSnapshot(NamedTuple):
    """``ACDSubscriptionEvent`` / ``RoutePointSubscriptionEvent`` (and their
    Resync types): every entry the queue holds."""

    entries: tuple = ()


class AgentSnapshot(NamedTuple):
    """``AgentSubscriptionEvent``: the call centers of the agent and its state."""

    join_infos: tuple[JoinInfo, ...] = ()
    state_info: AgentStateInfo | None = None


class AgentStateChange(NamedTuple):
    """``AgentStateEvent``."""

    state_info: AgentStateInfo


class AgentJoinUpdate(NamedTuple):
    """``ACDAgentJoinUpdateEvent``: ``join_info`` is None when the agent service
    was unassigned."""

    join_info: JoinInfo | None = None


class DispositionCodeAdded(NamedTuple):
    """``AgentDispositionCodeAddedEvent``."""

    disposition_code: str
    call_id: str


class RoutePointStateChange(NamedTuple):
    """``RoutePointFailedEvent`` (with the reason) or ``RoutePointRecoveredEvent``."""

    state_change_reason: str | None = None  # FailureDetected | ExternalRequest


# --------------------------------------------------------------------------
# writing


def _flag(out, name, present):
    if present:
        out.append("<xsi:%s/>" % name)


def _write_party(out, tag, party: RemoteParty):
    out.append("<xsi:%s>" % tag)
    if party.name:
        _leaf(out, "name", party.name)
    if party.address:
        _leaf(out, "address", party.address)
    if party.user_id:
        _leaf(out, "userId", party.user_id)
    if party.user_dn:
        _leaf(out, "userDN", party.user_dn)
    if party.call_type:
        _leaf(out, "callType", party.call_type)
    out.append("</xsi:%s>" % tag)


def _write_redirect(out, redirect: Redirect):
    out.append("<xsi:redirect>")
    if redirect.address:
        _leaf(out, "address", redirect.address)
    _leaf(out, "reason", redirect.reason)
    _leaf(out, "redirectTime", redirect.redirect_time)
    out.append("</xsi:redirect>")


def _write_redirections(out, redirections):
    if not redirections:
        return
    out.append("<xsi:redirections>")
    for redirection in redirections:
        out.append("<xsi:redirection>")
        if redirection.party is not None:
            _write_party(out, "party", redirection.party)
        if redirection.reason:
            _leaf(out, "reason", redirection.reason)
        if redirection.counter is not None:
            _leaf(out, "counter", redirection.counter)
        out.append("</xsi:redirection>")
    out.append("</xsi:redirections>")


def _optional(out, name, value):
    if value is not None:
        _leaf(out, name, value)


def write_queue_entry(out, entry, tag="queueEntry"):
    """An ``ACDQueueEntry`` or ``RoutePointQueueEntry`` element, by the entry's type."""
    out.append("<xsi:%s>" % tag)
    _leaf(out, "callId", entry.call_id)
    _leaf(out, "extTrackingId", entry.ext_tracking_id)
    _write_party(out, "remoteParty", entry.remote_party)
    if type(entry) is QueueEntry:
        _leaf(out, "addTime", entry.add_time)
        _optional(out, "removeTime", entry.remove_time)
        _flag(out, "mandatoryEntrance", entry.mandatory_entrance)
        _flag(out, "bounced", entry.bounced)
        _flag(out, "reordered", entry.reordered)
        _optional(out, "preservedWaitTime", entry.preserved_wait_time)
        _leaf(out, "acdName", entry.acd_name)
        _leaf(out, "acdNumber", entry.acd_number)
        _optional(out, "acdPriority", entry.acd_priority)
        _optional(out, "addTimeInPriorityBucket", entry.add_time_in_priority_bucket)
        _optional(out, "preservedWaitTimeInPriorityBucket", entry.preserved_wait_time_in_priority_bucket)
    else:
        _optional(out, "addTime", entry.add_time)
        _optional(out, "removeTime", entry.remove_time)
        _flag(out, "bounced", entry.bounced)
        _leaf(out, "routePointName", entry.route_point_name)
        _leaf(out, "routePointNumber", entry.route_point_number)
        info = entry.play_collect_info
        if info is not None:
            out.append("<xsi:playCollectInfo>")
            _leaf(out, "playCollectId", info.play_collect_id)
            _leaf(out, "playCollectType", info.play_collect_type)
            out.append("</xsi:playCollectInfo>")
        _flag(out, "outgoingCall", entry.outgoing_call)
        _optional(out, "outgoingCallAnswerTime", entry.outgoing_call_answer_time)
    _optional(out, "answeringUserId", entry.answering_user_id)
    _optional(out, "answeringCallId", entry.answering_call_id)
    _optional(out, "answeringNetworkCallId", entry.answering_network_call_id)
    out.append("</xsi:%s>" % tag)


def _write_state_info(out, tag, info: AgentStateInfo):
    out.append("<xsi:%s>" % tag)
    _leaf(out, "state", info.state)
    out.append("<xsi:stateTimestamp>")
    _leaf(out, "value", info.state_timestamp)
    out.append("</xsi:stateTimestamp>")
    _optional(out, "unavailableCode", info.unavailable_code)
    _optional(out, "wrapUpCallId", info.wrap_up_call_id)
    _optional(out, "signInTimestamp", info.sign_in_timestamp)
    _optional(out, "totalAvailableTime", info.total_available_time)
    if info.average_wrap_up_time is not None:
        out.append("<xsi:averageWrapUpTime>")
        _leaf(out, "value", info.average_wrap_up_time)
        out.append("</xsi:averageWrapUpTime>")
    _optional(out, "wrapUpCallCenterUserId", info.wrap_up_call_center_user_id)
    out.append("</xsi:%s>" % tag)


def _write_join_info(out, info: JoinInfo):
    out.append("<xsi:joinInfo>")
    _leaf(out, "acdUserId", info.acd_user_id)
    _flag(out, "joined", info.joined)
    _optional(out, "skillLevel", info.skill_level)
    out.append("</xsi:joinInfo>")


def write_acd_call_info(out, info: AcdCallInfo):
    """A call's ``acdCallInfo`` element (xsi.py writes it inside ``call``)."""
    out.append("<xsi:acdCallInfo>")
    _leaf(out, "acdUserId", info.acd_user_id)
    _leaf(out, "acdName", info.acd_name)
    _leaf(out, "acdNumber", info.acd_number)
    _leaf(out, "numCallsInQueue", info.num_calls_in_queue)
    _leaf(out, "waitTime", info.wait_time)
    _optional(out, "longestWaitTime", info.longest_wait_time)
    _flag(out, "holdReminder", info.hold_reminder)
    _write_party(out, "callingPartyInfo", info.calling_party_info)
    _flag(out, "routePoint", info.route_point)
    _optional(out, "dispositionCode", info.disposition_code)
    _optional(out, "postCallAgentState", info.post_call_agent_state)
    out.append("</xsi:acdCallInfo>")


def _write_play_collect_result(out, result: PlayCollectResult):
    out.append("<xsi:playCollectResult>")
    _leaf(out, "playCollectId", result.play_collect_id)
    _leaf(out, "completionReason", result.completion_reason)
    _optional(out, "digits", result.digits)
    _optional(out, "errorReason", result.error_reason)
    out.append("</xsi:playCollectResult>")


# element name -> how a QueueEntryEvent / QueuePolicyEvent field is written
def _tail_writer(name):
    if name == "redirect":
        return lambda out, data: data.redirect is not None and _write_redirect(out, data.redirect)
    if name == "redirections":
        return lambda out, data: _write_redirections(out, data.redirections)
    if name == "playCollectResult":
        return lambda out, data: (
            data.play_collect_result is not None and _write_play_collect_result(out, data.play_collect_result)
        )
    if name == "outgoingCallReleaseCause":

        def write_cause(out, data):
            if data.outgoing_call_release_cause is not None:
                out.append("<xsi:outgoingCallReleaseCause>")
                _leaf(out, "internalReleaseCause", data.outgoing_call_release_cause)
                out.append("</xsi:outgoingCallReleaseCause>")

        return write_cause
    attribute = _FIELD_OF[name]
    if name in _FLAGS:
        return lambda out, data: _flag(out, name, getattr(data, attribute))
    return lambda out, data: _optional(out, name, getattr(data, attribute))


_FIELD_OF = {
    "position": "position",
    "entrancePlaying": "entrance_playing",
    "treatmentStarted": "treatment_started",
    "overflowReason": "overflow_reason",
    "overFlowReason": "overflow_reason",
    "reason": "reason",
    "failureReason": "failure_reason",
    "releaseReason": "release_reason",
    "cpdResult": "cpd_result",
    "receiveTime": "receive_time",
    "rejectReason": "reject_reason",
    "redirect": "redirect",
    "redirections": "redirections",
    "playCollectResult": "play_collect_result",
    "outgoingCallReleaseCause": "outgoing_call_release_cause",
}
_FLAGS = frozenset({"entrancePlaying", "treatmentStarted"})
_TAIL_WRITERS = {
    event_type: tuple(_tail_writer(name) for name in names)
    for event_type, names in {**_ACD_ENTRY_EVENTS, **_ROUTE_POINT_ENTRY_EVENTS, **_POLICY_EVENTS}.items()
}


def write_event_data(out, event_type, data):
    """The content of an ``eventData`` of :data:`EVENT_TYPES` (``data`` is its NamedTuple)."""
    if event_type in ENTRY_EVENT_TYPES:
        write_queue_entry(out, data.entry)
        for write in _TAIL_WRITERS[event_type]:
            write(out, data)
    elif event_type in POLICY_EVENT_TYPES:
        _leaf(out, "callId", data.call_id)
        _leaf(out, "extTrackingId", data.ext_tracking_id)
        prefix = "acd" if event_type.startswith("ACD") else "routePoint"
        _leaf(out, prefix + "Name", data.name)
        _leaf(out, prefix + "Number", data.number)
        _write_party(out, "remoteParty", data.remote_party)
        for write in _TAIL_WRITERS[event_type]:
            write(out, data)
    elif event_type in QUEUE_SNAPSHOT_TYPES:
        if data is not None and data.entries:
            out.append("<xsi:queueEntries>")
            for entry in data.entries:
                write_queue_entry(out, entry)
            out.append("</xsi:queueEntries>")
    elif event_type == "AgentSubscriptionEvent":
        out.append("<xsi:joinData>")
        if data.join_infos:
            out.append("<xsi:joinInfos>")
            for info in data.join_infos:
                _write_join_info(out, info)
            out.append("</xsi:joinInfos>")
        out.append("</xsi:joinData>")
        if data.state_info is not None:
            _write_state_info(out, "stateInfo", data.state_info)
    elif event_type == "AgentStateEvent":
        _write_state_info(out, "agentStateInfo", data.state_info)
    elif event_type == "ACDAgentJoinUpdateEvent":
        if data is not None and data.join_info is not None:
            out.append("<xsi:ccAgentJoinUpdateData>")
            _write_join_info(out, data.join_info)
            out.append("</xsi:ccAgentJoinUpdateData>")
    elif event_type == "AgentDispositionCodeAddedEvent":
        _leaf(out, "dispositionCode", data.disposition_code)
        _leaf(out, "callId", data.call_id)
    elif event_type == "RoutePointFailedEvent":
        _leaf(out, "stateChangeReason", data.state_change_reason)
    elif event_type != "RoutePointRecoveredEvent":
        raise ValueError("not a contact-centre event type: %r" % (event_type,))


# --------------------------------------------------------------------------
# reading


def _children(el):
    return [(_local(child.tag), child) for child in el if isinstance(child.tag, str)]


def _required(values, name, what):
    value = values.get(name)
    if value is None:
        raise XsiParseError("%s without %s" % (what, name))
    return value


def _parse_redirect(el) -> Redirect:
    values = {name: child.text for name, child in _children(el)}
    return Redirect(
        reason=values.get("reason") or "unknown",
        redirect_time=_int(values.get("redirectTime"), 0),
        address=values.get("address"),
    )


def _parse_redirections(el) -> tuple[Redirection, ...]:
    redirections = []
    for _, item in _children(el):
        party = reason = counter = None
        for name, child in _children(item):
            if name == "party":
                party = _parse_remote_party(child)
            elif name == "reason":
                reason = child.text
            elif name == "counter":
                counter = _int(child.text)
        redirections.append(Redirection(party, reason, counter))
    return tuple(redirections)


_ENTRY_INTS = {
    "addTime": "add_time",
    "removeTime": "remove_time",
    "preservedWaitTime": "preserved_wait_time",
    "addTimeInPriorityBucket": "add_time_in_priority_bucket",
    "preservedWaitTimeInPriorityBucket": "preserved_wait_time_in_priority_bucket",
    "outgoingCallAnswerTime": "outgoing_call_answer_time",
}
_ENTRY_TEXTS = {
    "callId": "call_id",
    "extTrackingId": "ext_tracking_id",
    "acdName": "acd_name",
    "acdNumber": "acd_number",
    "acdPriority": "acd_priority",
    "routePointName": "route_point_name",
    "routePointNumber": "route_point_number",
    "answeringUserId": "answering_user_id",
    "answeringCallId": "answering_call_id",
    "answeringNetworkCallId": "answering_network_call_id",
}
_ENTRY_FLAGS = {
    "mandatoryEntrance": "mandatory_entrance",
    "bounced": "bounced",
    "reordered": "reordered",
    "outgoingCall": "outgoing_call",
}


def parse_queue_entry(el, route_point: bool):
    """A ``queueEntry`` element: a :class:`RoutePointQueueEntry` when
    ``route_point``, else a :class:`QueueEntry`."""
    kw = {}
    for name, child in _children(el):
        if name in _ENTRY_TEXTS:
            kw[_ENTRY_TEXTS[name]] = child.text
        elif name in _ENTRY_INTS:
            kw[_ENTRY_INTS[name]] = _int(child.text)
        elif name in _ENTRY_FLAGS:
            kw[_ENTRY_FLAGS[name]] = True
        elif name == "remoteParty":
            kw["remote_party"] = _parse_remote_party(child)
        elif name == "playCollectInfo":
            values = {n: c.text for n, c in _children(child)}
            kw["play_collect_info"] = PlayCollectInfo(
                _required(values, "playCollectId", "playCollectInfo"),
                _required(values, "playCollectType", "playCollectInfo"),
            )
    kind = RoutePointQueueEntry if route_point else QueueEntry
    what = "RoutePointQueueEntry" if route_point else "ACDQueueEntry"
    for field, element in (("call_id", "callId"), ("ext_tracking_id", "extTrackingId")):
        if not kw.get(field):
            raise XsiParseError("%s without %s" % (what, element))
    kw.setdefault("remote_party", RemoteParty())
    kw = {k: v for k, v in kw.items() if k in kind._fields}
    if route_point:
        kw.setdefault("route_point_name", "")
        kw.setdefault("route_point_number", "")
    else:
        if kw.get("add_time") is None:
            raise XsiParseError("ACDQueueEntry without addTime")
        kw.setdefault("acd_name", "")
        kw.setdefault("acd_number", "")
    return kind(**kw)


def _parse_state_info(el) -> AgentStateInfo:
    kw = {}
    for name, child in _children(el):
        if name == "state":
            kw["state"] = child.text
        elif name in ("stateTimestamp", "averageWrapUpTime"):
            for n, c in _children(child):
                if n == "value":
                    kw["state_timestamp" if name == "stateTimestamp" else "average_wrap_up_time"] = _int(c.text)
        elif name == "unavailableCode":
            kw["unavailable_code"] = child.text
        elif name == "wrapUpCallId":
            kw["wrap_up_call_id"] = child.text
        elif name == "signInTimestamp":
            kw["sign_in_timestamp"] = _int(child.text)
        elif name == "totalAvailableTime":
            kw["total_available_time"] = _int(child.text)
        elif name == "wrapUpCallCenterUserId":
            kw["wrap_up_call_center_user_id"] = child.text
    if not kw.get("state"):
        raise XsiParseError("AgentStateInformation without state")
    kw.setdefault("state_timestamp", 0)
    return AgentStateInfo(**kw)


def _parse_join_info(el) -> JoinInfo:
    acd_user_id = None
    joined = False
    skill_level = None
    for name, child in _children(el):
        if name == "acdUserId":
            acd_user_id = child.text
        elif name == "joined":
            joined = True
        elif name == "skillLevel":
            skill_level = _int(child.text)
    if not acd_user_id:
        raise XsiParseError("ACDAgentJoinInfo without acdUserId")
    return JoinInfo(acd_user_id, joined, skill_level)


def parse_acd_call_info(el) -> AcdCallInfo:
    """A call's ``acdCallInfo`` element."""
    kw = {}
    for name, child in _children(el):
        if name in ("acdUserId", "acdName", "acdNumber", "dispositionCode", "postCallAgentState"):
            kw[_snake(name)] = child.text
        elif name in ("numCallsInQueue", "waitTime", "longestWaitTime"):
            kw[_snake(name)] = _int(child.text)
        elif name in ("holdReminder", "routePoint"):
            kw[_snake(name)] = True
        elif name == "callingPartyInfo":
            kw["calling_party_info"] = _parse_remote_party(child)
    if not kw.get("acd_user_id"):
        raise XsiParseError("acdCallInfo without acdUserId")
    kw.setdefault("acd_name", "")
    kw.setdefault("acd_number", "")
    kw.setdefault("num_calls_in_queue", 0)
    kw.setdefault("wait_time", 0)
    kw.setdefault("calling_party_info", RemoteParty())
    return AcdCallInfo(**kw)


def _snake(name):
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def _parse_play_collect_result(el) -> PlayCollectResult:
    values = {name: child.text for name, child in _children(el)}
    return PlayCollectResult(
        _required(values, "playCollectId", "playCollectResult"),
        _required(values, "completionReason", "playCollectResult"),
        values.get("digits"),
        values.get("errorReason"),
    )


def _parse_tail(kw, name, child):
    """One element after the entry (or after a policy event's remoteParty)."""
    if name == "redirect":
        kw["redirect"] = _parse_redirect(child)
    elif name == "redirections":
        kw["redirections"] = _parse_redirections(child)
    elif name == "playCollectResult":
        kw["play_collect_result"] = _parse_play_collect_result(child)
    elif name == "outgoingCallReleaseCause":
        for n, c in _children(child):
            if n == "internalReleaseCause":
                kw["outgoing_call_release_cause"] = c.text
    elif name in _FLAGS:
        kw[_FIELD_OF[name]] = True
    elif name in ("position", "receiveTime"):
        kw[_FIELD_OF[name]] = _int(child.text)
    elif name in _FIELD_OF:
        kw[_FIELD_OF[name]] = child.text


def parse_event_data(event_type, el):
    """The typed eventData of an event of :data:`EVENT_TYPES` (``el``: its
    ``eventData`` element); :class:`xsi.XsiParseError` when it is unusable."""
    children = _children(el)
    route_point = event_type.startswith("RoutePoint")
    if event_type in ENTRY_EVENT_TYPES:
        entry = None
        kw = {}
        for name, child in children:
            if name == "queueEntry":
                entry = parse_queue_entry(child, route_point)
            else:
                _parse_tail(kw, name, child)
        if entry is None:
            raise XsiParseError("%s without queueEntry" % event_type)
        return QueueEntryEvent(entry, **kw)
    if event_type in POLICY_EVENT_TYPES:
        kw = {}
        for name, child in children:
            if name == "callId":
                kw["call_id"] = child.text
            elif name == "extTrackingId":
                kw["ext_tracking_id"] = child.text
            elif name in ("acdName", "routePointName"):
                kw["name"] = child.text
            elif name in ("acdNumber", "routePointNumber"):
                kw["number"] = child.text
            elif name == "remoteParty":
                kw["remote_party"] = _parse_remote_party(child)
            else:
                _parse_tail(kw, name, child)
        for field, element in (("call_id", "callId"), ("ext_tracking_id", "extTrackingId")):
            if not kw.get(field):
                raise XsiParseError("%s without %s" % (event_type, element))
        kw.setdefault("name", "")
        kw.setdefault("number", "")
        kw.setdefault("remote_party", RemoteParty())
        return QueuePolicyEvent(**kw)
    if event_type in QUEUE_SNAPSHOT_TYPES:
        entries = ()
        for name, child in children:
            if name == "queueEntries":
                entries = tuple(parse_queue_entry(c, route_point) for _, c in _children(child))
        return QueueSnapshot(entries)
    if event_type == "AgentSubscriptionEvent":
        join_infos = ()
        state_info = None
        for name, child in children:
            if name == "joinData":
                for n, infos in _children(child):
                    if n == "joinInfos":
                        join_infos = tuple(_parse_join_info(c) for _, c in _children(infos))
            elif name == "stateInfo":
                state_info = _parse_state_info(child)
        return AgentSnapshot(join_infos, state_info)
    if event_type == "AgentStateEvent":
        for name, child in children:
            if name == "agentStateInfo":
                return AgentStateChange(_parse_state_info(child))
        raise XsiParseError("AgentStateEvent without agentStateInfo")
    if event_type == "ACDAgentJoinUpdateEvent":
        for name, child in children:
            if name == "ccAgentJoinUpdateData":
                for n, info in _children(child):
                    if n == "joinInfo":
                        return AgentJoinUpdate(_parse_join_info(info))
        return AgentJoinUpdate(None)
    if event_type == "AgentDispositionCodeAddedEvent":
        values = {name: child.text for name, child in children}
        return DispositionCodeAdded(
            _required(values, "dispositionCode", event_type), _required(values, "callId", event_type)
        )
    if event_type in ROUTE_POINT_STATE_EVENT_TYPES:
        values = {name: child.text for name, child in children}
        return RoutePointStateChange(values.get("stateChangeReason"))
    raise XsiParseError("not a contact-centre event type: %r" % (event_type,))


# --------------------------------------------------------------------------
# CTI request bodies and response payloads


_ROOT = '<xsi:%s xmlns:xsi="' + XSI_NS + '">'


def _element(out):
    """The lxml element of one written Xsi element (request and response payloads)."""
    return etree.fromstring("".join(out).encode("utf-8"))


def _local_children(el) -> dict:
    if el is None:
        return {}
    return {name: child for name, child in _children(el)}


def _texts(el) -> dict:
    return {name: (child.text or "").strip() for name, child in _children(el)} if el is not None else {}


class CallCenterDetails(NamedTuple):
    """XSICallCenter ``CallCenterDetails``: one call center of an agent."""

    service_user_id: str
    available: bool | None = None  # the agent has joined it
    phone_number: str | None = None
    extension: str | None = None


class CallCenterSettings(NamedTuple):
    """``xsi:CallCenter``: the body of SetAgentStateRequest, and the payload of
    the GetAgentStateRequest response (``call_centers`` only there)."""

    agent_acd_state: str | None = None
    agent_unavailable_code: str | None = None
    call_centers: tuple[CallCenterDetails, ...] = ()


def call_center_element(settings: CallCenterSettings):
    out = [_ROOT % "CallCenter"]
    _optional(out, "agentACDState", settings.agent_acd_state)
    _optional(out, "agentUnavailableCode", settings.agent_unavailable_code)
    if settings.call_centers:
        out.append("<xsi:callCenterList>")
        for details in settings.call_centers:
            out.append("<xsi:callCenterDetails>")
            _leaf(out, "serviceUserId", details.service_user_id)
            if details.available is not None:
                _leaf(out, "available", "true" if details.available else "false")
            _optional(out, "phoneNumber", details.phone_number)
            _optional(out, "extension", details.extension)
            out.append("</xsi:callCenterDetails>")
        out.append("</xsi:callCenterList>")
    out.append("</xsi:CallCenter>")
    return _element(out)


def parse_call_center(el) -> CallCenterSettings:
    children = _local_children(el)
    values = _texts(el)
    call_centers = []
    listing = children.get("callCenterList")
    if listing is not None:
        for _, details in _children(listing):
            d = _texts(details)
            if not d.get("serviceUserId"):
                raise XsiParseError("callCenterDetails without serviceUserId")
            available = d.get("available")
            call_centers.append(
                CallCenterDetails(
                    d["serviceUserId"],
                    None if available is None else available in ("true", "1"),
                    d.get("phoneNumber"),
                    d.get("extension"),
                )
            )
    return CallCenterSettings(
        values.get("agentACDState") or None,
        values.get("agentUnavailableCode") or None,
        tuple(call_centers),
    )


def queue_element(entries, route_point: bool):
    """``xsi:ACDQueue`` (GetACDRequest) or ``xsi:RoutePointQueue`` (GetRoutePointRequest)."""
    out = [_ROOT % ("RoutePointQueue" if route_point else "ACDQueue")]
    if entries:
        out.append("<xsi:queueEntries>")
        for entry in entries:
            write_queue_entry(out, entry)
        out.append("</xsi:queueEntries>")
    out.append("</xsi:%s>" % ("RoutePointQueue" if route_point else "ACDQueue"))
    return _element(out)


def parse_queue(el) -> tuple:
    """The entries of an ``xsi:ACDQueue`` or ``xsi:RoutePointQueue``."""
    route_point = _local(el.tag) == "RoutePointQueue"
    entries = _local_children(el).get("queueEntries")
    if entries is None:
        return ()
    return tuple(parse_queue_entry(c, route_point) for _, c in _children(entries))


def _single(name, child, value):
    out = [_ROOT % name]
    _leaf(out, child, value)
    out.append("</xsi:%s>" % name)
    return _element(out)


def queue_call_order_element(position: int):
    """``xsi:QueueCallOrder``: the response of ACDPromoteCall and ACDReorderCall."""
    return _single("QueueCallOrder", "position", position)


def acd_promote_element(priority: str):
    """``xsi:ACDPromote``: the body of ACDPromoteCallRequest."""
    return _single("ACDPromote", "priority", priority)


def route_point_play_info_element(play_collect_id: str):
    """``xsi:RoutePointPlayInfo``: the response of every RoutePointPlay*Request."""
    return _single("RoutePointPlayInfo", "playCollectId", play_collect_id)


def application_controller_element(state: str):
    return _single("ApplicationController", "state", state)


def route_point_state_element(state: str):
    """``xsi:RoutePointState`` (a simple element: Normal | Failed)."""
    out = [_ROOT % "RoutePointState", _text(state), "</xsi:RoutePointState>"]
    return _element(out)


def parse_single_text(el) -> str | None:
    """The text of a one-leaf payload (QueueCallOrder, RoutePointPlayInfo,
    ApplicationController, ACDPromote) or of a simple element (RoutePointState)."""
    if el is None:
        return None
    leaves = [child for _, child in _children(el)]
    if not leaves:
        return (el.text or "").strip() or None
    return (leaves[0].text or "").strip() or None


class RoutePointDistribute(NamedTuple):
    """``xsi:RoutePointDistribute``: the body of RoutePointDistributeCallRequest."""

    agent_id: str
    calling_line_id_number: str | None = None
    calling_line_id_name: str | None = None
    time_in_queue: int | None = None
    number_of_calls_in_queue: int | None = None
    longest_wait_time: int | None = None
    whisper_message_audio_url: str | None = None
    whisper_message_video_url: str | None = None


_DISTRIBUTE_ELEMENTS = (
    ("agentId", "agent_id"),
    ("callingLineIdNumber", "calling_line_id_number"),
    ("callingLineIdName", "calling_line_id_name"),
    ("timeInQueue", "time_in_queue"),
    ("numberOfCallsInQueue", "number_of_calls_in_queue"),
    ("longestWaitTime", "longest_wait_time"),
    ("whisperMessageAudioUrl", "whisper_message_audio_url"),
    ("whisperMessageVideoUrl", "whisper_message_video_url"),
)


def route_point_distribute_element(distribute: RoutePointDistribute):
    out = [_ROOT % "RoutePointDistribute"]
    for name, field in _DISTRIBUTE_ELEMENTS:
        _optional(out, name, getattr(distribute, field))
    out.append("</xsi:RoutePointDistribute>")
    return _element(out)


def parse_route_point_distribute(el) -> RoutePointDistribute:
    values = _texts(el)
    if not values.get("agentId"):
        raise XsiParseError("RoutePointDistribute without agentId")
    kw = {}
    for name, field in _DISTRIBUTE_ELEMENTS:
        if values.get(name):
            kw[field] = values[name]
    for field in ("time_in_queue", "number_of_calls_in_queue", "longest_wait_time"):
        if field in kw:
            kw[field] = _int(kw[field])
    return RoutePointDistribute(**kw)


class PlayKind(NamedTuple):
    """One kind of route point treatment: its request, body element, events."""

    request: str  # the CTI request
    body: str  # the Xsi element of its body
    play_collect_type: str  # XSIRoutePoint PlayCollectType
    event_prefix: str  # RoutePoint<prefix>StartedEvent / ...CompletedEvent
    uri_suffix: str


#: the five treatments, by their CSTA PlayMessage message id "0".."4" order
PLAY_KINDS = (
    PlayKind("RoutePointPlayBusyRequest", "RoutePointPlayBusy", "Busy", "Busy", "playbusy"),
    PlayKind("RoutePointPlayMOHRequest", "RoutePointPlayMusicOnHold", "MOH", "MOH", "playmusiconhold"),
    PlayKind("RoutePointPlayRingbackRequest", "RoutePointPlayRingBack", "Ringback", "Ringback", "playringback"),
    PlayKind("RoutePointPlaySilenceRequest", "RoutePointPlaySilence", "Silence", "Silence", "playsilence"),
    PlayKind("RoutePointPlayTreatmentRequest", "RoutePointPlayTreatment", "Treatment", "Treatment", "playtreatment"),
)
PLAY_KIND_OF_REQUEST = {kind.request: kind for kind in PLAY_KINDS}
PLAY_KIND_OF_TYPE = {kind.play_collect_type: kind for kind in PLAY_KINDS}


class RoutePointPlay(NamedTuple):
    """The body of a RoutePointPlay*Request (``kind``: its :class:`PlayKind`).

    Busy has ``busy_pattern`` (mandatory there: Normal | FastBusy); Treatment
    has the URL lists and ``number_of_play`` and no duration nor
    playCollectId; the others have ``duration`` (seconds), ``digit_map`` and
    ``play_collect_id``."""

    kind: PlayKind
    duration: int | None = None
    busy_pattern: str | None = None
    digit_map: str | None = None
    play_collect_id: str | None = None
    audio_urls: tuple[str, ...] = ()
    video_urls: tuple[str, ...] = ()
    number_of_play: int | None = None


def route_point_play_element(play: RoutePointPlay):
    name = play.kind.body
    out = [_ROOT % name]
    if play.kind.play_collect_type == "Treatment":
        out.append("<xsi:audioUrlList>")
        for url in play.audio_urls:
            _leaf(out, "uri", url)
        out.append("</xsi:audioUrlList>")
        if play.video_urls:
            out.append("<xsi:videoUrlList>")
            for url in play.video_urls:
                _leaf(out, "uri", url)
            out.append("</xsi:videoUrlList>")
        _optional(out, "numberOfPlay", play.number_of_play)
        _optional(out, "digitMap", play.digit_map)
    else:
        _optional(out, "duration", play.duration)
        if play.kind.play_collect_type == "Busy":
            _leaf(out, "busyPattern", play.busy_pattern or "Normal")
        else:
            _optional(out, "digitMap", play.digit_map)
        _optional(out, "playCollectId", play.play_collect_id)
    out.append("</xsi:%s>" % name)
    return _element(out)


def parse_route_point_play(request_name: str, el) -> RoutePointPlay:
    """The body of the RoutePointPlay*Request ``request_name``."""
    kind = PLAY_KIND_OF_REQUEST.get(request_name)
    if kind is None:
        raise XsiParseError("not a RoutePointPlay request: %r" % (request_name,))
    if el is None or _local(el.tag) != kind.body:
        raise XsiParseError("%s without %s" % (request_name, kind.body))
    children = _local_children(el)
    values = _texts(el)

    def urls(name):
        listing = children.get(name)
        return tuple((c.text or "").strip() for _, c in _children(listing)) if listing is not None else ()

    play = RoutePointPlay(
        kind,
        duration=_int(values.get("duration") or None),
        busy_pattern=values.get("busyPattern") or None,
        digit_map=values.get("digitMap") or None,
        play_collect_id=values.get("playCollectId") or None,
        audio_urls=urls("audioUrlList"),
        video_urls=urls("videoUrlList"),
        number_of_play=_int(values.get("numberOfPlay") or None),
    )
    if kind.play_collect_type == "Treatment" and not play.audio_urls:
        raise XsiParseError("RoutePointPlayTreatment without audioUrlList")
    if kind.play_collect_type == "Busy" and play.busy_pattern is None:
        raise XsiParseError("RoutePointPlayBusy without busyPattern")
    return play

