-- A sub-group setting: members of the community ask to join and an admin
-- approves (parley.GroupSettings.JoinApproval).

-- +goose Up
ALTER TABLE groups ADD COLUMN join_approval INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE groups DROP COLUMN join_approval;
