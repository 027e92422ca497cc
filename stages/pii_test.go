package stages

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sieve-data/sieve/pipeline"
)

func newPII(t testing.TB, mod func(*PIIConfig)) *PII {
	t.Helper()
	cfg := DefaultPIIConfig()
	if mod != nil {
		mod(&cfg)
	}
	p, err := NewPII(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPIIReplaces(t *testing.T) {
	p := newPII(t, nil)
	tests := []struct{ give, want string }{
		// e-mail
		{"Write to john.doe+news@example.co.uk today.", "Write to <EMAIL> today."},
		{"mailto:amina_b@mail.example.org", "mailto:<EMAIL>"},
		{"Contact: Jöhn@exämple.de.", "Contact: <EMAIL>."},
		{"two: a.b@x.io, c-d@y.com", "two: <EMAIL>, <EMAIL>"},
		// IPv4
		{"The server at 8.8.8.8 answered.", "The server at <IPV4> answered."},
		{"Blocked 45.33.32.156, 45.33.32.157 and more.", "Blocked <IPV4>, <IPV4> and more."},
		{"IP:93.184.216.34", "IP:<IPV4>"},
		{"see http://93.184.216.34/index.html", "see http://<IPV4>/index.html"},
		{"The server at 1.2.3.4 was down.", "The server at <IPV4> was down."},
		// IPv6
		{"Reach us on 2606:4700:4700::1111 now.", "Reach us on <IPV6> now."},
		{"full 2a00:1450:4001:0810:0000:0000:0000:200e form", "full <IPV6> form"},
		{"mapped ::ffff:8.8.4.4.", "mapped <IPV6>."},
		// phone numbers
		{"Call +234 803 123 4567 now.", "Call <PHONE> now."},
		{"Tel: +254712345678", "Tel: <PHONE>"},
		{"Tel:+44 20 7946 0958", "Tel:<PHONE>"},
		{"Office (555) 123-4567.", "Office <PHONE>."},
		{"Office 555-123-4567 or 555.123.4567.", "Office <PHONE> or <PHONE>."},
		{"London 020 7946 0958.", "London <PHONE>."},
		{"Lagos 0803 123 4567.", "Lagos <PHONE>."},
		{"tel: 08031234567", "tel: <PHONE>"},
		{"Piga simu 0712345678 sasa.", "Piga simu <PHONE> sasa."},
		{"call 555-1234", "call <PHONE>"},
		{"+1 (555) 123-4567", "<PHONE>"},
		{"Seen 2024-01-15 0803 123 4567", "Seen 2024-01-15 <PHONE>"},
		// mixed
		{"Mail a@b.org or call +33 1 23 45 67 89 from 8.8.8.8", "Mail <EMAIL> or call <PHONE> from <IPV4>"},
		// e-mail inside code is still replaced
		{"`author = \"ana@example.org\"`", "`author = \"<EMAIL>\"`"},
	}
	for _, tt := range tests {
		d := &pipeline.Document{Text: tt.give}
		v, err := p.Process(context.Background(), d)
		if err != nil || !v.Kept() {
			t.Fatalf("%q: verdict %v, err %v", tt.give, v, err)
		}
		if d.Text != tt.want {
			t.Errorf("%q\n got  %q\n want %q", tt.give, d.Text, tt.want)
		}
	}
}

// TestPIILeavesAlone checks the look-alikes: none of these may change.
func TestPIILeavesAlone(t *testing.T) {
	p := newPII(t, nil)
	tests := []string{
		// versions
		"Upgrade to version 1.2.3.4 before Friday.",
		"Release 2.0.0.1 fixes the bug.",
		"Firmware: 1.0.12.3",
		"sieve v1.2.3.4 is out",
		"pip install foo==1.2.3.4",
		"the package lib-1.2.3.4 and 1.2.3.4-rc1 and 1.2.3.4.5",
		"nginx/1.2.3.4 answered",
		"Chrome 120.0.6099.109",
		// code
		"Run `ping 8.8.8.8` to test.",
		"```\nserver = \"8.8.8.8\"\nport = 5551234567\n```",
		"~~~\nVERSION = 1.2.3.4\n~~~",
		// private and documentation addresses
		"Open http://127.0.0.1:8080 or 192.168.1.1 or 10.0.0.5.",
		"Examples use 192.0.2.1, 198.51.100.7 and 203.0.113.9; netmask 255.255.255.0.",
		"Local ::1 and fe80::1ff:fe23:4567:890a and 2001:db8::8a2e:370:7334.",
		// not addresses
		"std::vector<int> and Foo::bar and a::b",
		"at 12:30:45 on 10:30-11:45",
		"MAC 00:1A:2B:3C:4D:5E",
		"3.1.4 is not an address; neither is 300.1.1.1 or 01.02.03.04",
		// not phone numbers
		"On 2024-01-15 and 15.01.2024 and 2024.01.15 we met.",
		"From 1990-2000 the price rose.",
		"It cost 12 345 678 francs, or 1.234.567 euros.",
		"Pi is 3.14159265358 and e is 2.718281828.",
		"ISBN 978-3-16-148410-0",
		"Order 12345678901 shipped.",
		"CVE-2021-44228 was serious.",
		"Population 42 123 456 in 2020.",
		"Card 4111 1111 1111 1111",
		"Meeting 2024-01-15 10-30-45 room",
		"Room 101, floor 7, 2 500 m².",
		"icon@2x.png and @handle and user@localhost and a@b.c",
		"",
	}
	for _, give := range tests {
		d := &pipeline.Document{Text: give}
		p.Process(context.Background(), d)
		if d.Text != give {
			t.Errorf("changed %q\n to %q", give, d.Text)
		}
	}
}

func TestPIIOptions(t *testing.T) {
	p := newPII(t, func(c *PIIConfig) {
		c.KeepPrivateIPs = false
		c.Kinds = []string{"ipv4", "ipv6"}
		c.IPv4Placeholder = "0.0.0.0"
	})
	d := &pipeline.Document{Text: "Mail a@b.org from 192.168.1.1 or fe80::1 or 8.8.8.8; version 1.2.3.4"}
	p.Process(context.Background(), d)
	if want := "Mail a@b.org from 0.0.0.0 or <IPV6> or 0.0.0.0; version 1.2.3.4"; d.Text != want {
		t.Errorf("got %q, want %q", d.Text, want)
	}
	rep := p.Report()["replaced"].(map[string]int64)
	if rep["ipv4"] != 2 || rep["ipv6"] != 1 || len(rep) != 2 {
		t.Errorf("report %v", rep)
	}
	if _, err := NewPII(PIIConfig{Kinds: []string{"mail"}}); err == nil || !strings.Contains(err.Error(), `got "mail"`) {
		t.Errorf("bad kind: %v", err)
	}
}

func FuzzPII(f *testing.F) {
	for _, s := range []string{"a@b.org", "8.8.8.8", "+234 803 123 4567", "2001:db8::1", "`x`", "```\n1.2.3.4", "(555) 123-4567", "::", "@@", "1.2.3.4.5.6.7.8"} {
		f.Add(s)
	}
	p := newPII(f, nil)
	f.Fuzz(func(t *testing.T, s string) {
		d := &pipeline.Document{Text: s}
		v, err := p.Process(context.Background(), d)
		if err != nil || !v.Kept() {
			t.Fatalf("verdict %v err %v", v, err)
		}
		if utf8.ValidString(s) && !utf8.ValidString(d.Text) {
			t.Fatalf("invalid UTF-8 out of %q", s)
		}
		// idempotent: placeholders hold nothing to replace
		d2 := &pipeline.Document{Text: d.Text}
		p.Process(context.Background(), d2)
		if d2.Text != d.Text {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, d.Text, d2.Text)
		}
	})
}

// BenchmarkPII formats a 3 KB document holding one address of each kind.
func BenchmarkPII(b *testing.B) {
	p := newPII(b, nil)
	var sb strings.Builder
	for sb.Len() < 3000 {
		sb.WriteString(toxFiller + " ")
	}
	text := sb.String() + " Write to ana@example.org, call +234 803 123 4567, server 8.8.8.8."
	ctx := context.Background()
	d := &pipeline.Document{}
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		d.Text = text
		p.Process(ctx, d)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
}

// An instruction record is written from its turns, not from its text view: every turn, and
// the Input inside the first user turn, is redacted, so that Flat still splits them, and each
// replacement is counted once.
func TestPIIInstructionRecord(t *testing.T) {
	p := newPII(t, nil)
	in := &pipeline.Instruction{
		Input: "Contact: amina@example.org",
		Messages: []pipeline.Message{
			{Role: pipeline.RoleSystem, Content: "Write to help@example.com if stuck."},
			{Role: pipeline.RoleUser, Content: "Summarise this for kofi@example.net.\n\nContact: amina@example.org"},
			{Role: pipeline.RoleAssistant, Content: "Piga simu +254 712 345 678 au andika kwa amina@example.org."},
			{Role: pipeline.RoleUser, Content: "And 45.33.32.156?"},
			{Role: pipeline.RoleAssistant, Content: "Hakuna."},
		},
	}
	d := &pipeline.Document{Instruction: in, Text: in.View(pipeline.ViewAll)}
	if _, err := p.Process(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"Write to <EMAIL> if stuck.",
		"Summarise this for <EMAIL>.\n\nContact: <EMAIL>",
		"Piga simu <PHONE> au andika kwa <EMAIL>.",
		"And <IPV4>?",
		"Hakuna.",
	}
	for i, m := range in.Messages {
		if m.Content != want[i] {
			t.Errorf("turn %d: %q, want %q", i, m.Content, want[i])
		}
	}
	if instr, input, output := in.Flat(); instr != "Summarise this for <EMAIL>." || input != "Contact: <EMAIL>" || output != want[2] {
		t.Errorf("Flat() = %q, %q, %q", instr, input, output)
	}
	if strings.Contains(d.Text, "@") || strings.Contains(d.Text, "712") {
		t.Errorf("text view not redacted: %q", d.Text)
	}
	rep := p.Report()
	if got := rep["replaced"].(map[string]int64); got["email"] != 4 || got["phone"] != 1 || got["ipv4"] != 1 || rep["docs_changed"] != int64(1) {
		t.Errorf("report %v, want 4 emails, 1 phone, 1 ipv4 in 1 document", rep)
	}
}
