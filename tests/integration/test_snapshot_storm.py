"""2,000 SnapshotDevice requests at once, of monitored and unmonitored
devices, over real loopback TCP (issue 17): every one answered, none an
error. (The timeouts are generous: this is about the race between temporary
subscriptions and their removal, not about speed; benchmarks/ measures that.)"""

import dataclasses

import pytest_twisted
from twisted.internet import defer, reactor, task

from csta_connector.connector import ConnectorService
from csta_connector.csta import messages as m
from csta_connector.csta.client import connect
from csta_connector.simulator.control_client import ControlClient
from csta_connector.testing import free_port_config

MONITORED = [str(2001 + n) for n in range(50)]
UNMONITORED = [str(2101 + n) for n in range(50)]


@pytest_twisted.inlineCallbacks
def test_two_thousand_concurrent_snapshots_all_succeed():
    config = free_port_config(users=150, snapshot_timeout=60.0, request_timeout=60.0)
    # two XSPs: a response and the event it causes come on different links,
    # so requests arrive between the two
    link = config.links[0]
    config = dataclasses.replace(
        config, links=(link, dataclasses.replace(link, name="simulator-1")),
        simulator=dataclasses.replace(config.simulator, xsp_ports=(0,)))
    connector = ConnectorService(config, reactor)
    connector.startService()
    try:
        yield connector.channel_set.when_ready()
        while len(connector.channel_set.up_links) < 2:
            yield task.deferLater(reactor, 0.05, lambda: None)
        monitoring = yield connect(reactor, "127.0.0.1", connector.csta_port, "xml", timeout=120)
        for device in MONITORED:
            yield monitoring.request(m.MonitorStart(device=device))
        control = ControlClient(reactor, "127.0.0.1", connector.simulator.control_port)
        for n in range(0, 50, 5):  # some calls up: the snapshots have something to list
            yield control.place_call(MONITORED[n], UNMONITORED[n])
        clients = [monitoring]
        clients.append((yield connect(reactor, "127.0.0.1", connector.csta_port, "ber", timeout=120)))
        requests = []
        for n in range(2000):
            devices = MONITORED if n % 2 else UNMONITORED
            requests.append(clients[n % 2].request(m.SnapshotDevice(device=devices[(n // 2) % 50])))
            if n % 10 == 9:
                # as requests come off a network: some while the temporary
                # subscriptions of the earlier ones are being made and removed
                yield task.deferLater(reactor, 0, lambda: None)
        results = yield defer.DeferredList(requests, consumeErrors=True)
        errors = [result.getErrorMessage() for ok, result in results if not ok]
        assert errors == []
        assert all(isinstance(result, m.SnapshotDeviceResponse) for _, result in results)
        calls = {len(result.items) for ok, result in results}
        assert calls == {0, 1}
        # the temporary subscriptions are gone, the monitors' stay
        subscribed = {s.user_id.partition("@")[0] for s in connector.core.subscriptions.subscriptions}
        assert subscribed == set(MONITORED)
        for client in clients:
            client.transport.loseConnection()
    finally:
        yield connector.stopService()
