# -*- test-case-name: tests.unit.test_lms -*-
"""LMS messages: the catalog of every operational log message, and its renderer.

Every operational message of the product has a numeric LMS id, one of the five
Genesys log levels and a PEP 3101 template (SPEC §8).  Code logs them with
:func:`emit`, which hands the template to ``twisted.logger`` as the format
string, so the structured fields (``device``, ``call_id`` ...) reach every
observer unformatted; :func:`render_line` turns any log event (LMS or not)
into the text line ``<ISO-8601 time> <Lvl> <id> <text>``.

Numbering (the hundreds say what a message is about)::

    370xx  the connector process: start, stop, configuration, listeners
    371xx  the BroadWorks side: links, channels, requests, documents
    372xx  subscriptions, snapshots and AS failover synchronization (37205 is fixed)
    373xx  the CSTA side: clients, sessions, requests, monitors
    374xx  the BroadWorks simulator
    xx90+  Debug-level lines of each area (wire dumps, per-call detail)

Level -> ``twisted.logger.LogLevel`` (used by observers that know nothing of
LMS, e.g. twistd's own log file)::

    Alarm -> critical   (the product cannot do its job: operator action needed)
    Standard -> warn    (Genesys "Standard": failures, recoveries, conditions
                         with operational impact - what an operator keeps on)
    Interaction -> info
    Trace -> info
    Debug -> debug

Non-LMS events (from Twisted itself or third-party code) are rendered with id
0 and an LMS level derived from their LogLevel (see :data:`LEVEL_OF_LOG_LEVEL`).

The catalog part of this module is pure; only :func:`emit` and
:func:`render_line` touch ``twisted.logger``.  ``docs/lms.md`` lists the
catalog; a unit test keeps the two in agreement.
"""

from __future__ import annotations

import string
import time
from dataclasses import dataclass, field
from typing import Any, Mapping

# The five levels, most severe first (Genesys order).  ``[log] verbose``
# thresholds are positions in this tuple.
LEVELS = ("Alarm", "Standard", "Interaction", "Trace", "Debug")

LEVEL_ABBREVIATIONS = {
    "Alarm": "Alr",
    "Standard": "Std",
    "Interaction": "Int",
    "Trace": "Trc",
    "Debug": "Dbg",
}

# Names a template may not use: ``format`` and ``level`` are parameters of
# Logger.emit, ``log_*`` keys belong to twisted.logger, ``lms_*`` to us.
_RESERVED_FIELDS = frozenset({"format", "level", "failure", "logger", "message"})


@dataclass(frozen=True)
class LmsMessage:
    """One catalog entry: numeric id, level and a PEP 3101 template."""

    id: int
    level: str
    template: str
    field_names: tuple[str, ...] = field(init=False, compare=False, repr=False)
    rank: int = field(init=False, compare=False, repr=False)  # position in LEVELS

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"LMS {self.id}: unknown level {self.level!r}")
        object.__setattr__(self, "rank", LEVELS.index(self.level))
        names = []
        for _, name, _, _ in string.Formatter().parse(self.template):
            if name is None:
                continue
            # "{a.b}" / "{a[0]}" use field "a".
            base = name.split(".", 1)[0].split("[", 1)[0]
            if not base or base in _RESERVED_FIELDS or base.startswith(("log_", "lms_")):
                raise ValueError(f"LMS {self.id}: bad field name {name!r}")
            if base not in names:
                names.append(base)
        object.__setattr__(self, "field_names", tuple(names))

    @property
    def abbreviation(self) -> str:
        return LEVEL_ABBREVIATIONS[self.level]

    def text(self, **fields: Any) -> str:
        """The message text with ``fields`` filled in (pure; for docs, tests, CLI)."""
        return self.template.format(**fields)


# ---------------------------------------------------------------------------
# 370xx  the connector process

CONNECTOR_STARTED = LmsMessage(
    37001, "Standard", "Connector started: application {application}, version {version}"
)
CONNECTOR_STOPPED = LmsMessage(37002, "Standard", "Connector stopped")
CONFIGURATION_LOADED = LmsMessage(37003, "Standard", "Configuration loaded from {source}")
METRICS_LISTENING = LmsMessage(
    37004, "Standard", "Metrics endpoint listening on {host}:{port}"
)
CSTA_LISTENING = LmsMessage(
    37005, "Standard", "CSTA listener on {host}:{port}, encoding {encoding}"
)
START_FAILED = LmsMessage(
    # one line naming the file, section, option and port; the process exits non-zero
    37006, "Alarm", "Cannot start: {problem}"
)
UNEXPECTED_ERROR = LmsMessage(
    # a bug of the connector, not the peer's fault: the traceback follows the line
    37007, "Standard", "Unexpected error {what}: {error}; please report it"
)

# ---------------------------------------------------------------------------
# 371xx  the BroadWorks side

LINK_CONNECTING = LmsMessage(37101, "Trace", "Link {link} ({protocol}): connecting to {host}:{port}")
LINK_CONNECTED = LmsMessage(37102, "Standard", "Link {link} ({protocol}): connected to {host}:{port}")
LINK_LOST = LmsMessage(
    37103, "Standard", "Link {link} ({protocol}): connection to {host}:{port} lost: {reason}"
)
LINK_RECOVERED = LmsMessage(
    37104, "Standard", "Link {link} ({protocol}): connection to {host}:{port} recovered after {downtime} s"
)
ALL_LINKS_DOWN = LmsMessage(
    37105, "Alarm", "All links of channel set {channel_set} are down: BroadWorks unreachable"
)
LINK_UNRESPONSIVE = LmsMessage(
    37106,
    "Standard",
    "Link {link}: {missed} unanswered (tolerance {tolerance}), closing the link",
)
LINK_RECONNECT_SCHEDULED = LmsMessage(
    37107, "Trace", "Link {link} ({protocol}): reconnecting to {host}:{port} in {delay} s"
)
CHANNEL_SET_RESTORED = LmsMessage(
    37108, "Standard", "Channel set {channel_set}: link {link} is up, BroadWorks reachable again"
)
CHANNEL_ADDED = LmsMessage(
    37110,
    "Standard",
    "Link {link} ({protocol}): channel {channel_id} added to channel set {channel_set}, expires in {expires} s",
)
CHANNEL_ADD_FAILED = LmsMessage(
    37111, "Standard", "Link {link}: adding a channel to channel set {channel_set} failed: {reason}"
)
CHANNEL_TERMINATED = LmsMessage(
    37112, "Standard", "Link {link}: channel {channel_id} terminated by BroadWorks"
)
CHANNEL_RENEWED = LmsMessage(
    37113, "Trace", "Link {link}: channel {channel_id} renewed, expires in {expires} s"
)
BROADWORKS_REQUEST_FAILED = LmsMessage(
    # Trace: the part of the product that asked logs what the failure means
    # at Standard (a CSTA request failed 37305, a subscription failed 37203...)
    37120,
    "Trace",
    "Link {link}: BroadWorks request {request} (requestId {request_id}) failed: {status} {reason}",
)
BROADWORKS_REQUEST_TIMED_OUT = LmsMessage(
    37121,
    "Standard",
    "Link {link}: BroadWorks request {request} (requestId {request_id}) timed out after {timeout} s",
)
MALFORMED_BROADWORKS_DOCUMENT = LmsMessage(
    37122, "Standard", "Link {link}: malformed document from BroadWorks skipped: {reason}"
)
UNKNOWN_XSI_EVENT = LmsMessage(
    # Trace, not Standard: newer BroadWorks releases add event types the
    # connector does not use, and each one would otherwise be a Standard line.
    37123, "Trace", "Link {link}: unknown Xsi event type {event_type} skipped"
)
BROADWORKS_DOCUMENT_TOO_LARGE = LmsMessage(
    37124,
    "Standard",
    "Link {link}: document from BroadWorks exceeds {limit} bytes, closing the link",
)
BROADWORKS_EVENT_RECEIVED = LmsMessage(
    37130,
    "Interaction",
    "Event {event_type} for {user}, subscription {subscription_id}, sequence {sequence}",
)
BROADWORKS_REQUEST_SENT = LmsMessage(
    37131, "Trace", "Link {link}: request {request} (requestId {request_id}) sent"
)
EARLY_EVENTS_EXPIRED = LmsMessage(
    # Trace: what expires was not early, only unknown (a previous run's
    # subscription still sending to the channel set)
    37140,
    "Trace",
    "Subscription {subscription_id} still unknown after {seconds} s: {count} event(s) "
    "held for it dropped ({event_types})",
)
XSI_CHANNEL_ERROR = LmsMessage(
    # an ErrorEvent on an Xsi event channel: the XSP received something over
    # the channel it does not take (only EventResponse and ChannelHeartBeat)
    37142, "Standard", "Link {link}: the XSP reports error {code} on the event channel: {error}"
)
EARLY_EVENT_OVERFLOW = LmsMessage(
    37141,
    "Standard",
    "{event_type} of subscription {subscription_id} (not known yet) dropped: {limit} events "
    "of not-yet-known subscriptions are held already",
)
BROADWORKS_DOCUMENT_RECEIVED = LmsMessage(37190, "Debug", "Link {link} <<< {document}")
BROADWORKS_DOCUMENT_SENT = LmsMessage(37191, "Debug", "Link {link} >>> {document}")

# ---------------------------------------------------------------------------
# 372xx  subscriptions, snapshots, synchronization

SUBSCRIPTION_ADDED = LmsMessage(
    37201, "Trace", "Subscription {subscription_id} added for {user}, expires in {expires} s"
)
SUBSCRIPTION_REMOVED = LmsMessage(
    37202, "Trace", "Subscription {subscription_id} for {user} removed"
)
SUBSCRIPTION_FAILED = LmsMessage(37203, "Standard", "Subscription for {user} failed: {reason}")
SUBSCRIPTION_RENEWED = LmsMessage(
    37204, "Trace", "Subscription {subscription_id} for {user} renewed, expires in {expires} s"
)
CALL_PARTY_NOT_SYNCHRONIZED = LmsMessage(
    # Fixed by SPEC §8: one line per stuck party cleared by synchronization.
    37205,
    "Standard",
    "Call party not synchronized: device {device}, call {call_id}, party {party}, cleared",
)
SUBSCRIPTION_TERMINATED = LmsMessage(
    37206, "Standard", "Subscription {subscription_id} for {user} terminated by BroadWorks"
)
SEQUENCE_GAP = LmsMessage(
    37207,
    "Standard",
    "Subscription {subscription_id} for {user}: sequence gap, expected {expected}, "
    "received {received}; resynchronizing",
)
CALL_PARTY_ADDED = LmsMessage(
    37208,
    "Standard",
    "Call party added by synchronization: device {device}, call {call_id}, party {party}, "
    "state {state}",
)
CALL_PARTY_CORRECTED = LmsMessage(
    37209,
    "Standard",
    "Call party corrected by synchronization: device {device}, call {call_id}, party {party}, "
    "state {old_state} -> {new_state}",
)
SNAPSHOT_REQUESTED = LmsMessage(
    37210, "Interaction", "Snapshot of device {device} requested by {requester}"
)
SNAPSHOT_COMPLETED = LmsMessage(
    37211, "Interaction", "Snapshot of device {device} completed: {calls} call(s)"
)
SNAPSHOT_TIMED_OUT = LmsMessage(
    37212, "Standard", "Snapshot of device {device} timed out after {timeout} s"
)
SUBSCRIPTION_REMOVAL_FAILED = LmsMessage(
    # Trace: BroadWorks lets an unwanted subscription expire by itself
    37213,
    "Trace",
    "Subscription {subscription_id} for {user}: removal failed ({error}); it expires by itself",
)
REFRESH_FAILED = LmsMessage(
    37214,
    "Standard",
    "Subscription for {user}: refresh failed ({error}); the next renewal tries again",
)
EVENT_FOR_UNKNOWN_SUBSCRIPTION = LmsMessage(
    # once per subscription: a previous run's subscription not expired yet, or
    # another connector using the same channel-set-name
    37215,
    "Standard",
    "Event {event_type} of unknown subscription {subscription_id} ignored; its later events "
    "are ignored without a line",
)
EVENT_FOR_REMOVED_SUBSCRIPTION = LmsMessage(
    # Trace: events already on their way when the connector removed the
    # subscription, or the end of one it does not hold (a previous run's,
    # replaced by its own new one)
    37216,
    "Trace",
    "Event {event_type} of subscription {subscription_id} ignored: {reason}",
)
SYNCHRONIZATION_SUMMARY = LmsMessage(
    # Trace: one per CallSubscriptionEvent, including every renewal; the
    # parties it changed have their own Standard lines (37205, 37208, 37209).
    37220,
    "Trace",
    "Synchronized {user} from {event_type}: cleared {cleared}, added {added}, "
    "corrected {corrected}",
)
RESYNCHRONIZATION_STARTED = LmsMessage(
    37221, "Standard", "Resynchronizing {count} subscription(s) after {cause}"
)
# 37230-37239: the proactive failover resync (SPEC §6.1, services/resync.py)
AS_FAILOVER_SUSPECTED = LmsMessage(
    37230,
    "Standard",
    "AS failover suspected ({trigger}, device {device}): refreshing {count} subscription(s) "
    "holding calls, at most {rate} per second",
)
PROACTIVE_RESYNC_FINISHED = LmsMessage(
    37231,
    "Standard",
    "Proactive resynchronization finished: {users} user(s) refreshed, {cleared} party(ies) "
    "cleared, {seconds} s ({failed} refresh(es) failed)",
)
FAILOVER_SIGN_JOINED = LmsMessage(
    # Trace: after the first sign of a failover, every user's unsolicited
    # event is another one; they add to the wave in progress.
    37232, "Trace", "AS failover sign ({trigger}, device {device}) joins the resynchronization in progress",
)
CALL_UNKNOWN_TO_BROADWORKS = LmsMessage(
    37233,
    "Trace",
    "Call {call_id} of device {device} unknown to BroadWorks ({request} refused): refreshing {key}",
)
PROACTIVE_REFRESH_FAILED = LmsMessage(
    37234, "Trace", "Proactive resynchronization: refreshing {target} {key} failed: {reason}"
)

# 3725x  the contact centre: agents and queues (SPEC §10)

AGENT_SUBSCRIPTION_REFUSED = LmsMessage(
    # Instead of 37203 for a Call Center Agent subscription: the monitor stands.
    37250,
    "Standard",
    "Device {user} is no agent: its Call Center Agent subscription was refused ({reason}); "
    "its monitor stands, agent services fail",
)
AGENT_CORRECTED = LmsMessage(
    37251,
    "Standard",
    "Agent {device} corrected by synchronization from {event_type}: state {old_state} -> "
    "{new_state}, joined {joined}, left {left}",
)
AGENT_STATE_REREAD = LmsMessage(
    37252, "Trace", "Agent {device}: state read again after its ACD call {call_id}: {state}"
)
AGENT_STATE_READ_FAILED = LmsMessage(
    37253, "Standard",
    "Agent {device}: its state could not be read again after its ACD call ({error}); the next "
    "AgentStateEvent or refresh tells it",
)

# 3727x-3728x  the contact centre: route points and the routeing dialogue (SPEC §10.4)

ROUTE_REQUEST_SENT = LmsMessage(
    37270,
    "Interaction",
    "Route point {device}: RouteRequest {cross_ref_id} for call {call_id} to {client} "
    "(registration {register_id})",
)
ROUTE_SELECTED = LmsMessage(
    37271,
    "Interaction",
    "Route point {device}: dialogue {cross_ref_id} of call {call_id} selected {destination}: {request}",
)
ROUTE_ENDED = LmsMessage(
    37272, "Interaction", "Route point {device}: dialogue {cross_ref_id} of call {call_id} ended: {result}"
)
ROUTE_SELECT_REFUSED = LmsMessage(
    37273,
    "Standard",
    "Route point {device}: {request} of call {call_id} to {destination} refused ({error}); "
    "RouteEnd {error_value} to {client}, then {then}",
)
ROUTE_TIMED_OUT = LmsMessage(
    37274,
    "Standard",
    "Route point {device}: call {call_id} not routed within BroadWorks' inactivity time "
    "(dialogue {cross_ref_id} of {client}): its failure policy applied",
)
ROUTE_CALL_FAILED = LmsMessage(
    37275,
    "Standard",
    "Route point {device}: call {call_id} failed to the route point's policy ({why})",
)
ROUTE_FAIL_REFUSED = LmsMessage(
    37276,
    "Standard",
    "Route point {device}: RoutePointFailCallRequest of call {call_id} refused ({error}); {then}",
)
ROUTE_REGISTERED = LmsMessage(
    37277,
    "Standard",
    "CSTA client {client}: routeing registration {register_id} for {device}; {role}",
)
ROUTE_REGISTRATION_ENDED = LmsMessage(
    37278,
    "Standard",
    "CSTA client {client}: routeing registration {register_id} for {device} ended ({why}); "
    "{dialogues} open dialogue(s) {then}",
)
ROUTE_REGISTER_ABORTED = LmsMessage(
    37279,
    "Standard",
    "Route point {device}: its Route Point Queue subscription is lost; RouteRegisterAbort "
    "{register_id} to {client}",
)
ROUTEING_TAKEN_OVER = LmsMessage(
    37280,
    "Standard",
    "Route point {device}: routeing now by registration {register_id} of {client}",
)
APPLICATION_CONTROLLER_SET = LmsMessage(
    37281,
    "Standard",
    "Application controller {controller} set {state} ({registrations} routeing registration(s))",
)
APPLICATION_CONTROLLER_FAILED = LmsMessage(
    37282,
    "Standard",
    "Application controller {controller}: setting {state} failed ({error}); sent again after the "
    "next change or link recovery",
)
ROUTE_POINT_SERVICE_CHANGED = LmsMessage(
    37283, "Standard", "Route point {device} {state} ({event_type}{reason})"
)
ROUTE_POINT_CALL_ADMISSION = LmsMessage(
    37284, "Trace", "Route point {device}: call {call_id} announced: {request}"
)
ROUTE_POINT_REQUEST_FAILED = LmsMessage(
    37285, "Standard", "Route point {device}: {request} of call {call_id} failed: {error}"
)

# ---------------------------------------------------------------------------
# 373xx  the CSTA side

CLIENT_CONNECTED = LmsMessage(37301, "Standard", "CSTA client {client} connected")
CLIENT_DISCONNECTED = LmsMessage(37302, "Standard", "CSTA client {client} disconnected: {reason}")
CLIENT_ENCODING_DETECTED = LmsMessage(
    37303, "Trace", "CSTA client {client}: encoding {encoding} ({how})"
)
CLIENT_SESSION_STARTED = LmsMessage(
    37304, "Standard", "CSTA client {client}: session started, encoding {encoding}, {protocol}"
)
CSTA_REQUEST_FAILED = LmsMessage(
    37305,
    "Standard",
    "CSTA client {client}: {service} request (invoke {invoke_id}) failed: {error}",
)
MALFORMED_CLIENT_FRAME = LmsMessage(
    37306, "Standard", "CSTA client {client}: malformed frame ({reason}), connection closed"
)
MALFORMED_CLIENT_MESSAGE = LmsMessage(
    37307,
    "Standard",
    "CSTA client {client}: malformed message (invoke {invoke_id}) rejected: {reason}",
)
UNSUPPORTED_CSTA_OPERATION = LmsMessage(
    37308, "Standard", "CSTA client {client}: operation {operation} not supported"
)
SYSTEM_STATUS_SENT = LmsMessage(
    37310, "Standard", "System status {status} sent to {clients} CSTA client(s)"
)
MONITOR_STARTED = LmsMessage(
    37311, "Interaction", "CSTA client {client}: monitor {cross_ref_id} started on device {device}"
)
MONITOR_STOPPED = LmsMessage(
    37312, "Interaction", "CSTA client {client}: monitor {cross_ref_id} on device {device} stopped"
)
CLIENT_FRAME_INCOMPLETE = LmsMessage(
    37313,
    "Standard",
    "CSTA client {client}: frame incomplete {timeout} s after its first byte ({received} "
    "byte(s) received), connection closed",
)
CLIENT_NOT_ASSOCIATED = LmsMessage(
    37314,
    "Standard",
    "CSTA client {client}: no association request (AARQ) within {timeout} s, connection closed",
)
CLIENT_OUTPUT_OVERFLOW = LmsMessage(
    37315,
    "Standard",
    "CSTA client {client}: not reading, {pending} bytes of output waiting exceed "
    "max-output-buffer ({limit}); disconnected, its monitors released",
)
CSTA_SERVER_UNREADABLE = LmsMessage(
    # the CSTA client of csta-cli, the demo and the benchmarks
    37316, "Standard", "CSTA server {server}: {reason}"
)
UNEXPECTED_CSTA_ERROR = LmsMessage(
    # a bug of the connector, not the client's fault: the traceback follows the line
    37317,
    "Standard",
    "CSTA client {client}: serving {what} failed unexpectedly: {error}; please report it",
)
CSTA_REQUEST_RECEIVED = LmsMessage(
    37320, "Interaction", "CSTA client {client}: {service} request (invoke {invoke_id})"
)
CSTA_EVENT_SENT = LmsMessage(
    37321,
    "Interaction",
    "CSTA client {client}: {event} for device {device}, call {call_id} (monitor {cross_ref_id})",
)
CSTA_FRAME_RECEIVED = LmsMessage(37390, "Debug", "CSTA client {client} <<< {frame}")
CSTA_FRAME_SENT = LmsMessage(37391, "Debug", "CSTA client {client} >>> {frame}")

# ---------------------------------------------------------------------------
# 374xx  the BroadWorks simulator

SIMULATOR_STARTED = LmsMessage(
    37401,
    "Standard",
    "Simulator started: {users} users @{domain}, CTI port(s) {cti_ports}, "
    "control port {control_port}",
)
SIMULATOR_FAILOVER = LmsMessage(
    37402,
    "Standard",
    "Simulator: {mode} Application Server failover executed, active AS {active_as}, "
    "{orphaned} call(s) orphaned",
)
SIMULATOR_XSP_DOWN = LmsMessage(37403, "Standard", "Simulator: XSP front-end {xsp} down")
SIMULATOR_XSP_UP = LmsMessage(37404, "Standard", "Simulator: XSP front-end {xsp} up")
SIMULATOR_RESYNC_SENT = LmsMessage(
    37405, "Trace", "Simulator: unsolicited {event_type} sent for {user}: {calls} call(s)"
)
SIMULATOR_STOPPED = LmsMessage(37406, "Standard", "Simulator stopped")
SIMULATOR_XSI_LISTENING = LmsMessage(
    37407, "Standard", "Simulator: XSP front-end {xsp} serves Xsi on {host}:{port}"
)
SIMULATOR_EXTENSION_TAKEN = LmsMessage(
    # [simulator] call-centers / route-points name an extension a user has
    37408, "Standard", "Simulator: {kind} {extension} not provisioned: the extension is taken"
)
SIMULATOR_AGENT_UNKNOWN = LmsMessage(
    37409,
    "Standard",
    "Simulator: agent {agent} of call center {extension} not provisioned: no such user",
)
SIMULATOR_LISTENER_FAILED = LmsMessage(
    # a bug of the simulator: the traceback follows the line, the other listeners still run
    37410, "Standard", "Simulator: listener {listener!r} failed on {event}"
)
SIMULATOR_CHANNEL_ADDED = LmsMessage(
    37411, "Trace", "Simulator: XSP channel {channel_id} added to channel set {channel_set}"
)
SIMULATOR_EVENT_UNACKNOWLEDGED = LmsMessage(
    37412,
    "Standard",
    "Simulator: XSP event {key} never acknowledged after {attempts} attempt(s); dropped",
)
SIMULATOR_UNUSABLE_STREAM = LmsMessage(
    37413, "Standard", "Simulator: XSP front-end {xsp}: unusable byte stream ({error}); closing"
)
SIMULATOR_MALFORMED_DOCUMENT = LmsMessage(
    37414, "Standard", "Simulator: XSP front-end {xsp}: malformed document dropped: {error}"
)
SIMULATOR_CONTROL_REQUEST_FAILED = LmsMessage(
    # a bug of the simulator: the caller gets 500, the traceback follows the line
    37415, "Standard", "Simulator: control API request {method} {uri} failed"
)
SIMULATOR_XSI_NO_HEARTBEAT = LmsMessage(
    37416,
    "Standard",
    "Simulator: XSP front-end {xsp} (Xsi): no heartbeat on channel {channel_id} "
    "for {timeout} s; stream ended",
)
SIMULATOR_CALL_DIALED = LmsMessage(37490, "Debug", "Simulator: {user} dials {address}: call {call}")
SIMULATOR_EVENT_NO_CHANNEL = LmsMessage(
    # BroadWorks cannot deliver: the event is lost (the application repairs by refreshing)
    37491, "Debug", "Simulator: XSP has no channel in channel set {channel_set}; event {key} dropped"
)
SIMULATOR_ORPHAN_HUNG_UP = LmsMessage(
    37492, "Debug", "Simulator: orphaned call {call} hung up (no AS knows it: no event)"
)


def _collect_catalog() -> dict[int, LmsMessage]:
    catalog: dict[int, LmsMessage] = {}
    for value in globals().values():
        if isinstance(value, LmsMessage):
            if value.id in catalog and catalog[value.id] is not value:
                raise ValueError(f"duplicate LMS id {value.id}")
            catalog[value.id] = value
    return dict(sorted(catalog.items()))


#: Every catalog entry by id, in id order.
CATALOG: Mapping[int, LmsMessage] = _collect_catalog()

#: Symbolic name of every catalog entry by id (for docs and tests).
NAMES: Mapping[int, str] = {
    value.id: name for name, value in globals().items() if isinstance(value, LmsMessage)
}


# ---------------------------------------------------------------------------
# twisted.logger glue

from twisted.logger import LogLevel, formatEvent  # noqa: E402  (catalog above is pure)

TWISTED_LEVEL = {
    "Alarm": LogLevel.critical,
    "Standard": LogLevel.warn,
    "Interaction": LogLevel.info,
    "Trace": LogLevel.info,
    "Debug": LogLevel.debug,
}

#: LMS level given to events that are not LMS messages (Twisted's own).
#: Twisted's info chatter ("Starting factory ...") is Trace, not Standard.
LEVEL_OF_LOG_LEVEL = {
    LogLevel.critical: "Alarm",
    LogLevel.error: "Standard",
    LogLevel.warn: "Standard",
    LogLevel.info: "Trace",
    LogLevel.debug: "Debug",
}


class LogDetail:
    """Which LMS levels the log outputs write: built by the log setup (the
    outputs of ``[log]``, :func:`csta_connector.logoutput.log_detail`) and
    given to the objects that emit.

    Code that would log once per event or per frame (Interaction, Debug)
    asks :meth:`wants` first, so a connector at the default verbosity does
    not even build lines nobody writes. Immutable: a log setup that changes
    builds another.
    """

    __slots__ = ("levels", "_rank")

    def __init__(self, levels: Any = LEVELS) -> None:
        self.levels = frozenset(levels)
        # the most detailed level written, as a position in LEVELS (-1: none)
        self._rank = max((LEVELS.index(level) for level in self.levels), default=-1)

    def wants(self, message: LmsMessage) -> bool:
        """Whether some log output writes ``message``'s level."""
        return message.rank <= self._rank

    def __repr__(self) -> str:
        return "<LogDetail %s>" % "/".join(level for level in LEVELS if level in self.levels)


#: What an emitter built without a log setup assumes: every level is written
#: (tests and tools observe the global log publisher directly).
EVERY_LEVEL = LogDetail(LEVELS)


def emit(logger: Any, message: LmsMessage, failure: Any = None, **fields: Any) -> None:
    """Log ``message`` through ``logger`` (a ``twisted.logger.Logger``).

    The event carries ``lms_id``, ``lms_level`` and ``fields``; its format is
    the message template, so observers get the structured fields.  Pass a
    ``twisted.python.failure.Failure`` as ``failure`` to attach a traceback.
    """
    if failure is not None:
        fields["log_failure"] = failure
    logger.emit(
        TWISTED_LEVEL[message.level],
        message.template,
        lms_id=message.id,
        lms_level=message.level,
        **fields,
    )


def lms_level_of(event: Mapping[str, Any]) -> str:
    """The LMS level of any log event (LMS or not)."""
    level = event.get("lms_level")
    if level in LEVEL_ABBREVIATIONS:
        return level
    return LEVEL_OF_LOG_LEVEL.get(event.get("log_level"), "Trace")


def lms_id_of(event: Mapping[str, Any]) -> int:
    """The LMS id of any log event; 0 when it is not an LMS message."""
    lms_id = event.get("lms_id")
    return lms_id if isinstance(lms_id, int) else 0


def is_message(event: Mapping[str, Any], message: LmsMessage) -> bool:
    """Whether ``event`` is ``message`` (for tests: ``capturedLogs`` filtering)."""
    return event.get("lms_id") == message.id


def format_time(timestamp: float | None) -> str:
    """ISO-8601 UTC with milliseconds: ``2026-11-24T21:30:00.123Z``."""
    if timestamp is None:
        timestamp = time.time()
    millis = int(round(timestamp * 1000))
    seconds, millis = divmod(millis, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + ".%03dZ" % millis


def event_text(event: Mapping[str, Any]) -> str:
    """The message text of any log event, never raising."""
    return formatEvent(event)  # type: ignore[arg-type]


def render_line(event: Mapping[str, Any]) -> str:
    """``<ISO-8601 time> <Lvl> <id> <text>`` for any log event (SPEC §8).

    No trailing newline.  An attached failure adds its traceback on the
    following lines, so the first line always has the fixed shape.
    """
    line = "%s %s %d %s" % (
        format_time(event.get("log_time")),
        LEVEL_ABBREVIATIONS[lms_level_of(event)],
        lms_id_of(event),
        event_text(event),
    )
    failure = event.get("log_failure")
    if failure is not None:
        try:
            traceback = failure.getTraceback()
        except Exception:  # a broken failure must not break logging
            traceback = repr(failure)
        line = line + "\n" + traceback.rstrip("\n")
    return line
