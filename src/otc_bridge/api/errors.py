"""Every refusal's HTTP status, in one table, and the one shape of an error reply:
`{"error": <the reference's string or a stable code>, ...fields}`."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from otc_bridge.services.errors import (
    Conflict,
    Forbidden,
    Gone,
    InvalidRequest,
    NotFound,
    Refused,
    TooManyRequests,
    Unauthenticated,
    Unavailable,
    Unprocessable,
)

STATUS: dict[type[Refused], int] = {
    InvalidRequest: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Gone: 410,
    Unprocessable: 422,
    TooManyRequests: 429,
    Unavailable: 503,
}


def status_of(err: Refused) -> int:
    for kind in type(err).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 400  # a Refused of no known kind is still the client's request refused


def error_body(error: str, **fields: Any) -> dict[str, Any]:
    return {"error": error, **fields}


def refusal(err: Refused) -> JSONResponse:
    status = status_of(err)
    headers = {}
    retry = err.fields.get("retry_after_seconds")
    if isinstance(retry, int):  # every 429 has one (services.errors.TooManyRequests)
        headers["Retry-After"] = str(retry)
    return JSONResponse(error_body(err.error, **err.fields), status_code=status, headers=headers)
