"""tribe-analysis: how leaders engage with their community (their tribe) on social media.

The pipeline runs in one direction, one module per stage::

    io -> events -> threads -> observability -> graph -> participation
       -> features -> profiles -> validation -> charts -> report -> outputs
       -> pipeline -> cli / notebooks

``events`` is the canonical schema, reading and validation; ``threads`` derives
threads, reply targets and depths (``events`` re-exports its public names); the
error types (``Problem``, ``EventsError``, the readers' ``RecordError``) are in
``errors``, below every stage.

:func:`tribe_analysis.pipeline.profile` and :func:`tribe_analysis.pipeline.write_outputs`
run the whole job (the command line and the notebooks call them).

This package ``__init__`` only re-exports; the work lives in the modules.
"""

from tribe_analysis.events import (
    ACTIONS,
    SCHEMA,
    EventsError,
    Problem,
    complete_events,
    read_events,
    summarize_events,
    validate_events,
    write_events,
)

__version__ = "0.1.0"

__all__ = [
    "ACTIONS",
    "SCHEMA",
    "EventsError",
    "Problem",
    "__version__",
    "complete_events",
    "read_events",
    "summarize_events",
    "validate_events",
    "write_events",
]
