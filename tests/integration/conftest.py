"""Real-loopback fixtures: the simulator on free ports, a channel set linked to it."""

import dataclasses

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.endpoints import TCP4ClientEndpoint

from csta_connector.broadworks.channelset import ChannelSet
from csta_connector.broadworks.client import BroadWorksClient
from csta_connector.broadworks.link import LinkSettings
from csta_connector.config import load_simulator_config
from csta_connector.simulator.control_client import ControlClient
from csta_connector.simulator.service import SimulatorService
from csta_connector.testing import RecordingEventSink


def simulator_settings(**overrides):
    base = load_simulator_config(None).simulator
    overrides.setdefault("xsi_port", None)
    return dataclasses.replace(base, cti_port=0, control_port=0, **overrides)


@pytest.fixture
def simulator():
    service = SimulatorService(simulator_settings(users=20, resync_delay=0.2), reactor)
    pytest_twisted.blockon(service.startService())
    service.wire = []
    service.xsp.trace = lambda direction, data: service.wire.append(("sim-" + direction, data))
    service.control = ControlClient(reactor, "127.0.0.1", service.control_port)
    yield service
    pytest_twisted.blockon(service.stopService())


@pytest.fixture
def linked(simulator):
    """(channel set, client, sink) linked to the simulator's first XSP front-end."""
    sink = RecordingEventSink(reactor)
    channel_set = ChannelSet(reactor, sink=sink, recovery_delay=0.2, max_recovery_delay=1.0)
    channel_set.wire = []
    channel_set.trace = lambda direction, data: channel_set.wire.append(("link-" + direction, data))
    settings = LinkSettings("cs-test", "csta-test", name="link-1", request_timeout=5, kpl_interval=0)
    channel_set.add_link(settings, TCP4ClientEndpoint(reactor, "127.0.0.1", simulator.cti_ports[0]))
    channel_set.startService()
    pytest_twisted.blockon(channel_set.when_ready())
    client = BroadWorksClient(channel_set, "cs-test", "csta-test", default_domain="example.com")
    yield channel_set, client, sink
    pytest_twisted.blockon(channel_set.stopService())


@pytest.fixture
def embedded_connector(request):
    """The embedded default (simulator + connector) on free loopback ports,
    every link up. ``@pytest.mark.parametrize("embedded_connector", [{...}],
    indirect=True)`` changes ``[Connector]`` options (``{"proactive_resync":
    False}``), under ``"simulator"`` ``[simulator]`` ones, and under
    ``"protocols"`` its links to the simulator (``("cti", "xsi")``; without
    it: one cti link)."""
    from csta_connector.testing import free_port_config as embedded_config, running_connector

    options = dict(getattr(request, "param", None) or {})
    simulator = options.pop("simulator", {})
    config = embedded_config(**options)
    if simulator:
        config = dataclasses.replace(config, simulator=dataclasses.replace(config.simulator, **simulator))
    service = pytest_twisted.blockon(running_connector(reactor, config))
    yield service
    pytest_twisted.blockon(service.stopService())


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for localhost / 127.0.0.1: (cert path, key path)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption()))
    return str(cert_path), str(key_path)
