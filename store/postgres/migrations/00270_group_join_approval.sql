-- A sub-group setting: members of the community ask to join and an admin
-- approves (parley.GroupSettings.JoinApproval).

-- +goose Up
ALTER TABLE groups ADD COLUMN join_approval boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE groups DROP COLUMN join_approval;
