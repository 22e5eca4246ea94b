"""Test-only start-up hook, on PYTHONPATH only when tests.helpers.fault_launcher runs the CLI:
every Python process of that run (spawned workers included) installs the same fault hooks."""

import os

if os.environ.get("MYNUMBER_TEST_FAULTS"):
    from tests.helpers.fault_hooks import install_from_environment

    install_from_environment()
