package lang

import (
	"strings"
	"testing"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		give string
		want string // "" = not found
	}{
		{"yor_Latn", "yor_Latn"},
		{"yor", "yor_Latn"},
		{"yo", "yor_Latn"},
		{"YO", "yor_Latn"},
		{"__label__yor_Latn", "yor_Latn"},
		{"__label__yo", "yor_Latn"},
		{"Yoruba", "yor_Latn"},
		{"yoruba", "yor_Latn"},
		{"yo-Latn", "yor_Latn"},
		{"yor_Arab", ""},
		{"swa_Latn", "swh_Latn"},
		{"swa", "swh_Latn"},
		{"sw", "swh_Latn"},
		{"ara", "arb_Arab"},
		{"ar", "arb_Arab"},
		{"mon_Cyrl", "khk_Cyrl"},
		{"mon", "khk_Cyrl"},
		{"mn", "khk_Cyrl"},
		{"cmn_Hans", "zho_Hans"},
		{"zho", "zho_Hans"},
		{"zh", "zho_Hans"},
		{"zh-Hant", "zho_Hant"},
		{"zh_hant", "zho_Hant"},
		{"cmn_Hant", "zho_Hant"},
		{"srp", "srp_Cyrl"},
		{"sr", "srp_Cyrl"},
		{"sr-Latn", "srp_Latn"},
		{"uzb_Cyrl", "uzn_Cyrl"},
		{"uz", "uzn_Latn"},
		{"fas", "pes_Arab"},
		{"per", ""}, // ISO 639-2/B codes are not accepted
		{"msa", "zsm_Latn"},
		{"lav", "lvs_Latn"},
		{"sqi", "als_Latn"},
		{"aze", "azj_Latn"},
		{"orm", "gaz_Latn"},
		{"nor", "nob_Latn"},
		{"fil", "tgl_Latn"},
		{"Bokmal", "nob_Latn"},
		{"Slovene", "slv_Latn"},
		{"Ganda", "lug_Latn"},
		{"Sotho", "sot_Latn"},
		{"Persian", "pes_Arab"},
		{"kor_Kore", "kor_Hang"},
		{"ku", "kmr_Latn"},
		{"", ""},
		{"xx", ""},
		{"und_Latn", ""},
		{"Klingon", ""},
		{"yor_Latn_x", ""},
	}
	for _, tt := range tests {
		got, ok := Lookup(tt.give)
		if tt.want == "" {
			if ok {
				t.Errorf("Lookup(%q) = %q, want not found", tt.give, got.Label)
			}
			continue
		}
		if !ok || got.Label != tt.want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", tt.give, got.Label, ok, tt.want)
		}
	}
}

func TestLanguageEntries(t *testing.T) {
	langs := Languages()
	if len(langs) < 200 {
		t.Fatalf("table has %d entries, want >= 200 (FLORES-200 and the lingua languages)", len(langs))
	}
	defaults := map[string]string{}
	for i, l := range langs {
		if i > 0 && langs[i-1].Label >= l.Label {
			t.Errorf("entries not sorted: %s before %s", langs[i-1].Label, l.Label)
		}
		if l.Label != l.Code+"_"+l.Script || len(l.Code) != 3 || len(l.Script) != 4 || l.Name == "" {
			t.Errorf("bad entry %+v", l)
		}
		if l.ISO1 != "" && len(l.ISO1) != 2 {
			t.Errorf("%s: ISO 639-1 %q", l.Label, l.ISO1)
		}
		if l.Default {
			if prev, dup := defaults[l.Code]; dup {
				t.Errorf("code %s has two default scripts: %s and %s", l.Code, prev, l.Label)
			}
			defaults[l.Code] = l.Label
		}
		// Every entry is found by its own label, and its code finds the default entry.
		if got, ok := Lookup(l.Label); !ok || got != l {
			t.Errorf("Lookup(%q) = %+v, %v", l.Label, got, ok)
		}
	}
	for _, l := range langs {
		if _, ok := defaults[l.Code]; !ok {
			t.Errorf("code %s has no default script", l.Code)
		}
	}
	// Spot-check the fields a dataset card uses.
	yor, _ := Lookup("yor_Latn")
	if yor.Name != "Yoruba" || yor.ISO1 != "yo" || yor.Macro != "" || !yor.Default {
		t.Errorf("yor_Latn = %+v", yor)
	}
	swh, _ := Lookup("swh_Latn")
	if swh.Macro != "swa" || swh.ISO1 != "sw" {
		t.Errorf("swh_Latn = %+v", swh)
	}
	srpLatn, _ := Lookup("srp_Latn")
	if srpLatn.Default {
		t.Errorf("srp_Latn must not be the default script of srp")
	}
}

func TestUnd(t *testing.T) {
	tests := []struct{ give, want string }{
		{"Ethi", "und_Ethi"}, {"Latn", "und_Latn"}, {NoScript, NoLanguage}, {"", NoLanguage},
	}
	for _, tt := range tests {
		if got := Und(tt.give); got != tt.want {
			t.Errorf("Und(%q) = %q, want %q", tt.give, got, tt.want)
		}
		if !IsUnd(Und(tt.give)) {
			t.Errorf("IsUnd(Und(%q)) = false", tt.give)
		}
	}
	if IsUnd("yor_Latn") {
		t.Error(`IsUnd("yor_Latn") = true`)
	}
	if got := LabelScript("yor_Latn"); got != "Latn" {
		t.Errorf("LabelScript = %q", got)
	}
}

func TestCanonical(t *testing.T) {
	tests := []struct{ give, want string }{
		{"mon_Cyrl", "khk_Cyrl"}, {"swh_Latn", "swh_Latn"}, {"__label__xyz_Latn", "xyz_Latn"}, {"und_Ethi", "und_Ethi"},
	}
	for _, tt := range tests {
		if got := Canonical(tt.give); got != tt.want {
			t.Errorf("Canonical(%q) = %q, want %q", tt.give, got, tt.want)
		}
	}
}

func TestParseTableRejectsBadLines(t *testing.T) {
	for _, bad := range []string{"yor_Latn|Yoruba|yo|", "yo_Latn|Yoruba|yo||", "yor_Latn|Yoruba|yo||\nyor_Latn|Yoruba|yo||"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("parseTable(%q) did not panic", strings.ReplaceAll(bad, "\n", `\n`))
				}
			}()
			parseTable(bad)
		}()
	}
}
