"""Zoom's error responses: ``{"code": int, "message": str}`` with the HTTP status Zoom pairs
with each code, raised from anywhere in request handling and rendered in one place."""
from __future__ import annotations


class ZoomError(Exception):
    def __init__(self, status: int, code: int, message: str, **extra) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def body(self) -> dict:
        return {"code": self.code, "message": self.message, **self.extra}


def invalid_token() -> ZoomError:
    return ZoomError(401, 124, "Invalid access token.")


def missing_scope(scope: str) -> ZoomError:
    # 400 as observed in the wild for 4711 on REST calls (zoom/zoomapps-sample-js#25).
    return ZoomError(400, 4711, f"Invalid access token, does not contain scopes:[{scope}].")


def user_not_found(user_id: str) -> ZoomError:
    return ZoomError(404, 1001, f"User does not exist: {user_id}.")


def bad_page_token() -> ZoomError:
    return ZoomError(400, 300, "The next page token is invalid or expired.")


def invalid_field(field: str) -> ZoomError:
    return ZoomError(400, 300, "Validation Failed.", errors=[{"field": field, "message": "Invalid field."}])


def invalid_body() -> ZoomError:
    return ZoomError(400, 300, "Request Body should be a valid JSON object.")


def webinar_plan_missing() -> ZoomError:
    return ZoomError(
        400,
        200,
        "Webinar plan is missing. You must subscribe to the webinar plan and enable webinar for "
        "this user in order to perform this action.",
    )


# Messages Zoom documents for refused licence changes (OpenAPI S1, facts digest section 5), per
# write endpoint; a refusal configured with a code missing here gets the PATCH /users message or
# a generic one.
_REFUSALS: dict[str, dict[int, str]] = {
    "user": {
        200: "A Zoom Room user cannot be updated to a free user type: {uid}",
        300: 'You cannot change the user type to "Basic" because this user has an upcoming Zoom Events scheduled.',
        1108: "Permission requirements to change the user type of this user were not met.",
        1109: "Host is not a paid user.",
        1120: "A valid invitation to join the Zoom account was not found for this user.",
        2033: 'Your request to convert the user type to "Basic" was not approved because you have already '
        "reached the maximum basic user limit allowed in your account. For additional help regarding this "
        "issue, contact the Zoom Customer Support team.",
        2034: 'Your request to convert the plan type of this user to "Basic" was not approved at this time '
        "because your account has reached the permitted maximum number of \"Basic\" users.",
        2038: "Your request to convert the plan type of this user was not approved at this time because your "
        "account has reached the permitted maximum number.",
        2039: "You can't turn off your Zoom One license now because you don't have enough basic licenses.",
        3412: 'Your request to convert the user type of this "Licensed" user to a "Basic" user was not approved '
        'at this time because your account has reached the permitted maximum number of Basic users. '
        'Remove existing basic user(s) from your "Users" list or the "Pending Users" list before attempting to '
        "convert a user to a Basic user.",
    },
    "settings": {
        300: "You cannot remove the Zoom Events feature for this user because the user has an upcoming Zoom "
        "Events scheduled.",
        1120: "A valid invitation to join the Zoom account was not found for this user.",
    },
    "delete": {
        200: "Cannot delete a Zoom Rooms user.",
        300: "This user has published events on Zoom Events and cannot be deleted or unlinked.",
        1000: "The user cannot be changed because they are a Call-queue manager or Auto-receptionist operator.",
        1107: "You can not disassociate a user with managed domain.",
        1117: "You can not disassociate an Admin user.",
        1120: "A valid invitation to join the Zoom account was not found for this user.",
    },
}


def refusal(endpoint: str, code: int, uid: str, message: str | None = None) -> ZoomError:
    text = message or _REFUSALS[endpoint].get(code) or _REFUSALS["user"].get(code)
    if text is None:
        text = f"The request was refused (code {code})."
    return ZoomError(400, code, text.format(uid=uid))
