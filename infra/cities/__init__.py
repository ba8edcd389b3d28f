"""City reference-data files, one per city."""
