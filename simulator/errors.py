"""Provides the Cloud API error table and an error's two shapes: a Graph body, a webhook item.

One table (reference §4.2) keeps code, title, details and HTTP status together, so a
synchronous 400 and an asynchronous `failed` status for the same code always agree.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

ERROR_HREF = "/documentation/business-messaging/whatsapp/support/error-codes"


@dataclass(frozen=True)
class ErrorSpec:
    title: str
    details: str
    http_status: int


# Codes, titles, details and HTTP statuses of reference §4.2 (Meta's error-code page).
ERRORS: dict[int, ErrorSpec] = {
    0: ErrorSpec("AuthException", "We were unable to authenticate the app user.", 401),
    4: ErrorSpec("Too many API calls", "The app has reached its API call rate limit.", 400),
    10: ErrorSpec("Permission denied",
                  "Permission is either not granted or has been removed.", 403),
    100: ErrorSpec("Invalid parameter", "The request included one or more unsupported or "
                   "misspelled parameters.", 400),
    190: ErrorSpec("Access token has expired", "Your access token has expired.", 401),
    368: ErrorSpec("Temporarily blocked for policies violations",
                   "The WhatsApp Business Account associated with the app has been restricted "
                   "or disabled for violating a platform policy.", 403),
    80007: ErrorSpec("Rate limit issues",
                     "The WhatsApp Business Account has reached its rate limit.", 400),
    130429: ErrorSpec("Rate limit hit", "Cloud API message throughput has been reached.", 400),
    131000: ErrorSpec("Something went wrong",
                      "Message failed to send due to an unknown error.", 500),
    131008: ErrorSpec("Required parameter is missing",
                      "The request is missing a required parameter.", 400),
    131009: ErrorSpec("Parameter value is not valid",
                      "One or more parameter values are invalid.", 400),
    # Not in the reference table; pywa maps it to ServiceUnavailable. Used by the http_503 fault.
    131016: ErrorSpec("Service unavailable", "A service is temporarily unavailable.", 503),
    131021: ErrorSpec("Recipient cannot be sender",
                      "Sender and recipient phone number is the same.", 400),
    131026: ErrorSpec("Message undeliverable", "Unable to deliver message: not a WhatsApp "
                      "number, new ToS not accepted, or an old client version", 400),
    131031: ErrorSpec("Account has been locked", "The WhatsApp Business Account associated "
                      "with the app has been restricted or disabled for violating a platform "
                      "policy, or we were unable to verify data included in the request.", 403),
    131047: ErrorSpec("Re-engagement message", "Message failed to send because more than 24 "
                      "hours have passed since the customer last replied to this number.", 400),
    131048: ErrorSpec("Spam rate limit hit", "Message failed to send because there are "
                      "restrictions on how many messages can be sent from this phone number. "
                      "This may be because too many previous messages were blocked or flagged "
                      "as spam.", 400),
    131049: ErrorSpec("Message not delivered to maintain healthy ecosystem engagement",
                      "In order to maintain a healthy ecosystem engagement, the message failed "
                      "to be delivered.", 400),
    131055: ErrorSpec("Method not allowed", "The method is not allowed for this endpoint.",
                      405),
    134100: ErrorSpec("Non-marketing template", "Only marketing templates can be sent with "
                      "the Marketing Messages API.", 400),
    134101: ErrorSpec("Template not ready", "The template is not ready to be sent with the "
                      "Marketing Messages API yet: retry later.", 400),
    131050: ErrorSpec("Unable to deliver the message", "Recipient chose to stop receiving "
                      "marketing messages.", 400),
    131051: ErrorSpec("Unsupported message type", "Unsupported message type.", 400),
    131052: ErrorSpec("Media download error", "Unable to download the media sent by the user.",
                      400),
    131053: ErrorSpec("Media upload error", "Unable to upload the media used in the message.",
                      400),
    131056: ErrorSpec("(Business Account, Consumer Account) pair rate limit hit",
                      "Too many messages sent from the sender phone number to the same "
                      "recipient phone number in a short period of time.", 400),
    131057: ErrorSpec("Account in maintenance mode",
                      "Business Account is in maintenance mode.", 500),
    132000: ErrorSpec("Template Param Count Mismatch", "The number of variable parameter "
                      "values included in the request did not match the number of variable "
                      "parameters defined in the template.", 400),
    132001: ErrorSpec("Template does not exist", "The template does not exist in the "
                      "specified language or the template has not been approved.", 404),
    132012: ErrorSpec("Parameter format mismatch",
                      "Variable parameter values formatted incorrectly.", 400),
    132015: ErrorSpec("Template is Paused", "Template is paused due to low quality so it "
                      "cannot be sent in a template message.", 400),
    132016: ErrorSpec("Template is Disabled", "Template has been paused too many times due to "
                      "low quality and is now permanently disabled.", 400),
    133010: ErrorSpec("Account not registered",
                      "Phone number not registered on the WhatsApp Business Platform.", 400),
}


class GraphError(Exception):
    """A Graph call that fails synchronously; the dispatcher turns it into Meta's error body.

    `details` narrows the table's generic text to this request (which parameter, which
    limit), as Meta's `error_data.details` does. `message` replaces "(#code) title" for
    the few Graph-level errors whose text Graph words differently (unknown object, bad token).
    """

    def __init__(self, code: int, details: str | None = None, *, message: str | None = None,
                 subcode: int | None = None, error_type: str = "OAuthException",
                 http_status: int | None = None) -> None:
        spec = ERRORS[code]
        self.code = code
        self.details = details or spec.details
        self.message = message or f"(#{code}) {spec.title}"
        self.subcode = subcode
        self.error_type = error_type
        self.http_status = http_status or spec.http_status
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": self.error_type,
                                 "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        error["fbtrace_id"] = fbtrace_id()
        return {"error": error}


def fbtrace_id() -> str:
    """A trace id shaped like Graph's (23 URL-safe characters), useless outside the simulator."""
    return secrets.token_urlsafe(18)[:23]


def unknown_object(method: str, object_id: str) -> GraphError:
    """Graph's wording for an id it does not know, or an edge it does not serve."""
    return GraphError(
        100, f"Object with ID '{object_id}' does not exist.", error_type="GraphMethodException",
        subcode=33,
        message=(f"Unsupported {method.lower()} request. Object with ID '{object_id}' does not "
                 "exist, cannot be loaded due to missing permissions, or does not support this "
                 "operation. Please read the Graph API documentation at "
                 "https://developers.facebook.com/docs/graph-api"))


def bad_token() -> GraphError:
    return GraphError(190, "The access token could not be decrypted.",
                      message="(#190) Invalid OAuth access token - Cannot parse access token")


def expired_token() -> GraphError:
    return GraphError(190, subcode=463)  # 463: Graph's "session has expired" subcode (3p, †)


def webhook_error(code: int, details: str | None = None) -> dict[str, Any]:
    """The `errors[]` item of a failed status: title equals message (reference §2.7)."""
    spec = ERRORS[code]
    return {"code": code, "title": spec.title, "message": spec.title,
            "error_data": {"details": details or spec.details}, "href": ERROR_HREF}
