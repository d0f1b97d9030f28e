"""AutoGen's import path for the transforms in :mod:`agents.capabilities.transforms`."""

from ....capabilities.transforms import MessageHistoryLimiter, MessageTokenLimiter, MessageTransform

__all__ = ["MessageHistoryLimiter", "MessageTokenLimiter", "MessageTransform"]
