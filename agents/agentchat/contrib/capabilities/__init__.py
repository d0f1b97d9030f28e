"""AutoGen's capability module paths; the code lives in :mod:`agents.capabilities`."""
