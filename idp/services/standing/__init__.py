"""Standing: where a person or an organisation stands, read by several capabilities. The one place a
verification's status changes, enrolment codes, and who may act for which organisation today."""
