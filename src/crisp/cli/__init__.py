"""The ``crisp`` command: one subcommand per process kind."""
