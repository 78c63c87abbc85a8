"""One module per resource; each is a thin edge over actions and queries."""
