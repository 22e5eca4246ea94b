"""Sample data: the generator (``generate``), the town table, name tables and committed samples.

``register_sample.csv`` (1,000 residents) and ``events_sample.csv`` (40 events) are written by
``mynumber sample`` / ``mynumber sample-events`` (see tests/sample_data/test_generate.py for
the exact options); regenerate them when the generator changes.
"""
