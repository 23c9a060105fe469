"""The subcommands of the ``deepstep`` command line (see :mod:`deepstep.cli`), one module each."""
