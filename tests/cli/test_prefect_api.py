"""cli.prefect_api: every thread of the flow process talks to the run's one API.

The regression: with Prefect imported before the API was started, the URL was set only in
the current context, so Prefect's own threads in the flow process saw none and started a
second, temporary server in the middle of a run (found by bench/bulk.py).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import prefect.context
import pytest
from prefect.settings import PREFECT_API_URL, get_current_settings

from cli.prefect_api import _in_this_process

URL = "http://127.0.0.1:9/api"


def _seen_by_a_new_thread() -> str | None:
    seen: list[str | None] = []
    thread = threading.Thread(target=lambda: seen.append(get_current_settings().api.url))
    thread.start()
    thread.join(timeout=30)
    return seen[0]


@pytest.fixture(autouse=True)
def no_api_url() -> Iterator[None]:
    """No URL for the test; afterwards the session's URL and Prefect's exact process-wide
    settings back (a later flow test on this worker needs both)."""
    saved_env = os.environ.pop("PREFECT_API_URL", None)
    saved_global = prefect.context.GLOBAL_SETTINGS_CONTEXT
    prefect.context.GLOBAL_SETTINGS_CONTEXT = prefect.context.root_settings_context()
    yield
    if saved_env is not None:
        os.environ["PREFECT_API_URL"] = saved_env
    prefect.context.GLOBAL_SETTINGS_CONTEXT = saved_global


def test_a_thread_started_inside_sees_the_url_and_not_after() -> None:
    before = _seen_by_a_new_thread()
    with _in_this_process(URL):
        assert get_current_settings().api.url == URL
        assert _seen_by_a_new_thread() == URL
        assert os.environ["PREFECT_API_URL"] == URL      # and the workers it starts
    assert "PREFECT_API_URL" not in os.environ
    assert _seen_by_a_new_thread() == before


def test_the_url_is_withdrawn_when_the_run_raises() -> None:
    try:
        with _in_this_process(URL):
            raise RuntimeError("flow failed")
    except RuntimeError:
        pass
    assert "PREFECT_API_URL" not in os.environ
    assert _seen_by_a_new_thread() != URL


def test_a_url_set_before_is_put_back() -> None:
    os.environ["PREFECT_API_URL"] = "http://127.0.0.1:8/api"
    before = prefect.context.GLOBAL_SETTINGS_CONTEXT
    with _in_this_process(URL):
        assert _seen_by_a_new_thread() == URL
    assert os.environ["PREFECT_API_URL"] == "http://127.0.0.1:8/api"
    assert prefect.context.GLOBAL_SETTINGS_CONTEXT is before


def test_process_wide_settings_set_before_are_restored_exactly() -> None:
    """As a test harness sets them: a run inside must not leave new threads without a URL."""
    before = prefect.context.GLOBAL_SETTINGS_CONTEXT.model_copy(
        update={"settings": prefect.context.GLOBAL_SETTINGS_CONTEXT.settings.copy_with_update(
            updates={PREFECT_API_URL: "http://127.0.0.1:7/api"})})
    prefect.context.GLOBAL_SETTINGS_CONTEXT = before
    with _in_this_process(URL):
        assert _seen_by_a_new_thread() == URL
    assert prefect.context.GLOBAL_SETTINGS_CONTEXT is before
    assert _seen_by_a_new_thread() == "http://127.0.0.1:7/api"
