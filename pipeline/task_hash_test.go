package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The merge hashes a split input only while it is the file the run was planned with.
func TestHashInput(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.parquet")
	data := []byte(strings.Repeat("PAR1 row groups ", 100000))
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	planned := InputFileInfo{Path: path, Size: fi.Size(), MTime: fi.ModTime().UnixNano()}
	sum := sha256.Sum256(data)
	want := hex.EncodeToString(sum[:])

	tests := []struct {
		name    string
		f       InputFileInfo
		want    string
		wantWhy string
	}{
		{"unchanged", planned, want, ""},
		{"other size", InputFileInfo{Path: path, Size: fi.Size() - 1, MTime: planned.MTime}, "", "changed since"},
		{"touched", InputFileInfo{Path: path, Size: fi.Size(), MTime: planned.MTime - int64(time.Second)}, "", "changed since"},
		{"gone", InputFileInfo{Path: path + ".gone", Size: fi.Size(), MTime: planned.MTime}, "", "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, why, err := hashInput(t.Context(), tt.f)
			if err != nil || got != tt.want || !strings.Contains(why, tt.wantWhy) || (tt.wantWhy == "") != (why == "") {
				t.Errorf("hashInput: %q, why %q, %v; want %q, why %q", got, why, err, tt.want, tt.wantWhy)
			}
		})
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, _, err := hashInput(ctx, planned); err != context.Canceled {
		t.Errorf("cancelled: %v", err)
	}
}
