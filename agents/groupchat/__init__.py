"""Group chats: who takes part and who speaks next (GroupChat), the manager agent that runs
one when someone talks to it (GroupChatManager), and the resumable run (GroupChatRun).

Imports the agents (:mod:`agents.conversable`), the run engine and the layers below them;
nothing below imports this package.
"""

from .groupchat import GroupChat, NoEligibleSpeaker
from .manager import GroupChatManager
from .run import GroupChatHost, GroupChatRun

__all__ = ["GroupChat", "GroupChatHost", "GroupChatManager", "GroupChatRun", "NoEligibleSpeaker"]
