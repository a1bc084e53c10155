"""Benchmark 1b: event path throughput with the simulator in a process of its own.

BroadWorks is never in the connector's process: here the simulator runs as
a child process (``_simulator_process``) on the other core, as a real XSP
would be elsewhere, and the connector is configured like production (a
``[link-NAME]`` to that XSP, no embedded simulator). One CSTA client (XML or
BER) monitors every device and only counts frames. The simulator places,
answers and releases N calls as fast as it can (open loop); the throughput is
the BroadWorks events the connector turned into CSTA events, from the first
CSTA frame to the last.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from benchmarks import _harness as h
from benchmarks.event_path import BW_EVENTS_PER_CALL

NAME = "event_path"
CSTA_EVENTS_PER_CALL = 7  # Originated, Established x2, Delivered, ConnectionCleared x2, CallCleared
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def params(quick: bool) -> dict:
    return {"pairs": 50, "calls": 500 if quick else 2000, "warmup_calls": 100,
            "repeats": 3, "encodings": ("xml", "ber")}


def run(reactor, quick=False, overrides=None):
    from twisted.internet import defer

    p = params(quick)
    p.update(overrides or {})

    @defer.inlineCallbacks
    def main():
        rows, raw = [], {}
        for encoding in p["encodings"]:
            result = yield measure(reactor, encoding, p["pairs"], p["calls"], p["warmup_calls"], p["repeats"])
            raw[encoding] = result
            target = encoding == "xml"
            rows.append(h.Row(
                NAME, "%s, 1 client, simulator in its own process: BroadWorks events/s end to end"
                % encoding.upper(), result["bw_events_per_s"], "ev/s",
                target=">= 15,000" if target else "",
                ok=(result["bw_events_per_s"] >= 15000) if target else None))
        return {"rows": [r.as_dict() for r in rows], "raw": raw}

    return main()


def connector_config(cti_port: int, protocol: str = "cti", xsi_port: int | None = None, extra: str = ""):
    """A production-like config: one ``[link-sim]`` to the simulator's CTI
    front-end, or (``protocol = "xsi"``) to its Xsi front-end; ``extra``:
    more sections (e.g. ``[contact-centre]``)."""
    from csta_connector.config import parse_config

    if protocol == "xsi":
        link = ("[link-sim]\nprotocol = xsi\nurl = http://127.0.0.1:%d\n"
                "username = bench@example.com\npassword = bench\n" % xsi_port)
    else:
        link = "[link-sim]\nhostname = 127.0.0.1\nport = %d\n" % cti_port
    return parse_config(
        "[Connector]\nchannel-set-name = bench\nlink-recovery-tout = 0.2\n"
        + link + "[csta]\nport = 0\ndetect-timeout = 0.3\n" + extra,
        "<benchmark>",
    )


def measure(reactor, encoding, pairs, calls, warmup_calls, repeats, protocol="cti"):
    """The median run (by events/s) of ``repeats``: events/s end to end, and
    ``connector_us_per_event``, the CPU this process (the connector, and a
    client that only counts frames) spent per BroadWorks event."""
    from twisted.internet import defer, task, threads

    from csta_connector.connector import ConnectorService
    from csta_connector.csta import messages as m

    @defer.inlineCallbacks
    def main():
        simulator = start_simulator(2 * pairs)
        service = None
        try:
            ports = json.loads((yield threads.deferToThread(simulator.stdout.readline)))
            service = ConnectorService(connector_config(ports["cti"], protocol, ports.get("xsi")),
                                       reactor, h.log_detail())
            service.startService()
            yield service.started
            yield service.channel_set.when_ready()
            (client,) = yield h.connect_clients(reactor, service.csta_port, 1, encoding)
            for i in range(2 * pairs):
                yield client.request(m.MonitorStart(device=str(h.FIRST_EXTENSION + i)))

            def load(n):
                simulator.stdin.write("load %d %d\n" % (pairs, n))
                simulator.stdin.flush()
                return threads.deferToThread(simulator.stdout.readline)

            counter = h.FrameCounter(client)
            yield load(warmup_calls)
            yield h.wait_until(reactor, lambda: counter.frames >= CSTA_EVENTS_PER_CALL * warmup_calls,
                               60, "warm-up events")
            runs = []
            for _ in range(repeats):
                yield task.deferLater(reactor, 0.3, lambda: None)
                counter.frames, counter.first, counter.last = 0, None, None
                cpu = time.process_time()
                yield load(calls)
                yield h.wait_until(reactor, lambda: counter.frames >= CSTA_EVENTS_PER_CALL * calls,
                                   120, "events")
                cpu = time.process_time() - cpu
                elapsed = counter.last - counter.first
                runs.append({"calls": calls, "seconds": elapsed,
                             "bw_events_per_s": BW_EVENTS_PER_CALL * calls / elapsed,
                             "csta_events_per_s": counter.frames / elapsed,
                             "connector_us_per_event": 1e6 * cpu / (BW_EVENTS_PER_CALL * calls)})
            counter.restore()
            client.transport.loseConnection()
            runs.sort(key=lambda r: r["bw_events_per_s"])
            median = runs[len(runs) // 2]
            return dict(median, runs=runs)
        finally:
            yield stop_simulator(simulator, service)

    return main()


def start_simulator(*argv):
    """The child process ``_simulator_process`` with ``argv`` (its users, and
    call centers); it prints its ports on its first line."""
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return subprocess.Popen(
        [sys.executable, "-m", "benchmarks._simulator_process", *map(str, argv)],
        cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
    )


def stop_simulator(simulator, service=None):
    """Stop the connector ``service`` (if started), then the child; a Deferred."""
    from twisted.internet import defer, threads

    @defer.inlineCallbacks
    def main():
        if service is not None:
            yield service.stopService()
        simulator.stdin.write("quit\n")
        simulator.stdin.flush()
        yield threads.deferToThread(simulator.wait, 10)

    return main()
