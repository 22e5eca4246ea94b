"""The stages of a run as plain functions of (options, run id, batch id): what each Prefect task calls."""
