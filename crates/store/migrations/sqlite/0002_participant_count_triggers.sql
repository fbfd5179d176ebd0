-- The database keeps challenges.participant_count equal to the places held (rows whose status
-- is not CANCELLED), so a join or a cancel is one statement and no code path can forget the
-- counter. SQLite runs one writer at a time, so the join's own WHERE already saw the current
-- count; the CHECK on challenges is the backstop.

CREATE TRIGGER participants_count_insert AFTER INSERT ON participants
WHEN NEW.status <> 'CANCELLED'
BEGIN
    UPDATE challenges SET participant_count = participant_count + 1 WHERE id = NEW.challenge_id;
END;

CREATE TRIGGER participants_count_update AFTER UPDATE OF status ON participants
WHEN (OLD.status <> 'CANCELLED') <> (NEW.status <> 'CANCELLED')
BEGIN
    UPDATE challenges
    SET participant_count = participant_count + (CASE WHEN NEW.status <> 'CANCELLED' THEN 1 ELSE -1 END)
    WHERE id = NEW.challenge_id;
END;

CREATE TRIGGER participants_count_delete AFTER DELETE ON participants
WHEN OLD.status <> 'CANCELLED'
BEGIN
    UPDATE challenges SET participant_count = participant_count - 1 WHERE id = OLD.challenge_id;
END;
