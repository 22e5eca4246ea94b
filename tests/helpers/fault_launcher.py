"""`python -m tests.helpers.fault_launcher ARGS`: `mynumber ARGS` with the test's fault hooks
installed (see tests.helpers.fault_hooks.cli_command, which sets the environment it needs)."""

from __future__ import annotations

from tests.helpers.fault_hooks import install_from_environment

if __name__ == "__main__":
    install_from_environment()
    from cli.main import main

    main()
