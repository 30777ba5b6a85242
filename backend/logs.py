"""Logging: invitation and reset tokens never reach the access log.

A token in a URL is as good as a key, so `/invite/<token>`, `/reset/<token>` and
any query value that carries such a path (`?next=/invite/<token>`) are written
to the log as `/invite/[redacted]`.
"""

import logging
import re
from urllib.parse import unquote_plus

ACCESS_LOGGER = "uvicorn.access"
REDACTED = "[redacted]"
_TOKEN_PATH = re.compile(r"(/(?:invite|reset)/)[^/?#&\s]+", re.IGNORECASE)
_TOKEN_WORD = re.compile(r"invite|reset", re.IGNORECASE)
_KEEP_PREFIX = rf"\1{REDACTED}"


def _redact_path(path: str) -> str:
    if _TOKEN_PATH.search(path):
        return _TOKEN_PATH.sub(_KEEP_PREFIX, path)
    plain = unquote_plus(path)
    if _TOKEN_PATH.search(plain):
        return _TOKEN_PATH.sub(_KEEP_PREFIX, plain)
    return path


def _redact_value(value: str) -> str:
    plain = value
    for _ in range(3):  # a value may be quoted more than once
        plain = unquote_plus(plain)
    if _TOKEN_PATH.search(plain):
        return _TOKEN_PATH.sub(_KEEP_PREFIX, plain)
    if _TOKEN_WORD.search(plain):
        return REDACTED
    return value


def _redact_parameter(parameter: str) -> str:
    name, equals, value = parameter.partition("=")
    if not equals:
        return _redact_value(parameter)
    return f"{name}={_redact_value(value)}"


def redact(full_path: str) -> str:
    """A request path and query as logged, with every token taken out."""
    path, question, query = full_path.partition("?")
    path = _redact_path(path)
    if question:
        query = "&".join(_redact_parameter(p) for p in query.split("&"))
    return path + question + query


class RedactTokens(logging.Filter):
    """Rewrites the path in uvicorn's access records.

    Their args are (client address, method, path with query, HTTP version, status).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], redact(args[2]), args[3], args[4])
        return True


def install_log_filters() -> None:
    """Attach the filter to uvicorn's access logger (once)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, RedactTokens) for f in logger.filters):
        logger.addFilter(RedactTokens())
