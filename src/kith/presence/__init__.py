"""Presence: where friends are and what they are up for, at the precision each grants."""
