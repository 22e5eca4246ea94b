"""Render and QA tasks on a Dask cluster (a LocalCluster here) give the same result as
the process pool: the option for when one machine is not enough."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from tests.helpers.flow_runs import ledger_numbers, make_opts

pytestmark = [pytest.mark.xdist_group("prefect"), pytest.mark.slow]


def test_bulk_on_a_dask_local_cluster(prefect_api, tmp_path, demo_key_path, small_register):
    from flows.issuance import run_bulk
    from transforms.numbering import derive_my_numbers

    opts = make_opts(tmp_path, demo_key_path, runner={"task_runner": "dask", "workers": 2},
                     print={"batch_size": 60})
    report = run_bulk(str(small_register), opts)
    assert report["counts_add_up"] and report["qa"]["verdict"] == "pass"
    assert report["batches"] >= 2
    numbers = ledger_numbers(opts.ledger.url).sort("resident_code")
    key = json.loads(demo_key_path.read_text())["key_hex"]
    expected = derive_my_numbers(numbers["resident_code"], bytes.fromhex(key), 0)
    assert numbers["my_number"].equals(expected.rename("my_number"))
    manifests = pl.concat(pl.read_parquet(p) for p in Path(opts.out_dir).glob("batches/*/manifest.parquet"))
    assert manifests["envelope_seq"].n_unique() == report["envelopes"]
