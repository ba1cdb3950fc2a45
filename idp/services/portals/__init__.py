"""Portals: what PostID keeps about the partner portals it signs people in to. Their registration,
the signing keys, issued tokens, back-channel logout, the subject identifiers and claims a portal
receives, and the consents people give them."""
