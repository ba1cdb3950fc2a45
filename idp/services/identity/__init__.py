"""Identity: the citizen. Accounts, registration and activation, sign-in with password and second
factor, sessions and logout, known devices, step-up, password change and recovery, changes of
phone and e-mail, the activity history, and the citizen's side of counter verification."""
