"""Array functions shared by layers: argument parsing, output sizes, padding, windows."""
