"""Platform: what every capability builds on and which knows no capability. The audit log, encryption
at rest, notifications through the outbox, one-time codes, password hashing, QR codes, throttling
and the SMS gate, new secret values, the clock and the TOTP core."""
