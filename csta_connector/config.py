# -*- test-case-name: tests.unit.test_config -*-
"""INI configuration -> frozen dataclasses (SPEC §7).  Pure: no Twisted.

Every option is declared once, in the tables :data:`CONNECTOR_SECTIONS` and
:data:`SIMULATOR_SECTIONS` (name, kind, default, help).  Parsing, defaults,
error messages, ``twistd --help`` text (:func:`options_help`) and the docs all
come from those tables, so they cannot drift apart.

Option names follow the commercial Genesys connector where it has one
(``reference/genesys-connector.md`` §1).  Any problem raises
:class:`ConfigError`, whose ``str`` is one line naming the file, section,
option and what is allowed, for example::

    etc/x.ini: [csta] encoding = 'foo': allowed values are auto, xml, ber

Entry points: :func:`load_config` (a file), :func:`parse_config` (text),
:func:`default_config` (the embedded default: no file at all),
:func:`load_simulator_config` / :func:`parse_simulator_config`.
"""

from __future__ import annotations

import ast
import configparser
import textwrap
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

# ---------------------------------------------------------------------------
# Errors


class ConfigError(ValueError):
    """A configuration problem; ``str(error)`` is one line for the operator."""

    def __init__(
        self,
        file: str,
        problem: str,
        section: str | None = None,
        option: str | None = None,
        value: str | None = None,
    ) -> None:
        self.file = file
        self.section = section
        self.option = option
        self.value = value
        self.problem = problem
        where = file
        if section is not None:
            where += ": [%s]" % section
            if option is not None:
                where += " " + (option if value is None else "%s = %r" % (option, value))
        super().__init__(where + ": " + problem)


# ---------------------------------------------------------------------------
# Kinds of values: each parses text and says what it allows.


class _Invalid(Exception):
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
            raise _Invalid() from None
        if not self.minimum <= value <= self.maximum:
            raise _Invalid()
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
            raise _Invalid() from None
        if not self.minimum <= value <= self.maximum:  # also rejects nan
            raise _Invalid()
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
            raise _Invalid() from None

    def show(self, value: Any) -> str:
        return "true" if value else "false"


class Choice:
    def __init__(self, *choices: str) -> None:
        self.choices = choices
        self.allowed = ", ".join(choices)

    def parse(self, text: str) -> str:
        if text not in self.choices:
            raise _Invalid()
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
                raise _Invalid() from None
            if not 1 <= port <= 65535:
                raise _Invalid()
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
               "Subscriptions refreshed at once after a link recovery or a sequence gap."),
        Option("max-document-size", Integer(1024, 64 * 1024 * 1024), 1024 * 1024,
               "Largest XML document accepted from BroadWorks, in bytes."),
    ),
    "The connector and its BroadWorks channel set.",
)

LINK = SectionSpec(
    "link-",
    (
        Option("hostname", Text(), MANDATORY, "XSP server (CTI interface) host name or address."),
        Option("port", PORT, 8011, "XSP CTI interface port (8012 is the usual TLS port)."),
        Option("priority", Integer(1, 100), 1,
               "Channel priority: BroadWorks sends events to the live channel of best priority."),
        Option("weight", Integer(1, 100), 50, "Channel weight: load share among equal priorities."),
        Option("username", Text(), None, "CTI credentials user (when the XSP requires them)."),
        Option("password", Text(), None, "CTI credentials password."),
        Option("tls", Boolean(), False, "Connect with TLS."),
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
    ),
    "The listener for CSTA clients (XML and BER on one port).",
)

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
                raise _Invalid()
            members: list[str] = []
            for part in agents.split():
                first, dash, last = part.partition("-")
                if not first.isdigit() or (dash and not last.isdigit()):
                    raise _Invalid()
                if dash and int(last) < int(first):
                    raise _Invalid()
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
            raise _Invalid()
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
) + _SIMULATOR_CONTACT_CENTRE

SIMULATOR = SectionSpec(
    "simulator",
    (Option("enabled", Boolean(), False,
            "Run the BroadWorks simulator in-process (true in the embedded default)."),)
    + _SIMULATOR_COMMON,
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

CONNECTOR_SECTIONS: tuple[SectionSpec, ...] = (CONNECTOR, LINK, CSTA, SIMULATOR, LOG, METRICS)

SIMULATOR_ONLY = SectionSpec(
    "simulator", _SIMULATOR_COMMON, "The BroadWorks simulator (twistd broadworks-sim)."
)
SIMULATOR_SECTIONS: tuple[SectionSpec, ...] = (SIMULATOR_ONLY, LOG)


# ---------------------------------------------------------------------------
# The configuration objects


@dataclass(frozen=True)
class ConnectorSection:
    application_name: str
    channel_set_name: str
    app_controller: str | None
    broadworks_version: str
    channel_expire_tout: int
    default_domain: str | None
    kpl_interval: int
    kpl_tolerance: int
    link_recovery_tout: float
    link_recovery_max_tout: float
    request_timeout: float
    snapshot_timeout: float
    subscription_expire_tout: int
    subscription_renew_interval: int
    subscription_renew_jitter: int
    resync_concurrency: int
    max_document_size: int


@dataclass(frozen=True)
class LinkSection:
    name: str  # the NAME of [link-NAME]
    hostname: str
    port: int
    priority: int
    weight: int
    username: str | None
    password: str | None
    tls: bool
    tls_ca: str | None
    kpl_interval: int  # [Connector] value unless the link overrides it
    kpl_tolerance: int


@dataclass(frozen=True)
class CstaSection:
    port: int
    bind: str
    encoding: str
    detect_timeout: float
    ber_framing: str
    xml_namespace: str
    tls: bool
    tls_certificate: str | None
    tls_key: str | None


@dataclass(frozen=True)
class SimulatorSection:
    enabled: bool
    users: int
    domain: str
    bind: str
    cti_port: int
    xsp_ports: tuple[int, ...]
    control_port: int
    resync_delay: float
    resync_event: str
    failover_drops_channels: bool
    # the contact centre (_SIMULATOR_CONTACT_CENTRE)
    call_centers: tuple[tuple[str, tuple[str, ...]], ...]
    route_points: tuple[str, ...]
    initial_agent_state: str
    queue_policy: str
    queue_length: int
    wrap_up_seconds: float
    agent_state_after_call: str
    offer_seconds: float
    overflow_seconds: float
    overflow_destination: str | None
    route_point_timeout: float
    no_request_seconds: float | None
    failed_destination: str | None
    route_point_admission: bool
    treatment_seconds: float
    queue_resync_unsolicited: bool


@dataclass(frozen=True)
class LogSection:
    verbose: str
    all: tuple[str, ...]
    standard: tuple[str, ...]
    interaction: tuple[str, ...]
    trace: tuple[str, ...]
    debug: tuple[str, ...]
    format: str


@dataclass(frozen=True)
class MetricsSection:
    port: int
    bind: str


@dataclass(frozen=True)
class ConnectorConfig:
    connector: ConnectorSection
    links: tuple[LinkSection, ...]
    csta: CstaSection
    simulator: SimulatorSection
    log: LogSection
    metrics: MetricsSection | None
    #: The file read, or "<embedded default>".
    source: str


@dataclass(frozen=True)
class SimulatorConfig:
    simulator: SimulatorSection
    log: LogSection
    source: str


EMBEDDED_SOURCE = "<embedded default>"
EMBEDDED_CHANNEL_SET = "csta-connector-embedded"


# ---------------------------------------------------------------------------
# Reading


def _read_ini(text: str, source: str) -> dict[str, dict[str, str]]:
    """INI text -> {section: {option: raw value}}, in file order."""
    parser = configparser.ConfigParser(
        interpolation=None,
        # No magic [DEFAULT] section: a section of that name is just unknown.
        default_section="\x00no-default-section",
        # No inline comments: a password may contain ';' or '#'.
        inline_comment_prefixes=None,
        strict=True,
        empty_lines_in_values=False,
    )
    try:
        parser.read_string(text, source=source)
    except configparser.Error as e:
        raise ConfigError(source, _syntax_problem(e)) from None
    return {name: dict(parser.items(name, raw=True)) for name in parser.sections()}


def _syntax_problem(error: configparser.Error) -> str:
    if isinstance(error, configparser.DuplicateSectionError):
        return "line %s: section [%s] appears twice" % (error.lineno, error.section)
    if isinstance(error, configparser.DuplicateOptionError):
        return "line %s: [%s] %s appears twice" % (error.lineno, error.section, error.option)
    if isinstance(error, configparser.MissingSectionHeaderError):
        return "line %s: option outside any section; a [section] header must come first" % (
            error.lineno,
        )
    if isinstance(error, configparser.ParsingError):
        lineno, line = error.errors[0]
        try:  # configparser stores the repr of the offending line
            line = ast.literal_eval(line)
        except (ValueError, SyntaxError):
            pass
        return "line %s: not 'option = value': %s" % (lineno, str(line).strip())
    return str(error).splitlines()[0]


def _read_file(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as e:
        raise ConfigError(path, "cannot read: %s" % (e.strerror or e)) from None
    except UnicodeDecodeError as e:
        raise ConfigError(path, "cannot read: not UTF-8 text (%s)" % e.reason) from None


def _spec_of(section: str, specs: Iterable[SectionSpec]) -> SectionSpec | None:
    for spec in specs:
        if spec.family:
            if section.startswith(spec.name) and len(section) > len(spec.name):
                return spec
        elif section == spec.name:
            return spec
    return None


def _check_sections(
    raw: Mapping[str, Mapping[str, str]], specs: tuple[SectionSpec, ...], source: str
) -> None:
    for section, options in raw.items():
        spec = _spec_of(section, specs)
        if spec is None:
            raise ConfigError(
                source,
                "unknown section; allowed sections are "
                + ", ".join("[%s]" % s.title for s in specs),
                section=section,
            )
        for name, text in options.items():
            option = spec.option(name)
            if option is None:
                raise ConfigError(
                    source,
                    "unknown option; allowed options are "
                    + ", ".join(o.name for o in spec.options),
                    section=section,
                    option=name,
                )
            _parse_value(option, section, text, source)


def _parse_value(option: Option, section: str, text: str, source: str) -> Any:
    text = text.strip()
    try:
        return option.kind.parse(text)
    except _Invalid:
        raise ConfigError(
            source, "allowed values are " + option.kind.allowed,
            section=section, option=option.name, value=text,
        ) from None


def _values(
    spec: SectionSpec,
    section: str,
    given: Mapping[str, str],
    source: str,
    defaults: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Parse a section's given options; fill defaults; report missing ones."""
    values: dict[str, Any] = {}
    for option in spec.options:
        default = option.default
        if defaults and option.name in defaults:
            default = defaults[option.name]
        if option.name in given:
            value = _parse_value(option, section, given[option.name], source)
            if value is None:
                value = default  # an empty optional string means "not set"
        else:
            value = default
        if value is MANDATORY:
            raise ConfigError(
                source,
                "mandatory option missing; allowed values are "
                + getattr(option.kind, "allowed_when_mandatory", option.kind.allowed),
                section=section, option=option.name,
            )
        values[option.attribute] = value
    return values


def _build_connector_config(
    raw: Mapping[str, Mapping[str, str]], source: str, embedded: bool = False
) -> ConnectorConfig:
    _check_sections(raw, CONNECTOR_SECTIONS, source)

    simulator = SimulatorSection(
        **_values(SIMULATOR, "simulator", raw.get("simulator", {}), source,
                  {"enabled": True} if embedded else None)
    )
    connector_defaults = {}
    if simulator.enabled:
        connector_defaults["channel-set-name"] = EMBEDDED_CHANNEL_SET
    connector = ConnectorSection(
        **_values(CONNECTOR, "Connector", raw.get("Connector", {}), source, connector_defaults)
    )
    if (connector.subscription_renew_interval + connector.subscription_renew_jitter
            >= connector.subscription_expire_tout):
        given = raw.get("Connector", {})
        raise ConfigError(
            source,
            "allowed values are below subscription-expire-tout (%d) minus "
            "subscription-renew-jitter (%d)"
            % (connector.subscription_expire_tout, connector.subscription_renew_jitter),
            section="Connector", option="subscription-renew-interval",
            value=given.get("subscription-renew-interval",
                            str(connector.subscription_renew_interval)).strip(),
        )

    inherited = {"kpl-interval": connector.kpl_interval,
                 "kpl-tolerance": connector.kpl_tolerance}
    links = []
    for section, given in raw.items():
        if _spec_of(section, CONNECTOR_SECTIONS) is LINK:
            links.append(LinkSection(
                name=section[len(LINK.name):],
                **_values(LINK, section, given, source, inherited),
            ))
    if not links:
        if not simulator.enabled:
            raise ConfigError(
                source,
                "no [link-NAME] section; at least one link is required "
                "unless [simulator] enabled = true",
            )
        links = [
            LinkSection(
                name="simulator" if i == 0 else "simulator-%d" % i,
                hostname=_loopback_of(simulator.bind), port=port, priority=1, weight=50,
                username=None, password=None, tls=False, tls_ca=None,
                kpl_interval=connector.kpl_interval, kpl_tolerance=connector.kpl_tolerance,
            )
            for i, port in enumerate((simulator.cti_port,) + simulator.xsp_ports)
        ]

    csta = CstaSection(**_values(CSTA, "csta", raw.get("csta", {}), source))
    if csta.tls:
        for option in ("tls-certificate", "tls-key"):
            if getattr(csta, option.replace("-", "_")) is None:
                raise ConfigError(
                    source,
                    "mandatory option missing when tls = true; allowed values are "
                    "a PEM file path",
                    section="csta", option=option,
                )

    log = LogSection(**_values(LOG, "log", raw.get("log", {}), source))
    metrics = None
    if "metrics" in raw:
        metrics = MetricsSection(**_values(METRICS, "metrics", raw["metrics"], source))
    return ConnectorConfig(connector, tuple(links), csta, simulator, log, metrics, source)


def _loopback_of(bind: str) -> str:
    # A simulator bound to every address is reached over loopback.
    return "127.0.0.1" if bind in ("", "0.0.0.0", "::") else bind


def parse_config(text: str, source: str = "<string>") -> ConnectorConfig:
    """The connector configuration in INI ``text`` (``source`` names it in errors)."""
    return _build_connector_config(_read_ini(text, source), source)


def load_config(path: str) -> ConnectorConfig:
    """The connector configuration in the INI file ``path``."""
    return parse_config(_read_file(path), path)


def default_config() -> ConnectorConfig:
    """The embedded default: simulator on, one link to it, CSTA on 127.0.0.1:1040."""
    return _build_connector_config({}, EMBEDDED_SOURCE, embedded=True)


def parse_simulator_config(text: str, source: str = "<string>") -> SimulatorConfig:
    raw = _read_ini(text, source)
    _check_sections(raw, SIMULATOR_SECTIONS, source)
    values = _values(SIMULATOR_ONLY, "simulator", raw.get("simulator", {}), source)
    return SimulatorConfig(
        simulator=SimulatorSection(enabled=True, **values),
        log=LogSection(**_values(LOG, "log", raw.get("log", {}), source)),
        source=source,
    )


def load_simulator_config(path: str | None = None) -> SimulatorConfig:
    """The simulator configuration in ``path``; all defaults when ``None``."""
    if path is None:
        return parse_simulator_config("", EMBEDDED_SOURCE)
    return parse_simulator_config(_read_file(path), path)


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
