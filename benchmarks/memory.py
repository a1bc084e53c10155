"""Benchmark 4: memory per monitored device and per live call (issue 8).

10,000 monitored devices (10 XML clients x 1,000), then 5,000 answered calls
between them. Tracing is slow, so only the last 1,000 monitors and the last
500 calls are traced: the increments at full scale. Python allocations are traced with :mod:`tracemalloc` (12
frames) from just before the monitors start, and every live block is
attributed by its call stack: the first frame, from the innermost outwards,
that belongs to a component decides - the simulator (``simulator/``), the
test clients and this harness (``csta/client.py``, ``testing.py``,
``benchmarks/``), or the connector (link, channel set, services, model, CSTA
server, ...). Shared pure modules (codecs, xsi, xsp) thus count for whoever
called them. Blocks with no component frame (Twisted's own buffers) are
reported as unattributed. Memory is measured after a full garbage
collection, with the event pipeline idle.
"""

from __future__ import annotations

import gc
import tracemalloc

from benchmarks import _harness as h

NAME = "memory"
FRAMES = 12  # enough to reach a component frame; more slows tracing a lot

_SIMULATOR = ("/csta_connector/simulator/",)
_CLIENTS = ("/csta_connector/csta/client.py", "/csta_connector/testing.py", "/benchmarks/")
_CONNECTOR = ("/csta_connector/",)


def params(quick: bool) -> dict:
    if quick:
        return {"devices": 2000, "clients": 10, "traced": 400}
    return {"devices": 10000, "clients": 10, "traced": 1000}


def owner_of(frames) -> str:
    """simulator | clients | connector | other, for a traceback (innermost
    frame first), by the first frame that belongs to a component."""
    for filename in frames:
        filename = filename.replace("\\", "/")
        if any(part in filename for part in _SIMULATOR):
            return "simulator"
        if any(part in filename for part in _CLIENTS):
            return "clients"
    for filename in frames:
        if any(part in filename.replace("\\", "/") for part in _CONNECTOR):
            return "connector"
    return "other"


def attribute(snapshot) -> dict:
    """Live bytes by owner; tracemalloc tracebacks list the oldest frame first."""
    totals = {"simulator": 0, "clients": 0, "connector": 0, "other": 0}
    for stat in snapshot.statistics("traceback"):
        frames = [frame.filename for frame in reversed(stat.traceback)]
        totals[owner_of(frames)] += stat.size
    return totals


def run(reactor, quick=False, overrides=None):
    return h.measure_and_tabulate(reactor, params(quick), overrides, measure, rows_of)


def rows_of(r):
    return [
        h.Row(NAME, "connector per monitored device (%s devices)" % format(r["devices"], ","),
              r["connector_per_device_b"], "B", target="<= 4,096 B",
              ok=r["connector_per_device_b"] <= 4096),
        h.Row(NAME, "connector per live call (%s calls, 2 parties each)" % format(r["calls"], ","),
              r["connector_per_call_b"], "B", target="<= 8,192 B", ok=r["connector_per_call_b"] <= 8192),
        h.Row(NAME, "in-process simulator per user subscribed / per call",
              "%.0f / %.0f" % (r["simulator_per_device_b"], r["simulator_per_call_b"]), "B"),
        h.Row(NAME, "unattributed (Twisted buffers...) per device / per call",
              "%.0f / %.0f" % (r["other_per_device_b"], r["other_per_call_b"]), "B"),
    ]


def measure(reactor, devices, clients, traced):
    """Monitor ``devices`` devices and place devices/2 calls; tracemalloc traces
    only the last ``traced`` monitors and the last ``traced``/2 calls (tracing
    is slow), so the figures are the increments at full scale."""
    from twisted.internet import defer, task

    @defer.inlineCallbacks
    def settle():
        for _ in range(20):
            yield task.deferLater(reactor, 0.01, lambda: None)
        gc.collect()

    def monitor(protocols, names, share, lo, hi):
        jobs = []
        for i, c in enumerate(protocols):
            mine = [n for n in names[i * share:(i + 1) * share]]
            mine = mine[int(len(mine) * lo):int(len(mine) * hi)]
            jobs.append(h.monitor_devices(c, mine, window=20))
        return defer.gatherResults(jobs, consumeErrors=True)

    @defer.inlineCallbacks
    def main():
        service = yield h.start_world(reactor, devices)
        try:
            core = service.core
            protocols = yield h.connect_clients(reactor, service.csta_port, clients, "xml", timeout=120)
            names = [str(h.FIRST_EXTENSION + i) for i in range(devices)]
            share = (devices + clients - 1) // clients
            untraced = 1 - traced / devices
            yield monitor(protocols, names, share, 0, untraced)
            calls = devices // 2
            traced_calls = traced // 2
            yield settle()
            tracemalloc.start(FRAMES)
            yield monitor(protocols, names, share, untraced, 1)
            yield settle()
            monitored = attribute(tracemalloc.take_snapshot())
            tracemalloc.stop()
            counters = [h.FrameCounter(c) for c in protocols]
            yield h.place_answered_calls(reactor, service.simulator, calls - traced_calls)
            yield h.wait_until(reactor, lambda: len(core.model) >= 2 * (calls - traced_calls)
                               and sum(c.frames for c in counters) >= core.counts.events_out, 120,
                               "calls in the model")
            yield settle()
            tracemalloc.start(FRAMES)
            yield h.place_answered_calls(reactor, service.simulator, traced_calls, first=calls - traced_calls)
            yield h.wait_until(reactor, lambda: len(core.model) >= 2 * calls
                               and sum(c.frames for c in counters) >= core.counts.events_out, 120,
                               "calls in the model")
            yield settle()
            with_calls = attribute(tracemalloc.take_snapshot())
            tracemalloc.stop()
            for c in counters:
                c.restore()
            for client in protocols:
                client.transport.loseConnection()
            traced_devices = traced

            def per(snap, key, n):
                return snap[key] / n

            return {
                "devices": devices,
                "calls": calls,
                "traced_devices": traced_devices,
                "traced_calls": traced_calls,
                "monitored": monitored,
                "with_calls": with_calls,
                "connector_per_device_b": per(monitored, "connector", traced_devices),
                "connector_per_call_b": per(with_calls, "connector", traced_calls),
                "simulator_per_device_b": per(monitored, "simulator", traced_devices),
                "simulator_per_call_b": per(with_calls, "simulator", traced_calls),
                "other_per_device_b": per(monitored, "other", traced_devices),
                "other_per_call_b": per(with_calls, "other", traced_calls),
                "model": {"parties": len(core.model), "calls": len(core.model.calls())},
            }
        finally:
            if tracemalloc.is_tracing():
                tracemalloc.stop()
            yield service.stopService()

    return main()
