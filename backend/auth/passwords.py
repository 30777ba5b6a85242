"""Password rules and argon2id hashing, with a cap on concurrent hashes."""

import re
import threading
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from backend.config import Settings

MIN_LENGTH = 12
MAX_LENGTH = 1024
# OWASP's floor for argon2id: 19 MiB of memory, 2 passes, 1 lane
OWASP_FLOOR_MEMORY_KIB = 19456
OWASP_FLOOR_TIME_COST = 2
_TRAILING_NOISE = re.compile(r"[\d\W_]+$")


@cache
def _common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def is_common(password: str) -> bool:
    """A listed common password, alone or with digits and symbols added at the end."""
    lowered = password.lower()
    common = _common_passwords()
    stripped = _TRAILING_NOISE.sub("", lowered)
    return (
        lowered in common
        or (len(stripped) >= 4 and stripped in common)
        or (len(set(lowered)) <= 2)
    )


def password_problem(password: str) -> str | None:
    """Why a new password can't be used, in words for the person; None if it can."""
    if len(password) < MIN_LENGTH:
        return (
            f"Please use at least {MIN_LENGTH} characters. "
            "A few words together works well."
        )
    if len(password) > MAX_LENGTH:
        return f"Please use at most {MAX_LENGTH} characters."
    if is_common(password):
        return (
            "That password is one of the most common ones, so it is easy to guess. "
            "Please choose another."
        )
    return None


class Hasher:
    """argon2id with the configured cost; at most `concurrency` hashes at a time."""

    def __init__(self, settings: Settings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        )
        self._slots = threading.BoundedSemaphore(settings.hash_concurrency)
        with self._slots:
            self._dummy = self._hasher.hash("an unused password for timing")

    @property
    def parameters(self) -> tuple[int, int, int]:
        h = self._hasher
        return h.time_cost, h.memory_cost, h.parallelism

    def hash(self, password: str) -> str:
        with self._slots:
            return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        """Check a password; with no stored hash, spend the same time and say no."""
        with self._slots:
            try:
                return self._hasher.verify(stored or self._dummy, password) and (
                    stored is not None
                )
            except (VerificationError, InvalidHashError):
                return False

    def needs_rehash(self, stored: str) -> bool:
        return self._hasher.check_needs_rehash(stored)
