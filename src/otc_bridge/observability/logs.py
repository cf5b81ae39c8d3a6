"""Structured logs: one JSON object per line, with the order and request in context.

The driver sets the order id and the API middleware the request id in context
variables, so every line logged while handling them carries them without each call
site having to pass them along.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime

order_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("order_id", default=None)
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.order_id = getattr(record, "order_id", None) or order_id_var.get()
        record.request_id = getattr(record, "request_id", None) or request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def configure(*, json_lines: bool, level: str = "INFO", access_log: bool = False) -> None:
    """Logs of this process to stderr. uvicorn's loggers go through the same handler;
    its access log (a line per request) only with `access_log` (OTC_ACCESS_LOG=1)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ContextFilter())
    handler.setFormatter(
        JsonFormatter()
        if json_lines
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    # Any name logging knows (WARN and FATAL too, as before); anything else, like any
    # other bad setting: the default, with a warning.
    known = level.upper() in logging.getLevelNamesMapping()
    root.setLevel(level.upper() if known else "INFO")
    if not known:
        root.warning("OTC_LOG_LEVEL=%r is not one of %s: INFO", level, ", ".join(LEVELS))
    logging.getLogger("httpx").setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # uvicorn writes an access line whenever its logger has a handler to reach, whatever
    # its own access_log setting was: without one, nothing is formatted or written.
    logging.getLogger("uvicorn.access").propagate = access_log
