"""The warehouse: staging of validated rows, the ledger of every file's outcome, the build of
the star schema and marts from `sql/`, and the atomic swap that publishes it."""
