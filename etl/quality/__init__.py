"""Quality: the GX suites run over read rows, the findings they make, and what reaches
people (alerts, their delivery, annotated feedback workbooks for clerks)."""

import logging

# GX logs some 220 INFO lines of its own while it is imported ("Skipping registering
# function ...", "Multiple declarations of metric ..."), in whatever process imports it: the
# warm validator, a fork, a scheduler's task. Only its warnings and errors reach the logs.
logging.getLogger("great_expectations").setLevel(logging.WARNING)


def quiet_gx() -> None:
    """Call once GX is imported: one of its modules sets its own logger to INFO on import
    (a line per context made, "Created temporary directory ... for ephemeral docs site")."""
    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.WARNING)
