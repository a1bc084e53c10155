"""What every benchmark shares: statistics, the table, the world they run in.

Pure parts (no reactor): :func:`percentile`, :func:`summary`, :func:`format_table`,
:class:`Stopwatch`. The rest builds the real components over loopback TCP:
the embedded default (:class:`~csta_connector.connector.ConnectorService`:
in-process simulator + channel set + services + CSTA listener, all on free
ports) and CSTA clients of the project's own :mod:`csta_connector.csta.client`.
"""

from __future__ import annotations

import dataclasses
import math
import time

# --------------------------------------------------------------------------
# statistics (pure)


def percentile(values, p: float) -> float | None:
    """The ``p``-th percentile (0..100) by linear interpolation between the
    closest ranks (numpy's default); None for no values."""
    data = sorted(values)
    if not data:
        return None
    if len(data) == 1:
        return float(data[0])
    rank = (len(data) - 1) * (p / 100.0)
    low = math.floor(rank)
    high = math.ceil(rank)
    if low == high:
        return float(data[low])
    return data[low] + (data[high] - data[low]) * (rank - low)


def summary(values) -> dict:
    """n, median, p99, max of a list of numbers (None when empty)."""
    values = list(values)
    return {
        "n": len(values),
        "median": percentile(values, 50),
        "p99": percentile(values, 99),
        "max": max(values) if values else None,
    }


class Stopwatch:
    """Accumulates the time spent inside wrapped callables (one thread)."""

    def __init__(self, clock=time.perf_counter):
        self.clock = clock
        self.total = 0.0
        self.calls = 0

    def wrap(self, fn):
        clock = self.clock

        def timed(*args, **kw):
            start = clock()
            try:
                return fn(*args, **kw)
            finally:
                self.total += clock() - start
                self.calls += 1

        timed.__wrapped__ = fn
        return timed

    def reset(self):
        self.total = 0.0
        self.calls = 0


# --------------------------------------------------------------------------
# the table (pure)


@dataclasses.dataclass
class Row:
    """One line of the results table."""

    benchmark: str
    metric: str
    value: float | int | str | None
    unit: str = ""
    p99: float | None = None
    target: str = ""
    ok: bool | None = None  # None: no target

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return "{:,}".format(value)
    if isinstance(value, float):
        if value == 0:
            return "0"
        magnitude = abs(value)
        if magnitude >= 1000:
            return "{:,.0f}".format(value)
        if magnitude >= 100:
            return "{:.0f}".format(value)
        if magnitude >= 10:
            return "{:.1f}".format(value)
        return "{:.2f}".format(value)
    return str(value)


def format_table(rows, header: str = "", notes=()) -> str:
    """A plain-text table (fixed-width columns) of :class:`Row` objects."""
    columns = ("benchmark", "metric", "median/value", "p99", "unit", "target", "met")
    lines = []
    body = []
    for row in rows:
        met = "" if row.ok is None else ("yes" if row.ok else "NO")
        body.append(
            (row.benchmark, row.metric, _fmt(row.value), _fmt(row.p99) if row.p99 is not None else "",
             row.unit, row.target, met)
        )
    widths = [len(c) for c in columns]
    for cells in body:
        widths = [max(w, len(c)) for w, c in zip(widths, cells)]
    right = {2, 3}

    def line(cells):
        out = []
        for i, (cell, width) in enumerate(zip(cells, widths)):
            out.append(cell.rjust(width) if i in right else cell.ljust(width))
        return "  ".join(out).rstrip()

    if header:
        lines.append(header)
    lines.append(line(columns))
    lines.append("  ".join("-" * w for w in widths))
    previous = None
    for row, cells in zip(rows, body):
        if previous is not None and row.benchmark != previous:
            lines.append("")
        previous = row.benchmark
        lines.append(line(cells))
    for note in notes:
        lines.append("")
        lines.append(note)
    return "\n".join(lines)


# --------------------------------------------------------------------------
# the world: real components over loopback TCP


def user_id(extension: int, domain: str = "example.com") -> str:
    return "%d@%s" % (extension, domain)


FIRST_EXTENSION = 2001


def embedded_config(users: int, resync_delay: float = 0.2, **connector):
    """The embedded default on free ports, ``users`` simulated users."""
    from csta_connector.testing import free_port_config

    return free_port_config(users=users, resync_delay=resync_delay, **connector)


def measure_and_tabulate(reactor, params: dict, overrides, measure, rows_of):
    """The usual ``run``: ``measure(reactor, **params)`` (overrides applied),
    then the rows; a Deferred firing with {"rows": [...], "raw": {...}}."""
    from twisted.internet import defer

    p = dict(params)
    p.update(overrides or {})

    @defer.inlineCallbacks
    def main():
        raw = yield measure(reactor, **p)
        return {"rows": [r.as_dict() for r in rows_of(raw)], "raw": raw}

    return main()


def start_world(reactor, users: int, resync_delay: float = 0.2, **connector):
    """Start the embedded connector; a Deferred firing with the service once
    its link is up and the CSTA listener listens."""
    from twisted.internet import defer

    from csta_connector.connector import ConnectorService

    @defer.inlineCallbacks
    def run():
        service = ConnectorService(embedded_config(users, resync_delay, **connector), reactor, log_detail())
        service.startService()
        yield service.started
        yield service.channel_set.when_ready()
        return service

    return run()


def connect_clients(reactor, port: int, count: int, encoding: str, timeout: float = 60.0):
    from twisted.internet import defer

    from csta_connector.csta.client import connect

    return defer.gatherResults(
        [connect(reactor, "127.0.0.1", port, encoding, timeout=timeout) for _ in range(count)],
        consumeErrors=True,
    )


def pipelined(requests, window: int = 200):
    """Run ``requests`` (callables returning Deferreds) with at most ``window``
    outstanding; fires with the results in order (failures raise)."""
    from twisted.internet import defer

    results = [None] * len(requests)
    done = defer.Deferred()
    state = {"next": 0, "outstanding": 0, "finished": 0, "failed": None}
    total = len(requests)
    if not total:
        return defer.succeed([])

    def launch():
        while state["outstanding"] < window and state["next"] < total and state["failed"] is None:
            index = state["next"]
            state["next"] += 1
            state["outstanding"] += 1
            requests[index]().addCallbacks(ok, bad, (index,), None, (index,))

    def ok(result, index):
        results[index] = result
        finish()

    def bad(failure, index):
        if state["failed"] is None:
            state["failed"] = failure
        finish()

    def finish():
        state["outstanding"] -= 1
        state["finished"] += 1
        if state["failed"] is not None:
            if state["outstanding"] == 0 and not done.called:
                done.errback(state["failed"])
            return
        if state["finished"] == total:
            done.callback(results)
        else:
            launch()

    launch()
    return done


def monitor_devices(client, devices, window: int = 200):
    """MonitorStart each device; fires with {device: crossRefId}."""
    from csta_connector.csta import messages as m

    devices = list(devices)
    d = pipelined([lambda dev=dev: client.request(m.MonitorStart(device=dev)) for dev in devices], window)
    return d.addCallback(lambda responses: {dev: r.cross_ref_id for dev, r in zip(devices, responses)})


def monitor_spread(clients, devices, window: int = 100):
    """Monitor ``devices`` in equal consecutive shares, one per client; fires
    with {device: the client monitoring it}."""
    from twisted.internet import defer

    devices = list(devices)
    share = (len(devices) + len(clients) - 1) // len(clients)
    shares = [(client, devices[i * share:(i + 1) * share]) for i, client in enumerate(clients)]
    d = defer.gatherResults([monitor_devices(client, part, window) for client, part in shares],
                            consumeErrors=True)
    return d.addCallback(lambda _: {device: client for client, part in shares for device in part})


class FrameCounter:
    """Turns a connected :class:`CSTAClientProtocol` into a counter of the
    frames it receives (no decoding): the cheapest possible CSTA client, so
    the time measured is the connector's and not the test client's XML parser."""

    def __init__(self, protocol, clock=time.perf_counter):
        from csta_connector.csta import framing

        self.protocol = protocol
        self.clock = clock
        self.frames = 0
        self.first = None
        self.last = None
        if protocol.encoding == "xml":
            self._decoder = framing.XmlFrameDecoder()
        else:
            self._decoder = framing.BerFrameDecoder(protocol.ber_framing)
        self._original = protocol.dataReceived
        protocol.dataReceived = self.data_received

    def data_received(self, data):
        frames = self._decoder.feed(data)
        if frames:
            now = self.clock()
            if self.first is None:
                self.first = now
            self.last = now
            self.frames += len(frames)

    def restore(self):
        self.protocol.dataReceived = self._original


def _log_section(path: str):
    from csta_connector.config import LogSection

    return LogSection(
        verbose="standard", all=(path,), standard=(), interaction=(), trace=(), debug=(), format="text"
    )


def log_detail():
    """What :func:`start_logging`'s outputs write, for the connector under test."""
    from csta_connector.logoutput import VERBOSE_LEVELS
    from csta_connector.lms import LogDetail

    return LogDetail(VERBOSE_LEVELS[_log_section("/dev/null").verbose])


def start_logging(path: str):
    """LMS logging as the product does it at its default verbosity
    (``[log] verbose = standard``), written to ``path``: logging is part of
    the cost measured. Returns the observers (close them at the end)."""
    from twisted.logger import globalLogBeginner

    from csta_connector.logoutput import build_observers

    observers = build_observers(_log_section(path))
    globalLogBeginner.beginLoggingTo(observers, discardBuffer=True, redirectStandardIO=False)
    return observers


def rss_bytes() -> int:
    """Resident set size of this process (Linux /proc), 0 if unknown."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        import resource

        return pages * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0


def place_answered_calls(reactor, simulator, calls: int, first: int = 0, batch: int = 20,
                         max_unacknowledged: int = 300):
    """Calls (2001+2k -> 2002+2k for k in first..first+calls-1), each answered,
    placed in the simulator's engine in batches; a batch waits while more than
    ``max_unacknowledged`` events are still unacknowledged by the connector
    (back-pressure: the simulator re-sends events not acknowledged in time)."""
    from twisted.internet import defer, task

    engine = simulator.engine

    @defer.inlineCallbacks
    def run():
        for start in range(first, first + calls, batch):
            while simulator.xsp.unacknowledged > max_unacknowledged:
                yield task.deferLater(reactor, 0.001, lambda: None)
            for k in range(start, min(first + calls, start + batch)):
                caller = user_id(FIRST_EXTENSION + 2 * k)
                callee = FIRST_EXTENSION + 2 * k + 1
                engine.dial(caller, str(callee))
                engine.answer(user_id(callee))
            yield task.deferLater(reactor, 0, lambda: None)

    return run()


def wait_until(reactor, predicate, timeout: float, what: str, interval: float = 0.005):
    """Poll ``predicate`` until true; fails with RuntimeError after ``timeout`` s."""
    from twisted.internet import defer, task

    @defer.inlineCallbacks
    def run():
        deadline = time.perf_counter() + timeout
        while not predicate():
            if time.perf_counter() > deadline:
                raise RuntimeError("timed out waiting for " + what)
            yield task.deferLater(reactor, interval, lambda: None)

    return run()
