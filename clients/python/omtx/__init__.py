"""Python client for the OMTX-Hub REST API.

Only the standard library is needed; pandas is used when it is installed
(``Client.results(..., as_dataframe=True)`` and DataFrame libraries).

    >>> from omtx import Client
    >>> c = Client("http://127.0.0.1:8080", api_key)
    >>> batch = c.screen(protein, "ligands.csv", name="CA II screen")
    >>> c.wait(batch["batch_id"], progress=True)
    >>> hits = c.results(batch["batch_id"])
"""

from .client import Client, new_idempotency_key
from .errors import (
    APIError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    RateLimitedError,
    RowProblem,
    UnauthorizedError,
    UnavailableError,
)
from .webhooks import SIGNATURE_HEADER, WebhookSignatureError, verify_signature

__all__ = [
    "Client",
    "new_idempotency_key",
    "APIError",
    "ConflictError",
    "InvalidInputError",
    "NotFoundError",
    "RateLimitedError",
    "RowProblem",
    "UnauthorizedError",
    "UnavailableError",
    "SIGNATURE_HEADER",
    "WebhookSignatureError",
    "verify_signature",
]

__version__ = "0.1.0"
