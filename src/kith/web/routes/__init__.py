"""One module per page group; each is a thin edge over accounts actions and queries."""
