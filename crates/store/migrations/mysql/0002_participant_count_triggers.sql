-- The database keeps challenges.participant_count equal to the places held (rows whose status
-- is not CANCELLED). The insert trigger re-checks capacity under the row lock and refuses the
-- loser of a race with SQLSTATE 45000 'CHALLENGE_FULL'; it also refuses a place in a challenge
-- that has ended (MySQL cannot check that in the joining statement itself: a statement may not
-- read the table its trigger updates). The store tells the two apart afterwards.

CREATE TRIGGER participants_count_insert AFTER INSERT ON participants
FOR EACH ROW
BEGIN
    IF NEW.status <> 'CANCELLED' THEN
        UPDATE challenges SET participant_count = participant_count + 1
        WHERE id = NEW.challenge_id AND participant_count < capacity AND ends_at > NEW.updated_at;
        IF ROW_COUNT() = 0 THEN
            SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'CHALLENGE_FULL';
        END IF;
    END IF;
END;

CREATE TRIGGER participants_count_update AFTER UPDATE ON participants
FOR EACH ROW
BEGIN
    IF OLD.status <> 'CANCELLED' AND NEW.status = 'CANCELLED' THEN
        UPDATE challenges SET participant_count = participant_count - 1 WHERE id = NEW.challenge_id;
    ELSEIF OLD.status = 'CANCELLED' AND NEW.status <> 'CANCELLED' THEN
        UPDATE challenges SET participant_count = participant_count + 1
        WHERE id = NEW.challenge_id AND participant_count < capacity AND ends_at > NEW.updated_at;
        IF ROW_COUNT() = 0 THEN
            SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'CHALLENGE_FULL';
        END IF;
    END IF;
END;

CREATE TRIGGER participants_count_delete AFTER DELETE ON participants
FOR EACH ROW
BEGIN
    IF OLD.status <> 'CANCELLED' THEN
        UPDATE challenges SET participant_count = participant_count - 1 WHERE id = OLD.challenge_id;
    END IF;
END;
