"""Process-wide tuning for the long-running server (twistd entry points only)."""

import gc


def tune_garbage_collector() -> None:
    """Fewer, cheaper collections.

    A connector holds large, long-lived structures (the call model, monitors,
    compiled codecs); a full collection walks all of them and pauses the
    reactor for tens of milliseconds, which shows up as snapshot latency.
    Freezing what exists after start-up takes it out of every later
    collection, and a higher first threshold makes collections rarer.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
