-- Member search by index (issue 7): a full-text table with the trigram
-- tokenizer over users.search, so `q=` finds the few matching users
-- without scanning every member. Its rowid is users.number (stable for
-- the life of the user, unlike users' implicit rowid, which VACUUM may
-- renumber). Kept in step by triggers.
CREATE VIRTUAL TABLE users_search USING fts5(search, tokenize = 'trigram');
INSERT INTO users_search (rowid, search) SELECT number, search FROM users;

CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN
    INSERT INTO users_search (rowid, search) VALUES (new.number, new.search);
END;
CREATE TRIGGER users_search_update AFTER UPDATE OF search ON users BEGIN
    UPDATE users_search SET search = new.search WHERE rowid = old.number;
END;
CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN
    DELETE FROM users_search WHERE rowid = old.number;
END;
