"""Mutual: two people build one relational crisis plan together."""
