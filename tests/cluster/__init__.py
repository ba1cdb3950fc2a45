"""The cluster tests: a package, so that their one cluster stops when they end (package scope)."""
