"""The suite's own settings hold on a busy machine (issue 20): no hypothesis deadline anywhere."""

from __future__ import annotations

from hypothesis import settings


def test_hypothesis_runs_without_a_deadline():
    # a deadline times the machine, not the code: at load ~20 the 200 ms default failed tests
    assert settings().deadline is None
    assert settings.get_current_profile_name() == "mynumber"
