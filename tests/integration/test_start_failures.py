"""A port that cannot be listened on is a configuration error (issue 17):
one line naming the file, section, option and port, a non-zero exit, and
nothing left running. Through the real entry points (``twistd``,
``python -m twisted``, the demo) as processes, and through the assembly in
this process (what is left running is visible there)."""

import socket
import sys

import pytest
import pytest_twisted
from twisted.internet import reactor, task

from csta_connector.config import ConfigError, parse_config
from csta_connector.connector import ConnectorService
from csta_connector.simulator.service import SimulatorService
from csta_connector.testing import spawn_command, spawn_module, twistd_command

from .conftest import simulator_settings

CANNOT = "cannot listen on 127.0.0.1:%d: Address already in use"


@pytest.fixture
def taken():
    """A loopback port something else listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def embedded(source, section, option, port):
    """An embedded-simulator configuration on free ports but ``[section]
    option = port``."""
    sections = {"simulator": {"enabled": "true", "cti-port": "0", "control-port": "0"},
                "csta": {"port": "0"}}
    sections.setdefault(section, {})[option] = str(port)
    return parse_config("".join(
        "[%s]\n%s" % (name, "".join("%s = %s\n" % item for item in options.items()))
        for name, options in sections.items()), source)


def refused(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def lms_lines(out):
    """The LMS text lines of a process's stdout, without their time."""
    return [line.split(" ", 1)[1] for line in out.decode().splitlines()]


# -- the assembly: the error, and what is left --------------------------------


@pytest.mark.parametrize("section, option", [
    ("csta", "port"), ("metrics", "port"), ("simulator", "cti-port"),
    ("simulator", "xsp-ports"), ("simulator", "control-port"),
])
@pytest_twisted.inlineCallbacks
def test_a_connector_that_cannot_listen_stops_everything_and_names_the_option(
        taken, section, option):
    config = embedded("x.ini", section, option, taken)
    connector = ConnectorService(config, reactor)
    with pytest.raises(ConfigError) as error:
        connector.startService()
    assert str(error.value) == "x.ini: [%s] %s = '%d': %s" % (section, option, taken, CANNOT % taken)
    yield connector.stopped
    assert not connector.running
    assert not any(service.running for service in connector)
    simulator = connector.simulator
    assert simulator.cti_ports == [] or all(refused(port) for port in simulator.cti_ports)
    assert simulator.control_port is None or refused(simulator.control_port)
    assert connector.csta_port is None
    assert connector.channel_set.up_links == []
    yield task.deferLater(reactor, 0.05, lambda: None)
    assert connector.channel_set.up_links == []  # no link tries meanwhile
    assert not [c for c in reactor.getDelayedCalls() if "ClientService" in repr(c.func)]


@pytest_twisted.inlineCallbacks
def test_a_simulator_that_cannot_listen_closes_what_it_opened(taken):
    import dataclasses

    simulator = SimulatorService(dataclasses.replace(simulator_settings(), xsp_ports=(0, taken)), reactor)
    with pytest.raises(Exception) as error:
        simulator.startService()
    assert str(error.value) == CANNOT % taken
    assert (error.value.address.section, error.value.address.option) == ("simulator", "xsp-ports")
    assert not simulator.running
    yield task.deferLater(reactor, 0, lambda: None)
    yield simulator.stopService()  # stopped already: nothing more to do


# -- the entry points, as processes -------------------------------------------


def run(argv, cwd, timeout=30):
    captured = spawn_command(reactor, argv, timeout=timeout, cwd=cwd)
    return captured.ended.addCallback(lambda code: (code, captured.out, captured.err))


@pytest_twisted.inlineCallbacks
def test_twistd_csta_connector_exits_1_with_one_line_when_the_csta_port_is_taken(tmp_path, taken):
    (tmp_path / "x.ini").write_text(
        "[csta]\nport = %d\n[simulator]\nenabled = true\ncti-port = 0\ncontrol-port = 0\n" % taken)
    code, out, err = yield run(twistd_command("-n", "csta-connector", "--config", "x.ini"), tmp_path)
    assert code == 1
    alarms = [line for line in lms_lines(out) if line.startswith("Alr")]
    assert alarms == ["Alr 37006 Cannot start: x.ini: [csta] port = '%d': %s" % (taken, CANNOT % taken)]
    assert all(line.split(" ")[1] != "0" for line in lms_lines(out))  # every line has a catalog id
    assert err == b""
    assert not (tmp_path / "twistd.pid").exists()  # nothing left behind either


@pytest_twisted.inlineCallbacks
def test_python_m_twisted_csta_connector_exits_1_with_one_line_when_the_metrics_port_is_taken(
        tmp_path, taken):
    (tmp_path / "x.ini").write_text(
        "[csta]\nport = 0\n[metrics]\nport = %d\n"
        "[simulator]\nenabled = true\ncti-port = 0\ncontrol-port = 0\n" % taken)
    code, out, err = yield run(
        [sys.executable, "-m", "twisted", "csta-connector", "--config", "x.ini"], tmp_path)
    assert code == 1
    assert lms_lines(out) == [
        "Alr 37006 Cannot start: x.ini: [metrics] port = '%d': %s" % (taken, CANNOT % taken)]
    assert err == b""


@pytest_twisted.inlineCallbacks
def test_twistd_broadworks_sim_exits_1_with_one_line_when_its_control_port_is_taken(tmp_path, taken):
    (tmp_path / "s.ini").write_text("[simulator]\ncti-port = 0\nxsi-port = 0\ncontrol-port = %d\n" % taken)
    code, out, err = yield run(twistd_command("-n", "broadworks-sim", "--config", "s.ini"), tmp_path)
    assert code == 1
    assert lms_lines(out) == [
        "Alr 37006 Cannot start: s.ini: [simulator] control-port = '%d': %s" % (taken, CANNOT % taken)]
    assert not (tmp_path / "twistd.pid").exists()


@pytest.mark.parametrize("options, line", [
    ("cti-port = 18011\nxsp-ports = 18012, 18011\n",
     "s.ini: [simulator] xsp-ports = '18011': already the port of [simulator] cti-port; "
     "allowed values are a port no other listener of this configuration uses"),
    ("cti-port = 18011\ncontrol-port = 18011\n",
     "s.ini: [simulator] control-port = '18011': already the port of [simulator] cti-port; "
     "allowed values are a port no other listener of this configuration uses"),
])
@pytest_twisted.inlineCallbacks
def test_twistd_broadworks_sim_refuses_a_port_twice_at_load(tmp_path, options, line):
    (tmp_path / "s.ini").write_text("[simulator]\n" + options)
    code, out, err = yield run(twistd_command("-n", "broadworks-sim", "--config", "s.ini"), tmp_path)
    assert (code, out, err.decode().splitlines()) == (1, b"", [line])


@pytest_twisted.inlineCallbacks
def test_a_missing_config_file_is_its_one_line_alone(tmp_path):
    code, out, err = yield run(twistd_command("-n", "csta-connector", "--config", "nowhere.ini"), tmp_path)
    assert (code, out, err.decode().splitlines()) == (
        1, b"", ["nowhere.ini: cannot read: No such file or directory"])
    code, out, err = yield run(
        [sys.executable, "-m", "twisted", "broadworks-sim", "--config", "nowhere.ini"], tmp_path)
    assert (code, out, err.decode().splitlines()) == (
        1, b"", ["nowhere.ini: cannot read: No such file or directory"])


@pytest_twisted.inlineCallbacks
def test_the_demo_exits_1_with_one_line_when_its_csta_port_is_taken(taken):
    demo = spawn_module(reactor, "csta_connector.demo", "--quiet", "--csta-port", str(taken))
    code = yield demo.ended
    assert code == 1
    assert demo.stdout_lines == []
    assert demo.stderr_lines == [
        "demo FAILED at step 'start the embedded default': <csta-connector-demo>: [csta] port = "
        "'%d': %s" % (taken, CANNOT % taken)]
