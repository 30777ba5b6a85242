"""Domain errors: plain Python, raised by services; the web layer renders them."""


class DomainError(Exception):
    status = 400
    title = "Something went wrong"

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """What a non-partner gets for any plan URL: a plan's existence stays private."""

    status = 404
    title = "Not found"


class Forbidden(DomainError):
    status = 403
    title = "That can't be done from here"


class FormError(DomainError):
    """Input a person can fix; `errors` maps field names to messages."""

    status = 422
    title = "Please look at this again"

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = errors


class Conflict(DomainError):
    status = 409
    title = "Changed in the meantime"
