"""``python -m benchmarks [--quick] [--json PATH] [--only NAME ...]``

Runs each benchmark in its own Python process (a fresh reactor and heap per
benchmark: memory figures are not polluted by the previous one), prints one
table and writes it, with every raw figure, as JSON (default
``benchmarks/results.json``; ``--quick`` writes ``benchmarks/results-quick.json``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

from benchmarks import _harness as h

BENCHMARKS = ("event_path", "event_path_separate", "event_path_xsi", "snapshot", "failover", "proactive_resync",
              "memory", "restart", "contact_centre", "routeing")
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

NOTES = (
    "Notes: one Python process per benchmark. The rows 'simulator in its own process' run the BroadWorks "
    "simulator as a\nchild process (as an XSP would be elsewhere) and the connector with a production "
    "config; in every other row the\nsimulator, the connector and the CSTA clients share ONE reactor "
    "thread (one core), so timings include the\nsimulator's cost; event_path also reports the "
    "connector's share alone (time inside the simulator and the\nclients subtracted). Clients are the "
    "project's own CSTA clients over loopback TCP; in event_path they only\ncount frames. LMS logging "
    "runs at the default verbosity (standard) to a file. Compare medians of runs.",
)


def machine() -> dict:
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu": cpu or platform.processor(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def run_one(name: str, quick: bool, timeout: float) -> dict:
    """Run one benchmark in a child process; its result dict (or an error)."""
    with tempfile.TemporaryDirectory(prefix="csta-bench-") as tmp:
        out = os.path.join(tmp, "result.json")
        command = [sys.executable, "-m", "benchmarks._run", name, "--out", out,
                   "--log", os.path.join(tmp, "lms.log")]
        if quick:
            command.append("--quick")
        env = dict(os.environ)
        env["PYTHONPATH"] = ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        started = time.perf_counter()
        try:
            proc = subprocess.run(command, cwd=ROOT, env=env, timeout=timeout,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        except subprocess.TimeoutExpired:
            return {"error": "timed out after %g s" % timeout, "seconds": time.perf_counter() - started}
        seconds = time.perf_counter() - started
        if proc.returncode != 0 or not os.path.exists(out):
            return {"error": "exit status %s" % proc.returncode, "output": proc.stdout[-4000:],
                    "seconds": seconds}
        with open(out) as f:
            result = json.load(f)
        result["seconds"] = seconds
        return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller numbers: the whole run under a minute")
    parser.add_argument("--json", metavar="PATH", help="where to write the results (JSON)")
    parser.add_argument("--only", action="append", choices=BENCHMARKS, help="run only this benchmark (repeatable)")
    args = parser.parse_args(argv)
    names = args.only or list(BENCHMARKS)
    path = args.json or os.path.join(HERE, "results-quick.json" if args.quick else "results.json")
    info = machine()
    header = "csta-connector benchmarks%s  |  %s  |  %d cores (%s)  |  Python %s" % (
        " (--quick)" if args.quick else "", info["date"], info["cores"] or 0, info["cpu"], info["python"])
    print(header, flush=True)
    rows = []
    results = {}
    failed = False
    started = time.perf_counter()
    for name in names:
        print("  running %s ..." % name, end="", flush=True)
        result = run_one(name, args.quick, timeout=120 if args.quick else 300)
        results[name] = result
        print(" %.1f s" % result.get("seconds", 0), flush=True)
        if "error" in result:
            failed = True
            print("  %s FAILED: %s\n%s" % (name, result["error"], result.get("output", "")), flush=True)
            rows.append(h.Row(name, "FAILED: " + result["error"], None, ok=False))
            continue
        rows.extend(h.Row(**row) for row in result["rows"])
    total = time.perf_counter() - started
    print()
    table = h.format_table(rows, header=header, notes=NOTES + ("Whole run: %.0f s." % total,))
    print(table)
    document = {
        "machine": info,
        "quick": args.quick,
        "total_seconds": total,
        "table": table,
        "rows": [r.as_dict() for r in rows],
        "results": results,
    }
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    with open(path, "w") as f:
        json.dump(document, f, indent=1, default=str)
    print("\nJSON: %s" % path)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
