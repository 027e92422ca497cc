package formats

import (
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/sieve-data/sieve/pipeline"
)

// messageType is the element of the messages column: struct<role: string, content: string>,
// both required.
var messageType = arrow.StructOf(
	arrow.Field{Name: "role", Type: arrow.BinaryTypes.String},
	arrow.Field{Name: "content", Type: arrow.BinaryTypes.String},
)

// InstructionSchema is the Arrow schema of instruction records (output.shape: instruction):
//
//	id           string   document id
//	lang         string   as in TextSchema; dictionary-encoded
//	script       string   as in TextSchema; dictionary-encoded
//	lang_score   double   as in TextSchema
//	messages     list<struct<role: string, content: string>>
//	                      every turn in order; role is system, user or assistant (dictionary-encoded)
//	instruction  string   Alpaca columns of the first exchange (pipeline.Instruction.Flat):
//	input        string     the first user turn as instruction and input, and the
//	output       string     assistant turn answering it; later turns are only in messages
//	task         string   kind of task (qa, translation, continuation, ...), "" when unknown; dictionary-encoded
//	template     string   id of the template that made the record, "" when read as it was; dictionary-encoded
//	source       string   input file; dictionary-encoded
//	metadata     string   doc.Meta as canonical JSON, "{}" when empty
//
// Every column, list element and struct field is required (never null). In Parquet the
// messages column is the standard three-level LIST (messages.list.element.{role,content}),
// which pyarrow, DuckDB and Hugging Face datasets read as a list of {role, content} — the
// chat format of transformers' apply_chat_template.
func InstructionSchema() *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.BinaryTypes.String},
		{Name: "lang", Type: arrow.BinaryTypes.String},
		{Name: "script", Type: arrow.BinaryTypes.String},
		{Name: "lang_score", Type: arrow.PrimitiveTypes.Float64},
		{Name: "messages", Type: arrow.ListOfNonNullable(messageType)},
		{Name: "instruction", Type: arrow.BinaryTypes.String},
		{Name: "input", Type: arrow.BinaryTypes.String},
		{Name: "output", Type: arrow.BinaryTypes.String},
		{Name: "task", Type: arrow.BinaryTypes.String},
		{Name: "template", Type: arrow.BinaryTypes.String},
		{Name: "source", Type: arrow.BinaryTypes.String},
		{Name: "metadata", Type: arrow.BinaryTypes.String},
	}, nil)
}

// InstructionShape is the layout of instruction records; see InstructionSchema. Writing a
// document whose Instruction is nil is an error naming it.
func InstructionShape() Shape {
	return Shape{
		name:        "instruction",
		schema:      InstructionSchema(),
		dictColumns: []string{"lang", "script", "messages.list.element.role", "task", "template", "source"},
		newRows:     newInstructionRows,
		appendJSON:  appendInstructionJSON,
	}
}

// ShapeByName returns the shape output.shape names: "text" (the default when empty) or
// "instruction".
func ShapeByName(name string) (Shape, error) {
	switch name {
	case "", "text":
		return TextShape(), nil
	case "instruction":
		return InstructionShape(), nil
	}
	return Shape{}, fmt.Errorf("shape must be text or instruction, got %q", name)
}

// errTextRecord is the error for a text record given to an instruction writer.
func errTextRecord(doc *pipeline.Document) error {
	return fmt.Errorf("document %q (%s) is a text record, but output.shape is instruction: give its input an adapter, or add an instruct_template stage", doc.ID, doc.Origin)
}

type instructionRows struct {
	id, lang, script, instruction, input, output, task, template, source, metadata *stringColumn
	score                                                                          *float64Column
	messages                                                                       *messagesColumn
	enc                                                                            jsonEncoder
}

func newInstructionRows(c *columns) rowAppender {
	return &instructionRows{
		id:          c.str(0),
		lang:        c.str(1),
		script:      c.str(2),
		score:       c.f64(3),
		messages:    c.cols[4].(*messagesColumn),
		instruction: c.str(5),
		input:       c.str(6),
		output:      c.str(7),
		task:        c.str(8),
		template:    c.str(9),
		source:      c.str(10),
		metadata:    c.str(11),
	}
}

func (r *instructionRows) appendRow(doc *pipeline.Document) (int, error) {
	in := doc.Instruction
	if in == nil {
		return 0, errTextRecord(doc)
	}
	r.enc.buf = r.enc.buf[:0]
	if err := r.enc.appendMeta(doc.Meta); err != nil {
		return 0, fmt.Errorf("document %q: metadata: %w", doc.ID, err)
	}
	ins, inp, out := in.Flat()
	lang := DatasetLang(doc)
	n := len(doc.ID) + len(lang) + len(doc.Script) + len(ins) + len(inp) + len(out) + len(in.Task) + len(in.Template) + len(doc.Origin.File) + len(r.enc.buf)
	for _, m := range in.Messages {
		n += len(m.Role) + len(m.Content)
	}
	if n > maxRowBytes {
		return 0, fmt.Errorf("document %q: %d bytes of strings, more than one Parquet row holds (%d)", doc.ID, n, maxRowBytes)
	}
	n = r.id.append(doc.ID)
	n += r.lang.append(lang)
	n += r.script.append(doc.Script)
	r.score.append(doc.LangScore)
	n += r.messages.append(in.Messages)
	n += r.instruction.append(ins)
	n += r.input.append(inp)
	n += r.output.append(out)
	n += r.task.append(in.Task)
	n += r.template.append(in.Template)
	n += r.source.append(doc.Origin.File)
	n += r.metadata.appendBytes(r.enc.buf)
	return n, nil
}

// messagesColumn is a list<struct<role, content>> column: the list offsets (in messages)
// and the struct's two string children.
type messagesColumn struct {
	typ           *arrow.ListType
	offsets       []int32 // offsets[0] == 0; one more than rows
	role, content stringColumn
}

func newMessagesColumn(t arrow.DataType) *messagesColumn {
	lt, ok := t.(*arrow.ListType)
	if !ok || !arrow.TypeEqual(lt.Elem(), messageType) {
		panic(fmt.Sprintf("formats: list column of %s has no column buffer", t))
	}
	return &messagesColumn{
		typ:     lt,
		offsets: []int32{0},
		role:    stringColumn{offsets: []int32{0}},
		content: stringColumn{offsets: []int32{0}},
	}
}

func (c *messagesColumn) append(ms []pipeline.Message) int {
	n := 0
	for _, m := range ms {
		n += c.role.append(m.Role)
		n += c.content.append(m.Content)
	}
	c.offsets = append(c.offsets, c.offsets[len(c.offsets)-1]+int32(len(ms)))
	return n
}

func (c *messagesColumn) array(n int) arrow.Array {
	m := int(c.offsets[n])
	role, content := c.role.array(m), c.content.array(m)
	defer role.Release()
	defer content.Release()
	st := array.NewData(messageType, m, []*memory.Buffer{nil}, []arrow.ArrayData{role.Data(), content.Data()}, 0, 0)
	defer st.Release()
	data := array.NewData(c.typ, n, []*memory.Buffer{
		nil, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(c.offsets[:n+1])),
	}, []arrow.ArrayData{st}, 0, 0)
	defer data.Release()
	return array.NewListData(data)
}

func (c *messagesColumn) reset() {
	c.offsets = c.offsets[:1]
	c.role.reset()
	c.content.reset()
}

func (c *messagesColumn) capBytes() int {
	return 4*cap(c.offsets) + c.role.capBytes() + c.content.capBytes()
}

func appendInstructionJSON(e *jsonEncoder, doc *pipeline.Document) error {
	in := doc.Instruction
	if in == nil {
		return errTextRecord(doc)
	}
	if math.IsNaN(doc.LangScore) || math.IsInf(doc.LangScore, 0) {
		return fmt.Errorf("document %q: lang_score %v cannot be written as JSON", doc.ID, doc.LangScore)
	}
	ins, inp, out := in.Flat()
	e.buf = append(e.buf, `{"id":`...)
	e.buf = appendJSONString(e.buf, doc.ID)
	e.buf = append(e.buf, `,"lang":`...)
	e.buf = appendJSONString(e.buf, DatasetLang(doc))
	e.buf = append(e.buf, `,"script":`...)
	e.buf = appendJSONString(e.buf, doc.Script)
	e.buf = append(e.buf, `,"lang_score":`...)
	e.buf = appendJSONFloat(e.buf, doc.LangScore, 64)
	e.buf = append(e.buf, `,"messages":[`...)
	for i, m := range in.Messages {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.buf = append(e.buf, `{"role":`...)
		e.buf = appendJSONString(e.buf, m.Role)
		e.buf = append(e.buf, `,"content":`...)
		e.buf = appendJSONString(e.buf, m.Content)
		e.buf = append(e.buf, '}')
	}
	e.buf = append(e.buf, `],"instruction":`...)
	e.buf = appendJSONString(e.buf, ins)
	e.buf = append(e.buf, `,"input":`...)
	e.buf = appendJSONString(e.buf, inp)
	e.buf = append(e.buf, `,"output":`...)
	e.buf = appendJSONString(e.buf, out)
	e.buf = append(e.buf, `,"task":`...)
	e.buf = appendJSONString(e.buf, in.Task)
	e.buf = append(e.buf, `,"template":`...)
	e.buf = appendJSONString(e.buf, in.Template)
	e.buf = append(e.buf, `,"source":`...)
	e.buf = appendJSONString(e.buf, doc.Origin.File)
	e.buf = append(e.buf, `,"metadata":`...)
	if err := e.appendMeta(doc.Meta); err != nil {
		return fmt.Errorf("document %q: metadata: %w", doc.ID, err)
	}
	e.buf = append(e.buf, '}')
	return nil
}
