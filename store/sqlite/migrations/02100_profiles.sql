-- Profiles: the "about" line, who may see the profile photo, and the photo
-- itself (a small JPEG the server checks and serves under that audience;
-- docs/decisions/0005-profile-photos.md). photo_tag names the current photo
-- ('' when there is none).

-- +goose Up
ALTER TABLE users ADD COLUMN about TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN photo_vis TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN photo_tag TEXT NOT NULL DEFAULT '';
CREATE TABLE profile_photos (
    user_id    INTEGER NOT NULL PRIMARY KEY REFERENCES users (id),
    photo      BLOB    NOT NULL
);

-- +goose Down
DROP TABLE profile_photos;
ALTER TABLE users DROP COLUMN photo_tag;
ALTER TABLE users DROP COLUMN photo_vis;
ALTER TABLE users DROP COLUMN about;
