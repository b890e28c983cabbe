"""Registration, profile and password changes: clear messages, nothing written on bad input, audited."""

import pytest
from sqlalchemy import func
from sqlmodel import select

from investment_app.auth import sessions
from investment_app.models.audit import AuditRecord
from investment_app.models.user import Role, User
from investment_app.services import accounts
from investment_app.services.errors import InvalidInput


def _count(db, model) -> int:
    return db.exec(select(func.count()).select_from(model)).one()


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("not-an-email", "correct horse 42", "valid e-mail"),
        ("a@b", "correct horse 42", "valid e-mail"),
        ("ann@example.com", "short", "at least 10"),
        ("ann@example.com", "password123", "common"),
    ],
)
def test_bad_registration_writes_nothing(db, email, password, message):
    with pytest.raises(InvalidInput, match=message):
        accounts.create_user(db, email, password)
    db.rollback()
    assert _count(db, User) == 0 and _count(db, AuditRecord) == 0


def test_duplicate_email_is_refused_case_insensitively(db):
    accounts.create_user(db, "Ann@Example.com", "correct horse 42")
    db.commit()
    with pytest.raises(InvalidInput, match="already exists"):
        accounts.create_user(db, " ann@example.COM ", "another horse 42")
    db.rollback()
    assert _count(db, User) == 1


def test_registration_is_audited_with_default_role(db):
    user = accounts.create_user(db, "ann@example.com", "correct horse 42", "Ann")
    db.commit()
    assert user.role is Role.ANALYST and user.email == "ann@example.com"
    record = db.exec(select(AuditRecord)).one()
    assert (record.action, record.entity_id, record.after) == (
        "user.create",
        str(user.id),
        {"email": "ann@example.com", "role": "analyst"},
    )


def _signed_in(db, email="ann@example.com"):
    user = accounts.create_user(db, email, "correct horse 42", "Ann")
    token = sessions.redeem_ticket(db, sessions.issue_ticket(db, user.id))
    other = sessions.redeem_ticket(db, sessions.issue_ticket(db, user.id))
    db.commit()
    return sessions.resolve(db, token), other


def test_change_password_checks_current_and_signs_out_other_sessions(db):
    viewer, other = _signed_in(db)
    with pytest.raises(InvalidInput, match="Current password"):
        accounts.change_password(db, viewer, "wrong password 1", "brand new pass 7")
    with pytest.raises(InvalidInput, match="at least 10"):
        accounts.change_password(db, viewer, "correct horse 42", "short")
    assert accounts.change_password(db, viewer, "correct horse 42", "brand new pass 7") == 1
    db.commit()
    assert sessions.resolve(db, other) is None
    with pytest.raises(InvalidInput):
        accounts.sign_in(db, "ann@example.com", "correct horse 42", "1.1.1.1")
    assert accounts.sign_in(db, "ann@example.com", "brand new pass 7", "1.1.1.1")


def test_profile_update_is_validated_and_audited(db):
    viewer, _ = _signed_in(db)
    with pytest.raises(InvalidInput):
        accounts.update_profile(db, viewer, "   ")
    accounts.update_profile(db, viewer, "Ann Lee")
    db.commit()
    record = db.exec(select(AuditRecord).where(AuditRecord.action == "user.profile")).one()
    assert record.before == {"display_name": "Ann"} and record.after == {"display_name": "Ann Lee"}


def test_sessions_list_marks_the_current_one(db):
    viewer, _ = _signed_in(db)
    rows = accounts.list_sessions(db, viewer)
    assert len(rows) == 2 and sum(r.current for r in rows) == 1
