"""Background task of the chat bots (django-tasks; ``manage.py db_worker`` runs it)."""

from __future__ import annotations

from django_tasks import task


@task()
def deliver_chat_message(delivery_id: int) -> str:
    """One try of a chat delivery; a failure queues the next try with backoff (chat.attempt)."""
    from kefu.integrations import chat

    return chat.attempt(delivery_id)
