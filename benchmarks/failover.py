"""Benchmark 3: ungraceful AS failover resync at scale (issue 8, SPEC §6),
without the proactive resync (``proactive-resync = false``: the commercial
connector's path; ``proactive_resync.py`` measures the connector's own).

10,000 subscribed users (10 XML clients x 1,000 devices), 5,000 answered
calls (2001->2002, 2003->2004, ...): 10,000 parties in the connector's model.
Then ``engine.failover('ungraceful')``: every party is stuck. The peer AS sends
an unsolicited CallSubscriptionEvent (after ``resync_delay``) for each of the
5,000 callees that answered; the connector clears those 5,000 parties
(ConnectionCleared to the monitoring client, LMS 37205). Measured: from the
first unsolicited event's arrival at the connector to the last
ConnectionCleared received by the clients.

Then 500 new calls (1,000 live parties) run on the peer AS, and every client
snapshots each of its 1,000 devices (10,000 SnapshotDevice at once): the
remaining 5,000 stuck parties (the callers, of whom the AS says nothing) are
cleared, the new calls must survive. Measured: the time to the last
response. Correctness: parties cleared = parties stuck, the new parties are
all still in the model (no false clears).
"""

from __future__ import annotations

import time

from benchmarks import _harness as h

NAME = "failover"


def params(quick: bool) -> dict:
    if quick:
        return {"users": 2000, "clients": 10, "new_calls": 100, "resync_delay": 0.2}
    return {"users": 10000, "clients": 10, "new_calls": 500, "resync_delay": 0.2}


def run(reactor, quick=False, overrides=None):
    return h.measure_and_tabulate(reactor, params(quick), overrides, measure, rows_of)


def rows_of(r):
    full = r["users"] >= 10000
    u = r["unsolicited"]
    s = r["snapshot"]
    return [
        h.Row(NAME, "%s users, %s answered calls: setup" % (format(r["users"], ","), format(r["calls"], ",")),
              r["setup_s"], "s"),
        h.Row(NAME, "unsolicited: first event -> last stuck party cleared", u["clear_s"], "s",
              target="<= 5 s" if full else "(target at 10,000)",
              ok=(u["clear_s"] <= 5 and u["correct"]) if full else None),
        h.Row(NAME, "unsolicited: failover -> first event (resync_delay %g s)" % r["resync_delay"],
              u["first_event_after_failover_s"], "s"),
        h.Row(NAME, "unsolicited: parties cleared / stuck (callees)",
              "%d / %d" % (u["cleared"], u["expected"]), ok=u["correct"]),
        h.Row(NAME, "snapshot resync of all %s users" % format(r["users"], ","), s["elapsed_s"], "s",
              target="<= 15 s" if full else "(target at 10,000)",
              ok=(s["elapsed_s"] <= 15 and s["correct"]) if full else None),
        h.Row(NAME, "snapshot resync: latency", s["latency_ms"]["median"], "ms", p99=s["latency_ms"]["p99"]),
        h.Row(NAME, "snapshot resync: parties cleared / stuck (callers)",
              "%d / %d" % (s["cleared"], s["expected"]), ok=s["correct"]),
        h.Row(NAME, "false clears (new calls' parties lost)", s["false_clears"], ok=s["false_clears"] == 0),
        h.Row(NAME, "RSS growth per subscribed user (whole process)", r["rss_per_user_b"], "B"),
        h.Row(NAME, "RSS growth per answered call (whole process)", r["rss_per_call_b"], "B"),
    ]


def measure(reactor, users, clients, new_calls, resync_delay):
    from twisted.internet import defer, task

    from csta_connector.csta import messages as m

    @defer.inlineCallbacks
    def wait_until(predicate, timeout, what):
        deadline = time.perf_counter() + timeout
        while not predicate():
            if time.perf_counter() > deadline:
                raise RuntimeError("timed out waiting for " + what)
            yield task.deferLater(reactor, 0.005, lambda: None)

    @defer.inlineCallbacks
    def main():
        t_setup = time.perf_counter()
        rss0 = h.rss_bytes()
        service = yield h.start_world(reactor, users, resync_delay=resync_delay, proactive_resync=False)
        try:
            core = service.core
            engine = service.simulator.engine
            protocols = yield h.connect_clients(reactor, service.csta_port, clients, "xml", timeout=120)
            names = [str(h.FIRST_EXTENSION + i) for i in range(users)]
            share = (users + clients - 1) // clients
            owner = {}
            rss1 = h.rss_bytes()
            yield defer.gatherResults(
                [h.monitor_devices(c, names[i * share:(i + 1) * share], window=100)
                 for i, c in enumerate(protocols)],
                consumeErrors=True)
            for i, c in enumerate(protocols):
                for name in names[i * share:(i + 1) * share]:
                    owner[name] = c
            rss2 = h.rss_bytes()
            counters = [h.FrameCounter(c) for c in protocols]
            calls = users // 2
            yield h.place_answered_calls(reactor, service.simulator, calls)
            yield wait_until(lambda: len(core.model) == 2 * calls, 120, "calls in the model")
            # all CSTA events of the calls delivered before the failover
            yield wait_until(lambda: sum(c.frames for c in counters) >= core.counts.events_out, 60,
                             "call events delivered")
            rss3 = h.rss_bytes()
            setup_s = time.perf_counter() - t_setup

            # -- ungraceful failover: the unsolicited path
            arrivals = []
            original = core.broadworks_event

            def observed(event):
                if event.is_snapshot:
                    arrivals.append(time.perf_counter())
                return original(event)

            core.broadworks_event = observed  # the channel set looks it up on every event
            cleared0 = core.stats["parties_cleared"]
            frames0 = sum(c.frames for c in counters)
            t_fail = time.perf_counter()
            engine.failover("ungraceful")
            yield wait_until(lambda: core.stats["parties_cleared"] - cleared0 >= calls, 120,
                             "unsolicited clears")
            yield wait_until(lambda: sum(c.frames for c in counters) - frames0 >= calls, 60,
                             "ConnectionCleared events")
            yield task.deferLater(reactor, 0.3, lambda: None)  # nothing more may come
            last_frame = max(c.last for c in counters)
            unsolicited_cleared = core.stats["parties_cleared"] - cleared0
            frames = sum(c.frames for c in counters) - frames0
            unsolicited = {
                "expected": calls,
                "cleared": unsolicited_cleared,
                "connection_cleared_events": frames,
                "unsolicited_events": len(arrivals),
                "first_event_after_failover_s": arrivals[0] - t_fail if arrivals else None,
                "clear_s": last_frame - arrivals[0] if arrivals else None,
                "correct": unsolicited_cleared == calls and frames == calls and len(core.model) == calls,
            }
            del core.broadworks_event

            # -- new calls on the peer AS, then the snapshot resync of everyone
            yield h.place_answered_calls(reactor, service.simulator, new_calls)
            yield wait_until(lambda: len(core.model) == calls + 2 * new_calls, 60, "new calls")
            for c in counters:
                c.restore()
            cleared1 = core.stats["parties_cleared"]
            latencies = []
            errors = []
            items = {}
            t0 = time.perf_counter()

            def ask(name):
                started = time.perf_counter()
                d = owner[name].request(m.SnapshotDevice(device=name))

                def ok(response):
                    latencies.append(time.perf_counter() - started)
                    items[name] = len(response.items)

                return d.addCallbacks(ok, lambda f: errors.append(f.getErrorMessage()))

            yield defer.gatherResults([ask(name) for name in names])
            elapsed = time.perf_counter() - t0
            cleared = core.stats["parties_cleared"] - cleared1
            live = {h.FIRST_EXTENSION + i for i in range(2 * new_calls)}
            false_clears = sum(1 for n in live if items.get(str(n)) != 1) + (
                2 * new_calls - len(core.model))
            snapshot = {
                "requests": len(names),
                "errors": len(errors),
                "error_examples": sorted(set(errors))[:3],
                "elapsed_s": elapsed,
                "latency_ms": h.summary([x * 1000 for x in latencies]),
                "expected": calls,
                "cleared": cleared,
                "false_clears": false_clears,
                "model_parties_after": len(core.model),
                "correct": cleared == calls and not errors and false_clears == 0,
            }
            for client in protocols:
                client.transport.loseConnection()
            return {
                "users": users,
                "calls": calls,
                "resync_delay": resync_delay,
                "setup_s": setup_s,
                "unsolicited": unsolicited,
                "snapshot": {**snapshot},
                "false_clears": false_clears,
                "rss_per_user_b": (rss2 - rss1) / users,
                "rss_per_call_b": (rss3 - rss2) / calls,
                "rss_start_b": rss0,
            }
        finally:
            yield service.stopService()

    return main()
