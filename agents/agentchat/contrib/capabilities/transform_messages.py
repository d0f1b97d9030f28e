"""AutoGen's import path for :class:`agents.capabilities.TransformMessages`."""

from ....capabilities.transform_messages import TransformMessages

__all__ = ["TransformMessages"]
