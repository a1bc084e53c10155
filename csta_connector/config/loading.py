# -*- test-case-name: tests.unit.test_config -*-
"""Reading a configuration: INI text -> the frozen objects of :mod:`.values`.  Pure: no Twisted.

Every value is checked against its option in :mod:`.options`. Any problem
raises :class:`ConfigError`, whose ``str`` is one line naming the file,
section, option and what is allowed, for example::

    etc/x.ini: [csta] encoding = 'foo': allowed values are auto, xml, ber
"""

from __future__ import annotations

import ast
import configparser
from typing import Any, Iterable, Mapping

from csta_connector.config.options import (
    CONNECTOR,
    CONNECTOR_SECTIONS,
    CONTACT_CENTRE,
    CSTA,
    LINK,
    LOG,
    MANDATORY,
    METRICS,
    SIMULATOR,
    SIMULATOR_ONLY,
    SIMULATOR_SECTIONS,
    InvalidValue,
    Option,
    SectionSpec,
)
from csta_connector.config.values import (
    ConnectorConfig,
    ConnectorSection,
    ContactCentreSection,
    CstaSection,
    LinkSection,
    LogSection,
    MetricsSection,
    SimulatorConfig,
    SimulatorSection,
)


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


EMBEDDED_SOURCE = "<embedded default>"
EMBEDDED_CHANNEL_SET = "csta-connector-embedded"


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
    except InvalidValue:
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
            if value is None and not getattr(option.kind, "none_is_a_value", False):
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
            link = LinkSection(
                name=section[len(LINK.name):],
                **_values(LINK, section, given, source, inherited),
            )
            _check_link_protocol(link, section, given, source)
            links.append(link)
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

    contact_centre = ContactCentreSection(
        **_values(CONTACT_CENTRE, "contact-centre", raw.get("contact-centre", {}), source)
    )
    log = LogSection(**_values(LOG, "log", raw.get("log", {}), source))
    metrics = None
    if "metrics" in raw:
        metrics = MetricsSection(**_values(METRICS, "metrics", raw["metrics"], source))
    listeners = [("csta", "port", csta.port, csta.bind)]
    if metrics is not None:
        listeners.append(("metrics", "port", metrics.port, metrics.bind))
    if simulator.enabled:
        listeners.extend(_simulator_listeners(simulator))
    _check_listen_ports(listeners, source)
    return ConnectorConfig(connector, tuple(links), csta, contact_centre, simulator, log, metrics, source)


# What each link protocol reads to reach its XSP; the other's options are a
# mistake worth telling (an xsi link does not connect to hostname:port).
# An Xsi request always carries HTTP basic auth: an xsi link needs its user.
_LINK_TARGET = {"cti": ("hostname", ("url",)), "xsi": ("url", ("hostname", "port", "tls"))}
_LINK_MANDATORY = {"cti": ("hostname",), "xsi": ("url", "username")}


def _check_link_protocol(link: LinkSection, section: str, given: Mapping[str, str], source: str) -> None:
    needed, foreign = _LINK_TARGET[link.protocol]
    for name in _LINK_MANDATORY[link.protocol]:
        if getattr(link, name) is None:
            option = LINK.option(name)
            raise ConfigError(
                source,
                "mandatory option missing with protocol = %s; allowed values are %s"
                % (link.protocol, getattr(option.kind, "allowed_when_mandatory", option.kind.allowed)),
                section=section, option=name,
            )
    for name in foreign:
        if name in given:
            raise ConfigError(
                source,
                "not an option of a protocol = %s link (it reaches its XSP by %s)"
                % (link.protocol, needed),
                section=section, option=name, value=given[name].strip(),
            )


def _simulator_listeners(simulator: SimulatorSection) -> list[tuple[str, str, int, str]]:
    """(section, option, port, bind) of every port the simulator listens on."""
    listeners = [("simulator", "cti-port", simulator.cti_port, simulator.bind)]
    listeners.extend(("simulator", "xsp-ports", port, simulator.bind) for port in simulator.xsp_ports)
    if simulator.xsi_port is not None:  # None: no Xsi front-end
        listeners.append(("simulator", "xsi-port", simulator.xsi_port, simulator.bind))
    listeners.append(("simulator", "control-port", simulator.control_port, simulator.bind))
    return listeners


_ANY_ADDRESS = ("", "0.0.0.0", "::")


def _check_listen_ports(listeners: list[tuple[str, str, int, str]], source: str) -> None:
    """The same port twice in one configuration is an error naming both
    options (port 0, any free port, is never a clash). Two binds clash when
    they are the same address or either is every address."""
    taken: list[tuple[str, str, int, str]] = []
    for section, option, port, bind in listeners:
        if port == 0:
            continue
        for other_section, other_option, other_port, other_bind in taken:
            if port == other_port and (
                bind == other_bind or bind in _ANY_ADDRESS or other_bind in _ANY_ADDRESS
            ):
                raise ConfigError(
                    source,
                    "already the port of [%s] %s; allowed values are a port no other "
                    "listener of this configuration uses" % (other_section, other_option),
                    section=section, option=option, value=str(port),
                )
        taken.append((section, option, port, bind))


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
    simulator = SimulatorSection(enabled=True, **values)
    _check_listen_ports(_simulator_listeners(simulator), source)
    return SimulatorConfig(
        simulator=simulator,
        log=LogSection(**_values(LOG, "log", raw.get("log", {}), source)),
        source=source,
    )


def check_simulator_ports(config: SimulatorConfig) -> None:
    """The duplicate-port check of a simulator configuration changed after
    loading (``twistd broadworks-sim --cti-port``)."""
    _check_listen_ports(_simulator_listeners(config.simulator), config.source)


def load_simulator_config(path: str | None = None) -> SimulatorConfig:
    """The simulator configuration in ``path``; all defaults when ``None``."""
    if path is None:
        return parse_simulator_config("", EMBEDDED_SOURCE)
    return parse_simulator_config(_read_file(path), path)
