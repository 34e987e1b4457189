-- PostgreSQL registers in one call of a function this version adds, and has
-- models and reservations name their account through their batch (a foreign
-- key on the account's row made registrations of one account wait on each
-- other). SQLite writes through one connection in the process: round trips
-- cost nothing and no row lock is shared, so nothing changes here.
SELECT 1;
