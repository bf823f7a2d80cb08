"""Provides the queue port: how faces and the scheduler hand work to a worker, without Dramatiq.

Every method takes ids only and answers whether a worker will get the job. False means the
queue did not answer (Redis down or restarting): nothing is lost, because each job's state
is in the database and a sweeper re-queues it (the inbox and outbox sweepers, the key-job
nudge), or the caller does the job itself (an e-mail that must not wait). The one real
port is built in `appliance.tasks.queue_port`, once per process; tests and in-process apps
use `NoQueue`.
"""

from __future__ import annotations

from typing import Protocol


class QueuePort(Protocol):
    def process_events(self, event_ids: list[int]) -> bool:
        """Apply stored webhook events (the inbox sweeper re-queues them otherwise)."""
        ...

    def fetch_media(self, media_id: int) -> bool:
        """Download a media file a message names."""
        ...

    def auto_reply(self, message_ids: list[int]) -> bool:
        """Run Auto Reply's rules for new inbound messages (its sweeper re-queues them)."""
        ...

    def send_outbox(self, outbox_id: int) -> bool:
        """Send a reply (the outbox sweeper re-sends it otherwise)."""
        ...

    def alert_health(self, health_row_id: int) -> bool:
        """Tell staff about a change of the number's health."""
        ...

    def notify_new_device(self, login_event_id: int) -> bool:
        """E-mail a user about a sign-in from a new device."""
        ...

    def notify_content_granted(self, audit_seq: int) -> bool:
        """E-mail every admin that someone may now read messages."""
        ...

    def rotate_data_keys(self, job_id: int) -> bool:
        """Run a data-key rotation in the worker (the scheduler nudges it otherwise)."""
        ...

    def run_campaign(self, campaign_id: int) -> bool:
        """Send a broadcast for a while (the scheduler takes it up again otherwise)."""
        ...


class NoQueue:
    """A port with no worker behind it: every job is left to its sweeper or its caller."""

    def process_events(self, event_ids: list[int]) -> bool:
        return False

    def fetch_media(self, media_id: int) -> bool:
        return False

    def auto_reply(self, message_ids: list[int]) -> bool:
        return False

    def send_outbox(self, outbox_id: int) -> bool:
        return False

    def alert_health(self, health_row_id: int) -> bool:
        return False

    def notify_new_device(self, login_event_id: int) -> bool:
        return False

    def notify_content_granted(self, audit_seq: int) -> bool:
        return False

    def rotate_data_keys(self, job_id: int) -> bool:
        return False

    def run_campaign(self, campaign_id: int) -> bool:
        return False
