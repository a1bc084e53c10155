# -*- test-case-name: tests.unit.test_taps -*-
"""``twistd broadworks-sim``: the BroadWorks simulator alone (SPEC §2, §4)."""

from __future__ import annotations

import dataclasses

from twisted.python import usage

from csta_connector.config import (
    ConfigError,
    check_simulator_ports,
    load_simulator_config,
    simulator_options_help,
)
from csta_connector.config.options import InvalidValue, OptionalPort
from csta_connector.tap import ConfigurationFailed, pidfile_of


def _xsi_port(text):
    """--xsi-port: as the option (0 or off: none; any: a free port)."""
    try:
        return OptionalPort().parse(text.strip())
    except InvalidValue:
        raise ValueError("allowed values are " + OptionalPort.allowed) from None


class Options(usage.Options):
    synopsis = "[--config FILE] [--cti-port PORT] [--xsi-port PORT] [--control-port PORT] [--users N]"
    longdesc = (
        "Runs the BroadWorks simulator: an XSP speaking the CTI interface and Xsi "
        "(Xsi-Events and Xsi-Actions over HTTP), a call engine with users "
        "2001@DOMAIN..., Application Server failover, and an HTTP+JSON control "
        "API.\n\nConfiguration file options:\n\n" + simulator_options_help()
    )
    optParameters = [
        ["config", "c", None, "INI file ([simulator], [log] sections)"],
        ["cti-port", None, None, "CTI interface port (default 8011)", int],
        ["xsi-port", None, "", "Xsi front-end port (default 8080; 0: none; any: a free port)", _xsi_port],
        ["control-port", None, None, "control API port (default 8090)", int],
        ["users", None, None, "number of users (default 100)", int],
        ["bind", None, None, "address to listen on (default 127.0.0.1)"],
    ]

    def postOptions(self):
        try:
            config = load_simulator_config(self["config"])
            overrides = {}
            for option, field in (("cti-port", "cti_port"), ("control-port", "control_port"),
                                  ("users", "users"), ("bind", "bind")):
                if self[option] is not None:
                    overrides[field] = self[option]
            if self["xsi-port"] != "":  # "" stands for not given: None is a value (off)
                overrides["xsi_port"] = self["xsi-port"]
            self.config = dataclasses.replace(
                config, simulator=dataclasses.replace(config.simulator, **overrides),
                source=config.source + (" and the command line" if overrides else ""),
            )
            check_simulator_ports(self.config)
        except ConfigError as e:
            raise ConfigurationFailed(str(e)) from None


def makeService(options, reactor=None):
    """The simulator under twistd; ``reactor`` defaults to the global one,
    imported here and not at module level (twistd installs it first)."""
    from csta_connector.appservice import ApplicationService
    from csta_connector.simulator.service import SimulatorService

    if reactor is None:
        from twisted.internet import reactor
    top = ApplicationService(options.config.log, options.config.source, pidfile_of(options))
    SimulatorService(options.config.simulator, reactor).setServiceParent(top)
    return top
