"""The embedded default over real loopback TCP: XML and BER clients side by side (issue 3)."""

import pytest
import pytest_twisted
from twisted.internet import reactor

from csta_connector.csta import messages as m
from csta_connector.csta.client import CSTAErrorResponse, connect


@pytest.fixture
def connector(embedded_connector):
    return embedded_connector


@pytest_twisted.inlineCallbacks
def test_xml_and_ber_clients_monitor_side_by_side(connector):
    xml = yield connect(reactor, "127.0.0.1", connector.csta_port, "xml")
    ber = yield connect(reactor, "127.0.0.1", connector.csta_port, "ber")
    assert xml.system_statuses == ["normal"] and ber.system_statuses == ["normal"]

    for client in (xml, ber):
        registered = yield client.request(m.SystemRegister())
        assert isinstance(registered, m.SystemRegisterResponse)
        status = yield client.request(m.RequestSystemStatus())
        assert status.status == "normal"

    started_xml = yield xml.request(m.MonitorStart(device="2001"))
    started_ber = yield ber.request(m.MonitorStart(device="2001"))
    assert started_xml.cross_ref_id and started_ber.cross_ref_id
    # one shared BroadWorks subscription for both monitors
    subscription = connector.core.subscriptions.subscription_of("2001@example.com")
    assert subscription.refs == 2

    with pytest.raises(CSTAErrorResponse) as refused:
        yield xml.request(m.MonitorStart(device="7777"))
    assert refused.value.error == m.CSTAError(category="operation", value="invalidDeviceID")

    # the other client is unaffected and still served
    again = yield ber.request(m.MonitorStart(device="2002"))
    assert again.cross_ref_id != started_ber.cross_ref_id

    yield xml.request(m.MonitorStop(cross_ref_id=started_xml.cross_ref_id))
    assert subscription.refs == 1
    yield ber.request(m.MonitorStop(cross_ref_id=started_ber.cross_ref_id))
    assert connector.core.subscriptions.subscription_of("2001@example.com") is None
    with pytest.raises(CSTAErrorResponse):
        yield ber.request(m.MonitorStop(cross_ref_id=started_ber.cross_ref_id))
    xml.transport.loseConnection()
    ber.transport.loseConnection()


@pytest_twisted.inlineCallbacks
def test_unsupported_operation_and_garbage_affect_only_their_connection(connector):
    xml = yield connect(reactor, "127.0.0.1", connector.csta_port, "xml")
    ber = yield connect(reactor, "127.0.0.1", connector.csta_port, "ber")
    # an ECMA-323 operation the connector does not serve
    body = b'<?xml version="1.0"?><SetDoNotDisturb xmlns="http://www.ecma-international.org/standards/ecma-323/csta/ed3"><device>2001</device><doNotDisturbOn>true</doNotDisturbOn></SetDoNotDisturb>'
    with pytest.raises(CSTAErrorResponse) as refused:
        yield xml.send_raw(4242, body)
    assert refused.value.error == m.CSTAError(category="operation", value="serviceNotSupported")
    with pytest.raises(CSTAErrorResponse) as refused:
        yield xml.send_raw(4243, b"<MonitorStart><monitorObject>")
    assert refused.value.error.category == "operation"
    # a garbage client is closed, the others are fine
    from twisted.internet.endpoints import TCP4ClientEndpoint
    from twisted.internet.protocol import Protocol, Factory

    closed = []

    class Garbage(Protocol):
        def connectionMade(self):
            self.transport.write(b"GET / HTTP/1.1\r\n\r\n")

        def connectionLost(self, reason):
            closed.append(True)

    yield TCP4ClientEndpoint(reactor, "127.0.0.1", connector.csta_port).connect(Factory.forProtocol(Garbage))
    deadline = reactor.seconds() + 3
    from twisted.internet import task

    while not closed and reactor.seconds() < deadline:
        yield task.deferLater(reactor, 0.05, lambda: None)
    assert closed
    started = yield ber.request(m.MonitorStart(device="2003"))
    assert started.cross_ref_id
    status = yield xml.request(m.RequestSystemStatus())
    assert status.status == "normal"


@pytest_twisted.inlineCallbacks
def test_silent_xml_client_gets_system_status_after_the_detect_timeout(connector):
    xml = yield connect(reactor, "127.0.0.1", connector.csta_port, "xml")
    assert xml.system_statuses == ["normal"]
