"""AutoGen's ``autogen.exception_utils`` names, for code that imports them from there."""

from .errors import AgentNameConflict, InvalidCarryOverTypeError, SenderRequiredError, UndefinedNextAgent
from .groupchat import NoEligibleSpeaker

InvalidCarryOverType = InvalidCarryOverTypeError
SenderRequired = SenderRequiredError

__all__ = ["AgentNameConflict", "InvalidCarryOverType", "NoEligibleSpeaker", "SenderRequired", "UndefinedNextAgent"]
