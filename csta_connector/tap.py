# -*- test-case-name: tests.unit.test_taps -*-
"""``twistd csta-connector``: the connector (SPEC §2, §7).

With no ``--config`` it runs the embedded default: an in-process BroadWorks
simulator on loopback and the connector linked to it.
"""

from __future__ import annotations

from twisted.python import usage

from csta_connector.config import ConfigError, default_config, load_config, options_help


class Options(usage.Options):
    synopsis = "[--config FILE]"
    longdesc = (
        "Runs the CTI connector between BroadWorks (CTI interface) and CSTA clients "
        "(CSTA XML and ASN.1/BER on one listener). Without --config: the embedded "
        "default (in-process simulator, CSTA on 127.0.0.1:1040).\n\n"
        "Configuration file options:\n\n" + options_help()
    )
    optParameters = [["config", "c", None, "INI file (see etc/csta-connector.ini)"]]

    def postOptions(self):
        try:
            self.config = load_config(self["config"]) if self["config"] else default_config()
        except ConfigError as e:
            raise ConfigurationFailed(str(e)) from None
        from csta_connector import tls

        problems = tls.problems(self.config)
        if problems:
            raise ConfigurationFailed(problems[0])


class ConfigurationFailed(SystemExit):
    """A configuration that cannot be used: its one line, alone on stderr,
    and exit status 1. (A UsageError would make twistd print its whole usage
    text, every option of the file included, before the line.)"""

    def __init__(self, line: str):
        super().__init__(line)
        self.line = line


def pidfile_of(options) -> str | None:
    """twistd's pid file (``python -m twisted`` writes none)."""
    parent = getattr(options, "parent", None)
    return parent.get("pidfile") if parent is not None else None


def makeService(options):
    from csta_connector.appservice import ApplicationService
    from csta_connector.connector import ConnectorService

    from twisted.internet import reactor

    from csta_connector.runtime import tune_garbage_collector

    top = ApplicationService(options.config.log, options.config.source, pidfile_of(options))
    ConnectorService(options.config, reactor, top.detail).setServiceParent(top)
    reactor.callWhenRunning(tune_garbage_collector)
    return top
