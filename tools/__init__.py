"""Tools beside the product, not shipped in it: the sample workbook generator and the
benchmark."""
