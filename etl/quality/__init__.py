"""Quality: the GX suites run over read rows, the findings they make, and what reaches
people (alerts, their delivery, annotated feedback workbooks for clerks)."""

import logging


class _WarningsOnly(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


# GX logs some 220 INFO lines of its own while it is imported ("Skipping registering
# function ...", "Multiple declarations of metric ..."), in whatever process imports it: the
# warm validator, a fork, a scheduler's task. Only its warnings and errors reach the logs.
logging.getLogger("great_expectations").setLevel(logging.WARNING)
# One of its modules sets its own logger to INFO when it is imported (a line per context:
# "Created temporary directory ... for ephemeral docs site"); a filter outlasts that.
logging.getLogger("great_expectations.data_context.types.base").addFilter(_WarningsOnly())
