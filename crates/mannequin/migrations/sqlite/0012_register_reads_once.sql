-- PostgreSQL's registration functions read their arguments once and find the
-- queue's head through its index (version 12 there). SQLite registers through
-- the service's own statements, which find the head the same way
-- (`QUEUE_HEAD`). This version keeps the two histories numbered alike.
SELECT 1;
