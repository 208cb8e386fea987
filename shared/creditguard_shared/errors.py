"""Domain errors carry their HTTP status; one handler renders every error as RFC 9457 problem+json."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://creditguard.dev/problems/"

logger = logging.getLogger(__name__)
# What reading a JSON body raises besides a JSONDecodeError: bytes that are not UTF-8, nesting deeper than the parser recurses.
UNREADABLE_BODY = (UnicodeDecodeError, RecursionError)


class DomainError(Exception):
    """Base of every error a service raises on purpose; subclasses pick the status."""

    status: int = 400
    problem_type: str = "bad-request"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class NotFound(DomainError):
    status = 404
    problem_type = "not-found"


class Conflict(DomainError):
    status = 409
    problem_type = "conflict"


class Unprocessable(DomainError):
    status = 422
    problem_type = "validation-error"


class Unauthorized(DomainError):
    status = 401
    problem_type = "unauthorized"


class Forbidden(DomainError):
    status = 403
    problem_type = "forbidden"


class ServiceUnavailable(DomainError):
    status = 503
    problem_type = "service-unavailable"


def problem_response(
    *, status: int, problem_type: str, detail: str, instance: str | None = None, headers: dict[str, str] | None = None, **extensions: Any
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + problem_type,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extensions)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_CONTENT_TYPE, headers=headers)


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for error in exc.errors():
        # "body" / "query" / "path" prefixes tell the client where, the rest names the field.
        location = [str(part) for part in error.get("loc", ())]
        errors.append(
            {
                "field": ".".join(location[1:]) if len(location) > 1 else ".".join(location),
                "location": location[0] if location else None,
                "message": error.get("msg", "invalid"),
                "type": error.get("type"),
            }
        )
    return errors


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain_error(request: Request, exc: DomainError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return problem_response(
            status=exc.status,
            problem_type=exc.problem_type,
            detail=exc.detail,
            instance=request.url.path,
            headers=headers,
            **exc.extensions,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _field_errors(exc)
        # The detail names each field with what is wrong, so a person reading a log needs nothing else.
        fields = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5] if e["field"])
        return problem_response(
            status=422,
            problem_type="validation-error",
            detail=f"Request validation failed: {fields}" if fields else "Request validation failed",
            instance=request.url.path,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and isinstance(exc.__cause__, UNREADABLE_BODY):
            # FastAPI answers a body that is not UTF-8 (or nests too deep to parse) with a bare 400, but
            # malformed JSON with a 422: both are a body that is not JSON, so both get the same 422.
            return problem_response(
                status=422,
                problem_type="validation-error",
                detail="Request validation failed: body: not a JSON document in UTF-8",
                instance=request.url.path,
                errors=[{"field": "body", "location": "body", "message": "not a JSON document in UTF-8", "type": "json_invalid"}],
            )
        return problem_response(
            status=exc.status_code,
            problem_type=HTTPStatus(exc.status_code).phrase.lower().replace(" ", "-"),
            detail=str(exc.detail),
            instance=request.url.path,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(DBAPIError)
    async def _database_error(request: Request, exc: DBAPIError) -> JSONResponse:
        if not exc.connection_invalidated:
            return await _unexpected_error(request, exc)
        # The connection died under the request (a database restart, a dropped link): the
        # transaction rolled back, the pool replaces its connections, and the same request sent
        # again is answered normally (every write route is idempotent by its document's id).
        logger.warning("database connection lost on %s %s: %s", request.method, request.url.path, exc.orig)
        return problem_response(
            status=503,
            problem_type="database-unavailable",
            detail="The database connection was lost; nothing was changed. Send the request again.",
            instance=request.url.path,
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(Exception)
    async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return problem_response(
            status=500,
            problem_type="internal-error",
            detail="An unexpected error occurred; it has been logged.",
            instance=request.url.path,
        )


PROBLEM_SCHEMA = {
    "type": "object",
    "description": "An RFC 9457 problem: what went wrong, for a program (type, status) and a person (title, detail).",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "location": {"type": ["string", "null"]},
                    "message": {"type": "string"},
                    "type": {"type": ["string", "null"]},
                },
            },
        },
    },
    "additionalProperties": True,
}
ERROR_DESCRIPTIONS = {
    401: "No API key, or one that is not valid",
    403: "The key's role may not do this",
    404: "Not found",
    409: "Conflicts with what is recorded (a document re-sent with other content, a decision already taken)",
    422: "The request is not valid; `errors` lists each field",
}


def document_problems(app: FastAPI) -> None:
    """Every operation's error answers in the OpenAPI document, as problem+json: 401 and 403 on
    the authenticated API, 404 where the path names something, 409 on writes, 422 where there is
    input. FastAPI's own 422 schema (plain JSON) is replaced, because the handler above answers
    every validation error as a problem."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Problem"] = PROBLEM_SCHEMA
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        content = {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                statuses = set()
                if path.startswith(("/v1/", "/admin/")):
                    statuses |= {401, 403}
                if "{" in path:
                    statuses.add(404)
                if method in ("post", "put", "patch") and path.startswith("/v1/"):
                    statuses.add(409)
                if operation.get("parameters") or operation.get("requestBody"):
                    statuses.add(422)
                responses = operation.setdefault("responses", {})
                for status in sorted(statuses):
                    responses[str(status)] = {"description": ERROR_DESCRIPTIONS[status], "content": content}
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # replacing app.openapi is how FastAPI documents extending the schema
