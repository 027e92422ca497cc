package lang

import (
	"sort"
	"strings"
	"sync"
)

// Language is one entry of sieve's language table. Labels follow the FLORES-200 / FineWeb-2
// convention: ISO 639-3 code, underscore, ISO 15924 script ("yor_Latn", "srp_Cyrl").
type Language struct {
	Label  string // "swh_Latn"
	Code   string // ISO 639-3 code of the (individual) language: "swh"
	Script string // ISO 15924 script: "Latn"
	Name   string // English name: "Swahili"
	ISO1   string // ISO 639-1 code when one exists, for dataset cards: "sw"; "" otherwise
	// Macro is the ISO 639-3 macrolanguage Code belongs to ("swa" for "swh", "ara" for
	// "arb", "zho" for "yue"), or "" when it belongs to none. Labels written with the
	// macrolanguage code of a table entry's default member ("swa_Latn", "ara_Arab",
	// "mon_Cyrl") are looked up as that member.
	Macro string
	// Default reports whether Script is the default script of Code: the one a label without
	// a script ("srp", "sr") resolves to.
	Default bool
}

// NoLanguage is the label of text without letters; Und gives the label of text in an
// unidentified language.
const NoLanguage = "zxx_Zyyy"

// Und returns the label for text of an unidentified language in script: "und_Ethi", or
// NoLanguage when script is NoScript or empty.
func Und(script string) string {
	if script == "" || script == NoScript {
		return NoLanguage
	}
	return "und_" + script
}

// IsUnd reports whether label says "language not identified": und_<Script> or zxx_Zyyy.
func IsUnd(label string) bool {
	return strings.HasPrefix(label, "und_") || label == NoLanguage
}

// LabelScript returns the script part of a label ("Latn" for "yor_Latn"), or "" when the
// label has none.
func LabelScript(label string) string {
	if i := strings.LastIndexByte(label, '_'); i >= 0 {
		return label[i+1:]
	}
	return ""
}

// Languages returns every entry of the table, sorted by label. The caller may modify the
// returned slice.
func Languages() []Language {
	t := table()
	out := make([]Language, len(t.langs))
	copy(out, t.langs)
	return out
}

// Lookup finds the table entry for a language given as a label ("yor_Latn"), an ISO 639-3
// code ("yor", its default script), an ISO 639-1 code ("yo"), a macrolanguage code whose
// default member is in the table ("swa" -> "swh_Latn", "mon" -> "khk_Cyrl"), any of those
// with a script ("zh_Hant", "uzb_Cyrl", BCP 47 style "sr-Latn" too), a fastText label
// ("__label__yor_Latn", "__label__yo") or an English name ("Yoruba", case-insensitive; the
// names lingua-go uses, such as "Bokmal" or "Slovene", are known too).
func Lookup(s string) (Language, bool) {
	t := table()
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "__label__"))
	if s == "" {
		return Language{}, false
	}
	if i, ok := t.byLabel[s]; ok {
		return t.langs[i], true
	}
	code, script, hasScript := strings.Cut(strings.ReplaceAll(s, "-", "_"), "_")
	if isCode(code) && (!hasScript || isScript(script)) {
		code = strings.ToLower(code)
		if hasScript {
			script = strings.ToUpper(script[:1]) + strings.ToLower(script[1:])
		}
		if i, ok := t.find(code, script); ok {
			return t.langs[i], true
		}
		if hasScript {
			return Language{}, false
		}
	}
	if i, ok := t.byName[strings.ToLower(s)]; ok {
		return t.langs[i], true
	}
	return Language{}, false
}

// Canonical returns the table label for s (see Lookup), or s unchanged when the table does
// not know it. Evaluation compares labels through Canonical, so "mon_Cyrl" and "khk_Cyrl",
// or "swa_Latn" and "swh_Latn", are the same language.
func Canonical(s string) string {
	if l, ok := Lookup(s); ok {
		return l.Label
	}
	return strings.TrimPrefix(s, "__label__")
}

func isCode(s string) bool {
	if len(s) != 2 && len(s) != 3 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

func isScript(s string) bool {
	if len(s) != 4 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

type langTable struct {
	langs   []Language
	byLabel map[string]int   // label and alias labels -> index
	byCode  map[string][]int // ISO 639-3 (also macro alias codes), ISO 639-1 -> indexes, default first
	byName  map[string]int   // lower-case names -> index
}

// find returns the entry of code in script, or its default entry when script is "".
func (t *langTable) find(code, script string) (int, bool) {
	idx := t.byCode[code]
	if len(idx) == 0 {
		return 0, false
	}
	if script == "" {
		return idx[0], true
	}
	for _, i := range idx {
		if t.langs[i].Script == script {
			return i, true
		}
	}
	return 0, false
}

var (
	tableOnce sync.Once
	theTable  *langTable
)

func table() *langTable {
	tableOnce.Do(func() { theTable = parseTable(languageData) })
	return theTable
}

// parseTable reads languageData: one entry per line, "label|name;other names|ISO 639-1|
// macrolanguage|alias labels". The first line of a code gives its default script. A malformed
// line is a programming error caught by the tests, so it panics.
func parseTable(data string) *langTable {
	type entry struct {
		lang    Language
		aliases []string
		names   []string
	}
	var entries []entry
	seenCode := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(data), "\n") {
		f := strings.Split(strings.TrimSpace(line), "|")
		if len(f) != 5 {
			panic("lang: bad table line " + line)
		}
		code, script, ok := strings.Cut(f[0], "_")
		if !ok || len(code) != 3 || len(script) != 4 {
			panic("lang: bad label " + f[0])
		}
		names := strings.Split(f[1], ";")
		e := entry{
			lang:  Language{Label: f[0], Code: code, Script: script, Name: names[0], ISO1: f[2], Macro: f[3], Default: !seenCode[code]},
			names: names,
		}
		seenCode[code] = true
		if f[4] != "" {
			e.aliases = strings.Split(f[4], " ")
		}
		entries = append(entries, e)
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].lang.Label < entries[j].lang.Label })

	t := &langTable{byLabel: map[string]int{}, byCode: map[string][]int{}, byName: map[string]int{}}
	addCode := func(code string, i int) {
		idx := t.byCode[code]
		for _, j := range idx {
			if j == i {
				return
			}
		}
		if t.langs[i].Default && t.langs[i].Code == code {
			idx = append([]int{i}, idx...) // the default entry of a code comes first
		} else {
			idx = append(idx, i)
		}
		t.byCode[code] = idx
	}
	for i, e := range entries {
		if _, dup := t.byLabel[e.lang.Label]; dup {
			panic("lang: duplicate label " + e.lang.Label)
		}
		t.langs = append(t.langs, e.lang)
		t.byLabel[e.lang.Label] = i
	}
	for i, e := range entries {
		addCode(e.lang.Code, i)
	}
	// ISO 639-1 codes and alias codes come after the entries' own codes, so "sr" finds
	// srp_Cyrl (the default) before srp_Latn.
	for _, pass := range []bool{true, false} {
		for i, e := range entries {
			if e.lang.Default != pass {
				continue
			}
			if e.lang.ISO1 != "" {
				t.byCode[e.lang.ISO1] = append(t.byCode[e.lang.ISO1], i)
			}
			for _, a := range e.aliases {
				if j, dup := t.byLabel[a]; dup && j != i {
					panic("lang: alias " + a + " used twice")
				}
				t.byLabel[a] = i
				code, _, _ := strings.Cut(a, "_")
				if _, own := seenCode[code]; !own {
					t.byCode[code] = append(t.byCode[code], i)
				}
			}
		}
	}
	for i, e := range entries {
		for _, n := range e.names {
			n = strings.ToLower(n)
			if _, dup := t.byName[n]; !dup {
				t.byName[n] = i
			}
		}
	}
	return t
}

// languageData is the language table: "label|English name;other names|ISO 639-1|
// macrolanguage|alias labels". It covers the FLORES-200 languages, every language of the
// lingua backend and more that sieve users asked for. The first line of a code is its
// default script. Users of a fastText model with labels outside the table still get those
// labels, unchanged.
const languageData = `
ace_Latn|Acehnese|||
ace_Arab|Acehnese (Arabic script)|||
acm_Arab|Mesopotamian Arabic||ara|
acq_Arab|Ta'izzi-Adeni Arabic||ara|
aeb_Arab|Tunisian Arabic||ara|
afr_Latn|Afrikaans|af||
ajp_Arab|South Levantine Arabic||ara|
aka_Latn|Akan|ak||
als_Latn|Albanian;Tosk Albanian|sq|sqi|sqi_Latn
amh_Ethi|Amharic|am||
apc_Arab|North Levantine Arabic||ara|
arb_Arab|Arabic;Modern Standard Arabic|ar|ara|ara_Arab
ars_Arab|Najdi Arabic||ara|
ary_Arab|Moroccan Arabic||ara|
arz_Arab|Egyptian Arabic||ara|
asm_Beng|Assamese|as||
ast_Latn|Asturian|||
awa_Deva|Awadhi|||
ayr_Latn|Aymara;Central Aymara|ay|aym|aym_Latn
azb_Arab|South Azerbaijani||aze|
azj_Latn|Azerbaijani;North Azerbaijani|az|aze|aze_Latn
bak_Cyrl|Bashkir|ba||
bam_Latn|Bambara|bm||
ban_Latn|Balinese|||
bbj_Latn|Ghomala'|||
bel_Cyrl|Belarusian|be||
bem_Latn|Bemba|||
ben_Beng|Bengali;Bangla|bn||
bho_Deva|Bhojpuri|||
bjn_Latn|Banjar|||
bjn_Arab|Banjar (Arabic script)|||
bod_Tibt|Tibetan;Standard Tibetan|bo||
bos_Latn|Bosnian|bs|hbs|
bre_Latn|Breton|br||
bug_Latn|Buginese|||
bul_Cyrl|Bulgarian|bg||
cat_Latn|Catalan;Valencian|ca||
ceb_Latn|Cebuano|||
ces_Latn|Czech|cs||
che_Cyrl|Chechen|ce||
chr_Cher|Cherokee|||
chv_Cyrl|Chuvash|cv||
cjk_Latn|Chokwe|||
ckb_Arab|Central Kurdish;Sorani||kur|
cor_Latn|Cornish|kw||
crh_Latn|Crimean Tatar|||
cym_Latn|Welsh|cy||
dan_Latn|Danish|da||
deu_Latn|German|de||
dik_Latn|Southwestern Dinka||din|
div_Thaa|Dhivehi;Maldivian|dv||
dyu_Latn|Dyula|||
dzo_Tibt|Dzongkha|dz||
ell_Grek|Greek;Modern Greek|el||
eng_Latn|English|en||
epo_Latn|Esperanto|eo||
est_Latn|Estonian|et||ekk_Latn
eus_Latn|Basque|eu||
ewe_Latn|Ewe|ee||
fao_Latn|Faroese|fo||
fij_Latn|Fijian|fj||
fin_Latn|Finnish|fi||
fon_Latn|Fon|||
fra_Latn|French|fr||
fry_Latn|Western Frisian;Frisian|fy||
fur_Latn|Friulian|||
fuv_Latn|Nigerian Fulfulde|ff|ful|ful_Latn
gaz_Latn|Oromo;West Central Oromo|om|orm|orm_Latn
gla_Latn|Scottish Gaelic;Gaelic|gd||
gle_Latn|Irish|ga||
glg_Latn|Galician|gl||
glv_Latn|Manx|gv||
grn_Latn|Guarani|gn||gug_Latn
guj_Gujr|Gujarati|gu||
hat_Latn|Haitian Creole;Haitian|ht||
hau_Latn|Hausa|ha||
haw_Latn|Hawaiian|||
heb_Hebr|Hebrew|he||
hin_Deva|Hindi|hi||
hne_Deva|Chhattisgarhi|||
hrv_Latn|Croatian|hr|hbs|
hun_Latn|Hungarian|hu||
hye_Armn|Armenian|hy||
ibo_Latn|Igbo|ig||
iku_Cans|Inuktitut|iu||
ilo_Latn|Ilocano;Iloko|||
ind_Latn|Indonesian|id|msa|
isl_Latn|Icelandic|is||
ita_Latn|Italian|it||
jav_Latn|Javanese|jv||
jpn_Jpan|Japanese|ja||
kab_Latn|Kabyle|||
kac_Latn|Jingpho;Kachin|||
kam_Latn|Kamba|||
kan_Knda|Kannada|kn||
kas_Arab|Kashmiri|ks||
kas_Deva|Kashmiri (Devanagari script)|ks||
kat_Geor|Georgian|ka||
kaz_Cyrl|Kazakh|kk||
kbp_Latn|Kabiye|||
kea_Latn|Kabuverdianu|||
khk_Cyrl|Mongolian;Halh Mongolian|mn|mon|mon_Cyrl
khm_Khmr|Khmer;Central Khmer|km||
kik_Latn|Kikuyu|ki||
kin_Latn|Kinyarwanda|rw||
kir_Cyrl|Kyrgyz;Kirghiz|ky||
kmb_Latn|Kimbundu|||
kmr_Latn|Northern Kurdish;Kurmanji|ku|kur|kur_Latn
knc_Latn|Central Kanuri|kr|kau|kau_Latn
knc_Arab|Central Kanuri (Arabic script)|kr|kau|kau_Arab
kon_Latn|Kongo;Kikongo|kg||
kor_Hang|Korean|ko||kor_Kore
lao_Laoo|Lao|lo||
lat_Latn|Latin|la||
lij_Latn|Ligurian|||
lim_Latn|Limburgish|li||
lin_Latn|Lingala|ln||
lit_Latn|Lithuanian|lt||
lmo_Latn|Lombard|||
ltg_Latn|Latgalian||lav|
ltz_Latn|Luxembourgish|lb||
lua_Latn|Luba-Kasai;Luba-Lulua|||
lug_Latn|Ganda;Luganda|lg||
luo_Latn|Luo;Dholuo|||
lus_Latn|Mizo|||
lvs_Latn|Latvian;Standard Latvian|lv|lav|lav_Latn
mag_Deva|Magahi|||
mai_Deva|Maithili|||
mal_Mlym|Malayalam|ml||
mar_Deva|Marathi|mr||
min_Latn|Minangkabau||msa|
mkd_Cyrl|Macedonian|mk||
mlt_Latn|Maltese|mt||
mni_Beng|Meitei;Manipuri|||
mni_Mtei|Meitei (Meitei Mayek script)|||
mos_Latn|Mossi;Moore|||
mri_Latn|Maori|mi||
mya_Mymr|Burmese;Myanmar|my||
nld_Latn|Dutch;Flemish|nl||
nno_Latn|Norwegian Nynorsk;Nynorsk|nn|nor|
nob_Latn|Norwegian Bokmal;Bokmal;Norwegian|nb|nor|nor_Latn
npi_Deva|Nepali|ne|nep|nep_Deva
nqo_Nkoo|N'Ko|||
nso_Latn|Northern Sotho;Sepedi|||
nus_Latn|Nuer|||
nya_Latn|Nyanja;Chichewa;Chewa|ny||
oci_Latn|Occitan|oc||
ory_Orya|Odia;Oriya|or|ori|ori_Orya
oss_Cyrl|Ossetian|os||
pag_Latn|Pangasinan|||
pan_Guru|Punjabi;Panjabi;Eastern Panjabi|pa||
pap_Latn|Papiamento|||
pbt_Arab|Pashto;Southern Pashto|ps|pus|pus_Arab
pcm_Latn|Nigerian Pidgin|||
pes_Arab|Persian;Western Persian;Farsi|fa|fas|fas_Arab
plt_Latn|Malagasy;Plateau Malagasy|mg|mlg|mlg_Latn
pol_Latn|Polish|pl||
por_Latn|Portuguese|pt||
prs_Arab|Dari||fas|
quy_Latn|Quechua;Ayacucho Quechua|qu|que|que_Latn
roh_Latn|Romansh|rm||
ron_Latn|Romanian;Moldavian|ro||
run_Latn|Rundi;Kirundi|rn||
rus_Cyrl|Russian|ru||
sag_Latn|Sango|sg||
sah_Cyrl|Yakut;Sakha|||
san_Deva|Sanskrit|sa||
sat_Olck|Santali|||
scn_Latn|Sicilian|||
shn_Mymr|Shan|||
sin_Sinh|Sinhala|si||
slk_Latn|Slovak|sk||
slv_Latn|Slovenian;Slovene|sl||
smo_Latn|Samoan|sm||
sna_Latn|Shona|sn||
snd_Arab|Sindhi|sd||
som_Latn|Somali|so||
sot_Latn|Southern Sotho;Sotho;Sesotho|st||
spa_Latn|Spanish;Castilian|es||
srd_Latn|Sardinian|sc||
srp_Cyrl|Serbian|sr|hbs|
srp_Latn|Serbian (Latin script)|sr|hbs|
ssw_Latn|Swati;Swazi|ss||
sun_Latn|Sundanese|su||
swe_Latn|Swedish|sv||
swh_Latn|Swahili;Kiswahili|sw|swa|swa_Latn
szl_Latn|Silesian|||
tam_Taml|Tamil|ta||
taq_Latn|Tamasheq||tmh|
taq_Tfng|Tamasheq (Tifinagh script)||tmh|
tat_Cyrl|Tatar|tt||
tel_Telu|Telugu|te||
tgk_Cyrl|Tajik|tg||
tgl_Latn|Tagalog;Filipino|tl||fil_Latn
tha_Thai|Thai|th||
tir_Ethi|Tigrinya|ti||
ton_Latn|Tongan|to||
tpi_Latn|Tok Pisin|||
tsn_Latn|Tswana;Setswana|tn||
tso_Latn|Tsonga;Xitsonga|ts||
tuk_Latn|Turkmen|tk||
tum_Latn|Tumbuka|||
tur_Latn|Turkish|tr||
twi_Latn|Twi|tw|aka|
tzm_Tfng|Central Atlas Tamazight|||
uig_Arab|Uyghur;Uighur|ug||
ukr_Cyrl|Ukrainian|uk||
umb_Latn|Umbundu|||
urd_Arab|Urdu|ur||
uzn_Latn|Uzbek;Northern Uzbek|uz|uzb|uzb_Latn
uzn_Cyrl|Uzbek (Cyrillic script)|uz|uzb|uzb_Cyrl
vec_Latn|Venetian|||
vie_Latn|Vietnamese|vi||
war_Latn|Waray|||
wol_Latn|Wolof|wo||
xho_Latn|Xhosa;isiXhosa|xh||
ydd_Hebr|Yiddish;Eastern Yiddish|yi|yid|yid_Hebr
yor_Latn|Yoruba|yo||
yue_Hant|Cantonese;Yue Chinese||zho|
zho_Hans|Chinese;Chinese (Simplified);Mandarin|zh||cmn_Hans
zho_Hant|Chinese (Traditional)|zh||cmn_Hant
zsm_Latn|Malay;Standard Malay|ms|msa|msa_Latn
zul_Latn|Zulu;isiZulu|zu||
`
