"""AutoGen's ``autogen.agentchat.contrib`` module paths, for code that imports from them."""
