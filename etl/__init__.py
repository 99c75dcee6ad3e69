"""HTX warehouse: ingest, validate, load and publish the yearly cooperative reports."""
