"""Followers and consumers that feed projections from the log."""
