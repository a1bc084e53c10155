"""Benchmark 1c: the event path over an Xsi link beside a CTI link (issue 13).

As ``event_path_separate`` (the simulator in a process of its own, the
connector configured like production, one XML CSTA client that only counts
frames), once with the connector's ``[link-sim]`` on the simulator's CTI
interface and once on its Xsi front-end (``protocol = xsi``: the events on
an Xsi-Events channel, each acknowledged by an EventResponse POST). Reported:
BroadWorks events/s end to end for each, and the connector's CPU time per
BroadWorks event (this process: the connector and the frame-counting client;
the simulator's work is in its own process), the Xsi link's beside the CTI
link's.

Targets (issue 13): >= 10,000 events/s over the Xsi link, and its cost per
event within 1.3 x the CTI link's.
"""

from __future__ import annotations

from benchmarks import _harness as h
from benchmarks import event_path_separate

NAME = "event_path_xsi"
MIN_EVENTS_PER_S = 10000
MAX_COST_RATIO = 1.3


def params(quick: bool) -> dict:
    return {"pairs": 50, "calls": 500 if quick else 2000, "warmup_calls": 100,
            "repeats": 3, "encoding": "xml"}


def run(reactor, quick=False, overrides=None):
    from twisted.internet import defer

    p = params(quick)
    p.update(overrides or {})

    @defer.inlineCallbacks
    def main():
        raw = {}
        for protocol in ("cti", "xsi"):
            raw[protocol] = yield event_path_separate.measure(
                reactor, p["encoding"], p["pairs"], p["calls"], p["warmup_calls"], p["repeats"],
                protocol=protocol)
        return {"rows": [r.as_dict() for r in rows_of(raw)], "raw": raw}

    return main()


def rows_of(raw) -> list:
    cti, xsi = raw["cti"], raw["xsi"]
    ratio = xsi["connector_us_per_event"] / cti["connector_us_per_event"]
    where = "XML, 1 client, simulator in its own process"
    return [
        h.Row(NAME, "%s, CTI link: BroadWorks events/s end to end" % where, cti["bw_events_per_s"], "ev/s"),
        h.Row(NAME, "%s, Xsi link: BroadWorks events/s end to end" % where, xsi["bw_events_per_s"], "ev/s",
              target=">= {:,}".format(MIN_EVENTS_PER_S), ok=xsi["bw_events_per_s"] >= MIN_EVENTS_PER_S),
        h.Row(NAME, "connector CPU per BroadWorks event, CTI link", cti["connector_us_per_event"], "us"),
        h.Row(NAME, "connector CPU per BroadWorks event, Xsi link", xsi["connector_us_per_event"], "us"),
        h.Row(NAME, "Xsi link cost / CTI link cost (CPU per event)", ratio, "x",
              target="<= %g" % MAX_COST_RATIO, ok=ratio <= MAX_COST_RATIO),
    ]
