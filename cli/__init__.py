"""The `mynumber` command line: the only layer that reads flags, the environment and the settings file."""

__version__ = "0.1.0"
