# -*- test-case-name: tests.unit.test_config -*-
"""The option tables: every section and option declared once (SPEC §7).  Pure: no Twisted.

Each :class:`Option` has a name, a kind, a default and a help text; a kind
(:class:`Text`, :class:`Integer`, :class:`Seconds`, ...) parses a value's
text and says what it allows. Parsing and defaults (:mod:`.loading`), error
messages, ``twistd --help`` text (:func:`options_help`) and the docs all come
from :data:`CONNECTOR_SECTIONS` and :data:`SIMULATOR_SECTIONS`, so they
cannot drift apart. Option names follow the commercial Genesys connector
where it has one (``reference/genesys-connector.md`` §1).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

# ---------------------------------------------------------------------------
# Kinds of values: each parses text and says what it allows.


class InvalidValue(Exception):
    """Raised by a kind's parse; the caller turns it into a ConfigError."""


class Text:
    """Any string; an empty value means "not set" (``None``)."""

    allowed = "any string"
    # What a mandatory Text option needs: an empty value is "not set".
    allowed_when_mandatory = "any non-empty string"

    def parse(self, text: str) -> str | None:
        return text or None

    def show(self, value: Any) -> str:
        return "none" if value is None else str(value)


class Integer:
    def __init__(self, minimum: int, maximum: int) -> None:
        self.minimum = minimum
        self.maximum = maximum
        self.allowed = "integers from %d to %d" % (minimum, maximum)

    def parse(self, text: str) -> int:
        try:
            value = int(text, 10)
        except ValueError:
            raise InvalidValue() from None
        if not self.minimum <= value <= self.maximum:
            raise InvalidValue()
        return value

    def show(self, value: Any) -> str:
        return str(value)


class Seconds:
    """A duration in seconds; decimals allowed (``0.5``)."""

    def __init__(self, minimum: float, maximum: float) -> None:
        self.minimum = minimum
        self.maximum = maximum
        self.allowed = "seconds from %s to %s" % (_number(minimum), _number(maximum))

    def parse(self, text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise InvalidValue() from None
        if not self.minimum <= value <= self.maximum:  # also rejects nan
            raise InvalidValue()
        return value

    def show(self, value: Any) -> str:
        return _number(value)


class Boolean:
    allowed = "true, false"
    _WORDS = {"true": True, "yes": True, "on": True, "1": True,
              "false": False, "no": False, "off": False, "0": False}

    def parse(self, text: str) -> bool:
        try:
            return self._WORDS[text.lower()]
        except KeyError:
            raise InvalidValue() from None

    def show(self, value: Any) -> str:
        return "true" if value else "false"


class Choice:
    def __init__(self, *choices: str) -> None:
        self.choices = choices
        self.allowed = ", ".join(choices)

    def parse(self, text: str) -> str:
        if text not in self.choices:
            raise InvalidValue()
        return text

    def show(self, value: Any) -> str:
        return str(value)


class PortList:
    """Comma-separated TCP ports (possibly none)."""

    allowed = "comma-separated ports from 1 to 65535"

    def parse(self, text: str) -> tuple[int, ...]:
        ports = []
        for item in _split_list(text):
            try:
                port = int(item, 10)
            except ValueError:
                raise InvalidValue() from None
            if not 1 <= port <= 65535:
                raise InvalidValue()
            ports.append(port)
        return tuple(ports)

    def show(self, value: Any) -> str:
        return ", ".join(map(str, value)) or "none"


class Outputs:
    """Comma-separated log destinations: stdout, stderr or file paths."""

    allowed = "stdout, stderr or a file path, comma-separated"

    def parse(self, text: str) -> tuple[str, ...]:
        return tuple(_split_list(text))

    def show(self, value: Any) -> str:
        return ", ".join(value) or "none"


class XsiUrl:
    """An Xsi base URL: ``http://`` or ``https://`` host, optional port and
    path prefix, nothing else."""

    allowed = "http://HOST[:PORT][/PREFIX] or https://HOST[:PORT][/PREFIX]"

    def parse(self, text: str) -> str | None:
        from urllib.parse import urlsplit

        if not text:
            return None
        try:
            parts = urlsplit(text)
            parts.port  # noqa: B018 (a bad port raises here)
        except ValueError:
            raise InvalidValue() from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidValue()
        if parts.query or parts.fragment or parts.username or parts.password:
            raise InvalidValue()
        return text.rstrip("/")

    def show(self, value: Any) -> str:
        return "none" if value is None else str(value)


class OptionalPort:
    """A listening port that may be off: ``0`` or ``off`` (None), ``any``
    (a free port, 0 in the value), or 1-65535."""

    allowed = "0 or off (none), any (a free port), or a port from 1 to 65535"
    none_is_a_value = True  # off, not "not set"

    def parse(self, text: str) -> int | None:
        word = text.lower()
        if word in ("0", "off"):
            return None
        if word == "any":
            return 0
        try:
            value = int(text, 10)
        except ValueError:
            raise InvalidValue() from None
        if not 1 <= value <= 65535:
            raise InvalidValue()
        return value

    def show(self, value: Any) -> str:
        return "0 (off)" if value is None else "any" if value == 0 else str(value)


class Credentials:
    """Comma-separated ``user:password`` pairs (possibly none)."""

    allowed = "comma-separated USER:PASSWORD"

    def parse(self, text: str) -> tuple[tuple[str, str], ...]:
        pairs = []
        for item in _split_list(text):
            user, colon, password = item.partition(":")
            if not user or not colon:
                raise InvalidValue()
            pairs.append((user, password))
        return tuple(pairs)

    def show(self, value: Any) -> str:
        return ", ".join("%s:***" % user for user, _ in value) or "none"


def _split_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


# ---------------------------------------------------------------------------
# The option tables


class _Mandatory:
    def __repr__(self) -> str:
        return "MANDATORY"


#: Default of an option that must be given.
MANDATORY: Any = _Mandatory()


@dataclass(frozen=True)
class Option:
    name: str
    kind: Any
    default: Any
    help: str

    @property
    def attribute(self) -> str:
        return self.name.replace("-", "_")


@dataclass(frozen=True)
class SectionSpec:
    #: Section name; for a family of sections (``link-NAME``) the prefix.
    name: str
    options: tuple[Option, ...]
    help: str
    #: ``link-`` style: any number of sections named prefix + NAME.
    family: bool = False

    def option(self, name: str) -> Option | None:
        for option in self.options:
            if option.name == name:
                return option
        return None

    @property
    def title(self) -> str:
        return self.name + "NAME" if self.family else self.name


PORT = Integer(1, 65535)
LISTEN_PORT = Integer(0, 65535)  # 0: any free port (tests, demos)

KPL_INTERVAL = Option(
    "kpl-interval", Integer(0, 600), 10,
    "Send a keepalive when a link has been idle this many seconds; 0 disables.",
)
KPL_TOLERANCE = Option(
    "kpl-tolerance", Integer(0, 10), 0,
    "Missed keepalive answers tolerated before a link is closed and reopened "
    "(0: the first missed answer closes it).",
)

# -- the [Connector] proactive resync block (SPEC §6.1, services/resync.py) --
_CONNECTOR_PROACTIVE_RESYNC = (
    Option("proactive-resync", Boolean(), True,
           "On the first sign of an AS failover (an unsolicited CallSubscriptionEvent that "
           "clears a party, a CallSubscriptionResyncEvent, call control refused on a call "
           "BroadWorks no longer knows) refresh every user still holding calls; false: only "
           "BroadWorks' own events and the clients' snapshots clear stuck calls."),
    Option("proactive-resync-rate", Integer(1, 100000), 200,
           "UpdateSubscriptionRequests started per second at most by the proactive resync."),
    Option("proactive-resync-holdoff", Seconds(0, 86400), 30.0,
           "Signs of a failover this long after a proactive resync started join it: one "
           "failover, one resynchronization."),
)
# -- end of the [Connector] proactive resync block ----------------------------

CONNECTOR = SectionSpec(
    "Connector",
    (
        Option("application-name", Text(), "csta-connector",
               "applicationId of the channel and subscriptions in BroadWorks."),
        Option("channel-set-name", Text(), MANDATORY,
               "Channel set of all links: BroadWorks treats the channels of one set as one "
               "CTI link. Make it unique per connector. Mandatory unless [simulator] enabled."),
        Option("app-controller", Text(), None,
               "Application controller identifier for BroadWorks routing."),
        Option("broadworks-version", Text(), "18.0",
               "Version put into every CTI request envelope."),
        Option("channel-expire-tout", Integer(3600, 2147483647), 3600,
               "Expiry (seconds) requested for each channel; renewed before it runs out."),
        Option("default-domain", Text(), None,
               "Domain appended to a bare device id (2001 -> 2001@DOMAIN)."),
        KPL_INTERVAL,
        KPL_TOLERANCE,
        Option("link-recovery-tout", Seconds(0.1, 3600), 10.0,
               "Delay before reopening a lost link; doubles on each failure."),
        Option("link-recovery-max-tout", Seconds(0.1, 3600), 120.0,
               "Upper bound of the reopening delay back-off."),
        Option("request-timeout", Seconds(0.1, 600), 10.0,
               "A BroadWorks request without a response after this long fails."),
        Option("snapshot-timeout", Seconds(0.1, 600), 5.0,
               "A SnapshotDevice without its CallSubscriptionEvent after this long fails."),
        Option("subscription-expire-tout", Integer(3600, 2147483647), 3600,
               "Expiry (seconds) requested for each user subscription."),
        Option("subscription-renew-interval", Integer(60, 86400), 1800,
               "Refresh each subscription (UpdateSubscriptionRequest) this many seconds "
               "after the last one."),
        Option("subscription-renew-jitter", Integer(0, 86400), 600,
               "Random 0..N seconds added to each renewal, to spread them."),
        Option("resync-concurrency", Integer(1, 1000), 10,
               "Subscriptions refreshed at once after a link recovery, a sequence gap or "
               "an AS failover (proactive-resync)."),
        Option("max-document-size", Integer(1024, 64 * 1024 * 1024), 1024 * 1024,
               "Largest XML document accepted from BroadWorks, in bytes."),
    )
    + _CONNECTOR_PROACTIVE_RESYNC,
    "The connector and its BroadWorks channel set.",
)

LINK = SectionSpec(
    "link-",
    (
        Option("protocol", Choice("cti", "xsi"), "cti",
               "cti: the XSP's CTI interface (XML over TCP, hostname and port); xsi: "
               "Xsi-Events and Xsi-Actions over HTTP(S) (url). One channel set may mix both."),
        Option("hostname", Text(), None,
               "XSP server (CTI interface) host name or address; mandatory with protocol = cti."),
        Option("port", PORT, 8011,
               "XSP CTI interface port (8012 is the usual TLS port); protocol = cti."),
        Option("url", XsiUrl(), None,
               "Xsi base URL of the XSP (https://xsp1.example.net, with a port or path "
               "prefix if it has one); mandatory with protocol = xsi. https:// is TLS "
               "(tls-ca applies)."),
        Option("priority", Integer(1, 100), 1,
               "Channel priority: BroadWorks sends events to the live channel of best priority."),
        Option("weight", Integer(1, 100), 50, "Channel weight: load share among equal priorities."),
        Option("username", Text(), None,
               "CTI credentials user (when the XSP requires them); with protocol = xsi the "
               "HTTP basic auth user (the enterprise's or group's Xsi application user), "
               "mandatory."),
        Option("password", Text(), None, "Password of username."),
        Option("tls", Boolean(), False,
               "Connect with TLS (protocol = cti; an xsi link's url scheme says it)."),
        Option("tls-ca", Text(), None,
               "PEM file of the CA certificates that sign the XSP's certificate "
               "(default: the system's)."),
        Option("kpl-interval", KPL_INTERVAL.kind, None,
               "Overrides [Connector] kpl-interval for this link."),
        Option("kpl-tolerance", KPL_TOLERANCE.kind, None,
               "Overrides [Connector] kpl-tolerance for this link."),
    ),
    "One per XSP server; all links join the same channel set.",
    family=True,
)

CSTA = SectionSpec(
    "csta",
    (
        Option("port", LISTEN_PORT, 1040, "CSTA listener port (0: any free port)."),
        Option("bind", Text(), "127.0.0.1",
               "Address the CSTA listener binds; loopback by default, 0.0.0.0 for all."),
        Option("encoding", Choice("auto", "xml", "ber"), "auto",
               "Encoding of the clients: detected from the first bytes, or forced."),
        Option("detect-timeout", Seconds(0, 60), 1.0,
               "A client silent this long is taken as CSTA XML and sent SystemStatus."),
        Option("ber-framing", Choice("length2", "hipath"), "length2",
               "BER APDU framing: 2-byte length, or the 3-byte 0x26 header."),
        Option("xml-namespace", Choice("ed2", "ed3", "ed4", "ed5", "ed6"), "ed3",
               "ECMA-323 edition used before a client has shown its own."),
        Option("tls", Boolean(), False, "Serve the CSTA listener over TLS."),
        Option("tls-certificate", Text(), None, "PEM certificate file (with tls)."),
        Option("tls-key", Text(), None, "PEM private key file (with tls)."),
        Option("frame-timeout", Seconds(0.1, 600), 5.0,
               "A frame begun must be complete this long after its first byte arrived, and a "
               "BER client must have sent its AARQ this long after it connected; otherwise the "
               "connection is closed."),
        Option("max-output-buffer", Integer(64 * 1024, 1024 * 1024 * 1024), 4 * 1024 * 1024,
               "Bytes written to one CSTA client that the network has not taken yet; a client "
               "that stops reading past this is disconnected and its monitors released."),
        Option("snapshot-requester-events", Boolean(), False,
               "When a SnapshotDevice finds stuck or unknown calls, the requesting client gets "
               "the ConnectionCleared / CallCleared (and other) events too, after its response; "
               "false: it learns them from its response alone, as the commercial connector does."),
    ),
    "The listener for CSTA clients (XML and BER on one port).",
)

# -- [contact-centre]: which devices are queues, route points, agents ------
# (SPEC §10.1; reference/contact-centre.md §10.7; issue 14)


class IdList:
    """``5001, 5002-5010, queue@example.com``: device ids (extensions or user
    ids) and ranges of numeric ids; ``*`` is every id."""

    allowed = "comma-separated ids (extensions or user ids), ranges like 5001-5010, or *"

    def parse(self, text: str) -> tuple[str, ...]:
        items = []
        for item in _split_list(text):
            first, dash, last = item.partition("-")
            if dash and first.isdigit():
                if not last.isdigit() or int(last) < int(first):
                    raise InvalidValue()
            elif item != "*" and (any(c.isspace() or c == "," for c in item) or item.startswith("@")):
                raise InvalidValue()
            if item not in items:
                items.append(item)
        return tuple(items)

    def show(self, value: Any) -> str:
        return ", ".join(value) or "none"


# -- the [contact-centre] routeing block (SPEC §10.4, services/route_points.py; issue 15)
_CONTACT_CENTRE_ROUTEING = (
    Option("route-select", Choice("auto", "distribute", "transfer"), "auto",
           "What a RouteSelect asks BroadWorks: auto = RoutePointDistributeCallRequest to a user "
           "(an extension or user id that is no ACD or route point), RoutePointBlindTransferRequest "
           "to any other destination; distribute or transfer: always that one."),
    Option("route-retries", Integer(0, 10), 1,
           "Destinations a client may choose again for one call after a chosen one failed (the "
           "agent did not answer: ReRouteRequest; BroadWorks refused it: a new RouteRequest); "
           "then the call is failed (RoutePointFailCallRequest). A RouteSelect's remainRetries "
           "overrides it."),
    Option("route-reply-timeout", Integer(1, 3600), None,
           "replyTimeout (seconds) put in each RouteRequest and ReRouteRequest; none: not sent "
           "(BroadWorks' route point inactivity timer decides)."),
    Option("admit-calls", Boolean(), True,
           "A route point's announced call (RoutePointNewCallEvent, call admission) is admitted "
           "(RoutePointAdmitCallRequest); false: rejected (RoutePointRejectCallRequest)."),
)
# -- end of the [contact-centre] routeing block ------------------------------


CONTACT_CENTRE = SectionSpec(
    "contact-centre",
    (
        Option("acd-queues", IdList(), (),
               "Devices that are BroadWorks Call Centers (CSTA ACD devices: MonitorStart "
               "subscribes Call Center Queue). With the embedded simulator and none given: its "
               "call centers."),
        Option("route-points", IdList(), (),
               "Devices that are BroadWorks Route Points (CSTA routeing devices). With the "
               "embedded simulator and none given: its route points."),
        Option("agents", IdList(), ("*",),
               "Users whose monitor also subscribes Call Center Agent (agent state); * is "
               "every user (a user that is no agent then has that subscription refused, "
               "logged once, and its monitor stands). With the embedded simulator and *: "
               "its agents."),
        Option("agent-login-state", Choice("Unavailable", "Available", "Sign-In"), "Unavailable",
               "agentACDState a CSTA SetAgentState loggedOn asks for."),
    )
    + _CONTACT_CENTRE_ROUTEING,
    "Contact-centre devices: ACD queues, route points and agents (SPEC §10).",
)
# -- end of the [contact-centre] block ---------------------------------------

# -- [simulator] contact centre: call centers, agents, route points ---------
# (SPEC §10; reference/contact-centre.md §10.6 and §10.7; issues 14 and 15).
# Everything the simulator's contact centre reads from the configuration is in
# this block: two kinds of value, then the options (in _SIMULATOR_COMMON).


class CallCenterList:
    """``5001:2001-2010, 5002:2011-2015 2020``: call centers (an extension) and
    their agents (extensions and ranges, space-separated; none is allowed)."""

    allowed = "comma-separated EXT:AGENTS (AGENTS: extensions and ranges like 2001-2010, space-separated)"

    def parse(self, text: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
        centers = []
        for item in _split_list(text):
            extension, _, agents = item.partition(":")
            extension = extension.strip()
            if not extension.isdigit() or extension in (c for c, _ in centers):
                raise InvalidValue()
            members: list[str] = []
            for part in agents.split():
                first, dash, last = part.partition("-")
                if not first.isdigit() or (dash and not last.isdigit()):
                    raise InvalidValue()
                if dash and int(last) < int(first):
                    raise InvalidValue()
                for number in range(int(first), int(last if dash else first) + 1):
                    if str(number) not in members:
                        members.append(str(number))
            centers.append((extension, tuple(members)))
        return tuple(centers)

    def show(self, value: Any) -> str:
        def agents(members):
            return " ".join(members) if len(members) < 3 else "%s-%s" % (members[0], members[-1])

        return ", ".join("%s:%s" % (c, agents(m)) for c, m in value) or "none"


class ExtensionList:
    """Comma-separated extensions (possibly none)."""

    allowed = "comma-separated extensions"

    def parse(self, text: str) -> tuple[str, ...]:
        items = _split_list(text)
        if any(not item.isdigit() for item in items) or len(set(items)) != len(items):
            raise InvalidValue()
        return tuple(items)

    def show(self, value: Any) -> str:
        return ", ".join(value) or "none"


class _OptionalSeconds(Seconds):
    def show(self, value: Any) -> str:
        return "none" if value is None else super().show(value)


_SIMULATOR_CONTACT_CENTRE = (
    Option("call-centers", CallCenterList(), (("5001", tuple(str(n) for n in range(2001, 2011))),),
           "Call centers (virtual subscribers EXT@DOMAIN, 'Queue EXT') and their agents "
           "(users); empty: none. A call center or agent that is no free extension is "
           "left out with a warning."),
    Option("route-points", ExtensionList(), ("6001",),
           "Route points (virtual subscribers EXT@DOMAIN, 'RoutePoint EXT'); empty: none."),
    Option("initial-agent-state", Choice("Sign-In", "Available", "Unavailable", "Wrap-Up", "Sign-Out"),
           "Sign-Out", "ACD state of every agent at start (the demo uses Available)."),
    Option("queue-policy", Choice("Uniform", "Circular", "Regular"), "Uniform",
           "Distribution of every call center: Uniform (the longest idle agent), Circular "
           "(the next agent after the last one offered a call), Regular (the first in order)."),
    Option("queue-length", Integer(0, 525), 25,
           "Calls a call center holds; the next one overflows (reason size)."),
    Option("wrap-up-seconds", Seconds(0, 3600), 0.0,
           "After an ACD call the agent is in Wrap-Up this long, then in "
           "agent-state-after-call (0: straight there)."),
    Option("agent-state-after-call", Choice("Available", "Unavailable", "Wrap-Up"), "Available",
           "An agent's state after an ACD call and its wrap-up."),
    Option("offer-seconds", Seconds(0, 3600), 20.0,
           "A call offered to an agent and not answered this long bounces back to the "
           "queue (0: never)."),
    Option("overflow-seconds", Seconds(0, 86400), 0.0,
           "A call waiting this long in a call center overflows (reason time; 0: never)."),
    Option("overflow-destination", Text(), None,
           "Where overflowed calls go (an extension or number); none: busy."),
    Option("route-point-timeout", Seconds(0.1, 3600), 10.0,
           "A route point call with no CTI request this long (after it was added, or "
           "after the last request) fails to failed-destination."),
    Option("no-request-seconds", _OptionalSeconds(0.1, 3600), None,
           "The same timeout under the name of reference §10.7; when set it overrides "
           "route-point-timeout."),
    Option("failed-destination", Text(), None,
           "Where failed route point calls go (an extension or number); none: busy."),
    Option("route-point-admission", Boolean(), False,
           "Route points announce each call with RoutePointNewCallEvent and wait for "
           "RoutePointAdmitCallRequest or RoutePointRejectCallRequest."),
    Option("treatment-seconds", Seconds(0.1, 3600), 5.0,
           "Length of one audio URL of a RoutePointPlayTreatmentRequest."),
    Option("queue-resync-unsolicited", Boolean(), False,
           "After an ungraceful failover the peer AS also sends ACDSubscriptionResyncEvent / "
           "RoutePointSubscriptionResyncEvent after resync-delay (the real one sends nothing "
           "for queues)."),
)
# -- end of the [simulator] contact centre block ----------------------------

# -- [simulator] Xsi front-end (issue 13) -----------------------------------
_SIMULATOR_XSI = (
    Option("xsi-port", OptionalPort(), 8080,
           "Port of the Xsi front-end (Xsi-Events and Xsi-Actions over HTTP), one more "
           "XSP of the same Application Servers; 0: none; any: a free port."),
    Option("xsi-credentials", Credentials(), (),
           "USER:PASSWORD pairs the Xsi front-end accepts (HTTP basic auth, 401 for any "
           "other); empty: any user and password, as the CTI front-ends."),
    Option("xsi-event-timeout", Seconds(0, 3600), 0.0,
           "An Xsi event channel without a heartbeat this long is ended (the XSP's "
           "eventTimeout); 0: never."),
)

_SIMULATOR_COMMON = (
    Option("users", Integer(1, 100000), 100, "Subscribers 2001@DOMAIN, 2002@DOMAIN, ..."),
    Option("domain", Text(), "example.com", "Domain of the simulated users."),
    Option("bind", Text(), "127.0.0.1", "Address the simulator listens on."),
    Option("cti-port", LISTEN_PORT, 8011, "CTI interface port of the first XSP front-end."),
    Option("xsp-ports", PortList(), (),
           "CTI ports of further XSP front-ends (same Application Servers)."),
    Option("control-port", LISTEN_PORT, 8090, "HTTP + JSON control API port."),
    Option("resync-delay", Seconds(0, 3600), 1.0,
           "Seconds after an ungraceful failover before the unsolicited resync events."),
    Option("resync-event",
           Choice("CallSubscriptionEvent", "CallSubscriptionResyncEvent"),
           "CallSubscriptionEvent", "Event type of the unsolicited resync after failover."),
    Option("failover-drops-channels", Boolean(), False,
           "An ungraceful failover also drops channels and subscriptions."),
) + _SIMULATOR_XSI + _SIMULATOR_CONTACT_CENTRE

def _embedded(option: Option) -> Option:
    # the embedded simulator serves Xsi only when asked: the embedded
    # default's one link is a CTI link, and 8080 is often taken
    if option.name == "xsi-port":
        return Option(option.name, option.kind, None, option.help + " Embedded: none unless set.")
    return option


SIMULATOR = SectionSpec(
    "simulator",
    (Option("enabled", Boolean(), False,
            "Run the BroadWorks simulator in-process (true in the embedded default)."),)
    + tuple(_embedded(option) for option in _SIMULATOR_COMMON),
    "The embedded BroadWorks simulator.",
)

LOG = SectionSpec(
    "log",
    (
        Option("verbose", Choice("all", "debug", "trace", "interaction", "standard", "none"),
               "standard", "Most detailed LMS level written."),
        Option("all", Outputs(), ("stdout",), "Outputs of every level."),
        Option("standard", Outputs(), (), "Outputs of Alarm and Standard messages."),
        Option("interaction", Outputs(), (), "Outputs of Interaction messages and above."),
        Option("trace", Outputs(), (), "Outputs of Trace messages and above."),
        Option("debug", Outputs(), (), "Outputs of every level, Debug included."),
        Option("format", Choice("text", "json"), "text",
               "text: '<time> <Lvl> <id> <text>' lines; json: one object per line."),
    ),
    "LMS logging (see docs/lms.md).",
)

METRICS = SectionSpec(
    "metrics",
    (
        Option("port", LISTEN_PORT, MANDATORY, "Prometheus metrics and /status page port."),
        Option("bind", Text(), "127.0.0.1", "Address the metrics endpoint binds."),
    ),
    "Prometheus endpoint; disabled when the section is absent.",
)

CONNECTOR_SECTIONS: tuple[SectionSpec, ...] = (
    CONNECTOR, LINK, CSTA, CONTACT_CENTRE, SIMULATOR, LOG, METRICS,
)

SIMULATOR_ONLY = SectionSpec(
    "simulator", _SIMULATOR_COMMON, "The BroadWorks simulator (twistd broadworks-sim)."
)
SIMULATOR_SECTIONS: tuple[SectionSpec, ...] = (SIMULATOR_ONLY, LOG)


# ---------------------------------------------------------------------------
# Help text (twistd --help, docs)


def options_help(sections: tuple[SectionSpec, ...] = CONNECTOR_SECTIONS, width: int = 79) -> str:
    """Every section and option, with default, allowed values and meaning."""
    lines: list[str] = []
    for spec in sections:
        lines.append("[%s]  %s" % (spec.title, spec.help))
        for option in spec.options:
            if option.default is MANDATORY:
                default = "mandatory"
            elif option.default is None and option.name.startswith("kpl-") and spec is LINK:
                default = "[Connector] value"
            else:
                default = option.kind.show(option.default)
            head = "  %s (default: %s; %s)" % (option.name, default, option.kind.allowed)
            lines.append(head)
            lines.extend(textwrap.wrap(option.help, width, initial_indent="      ",
                                       subsequent_indent="      "))
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def simulator_options_help(width: int = 79) -> str:
    return options_help(SIMULATOR_SECTIONS, width)
