"""Quality: the GX suites run over read rows, the findings they make, and what reaches
people (alerts, their delivery, annotated feedback workbooks for clerks)."""
