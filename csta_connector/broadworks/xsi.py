# -*- test-case-name: tests.unit.test_xsi -*-
"""Xsi event documents <-> typed, immutable event objects (pure: no Twisted).

The connector parses with :func:`parse_event`; the simulator builds with
:func:`event_element`. Element order follows the official XSI schema
(``XSIBaseEvent.xsd``, ``XSICallSession.xsd``), so built documents validate.
Parsing is namespace-aware and tolerant: it dispatches on the ``xsi:type`` of
``eventData`` and keeps unknown event types as :class:`UnknownEvent`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from lxml import etree

XSI_NS = "http://schema.broadsoft.com/xsi"
XSD_INSTANCE_NS = "http://www.w3.org/2001/XMLSchema-instance"
_X = "{%s}" % XSI_NS
_TYPE = "{%s}type" % XSD_INSTANCE_NS
# BroadWorks binds "xsi" to its own namespace and "xsi1" to XMLSchema-instance.
NSMAP = {"xsi": XSI_NS, "xsi1": XSD_INSTANCE_NS}

# Event types whose eventData carries exactly one <call>.
CALL_EVENT_TYPES = frozenset(
    {
        "CallOriginatingEvent",
        "CallOriginatedEvent",
        "CallCollectingEvent",
        "CallReceivedEvent",
        "CallAnsweredEvent",
        "CallHeldEvent",
        "CallRetrievedEvent",
        "CallUpdatedEvent",
        "CallTransferredEvent",
        "CallForwardedEvent",
        "CallReleasingEvent",
        "CallReleasedEvent",
        "CallDetachedEvent",
        "CallPickedUpEvent",
        "CallBargedInEvent",
        "CallMonitoredEvent",
        "CallParkRetrievedEvent",
    }
)
# Event types whose eventData carries a <calls> list.
CALLS_EVENT_TYPES = frozenset({"CallRedirectedEvent"})
SUBSCRIPTION_SNAPSHOT_TYPES = frozenset(
    {"CallSubscriptionEvent", "CallSubscriptionResyncEvent"}
)
CONFERENCE_EVENT_TYPES = frozenset(
    {
        "ConferenceStartedEvent",
        "ConferenceHeldEvent",
        "ConferenceRetrievedEvent",
        "ConferenceUpdatedEvent",
        "ConferenceReleasedEvent",
    }
)
KNOWN_EVENT_TYPES = (
    CALL_EVENT_TYPES
    | CALLS_EVENT_TYPES
    | SUBSCRIPTION_SNAPSHOT_TYPES
    | CONFERENCE_EVENT_TYPES
    | {"HookStatusEvent", "SubscriptionTerminatedEvent"}
)


class XsiParseError(ValueError):
    """An Xsi document that cannot be understood (not a mere unknown type)."""


# The event types are immutable NamedTuples rather than frozen dataclasses:
# several are built for every event received, and a NamedTuple is built three
# times faster (a frozen dataclass sets each field through object.__setattr__).
# Change one with ``event._replace(field=value)``.


class RemoteParty(NamedTuple):
    name: str | None = None
    address: str | None = None
    user_id: str | None = None
    user_dn: str | None = None
    call_type: str | None = None


class Redirect(NamedTuple):
    reason: str
    redirect_time: int
    address: str | None = None


class Call(NamedTuple):
    """One call half (one party's leg), as in the XSI ``Call`` type."""

    call_id: str
    ext_tracking_id: str
    personality: str
    state: str
    remote_party: RemoteParty = RemoteParty()
    release_cause: str | None = None  # internalReleaseCause
    releasing_party: str | None = None
    redirect: Redirect | None = None
    allow_answer: bool = False
    allow_retrieve: bool = False
    start_time: int = 0
    answer_time: int | None = None
    held_time: int | None = None
    detached_time: int | None = None
    release_time: int | None = None
    # a call-centre call's acdCallInfo (xsi_contact_centre.AcdCallInfo): the
    # call center or route point that delivered an agent's call
    acd_call_info: object = None


class Conference(NamedTuple):
    state: str
    participants: tuple[str, ...] = ()


class SubscriptionEvent(NamedTuple):
    """An ``xsi:SubscriptionEvent``: the envelope plus its typed eventData."""

    event_type: str
    event_id: str
    sequence_number: int
    user_id: str
    external_application_id: str
    subscription_id: str
    channel_id: str | None = None
    target_id: str | None = None
    call: Call | None = None
    calls: tuple[Call, ...] = ()
    conference: Conference | None = None
    hook_status: str | None = None
    # the eventData of the contact-centre packages (xsi_contact_centre)
    event_data: object = None

    @property
    def is_snapshot(self) -> bool:
        return self.event_type in SUBSCRIPTION_SNAPSHOT_TYPES


class ChannelTerminatedEvent(NamedTuple):
    channel_id: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class UnknownEvent:
    """An event whose type this product does not interpret; acknowledged and skipped."""

    event_type: str
    event_id: str | None = None
    subscription_id: str | None = None
    sequence_number: int | None = None
    extra: dict = field(default_factory=dict, compare=False)


# --------------------------------------------------------------------------
# parsing


_LOCAL_NAMES: dict[str, str] = {}
_MAX_LOCAL_NAMES = 4096


def _local(tag) -> str:
    """The local name of a tag (``{ns}name`` -> ``name``); "" for comments and
    processing instructions. Memoized: the same few dozen tags recur in every
    event, so the hot path is one dict lookup."""
    try:
        return _LOCAL_NAMES[tag]
    except (KeyError, TypeError):
        pass
    if not isinstance(tag, str):
        return ""
    name = tag.rpartition("}")[2]
    if len(_LOCAL_NAMES) < _MAX_LOCAL_NAMES:
        _LOCAL_NAMES[tag] = name
    return name


def _type_name(el) -> str:
    value = el.get(_TYPE) or ""
    return value.rpartition(":")[2]


def _int(text, default=None):
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        raise XsiParseError("not an integer: %r" % (text,)) from None


def _parse_remote_party(el) -> RemoteParty:
    values = {_local(child.tag): child.text for child in el}
    return RemoteParty(
        name=values.get("name"),
        address=values.get("address"),
        user_id=values.get("userId"),
        user_dn=values.get("userDN"),
        call_type=values.get("callType"),
    )


# call child (local name) -> Call field, for the children taken as text
_CALL_TEXT_FIELDS = {
    "callId": "call_id",
    "extTrackingId": "ext_tracking_id",
    "personality": "personality",
    "state": "state",
    "releasingParty": "releasing_party",
}
# call child -> (Call field, value when the element is empty), integer children
_CALL_INT_FIELDS = {
    "startTime": ("start_time", 0),
    "answerTime": ("answer_time", None),
    "heldTime": ("held_time", None),
    "detachedTime": ("detached_time", None),
    "releaseTime": ("release_time", None),
}
_CALL_FLAGS = {"allowAnswer": "allow_answer", "allowRetrieve": "allow_retrieve"}


def parse_call(el) -> Call:
    kw = {}
    text_fields = _CALL_TEXT_FIELDS
    int_fields = _CALL_INT_FIELDS
    for child in el:
        name = _local(child.tag)
        key = text_fields.get(name)
        if key is not None:
            kw[key] = child.text
            continue
        spec = int_fields.get(name)
        if spec is not None:
            kw[spec[0]] = _int(child.text, spec[1])
        elif name == "remoteParty":
            kw["remote_party"] = _parse_remote_party(child)
        elif name == "releaseCause":
            for c in child:
                if _local(c.tag) == "internalReleaseCause":
                    kw["release_cause"] = c.text
        elif name == "redirect":
            r = {_local(c.tag): c.text for c in child}
            kw["redirect"] = Redirect(
                reason=r.get("reason") or "unknown",
                redirect_time=_int(r.get("redirectTime"), 0),
                address=r.get("address"),
            )
        elif name in _CALL_FLAGS:
            kw[_CALL_FLAGS[name]] = True
        elif name == "acdCallInfo":
            kw["acd_call_info"] = _contact_centre.parse_acd_call_info(child)
    if not (kw.get("call_id") and kw.get("ext_tracking_id") and kw.get("personality") and kw.get("state")):
        for required in ("call_id", "ext_tracking_id", "personality", "state"):
            if not kw.get(required):
                raise XsiParseError("call without %s" % required)
    return Call(**kw)


def _parse_conference(el) -> Conference:
    state = "Active"
    participants = []
    for child in el:
        name = _local(child.tag)
        if name == "state":
            state = child.text
        elif name == "conferenceParticipantList":
            for p in child:
                for c in p:
                    if _local(c.tag) == "callId":
                        participants.append(c.text)
    return Conference(state=state, participants=tuple(participants))


def parse_event(el):
    """Parse an ``xsi:Event`` element into a typed event object.

    Returns :class:`SubscriptionEvent`, :class:`ChannelTerminatedEvent` or
    :class:`UnknownEvent`; raises :class:`XsiParseError` on a malformed one.
    """
    if _local(el.tag) != "Event":
        raise XsiParseError("not an Xsi Event: %s" % _local(el.tag))
    root_type = _type_name(el)
    if root_type == "ChannelTerminatedEvent":
        values = {_local(c.tag): c.text for c in el}
        return ChannelTerminatedEvent(
            channel_id=values.get("channelId") or "", reason=values.get("reason")
        )
    envelope = {}
    data = None
    for child in el:
        name = _local(child.tag)
        if name == "eventData":
            data = child
        else:
            envelope[name] = child.text
    if data is None:
        raise XsiParseError("event without eventData")
    event_type = _type_name(data)
    if root_type != "SubscriptionEvent" or (
        event_type not in KNOWN_EVENT_TYPES and event_type not in _contact_centre.EVENT_TYPES
    ):
        return UnknownEvent(
            event_type=event_type or root_type,
            event_id=envelope.get("eventID"),
            subscription_id=envelope.get("subscriptionId"),
            sequence_number=_int(envelope.get("sequenceNumber")),
        )
    if not envelope.get("eventID") or not envelope.get("subscriptionId"):
        raise XsiParseError("%s without eventID or subscriptionId" % event_type)
    kw = {}
    for child in data:
        name = _local(child.tag)
        if name == "call":
            kw["call"] = parse_call(child)
        elif name == "calls":
            kw["calls"] = tuple(parse_call(c) for c in child)
        elif name == "conference":
            kw["conference"] = _parse_conference(child)
        elif name == "hookStatus":
            kw["hook_status"] = child.text
    if event_type in CALL_EVENT_TYPES and "call" not in kw:
        raise XsiParseError("%s without call" % event_type)
    if event_type in _contact_centre.EVENT_TYPES:
        kw = {"event_data": _contact_centre.parse_event_data(event_type, data)}
    return SubscriptionEvent(
        event_type=event_type,
        event_id=envelope["eventID"],
        sequence_number=_int(envelope.get("sequenceNumber"), 0),
        user_id=envelope.get("userId") or envelope.get("clientId") or "",
        external_application_id=envelope.get("externalApplicationId") or "",
        subscription_id=envelope["subscriptionId"],
        channel_id=envelope.get("channelId"),
        target_id=envelope.get("targetId"),
        **kw,
    )


# --------------------------------------------------------------------------
# building (used by the simulator; element order per the XSI schema)
#
# Written as text, not as an lxml tree: the simulator builds one document per
# event and subscription, and string joins are several times faster. The
# result is the same document (tests parse it back and validate it).

_ROOT_OPEN = '<xsi:Event xmlns:xsi="%s" xmlns:xsi1="%s" xsi1:type="xsi:%%s">' % (
    XSI_NS,
    XSD_INSTANCE_NS,
)


def _text(value) -> str:
    text = str(value)
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


def _leaf(out, name, value):
    out.append("<xsi:%s>%s</xsi:%s>" % (name, _text(value), name))


def _write_call(out, call: Call, tag: str = "call") -> None:
    out.append("<xsi:%s>" % tag)
    _leaf(out, "callId", call.call_id)
    _leaf(out, "extTrackingId", call.ext_tracking_id)
    _leaf(out, "personality", call.personality)
    _leaf(out, "state", call.state)
    if call.release_cause:
        out.append("<xsi:releaseCause>")
        _leaf(out, "internalReleaseCause", call.release_cause)
        out.append("</xsi:releaseCause>")
    if call.releasing_party:
        _leaf(out, "releasingParty", call.releasing_party)
    out.append("<xsi:remoteParty>")
    party = call.remote_party
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
    out.append("</xsi:remoteParty>")
    if call.redirect is not None:
        out.append("<xsi:redirect>")
        if call.redirect.address:
            _leaf(out, "address", call.redirect.address)
        _leaf(out, "reason", call.redirect.reason)
        _leaf(out, "redirectTime", call.redirect.redirect_time)
        out.append("</xsi:redirect>")
    if call.allow_answer:
        out.append("<xsi:allowAnswer/>")
    if call.allow_retrieve:
        out.append("<xsi:allowRetrieve/>")
    _leaf(out, "startTime", call.start_time)
    if call.answer_time is not None:
        _leaf(out, "answerTime", call.answer_time)
    if call.held_time is not None:
        _leaf(out, "heldTime", call.held_time)
    if call.detached_time is not None:
        _leaf(out, "detachedTime", call.detached_time)
    if call.release_time is not None:
        _leaf(out, "releaseTime", call.release_time)
    if call.acd_call_info is not None:
        _contact_centre.write_acd_call_info(out, call.acd_call_info)
    out.append("</xsi:%s>" % tag)


def _write_conference(out, conference: Conference) -> None:
    out.append("<xsi:conference>")
    _leaf(out, "state", conference.state)
    if conference.participants:
        out.append("<xsi:conferenceParticipantList>")
        for call_id in conference.participants:
            out.append("<xsi:conferenceParticipant>")
            _leaf(out, "callId", call_id)
            out.append("</xsi:conferenceParticipant>")
        out.append("</xsi:conferenceParticipantList>")
    out.append("</xsi:conference>")


def event_xml(event) -> bytes:
    """The ``xsi:Event`` document (no declaration) of a :class:`SubscriptionEvent`
    or :class:`ChannelTerminatedEvent`."""
    if isinstance(event, ChannelTerminatedEvent):
        out = [_ROOT_OPEN % "ChannelTerminatedEvent"]
        _leaf(out, "channelId", event.channel_id)
        if event.reason:
            _leaf(out, "reason", event.reason)
        out.append("</xsi:Event>")
        return "".join(out).encode("utf-8")
    out = [_ROOT_OPEN % "SubscriptionEvent"]
    _leaf(out, "eventID", event.event_id)
    _leaf(out, "sequenceNumber", event.sequence_number)
    _leaf(out, "userId", event.user_id)
    _leaf(out, "externalApplicationId", event.external_application_id)
    _leaf(out, "subscriptionId", event.subscription_id)
    if event.channel_id:
        _leaf(out, "channelId", event.channel_id)
    if event.target_id:
        _leaf(out, "targetId", event.target_id)
    event_type = event.event_type
    out.append('<xsi:eventData xsi1:type="xsi:%s">' % event_type)
    if event_type in CALL_EVENT_TYPES:
        _write_call(out, event.call)
    elif event_type in CALLS_EVENT_TYPES:
        out.append("<xsi:calls>")
        for call in event.calls:
            _write_call(out, call)
        out.append("</xsi:calls>")
    elif event_type in SUBSCRIPTION_SNAPSHOT_TYPES:
        if event.calls:
            out.append("<xsi:calls>")
            for call in event.calls:
                _write_call(out, call)
            out.append("</xsi:calls>")
        if event.conference is not None:
            _write_conference(out, event.conference)
        _leaf(out, "hookStatus", event.hook_status or "On-Hook")
    elif event_type in CONFERENCE_EVENT_TYPES:
        _write_conference(out, event.conference)
    elif event_type == "HookStatusEvent":
        _leaf(out, "hookStatus", event.hook_status)
    elif event_type in _contact_centre.EVENT_TYPES:
        _contact_centre.write_event_data(out, event_type, event.event_data)
    out.append("</xsi:eventData></xsi:Event>")
    return "".join(out).encode("utf-8")


def event_element(event):
    """The ``xsi:Event`` element of an event (an lxml tree of :func:`event_xml`)."""
    return etree.fromstring(event_xml(event))


# The contact-centre packages (Call Center Queue, Route Point Queue, Call Center
# Agent) live in their own module, which builds on the types above. Their types
# stay out of KNOWN_EVENT_TYPES, the event reader's list: they take lxml.
from csta_connector.broadworks import xsi_contact_centre as _contact_centre  # noqa: E402
