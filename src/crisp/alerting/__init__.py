"""Alerting core: rules, pure evaluation, scheduling and silences.

Nothing in this package does I/O or imports Django. The data flow is:

    YAML / console  → ``rules`` (frozen ``Rule`` and ``Channel`` values)
    worker clock    → ``scheduler.due`` (which rules to run now, spread with jitter)
    query result    → ``evaluation.evaluate`` (rule, result, previous states, now
                      → new states + transitions)
    transitions     → ``silences.is_silenced`` → notification routing (elsewhere)

Times are integer nanoseconds since the Unix epoch (``evaluate`` also takes an aware
``datetime``); durations are integer nanoseconds.
"""
