# -*- test-case-name: tests.unit.test_eventreader -*-
"""A one-pass reader for schema-ordered XSP event documents (pure: no Twisted).

Every BroadWorks event reaches the connector as an ``xsp:event`` wrapping an
``xsi:Event``. Parsing that with lxml and walking the tree costs about three
times as much as the rest of the connector's work on the event together, most
of it in creating one Python proxy per element. This reader matches the
document against regular expressions compiled from the XSI schema's element
sequences (``XSIBaseEvent.xsd`` for the envelope, ``XSICallSession.xsd`` for
``Call``) and builds the typed event straight from the captured text.

It is an accelerator, never a second judge: :func:`read_event` returns None
for any document it does not fully recognize, and the caller (the link's
:class:`~csta_connector.broadworks.link.DocumentReader`) then takes the
general path (lxml, then :func:`xsi.parse_event`), which decides what is well
formed and what the document means. What it recognizes:

- an optional UTF-8 XML declaration; whitespace between elements;
- the envelope in schema order, with any (declared) namespace prefixes;
- ``eventData`` holding one ``call`` (the call events), a ``calls`` list with
  ``hookStatus`` (the snapshots, CallRedirectedEvent), ``hookStatus`` alone,
  or nothing (e.g. SubscriptionTerminatedEvent);
- in ``call``, every element of the schema's ``Call`` in schema order (the
  ones the connector ignores are accepted, among them ``redirections`` and
  the recording elements; a call-centre call's ``acdCallInfo`` is read),
  except ``clientSessionInfo``;
- the contact centre's common events (:data:`CONTACT_CENTRE_TYPES`): a
  call center's ACDCallAdded (position, redirections), ACDCallOfferedToAgent,
  ACDCallAnsweredByAgent, ACDCallReleased and ACDCallAbandoned (entrancePlaying)
  events, one ``queueEntry`` (``XSIACD.xsd`` ACDQueueEntry, every element in
  schema order), and an agent's AgentStateEvent (``XSIAgent.xsd``
  AgentStateInformation), read into :mod:`xsi_contact_centre`'s types as its
  ``parse_event_data`` reads them. Their other event types (route points,
  policies, snapshots...) go to the general path.

It declines entity and character references, comments, CDATA, carriage
returns, ``>`` in text, control characters, non-ASCII names, attributes other
than on the three envelope start tags (``xsp:event``, ``xsi:Event``,
``eventData``: lxml judges those, on a skeleton of the three) and an
endpoint's type or an address's ``countryCode``, unknown or reordered
elements, conferences, empty integers, and any other event type. Where it
answers, the answer equals the general path's: ``tests/unit/test_eventreader.py``
checks that on generated, real-shaped and randomly damaged documents.
"""

from __future__ import annotations

import re

from lxml import etree

from csta_connector.broadworks.xsi import (
    CALL_EVENT_TYPES,
    CALLS_EVENT_TYPES,
    KNOWN_EVENT_TYPES,
    SUBSCRIPTION_SNAPSHOT_TYPES,
    XSD_INSTANCE_NS,
    Call,
    Redirect,
    RemoteParty,
    SubscriptionEvent,
)
from csta_connector.broadworks.xsi_contact_centre import (
    AcdCallInfo,
    AgentStateChange,
    AgentStateInfo,
    QueueEntry,
    QueueEntryEvent,
    Redirection,
)


def _compile(pattern: str):
    # XML's white space is these four; \s would also take \f and \v, which
    # XML forbids
    return re.compile(pattern.replace(r"\s", r"[ \t\n\r]"), re.ASCII)


_NAME = r"[A-Za-z_][A-Za-z0-9_.\-]*"
_QNAME = r"%s(?::%s)?" % (_NAME, _NAME)
# element content: no markup, no references, no carriage return (XML
# normalizes it), no ">" (so no "]]>"), no character XML forbids
_TEXT = "[^<>&\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]"
_INT = r"-?[0-9]+"
# attribute values: no tab or newline either (XML normalizes them to spaces)
_ATTRIBUTE_VALUE = "[^\"'<&\x00-\x1f\ufffe\uffff]"
_ATTRIBUTES = "((?:\\s+%s\\s*=\\s*(?:\"%s*\"|'%s*'))*)\\s*" % (_QNAME, _ATTRIBUTE_VALUE, _ATTRIBUTE_VALUE)
_COUNTRY_CODE = r"(?:\s+countryCode\s*=\s*\"[0-9]*\")?"

# The start of the document, up to <requestId>, and from </requestId> to the
# end of the <x:Event> start tag: the same text in every event of a link, so
# each is checked once and remembered (see _Remembered).
_PROLOG = _compile(
    r"(?:<\?xml\s+version\s*=\s*([\"'])1\.0\1"
    r"(?:\s+encoding\s*=\s*([\"'])(?i:utf-8)\2)?"
    r"(?:\s+standalone\s*=\s*([\"'])(?:yes|no)\3)?\s*\?>\s*)?"
    r"<(?P<prefix>%s):event%s>\s*" % (_NAME, _ATTRIBUTES)
)
_EVENT_TAG = _compile(
    r"</requestId>\s*<(?P<xsp_prefix>%s):payload>\s*<(?P<prefix>%s):Event%s>" % (_NAME, _NAME, _ATTRIBUTES)
)
_REQUEST_ID = _compile(_TEXT + "+")


def _leaf(name, value, group=None, optional=True, attributes=""):
    """The pattern of one ``<x:name>value</x:name>`` element ("x:" is
    replaced by the Xsi prefix when compiled)."""
    content = "(?P<%s>%s)" % (group, value) if group else "(?:%s)" % value
    pattern = r"<x:%s%s>%s</x:%s>\s*" % (name, attributes, content, name)
    return "(?:%s)?" % pattern if optional else pattern


def _flag(name, group=None):
    """An EmptyContent element: present or not (the group says which)."""
    opening = "(?P<%s>" % group if group else "(?:"
    return r"%s<x:%s\s*/>\s*|<x:%s>%s*</x:%s>\s*)?" % (opening, name, name, _TEXT, name)


def _container(name, content, group=None):
    """An optional element with element content. With a group, only its
    ``<x:name>...</x:name>`` form: the group marks that it is there."""
    if group:
        return r"(?:(?P<%s><x:%s>)\s*%s</x:%s>\s*)?" % (group, name, content, name)
    return r"(?:<x:%s>\s*%s</x:%s>\s*|<x:%s\s*/>\s*)?" % (name, content, name, name)


_T = _TEXT + "*"
_T1 = _TEXT + "+"


def _party(group_prefix=None):
    """PartyInformation's elements, in schema order; read into groups
    ``<prefix>_name`` ... when a prefix is given, else only accepted."""

    def group(name):
        return "%s_%s" % (group_prefix, name) if group_prefix else None

    return (
        _leaf("name", _T, group("name"))
        + _leaf("address", _T, group("address"), attributes=_COUNTRY_CODE)
        + _leaf("userId", _T, group("user_id"))
        + _leaf("userDN", _T, group("user_dn"), attributes=_COUNTRY_CODE)
        + _flag("privacy")
        + _leaf("callType", _T, group("call_type"))
    )


# A call-centre agent's call names the call center that delivered it
# (XSIDataTypes.xsd ACDCallInfo): read, so that agents' events stay on the
# fast path. Its acdUserId is mandatory (the general path refuses a call
# without one); the outgoing variant is accepted and ignored.
_ACD_CALL_INFO = _container(
    "acdCallInfo",
    _leaf("acdUserId", _T1, "acd_user_id", optional=False)
    + _leaf("acdName", _T, "acd_name")
    + _leaf("acdNumber", _T, "acd_number", attributes=_COUNTRY_CODE)
    + _leaf("numCallsInQueue", _INT, "acd_num_calls_in_queue")
    + _leaf("waitTime", _INT, "acd_wait_time")
    + _leaf("longestWaitTime", _INT, "acd_longest_wait_time")
    + _flag("holdReminder", "acd_hold_reminder")
    + _container("callingPartyInfo", _party("acd_party"))
    + _flag("routePoint", "acd_route_point")
    + _leaf("dispositionCode", _T, "acd_disposition_code")
    + _leaf("postCallAgentState", _T, "acd_post_call_agent_state"),
    group="acd",
)
_ACD_OUTGOING_CALL_INFO = _container(
    "acdOutgoingCallInfo",
    _leaf("acdUserId", _T)
    + _leaf("acdName", _T)
    + _leaf("acdNumber", _T, attributes=_COUNTRY_CODE)
    + _flag("routePoint")
    + _leaf("dispositionCode", _T)
    + _leaf("postCallAgentState", _T),
)
_REDIRECTIONS = (
    r"(?:<x:redirections>\s*(?:<x:redirection>\s*%s</x:redirection>\s*)*</x:redirections>\s*)?"
    % (_container("party", _party()) + _leaf("reason", _T) + _leaf("counter", _T))
)
# XSICallSession.xsd, Call: the elements in schema order. Those with a group
# are read; the others are accepted and ignored (the general path ignores
# them too). Anything else in a call sends the document to the general path.
_CALL_CONTENT = "".join(
    (
        _leaf("callId", _T1, "call_id", optional=False),
        _leaf("extTrackingId", _T1, "ext_tracking_id", optional=False),
        _leaf("networkCallId", _T),
        _leaf("personality", _T1, "personality", optional=False),
        _leaf("state", _T1, "state", optional=False),
        _container(
            "releaseCause",
            _leaf("internalReleaseCause", _T, "release_cause")
            + _leaf("q850Cause", _T)
            + _leaf("sipStatus", _T)
            + _leaf("cdrTerminationCause", _T),
        ),
        _leaf("releasingParty", _T, "releasing_party"),
        _container("remoteParty", _party("party")),
        _REDIRECTIONS,
        _container(
            "redirect",
            _leaf("address", _T, "redirect_address", attributes=_COUNTRY_CODE)
            + _leaf("reason", _T, "redirect_reason")
            + _leaf("redirectTime", _INT, "redirect_time"),
            group="redirect",
        ),
        # an Endpoint is abstract: its type attribute's prefix is checked
        # against the namespaces in read_event
        r"(?:<x:endpoint\s+(?P<endpoint_type_prefix>%s):type\s*=\s*\"%s*\"\s*>\s*" % (_NAME, _ATTRIBUTE_VALUE)
        + _leaf("addressOfRecord", _T)
        + _leaf("address", _T, attributes=_COUNTRY_CODE)
        + r"</x:endpoint>\s*)?",
        _leaf("appearance", _T),
        _flag("allowAnswer", "allow_answer"),
        _flag("allowRetrieve", "allow_retrieve"),
        _leaf("alternateAddressType", _T),
        _leaf("huntGroupUserId", _T),
        _leaf("distinctiveRing", _T),
        _flag("diversionInhibited"),
        _leaf("recallType", _T),
        _leaf("startTime", _INT, "start_time"),
        _leaf("answerTime", _INT, "answer_time"),
        _leaf("heldTime", _INT, "held_time"),
        _leaf("totalHeldTime", _INT),
        _leaf("detachedTime", _INT, "detached_time"),
        _leaf("releaseTime", _INT, "release_time"),
        _ACD_CALL_INFO,
        _leaf("agentEscalation", _T),
        _ACD_OUTGOING_CALL_INFO,
        _flag("groupCallParkLocationSelected"),
        _flag("recorded"),
        _leaf("findMeFollowMeUserId", _T),
        _leaf("allowedRecordingControls", _T),
        _leaf("recordingState", _T),
        _leaf("executiveUserId", _T),
        _container("recallFromParty", _party()),
        _leaf("securityClassification", _T),
    )
)
_CALL = r"<x:call>\s*%s</x:call>\s*" % _CALL_CONTENT
# the same structure without groups, to check a list of calls in one pass
_CALL_SHAPE = re.sub(r"\(\?P<\w+>", "(?:", _CALL)
_CALL_FIELDS = tuple(re.findall(r"\(\?P<(\w+)>", _CALL))

_ENVELOPE = "".join(
    (
        r"\s*",
        _leaf("eventID", _T1, "event_id", optional=False),
        _leaf("sequenceNumber", _INT, "sequence_number", optional=False),
        r"(?:<x:userId>(?P<user_id>%s)</x:userId>\s*|<x:clientId>(?P<client_id>%s)</x:clientId>\s*)" % (_T, _T),
        _leaf("externalApplicationId", _T, "external_application_id", optional=False),
        _leaf("subscriptionId", _T1, "subscription_id", optional=False),
        _leaf("sharedSubscriptionId", _T),
        _leaf("channelId", _T, "channel_id"),
        _leaf("targetId", _T, "target_id"),
        _leaf("targetSubId", _T),
        r"<x:eventData(?P<data_attributes>%s)(?P<empty>/?)>\s*" % _ATTRIBUTES,
    )
)
_TAIL = r"</x:Event>\s*</p:payload>\s*</p:event>\s*\Z"
_DATA_END = r"</x:eventData>\s*" + _TAIL
_DATA = {
    "call": _CALL + _DATA_END,
    "calls": r"<x:calls>\s*(?P<calls>(?:%s)*)</x:calls>\s*%s" % (_CALL_SHAPE, _DATA_END),
    "snapshot": r"(?:<x:calls>\s*(?P<calls>(?:%s)*)</x:calls>\s*)?<x:hookStatus>(?P<hook_status>%s)</x:hookStatus>\s*%s"
    % (_CALL_SHAPE, _T, _DATA_END),
    "hook": r"<x:hookStatus>(?P<hook_status>%s)</x:hookStatus>\s*%s" % (_T, _DATA_END),
    "none": _DATA_END,
    "closed": r"\s*" + _TAIL,  # <x:eventData .../>
}


# The contact centre's common events (XSIACD.xsd ACDQueueEntry, XSIACDEvents.xsd,
# XSIAgent.xsd AgentStateInformation), read into xsi_contact_centre's types.
# XSIDataTypes.xsd Redirection: read one by one from the list's span
_REDIRECTION = (
    r"<x:redirection>\s*"
    r"(?:(?P<r_party><x:party>)\s*%s</x:party>\s*|(?P<r_party_empty><x:party\s*/>)\s*)?"
    % _party("r_party")
    + _leaf("reason", _T, "r_reason")
    + _leaf("counter", _INT, "r_counter")
    + r"</x:redirection>\s*"
)
_REDIRECTION_FIELDS = tuple(re.findall(r"\(\?P<(\w+)>", _REDIRECTION))
_REDIRECTION_SHAPE = re.sub(r"\(\?P<\w+>", "(?:", _REDIRECTION)
_READ_REDIRECTIONS = (
    r"(?:<x:redirections>\s*(?P<redirections>(?:%s)*)</x:redirections>\s*|<x:redirections\s*/>\s*)?"
    % _REDIRECTION_SHAPE
)
_QUEUE_ENTRY = r"<x:queueEntry>\s*%s</x:queueEntry>\s*" % "".join(
    (
        _leaf("callId", _T1, "e_call_id", optional=False),
        _leaf("extTrackingId", _T1, "e_ext_tracking_id", optional=False),
        _container("remoteParty", _party("e_party")),
        _leaf("addTime", _INT, "e_add_time", optional=False),
        _leaf("removeTime", _INT, "e_remove_time"),
        _flag("mandatoryEntrance", "e_mandatory_entrance"),
        _flag("bounced", "e_bounced"),
        _flag("reordered", "e_reordered"),
        _leaf("preservedWaitTime", _INT, "e_preserved_wait_time"),
        _leaf("acdName", _T, "e_acd_name"),
        _leaf("acdNumber", _T, "e_acd_number", attributes=_COUNTRY_CODE),
        _leaf("acdPriority", _T, "e_acd_priority"),
        _leaf("addTimeInPriorityBucket", _INT, "e_add_time_in_priority_bucket"),
        _leaf("preservedWaitTimeInPriorityBucket", _INT, "e_preserved_wait_time_in_priority_bucket"),
        _leaf("answeringUserId", _T, "e_answering_user_id"),
        _leaf("answeringCallId", _T, "e_answering_call_id"),
        _leaf("answeringNetworkCallId", _T, "e_answering_network_call_id"),
    )
)
_QUEUE_ENTRY_FIELDS = tuple(re.findall(r"\(\?P<(\w+)>", _QUEUE_ENTRY))


def _with_severity(name, group):
    """A TimestampWithSeverity / NonNegativeIntWithSeverity element: its value read."""
    return r"(?:<x:%s>\s*%s%s</x:%s>\s*)?" % (
        name, _leaf("value", _INT, group, optional=False), _leaf("severity", _T), name)


_AGENT_STATE_INFO = r"<x:agentStateInfo>\s*%s</x:agentStateInfo>\s*" % "".join(
    (
        _leaf("state", _T1, "s_state", optional=False),
        _with_severity("stateTimestamp", "s_state_timestamp"),
        _leaf("unavailableCode", _T, "s_unavailable_code"),
        _leaf("wrapUpCallId", _T, "s_wrap_up_call_id"),
        _leaf("signInTimestamp", _INT, "s_sign_in_timestamp"),
        _leaf("totalAvailableTime", _INT, "s_total_available_time"),
        _with_severity("averageWrapUpTime", "s_average_wrap_up_time"),
        _leaf("wrapUpCallCenterUserId", _T, "s_wrap_up_call_center_user_id"),
    )
)
_AGENT_STATE_FIELDS = tuple(re.findall(r"\(\?P<(\w+)>", _AGENT_STATE_INFO))

# event type -> its eventData's content after the queue entry (XSIACDEvents.xsd)
_ENTRY_TAILS = {
    "ACDCallAddedEvent": _leaf("position", _INT, "position") + _READ_REDIRECTIONS,
    "ACDCallOfferedToAgentEvent": "",
    "ACDCallAnsweredByAgentEvent": "",
    "ACDCallReleasedEvent": "",
    "ACDCallAbandonedEvent": _flag("entrancePlaying", "entrance_playing"),
}
_DATA.update({event_type: _QUEUE_ENTRY + tail + _DATA_END for event_type, tail in _ENTRY_TAILS.items()})
_DATA["AgentStateEvent"] = _AGENT_STATE_INFO + _DATA_END
#: the contact-centre event types the reader reads
CONTACT_CENTRE_TYPES = frozenset(_ENTRY_TAILS) | {"AgentStateEvent"}


class _Patterns:
    """The patterns compiled for one pair of prefixes (xsp, xsi)."""

    __slots__ = ("envelope", "data", "call", "redirection")

    def __init__(self, xsp_prefix: str, xsi_prefix: str):
        xsi_prefix = re.escape(xsi_prefix)
        xsp_prefix = re.escape(xsp_prefix)

        def compile_(pattern):
            pattern = pattern.replace("<x:", "<%s:" % xsi_prefix).replace("</x:", "</%s:" % xsi_prefix)
            return _compile(pattern.replace("</p:", "</%s:" % xsp_prefix))

        self.envelope = compile_(_ENVELOPE)
        self.data = {family: compile_(pattern) for family, pattern in _DATA.items()}
        self.call = compile_(_CALL)
        self.redirection = compile_(_REDIRECTION)


_PATTERNS: dict[tuple[str, str], _Patterns] = {}
_MAX_PATTERNS = 16  # BroadWorks uses one pair; a peer that varies them gets the general path


def _patterns(xsp_prefix: str, xsi_prefix: str) -> _Patterns | None:
    key = (xsp_prefix, xsi_prefix)
    found = _PATTERNS.get(key)
    if found is None and len(_PATTERNS) < _MAX_PATTERNS and len(xsp_prefix) + len(xsi_prefix) <= 64:
        found = _PATTERNS[key] = _Patterns(xsp_prefix, xsi_prefix)
    return found


def warm_up() -> None:
    """Compile the patterns for the prefixes BroadWorks uses (a few tens of
    milliseconds), so that the first event does not wait for them."""
    _patterns("xsp", "xsi")


# --------------------------------------------------------------------------
# the parts every event of a link repeats, checked once


class _Remembered(dict):
    """text (or a tuple of texts) -> what a check made of it. Bounded in
    entries and in the length of what it keeps: a peer that varies the text
    endlessly, or sends huge ones, gets the check each time, never a growing
    table."""

    MAX_TEXT = 4096

    def __init__(self, check, limit=256):
        super().__init__()
        self.check = check
        self.limit = limit

    def __missing__(self, key):
        verdict = self.check(key)
        size = sum(map(len, key)) if type(key) is tuple else len(key)
        if len(self) < self.limit and size <= self.MAX_TEXT:
            self[key] = verdict
        return verdict


def _check_prolog(text):
    match = _PROLOG.fullmatch(text)
    return None if match is None else (match.group("prefix"), match.group(5))


def _check_event_tag(text):
    match = _EVENT_TAG.fullmatch(text)
    return None if match is None else match.group("xsp_prefix", "prefix", 3)


_PROLOGS = _Remembered(_check_prolog)
_EVENT_TAGS = _Remembered(_check_event_tag)


def _judge_namespaces(key):
    """What the general path reads from the three start tags with attributes:
    (root type, event type, the prefixes in scope in eventData), or None when
    lxml refuses them (undeclared prefixes, invalid namespace URIs, duplicate
    attributes...) or a type attribute is missing.

    lxml itself judges a skeleton made of those tags: the rest of a document
    the reader accepts is plain elements and text, whose well-formedness the
    patterns guarantee."""
    xsp_prefix, xsi_prefix, root_attributes, event_attributes, data_attributes = key
    skeleton = "<%s:event%s><%s:payload><%s:Event%s><%s:eventData%s/></%s:Event></%s:payload></%s:event>" % (
        xsp_prefix, root_attributes, xsp_prefix, xsi_prefix, event_attributes, xsi_prefix,
        data_attributes, xsi_prefix, xsp_prefix, xsp_prefix,
    )
    try:
        root = etree.fromstring(skeleton.encode("utf-8"), _SKELETON_PARSER)
    except etree.XMLSyntaxError:
        return None
    event = root[0][0]
    data = event[0]
    event_type = event.get(_TYPE)
    data_type = data.get(_TYPE)
    if event_type is None or data_type is None:
        return None
    prefixes = frozenset(prefix for prefix, uri in data.nsmap.items() if prefix is not None)
    return event_type.rpartition(":")[2], data_type.rpartition(":")[2], prefixes


_TYPE = "{%s}type" % XSD_INSTANCE_NS
_SKELETON_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
_NAMESPACES = _Remembered(_judge_namespaces, limit=1024)


# --------------------------------------------------------------------------
# the reader


def read_event(data: bytes):
    """``(request id, SubscriptionEvent)`` of an XSP event document the reader
    recognizes, else None (the caller takes the general path). An exception
    is a bug of the reader's, never the peer's fault: the caller counts it
    and takes the general path too, so nothing is lost."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    start = text.find("<requestId>")
    if start < 0:
        return None
    root = _PROLOGS[text[:start]]
    if root is None:
        return None
    xsp_prefix, root_attributes = root
    start += 11
    end = text.find("</requestId>", start)
    request_id = text[start:end]
    if end < 0 or _REQUEST_ID.fullmatch(request_id) is None:
        return None
    tag_end = text.find(">", text.find(":Event", end)) + 1
    event_tag = _EVENT_TAGS[text[end:tag_end]]
    if event_tag is None or event_tag[0] != xsp_prefix:
        return None
    _, xsi_prefix, event_attributes = event_tag
    patterns = _patterns(xsp_prefix, xsi_prefix)
    if patterns is None:
        return None
    envelope = patterns.envelope.match(text, tag_end)
    if envelope is None:
        return None
    (
        event_id, sequence_number, user_id, client_id, external_application_id,
        subscription_id, channel_id, target_id, data_attributes, empty,
    ) = envelope.group(*_ENVELOPE_GROUPS)
    namespaces = _NAMESPACES[xsp_prefix, xsi_prefix, root_attributes, event_attributes, data_attributes]
    if namespaces is None:
        return None
    root_type, event_type, prefixes = namespaces
    if root_type != "SubscriptionEvent" or (
        event_type not in KNOWN_EVENT_TYPES and event_type not in CONTACT_CENTRE_TYPES
    ):
        return None
    if empty:
        family = "closed" if event_type not in CALL_EVENT_TYPES and event_type not in CONTACT_CENTRE_TYPES else None
    else:
        family = _FAMILIES.get(event_type)
    if family is None:
        return None
    body = patterns.data[family].match(text, envelope.end())
    if body is None:
        return None
    call = None
    calls = ()
    hook_status = None
    event_data = None
    if family in CONTACT_CENTRE_TYPES:
        event_data = _contact_centre_data(family, body, patterns, text)
        if event_data is None:
            return None
    elif family == "call":
        call = _call(body, prefixes)
        if call is None:
            return None
    elif family == "calls" or family == "snapshot":
        span = body.span("calls")
        if span[0] >= 0:
            calls = tuple(_call(m, prefixes) for m in patterns.call.finditer(text, *span))
            if None in calls:
                return None
        if family == "snapshot":
            hook_status = body.group("hook_status") or None
    elif family == "hook":
        hook_status = body.group("hook_status") or None
    event = SubscriptionEvent(
        event_type=event_type,
        event_id=event_id,
        sequence_number=int(sequence_number),
        user_id=user_id or client_id or "",
        external_application_id=external_application_id or "",
        subscription_id=subscription_id,
        channel_id=channel_id or None,
        target_id=target_id or None,
        call=call,
        calls=calls,
        hook_status=hook_status,
        event_data=event_data,
    )
    return request_id.strip(), event



# An Xsi event channel carries the ``xsi:Event`` documents bare (no XSP
# envelope, reference/broadworks-xsi.md §2.2): the reader reads one inside the
# envelope it knows (a requestId nobody uses).
_STREAM_DECLARATION = re.compile(
    rb"<\?xml[ \t\n\r]+version[ \t\n\r]*=[ \t\n\r]*[\"']1\.0[\"']"
    rb"(?:[ \t\n\r]+encoding[ \t\n\r]*=[ \t\n\r]*[\"'](?i:utf-8)[\"'])?"
    rb"(?:[ \t\n\r]+standalone[ \t\n\r]*=[ \t\n\r]*[\"'](?:yes|no)[\"'])?[ \t\n\r]*\?>"
)
_STREAM_HEAD = (
    b'<xsp:event xmlns:xsp="http://schema.broadsoft.com/XspXMLInterface">'
    b"<requestId>xsi</requestId><xsp:payload>"
)
_STREAM_TAIL = b"</xsp:payload></xsp:event>"


def read_stream_event(document: bytes):
    """The SubscriptionEvent of a bare ``xsi:Event`` document off an Xsi event
    channel, when the reader recognizes it; else None (the caller takes the
    general path), as :func:`read_event`."""
    start = 0
    if document.startswith(b"<?xml"):
        declaration = _STREAM_DECLARATION.match(document)
        if declaration is None:
            return None  # another encoding: lxml reads the declaration
        start = declaration.end()
    read = read_event(b"".join((_STREAM_HEAD, document[start:], _STREAM_TAIL)))
    return None if read is None else read[1]

_ENVELOPE_GROUPS = (
    "event_id", "sequence_number", "user_id", "client_id", "external_application_id",
    "subscription_id", "channel_id", "target_id", "data_attributes", "empty",
)
_FAMILIES = {
    **{event_type: event_type for event_type in CONTACT_CENTRE_TYPES},
    **dict.fromkeys(CALL_EVENT_TYPES, "call"),
    **dict.fromkeys(CALLS_EVENT_TYPES, "calls"),
    **dict.fromkeys(SUBSCRIPTION_SNAPSHOT_TYPES, "snapshot"),
    "HookStatusEvent": "hook",
    "SubscriptionTerminatedEvent": "none",
}

_CALL_GROUPS = (
    "call_id", "ext_tracking_id", "personality", "state", "release_cause", "releasing_party",
    "party_name", "party_address", "party_user_id", "party_user_dn", "party_call_type",
    "redirect", "redirect_address", "redirect_reason", "redirect_time", "endpoint_type_prefix",
    "allow_answer", "allow_retrieve",
    "start_time", "answer_time", "held_time", "detached_time", "release_time",
    "acd", "acd_user_id", "acd_name", "acd_number", "acd_num_calls_in_queue", "acd_wait_time",
    "acd_longest_wait_time", "acd_hold_reminder", "acd_party_name", "acd_party_address",
    "acd_party_user_id", "acd_party_user_dn", "acd_party_call_type", "acd_route_point",
    "acd_disposition_code", "acd_post_call_agent_state",
)
if _CALL_FIELDS != _CALL_GROUPS:  # _call unpacks the groups in this order
    raise ImportError("eventreader: the call pattern's groups changed: %r" % (_CALL_FIELDS,))


def _call(match, prefixes) -> Call | None:
    (
        call_id, ext_tracking_id, personality, state, release_cause, releasing_party,
        party_name, party_address, party_user_id, party_user_dn, party_call_type,
        redirect, redirect_address, redirect_reason, redirect_time, endpoint_type_prefix,
        allow_answer, allow_retrieve,
        start_time, answer_time, held_time, detached_time, release_time,
        *acd,
    ) = match.groups()
    if endpoint_type_prefix is not None and endpoint_type_prefix not in prefixes:
        return None  # an undeclared prefix: not well-formed
    if redirect is not None:
        redirect = Redirect(
            reason=redirect_reason or "unknown",
            redirect_time=int(redirect_time) if redirect_time else 0,
            address=redirect_address or None,
        )
    return Call(
        call_id=call_id,
        ext_tracking_id=ext_tracking_id,
        personality=personality,
        state=state,
        remote_party=RemoteParty(
            name=party_name or None,
            address=party_address or None,
            user_id=party_user_id or None,
            user_dn=party_user_dn or None,
            call_type=party_call_type or None,
        ),
        release_cause=release_cause or None,
        releasing_party=releasing_party or None,
        redirect=redirect,
        allow_answer=allow_answer is not None,
        allow_retrieve=allow_retrieve is not None,
        start_time=int(start_time) if start_time else 0,
        answer_time=int(answer_time) if answer_time else None,
        held_time=int(held_time) if held_time else None,
        detached_time=int(detached_time) if detached_time else None,
        release_time=int(release_time) if release_time else None,
        acd_call_info=_acd_call_info(*acd) if acd[0] is not None else None,
    )


def _given_text(value):
    """A text element as the general path reads it: absent "", empty None."""
    if value is None:
        return ""
    return value or None


def _acd_call_info(
    _, user_id, name, number, num_calls, wait_time, longest_wait_time, hold_reminder,
    party_name, party_address, party_user_id, party_user_dn, party_call_type, route_point,
    disposition_code, post_call_agent_state,
) -> AcdCallInfo:
    return AcdCallInfo(
        acd_user_id=user_id,
        acd_name=_given_text(name),
        acd_number=_given_text(number),
        num_calls_in_queue=int(num_calls) if num_calls is not None else 0,
        wait_time=int(wait_time) if wait_time is not None else 0,
        calling_party_info=RemoteParty(
            name=party_name or None,
            address=party_address or None,
            user_id=party_user_id or None,
            user_dn=party_user_dn or None,
            call_type=party_call_type or None,
        ),
        longest_wait_time=int(longest_wait_time) if longest_wait_time is not None else None,
        hold_reminder=hold_reminder is not None,
        route_point=route_point is not None,
        disposition_code=disposition_code or None,
        post_call_agent_state=post_call_agent_state or None,
    )


# --------------------------------------------------------------------------
# the contact centre's events, as xsi_contact_centre.parse_event_data reads them

_QUEUE_ENTRY_GROUPS = (
    "e_call_id", "e_ext_tracking_id", "e_party_name", "e_party_address", "e_party_user_id",
    "e_party_user_dn", "e_party_call_type", "e_add_time", "e_remove_time", "e_mandatory_entrance",
    "e_bounced", "e_reordered", "e_preserved_wait_time", "e_acd_name", "e_acd_number", "e_acd_priority",
    "e_add_time_in_priority_bucket", "e_preserved_wait_time_in_priority_bucket", "e_answering_user_id",
    "e_answering_call_id", "e_answering_network_call_id",
)
_AGENT_STATE_GROUPS = (
    "s_state", "s_state_timestamp", "s_unavailable_code", "s_wrap_up_call_id", "s_sign_in_timestamp",
    "s_total_available_time", "s_average_wrap_up_time", "s_wrap_up_call_center_user_id",
)
_REDIRECTION_GROUPS = (
    "r_party", "r_party_name", "r_party_address", "r_party_user_id", "r_party_user_dn", "r_party_call_type",
    "r_party_empty", "r_reason", "r_counter",
)
if (_QUEUE_ENTRY_FIELDS, _AGENT_STATE_FIELDS, _REDIRECTION_FIELDS) != (
    _QUEUE_ENTRY_GROUPS, _AGENT_STATE_GROUPS, _REDIRECTION_GROUPS
):
    raise ImportError("eventreader: the contact centre's groups changed")


def _optional_int(value):
    return int(value) if value is not None else None


def _party_of(name, address, user_id, user_dn, call_type) -> RemoteParty:
    return RemoteParty(
        name=name or None,
        address=address or None,
        user_id=user_id or None,
        user_dn=user_dn or None,
        call_type=call_type or None,
    )


def _contact_centre_data(event_type, body, patterns, text):
    """The eventData of a contact-centre event the body pattern matched."""
    if event_type == "AgentStateEvent":
        (
            state, state_timestamp, unavailable_code, wrap_up_call_id, sign_in_timestamp,
            total_available_time, average_wrap_up_time, wrap_up_call_center_user_id,
        ) = body.group(*_AGENT_STATE_GROUPS)
        return AgentStateChange(AgentStateInfo(
            state=state,
            state_timestamp=int(state_timestamp) if state_timestamp is not None else 0,
            unavailable_code=unavailable_code or None,
            wrap_up_call_id=wrap_up_call_id or None,
            sign_in_timestamp=_optional_int(sign_in_timestamp),
            total_available_time=_optional_int(total_available_time),
            average_wrap_up_time=_optional_int(average_wrap_up_time),
            wrap_up_call_center_user_id=wrap_up_call_center_user_id or None,
        ))
    (
        call_id, ext_tracking_id, party_name, party_address, party_user_id, party_user_dn, party_call_type,
        add_time, remove_time, mandatory_entrance, bounced, reordered, preserved_wait_time, acd_name,
        acd_number, acd_priority, add_time_in_priority_bucket, preserved_wait_time_in_priority_bucket,
        answering_user_id, answering_call_id, answering_network_call_id,
    ) = body.group(*_QUEUE_ENTRY_GROUPS)
    entry = QueueEntry(
        call_id=call_id,
        ext_tracking_id=ext_tracking_id,
        remote_party=_party_of(party_name, party_address, party_user_id, party_user_dn, party_call_type),
        add_time=int(add_time),
        acd_name=_given_text(acd_name),
        acd_number=_given_text(acd_number),
        remove_time=_optional_int(remove_time),
        mandatory_entrance=mandatory_entrance is not None,
        bounced=bounced is not None,
        reordered=reordered is not None,
        preserved_wait_time=_optional_int(preserved_wait_time),
        acd_priority=acd_priority or None,
        add_time_in_priority_bucket=_optional_int(add_time_in_priority_bucket),
        preserved_wait_time_in_priority_bucket=_optional_int(preserved_wait_time_in_priority_bucket),
        answering_user_id=answering_user_id or None,
        answering_call_id=answering_call_id or None,
        answering_network_call_id=answering_network_call_id or None,
    )
    if event_type == "ACDCallAddedEvent":
        redirections = ()
        start, end = body.span("redirections")
        if start >= 0:
            redirections = tuple(_redirection(m) for m in patterns.redirection.finditer(text, start, end))
        return QueueEntryEvent(entry, position=_optional_int(body.group("position")), redirections=redirections)
    if event_type == "ACDCallAbandonedEvent":
        return QueueEntryEvent(entry, entrance_playing=body.group("entrance_playing") is not None)
    return QueueEntryEvent(entry)


def _redirection(match) -> Redirection:
    (
        party, name, address, user_id, user_dn, call_type, party_empty, reason, counter,
    ) = match.groups()
    if party is not None:
        party = _party_of(name, address, user_id, user_dn, call_type)
    elif party_empty is not None:
        party = RemoteParty()
    return Redirection(party=party, reason=reason or None, counter=_optional_int(counter))
