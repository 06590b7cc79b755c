"""The API's error codes as exceptions.

Every error answer of the API has the body
``{"error": {"code", "message", "field", "rows", "request_id"}}``; the
exception raised for it carries each of these, so a notebook can point at
the field (and, for a refused library, the rows) at fault.
"""

from dataclasses import dataclass
from typing import List, Optional


@dataclass(frozen=True)
class RowProblem:
    """One refused row of an uploaded ligand library (rows count from 1)."""

    row: int
    message: str
    field: Optional[str] = None


class APIError(Exception):
    """An error answer of the API."""

    def __init__(self, status, code, message, field=None, rows=None, request_id=None, retry_after=None):
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.rows: List[RowProblem] = list(rows or [])
        self.request_id = request_id
        self.retry_after = retry_after
        text = f"{status} {code}: "
        if field:
            text += f"{field}: "
        text += message
        if self.rows:
            shown = "; ".join(f"row {r.row}: {r.message}" for r in self.rows[:5])
            more = f" (and {len(self.rows) - 5} more)" if len(self.rows) > 5 else ""
            text += f" [{shown}{more}]"
        if request_id:
            text += f" (request {request_id})"
        super().__init__(text)


class InvalidInputError(APIError):
    """422 (code invalid or model): a field, or rows of a library, refused."""


class UnauthorizedError(APIError):
    """401: a missing or unknown API key."""


class NotFoundError(APIError):
    """404: no such job, batch or file for this key."""


class ConflictError(APIError):
    """409: an idempotency key reused for another request, or a job that has ended."""


class RateLimitedError(APIError):
    """429: over the key's rate or quota; retry_after says when to retry."""


class UnavailableError(APIError):
    """503: a dependency is unavailable; retry_after says when to retry."""


_BY_STATUS = {
    401: UnauthorizedError,
    404: NotFoundError,
    409: ConflictError,
    422: InvalidInputError,
    429: RateLimitedError,
    503: UnavailableError,
}


def error_from(status, body, retry_after=None):
    """Builds the exception for an error answer (body: decoded JSON or None)."""
    detail = (body or {}).get("error") if isinstance(body, dict) else None
    if not isinstance(detail, dict):
        detail = {"code": "http_%d" % status, "message": "the server answered %d" % status}
    rows = []
    raw_rows = detail.get("rows")
    if isinstance(raw_rows, list):
        for r in raw_rows:
            if isinstance(r, dict):
                rows.append(RowProblem(row=int(r.get("row", 0)), message=str(r.get("message", "")), field=r.get("field")))
    cls = _BY_STATUS.get(status, APIError)
    return cls(
        status,
        detail.get("code", ""),
        detail.get("message", ""),
        field=detail.get("field") or None,
        rows=rows,
        request_id=detail.get("request_id"),
        retry_after=retry_after,
    )
