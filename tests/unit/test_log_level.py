"""OTC_LOG_LEVEL: a level name sets the process's level; anything else falls back to
INFO and says so, as other bad settings do, instead of stopping the process."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from otc_bridge.observability import logs


@pytest.fixture(autouse=True)
def _restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_a_level_name_in_any_case_sets_the_level() -> None:
    logs.configure(json_lines=True, level="warning")
    assert logging.getLogger().level == logging.WARNING


def test_the_aliases_logging_knows_still_work() -> None:
    logs.configure(json_lines=True, level="warn")
    assert logging.getLogger().level == logging.WARNING


def test_an_unknown_level_falls_back_to_info_with_a_warning(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logs.configure(json_lines=False, level="loud")
    assert logging.getLogger().level == logging.INFO
    err = capsys.readouterr().err
    assert "OTC_LOG_LEVEL='loud' is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL" in err
