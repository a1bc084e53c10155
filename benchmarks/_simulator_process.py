"""The simulator in a process of its own, for ``event_path_separate``, ``event_path_xsi``
and ``contact_centre``.

``python -m benchmarks._simulator_process USERS [QUEUES AGENTS]`` starts the
simulator on free loopback ports, prints ``{"cti": PORT, "xsi": PORT, "control": PORT}``
on one line, then reads commands on stdin: ``load PAIRS N`` places, answers and
releases N calls round robin over the first PAIRS caller/callee pairs
(2001->2002, 2003->2004, ...), as fast as the engine goes, yielding to the
reactor between batches so the events are written; it answers ``done`` when
the last call is released.

With QUEUES and AGENTS the simulator also provisions QUEUES call centers
5001.. with AGENTS agents each (users 2001.., all Available, no wrap-up, offered
at once; see ``contact_centre.provisioning``); the users after the agents call
them. ``acd N BACKLOG`` dials N calls, caller k into queue k round robin, each
answered by the agent it is offered to and released by the caller, a batch
only while at most BACKLOG events are unacknowledged (closed loop: the pace is
the connector's); it answers ``done`` once the connector acknowledged every event.
"""

from __future__ import annotations

import json
import sys

FIRST = 2001


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    users = int(argv[0]) if argv else 200
    queues, agents_per_queue = (int(argv[1]), int(argv[2])) if len(argv) >= 3 else (0, 0)

    import dataclasses

    from twisted.internet import defer, stdio, task
    from twisted.protocols.basic import LineReceiver

    from csta_connector.config import load_simulator_config
    from csta_connector.runtime import tune_garbage_collector
    from csta_connector.simulator.service import SimulatorService

    def run(reactor):
        settings = dataclasses.replace(
            load_simulator_config(None).simulator, users=users, cti_port=0, control_port=0, xsi_port=0
        )
        if queues:
            from benchmarks.contact_centre import provisioning

            settings = dataclasses.replace(
                settings, call_centers=provisioning(queues, agents_per_queue), route_points=(),
                initial_agent_state="Available", wrap_up_seconds=0.0, offer_seconds=0.0, queue_length=525)
        service = SimulatorService(settings, reactor)
        service.startService()
        engine = service.engine
        finished = defer.Deferred()

        @defer.inlineCallbacks
        def load(pairs, calls, batch=20):
            ids = [("%d@example.com" % (FIRST + 2 * i), "%d" % (FIRST + 2 * i + 1),
                    "%d@example.com" % (FIRST + 2 * i + 1)) for i in range(pairs)]
            index = done = 0
            while done < calls:
                for _ in range(min(batch, calls - done)):
                    caller, callee, callee_id = ids[index]
                    index = (index + 1) % len(ids)
                    engine.dial(caller, callee)
                    engine.answer(callee_id)
                    engine.release(caller)
                    done += 1
                yield task.deferLater(reactor, 0, lambda: None)

        @defer.inlineCallbacks
        def acd(calls, backlog, batch=20):
            from benchmarks.contact_centre import distribute_one

            centers = engine.call_centers.centers
            callers = ["%d@example.com" % (FIRST + queues * agents_per_queue + q) for q in range(queues)]
            done = 0
            while done < calls:
                if service.xsp.unacknowledged > backlog:
                    # wait for the connector without spinning: on a busy
                    # machine a spinning child would take the connector's CPU
                    yield task.deferLater(reactor, 0.001, lambda: None)
                    continue
                for _ in range(min(batch, calls - done)):
                    distribute_one(engine, centers, callers, done % queues)
                    done += 1
                yield task.deferLater(reactor, 0, lambda: None)
            while service.xsp.unacknowledged:
                yield task.deferLater(reactor, 0.005, lambda: None)

        stopping = []

        def stop():
            if not stopping:
                stopping.append(True)
                service.stopService().addBoth(lambda _: finished.callback(None))

        class Commands(LineReceiver):
            delimiter = b"\n"

            def lineReceived(self, line):
                words = line.decode().split()
                if words and words[0] == "load":
                    load(int(words[1]), int(words[2])).addCallback(
                        lambda _: self.sendLine(b"done"))
                elif words and words[0] == "acd":
                    acd(int(words[1]), int(words[2])).addCallbacks(
                        lambda _: self.sendLine(b"done"),
                        lambda f: self.sendLine(("error %s" % f.getErrorMessage()).encode()))
                elif words and words[0] == "quit":
                    stop()

            def connectionLost(self, reason):
                stop()

        def started(_):
            tune_garbage_collector()
            protocol = Commands()
            stdio.StandardIO(protocol, reactor=reactor)
            protocol.sendLine(json.dumps(
                {"cti": service.cti_ports[0], "xsi": service.xsi_port,
                 "control": service.control_port}).encode())

        service.started.addCallback(started)
        return finished

    task.react(run)


if __name__ == "__main__":
    main()
