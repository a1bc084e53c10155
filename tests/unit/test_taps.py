"""The twistd plugins: options, one-line config errors, services built without starting anything."""

import pytest
from twisted.application.service import IService
from twisted.plugin import getPlugins
from twisted.application.service import IServiceMaker
from twisted.python import usage

from csta_connector import sim_tap, tap
from csta_connector.connector import ConnectorService
from csta_connector.simulator.service import SimulatorService


def test_plugins_are_discoverable():
    names = {p.tapname for p in getPlugins(IServiceMaker)}
    assert {"csta-connector", "broadworks-sim"} <= names


def test_connector_defaults_to_the_embedded_default():
    options = tap.Options()
    options.parseOptions([])
    assert options.config.simulator.enabled
    assert options.config.csta.port == 1040 and options.config.csta.bind == "127.0.0.1"
    service = tap.makeService(options)
    assert IService.providedBy(service)
    (connector,) = list(service)
    assert isinstance(connector, ConnectorService)
    assert connector.simulator is not None
    assert not connector.running


def test_connector_config_error_is_one_line_and_exit_1(tmp_path):
    bad = tmp_path / "bad.ini"
    bad.write_text("[csta]\nencoding = morse\n")
    with pytest.raises(SystemExit) as e:
        tap.Options().parseOptions(["--config", str(bad)])
    # SystemExit with a text: the text alone on stderr, exit status 1 (a
    # UsageError would print twistd's whole usage first)
    assert not isinstance(e.value, usage.UsageError)
    assert e.value.code == (
        "%s: [csta] encoding = 'morse': allowed values are auto, xml, ber" % bad)


def test_simulator_command_line_ports_are_checked_too():
    with pytest.raises(SystemExit) as e:
        sim_tap.Options().parseOptions(["--cti-port", "8090"])
    assert e.value.code == (
        "<embedded default> and the command line: [simulator] control-port = '8090': already "
        "the port of [simulator] cti-port; allowed values are a port no other listener of this "
        "configuration uses")


def test_a_failed_start_is_one_lms_line_and_exit_1(tmp_path):
    import io
    import os

    from twisted.application.service import Service

    from csta_connector.appservice import ApplicationService
    from csta_connector.config import LogSection
    from csta_connector.listening import ListenAddress, ListenFailed

    class Refusing(Service):
        def startService(self):
            raise ListenFailed(ListenAddress("csta", "port", 1040, "127.0.0.1"), "Address already in use")

    out = io.StringIO()
    pidfile = tmp_path / "twistd.pid"
    pidfile.write_text(str(os.getpid()))
    top = ApplicationService(LogSection("standard", ("stdout",), (), (), (), (), "text"),
                             "etc/x.ini", str(pidfile))
    top.log_observer.observers[0].stream = out
    Refusing().setServiceParent(top)
    with pytest.raises(SystemExit) as e:
        top.startService()
    assert e.value.code == 1
    (line,) = out.getvalue().splitlines()
    assert line.split(" ", 1)[1] == (
        "Alr 37006 Cannot start: etc/x.ini: [csta] port = '1040': cannot listen on "
        "127.0.0.1:1040: Address already in use")
    assert not pidfile.exists()


def test_help_lists_the_options():
    text = str(tap.Options())
    for option in ("channel-set-name", "kpl-interval", "snapshot-timeout", "encoding"):
        assert option in text


def test_simulator_options_override_the_ports():
    options = sim_tap.Options()
    options.parseOptions(["--cti-port", "18011", "--control-port", "18090", "--users", "7"])
    settings = options.config.simulator
    assert (settings.cti_port, settings.control_port, settings.users) == (18011, 18090, 7)
    service = sim_tap.makeService(options)
    (simulator,) = list(service)
    assert isinstance(simulator, SimulatorService)
    assert len(simulator.engine.user_ids) == 7


def test_simulator_reads_its_sample_config():
    options = sim_tap.Options()
    from pathlib import Path

    sample = Path(__file__).resolve().parents[2] / "etc" / "broadworks-sim.ini"
    options.parseOptions(["--config", str(sample)])
    assert options.config.simulator.cti_port == 8011


@pytest.mark.parametrize("given, port", [([], 8080), (["--xsi-port", "18080"], 18080),
                                         (["--xsi-port", "any"], 0), (["--xsi-port", "0"], None)])
def test_simulator_xsi_port(given, port):
    options = sim_tap.Options()
    options.parseOptions(given)
    assert options.config.simulator.xsi_port == port
    (simulator,) = list(sim_tap.makeService(options))
    assert (simulator.xsi is None) == (port is None)


def test_simulator_xsi_port_must_be_a_port():
    with pytest.raises(usage.UsageError) as e:
        sim_tap.Options().parseOptions(["--xsi-port", "http"])
    assert "allowed values are 0 or off (none), any (a free port)" in str(e.value)


def test_simulator_help_shows_the_xsi_port():
    text = str(sim_tap.Options())
    assert "--xsi-port=" in text and "xsi-credentials" in text
