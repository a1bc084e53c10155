"""Benchmark: the contact centre (issue 14, SPEC §10).

100 call centers x 10 agents (the simulator provisions 5001..5100 with agents
2001..3000, all Available, no wrap-up), every queue and every agent monitored
by one XML client (1,100 monitors: 100 Call Center Queue subscriptions, 1,000
Advanced Call + 1,000 Call Center Agent). Callers 3001.. dial the queues
round robin; each call is queued (ACDCallAddedEvent), distributed to an
Available agent (ACDCallOfferedToAgentEvent, the agent's CallReceivedEvent),
answered (ACDCallAnsweredByAgentEvent) and released; the agent is busy
(AgentBusy) and its state read again after the call (GetAgentStateRequest).
Closed loop: new calls only while fewer than ``backlog`` events are
unacknowledged by the connector, so the rate is what the one process
(simulator, connector and client share a core) sustains; the target is
1,000 queued calls/s distributed.

Figures: queued calls/s distributed, BroadWorks events/s end to end, CSTA
events/s, the connector's µs per BroadWorks event (simulator and client
time subtracted), and the connector's µs per ACD event: decoding an ACD
event document (captured during the warm-up, the link's own reader) plus
the contact centre's event path (route, model, translation, fan-out) timed
in place.

The same distribution with the simulator in a process of its own
(``_simulator_process``, the other core, as an XSP would be elsewhere) and the
connector configured like production (a ``[link-NAME]`` to the child's CTI
port, ``[contact-centre]`` naming the queues and agents): queued calls/s
distributed end to end, BroadWorks and CSTA events/s, and the connector's CPU
µs per BroadWorks event (this process's CPU time, the connector's and a
client's that only counts frames, divided by the events).

Then, in process, the failover: one call waits in each of the 100 queues (the agents
made Unavailable), the Application Server is killed (ungraceful), and one
SnapshotDevice per queue is sent at once: the time until all 100 answered,
each answer's latency, and the 100 stuck queued calls cleared (LMS 37205).
"""

from __future__ import annotations

import gc
import time

from benchmarks import _harness as h

NAME = "contact_centre"
FIRST_QUEUE = 5001
ACD_EVENT_PREFIX = "ACD"


def params(quick: bool) -> dict:
    return {
        "queues": 100,
        "agents_per_queue": 10,
        "calls": 1000 if quick else 5000,
        "warmup_calls": 200 if quick else 500,
        "backlog": 3000,
        "batch": 20,
        "separate_calls": 1000 if quick else 5000,
    }


def run(reactor, quick=False, overrides=None):
    return h.measure_and_tabulate(reactor, params(quick), overrides, measure_both, rows_of)


def measure_both(reactor, separate_calls, **p):
    """The separate-process distribution, then the in-process measurements."""
    from twisted.internet import defer

    @defer.inlineCallbacks
    def main():
        separate = yield measure_separate(
            reactor, p["queues"], p["agents_per_queue"], separate_calls, p["warmup_calls"], p["backlog"])
        result = yield measure(reactor, **p)
        result["separate"] = separate
        return result

    return main()


def rows_of(r):
    d, s, x = r["distribution"], r["snapshot"], r["separate"]
    queues, agents = r["queues"], r["queues"] * r["agents_per_queue"]
    return [
        h.Row(NAME, "MonitorStart of %d queues + %s agents (1 client)" % (queues, format(agents, ",")),
              r["monitor_s"], "s"),
        h.Row(NAME, "simulator in its own process: queued calls distributed", x["calls_per_s"], "calls/s",
              target=">= 1,000 calls/s", ok=x["calls_per_s"] >= 1000),
        h.Row(NAME, "  BroadWorks events/s end to end", x["bw_events_per_s"], "ev/s"),
        h.Row(NAME, "  CSTA events/s delivered", x["csta_events_per_s"], "ev/s"),
        h.Row(NAME, "  connector CPU µs per BroadWorks event", x["connector_us_per_bw_event"], "µs"),
        h.Row(NAME, "simulator in process (one core): queued calls distributed", d["calls_per_s"], "calls/s"),
        h.Row(NAME, "  BroadWorks events/s end to end", d["bw_events_per_s"], "ev/s"),
        h.Row(NAME, "  CSTA events/s delivered", d["csta_events_per_s"], "ev/s"),
        h.Row(NAME, "  BroadWorks / CSTA events per queued call", "%.1f / %.1f" % (
            d["bw_events_per_call"], d["csta_events_per_call"])),
        h.Row(NAME, "  connector µs per BroadWorks event (minus simulator, client)",
              d["connector_us_per_bw_event"], "µs"),
        h.Row(NAME, "  connector µs per ACD event (decode + contact centre path)", d["us_per_acd_event"], "µs"),
        h.Row(NAME, "    of which decoding (%.0f%% in one pass)" % d["decode_one_pass_percent"],
              d["decode_us_per_acd_event"], "µs"),
        h.Row(NAME, "    of which route, model, translation, fan-out", d["path_us_per_acd_event"], "µs"),
        h.Row(NAME, "snapshot of %d queues after a failover: all answered in" % s["queues"], s["elapsed_ms"], "ms"),
        h.Row(NAME, "  each snapshot's latency", s["latency_ms"]["median"], "ms", p99=s["latency_ms"]["p99"]),
        h.Row(NAME, "  stuck queued calls cleared / calls waiting", "%d / %d" % (s["cleared"], s["waiting"])),
        h.Row(NAME, "  errors", s["errors"]),
    ]


def provisioning(queues, agents_per_queue):
    return tuple(
        (str(FIRST_QUEUE + q), tuple(str(h.FIRST_EXTENSION + q * agents_per_queue + a)
                                     for a in range(agents_per_queue)))
        for q in range(queues)
    )


def measure(reactor, queues, agents_per_queue, calls, warmup_calls, backlog, batch):
    import dataclasses

    from twisted.internet import defer

    from csta_connector.connector import ConnectorService

    agents = queues * agents_per_queue
    callers = [h.user_id(h.FIRST_EXTENSION + agents + i) for i in range(queues)]

    @defer.inlineCallbacks
    def main():
        config = h.embedded_config(agents + len(callers))
        config = dataclasses.replace(config, simulator=dataclasses.replace(
            config.simulator, call_centers=provisioning(queues, agents_per_queue), route_points=(),
            initial_agent_state="Available", wrap_up_seconds=0.0, offer_seconds=0.0, queue_length=525))
        service = ConnectorService(config, reactor, h.log_detail())
        service.startService()
        yield service.started
        yield service.channel_set.when_ready()
        try:
            core = service.core
            (client,) = yield h.connect_clients(reactor, service.csta_port, 1, "xml", timeout=120)
            devices = [str(FIRST_QUEUE + q) for q in range(queues)] + [
                str(h.FIRST_EXTENSION + a) for a in range(agents)]
            t0 = time.perf_counter()
            yield h.monitor_devices(client, devices, window=100)
            yield h.wait_until(reactor, lambda: len(core.contact_centre.agent_model) == agents, 120,
                               "every agent's subscription event")
            monitor_s = time.perf_counter() - t0

            # warm-up with the decoding client; the ACD documents for the decode figure
            documents = []
            for link in service.channel_set.up_links:
                link.trace = lambda direction, data: (
                    documents.append(data) if direction == "in" and b"xsi:ACD" in data else None)
            yield drive(reactor, service.simulator, callers, queues, warmup_calls, backlog, batch)
            yield settle(reactor, service.simulator, core)
            for link in service.channel_set.up_links:
                link.trace = None
            client.events.items.clear()
            decode, one_pass = measure_decode(documents)

            counter = h.FrameCounter(client)
            sim = h.Stopwatch()
            for connection in service.simulator.xsp.connections:
                connection.dataReceived = sim.wrap(connection.dataReceived)
            client_watch = h.Stopwatch()
            counter.protocol.dataReceived = client_watch.wrap(counter.protocol.dataReceived)
            path = h.Stopwatch()
            contact_centre = core.contact_centre
            original_event = contact_centre.broadworks_event
            contact_centre.broadworks_event = path.wrap(original_event)
            acd_in = lambda: sum(n for t, n in core.counts.received.items() if t.startswith(ACD_EVENT_PREFIX))
            in_before, out_before, acd_before = core.counts.events_in, core.counts.events_out, acd_in()
            gc.collect()
            t0 = time.perf_counter()
            generated_calls = yield drive(reactor, service.simulator, callers, queues, calls, backlog, batch, sim)
            yield settle(reactor, service.simulator, core, counter, out_before)
            elapsed = counter.last - t0
            contact_centre.broadworks_event = original_event
            counter.restore()
            bw = core.counts.events_in - in_before
            sent = core.counts.events_out - out_before
            acd = acd_in() - acd_before
            connector_time = max(1e-9, elapsed - sim.total - client_watch.total)
            path_us = path.total / max(1, path.calls) * 1e6
            distribution = {
                "calls": generated_calls,
                "elapsed_s": elapsed,
                "calls_per_s": generated_calls / elapsed,
                "bw_events": bw,
                "acd_events": acd,
                "contact_centre_events": path.calls,
                "csta_events": sent,
                "bw_events_per_s": bw / elapsed,
                "csta_events_per_s": counter.frames / elapsed,
                "bw_events_per_call": bw / generated_calls,
                "csta_events_per_call": sent / generated_calls,
                "connector_us_per_bw_event": connector_time / bw * 1e6,
                "simulator_us_per_bw_event": sim.total / bw * 1e6,
                "decode_us_per_acd_event": decode,
                "decode_one_pass_percent": one_pass,
                "path_us_per_acd_event": path_us,
                "us_per_acd_event": decode + path_us,
            }
            snapshot = yield snapshot_after_failover(reactor, service, client, queues, agents_per_queue, callers)
            client.transport.loseConnection()
            return {"queues": queues, "agents_per_queue": agents_per_queue, "monitor_s": monitor_s,
                    "distribution": distribution, "snapshot": snapshot}
        finally:
            yield service.stopService()

    return main()


def drive(reactor, simulator, callers, queues, calls, backlog, batch, watch=None):
    """``calls`` queued calls, caller k -> queue k (round robin), each answered
    by the agent it was offered to and released by the caller; a batch waits
    while more than ``backlog`` events are unacknowledged by the connector.
    Fires with the number of calls."""
    from twisted.internet import defer, task

    engine = simulator.engine
    centers = engine.call_centers.centers

    @defer.inlineCallbacks
    def main():
        done = 0
        clock = time.perf_counter
        while done < calls:
            if simulator.xsp.unacknowledged > backlog:
                yield task.deferLater(reactor, 0, lambda: None)
                continue
            start = clock()
            for _ in range(min(batch, calls - done)):
                distribute_one(engine, centers, callers, done % queues)
                done += 1
            if watch is not None:
                watch.total += clock() - start
            yield task.deferLater(reactor, 0, lambda: None)
        return done

    return main()


def distribute_one(engine, centers, callers, q):
    """Caller ``q`` dials queue ``q``; the agent it is offered to answers; the caller releases."""
    call = engine.dial(callers[q], str(FIRST_QUEUE + q))
    record = next(r for r in centers[q].calls if r.ext_tracking_id == call.ext_tracking_id)
    engine.answer(record.offer.user.user_id)
    engine.release(callers[q])


def settle(reactor, simulator, core, counter=None, out_before=0, timeout=120):
    """Until the connector has acknowledged every event the simulator sent
    (``simulator``: None when it is in another process), nothing moves any
    more, and the client has every frame written to it."""
    from twisted.internet import defer, task

    @defer.inlineCallbacks
    def main():
        deadline = time.perf_counter() + timeout
        quiet, last = 0, None
        while quiet < 5:
            state = (core.counts.events_in, core.counts.events_out)
            frames_in = counter is None or counter.frames >= core.counts.events_out - out_before
            acknowledged = simulator is None or simulator.xsp.unacknowledged == 0
            settled = acknowledged and frames_in and state == last
            quiet = quiet + 1 if settled else 0
            last = state
            if time.perf_counter() > deadline:
                raise RuntimeError("the contact centre run did not settle")
            yield task.deferLater(reactor, 0.01, lambda: None)

    return main()


def measure_decode(documents, repeat=5):
    """µs to decode one ACD event document with the link's reader (best of
    runs), and the share (%) of the documents the one-pass reader read."""
    from csta_connector.broadworks.link import DocumentReader, Reader

    if not documents:
        return 0.0, 0.0
    best = float("inf")
    for _ in range(repeat):
        reader = DocumentReader()
        t0 = time.perf_counter()
        for document in documents:
            reader.decode(document).xsi_event()
        best = min(best, time.perf_counter() - t0)
    return best / len(documents) * 1e6, 100.0 * reader.by_reader[Reader.ONE_PASS] / len(documents)


def measure_separate(reactor, queues, agents_per_queue, calls, warmup_calls, backlog):
    """The distribution with the simulator in a child process (``_simulator_process``
    with call centers, its ``acd`` command) and a production-configured connector."""
    import json

    from twisted.internet import defer, threads

    from benchmarks.event_path_separate import connector_config, start_simulator, stop_simulator
    from csta_connector.connector import ConnectorService

    agents = queues * agents_per_queue
    last_queue, last_agent = FIRST_QUEUE + queues - 1, h.FIRST_EXTENSION + agents - 1
    contact_centre = "[contact-centre]\nacd-queues = %d-%d\nagents = %d-%d\n" % (
        FIRST_QUEUE, last_queue, h.FIRST_EXTENSION, last_agent)

    @defer.inlineCallbacks
    def main():
        simulator = start_simulator(agents + queues, queues, agents_per_queue)
        service = None
        try:
            ports = json.loads((yield threads.deferToThread(simulator.stdout.readline)))
            service = ConnectorService(connector_config(ports["cti"], extra=contact_centre), reactor,
                                       h.log_detail())
            service.startService()
            yield service.started
            yield service.channel_set.when_ready()
            core = service.core
            (client,) = yield h.connect_clients(reactor, service.csta_port, 1, "xml", timeout=120)
            devices = [str(FIRST_QUEUE + q) for q in range(queues)] + [
                str(h.FIRST_EXTENSION + a) for a in range(agents)]
            yield h.monitor_devices(client, devices, window=100)
            yield h.wait_until(reactor, lambda: len(core.contact_centre.agent_model) == agents, 120,
                               "every agent's subscription event")

            @defer.inlineCallbacks
            def acd(n):
                simulator.stdin.write("acd %d %d\n" % (n, backlog))
                simulator.stdin.flush()
                answer = (yield threads.deferToThread(simulator.stdout.readline)).strip()
                if answer != "done":
                    raise RuntimeError("the simulator process: %r" % (answer,))

            counter = h.FrameCounter(client)
            out_before = core.counts.events_out
            yield acd(warmup_calls)
            yield settle(reactor, None, core, counter, out_before)
            counter.frames, counter.first, counter.last = 0, None, None
            in_before, out_before = core.counts.events_in, core.counts.events_out
            gc.collect()
            cpu = time.process_time()
            t0 = time.perf_counter()
            yield acd(calls)
            yield settle(reactor, None, core, counter, out_before)
            cpu = time.process_time() - cpu
            elapsed = counter.last - t0
            counter.restore()
            client.transport.loseConnection()
            bw = core.counts.events_in - in_before
            return {
                "calls": calls,
                "elapsed_s": elapsed,
                "calls_per_s": calls / elapsed,
                "bw_events": bw,
                "csta_events": counter.frames,
                "bw_events_per_s": bw / elapsed,
                "csta_events_per_s": counter.frames / elapsed,
                "connector_us_per_bw_event": 1e6 * cpu / max(1, bw),
            }
        finally:
            yield stop_simulator(simulator, service)

    return main()


def snapshot_after_failover(reactor, service, client, queues, agents_per_queue, callers):
    """One call waiting per queue, an ungraceful failover, one SnapshotDevice
    per queue at once."""
    from twisted.internet import defer

    from csta_connector.csta import messages as m

    engine = service.simulator.engine
    contact_centre = service.core.contact_centre

    @defer.inlineCallbacks
    def main():
        for a in range(queues * agents_per_queue):
            engine.call_centers.set_agent_state(h.user_id(h.FIRST_EXTENSION + a), "Unavailable")
        for q in range(queues):
            engine.dial(callers[q], str(FIRST_QUEUE + q))
        yield h.wait_until(reactor, lambda: len(contact_centre.queue_model) == queues, 60, "a call per queue")
        waiting = len(contact_centre.queue_model)
        cleared_before = contact_centre.stats["parties_cleared"]
        engine.failover("ungraceful")
        latencies = []
        errors = []
        clock = time.perf_counter
        t0 = clock()

        def one(device):
            started = clock()
            d = client.request(m.SnapshotDevice(device=device))
            d.addCallbacks(lambda _: latencies.append(clock() - started),
                           lambda f: errors.append(f.getErrorMessage()))
            return d

        yield defer.DeferredList([one(str(FIRST_QUEUE + q)) for q in range(queues)])
        elapsed = clock() - t0
        return {
            "queues": queues,
            "waiting": waiting,
            "cleared": contact_centre.stats["parties_cleared"] - cleared_before,
            "errors": len(errors),
            "error_examples": sorted(set(errors))[:3],
            "elapsed_ms": elapsed * 1000,
            "latency_ms": h.summary([x * 1000 for x in latencies]),
        }

    return main()
