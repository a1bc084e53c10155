"""Benchmark: routeing through a route point (issue 15, SPEC §10.4).

One route point (6001) and one XML client registered as its routeing
server (RouteRegister), answering every RouteRequest at once with a
RouteSelect to the next of a pool of agents (round robin). Calls are dialed
into the route point at ``rate`` per second (open loop, from the simulator's
engine in process): each one is held (RoutePointCallAddedEvent), requested
of the client (RouteRequest), distributed to the agent the client chose
(RoutePointDistributeCallRequest; RoutePointCallOfferedToAgentEvent), answered
at once by that agent (RoutePointCallAnsweredByAgentEvent), which ends the
dialogue (RouteEnd), and released by the caller.

Figures: routed calls per second (target 500 calls/s), the dialogue latency
from the RouteRequest the connector writes to the BroadWorks request it sends
for the client's RouteSelect (both ways through the loopback TCP and the
client, on one reactor), and the connector's cost per routed call: the time
spent in the connector's two entry points (its XSP link reading BroadWorks'
events and answers, its CSTA session reading the client's RouteSelects;
everything the connector does for a call starts in one of them) divided by
the calls routed.
"""

from __future__ import annotations

import gc
import time

from benchmarks import _harness as h

NAME = "routeing"
ROUTE_POINT = "6001"


def params(quick: bool) -> dict:
    return {
        "rate": 500,
        "calls": 1500 if quick else 5000,
        "warmup_calls": 300 if quick else 1000,
        "callers": 300,
        "agents": 300,
        "tick": 0.01,
    }


def run(reactor, quick=False, overrides=None):
    return h.measure_and_tabulate(reactor, params(quick), overrides, measure, rows_of)


def rows_of(r):
    return [
        h.Row(NAME, "routed calls/s through one route point (1 XML client routeing, simulator in process)",
              r["calls_per_s"], "calls/s", target=">= 500 calls/s (%d offered)" % r["rate"],
              ok=r["calls_per_s"] >= 0.98 * min(500, r["rate"])),
        h.Row(NAME, "dialogue latency: RouteRequest out -> BroadWorks request out", r["latency_ms"]["median"],
              "ms", p99=r["latency_ms"]["p99"]),
        h.Row(NAME, "connector µs per routed call (link + CSTA session, all of it)", r["connector_us_per_call"], "µs"),
        h.Row(NAME, "BroadWorks events / CSTA messages per routed call", "%.1f / %.1f" % (
            r["bw_events_per_call"], r["csta_messages_per_call"])),
        h.Row(NAME, "dialogues ended with an error / calls not routed", "%d / %d" % (
            r["ended_with_error"], r["calls"] - r["routed"])),
    ]


def measure(reactor, rate, calls, warmup_calls, callers, agents, tick):
    import dataclasses

    from twisted.internet import defer

    from csta_connector.connector import ConnectorService
    from csta_connector.csta import messages as m

    agent_ids = [h.user_id(h.FIRST_EXTENSION + a) for a in range(agents)]
    caller_ids = [h.user_id(h.FIRST_EXTENSION + agents + c) for c in range(callers)]

    @defer.inlineCallbacks
    def main():
        config = h.embedded_config(agents + callers)
        config = dataclasses.replace(config, simulator=dataclasses.replace(
            config.simulator, call_centers=(), route_points=(ROUTE_POINT,), offer_seconds=0.0,
            route_point_timeout=30.0))
        service = ConnectorService(config, reactor, h.log_detail())
        service.startService()
        yield service.started
        yield service.channel_set.when_ready()
        engine = service.simulator.engine
        route_points = service.core.route_points
        try:
            (client,) = yield h.connect_clients(reactor, service.csta_port, 1, "xml", timeout=60)
            routeing = Routeing(client, [str(h.FIRST_EXTENSION + a) for a in range(agents)])
            yield client.request(m.RouteRegister(routeing_device=ROUTE_POINT))
            yield h.wait_until(reactor, lambda: route_points.registrations.owner(ROUTE_POINT) is not None, 10,
                               "the registration")
            answering = Answering(reactor, engine, set(agent_ids))
            engine.add_listener(answering)

            yield drive(reactor, engine, caller_ids, warmup_calls, rate, tick)
            yield settle(reactor, service, route_points, warmup_calls)

            # the dialogue's latency: the RouteRequest written, its BroadWorks request asked
            asked, latencies = {}, []
            original_route = route_points._route
            original_distribute = service.client.route_point_distribute

            def timed_route(connection, retries=None):
                dialogue = original_route(connection, retries)
                if dialogue is not None:
                    asked[dialogue.entry_id] = time.perf_counter()
                return dialogue

            def timed_distribute(route_point, call_id, agent):
                started = asked.pop(call_id, None)
                if started is not None:
                    latencies.append(time.perf_counter() - started)
                return original_distribute(route_point, call_id, agent)

            route_points._route = timed_route
            service.client.route_point_distribute = timed_distribute
            connector = h.Stopwatch()
            links = list(service.channel_set.up_links)
            for link in links:
                link.dataReceived = connector.wrap(link.dataReceived)
            sessions = list(service.csta_factory.sessions)
            for session in sessions:
                session.dataReceived = connector.wrap(session.dataReceived)
            stats = route_points.stats
            before = (stats.routed, stats.ended_with_error, service.counts.events_in, routeing.messages)
            gc.collect()
            t0 = time.perf_counter()
            yield drive(reactor, engine, caller_ids, calls, rate, tick)
            yield settle(reactor, service, route_points, warmup_calls + calls)
            elapsed = routeing.last_end - t0
            for target in links + sessions:
                del target.dataReceived
            route_points._route = original_route
            service.client.route_point_distribute = original_distribute
            engine.remove_listener(answering)
            routed = stats.routed - before[0]
            bw = service.counts.events_in - before[2]
            messages = routeing.messages - before[3]
            client.transport.loseConnection()
            return {
                "rate": rate,
                "calls": calls,
                "routed": routed,
                "ended_with_error": stats.ended_with_error - before[1],
                "elapsed_s": elapsed,
                "calls_per_s": routed / elapsed,
                "latency_ms": h.summary([x * 1000 for x in latencies]),
                "connector_us_per_call": connector.total / max(1, routed) * 1e6,
                "connector_s": connector.total,
                "bw_events_per_call": bw / max(1, routed),
                "csta_messages_per_call": messages / max(1, routed),
            }
        finally:
            yield service.stopService()

    return main()


class Routeing:
    """The routeing client's part: every RouteRequest (and ReRoute) is
    answered with a RouteSelect to the next agent at once; nothing is kept
    but counts."""

    def __init__(self, client, agents):
        from csta_connector.csta import messages as m

        self.m = m
        self.client = client
        self.agents = agents
        self.next = 0
        self.messages = 0  # the connector's one-way requests received, and the selects sent
        self.ends = 0
        self.last_end = time.perf_counter()
        client.requests.add = self.received

    def received(self, message):
        m = self.m
        self.messages += 1
        kind = type(message)
        if kind is m.RouteRequest or kind is m.ReRouteRequest:
            agent = self.agents[self.next % len(self.agents)]
            self.next += 1
            self.client.send(m.RouteSelectRequest(routing_cross_ref_id=message.routing_cross_ref_id,
                                                  route_selected=agent))
            self.messages += 1
        elif kind is m.RouteEndRequest:
            self.ends += 1
            self.last_end = time.perf_counter()


class Answering:
    """The agents answer each call offered to them at once, and the caller
    then hangs up (after the events of the answer went out)."""

    def __init__(self, reactor, engine, agents):
        self.reactor = reactor
        self.engine = engine
        self.agents = agents

    def __call__(self, notification):
        if notification.event_type == "CallReceivedEvent" and notification.user_id in self.agents:
            self.reactor.callLater(0, self.answer, notification.user_id, notification.call)

    def answer(self, agent, call):
        engine = self.engine
        try:
            engine.answer(agent, call.call_id)
            engine.release(agent, call.call_id)
        except Exception:
            pass  # bounced or gone meanwhile: its dialogue says so


def drive(reactor, engine, callers, calls, rate, tick):
    """``calls`` calls into the route point at ``rate`` per second (every
    ``tick`` s, those due), callers in turn; fires with the number dialed."""
    from twisted.internet import defer, task

    @defer.inlineCallbacks
    def main():
        dialed = 0
        t0 = time.perf_counter()
        while dialed < calls:
            due = min(calls, int((time.perf_counter() - t0) * rate) + 1)
            while dialed < due:
                caller = callers[dialed % len(callers)]
                try:
                    engine.dial(caller, ROUTE_POINT)
                except Exception:
                    pass  # the caller still busy: the next one takes the slot
                dialed += 1
            yield task.deferLater(reactor, tick, lambda: None)
        return dialed

    return main()


def settle(reactor, service, route_points, total, timeout=120):
    """Until every dialogue is over and BroadWorks has nothing unacknowledged."""
    from twisted.internet import defer, task

    @defer.inlineCallbacks
    def main():
        deadline = time.perf_counter() + timeout
        quiet = 0
        while quiet < 5:
            done = (not route_points.dialogues and service.simulator.xsp.unacknowledged == 0
                    and not service.simulator.engine.route_points.route_point_calls)
            quiet = quiet + 1 if done else 0
            if time.perf_counter() > deadline:
                raise RuntimeError("the routeing run did not settle")
            yield task.deferLater(reactor, 0.01, lambda: None)

    return main()
