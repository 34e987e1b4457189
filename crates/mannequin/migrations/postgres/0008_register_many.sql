-- Several registrations in one call and one transaction, in order: the
-- registrations of one account that waited while another call of the account
-- ran (the account's row is locked from a registration's reserve to its
-- commit, so they would take turns one commit each). Each item holds the
-- arguments of `mannequin_register`, and each answers what that function
-- answers; an unknown account or missing credits answer for that item alone.
-- A race (the function raises) rolls back the whole call, and the service
-- makes each of its registrations again.
CREATE FUNCTION mannequin_register_many(p_items JSON)
RETURNS TABLE (outcome TEXT, seen_batch TEXT, seen_hash BYTEA, available BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
    i JSON;
BEGIN
    FOR i IN SELECT value FROM json_array_elements(p_items) WITH ORDINALITY AS t(value, n)
             ORDER BY n LOOP
        RETURN QUERY SELECT * FROM mannequin_register(
            i->>'account', i->>'batch', i->>'order', i->>'reservation', i->>'preferences',
            i->>'correlation', CAST(i->>'required' AS BIGINT), CAST(i->>'deadline' AS BIGINT),
            CAST(i->>'price' AS BIGINT), CAST(i->>'maxAttempts' AS BIGINT), i->'models',
            i->>'idemKey', decode(i->>'idemHash', 'hex'), i->>'modelStatus', i->>'jobState',
            i->>'ledgerKind', CAST(i->>'dAvailable' AS BIGINT), CAST(i->>'dReserved' AS BIGINT),
            CAST(i->>'dConsumed' AS BIGINT), CAST(i->>'now' AS BIGINT));
    END LOOP;
END
$$;
