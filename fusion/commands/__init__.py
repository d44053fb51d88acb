"""Sub-commands of the ``nomofuse`` command line, one module each.

``cohort_command`` holds :class:`~fusion.commands.cohort_command.CohortCommand`,
the skeleton every cohort command (manifest in, feature table out) is built on;
its module docstring is the recipe for adding one. ``radiomics`` is such a
command; ``example`` is a plain one.
"""
