package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/client/backup"
)

// recoveryKeyEnv may hold the recovery key instead of --recovery-key
// (which other users of the machine can see in the process list).
const recoveryKeyEnv = "PARLEY_RECOVERY_KEY"

// backupCommands are `parley backup …`: end-to-end encrypted backups of
// this profile's chats (docs/backup.md).
var backupCommands = []command{
	{Name: "create", Usage: "[--file PATH] [--recovery-key KEY]\tencrypt this profile's chats, messages and contacts;\n\tupload to the server, or write PATH; a new recovery key is printed once",
		Run: func(x *call) error {
			file := x.FS.String("file", "", "write the backup here instead of uploading it")
			keyText := x.FS.String("recovery-key", "", "the recovery key of earlier backups (default $"+recoveryKeyEnv+", else a new one)")
			return x.client(func(c *client.Client) error {
				key, fresh := backup.NewRecoveryKey(), true
				if k := firstNonEmpty(*keyText, os.Getenv(recoveryKeyEnv)); k != "" {
					var err error
					if key, err = backup.ParseRecoveryKey(k); err != nil {
						return err
					}
					fresh = false
				}
				var buf bytes.Buffer
				st, err := c.Backup(x.Ctx, &buf, key)
				if err != nil {
					return err
				}
				where := "the server"
				if *file != "" {
					where = *file
					err = backup.WriteFile(*file, buf.Bytes())
				} else {
					err = backup.Upload(x.Ctx, c.Account(), buf.Bytes())
				}
				if err != nil {
					return err
				}
				obj := map[string]any{"event": "backup_created", "where": where, "bytes": buf.Len(), "chats": st.Chats, "messages": st.Messages, "contacts": st.Contacts}
				text := fmt.Sprintf("backup of %d chats, %d messages, %d contacts (%d bytes) written to %s", st.Chats, st.Messages, st.Contacts, buf.Len(), where)
				if fresh {
					obj["recovery_key"] = key.String()
					text += "\n\nYour recovery key (shown only now; keep it safe, it is the only way to open this backup):\n\n    " + key.String() +
						"\n\nUse it for later backups: parley backup create --recovery-key KEY"
				}
				return x.print(obj, text)
			})
		}},
	{Name: "restore", Usage: "[--file PATH] --recovery-key KEY\tbring back the chats of a backup (default: the server's)\n\tinto this freshly registered profile and rejoin them",
		Run: func(x *call) error {
			file := x.FS.String("file", "", "read the backup from this file instead of the server")
			keyText := x.FS.String("recovery-key", "", "the backup's recovery key (default $"+recoveryKeyEnv+")")
			return x.client(func(c *client.Client) error {
				key, err := backup.ParseRecoveryKey(firstNonEmpty(*keyText, os.Getenv(recoveryKeyEnv)))
				if err != nil {
					return err
				}
				var r io.ReadCloser
				if *file != "" {
					r, err = os.Open(*file)
				} else {
					r, err = backup.Download(x.Ctx, c.Account())
				}
				if err != nil {
					return err
				}
				defer r.Close()
				st, err := c.RestoreBackup(x.Ctx, r, key)
				if err != nil {
					return err
				}
				skipped := len(c.SkippedChats())
				return x.print(map[string]any{"event": "backup_restored", "created_at": st.CreatedAt, "chats": st.Chats, "messages": st.Messages, "contacts": st.Contacts, "skipped_chats": skipped},
					fmt.Sprintf("restored %d chats, %d messages, %d contacts from the backup of %s; %d chats could not be rejoined",
						st.Chats, st.Messages, st.Contacts, st.CreatedAt.Local().Format("2006-01-02 15:04"), skipped))
			})
		}},
	{Name: "schedule", Max: 1, Usage: "[daily|off] [--recovery-key KEY]\tautomatic daily backups to the server while listen runs\n\t(the key is kept in the profile); no argument: show the setting",
		Run: func(x *call) error {
			keyText := x.FS.String("recovery-key", "", "the recovery key (default $"+recoveryKeyEnv+", else the one set before, else a new one)")
			if err := x.Parse(); err != nil {
				return err
			}
			s, err := backup.LoadSchedule(x.profile)
			if err != nil {
				return err
			}
			var newKey string
			switch x.Arg(0) {
			case "":
			case "off":
				s.Every, s.Key = 0, ""
			case "daily":
				s.Every = 24 * time.Hour
				if k := firstNonEmpty(*keyText, os.Getenv(recoveryKeyEnv)); k != "" {
					key, err := backup.ParseRecoveryKey(k)
					if err != nil {
						return err
					}
					s.Key = key.String()
				} else if s.Key == "" {
					s.Key = backup.NewRecoveryKey().String()
					newKey = s.Key
				}
			default:
				return x.Usage()
			}
			if x.Arg(0) != "" {
				if err := os.MkdirAll(x.profile, 0o700); err != nil {
					return err
				}
				if err := backup.SaveSchedule(x.profile, s); err != nil {
					return err
				}
			}
			every := "off"
			if s.Every > 0 {
				every = "daily"
			}
			obj := map[string]any{"event": "backup_schedule", "schedule": every}
			text := "automatic backups: " + every
			if !s.Last.IsZero() {
				obj["last"], obj["last_bytes"] = s.Last, s.LastBytes
				text += fmt.Sprintf("; last %s (%d bytes)", s.Last.Local().Format("2006-01-02 15:04"), s.LastBytes)
			}
			if s.LastError != "" {
				obj["last_error"] = s.LastError
				text += "; the last attempt failed: " + s.LastError
			}
			if newKey != "" {
				obj["recovery_key"] = newKey
				text += "\n\nYour recovery key (shown only now; keep it safe, it is the only way to open these backups):\n\n    " + newKey
			}
			return x.print(obj, text)
		}},
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// runScheduledBackups makes c's scheduled backups while a long-running
// command runs (backup.Start); the returned func stops them.
func (x *call) runScheduledBackups(ctx context.Context, c *client.Client) (stop func()) {
	log := slog.New(slog.DiscardHandler)
	if x.verbose {
		log = slog.New(slog.NewTextHandler(x.stderr, nil))
	}
	return backup.Start(ctx, c, log)
}
