"""Business: organisations and the people who act for them. Registering an organisation, its members
and invitations, the representative's side of its counter check, refusals of a citizen's request
about an organisation, and a person's organisations in their data export and account deletion."""
