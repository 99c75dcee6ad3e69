"""What the published warehouse is turned into for people: Parquet and XLSX exports, the
quality report, the officials' report, the clerks' template and the run summary."""
