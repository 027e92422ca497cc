package formats

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"

	"github.com/sieve-data/sieve/pipeline"
)

// warcRec is one record of a generated WARC file.
type warcRec struct {
	version string // "" means WARC/1.0
	typ     string
	uri     string
	date    string
	id      string
	ctype   string
	extra   []string // more "Name: value" lines
	block   []byte
	length  int // Content-Length to declare when not len(block); -1 leaves it out
}

// bytes returns the record as Common Crawl writes it: version line, fields, blank line,
// block, and two CRLF.
func (r warcRec) bytes() []byte {
	var b bytes.Buffer
	v := r.version
	if v == "" {
		v = "WARC/1.0"
	}
	b.WriteString(v + "\r\n")
	fmt.Fprintf(&b, "WARC-Type: %s\r\n", r.typ)
	if r.date != "" {
		fmt.Fprintf(&b, "WARC-Date: %s\r\n", r.date)
	}
	if r.id != "" {
		fmt.Fprintf(&b, "WARC-Record-ID: <%s>\r\n", r.id)
	}
	if r.uri != "" {
		fmt.Fprintf(&b, "WARC-Target-URI: %s\r\n", r.uri)
	}
	for _, e := range r.extra {
		b.WriteString(e + "\r\n")
	}
	if r.ctype != "" {
		fmt.Fprintf(&b, "Content-Type: %s\r\n", r.ctype)
	}
	switch {
	case r.length > 0:
		fmt.Fprintf(&b, "Content-Length: %d\r\n", r.length)
	case r.length == 0:
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(r.block))
	}
	b.WriteString("\r\n")
	b.Write(r.block)
	b.WriteString("\r\n\r\n")
	return b.Bytes()
}

// warcFile joins records, each in its own gzip member when gz is set (as in .warc.gz), and
// returns the decompressed offset of each record.
func warcFile(t testing.TB, recs []warcRec, gz bool) ([]byte, []int64) {
	t.Helper()
	var out bytes.Buffer
	var offs []int64
	var off int64
	for _, r := range recs {
		b := r.bytes()
		offs = append(offs, off)
		off += int64(len(b))
		if gz {
			out.Write(gzipBytes(t, b))
		} else {
			out.Write(b)
		}
	}
	return out.Bytes(), offs
}

func uuid(i int) string { return fmt.Sprintf("urn:uuid:6f1c2a3b-0000-4000-8000-%012d", i) }

const ccDate = "2024-02-21T03:14:15Z"

var warcinfo = warcRec{typ: "warcinfo", date: ccDate, id: uuid(0), ctype: "application/warc-fields",
	extra: []string{"WARC-Filename: CC-MAIN-20240221000000-20240221030000-00000.warc.wet.gz"},
	block: []byte("Software-Info: ia-web-commons.1.1.10-SNAPSHOT-20240112\r\nExtracted-Date: Wed, 21 Feb 2024 04:00:00 GMT\r\nrobots: checked via crawler-commons 1.5-SNAPSHOT\r\nisPartOf: CC-MAIN-2024-10\r\noperator: Common Crawl Admin (info@commoncrawl.org)\r\ndescription: Wide crawl of the web for February 2024\r\npublisher: Common Crawl\r\n")}

func wetRec(i int, uri, langs, text string) warcRec {
	return warcRec{typ: "conversion", uri: uri, date: ccDate, id: uuid(i), ctype: "text/plain",
		extra: []string{"WARC-Refers-To: <" + uuid(100+i) + ">", "WARC-Block-Digest: sha1:ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
			"WARC-Identified-Content-Language: " + langs},
		block: []byte(text)}
}

func TestWETReader(t *testing.T) {
	texts := []string{
		"Ẹ kú àárọ̀ o. Ìjọba àpapọ̀ ti kéde pé àwọn ilé-ìwé yóò ṣí ní ọjọ́ Ajé.\nÀwọn òbí ń múra sílẹ̀.",
		"Habari za asubuhi. Serikali imetangaza kwamba shule zitafunguliwa Jumatatu.\nWazazi wanajiandaa.",
		"Sawubona. Uhulumeni umemezele ukuthi izikole zizovulwa ngoMsombuluko.",
	}
	recs := []warcRec{
		warcinfo,
		wetRec(1, "https://yo.example.org/iroyin/1", "yor,eng", texts[0]),
		wetRec(2, "https://sw.example.org/habari?id=2", "swa", texts[1]),
		wetRec(3, "https://example.org/empty", "", "   \n"),
		wetRec(4, "https://example.org/bytes", "eng", "caf\xe9"),
		wetRec(5, "https://zu.example.org/izindaba/5", "zul", texts[2]),
	}
	truncated := wetRec(6, "https://example.org/cut", "eng", "only part of this text is in the file")
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip per record %v", gz), func(t *testing.T) {
			data, offs := warcFile(t, recs, gz)
			// The last record says it holds 1000 bytes; the file ends 37 bytes into them.
			cut := truncated
			cut.length = 1000
			tail := cut.bytes()
			tail = tail[:len(tail)-4]
			truncOff := offs[len(offs)-1] + int64(len(recs[len(recs)-1].bytes()))
			if gz {
				data = append(data, gzipBytes(t, tail)...)
			} else {
				data = append(data, tail...)
			}
			path := writeFile(t, t.TempDir(), "CC-MAIN-00000.warc.wet.gz", data)
			r, err := NewWARCReader(path, csvInput(nil))
			if err != nil {
				t.Fatal(err)
			}
			docs, err := readDocs(t, r)
			if err != nil {
				t.Fatal(err)
			}
			type want struct {
				rec    int
				text   string
				reason string
			}
			wants := []want{{1, texts[0], ""}, {2, texts[1], ""}, {3, "   \n", ReasonEmptyText}, {4, "caf\uFFFD", ReasonInvalidUTF8}, {5, texts[2], ""}}
			if len(docs) != len(wants)+1 {
				t.Fatalf("%d docs, want %d", len(docs), len(wants)+1)
			}
			for i, w := range wants {
				d, rec := docs[i], recs[w.rec]
				if d.ID != rec.id || d.Text != w.text || d.Rejected.Reason != w.reason {
					t.Errorf("doc %d: id %q text %q reason %q; want %q %q %q", i, d.ID, d.Text, d.Rejected.Reason, rec.id, w.text, w.reason)
				}
				if d.Origin != (pipeline.Position{File: path, Line: int64(w.rec + 1), Offset: offs[w.rec]}) {
					t.Errorf("doc %d: origin %+v, want line %d offset %d", i, d.Origin, w.rec+1, offs[w.rec])
				}
				meta := map[string]any{"url": rec.uri, "date": ccDate, "warc_record_id": "<" + rec.id + ">", "warc_type": "conversion",
					"content_type": "text/plain", "warc_refers_to": "<" + uuid(100+w.rec) + ">"}
				if langs := strings.TrimPrefix(rec.extra[2], "WARC-Identified-Content-Language: "); langs != "" {
					meta["warc_identified_content_language"] = langs
				}
				if !reflect.DeepEqual(d.Meta, meta) {
					t.Errorf("doc %d: meta %v, want %v", i, d.Meta, meta)
				}
			}
			last := docs[len(docs)-1]
			if last.Rejected.Reason != ReasonTruncated || last.Origin.Offset != truncOff || last.Origin.Line != 7 || last.ID != uuid(6) {
				t.Errorf("truncated record: %+v, want offset %d", last, truncOff)
			}
			if !gz && !strings.Contains(last.Rejected.Detail, fmt.Sprintf("record at byte %d declares Content-Length 1000 but the stream ends after 37 bytes of its block", truncOff)) {
				t.Errorf("detail %q", last.Rejected.Detail)
			}
			if got := r.Skipped(); !reflect.DeepEqual(got, map[string]int64{"warcinfo": 1}) {
				t.Errorf("skipped %v", got)
			}
		})
	}
}

// Pages of a crawl: an article in Yoruba with navigation and footer around it.
const yorubaPage = `<!DOCTYPE html>
<html lang="yo"><head><meta charset="utf-8"><title>Àwọn ilé-ìwé yóò ṣí ní ọjọ́ Ajé - Ìròyìn</title>
<style>body{font-family:serif}</style><script>var tracker = "do not keep me";</script></head>
<body>
<nav class="menu"><ul><li><a href="/">Ojú-ìwé àkọ́kọ́</a></li><li><a href="/ere-idaraya">Eré ìdárayá</a></li><li><a href="/oselu">Òṣèlú</a></li></ul></nav>
<article>
<h1>Àwọn ilé-ìwé yóò ṣí ní ọjọ́ Ajé</h1>
<p>Ìjọba àpapọ̀ ti kéde pé gbogbo àwọn ilé-ìwé ní ìpínlẹ̀ náà yóò ṣí sílẹ̀ ní ọjọ́ Ajé tó ń bọ̀, lẹ́yìn ìsinmi ọlọ́sẹ̀ mẹ́ta. Kọmíṣọ́nnà fún ètò ẹ̀kọ́ sọ pé àwọn olùkọ́ ti parí ìdálẹ́kọ̀ọ́ wọn.</p>
<p>Àwọn òbí ń ra ìwé àti aṣọ ilé-ìwé fún àwọn ọmọ wọn. Ọjà ìwé ní ìlú náà kún fún ènìyàn lónìí, àwọn oníṣòwò sì sọ pé owó ìwé ti lọ sókè díẹ̀ láti ọdún tó kọjá.</p>
<p>Ẹgbẹ́ àwọn olùkọ́ ti kí ìjọba fún ìpinnu náà, wọ́n sì rọ àwọn òbí láti rí i dájú pé àwọn ọmọ dé ilé-ìwé ní àkókò. Ìjọba ṣèlérí láti pèsè omi mímu àti ilé ìgbọ̀nsẹ̀ tó mọ́ ní gbogbo ilé-ìwé.</p>
</article>
<footer><p>© 2024 Ìròyìn Lónìí. Gbogbo ẹ̀tọ́ ni a pamọ́.</p><a href="/asiri">Ìlànà àṣírí</a></footer>
</body></html>`

func httpResponse(status string, headers []string, body []byte) []byte {
	var b bytes.Buffer
	b.WriteString("HTTP/1.1 " + status + "\r\n")
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

func chunked(b []byte, size int) []byte {
	var out bytes.Buffer
	for len(b) > 0 {
		n := min(size, len(b))
		fmt.Fprintf(&out, "%x\r\n", n)
		out.Write(b[:n])
		out.WriteString("\r\n")
		b = b[n:]
	}
	out.WriteString("0\r\n\r\n")
	return out.Bytes()
}

func deflateBytes(t testing.TB, b []byte) []byte {
	var out bytes.Buffer
	w, _ := flate.NewWriter(&out, flate.DefaultCompression)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func crawlRecords(t testing.TB) []warcRec {
	// An Icelandic page served as windows-1252, gzip-compressed and chunked.
	isPage := `<html><head><title>Góðan daginn</title></head><body><div id="main"><h2>Veðrið í Reykjavík</h2>` +
		strings.Repeat(`<p>Það verður bjart og kalt í dag, með norðanátt og frosti um allt land. Á morgun þykknar upp og búast má við snjókomu síðdegis.</p>`, 4) +
		`</div></body></html>`
	is, err := charmap.Windows1252.NewEncoder().Bytes([]byte(isPage))
	if err != nil {
		t.Fatal(err)
	}
	req := func(i int, uri string) warcRec {
		return warcRec{typ: "request", uri: uri, date: ccDate, id: uuid(i), ctype: "application/http; msgtype=request",
			block: []byte("GET " + uri[strings.Index(uri[8:], "/")+8:] + " HTTP/1.1\r\nUser-Agent: CCBot/2.0 (https://commoncrawl.org/faq/)\r\nAccept: text/html\r\nHost: example.org\r\n\r\n")}
	}
	meta := func(i int, uri string) warcRec {
		return warcRec{typ: "metadata", uri: uri, date: ccDate, id: uuid(i), ctype: "application/warc-fields",
			block: []byte("fetchTimeMs: 118\r\ncharset-detected: UTF-8\r\nlanguages-cld2: {\"reliable\":true}\r\n")}
	}
	resp := func(i int, uri string, http []byte, extra ...string) warcRec {
		return warcRec{typ: "response", uri: uri, date: ccDate, id: uuid(i), ctype: "application/http; msgtype=response",
			extra: append([]string{"WARC-IP-Address: 192.0.2.7", "WARC-Payload-Digest: sha1:QWERTYUIOPASDFGHJKLZXCVBNM234567"}, extra...), block: http}
	}
	return []warcRec{
		warcinfo,
		req(1, "https://yo.example.org/iroyin/ile-iwe"),
		resp(2, "https://yo.example.org/iroyin/ile-iwe", httpResponse("200 OK", []string{"Content-Type: text/html; charset=UTF-8", "X-Crawler-Content-Length: 3100"}, []byte(yorubaPage)),
			"WARC-Identified-Payload-Type: text/html"),
		meta(3, "https://yo.example.org/iroyin/ile-iwe"),
		req(4, "https://is.example.org/vedur"),
		resp(5, "https://is.example.org/vedur", httpResponse("200 OK", []string{"Content-Type: text/html; charset=windows-1252", "Content-Encoding: gzip", "Transfer-Encoding: chunked"},
			chunked(gzipBytes(t, is), 100))),
		resp(6, "https://example.org/old", httpResponse("301 Moved Permanently", []string{"Location: https://example.org/new", "Content-Type: text/html"}, []byte("<html><body>Moved</body></html>"))),
		resp(7, "https://example.org/report.pdf", httpResponse("200 OK", []string{"Content-Type: application/pdf"}, []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"))),
		{typ: "resource", uri: "file:///corpus/sw.txt", date: ccDate, id: uuid(8), ctype: "text/plain; charset=utf-8", block: []byte("Kitabu hiki ni cha mwalimu.\n")},
		{typ: "revisit", uri: "https://yo.example.org/iroyin/ile-iwe", date: ccDate, id: uuid(9), ctype: "application/http; msgtype=response",
			extra: []string{"WARC-Profile: http://netpreserve.org/warc/1.0/revisit/identical-payload-digest"}, block: []byte("HTTP/1.1 200 OK\r\n\r\n")},
		resp(10, "https://sw.example.org/deflate", httpResponse("200 OK", []string{"Content-Type: text/plain", "Content-Encoding: deflate"},
			deflateBytes(t, []byte("Habari za leo? Nzuri sana.")))),
		resp(11, "https://example.org/no-http-type", httpResponse("200 OK", nil, []byte("<html><body><p>Sniffed as HTML.</p></body></html>"))),
	}
}

func TestWARCReader(t *testing.T) {
	recs := crawlRecords(t)
	cut := warcRec{typ: "response", uri: "https://example.org/cut", date: ccDate, id: uuid(12), ctype: "application/http; msgtype=response",
		block: httpResponse("200 OK", []string{"Content-Type: text/html"}, []byte("<html><body><p>cut short")), length: 5000}
	data, offs := warcFile(t, recs, true)
	cutOff := offs[len(offs)-1] + int64(len(recs[len(recs)-1].bytes()))
	cb := cut.bytes()
	data = append(data, gzipBytes(t, cb[:len(cb)-4])...)
	path := writeFile(t, t.TempDir(), "CC-MAIN-00000.warc.gz", data)

	read := func(mode string) ([]pipeline.Document, *WARCReader) {
		t.Helper()
		r, err := NewWARCReader(path, csvInput(func(in *pipeline.Input) { in.HTML = mode }))
		if err != nil {
			t.Fatal(err)
		}
		docs, err := readDocs(t, r)
		if err != nil {
			t.Fatal(err)
		}
		return docs, r
	}
	docs, r := read("")
	wantRecs := []int{2, 5, 6, 7, 8, 10, 11}
	wantReasons := []string{"", "", ReasonHTTPStatus, ReasonUnsupported, "", "", ""}
	if len(docs) != len(wantRecs)+1 {
		for _, d := range docs {
			t.Log(d.ID, d.Rejected)
		}
		t.Fatalf("%d docs, want %d", len(docs), len(wantRecs)+1)
	}
	for i, k := range wantRecs {
		d := docs[i]
		if d.ID != recs[k].id || d.Origin.Offset != offs[k] || d.Origin.Line != int64(k+1) || d.Rejected.Reason != wantReasons[i] {
			t.Errorf("doc %d: %s line %d offset %d %v; want %s line %d offset %d %q", i, d.ID, d.Origin.Line, d.Origin.Offset, d.Rejected, recs[k].id, k+1, offs[k], wantReasons[i])
		}
		if d.Meta["url"] != recs[k].uri || d.Meta["date"] != ccDate || d.Meta["warc_type"] != recs[k].typ {
			t.Errorf("doc %d: meta %v", i, d.Meta)
		}
	}
	last := docs[len(docs)-1]
	if last.Rejected.Reason != ReasonTruncated || last.Origin.Offset != cutOff || last.ID != uuid(12) {
		t.Errorf("truncated record: %+v, want offset %d", last, cutOff)
	}
	if got := r.Skipped(); !reflect.DeepEqual(got, map[string]int64{"warcinfo": 1, "request": 2, "metadata": 1, "revisit": 1}) {
		t.Errorf("skipped %v", got)
	}

	// The article's paragraphs are kept, without navigation, footer, script or style.
	yo := docs[0]
	for _, want := range []string{"Ìjọba àpapọ̀ ti kéde pé gbogbo àwọn ilé-ìwé", "owó ìwé ti lọ sókè díẹ̀", "ilé ìgbọ̀nsẹ̀ tó mọ́ ní gbogbo ilé-ìwé."} {
		if !strings.Contains(yo.Text, want) {
			t.Errorf("extract: text lacks %q:\n%s", want, yo.Text)
		}
	}
	for _, not := range []string{"Eré ìdárayá", "Gbogbo ẹ̀tọ́", "tracker", "font-family", "<p>"} {
		if strings.Contains(yo.Text, not) {
			t.Errorf("extract: text holds %q:\n%s", not, yo.Text)
		}
	}
	if !strings.Contains(yo.Text, "tó ń bọ̀, lẹ́yìn ìsinmi ọlọ́sẹ̀ mẹ́ta. Kọmíṣọ́nnà") || strings.Count(yo.Text, "\n\n") < 2 {
		t.Errorf("extract: paragraphs not on their own lines:\n%s", yo.Text)
	}
	if yo.Meta["title"] != "Àwọn ilé-ìwé yóò ṣí ní ọjọ́ Ajé - Ìròyìn" && yo.Meta["title"] != "Àwọn ilé-ìwé yóò ṣí ní ọjọ́ Ajé" {
		t.Errorf("title %q", yo.Meta["title"])
	}
	if yo.Meta["http_status"] != int64(200) || yo.Meta["content_type"] != "text/html" || yo.Meta["warc_record_id"] != "<"+uuid(2)+">" {
		t.Errorf("meta %v", yo.Meta)
	}
	// windows-1252, gzip and chunked undone.
	if is := docs[1].Text; !strings.Contains(is, "Það verður bjart og kalt í dag, með norðanátt") || !utf8.ValidString(is) {
		t.Errorf("windows-1252 page: %q", is)
	}
	if d := docs[2]; d.Rejected.Detail != "HTTP status 301" || d.Meta["http_status"] != int64(301) {
		t.Errorf("redirect: %+v", d)
	}
	if d := docs[3]; d.Rejected.Detail != `content type "application/pdf" is not text or HTML` {
		t.Errorf("pdf: %+v", d.Rejected)
	}
	if d := docs[4]; d.Text != "Kitabu hiki ni cha mwalimu.\n" || d.Meta["content_type"] != "text/plain" {
		t.Errorf("resource: %q %v", d.Text, d.Meta)
	}
	if d := docs[5]; d.Text != "Habari za leo? Nzuri sana." {
		t.Errorf("deflate: %q", d.Text)
	}
	if d := docs[6]; d.Text != "Sniffed as HTML." || d.Meta["content_type"] != "text/html" {
		t.Errorf("sniffed: %q %v", d.Text, d.Meta)
	}

	// html: text keeps everything visible; html: raw the page itself.
	docs, _ = read(HTMLText)
	if yo := docs[0].Text; !strings.Contains(yo, "Eré ìdárayá") || !strings.Contains(yo, "Gbogbo ẹ̀tọ́") || !strings.Contains(yo, "owó ìwé ti lọ sókè") || strings.Contains(yo, "tracker") {
		t.Errorf("html text:\n%s", yo)
	}
	docs, _ = read(HTMLRaw)
	if docs[0].Text != yorubaPage || !strings.HasPrefix(docs[1].Text, "<html><head><title>Góðan daginn") {
		t.Errorf("html raw:\n%.200s\n%.200s", docs[0].Text, docs[1].Text)
	}
}

func TestWARCReaderBadRecords(t *testing.T) {
	good := func(i int) warcRec {
		return wetRec(i, fmt.Sprintf("https://example.org/%d", i), "eng", fmt.Sprintf("text %d", i))
	}
	noLength := good(2)
	noLength.length = -1
	badVersion := good(4)
	badVersion.version = "WARC/0.17"
	badField := good(6)
	badField.extra = append(badField.extra, "this line has no colon")
	badLength := good(8)
	badLength.extra = append(badLength.extra, "Content-Length: 12abc")
	badLength.length = -1
	noType := good(10)
	noType.typ = ""
	var data bytes.Buffer
	var offs []int64
	add := func(b []byte) {
		offs = append(offs, int64(data.Len()))
		data.Write(b)
	}
	add(good(1).bytes())
	add(noLength.bytes())
	add(good(3).bytes())
	add(badVersion.bytes())
	add(good(5).bytes())
	add([]byte("<html>stray bytes between records\r\nmore\r\n"))
	add(badField.bytes())
	add(good(7).bytes())
	add(badLength.bytes())
	add(good(9).bytes())
	add(noType.bytes())
	add(good(11).bytes())
	path := writeFile(t, t.TempDir(), "bad.warc", data.Bytes())
	r, err := NewWARCReader(path, csvInput(nil))
	if err != nil {
		t.Fatal(err)
	}
	docs, err := readDocs(t, r)
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		id, reason, detail string
	}
	wants := []want{
		{uuid(1), "", ""},
		{uuid(2), ReasonInvalidWARC, "no valid Content-Length; skipped to the next record"},
		{uuid(3), "", ""},
		{uuid(4), ReasonInvalidWARC, `version line "WARC/0.17": want WARC/1.0 or WARC/1.1`},
		{uuid(5), "", ""},
		{"bad.warc@" + fmt.Sprint(offs[5]), ReasonInvalidWARC, fmt.Sprintf("%d bytes that are not a WARC record (no WARC/ version line); skipped to the next record", offs[6]-offs[5])},
		{uuid(6), ReasonInvalidWARC, `header line "this line has no colon" is not "Name: value"`},
		{uuid(7), "", ""},
		{uuid(8), ReasonInvalidWARC, `Content-Length "12abc" is not a byte count; skipped to the next record`},
		{uuid(9), "", ""},
		{uuid(10), ReasonInvalidWARC, "no WARC-Type"},
		{uuid(11), "", ""},
	}
	if len(docs) != len(wants) {
		for _, d := range docs {
			t.Log(d.ID, d.Origin, d.Rejected)
		}
		t.Fatalf("%d docs, want %d", len(docs), len(wants))
	}
	for i, w := range wants {
		d := docs[i]
		if d.ID != w.id || d.Rejected.Reason != w.reason || d.Rejected.Detail != w.detail || d.Origin.Offset != offs[i] {
			t.Errorf("doc %d: %s %q %q offset %d; want %s %q %q offset %d", i, d.ID, d.Rejected.Reason, d.Rejected.Detail, d.Origin.Offset, w.id, w.reason, w.detail, offs[i])
		}
		var n int
		fmt.Sscanf(w.id[len(w.id)-12:], "%d", &n)
		if w.reason == "" && d.Text != fmt.Sprintf("text %d", n) {
			t.Errorf("doc %d: text %q", i, d.Text)
		}
	}

	// on_error: fail stops at the first problem.
	r, err = NewWARCReader(path, csvInput(func(in *pipeline.Input) { in.OnError = "fail" }))
	if err != nil {
		t.Fatal(err)
	}
	docs, err = readDocs(t, r)
	var re *ReadError
	if !errors.As(err, &re) || re.Reason != ReasonInvalidWARC || re.Offset != offs[1] || re.Line != 2 || len(docs) != 1 {
		t.Fatalf("err = %v after %d docs", err, len(docs))
	}
}

func TestWARCReaderLimits(t *testing.T) {
	// A block over max_record_bytes is skipped, not held; a huge Content-Length with few
	// bytes behind it claims no memory.
	big := wetRec(1, "https://example.org/big", "eng", strings.Repeat("ọ̀rọ̀ ", 2000))
	small := wetRec(2, "https://example.org/small", "eng", "small")
	data, _ := warcFile(t, []warcRec{big, small}, false)
	path := writeFile(t, t.TempDir(), "f.warc", data)
	r, err := NewWARCReader(path, csvInput(func(in *pipeline.Input) { in.MaxRecordBytes = 4096 }))
	if err != nil {
		t.Fatal(err)
	}
	docs, err := readDocs(t, r)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 || docs[0].Rejected.Reason != ReasonRecordTooLarge || docs[1].Text != "small" {
		t.Fatalf("docs %+v", docs)
	}

	huge := []byte("WARC/1.1\r\nWARC-Type: conversion\r\nWARC-Record-ID: <urn:x>\r\nContent-Length: 999999999999\r\n\r\nshort")
	path = writeFile(t, t.TempDir(), "huge.warc", huge)
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	r, err = NewWARCReader(path, csvInput(func(in *pipeline.Input) { in.MaxRecordBytes = 1 << 30 }))
	if err != nil {
		t.Fatal(err)
	}
	docs, err = readDocs(t, r)
	runtime.ReadMemStats(&ms1)
	if err != nil || len(docs) != 1 || docs[0].Rejected.Reason != ReasonTruncated || docs[0].ID != "urn:x" {
		t.Fatalf("docs %+v, err %v", docs, err)
	}
	if alloc := ms1.TotalAlloc - ms0.TotalAlloc; alloc > 8<<20 {
		t.Errorf("%d bytes allocated for a %d-byte file", alloc, len(huge))
	}
}

func TestWARCReaderCorruptGzip(t *testing.T) {
	// A .warc.gz cut inside the third record's gzip member: that record is read.truncated,
	// at its own offset.
	recs := []warcRec{warcinfo, wetRec(1, "https://x/1", "yor", "Ẹ kú àárọ̀"), wetRec(2, "https://x/2", "swa", strings.Repeat("Habari za asubuhi. ", 200))}
	data, offs := warcFile(t, recs, true)
	path := writeFile(t, t.TempDir(), "f.warc.gz", data[:len(data)-40])
	r, err := NewWARCReader(path, csvInput(nil))
	if err != nil {
		t.Fatal(err)
	}
	docs, err := readDocs(t, r)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 || docs[0].ID != uuid(1) || docs[1].Rejected.Reason != ReasonTruncated || docs[1].Origin.Offset != offs[2] || docs[1].ID != uuid(2) {
		t.Fatalf("docs %+v", docs)
	}
	if !strings.Contains(docs[1].Rejected.Detail, "the compressed stream is cut or corrupt") {
		t.Errorf("detail %q", docs[1].Rejected.Detail)
	}
}

func TestWARCReaderBadHTML(t *testing.T) {
	if _, err := NewWARCReader("x.warc", csvInput(func(in *pipeline.Input) { in.HTML = "markdown" })); err == nil || !strings.Contains(err.Error(), `html "markdown"`) {
		t.Errorf("err = %v", err)
	}
}

func FuzzWARCReader(f *testing.F) {
	recs := crawlRecords(f)
	data, _ := warcFile(f, recs[:4], false)
	f.Add(data)
	wet, _ := warcFile(f, []warcRec{warcinfo, wetRec(1, "https://x", "yor", "Ẹ kú àárọ̀")}, false)
	f.Add(wet)
	f.Add(gzipBytes(f, wet))
	f.Add([]byte("WARC/1.0\r\nWARC-Type: conversion\r\nContent-Length: 99999999999999999\r\n\r\nabc"))
	f.Add([]byte("WARC/1.0\r\nWARC-Type: response\r\nContent-Type: application/http\r\nContent-Length: 60\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffff\r\nab\r\n\r\n"))
	f.Add([]byte("\r\n\r\nWARC/1.1\n  cont\nX\nContent-Length: 0\n\nWARC/1.1\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := writeFile(t, t.TempDir(), "f.warc", data)
		r, err := NewWARCReader(path, csvInput(func(in *pipeline.Input) { in.MaxRecordBytes = 1 << 20 }))
		if err != nil {
			t.Fatal(err)
		}
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		docs, err := readDocs(t, r)
		runtime.ReadMemStats(&ms1)
		if err != nil {
			t.Fatalf("error from in-memory input with on_error reject: %v", err)
		}
		if alloc := ms1.TotalAlloc - ms0.TotalAlloc; alloc > 32<<20+uint64(500*len(data)) {
			t.Errorf("%d bytes allocated for %d bytes of input", alloc, len(data))
		}
		// Each record (or run of stray bytes) gives one document or one reject, or is
		// skipped: offsets strictly increase, and there cannot be more of them than lines.
		var prev int64 = -1
		for i, d := range docs {
			if d.Origin.Offset <= prev || d.ID == "" {
				t.Fatalf("doc %d: id %q offset %d after %d", i, d.ID, d.Origin.Offset, prev)
			}
			prev = d.Origin.Offset
			if d.IsRejected() {
				if !strings.HasPrefix(d.Rejected.Reason, "read.") || d.Rejected.Detail == "" {
					t.Fatalf("reject %+v", d.Rejected)
				}
				if d.Rejected.Reason == ReasonTruncated && i != len(docs)-1 {
					t.Fatal("read.truncated before the end")
				}
				continue
			}
			if !utf8.ValidString(d.Text) || isSpace(d.Text) {
				t.Fatalf("kept text %q", d.Text)
			}
		}
		var skipped int64
		for _, n := range r.Skipped() {
			skipped += n
		}
		if n := int64(len(docs)) + skipped; n > int64(bytes.Count(data, []byte("\n"))+1) && !bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
			t.Fatalf("%d records from %d lines", n, bytes.Count(data, []byte("\n"))+1)
		}
	})
}

func BenchmarkWARCReader(b *testing.B) {
	// WET: 1 KB conversion records; WARC: HTML responses, extract mode.
	var wet []warcRec
	var total int
	for i := 0; total < 16<<20; i++ {
		text := strings.Repeat(fmt.Sprintf("Ẹ kú àárọ̀ o, ìjọba àpapọ̀ ti kéde %d. ", i), 20)
		wet = append(wet, wetRec(i, fmt.Sprintf("https://yo.example.org/%d", i), "yor", text))
		total += len(text)
	}
	var warc []warcRec
	for i := 0; i < 300; i++ {
		page := strings.Replace(yorubaPage, "Ìjọba àpapọ̀", fmt.Sprintf("Ìjọba àpapọ̀ %d", i), 1)
		warc = append(warc, warcRec{typ: "response", uri: fmt.Sprintf("https://yo.example.org/%d", i), date: ccDate, id: uuid(i), ctype: "application/http; msgtype=response",
			block: httpResponse("200 OK", []string{"Content-Type: text/html; charset=UTF-8"}, []byte(page))})
	}
	for _, c := range []struct {
		name string
		recs []warcRec
		mode string
	}{{"wet", wet, ""}, {"warc-extract", warc, HTMLExtract}, {"warc-text", warc, HTMLText}} {
		b.Run(c.name, func(b *testing.B) {
			data, _ := warcFile(b, c.recs, true)
			var size int64
			for _, r := range c.recs {
				size += int64(len(r.bytes()))
			}
			path := writeFile(b, b.TempDir(), "bench.warc.gz", data)
			in := csvInput(func(in *pipeline.Input) { in.HTML = c.mode })
			benchReader(b, size, len(c.recs), func() (pipeline.Source, error) { return NewWARCReader(path, in) })
		})
	}
}

func TestParseHTTP(t *testing.T) {
	tests := []struct {
		name       string
		give       string
		wantStatus int
		wantType   string
		wantBody   string
		wantErr    string
	}{
		{"CRLF", "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>x</p>", 200, "text/html", "<p>x</p>", ""},
		{"LF only, no reason", "HTTP/1.0 404\nContent-Type: text/plain\n\nnot here", 404, "text/plain", "not here", ""},
		{"bad header lines ignored, folded value kept", "HTTP/1.1 200 OK\r\nthis is junk\r\nContent-Type: text/html;\r\n charset=utf-8\r\n: empty\r\n\r\nbody\r\n\r\nmore", 200, "text/html; charset=utf-8", "body\r\n\r\nmore", ""},
		{"headers only", "HTTP/1.1 204 No Content\r\nServer: x", 204, "", "", ""},
		{"not HTTP", "<html>hello</html>", 0, "", "", `HTTP status line "<html>hello</html>": want HTTP/x.y CODE`},
		{"bad code", "HTTP/1.1 2x0 OK\r\n\r\n", 0, "", "", "want HTTP/x.y CODE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, h, body, err := parseHTTP([]byte(tt.give))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || status != tt.wantStatus || h.Get("Content-Type") != tt.wantType || string(body) != tt.wantBody {
				t.Errorf("got %d %q %q %v", status, h.Get("Content-Type"), body, err)
			}
		})
	}
}
