"""AutoGen's ``autogen.agentchat`` module paths, for code that imports from them."""
