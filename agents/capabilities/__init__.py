"""AutoGen's agent capabilities: add-ons that attach to an agent through its hooks.

Also importable by AutoGen's paths, ``agents.agentchat.contrib.capabilities.transform_messages``
and ``...transforms``.
"""

from .transform_messages import TransformMessages
from .transforms import MessageHistoryLimiter, MessageTokenLimiter, MessageTransform

__all__ = ["MessageHistoryLimiter", "MessageTokenLimiter", "MessageTransform", "TransformMessages"]
