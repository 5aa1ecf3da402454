// Package backup takes a consistent copy of a running Parley server's data
// and brings it back into an empty directory.
//
// An archive is a gzip-compressed tar of the data directory's durable
// parts, paths relative to it:
//
//	parley.db        SQLite: an online snapshot (VACUUM INTO), never the live file
//	postgres.dump    PostgreSQL instead: pg_dump's custom format
//	blobs/…          media blobs (the disk blob store)
//	hosted/…         hosted business endpoints' sealed state
//	operator.key, code.key, acme/…   secrets: only with Options.IncludeKeys
//	MANIFEST.json    last: format, version, time, and every file's size and SHA-256
//
// Guarantees:
//   - The database is one transaction-consistent snapshot taken while the
//     server keeps writing: every write acknowledged before Create began
//     is in it. Blobs are copied after the snapshot; blobs are immutable
//     and written whole before anything refers to them, so every blob the
//     snapshot refers to is copied, unless retention deleted it meanwhile.
//     Staged uploads in progress (uploads/) are not kept.
//   - Secrets stay out unless asked for: the operator key (it seals the
//     hosted endpoints' state), the code key and the ACME account and
//     certificates. Manifest.Keys says whether they are in.
//   - Restore writes only inside its directory, which must be empty or
//     absent; it verifies every file's size and SHA-256 against the
//     manifest, refuses unlisted, missing, duplicate or unsafe entries, and
//     checks the SQLite database's integrity. On any error it removes what
//     it wrote. Refusals are *parley.Error with CodeInvalid and a Reason…
//     constant.
package backup

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/parleyhq/parley"

	_ "modernc.org/sqlite" // database/sql driver "sqlite"
)

// Format and Version identify the archive layout in MANIFEST.json.
const (
	Format  = "parley-backup"
	Version = 1
)

// Names inside the archive (and the data directory).
const (
	ManifestName = "MANIFEST.json"
	SQLiteName   = "parley.db"
	PostgresName = "postgres.dump"
)

// KeyNames are the data directory's secrets, kept out of an archive unless
// Options.IncludeKeys: files, or directories whose whole contents are.
var KeyNames = []string{"operator.key", "code.key", "acme"}

// dataDirs are the directories copied file by file.
var dataDirs = []string{"blobs", "hosted"}

// Reasons of Restore's refusals (parley.Error.Reason, CodeInvalid).
const (
	ReasonNotEmpty       = "backup_target_not_empty"
	ReasonNotArchive     = "backup_not_an_archive"
	ReasonBadManifest    = "backup_bad_manifest"
	ReasonUnsafePath     = "backup_unsafe_path"
	ReasonUnlistedFile   = "backup_unlisted_file"
	ReasonDuplicateFile  = "backup_duplicate_file"
	ReasonMissingFile    = "backup_missing_file"
	ReasonChecksum       = "backup_checksum_mismatch"
	ReasonTooLarge       = "backup_too_large"
	ReasonCorruptSQLite  = "backup_sqlite_corrupt"
	ReasonWrongStore     = "backup_wrong_store"
	ReasonNoPostgresDest = "backup_postgres_target_missing"
)

// MaxManifestSize bounds MANIFEST.json (about 150 bytes per file).
const MaxManifestSize = 64 << 20

// Manifest describes an archive.
type Manifest struct {
	Format  string    `json:"format"`
	Version int       `json:"version"`
	Created time.Time `json:"created"`
	// Store is "sqlite" (parley.db) or "postgres" (postgres.dump).
	Store string `json:"store"`
	// Keys reports whether the secrets (KeyNames) are in the archive.
	Keys  bool   `json:"keys"`
	Files []File `json:"files"`
}

// File is one archived file.
type File struct {
	Path   string `json:"path"` // slash-separated, relative to the data directory
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"` // hex
}

// Options of Create.
type Options struct {
	// DataDir is the server's data directory (--data). Required.
	DataDir string
	// Postgres is the server's DSN when it runs on PostgreSQL; empty means
	// SQLite in DataDir.
	Postgres string
	// PGDump is the pg_dump program; empty finds "pg_dump" on PATH.
	PGDump string
	// IncludeKeys puts the secrets (KeyNames) in the archive.
	IncludeKeys bool
	// TempDir holds the database snapshot while it is archived; empty is
	// os.TempDir(). It needs room for one copy of the database.
	TempDir string
}

// Create writes an archive of opts.DataDir to w and returns its manifest.
func Create(ctx context.Context, w io.Writer, opts Options) (Manifest, error) {
	m := Manifest{Format: Format, Version: Version, Created: time.Now().UTC(), Keys: opts.IncludeKeys}
	tmp, err := os.MkdirTemp(opts.TempDir, "parley-backup-")
	if err != nil {
		return m, err
	}
	defer os.RemoveAll(tmp)
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)

	// The database first: everything acknowledged before this point is in
	// the snapshot.
	if opts.Postgres != "" {
		m.Store = "postgres"
		dump := filepath.Join(tmp, PostgresName)
		if err := pgDump(ctx, opts.PGDump, opts.Postgres, dump); err != nil {
			return m, err
		}
		if err := addFile(tw, &m, dump, PostgresName); err != nil {
			return m, err
		}
	} else {
		m.Store = "sqlite"
		snap := filepath.Join(tmp, SQLiteName)
		if err := SnapshotSQLite(ctx, filepath.Join(opts.DataDir, SQLiteName), snap); err != nil {
			return m, err
		}
		if err := addFile(tw, &m, snap, SQLiteName); err != nil {
			return m, err
		}
	}
	roots := dataDirs
	if opts.IncludeKeys {
		roots = append(append([]string(nil), roots...), KeyNames...)
	}
	for _, root := range roots {
		err := filepath.WalkDir(filepath.Join(opts.DataDir, root), func(p string, d fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if err != nil {
				return err
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			rel, err := filepath.Rel(opts.DataDir, p)
			if err != nil {
				return err
			}
			rel = filepath.ToSlash(rel)
			if d.IsDir() {
				if rel == "blobs/tmp" { // the blob store's half-written puts
					return filepath.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() {
				return nil
			}
			err = addFile(tw, &m, p, rel)
			if errors.Is(err, fs.ErrNotExist) {
				return nil // deleted since the walk listed it (retention)
			}
			return err
		})
		if err != nil {
			return m, fmt.Errorf("backup %s: %w", root, err)
		}
	}
	js, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return m, err
	}
	hdr := &tar.Header{Name: ManifestName, Mode: 0o600, Size: int64(len(js)), ModTime: m.Created, Typeflag: tar.TypeReg}
	if err := tw.WriteHeader(hdr); err != nil {
		return m, err
	}
	if _, err := tw.Write(js); err != nil {
		return m, err
	}
	if err := tw.Close(); err != nil {
		return m, err
	}
	return m, gz.Close()
}

// addFile appends the file at p to the archive as name and lists it.
func addFile(tw *tar.Writer, m *Manifest, p, name string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	hdr := &tar.Header{Name: name, Mode: 0o600, Size: st.Size(), ModTime: st.ModTime(), Typeflag: tar.TypeReg}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	h := sha256.New()
	// The header promised st.Size() bytes: copy exactly those (blobs and
	// sealed files are replaced by rename, never grown in place).
	if _, err := io.CopyN(io.MultiWriter(tw, h), f, st.Size()); err != nil {
		return fmt.Errorf("archive %s: %w", name, err)
	}
	m.Files = append(m.Files, File{Path: name, Size: st.Size(), SHA256: hex.EncodeToString(h.Sum(nil))})
	return nil
}

// SnapshotSQLite writes a transaction-consistent copy of the SQLite
// database at src to dst (which must not exist) with VACUUM INTO, while
// other connections, the server's included, keep writing. It refuses a
// src that does not exist rather than create an empty database.
func SnapshotSQLite(ctx context.Context, src, dst string) error {
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	db, err := sql.Open("sqlite", "file:"+src+"?_pragma=busy_timeout(30000)")
	if err != nil {
		return fmt.Errorf("snapshot %s: %w", src, err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", dst); err != nil {
		return fmt.Errorf("snapshot %s: %w", src, err)
	}
	return nil
}

func pgDump(ctx context.Context, prog, dsn, out string) error {
	if prog == "" {
		prog = "pg_dump"
	}
	cmd := exec.CommandContext(ctx, prog, "--format=custom", "--no-owner", "--no-privileges", "--file", out, "--dbname", dsn)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pg_dump: %v: %s", err, strings.TrimSpace(string(msg)))
	}
	return nil
}

// RestoreOptions of Restore.
type RestoreOptions struct {
	// Postgres is the DSN of the empty database that receives an archive
	// of a PostgreSQL server. Required for such an archive, refused for a
	// SQLite one.
	Postgres string
	// PGRestore is the pg_restore program; empty finds "pg_restore" on PATH.
	PGRestore string
	// MaxSize bounds the bytes restored (0: no bound beyond the disk).
	MaxSize int64
}

// Restore unpacks the archive r into dir, which must be absent or empty,
// verifying it (see the package guarantees), and returns its manifest.
// For a PostgreSQL archive it then loads the dump into opts.Postgres.
func Restore(ctx context.Context, r io.Reader, dir string, opts RestoreOptions) (m Manifest, err error) {
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return m, parley.Errorf(parley.CodeInvalid, ReasonNotEmpty, "restore: %s is not empty", dir)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return m, fmt.Errorf("restore: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return m, fmt.Errorf("restore: %w", err)
	}
	defer func() {
		if err != nil {
			emptyDir(dir)
		}
	}()
	m, err = unpack(r, dir, opts.MaxSize)
	if err != nil {
		return m, err
	}
	switch m.Store {
	case "sqlite":
		if opts.Postgres != "" {
			return m, parley.Errorf(parley.CodeInvalid, ReasonWrongStore, "restore: the archive holds a SQLite database, not a PostgreSQL dump")
		}
		if err := checkSQLite(ctx, filepath.Join(dir, SQLiteName)); err != nil {
			return m, err
		}
	case "postgres":
		if opts.Postgres == "" {
			return m, parley.Errorf(parley.CodeInvalid, ReasonNoPostgresDest, "restore: the archive holds a PostgreSQL dump: give the empty database to load it into")
		}
		dump := filepath.Join(dir, PostgresName)
		if err := pgRestore(ctx, opts.PGRestore, opts.Postgres, dump); err != nil {
			return m, err
		}
		if err := os.Remove(dump); err != nil {
			return m, err
		}
	}
	return m, nil
}

// emptyDir removes dir's contents, keeping dir.
func emptyDir(dir string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		os.RemoveAll(filepath.Join(dir, e.Name()))
	}
}

// unpack writes the archive's files into dir and checks them against the
// manifest, which must be the last entry.
func unpack(r io.Reader, dir string, maxSize int64) (Manifest, error) {
	var m Manifest
	gz, err := gzip.NewReader(r)
	if err != nil {
		return m, parley.Errorf(parley.CodeInvalid, ReasonNotArchive, "restore: not a gzip archive: %v", err)
	}
	tr := tar.NewReader(gz)
	got := map[string]File{}
	var total int64
	var manifest []byte
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return m, parley.Errorf(parley.CodeInvalid, ReasonNotArchive, "restore: reading the archive: %v", err)
		}
		if manifest != nil {
			return m, parley.Errorf(parley.CodeInvalid, ReasonBadManifest, "restore: %s after the manifest", hdr.Name)
		}
		if hdr.Typeflag != tar.TypeReg {
			return m, parley.Errorf(parley.CodeInvalid, ReasonUnsafePath, "restore: %s is not a regular file", hdr.Name)
		}
		if hdr.Name == ManifestName {
			if hdr.Size > MaxManifestSize {
				return m, parley.Errorf(parley.CodeInvalid, ReasonTooLarge, "restore: manifest of %d bytes", hdr.Size)
			}
			if manifest, err = io.ReadAll(tr); err != nil {
				return m, parley.Errorf(parley.CodeInvalid, ReasonNotArchive, "restore: reading the manifest: %v", err)
			}
			continue
		}
		if err := checkPath(hdr.Name); err != nil {
			return m, err
		}
		if _, dup := got[hdr.Name]; dup {
			return m, parley.Errorf(parley.CodeInvalid, ReasonDuplicateFile, "restore: %s twice", hdr.Name)
		}
		total += hdr.Size
		if hdr.Size < 0 || maxSize > 0 && total > maxSize {
			return m, parley.Errorf(parley.CodeInvalid, ReasonTooLarge, "restore: more than %d bytes", maxSize)
		}
		f, err := writeFile(dir, hdr.Name, tr)
		if err != nil {
			return m, err
		}
		got[hdr.Name] = f
	}
	if manifest == nil {
		return m, parley.Errorf(parley.CodeInvalid, ReasonBadManifest, "restore: no %s at the end of the archive (truncated?)", ManifestName)
	}
	m, err = ParseManifest(manifest)
	if err != nil {
		return m, err
	}
	for _, f := range m.Files {
		g, ok := got[f.Path]
		switch {
		case !ok:
			return m, parley.Errorf(parley.CodeInvalid, ReasonMissingFile, "restore: %s is in the manifest, not in the archive", f.Path)
		case g != f:
			return m, parley.Errorf(parley.CodeInvalid, ReasonChecksum, "restore: %s has %d bytes with SHA-256 %s, the manifest says %d bytes with %s", f.Path, g.Size, g.SHA256, f.Size, f.SHA256)
		}
		delete(got, f.Path)
	}
	for p := range got {
		return m, parley.Errorf(parley.CodeInvalid, ReasonUnlistedFile, "restore: %s is not in the manifest", p)
	}
	return m, nil
}

// ParseManifest decodes and checks MANIFEST.json.
func ParseManifest(b []byte) (Manifest, error) {
	var m Manifest
	if len(b) > MaxManifestSize {
		return m, parley.Errorf(parley.CodeInvalid, ReasonTooLarge, "manifest of %d bytes", len(b))
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return m, parley.Errorf(parley.CodeInvalid, ReasonBadManifest, "manifest: %v", err)
	}
	if m.Format != Format || m.Version != Version {
		return m, parley.Errorf(parley.CodeInvalid, ReasonBadManifest, "manifest: format %q version %d, want %q version %d", m.Format, m.Version, Format, Version)
	}
	want := SQLiteName
	switch m.Store {
	case "sqlite":
	case "postgres":
		want = PostgresName
	default:
		return m, parley.Errorf(parley.CodeInvalid, ReasonBadManifest, "manifest: store %q", m.Store)
	}
	seen := map[string]bool{}
	for _, f := range m.Files {
		if err := checkPath(f.Path); err != nil {
			return m, err
		}
		if seen[f.Path] {
			return m, parley.Errorf(parley.CodeInvalid, ReasonDuplicateFile, "manifest: %s twice", f.Path)
		}
		seen[f.Path] = true
		if sum, err := hex.DecodeString(f.SHA256); err != nil || len(sum) != sha256.Size || f.Size < 0 {
			return m, parley.Errorf(parley.CodeInvalid, ReasonBadManifest, "manifest: %s: bad size or SHA-256", f.Path)
		}
		if !m.Keys && isKey(f.Path) {
			return m, parley.Errorf(parley.CodeInvalid, ReasonBadManifest, "manifest: %s is a key, but keys are not included", f.Path)
		}
	}
	if !seen[want] {
		return m, parley.Errorf(parley.CodeInvalid, ReasonMissingFile, "manifest: no %s", want)
	}
	return m, nil
}

func isKey(p string) bool {
	for _, k := range KeyNames {
		if p == k || strings.HasPrefix(p, k+"/") {
			return true
		}
	}
	return false
}

// checkPath admits the names Create writes: the database, and files under
// the data and key directories, clean, relative and slash-separated.
func checkPath(p string) error {
	bad := p == "" || path.Clean(p) != p || path.IsAbs(p) || strings.HasPrefix(p, "../") || p == ".." ||
		strings.ContainsAny(p, "\\\x00") || len(p) > 1024
	if !bad {
		bad = true
		top, _, nested := strings.Cut(p, "/")
		switch {
		case p == SQLiteName || p == PostgresName || p == "operator.key" || p == "code.key":
			bad = false
		case nested && (top == "blobs" || top == "hosted" || top == "acme"):
			bad = false
		}
	}
	if bad {
		return parley.Errorf(parley.CodeInvalid, ReasonUnsafePath, "restore: unexpected path %q", p)
	}
	return nil
}

// writeFile copies r to dir/name (mode 0600, parents 0700), synced, and
// returns its size and SHA-256.
func writeFile(dir, name string, r io.Reader) (File, error) {
	dst := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return File{}, err
	}
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return File{}, fmt.Errorf("restore %s: %w", name, err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return File{}, parley.Errorf(parley.CodeInvalid, ReasonNotArchive, "restore %s: %v", name, err)
	}
	return File{Path: name, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// checkSQLite runs SQLite's integrity check on the restored database.
func checkSQLite(ctx context.Context, p string) error {
	db, err := sql.Open("sqlite", "file:"+p+"?mode=ro")
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return parley.Errorf(parley.CodeInvalid, ReasonCorruptSQLite, "restore: %s: %v", SQLiteName, err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	if err := rows.Err(); err != nil {
		return parley.Errorf(parley.CodeInvalid, ReasonCorruptSQLite, "restore: %s: %v", SQLiteName, err)
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return parley.Errorf(parley.CodeInvalid, ReasonCorruptSQLite, "restore: %s fails its integrity check: %s", SQLiteName, strings.Join(problems, "; "))
	}
	return nil
}

func pgRestore(ctx context.Context, prog, dsn, dump string) error {
	if prog == "" {
		prog = "pg_restore"
	}
	cmd := exec.CommandContext(ctx, prog, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", "--dbname", dsn, dump)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pg_restore: %v: %s", err, strings.TrimSpace(string(msg)))
	}
	return nil
}
