"""Provides the backlog alarm: the IT admin hears when customers' messages stop moving.

With the worker down (or Redis, or the database full), the webhook listener still
acknowledges Meta, because every event is committed first: nothing is lost, but no
agent sees the messages either. The scheduler looks at the oldest event not yet
processed; once it has waited `STUCK_AFTER`, the alert recipients get one e-mail, and
one more when the backlog has drained. E-mail only: the WhatsApp channel goes through
the very worker that may be down. The text holds counts and times, nothing of any
customer.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from appliance.config import Settings
from appliance.notify.email import EmailError, send_email

log = logging.getLogger(__name__)

STUCK_AFTER_SECONDS = 300.0  # five minutes without an answer is what customers notice
CAUGHT_UP_SECONDS = 60.0  # drained: nothing waits longer than the sweeper's first pass
RETRY_MAIL_SECONDS = 600.0  # a mail server that refused: try again, not every tick


@dataclass
class BacklogAlarm:
    raised: bool = False
    failed_at: float = float("-inf")  # monotonic time of the last refused alert

    def check(self, settings: Settings, waiting: int, oldest_seconds: float | None,
              now: float | None = None) -> str | None:
        """Returns "raised" or "cleared" when it sent (or logged) such an alert."""
        now = time.monotonic() if now is None else now
        stuck = oldest_seconds is not None and oldest_seconds >= STUCK_AFTER_SECONDS
        caught_up = oldest_seconds is None or oldest_seconds < CAUGHT_UP_SECONDS
        if stuck and not self.raised and now - self.failed_at >= RETRY_MAIL_SECONDS:
            minutes = int((oldest_seconds or 0) // 60)
            if self._tell(settings, "Gembok: customers' messages are waiting",
                          f"{waiting} WhatsApp event(s) have been received but not processed; "
                          f"the oldest has waited {minutes} min. Nothing is lost (each one "
                          "is stored), but agents do not see them yet. Check the worker and "
                          "Redis: `gembok doctor`, `systemctl status 'gembok-*'` or the "
                          "output of `gembok run`.", now):
                self.raised = True
                return "raised"
        elif self.raised and caught_up:
            self._tell(settings, "Gembok: messages are moving again",
                       "The WhatsApp events that were waiting have been processed; agents "
                       f"see them in the Chatroom. Waiting now: {waiting}.", now)
            self.raised = False
            return "cleared"
        return None

    def _tell(self, settings: Settings, subject: str, body: str, now: float) -> bool:
        log.error("%s (%s)", subject.removeprefix("Gembok: "), body.split(";")[0])
        emails = list(settings.alerts.emails)
        if not emails:
            return True  # the log line is all there is: nobody to mail
        try:
            send_email(settings.smtp, emails, subject, body)
        except EmailError as exc:
            log.warning("backlog alert not e-mailed: %s", exc)
            self.failed_at = now
            return False
        return True
