"""What the input contract says: the workbook's layout, the rules' findings and messages,
and the administrative units a report may name."""
