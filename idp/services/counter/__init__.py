"""Counter: what post-office staff do at the counter. Counter verification of a citizen or an
organisation (open an enrolment code, record the checks, approve, reject, revoke) and assisted
registration of a walk-in citizen."""
