"""The `htx` command (`main`) and analysts' read-only SQL access (`analyst`)."""
