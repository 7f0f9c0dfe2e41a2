"""Sub-commands of the ``handgrad`` CLI (see handgrad/cli.py)."""
