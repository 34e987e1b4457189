-- An operator may disable an account (`mannequin admin account disable`): its
-- keys are refused from then on, as if revoked at that moment, until it is
-- enabled again.
ALTER TABLE accounts ADD COLUMN disabled_at BIGINT;
