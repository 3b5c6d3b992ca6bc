"""Alerting core: rules, pure evaluation, scheduling, silences, routing and notifications.

Nothing here imports Django, and only ``delivery`` does I/O (HTTP and SMTP, at the
edge). The data flow is:

    YAML / console  → ``rules`` (frozen ``Rule`` and ``Channel`` values), ``routes``
    worker clock    → ``scheduler.due`` (which rules to run now, spread with jitter)
    query result    → ``evaluation.evaluate`` (rule, result, previous states, now
                      → new states + transitions)
    transitions     → ``silences.is_silenced`` → ``routes.destinations`` (channels by
                      labels) → ``grouping`` (group_wait / group_interval /
                      repeat_interval) → ``payloads`` → ``delivery`` (retries, backoff)
    rule editor     → ``preview`` (the rule replayed over past data)

Channel secrets are ``env:NAME`` references or sealed values (``secrets``). The worker
and the models live in ``crisp.console.alerts``.

Times are integer nanoseconds since the Unix epoch (``evaluate`` also takes an aware
``datetime``); durations are integer nanoseconds.
"""
