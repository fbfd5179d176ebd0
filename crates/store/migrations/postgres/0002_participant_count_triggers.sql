-- The database keeps challenges.participant_count equal to the places held (rows whose status
-- is not CANCELLED), so a join or a cancel is one statement. Under READ COMMITTED two joins can
-- both see a free place; the trigger's conditional increment takes the row lock and re-checks,
-- and refuses the loser with a check_violation the store reports as CHALLENGE_FULL.

CREATE FUNCTION participants_count() RETURNS trigger AS $$
DECLARE
    delta BIGINT := 0;
    target BIGINT;
BEGIN
    IF TG_OP = 'INSERT' THEN
        target := NEW.challenge_id;
        IF NEW.status <> 'CANCELLED' THEN delta := 1; END IF;
    ELSIF TG_OP = 'DELETE' THEN
        target := OLD.challenge_id;
        IF OLD.status <> 'CANCELLED' THEN delta := -1; END IF;
    ELSE
        target := NEW.challenge_id;
        IF (OLD.status <> 'CANCELLED') AND NOT (NEW.status <> 'CANCELLED') THEN delta := -1; END IF;
        IF NOT (OLD.status <> 'CANCELLED') AND (NEW.status <> 'CANCELLED') THEN delta := 1; END IF;
    END IF;
    IF delta = 1 THEN
        UPDATE challenges SET participant_count = participant_count + 1
        WHERE id = target AND participant_count < capacity;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'CHALLENGE_FULL' USING ERRCODE = 'check_violation';
        END IF;
    ELSIF delta = -1 THEN
        UPDATE challenges SET participant_count = participant_count - 1 WHERE id = target;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER participants_count AFTER INSERT OR UPDATE OF status OR DELETE ON participants
FOR EACH ROW EXECUTE FUNCTION participants_count();
