"""Pure Vietnamese domain rules; no Flask."""
