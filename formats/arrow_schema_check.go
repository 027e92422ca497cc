package formats

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"

	flatbuffers "github.com/google/flatbuffers/go"
)

// maxSchemaMessage bounds the metadata of the first IPC message (the schema).
const maxSchemaMessage = 64 << 20

var errBadSchema = errors.New("corrupt Arrow schema message")

// checkArrowSchemaMessage looks at the first IPC message in br without consuming it and
// checks that every count in its schema (fields, children, metadata entries) fits in the
// message's bytes. arrow-go allocates whatever a corrupt count says before reading (one
// fuzzed file asked for 140 GB), so this runs before the stream is handed to it. Reading out
// of range panics inside flatbuffers; the caller recovers that as a corrupt file.
func checkArrowSchemaMessage(br *bufio.Reader) error {
	head, err := br.Peek(8)
	if err != nil {
		return nil // too short: arrow-go reports it
	}
	skip, size := 8, int(int32(binary.LittleEndian.Uint32(head[4:])))
	if binary.LittleEndian.Uint32(head) != 0xFFFFFFFF { // legacy format without continuation
		skip, size = 4, int(int32(binary.LittleEndian.Uint32(head)))
	}
	if size <= 0 {
		return nil
	}
	if size > maxSchemaMessage {
		return fmt.Errorf("%w: metadata of %d bytes (at most %d)", errBadSchema, size, maxSchemaMessage)
	}
	if br.Size() < skip+size {
		return nil // larger than the buffer: arrow-go reads it; counts are then checked by it
	}
	buf, err := br.Peek(skip + size)
	if err != nil {
		return nil
	}
	buf = buf[skip:]
	c := fbCheck{buf: buf, limit: len(buf) / 4}
	msg := flatbuffers.Table{Bytes: buf, Pos: flatbuffers.GetUOffsetT(buf)}
	if err := c.vector(&msg, 12); err != nil { // Message.custom_metadata
		return err
	}
	o := msg.Offset(8) // Message.header
	if o == 0 {
		return nil
	}
	var schema flatbuffers.Table
	msg.Union(&schema, flatbuffers.UOffsetT(o))
	if err := c.vector(&schema, 8); err != nil { // Schema.custom_metadata
		return err
	}
	return c.fields(&schema, 6, 0) // Schema.fields
}

type fbCheck struct {
	buf     []byte
	limit   int
	visited int
}

// vector checks the length of the vector in the table's slot.
func (c *fbCheck) vector(t *flatbuffers.Table, slot flatbuffers.VOffsetT) error {
	o := t.Offset(slot)
	if o == 0 {
		return nil
	}
	if n := t.VectorLen(flatbuffers.UOffsetT(o)); n < 0 || n > c.limit {
		return fmt.Errorf("%w: a list claims %d entries in %d bytes", errBadSchema, n, len(c.buf))
	}
	return nil
}

// fields checks a vector of Field tables and, recursively, their children and metadata.
func (c *fbCheck) fields(t *flatbuffers.Table, slot flatbuffers.VOffsetT, depth int) error {
	if depth > 64 {
		return fmt.Errorf("%w: fields nested more than 64 deep", errBadSchema)
	}
	if err := c.vector(t, slot); err != nil {
		return err
	}
	o := t.Offset(slot)
	if o == 0 {
		return nil
	}
	n := t.VectorLen(flatbuffers.UOffsetT(o))
	x := t.Vector(flatbuffers.UOffsetT(o))
	for j := 0; j < n; j++ {
		if c.visited++; c.visited > c.limit {
			return fmt.Errorf("%w: more fields than its bytes can hold", errBadSchema)
		}
		f := flatbuffers.Table{Bytes: c.buf, Pos: t.Indirect(x + flatbuffers.UOffsetT(j)*4)}
		if err := c.vector(&f, 4); err != nil { // Field.name (a string is a byte vector)
			return err
		}
		if err := c.vector(&f, 16); err != nil { // Field.custom_metadata
			return err
		}
		if err := c.fields(&f, 14, depth+1); err != nil { // Field.children
			return err
		}
	}
	return nil
}
