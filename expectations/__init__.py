"""Great Expectations suites of the pipeline, stored as JSON files beside the code that runs them.

- ``gx``: the one way to run a suite on a polars frame (ephemeral context, pandas in,
  SUMMARY results without values, counts-only results on disk, custom expectation types).
- ``register`` + ``register_suite.json``: which register/events rows may go on.
- ``issued`` + ``issued_suite.json``: the last check on numbers before the ledger commit.

Importing this package does not import GX (it takes seconds); the modules do it lazily.
"""
