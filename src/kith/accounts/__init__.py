"""Accounts: users, sessions, friendships, circles and blocks."""
