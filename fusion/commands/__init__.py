"""Sub-commands of the ``nomofuse`` command line (one module each)."""
