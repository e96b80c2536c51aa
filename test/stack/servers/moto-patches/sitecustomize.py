"""Patches the stack's moto at start-up: servers/moto.ts puts this directory on PYTHONPATH.

moto's SendMessage looks up ContentBasedDeduplication in the queue's whole attribute dict
(SQSBackend.send_message, for every queue type, as in every moto from 2.0.0 to 5.2.6), and
building that dict counts the queue's messages three times, reading the clock twice per message
for the visible count and once per message for each other count. A message sent into a queue N
deep so costs about 4N clock reads (each a few microseconds), and a plan's 2,000 messages into one
queue cost moto a minute, where SQS's SendMessage does not grow with the queue
(docs/benchmarks.md#fleets).

The counts here make the same comparisons as Message.visible and Message.delayed, against one
clock reading per count instead of one per message (a count at one moment); nothing else of moto
changes, and a count still visits every message. A moto without these members fails at start
rather than running unpatched: a version bump should look again, and drop this if moto fixed it.
"""

from moto.core.utils import unix_time_millis
from moto.sqs.models import Message, Queue

_PATCHED = (
    (Queue, "messages"),
    (Queue, "approximate_number_of_messages_delayed"),
    (Queue, "approximate_number_of_messages_not_visible"),
    (Message, "visible"),
    (Message, "delayed"),
)
for owner, name in _PATCHED:
    if not isinstance(getattr(owner, name, None), property):
        raise RuntimeError(f"moto-patches: moto's {owner.__name__}.{name} changed, see {__file__}")


def _messages(self: Queue) -> list[Message]:
    # Message.visible is `now > visible_at`, Message.delayed is `now < delayed_until`.
    now = unix_time_millis()
    return [m for m in self._messages if now > m.visible_at and not now < m.delayed_until]


def _delayed(self: Queue) -> int:
    now = unix_time_millis()
    return sum(1 for m in self._messages if now < m.delayed_until)


def _not_visible(self: Queue) -> int:
    now = unix_time_millis()
    return sum(1 for m in self._messages if not now > m.visible_at)


Queue.messages = property(_messages)
Queue.approximate_number_of_messages_delayed = property(_delayed)
Queue.approximate_number_of_messages_not_visible = property(_not_visible)
