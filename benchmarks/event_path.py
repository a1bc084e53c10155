"""Benchmark 1: event path throughput (issue 8, SPEC §9).

BroadWorks events through link -> channel set -> subscriptions -> model ->
translation -> fan-out -> encoding -> N CSTA clients over loopback TCP, for
N = 1 and 10 and both encodings.

Load: the simulator's :class:`CallEngine` is driven in-process (dial, answer,
release of distinct caller/callee pairs: 10 BroadWorks events per call, 7
CSTA events per monitoring client), closed loop: a new batch of calls is
generated only while fewer than ``backlog`` events are still on their way to
the connector, so the reactor is always busy and never flooded. The clients
monitor every device and only count the frames they receive (no decoding:
the test client's XML parser is not the connector's cost).

Time accounting (everything runs in ONE process on one core: simulator,
connector, clients): the simulator's own work (engine actions, event
documents built and written, acknowledgements read) and the clients' frame
counting are timed separately, so the connector's share can be told apart.

Each configuration is measured in 3 runs; the median run (by events/s) is
reported, all runs are in the JSON.

The floor: the same BroadWorks event documents only parsed by lxml
(``etree.fromstring``) plus the same CSTA events only encoded by the pure
codec (XML or BER, framed), no Twisted, no model. ``ratio`` = the
connector's µs per BroadWorks event / the floor's µs per BroadWorks event.
"""

from __future__ import annotations

import dataclasses
import gc
import time

from benchmarks import _harness as h

NAME = "event_path"
BW_EVENTS_PER_CALL = 10  # HookStatus x4, Originated, Received, Answered x2, Released x2


def params(quick: bool) -> dict:
    return {
        "pairs": 50,  # 100 monitored devices
        "calls": 500 if quick else 2000,  # per run; 3 runs, the median is reported
        "repeats": 3,
        "warmup_calls": 100 if quick else 300,
        "backlog": 3000,
        "batch": 20,
        "configs": [("xml", 1), ("ber", 1), ("xml", 10), ("ber", 10)] if not quick
        else [("xml", 1), ("ber", 1), ("xml", 10), ("ber", 10)],
        "quick_calls_10": 150 if quick else 500,
    }


def run(reactor, quick=False, overrides=None):
    """A Deferred firing with {"rows": [...], "raw": {...}}."""
    from twisted.internet import defer

    p = params(quick)
    p.update(overrides or {})

    @defer.inlineCallbacks
    def main():
        raw = {}
        rows = []
        for encoding, clients in p["configs"]:
            calls = p["calls"] if clients == 1 else p["quick_calls_10"]
            result = yield one_config(reactor, encoding, clients, p["pairs"], calls,
                                      p["warmup_calls"], p["backlog"], p["batch"], p["repeats"])
            raw["%s_x%d" % (encoding, clients)] = result
            rows.extend(rows_of(encoding, clients, result))
        return {"rows": [r.as_dict() for r in rows], "raw": raw}

    return main()


def rows_of(encoding, clients, r):
    label = "%s, %d client%s" % (encoding.upper(), clients, "s" if clients > 1 else "")
    target = encoding == "xml" and clients == 1
    rows = [
        # the end-to-end target is judged with the simulator in its own
        # process (event_path_separate): here it shares the connector's core
        h.Row(NAME, "%s, simulator in process: BroadWorks events/s end to end" % label,
              r["bw_events_per_s"], "ev/s"),
        h.Row(NAME, "%s: CSTA events/s delivered" % label, r["csta_events_per_s"], "ev/s"),
        h.Row(NAME, "%s: wall µs per BroadWorks event" % label, r["us_per_bw_event"], "µs"),
        h.Row(NAME, "%s: connector µs per event (minus simulator, clients)" % label,
              r["connector_us_per_bw_event"], "µs"),
        h.Row(NAME, "%s: in-process simulator µs per event" % label, r["simulator_us_per_bw_event"], "µs"),
        h.Row(NAME, "%s: floor µs per event (lxml parse + encode)" % label, r["floor_us_per_bw_event"], "µs"),
        h.Row(NAME, "%s: connector cost / floor" % label, r["ratio_connector"], "x",
              target="<= 3x" if target else "", ok=(r["ratio_connector"] <= 3.0) if target else None),
        h.Row(NAME, "%s: connector-only events/s (estimate)" % label, r["connector_only_events_per_s"], "ev/s"),
    ]
    return rows


def one_config(reactor, encoding, n_clients, pairs, calls, warmup_calls, backlog, batch, repeats=3):
    from twisted.internet import defer

    @defer.inlineCallbacks
    def main():
        users = 2 * pairs
        service = yield h.start_world(reactor, users)
        try:
            engine = service.simulator.engine
            core = service.core
            clients = yield h.connect_clients(reactor, service.csta_port, n_clients, encoding)
            devices = [str(h.FIRST_EXTENSION + i) for i in range(users)]
            for client in clients:
                yield h.monitor_devices(client, devices)
            pair_list = [
                (h.user_id(h.FIRST_EXTENSION + 2 * i), str(h.FIRST_EXTENSION + 2 * i + 1),
                 h.user_id(h.FIRST_EXTENSION + 2 * i + 1))
                for i in range(pairs)
            ]

            # -- warm-up with real decoding clients; capture the floor's inputs
            documents = []
            links = service.channel_set.up_links
            for link in links:
                link.trace = lambda direction, data: documents.append(data) if direction == "in" else None
            # the CSTA events each client got (fan-out encodes once per wire:
            # capture at the fan-out, one message per monitor reached)
            messages = []
            registry = service.core.monitors
            deliver = registry.deliver

            def capture(device, events, exclude=()):
                for monitor in registry.of_device(device):
                    if monitor.session not in exclude:
                        messages.extend(
                            dataclasses.replace(e, cross_ref_id=monitor.cross_ref_id) for e in events
                        )
                return deliver(device, events, exclude)

            registry.deliver = capture
            expected_csta = 7 * warmup_calls * n_clients
            received_before = sum(len(c.events.items) for c in clients)
            yield drive(reactor, engine, core, pair_list, warmup_calls, backlog, batch)
            yield h.wait_until(
                reactor, lambda: sum(len(c.events.items) for c in clients) - received_before >= expected_csta,
                60, "warm-up events")
            for link in links:
                link.trace = None
            del registry.deliver
            events = [d for d in documents if b"<xsp:event" in d[:200] or b":event " in d[:200]]
            floor = measure_floor(events, messages, encoding, service.csta_factory.settings)
            for client in clients:
                client.events.items.clear()

            # -- the measurement, repeated: the median run is reported
            counters = [h.FrameCounter(c) for c in clients]
            sim = h.Stopwatch()
            for connection in service.simulator.xsp.connections:
                connection.dataReceived = sim.wrap(connection.dataReceived)
            client_watch = h.Stopwatch()
            for counter in counters:
                counter.protocol.dataReceived = client_watch.wrap(counter.protocol.dataReceived)
            runs = []
            for _ in range(repeats):
                run = yield measure_once(reactor, engine, core, pair_list, calls, backlog, batch,
                                         counters, sim, client_watch, floor)
                runs.append(run)
            runs.sort(key=lambda r: r["bw_events_per_s"])
            result = dict(runs[len(runs) // 2])
            result.update(encoding=encoding, clients=n_clients, repeats=repeats,
                          runs_bw_events_per_s=[r["bw_events_per_s"] for r in runs])
            for counter in counters:
                counter.restore()
            for client in clients:
                client.transport.loseConnection()
            return result
        finally:
            yield service.stopService()

    return main()


def measure_once(reactor, engine, core, pair_list, calls, backlog, batch, counters, sim, client_watch, floor):
    """One timed run of ``calls`` calls; fires with its figures."""
    from twisted.internet import defer, task

    @defer.inlineCallbacks
    def main():
        sim.reset()
        client_watch.reset()
        for counter in counters:
            counter.frames = 0
            counter.first = counter.last = None
        in_before = core.counts.events_in
        out_before = core.counts.events_out
        gc.collect()
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        generated = yield drive(reactor, engine, core, pair_list, calls, backlog, batch, sim)
        deadline = time.perf_counter() + 120
        while True:
            bw = core.counts.events_in - in_before
            sent = core.counts.events_out - out_before
            got = sum(c.frames for c in counters)
            if bw >= generated and got >= sent:
                break
            if time.perf_counter() > deadline:
                raise RuntimeError("event path stalled: %d/%d BW events, %d/%d CSTA frames"
                                   % (bw, generated, got, sent))
            yield task.deferLater(reactor, 0.002, lambda: None)
        t1 = max(c.last for c in counters)
        cpu1 = time.process_time()
        elapsed = t1 - t0
        connector_time = max(1e-9, elapsed - sim.total - client_watch.total)
        yield task.deferLater(reactor, 0.05, lambda: None)
        return {
            "calls": calls,
            "bw_events": bw,
            "csta_events_sent": sent,
            "csta_frames_received": got,
            "elapsed_s": elapsed,
            "cpu_s": cpu1 - cpu0,
            "simulator_s": sim.total,
            "clients_s": client_watch.total,
            "bw_events_per_s": bw / elapsed,
            "csta_events_per_s": got / elapsed,
            "us_per_bw_event": elapsed / bw * 1e6,
            "connector_us_per_bw_event": connector_time / bw * 1e6,
            "simulator_us_per_bw_event": sim.total / bw * 1e6,
            "clients_us_per_bw_event": client_watch.total / bw * 1e6,
            "connector_only_events_per_s": bw / connector_time,
            "floor_us_per_bw_event": floor["us_per_bw_event"],
            "floor": floor,
            "ratio_end_to_end": (elapsed / bw * 1e6) / floor["us_per_bw_event"],
            "ratio_connector": (connector_time / bw * 1e6) / floor["us_per_bw_event"],
        }

    return main()


def drive(reactor, engine, core, pairs, calls, backlog, batch, watch=None):
    """Place, answer and release ``calls`` calls, round robin over ``pairs``,
    keeping at most ``backlog`` BroadWorks events ahead of the connector.
    Fires with the number of BroadWorks events generated."""
    from twisted.internet import defer, task

    @defer.inlineCallbacks
    def main():
        generated = 0
        base = core.counts.events_in
        done = 0
        index = 0
        clock = time.perf_counter
        while done < calls:
            if generated - (core.counts.events_in - base) > backlog:
                yield task.deferLater(reactor, 0, lambda: None)
                continue
            start = clock()
            n = min(batch, calls - done)
            for _ in range(n):
                caller, callee, callee_id = pairs[index]
                index = (index + 1) % len(pairs)
                engine.dial(caller, callee)
                engine.answer(callee_id)
                engine.release(caller)
            if watch is not None:
                watch.total += clock() - start
            done += n
            generated += BW_EVENTS_PER_CALL * n
            yield task.deferLater(reactor, 0, lambda: None)
        return generated

    return main()


def measure_floor(documents, messages, encoding, settings, repeat=5):
    """µs per BroadWorks event of: lxml parsing the event documents, plus
    encoding (codec + framing) the CSTA events they caused."""
    from lxml import etree

    from csta_connector.csta import wire as w
    from csta_connector.csta.server import namespace_of

    if encoding == "xml":
        wire = w.XmlWire(namespace_of(settings.xml_namespace))
    else:
        wire = w.BerWire(settings.ber_framing)
    best_parse = best_encode = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for doc in documents:
            etree.fromstring(doc)
        t1 = time.perf_counter()
        for message in messages:
            wire.event(message)
        t2 = time.perf_counter()
        best_parse = min(best_parse, t1 - t0)
        best_encode = min(best_encode, t2 - t1)
    n = max(1, len(documents))
    return {
        "documents": len(documents),
        "csta_events": len(messages),
        "parse_us_per_bw_event": best_parse / n * 1e6,
        "encode_us_per_bw_event": best_encode / n * 1e6,
        "us_per_bw_event": (best_parse + best_encode) / n * 1e6,
    }
