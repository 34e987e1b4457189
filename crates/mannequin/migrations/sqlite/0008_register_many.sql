-- PostgreSQL makes the registrations of one account that wait for each other
-- in one call of a function this version adds. SQLite writes through one
-- connection in the process, one transaction at a time: nothing changes here.
SELECT 1;
