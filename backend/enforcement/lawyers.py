"""Partner lawyers reach their cases through a signed link sent by mail: no account, no wallet.

The link carries a token signed with the backend's secret key (itsdangerous), naming the case and
the firm's address, valid for `LINK_DAYS`. It points at the web app's `/lawyer` page with the
token in the URL fragment, which browsers never send to a server, so it stays out of access logs;
the page calls the API with the token in the `X-Lawyer-Token` header.
"""

from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from backend.enforcement.cases import Enforcement
from backend.enforcement.models import Case, CaseMessage
from backend.enforcement.owner import case_detail
from backend.errors import InvalidInput, Unauthenticated

LINK_DAYS = 180
SALT = "copytrack-partner-lawyer"


def _serializer(env: Enforcement) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(env.signing_key, salt=SALT)


def lawyer_token(env: Enforcement, case_id: int, email: str) -> str:
    return _serializer(env).dumps({"case": case_id, "email": email})


def lawyer_link(env: Enforcement, case_id: int, email: str) -> str:
    return f"{env.public_url}/lawyer#{lawyer_token(env, case_id, email)}"


def _verified(env: Enforcement, token: str | None) -> tuple[int, str]:
    if not token:
        raise Unauthenticated("open the link from the case mail (it carries the token)")
    try:
        data = _serializer(env).loads(token, max_age=LINK_DAYS * 86_400)
    except SignatureExpired:
        raise Unauthenticated(f"this link is older than {LINK_DAYS} days; ask the operator for a new one") from None
    except BadSignature:
        raise Unauthenticated("this link is not valid; open it exactly as it came in the mail") from None
    return int(data["case"]), str(data["email"])


def lawyer_case(env: Enforcement, token: str | None) -> dict:
    """The case the link names, as its owner sees it."""
    case_id, email = _verified(env, token)
    with env.database.session() as db:
        owner = db.get(Case, case_id).rights_holder
    detail = case_detail(env, case_id, owner, frozenset())
    return {**detail, "lawyer": email}


def lawyer_message(env: Enforcement, token: str | None, body: str) -> None:
    case_id, email = _verified(env, token)
    body = (body or "").strip()
    if not body:
        raise InvalidInput("the message is empty")
    with env.database.session() as db:
        db.add(CaseMessage(case_id=case_id, author_role="lawyer", author=email, body=body[:5000]))
