"""The simulator in a process of its own, for ``event_path_separate``.

``python -m benchmarks._simulator_process USERS`` starts the simulator on free
loopback ports, prints ``{"cti": PORT, "xsi": PORT, "control": PORT}`` on one line, then
reads commands on stdin: ``load PAIRS N`` places, answers and releases N calls
round robin over the first PAIRS caller/callee pairs (2001->2002, 2003->2004,
...), as fast as the engine goes, yielding to the reactor between batches so
the events are written; it answers ``done`` when the last call is released.
"""

from __future__ import annotations

import json
import sys

FIRST = 2001


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    users = int(argv[0]) if argv else 200

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
