"""Blueprints by audience; each enforces its own access rule once."""
