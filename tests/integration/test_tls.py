"""TLS on the CSTA listener and on a link to an XSP (tls = true), over loopback."""

import dataclasses

import pytest
import pytest_twisted
from twisted.internet import reactor

from csta_connector.config import parse_config
from csta_connector.connector import ConnectorService
from csta_connector.csta import messages as m
from csta_connector.csta.client import connect
from csta_connector.testing import free_port_config, run_cli
from csta_connector import tls

pytest.importorskip("OpenSSL", reason="TLS needs pyOpenSSL (twisted[tls])")


def client_options(cert_path):
    from twisted.internet import ssl

    with open(cert_path) as f:
        return ssl.optionsForClientTLS("localhost", trustRoot=ssl.Certificate.loadPEM(f.read()))


@pytest.fixture
def tls_connector(certificate):
    """The embedded default with TLS on its CSTA listener, started."""
    cert_path, key_path = certificate
    config = free_port_config()
    config = dataclasses.replace(
        config, csta=dataclasses.replace(config.csta, tls=True, tls_certificate=cert_path, tls_key=key_path))
    service = ConnectorService(config, reactor)
    service.startService()
    pytest_twisted.blockon(service.started)
    pytest_twisted.blockon(service.channel_set.when_ready())
    yield service
    pytest_twisted.blockon(service.stopService())


@pytest_twisted.inlineCallbacks
def test_csta_listener_over_tls_for_xml_and_ber(tls_connector, certificate):
    for encoding in ("xml", "ber"):
        client = yield connect(reactor, "127.0.0.1", tls_connector.csta_port, encoding,
                               tls_options=client_options(certificate[0]))
        response = yield client.request(m.MonitorStart(device="2001"))
        assert response.cross_ref_id
        client.transport.loseConnection()


@pytest_twisted.inlineCallbacks
def test_link_to_an_xsp_over_tls(certificate):
    """A production-style link (tls = true, tls-ca) to the simulator's XSP behind TLS."""
    from twisted.internet.endpoints import SSL4ServerEndpoint

    from csta_connector.simulator.service import SimulatorService

    cert_path, key_path = certificate
    simulator = SimulatorService(free_port_config().simulator, reactor)
    yield simulator.startService()
    listening = yield SSL4ServerEndpoint(
        reactor, 0, tls.server_options(cert_path, key_path), interface="127.0.0.1"
    ).listen(simulator.xsp.factory())
    config = parse_config(
        "[Connector]\nchannel-set-name = tls-test\nlink-recovery-tout = 0.2\n"
        "[link-xsp1]\nhostname = localhost\nport = %d\ntls = true\ntls-ca = %s\n"
        "[csta]\nport = 0\n" % (listening.getHost().port, cert_path),
        "<test>",
    )
    assert tls.problems(config) == []
    service = ConnectorService(config, reactor)
    service.startService()
    try:
        yield service.started
        yield service.channel_set.when_ready()
        client = yield connect(reactor, "127.0.0.1", service.csta_port, "xml")
        response = yield client.request(m.MonitorStart(device="2001"))
        assert response.cross_ref_id
        client.transport.loseConnection()
    finally:
        yield service.stopService()
        yield listening.stopListening()
        yield simulator.stopService()


def test_unusable_tls_files_are_one_line_errors(tmp_path):
    config = free_port_config()
    config = dataclasses.replace(config, csta=dataclasses.replace(
        config.csta, tls=True, tls_certificate=str(tmp_path / "missing.pem"), tls_key=str(tmp_path / "k.pem")))
    (problem,) = tls.problems(config)
    assert "[csta] tls-certificate" in problem and "\n" not in problem


@pytest_twisted.inlineCallbacks
def test_csta_cli_over_tls(tls_connector, certificate):
    """csta-cli --tls-ca against a TLS listener; a certificate it cannot verify,
    and plain TCP to a TLS listener, are one-line errors (exit 3)."""
    cert_path = certificate[0]
    port = tls_connector.csta_port
    for encoding in ("xml", "ber"):
        code, out, err = yield run_cli(reactor, port, "--tls-ca", cert_path, "--encoding", encoding, "system-status")
        assert (code, out, err) == (0, ["normal"], [])
    code, out, err = yield run_cli(reactor, port, "--tls-ca", cert_path, "makecall", "2001", "2002")
    assert code == 0 and out[0].strip()
    # the system's trust store does not know the self-signed certificate
    code, out, err = yield run_cli(reactor, port, "--tls", "--timeout", "5", "system-status")
    assert code == 3 and out == []
    assert err == ["cannot connect to 127.0.0.1:%d: TLS handshake failed: certificate verify failed" % port]
    # and without TLS the listener hears no session start
    code, out, err = yield run_cli(reactor, port, "--timeout", "2", "system-status")
    assert code == 3 and len(err) == 1 and err[0].startswith("cannot connect to 127.0.0.1:%d: " % port)
    assert err[0].endswith("wrong --encoding, or a TLS listener (--tls)?")


@pytest_twisted.inlineCallbacks
def test_csta_cli_with_tls_to_a_plain_listener(embedded_connector, certificate):
    code, out, err = yield run_cli(reactor, embedded_connector.csta_port, "--tls-ca", certificate[0], "system-status")
    assert code == 3 and out == [] and len(err) == 1
    assert err[0].startswith("cannot connect to 127.0.0.1:%d: " % embedded_connector.csta_port)
    assert "TLS" in err[0]
