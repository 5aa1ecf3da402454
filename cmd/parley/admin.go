package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/parleyhq/parley/backup"
)

// The data-directory operations of `parley admin` (docs/operations.md);
// the admin API's subcommands are in admin_api.go.

func adminFlags(name string, stderr io.Writer) (*flag.FlagSet, func(string, string) string) {
	fs := flag.NewFlagSet("admin "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs, func(name, def string) string {
		if v, ok := os.LookupEnv(name); ok {
			return v
		}
		return def
	}
}

func adminBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, env := adminFlags("backup", stderr)
	dataDir := fs.String("data", env("PARLEY_DATA", "./parley-data"), "the server's data directory [PARLEY_DATA]")
	dsn := fs.String("postgres", env("PARLEY_POSTGRES", ""), "the server's PostgreSQL DSN (dumped with pg_dump); empty: SQLite in --data [PARLEY_POSTGRES]")
	out := fs.String("out", "", "archive to write (.tar.gz); it must not exist")
	keys := fs.Bool("include-keys", false, "also archive the secrets (operator.key, code.key, acme/): then guard the archive like the keys")
	pgDump := fs.String("pg-dump", "pg_dump", "pg_dump program (its major version at least the server's)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() > 0 {
		return usageError("usage: parley admin backup --data DIR [--postgres DSN] --out FILE [--include-keys]")
	}
	m, err := backup.CreateFile(ctx, *out, backup.Options{DataDir: *dataDir, Postgres: *dsn, PGDump: *pgDump, IncludeKeys: *keys})
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(stdout, "backup: %s: %s database snapshot of %s, %d files, %d bytes before compression\n",
		*out, m.Store, m.Created.Format("2006-01-02 15:04:05Z"), len(m.Files), m.Size())
	if *keys {
		fmt.Fprintln(stdout, "backup: the archive holds the server's keys: keep it as secret as they are")
	} else {
		missing := backup.KeysIn(*dataDir)
		if len(missing) > 0 {
			fmt.Fprintf(stdout, "backup: keys NOT included, keep them separately: %s (and any --operator-key/--code-key file outside the data directory)\n", strings.Join(missing, ", "))
		}
	}
	return nil
}

func adminRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, env := adminFlags("restore", stderr)
	in := fs.String("in", "", "archive written by parley admin backup")
	dataDir := fs.String("data", "", "empty (or new) data directory to restore into")
	dsn := fs.String("postgres", env("PARLEY_POSTGRES", ""), "empty PostgreSQL database to load a PostgreSQL archive into (pg_restore) [PARLEY_POSTGRES]")
	pgRestore := fs.String("pg-restore", "pg_restore", "pg_restore program")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" || *dataDir == "" || fs.NArg() > 0 {
		return usageError("usage: parley admin restore --in FILE --data DIR [--postgres DSN]")
	}
	f, err := os.Open(*in)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer f.Close()
	m, err := backup.Restore(ctx, f, *dataDir, backup.RestoreOptions{Postgres: *dsn, PGRestore: *pgRestore})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restore: %s: %d files verified, %s database of %s\n", *dataDir, len(m.Files), m.Store, m.Created.Format("2006-01-02 15:04:05Z"))
	if !m.Keys {
		msg := "restore: the archive holds no keys: copy operator.key and code.key into " + *dataDir + " before `parley serve` (else new ones are made"
		if m.Hosted() {
			msg += ", and the hosted business endpoints cannot open their state"
		}
		fmt.Fprintln(stdout, msg+")")
	}
	return nil
}
