"""Hostile code run through every executor: each attack of issue 11 must fail, as root and as nobody."""
