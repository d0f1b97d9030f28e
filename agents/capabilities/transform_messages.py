"""AutoGen's ``TransformMessages`` capability: transforms applied before every model reply.

::

    context_handling = TransformMessages(transforms=[MessageHistoryLimiter(max_messages=10)])
    context_handling.add_to_agent(assistant)

It attaches as a ``process_all_messages_before_reply`` hook: the agent's stored history stays
whole; only what goes to the model is transformed. A leading system message is kept apart
from the transforms and put back first.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .transforms import MessageTransform

if TYPE_CHECKING:
    from ..conversable import ConversableAgent

__all__ = ["TransformMessages"]


class TransformMessages:
    """Applies ``transforms`` in order to the messages an agent replies to.

    Args:
        transforms: objects with ``apply_transform`` and ``get_logs`` (see ``transforms``).
        verbose: print what each transform changed.
    """

    def __init__(self, *, transforms: Sequence[MessageTransform] = (), verbose: bool = True) -> None:
        self._transforms = list(transforms)
        self._verbose = verbose

    def add_to_agent(self, agent: ConversableAgent) -> None:
        """Transform what ``agent`` sends to its model from now on."""
        agent.register_hook(hookable_method="process_all_messages_before_reply", hook=self._transform_messages)

    def _transform_messages(self, messages: Sequence[Any]) -> list[dict[str, Any]]:
        dicts = [m.to_dict() if hasattr(m, "to_dict") else copy.deepcopy(dict(m)) for m in messages]
        system = dicts[:1] if dicts and dicts[0].get("role") == "system" else []
        rest = dicts[len(system) :]
        for transform in self._transforms:
            before = rest
            rest = transform.apply_transform(copy.deepcopy(rest))
            if self._verbose:
                text, changed = transform.get_logs(before, rest)
                if changed:
                    print(text)
        return [*system, *rest]
