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

This package ``__init__`` only re-exports, on first use (PEP 562), so that
importing a submodule does not import polars and NumPy first: the command line
sets up NumPy's linear algebra library before it is loaded
(:mod:`tribe_analysis.cli`). The work lives in the modules.
"""

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # what the names are, for type checkers and editors
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

_FROM_EVENTS = (
    "ACTIONS",
    "SCHEMA",
    "EventsError",
    "Problem",
    "complete_events",
    "read_events",
    "summarize_events",
    "validate_events",
    "write_events",
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


def __getattr__(name: str) -> object:
    """The names of :mod:`tribe_analysis.events` re-exported here, imported on first use."""
    if name in _FROM_EVENTS:
        value = getattr(importlib.import_module("tribe_analysis.events"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_FROM_EVENTS))
