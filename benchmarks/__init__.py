"""The benchmarks of issue 8 (SPEC §9): ``python -m benchmarks [--quick]``.

One module per benchmark (event_path, snapshot, failover, memory), each with
``run(reactor, quick=False, overrides=None) -> Deferred({"rows", "raw"})``;
``_harness`` holds what they share, ``__main__`` runs them and prints the table.
"""
