# -*- test-case-name: tests.unit.test_config -*-
"""INI configuration -> frozen dataclasses (SPEC §7).  Pure: no Twisted.

Three parts, re-exported here:

* :mod:`.values`: the configuration objects, one frozen dataclass per
  section (:class:`ConnectorConfig`, :class:`ConnectorSection`, ...);
* :mod:`.options`: every option declared once, in the tables
  :data:`CONNECTOR_SECTIONS` and :data:`SIMULATOR_SECTIONS` (name, kind,
  default, help), and the ``twistd --help`` text made of them
  (:func:`options_help`);
* :mod:`.loading`: INI text -> checked values -> the objects; every problem
  is one :class:`ConfigError` line naming file, section, option and what is
  allowed.

Entry points: :func:`load_config` (a file), :func:`parse_config` (text),
:func:`default_config` (the embedded default: no file at all),
:func:`load_simulator_config` / :func:`parse_simulator_config`.
"""

from csta_connector.config.loading import (
    EMBEDDED_CHANNEL_SET,
    EMBEDDED_SOURCE,
    ConfigError,
    check_simulator_ports,
    default_config,
    load_config,
    load_simulator_config,
    parse_config,
    parse_simulator_config,
)
from csta_connector.config.options import (
    CONNECTOR,
    CONNECTOR_SECTIONS,
    CONTACT_CENTRE,
    CSTA,
    KPL_INTERVAL,
    KPL_TOLERANCE,
    LINK,
    LISTEN_PORT,
    LOG,
    MANDATORY,
    METRICS,
    PORT,
    SIMULATOR,
    SIMULATOR_ONLY,
    SIMULATOR_SECTIONS,
    Boolean,
    Choice,
    Integer,
    Option,
    Outputs,
    PortList,
    SectionSpec,
    Seconds,
    Text,
    options_help,
    simulator_options_help,
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

__all__ = [
    "Boolean",
    "CONNECTOR",
    "CONNECTOR_SECTIONS",
    "CONTACT_CENTRE",
    "CSTA",
    "Choice",
    "ConfigError",
    "ConnectorConfig",
    "ConnectorSection",
    "ContactCentreSection",
    "CstaSection",
    "EMBEDDED_CHANNEL_SET",
    "EMBEDDED_SOURCE",
    "Integer",
    "KPL_INTERVAL",
    "KPL_TOLERANCE",
    "LINK",
    "LISTEN_PORT",
    "LOG",
    "LinkSection",
    "LogSection",
    "MANDATORY",
    "METRICS",
    "MetricsSection",
    "Option",
    "Outputs",
    "PORT",
    "PortList",
    "SIMULATOR",
    "SIMULATOR_ONLY",
    "SIMULATOR_SECTIONS",
    "SectionSpec",
    "Seconds",
    "SimulatorConfig",
    "SimulatorSection",
    "Text",
    "check_simulator_ports",
    "default_config",
    "load_config",
    "load_simulator_config",
    "options_help",
    "parse_config",
    "parse_simulator_config",
    "simulator_options_help",
]
