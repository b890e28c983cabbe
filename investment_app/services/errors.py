"""Errors a use case raises; their message is written for the user and names the problem."""


class ServiceError(Exception):
    """Base class: the message is safe to show to the user."""


class InvalidInput(ServiceError):
    """The request is malformed or breaks a rule; nothing was written."""


class Forbidden(ServiceError):
    """The viewer is not allowed to do this."""


class RateLimited(ServiceError):
    """Too many failed attempts; try again later."""


class NoTransactions(InvalidInput):
    """The portfolio has nothing to value yet."""
