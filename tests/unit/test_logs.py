"""Access logs never carry an invitation or a reset token."""

import logging
import subprocess
import sys

import pytest
from uvicorn.logging import AccessFormatter

from backend.config import ROOT
from backend.logs import ACCESS_LOGGER, RedactTokens, install_log_filters, redact

TOKEN = "Zm9vYmFyYmF6cXV4LXRoaXMtaXMtYS10b2tlbl8xMjM0"
ACCESS_FORMAT = '%(client_addr)s - "%(request_line)s" %(status_code)s'


def _record(path: str, method: str = "GET", status: int = 200) -> logging.LogRecord:
    """A record as uvicorn's HTTP protocols make it."""
    return logging.LogRecord(
        name=ACCESS_LOGGER,
        level=logging.INFO,
        pathname=__file__,
        lineno=1,
        msg='%s - "%s %s HTTP/%s" %d',
        args=("127.0.0.1:50000", method, path, "1.1", status),
        exc_info=None,
    )


def _filtered(path: str) -> logging.LogRecord:
    record = _record(path)
    assert RedactTokens().filter(record) is True
    return record


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        (f"/invite/{TOKEN}", "/invite/[redacted]"),
        (f"/reset/{TOKEN}", "/reset/[redacted]"),
        (f"/reset/{TOKEN}?x=1", "/reset/[redacted]?x=1"),
        (f"/login?next=/invite/{TOKEN}", "/login?next=/invite/[redacted]"),
        (
            f"/login?next=/invite/{TOKEN}&expired=1",
            "/login?next=/invite/[redacted]&expired=1",
        ),
        (f"/signup?next=%2Finvite%2F{TOKEN}", "/signup?next=/invite/[redacted]"),
        (f"/signup?next=%252Finvite%252F{TOKEN}", "/signup?next=/invite/[redacted]"),
        (f"/login?next=/reset/{TOKEN}", "/login?next=/reset/[redacted]"),
        (f"/INVITE/{TOKEN}", "/INVITE/[redacted]"),
        (f"/x?/invite/{TOKEN}", "/x?/invite/[redacted]"),
    ],
)
def test_tokens_are_taken_out(path, logged):
    assert redact(path) == logged
    message = _filtered(path).getMessage()
    assert message == f'127.0.0.1:50000 - "GET {logged} HTTP/1.1" 200'
    assert TOKEN not in message


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/login?next=/plans/8c1e0d0e-55a4-4f0e-9d5e-0a0c1d7c2b11",
        "/plans/8c1e0d0e-55a4-4f0e-9d5e-0a0c1d7c2b11/agreed.pdf?paper=a4",
        "/static/css/app.css?v=0123456789",
        "/login?expired=1",
    ],
)
def test_other_paths_are_logged_as_they_are(path):
    assert _filtered(path).getMessage().split(" ")[3] == path


def test_any_next_value_that_names_an_invitation_is_hidden():
    message = _filtered("/login?next=%2Finvite").getMessage()
    assert "next=[redacted]" in message


def test_uvicorns_access_formatter_shows_the_redacted_path():
    formatter = AccessFormatter(ACCESS_FORMAT, use_colors=False)
    line = formatter.format(_filtered(f"/invite/{TOKEN}"))
    assert line == '127.0.0.1:50000 - "GET /invite/[redacted] HTTP/1.1" 200 OK'


def test_records_of_another_shape_pass_untouched():
    record = logging.LogRecord(
        ACCESS_LOGGER, logging.INFO, __file__, 1, "plain %s", ("words",), None
    )
    assert RedactTokens().filter(record) is True
    assert record.getMessage() == "plain words"


@pytest.fixture
def access_logger():
    """uvicorn's access logger, with its filters put back after the test."""
    logger = logging.getLogger(ACCESS_LOGGER)
    saved = list(logger.filters)
    yield logger
    logger.filters[:] = saved


def test_the_filter_is_installed_once(access_logger):
    install_log_filters()
    install_log_filters()
    assert sum(isinstance(f, RedactTokens) for f in access_logger.filters) == 1


SERVE = """
import logging
import uvicorn
from backend.logs import install_log_filters

install_log_filters()
# as in `mutual serve`: uvicorn applies its logging config after the filter is in
uvicorn.Config(app=lambda scope, receive, send: None, log_level="info")
logging.getLogger("uvicorn.access").info(
    '%s - "%s %s HTTP/%s" %d', "127.0.0.1:50000", "POST", "/reset/TOKEN", "1.1", 303
)
"""


def test_the_filter_survives_uvicorns_logging_setup():
    script = SERVE.replace("TOKEN", TOKEN)
    result = subprocess.run(  # noqa: S603  (our own interpreter and script)
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=ROOT,
    )
    output = result.stdout + result.stderr
    assert '"POST /reset/[redacted] HTTP/1.1" 303' in output
    assert TOKEN not in output
