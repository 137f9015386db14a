-- The append-only audit log lets an erasure (moderation/privacy/commenter.py) pseudonymise a commenter's
-- entries: an UPDATE passes only while the transaction-local setting moderation.erasure is 'on'.
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND current_setting('moderation.erasure', true) = 'on' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
