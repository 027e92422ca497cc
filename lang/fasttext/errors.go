package fasttext

import (
	"errors"
	"fmt"
)

// Sentinel causes carried by FormatError.Err; test them with errors.Is.
var (
	// ErrNotFastText means the file does not start with the fastText magic number.
	ErrNotFastText = errors.New("not a fastText model (bad magic number)")
	// ErrUnsupported means a well-formed file this package cannot use: an unknown format
	// version, an unsupervised (word-vector) model, or an unknown loss.
	ErrUnsupported = errors.New("unsupported model")
	// ErrTruncated means the file ended in the middle of a field, or a size field claims more
	// data than the file holds.
	ErrTruncated = errors.New("truncated model file")
	// ErrCorrupt means a field holds a value that cannot be right (a negative size, matrix
	// shapes that do not match the dictionary, a broken product quantizer, ...).
	ErrCorrupt = errors.New("corrupt model file")
)

// FormatError reports a model file that cannot be loaded. Offset is the byte offset in the
// file at which the offending field starts (or, for ErrTruncated, at which data ran out) and
// Field names it ("dictionary entry 12", "input matrix rows"). Err is one of the sentinel
// errors above, or the underlying read error when reading failed for another reason.
type FormatError struct {
	Path   string // file name, set by Load
	Offset int64
	Field  string
	Err    error
	Detail string
}

func (e *FormatError) Error() string {
	msg := "fasttext: "
	if e.Path != "" {
		msg += e.Path + ": "
	}
	msg += fmt.Sprintf("offset %d: %s: %v", e.Offset, e.Field, e.Err)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

func (e *FormatError) Unwrap() error { return e.Err }
