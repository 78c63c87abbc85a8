"""The web app: server-rendered pages over the same actions and queries as the API."""
