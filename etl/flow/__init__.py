"""The pipeline as plain functions, one per Airflow task (`tasks`), and what the DAG files
share at parse time (`dagkit`)."""
