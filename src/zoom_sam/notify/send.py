"""Delivering messages to a profile's targets, without ever holding up or failing the task.

Webhooks go through the HTTP provider's ``HttpNotifier`` (a JSON POST to the connection's URL),
e-mail through the SMTP provider's ``SmtpNotifier``: the connections, their credentials and TLS
settings stay Airflow's. Their ``notify`` is called directly rather than through the notifier's
``__call__``, which would render the message as a Jinja template (a ``{{`` in an error text
would then be evaluated).

Every send runs in its own daemon thread and the task waits for all of them together until
``notifications.timeout_seconds``: a receiver that hangs, or an SMTP connection whose retries
(``retry_limit`` x ``timeout`` of its extras) would take minutes, costs the task that long at
most, and a thread still stuck then cannot keep the task's process from exiting. A failed or late
send is a warning in the task log and a ``failed`` count, never an exception.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from zoom_sam.notify.messages import Message
from zoom_sam.notify.redaction import redact
from zoom_sam.profiles import EmailTarget, Notifications, WebhookTarget

log = logging.getLogger(__name__)


@dataclass
class Delivery:
    """What became of one batch of sends."""

    sent: int = 0
    failed: int = 0

    def counts(self) -> dict[str, int]:
        return {"sent": self.sent, "failed": self.failed}


def deliver(notifications: Notifications, messages: Sequence[Message], secrets: Sequence[str] = ()) -> Delivery:
    """Send each message to every target that wants its event; waits at most the profile's timeout."""
    secrets = tuple(secrets)
    sends = [(target, message.redacted(secrets)) for message in messages
             for target in notifications.targets() if message.wanted_by(target)]
    delivery = Delivery()
    if not sends:
        return delivery
    timeout = notifications.timeout_seconds
    done: queue.Queue[tuple[int, BaseException | None]] = queue.Queue()
    for index, (target, message) in enumerate(sends):
        threading.Thread(target=_send_one, args=(index, target, message, timeout, done), daemon=True,
                         name=f"zoom-sam-notify-{index}").start()
    deadline = time.monotonic() + timeout
    pending = set(range(len(sends)))
    while pending:
        try:
            index, error = done.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        pending.discard(index)
        if error is None:
            delivery.sent += 1
        else:
            _failed(delivery, sends[index], f"{type(error).__name__}: {error}", secrets)
    for index in sorted(pending):
        _failed(delivery, sends[index], f"no answer within {timeout} s", secrets)
    return delivery


def _send_one(index: int, target: WebhookTarget | EmailTarget, message: Message, timeout: int,
              done: queue.Queue[tuple[int, BaseException | None]]) -> None:
    try:
        if isinstance(target, WebhookTarget):
            from airflow.providers.http.notifications.http import HttpNotifier

            HttpNotifier(http_conn_id=target.conn_id, json=message.payload(),
                         extra_options={"timeout": timeout}).notify({})
        else:
            from airflow.providers.smtp.notifications.smtp import SmtpNotifier

            SmtpNotifier(to=list(target.to), subject=message.subject(), html_content=message.html(),
                         smtp_conn_id=target.conn_id).notify({})
    except BaseException as exc:  # noqa: BLE001 - whatever a receiver does, the task goes on
        done.put((index, exc))
    else:
        done.put((index, None))


def _failed(delivery: Delivery, send: tuple[WebhookTarget | EmailTarget, Message], why: str,
            secrets: tuple[str, ...]) -> None:
    target, message = send
    kind = "webhook" if isinstance(target, WebhookTarget) else "e-mail"
    problem = redact(f"{kind} {target.conn_id} ({message.event.value}): {why}", secrets)
    delivery.failed += 1
    log.warning("notification not delivered, the task goes on: %s", problem)
