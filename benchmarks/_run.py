"""One benchmark in this process: ``python -m benchmarks._run NAME --out FILE [--quick]``.

Used by ``python -m benchmarks`` (one child process per benchmark)."""

from __future__ import annotations

import argparse
import importlib
import json
import sys


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("name")
    parser.add_argument("--out", required=True)
    parser.add_argument("--log", default="/dev/null")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)

    from twisted.internet import task

    from benchmarks import _harness as h

    module = importlib.import_module("benchmarks." + args.name)
    h.start_logging(args.log)

    def run(reactor):
        # as under twistd (tap.py): a tuned collector once the process is up
        from csta_connector.runtime import tune_garbage_collector

        tune_garbage_collector()
        d = module.run(reactor, quick=args.quick)

        def write(result):
            with open(args.out, "w") as f:
                json.dump(result, f, default=str)

        return d.addCallback(write)

    task.react(run)


if __name__ == "__main__":
    sys.exit(main())
