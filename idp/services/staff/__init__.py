"""Staff: the people behind the counter. Post offices (the counter's tenants), staff administration,
staff sign-in with password and TOTP (the first TOTP set-up with a set-up code), and staff
sessions with their shorter timeouts."""
