"""Reading: landing folder → raw copy → guarded open → header mapping → typed rows, with the
unit and year a workbook reports on. Judges nothing; that is `etl.quality`."""
