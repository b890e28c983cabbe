"""Who is asking: the signed-in user behind a request, and role checks on it."""

from __future__ import annotations

from dataclasses import dataclass

from investment_app.models.user import Role
from investment_app.services.errors import Forbidden


@dataclass(frozen=True)
class Viewer:
    """The signed-in user of one request or event, resolved on the server from the session."""

    user_id: int
    email: str
    display_name: str
    role: Role
    session_id: str

    def require(self, role: Role) -> Viewer:
        """Return self when the viewer has at least ``role``, else raise Forbidden."""
        if not self.role.allows(role):
            raise Forbidden(f"This needs the {role.value} role; you are {self.role.value}.")
        return self
