package minhash

import (
	"fmt"
	"io"
	"os"
)

// spill is an append-only byte store, either in memory or in an unlinked temporary file
// (it disappears when closed or when the process dies). Writes to a file go through an
// in-memory tail that ReadAt also serves, so reading what was just appended costs no
// system call. It is not safe for concurrent use.
type spill struct {
	f       *os.File
	chunks  [][]byte // memory mode: fixed-size chunks
	tail    []byte   // file mode: bytes not yet written to f
	flushed int64    // file mode: bytes written to f
	size    int64

	removeOnClose string
}

const (
	spillChunk = 1 << 20
	spillTail  = 256 << 10
)

// newSpill returns a memory store when dir is "", else a store in a new unlinked file in dir.
func newSpill(dir, pattern string) (*spill, error) {
	if dir == "" {
		return &spill{}, nil
	}
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, fmt.Errorf("minhash spill: %w", err)
	}
	// Unlink at once: the open descriptor keeps the data and nothing is left behind on a
	// crash. Where an open file cannot be removed (Windows), it is removed on Close.
	sp := &spill{f: f, tail: make([]byte, 0, spillTail)}
	if err := os.Remove(f.Name()); err != nil {
		sp.removeOnClose = f.Name()
	}
	return sp, nil
}

// Len returns the number of bytes appended.
func (s *spill) Len() int64 { return s.size }

// MemBytes is the memory the store holds.
func (s *spill) MemBytes() int64 {
	if s.f != nil {
		return int64(cap(s.tail))
	}
	return int64(len(s.chunks)) * spillChunk
}

// Append adds p and returns its offset.
func (s *spill) Append(p []byte) (int64, error) {
	off := s.size
	if s.f != nil {
		if len(s.tail)+len(p) > cap(s.tail) {
			if err := s.flush(); err != nil {
				return 0, err
			}
			if len(p) > cap(s.tail) {
				if _, err := s.f.Write(p); err != nil {
					return 0, fmt.Errorf("minhash spill: %w", err)
				}
				s.flushed += int64(len(p))
				s.size += int64(len(p))
				return off, nil
			}
		}
		s.tail = append(s.tail, p...)
		s.size += int64(len(p))
		return off, nil
	}
	for len(p) > 0 {
		used := int(s.size % spillChunk)
		if used == 0 && int64(len(s.chunks))*spillChunk == s.size {
			s.chunks = append(s.chunks, make([]byte, spillChunk))
		}
		c := s.chunks[len(s.chunks)-1]
		n := copy(c[used:], p)
		p = p[n:]
		s.size += int64(n)
	}
	return off, nil
}

func (s *spill) flush() error {
	if len(s.tail) == 0 {
		return nil
	}
	if _, err := s.f.Write(s.tail); err != nil {
		return fmt.Errorf("minhash spill: %w", err)
	}
	s.flushed += int64(len(s.tail))
	s.tail = s.tail[:0]
	return nil
}

// ReadAt fills p from offset off, which must lie within what was appended.
func (s *spill) ReadAt(p []byte, off int64) error {
	if off < 0 || off+int64(len(p)) > s.size {
		return fmt.Errorf("minhash spill: read [%d,%d) beyond %d bytes", off, off+int64(len(p)), s.size)
	}
	if s.f != nil {
		// part in the file, part in the tail
		if off < s.flushed {
			n := len(p)
			if rest := s.flushed - off; int64(n) > rest {
				n = int(rest)
			}
			if _, err := s.f.ReadAt(p[:n], off); err != nil && err != io.EOF {
				return fmt.Errorf("minhash spill: %w", err)
			}
			p = p[n:]
			off += int64(n)
		}
		if len(p) > 0 {
			copy(p, s.tail[off-s.flushed:])
		}
		return nil
	}
	for len(p) > 0 {
		c := s.chunks[off/spillChunk]
		n := copy(p, c[off%spillChunk:])
		p = p[n:]
		off += int64(n)
	}
	return nil
}

// Close releases the store.
func (s *spill) Close() error {
	s.chunks = nil
	s.tail = nil
	if s.f != nil {
		err := s.f.Close()
		s.f = nil
		if s.removeOnClose != "" {
			if rerr := os.Remove(s.removeOnClose); err == nil {
				err = rerr
			}
		}
		return err
	}
	return nil
}
