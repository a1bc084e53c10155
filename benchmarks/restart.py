"""Benchmark 6: a connector restarted, its view rebuilt (issue 17, hot standby).

10,000 users of one simulator (10 XML clients x 1,000 devices monitored),
5,000 answered calls (2001->2002, 2003->2004, ...), every fourth of them held
by its callee: 10,000 parties in the connector's model. Then the connector
goes as a ``kill -9`` leaves it (its links and client connections cut, no
unsubscribe, nothing kept) and a new one starts with the same configuration
against the same simulator, which kept its calls. The clients reconnect and
monitor their devices again; the new connector's model is rebuilt from the
initial CallSubscriptionEvent of each new subscription, with no snapshot.

Measured: from the new connector's start to every monitored device rebuilt
(every party back in the model, held ones held), and the parts of it: the
link up, the 10,000 MonitorStart answered. Correct: the rebuilt model equals
the one before the restart, party for party and state for state.
"""

from __future__ import annotations

import time

from benchmarks import _harness as h

NAME = "restart"

def params(quick: bool) -> dict:
    if quick:
        return {"users": 2000, "clients": 10}
    return {"users": 10000, "clients": 10}


def run(reactor, quick=False, overrides=None):
    return h.measure_and_tabulate(reactor, params(quick), overrides, measure, rows_of)


def rows_of(r):
    n = format(r["users"], ",")
    return [
        h.Row(NAME, "%s devices, %s parties: setup" % (n, format(r["parties"], ",")), r["setup_s"], "s"),
        h.Row(NAME, "restart -> every monitored device of %s rebuilt" % n, r["rebuilt_s"], "s"),
        h.Row(NAME, "restart -> link up", r["link_up_s"], "s"),
        h.Row(NAME, "restart -> %s MonitorStart answered" % n, r["monitored_s"], "s"),
        h.Row(NAME, "rebuilt model = model before the restart (parties, held)",
              "%d / %d, %d / %d held" % (r["parties_after"], r["parties"], r["held_after"], r["held"]),
              ok=r["correct"]),
    ]


def measure(reactor, users, clients):
    from twisted.internet import defer

    from csta_connector.config import load_simulator_config, parse_config
    from csta_connector.connector import ConnectorService
    from csta_connector.simulator.service import SimulatorService
    from csta_connector.testing import linked_config_text

    import dataclasses

    def parties(core):
        model = core.model
        return [party for device in model.devices() for party in model.parties_of(device)]

    def view(core):
        return sorted((p.device, p.call_id, p.party_id, str(p.state)) for p in parties(core))

    @defer.inlineCallbacks
    def start_connector(cti_port):
        config = parse_config(linked_config_text(cti_port, "bench"), "<benchmark>")
        service = ConnectorService(config, reactor, h.log_detail())
        service.startService()
        yield service.channel_set.when_ready()
        return service

    def cut(service):
        """What kill -9 leaves: every connection gone at once, nothing said."""
        for link in service.channel_set.up_links:
            link.transport.abortConnection()
        for session in list(service.csta_factory.sessions):
            session.transport.abortConnection()
        return service.stopService()

    @defer.inlineCallbacks
    def monitor_all(port, names):
        protocols = yield h.connect_clients(reactor, port, clients, "xml", timeout=120)
        share = (users + clients - 1) // clients
        yield defer.gatherResults(
            [h.monitor_devices(c, names[i * share:(i + 1) * share], window=100)
             for i, c in enumerate(protocols)], consumeErrors=True)
        return protocols

    @defer.inlineCallbacks
    def main():
        t_setup = time.perf_counter()
        settings = dataclasses.replace(load_simulator_config(None).simulator, users=users,
                                       cti_port=0, control_port=0, xsi_port=None)
        simulator = SimulatorService(settings, reactor)
        simulator.startService()
        names = [str(h.FIRST_EXTENSION + i) for i in range(users)]
        service = yield start_connector(simulator.cti_ports[0])
        try:
            protocols = yield monitor_all(service.csta_port, names)
            calls = users // 2
            yield h.place_answered_calls(reactor, simulator, calls)
            for k in range(0, calls, 4):
                simulator.engine.hold(h.user_id(h.FIRST_EXTENSION + 2 * k + 1))
            core = service.core
            yield h.wait_until(reactor, lambda: len(core.model) == 2 * calls, 120, "calls in the model")
            yield h.wait_until(
                reactor, lambda: sum(p.state == "hold" for p in parties(core)) == len(range(0, calls, 4)),
                60, "held calls in the model")
            before = view(core)
            setup_s = time.perf_counter() - t_setup
            for client in protocols:
                client.transport.loseConnection()
            yield cut(service)

            t0 = time.perf_counter()
            service = yield start_connector(simulator.cti_ports[0])
            link_up = time.perf_counter() - t0
            core = service.core
            protocols = yield monitor_all(service.csta_port, names)
            monitored = time.perf_counter() - t0
            yield h.wait_until(reactor, lambda: len(core.model) == len(before), 120, "the model rebuilt")
            rebuilt = time.perf_counter() - t0
            after = view(core)
            for client in protocols:
                client.transport.loseConnection()
            return {
                "users": users,
                "parties": len(before),
                "held": sum(state == "hold" for *_, state in before),
                "parties_after": len(after),
                "held_after": sum(state == "hold" for *_, state in after),
                "correct": after == before,
                "setup_s": setup_s,
                "link_up_s": link_up,
                "monitored_s": monitored,
                "rebuilt_s": rebuilt,
            }
        finally:
            yield service.stopService()
            yield simulator.stopService()

    return main()
