package lang

import (
	"sort"
	"sync"
	"unicode"
	"unicode/utf8"
)

// NoScript is the ISO 15924 code DetectScript returns for text without letters (only digits,
// punctuation, symbols, emoji or nothing at all). Its language label is "zxx_Zyyy".
const NoScript = "Zyyy"

// Script codes DetectScript returns for the CJK scripts, which it groups: Chinese text is
// "Hans" or "Hant" when its characters say which (and "Hani" when they do not); Japanese text
// (Han with kana) is "Jpan"; Korean text (Hangul, possibly with Han) is "Hang".
const (
	scriptHani = "Hani"
	scriptHans = "Hans"
	scriptHant = "Hant"
	scriptJpan = "Jpan"
	scriptHang = "Hang"
	scriptHira = "Hira"
	scriptKana = "Kana"
)

// DetectScript returns the dominant writing system of text as an ISO 15924 code ("Latn",
// "Cyrl", "Ethi", "Deva", "Hans", "Jpan", ...) and the share of the text's letters written
// in it, in (0, 1]. Only letters and combining marks of a specific script count: digits,
// punctuation, symbols, emoji and script-neutral marks are ignored. Text without letters
// gives (NoScript, 0). Ties go to the script that comes first in Unicode order.
//
// It does not allocate and is safe for concurrent use.
func DetectScript(text string) (script string, share float64) {
	var c scriptCounter
	c.addString(text)
	return c.result()
}

// DetectScriptBytes is DetectScript for a byte slice.
func DetectScriptBytes(text []byte) (script string, share float64) {
	var c scriptCounter
	c.addBytes(text)
	return c.result()
}

// ScriptOf returns the ISO 15924 code of the script a letter or combining mark belongs to,
// and "" for runes that DetectScript ignores (digits, punctuation, symbols, spaces, marks
// shared by all scripts). Han characters give "Hani", kana "Hira" or "Kana".
func ScriptOf(r rune) string {
	if i := scriptIndex(r); i != 0 {
		return scriptTab.codes[i]
	}
	return ""
}

// scriptCounter counts letters per script index.
type scriptCounter struct {
	counts  [maxScripts]int32
	letters int32
	simp    int32 // Han characters only used in simplified Chinese
	trad    int32 // Han characters only used in traditional Chinese
}

const maxScripts = 192

func (c *scriptCounter) addString(s string) {
	tab := scripts()
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			i++
			if idx := tab.ascii[b]; idx != 0 {
				c.counts[idx]++
				c.letters++
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		c.addRune(tab, r)
	}
}

func (c *scriptCounter) addBytes(s []byte) {
	tab := scripts()
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			i++
			if idx := tab.ascii[b]; idx != 0 {
				c.counts[idx]++
				c.letters++
			}
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		i += size
		c.addRune(tab, r)
	}
}

func (c *scriptCounter) addRune(tab *scriptTable, r rune) {
	idx := tab.lookup(r)
	if idx == 0 {
		return
	}
	c.counts[idx]++
	c.letters++
	if idx == tab.han {
		switch hanVariant(r) {
		case 's':
			c.simp++
		case 't':
			c.trad++
		}
	}
}

// result picks the dominant script, grouping Han with kana (Japanese) or Hangul (Korean).
func (c *scriptCounter) result() (string, float64) {
	if c.letters == 0 {
		return NoScript, 0
	}
	tab := scripts()
	han := c.counts[tab.han]
	kana := c.counts[tab.hira] + c.counts[tab.kana]
	hangul := c.counts[tab.hangul]

	best, bestN := uint8(0), int32(0)
	for i, n := range c.counts {
		if n > bestN && uint8(i) != tab.han && uint8(i) != tab.hira && uint8(i) != tab.kana && uint8(i) != tab.hangul {
			best, bestN = uint8(i), n
		}
	}
	code := ""
	if best != 0 {
		code = tab.codes[best]
	}
	// Group the CJK scripts: Korean (Hangul, with any Han), Japanese (Han with kana), when
	// Hangul or kana make at least 5% of the group (Chinese text may quote a Japanese name);
	// otherwise each counts alone and Han is told apart as simplified or traditional.
	cjkCode, cjkN := "", int32(0)
	switch {
	case hangul > 0 && hangul >= kana && hangul*20 >= hangul+han:
		cjkCode, cjkN = scriptHang, hangul+han
	case kana > 0 && kana*20 >= han+kana:
		cjkCode, cjkN = scriptJpan, han+kana
	default:
		if han > 0 {
			cjkN = han
			switch {
			case c.simp > c.trad:
				cjkCode = scriptHans
			case c.trad > c.simp:
				cjkCode = scriptHant
			default:
				cjkCode = scriptHani
			}
		}
		for _, i := range [...]uint8{tab.hangul, tab.hira, tab.kana} {
			if c.counts[i] > cjkN {
				cjkCode, cjkN = tab.codes[i], c.counts[i]
			}
		}
	}
	// Ties between CJK and another script go to the script first in Unicode order, which for
	// every script that could tie with CJK is the other one.
	if cjkN > bestN {
		code, bestN = cjkCode, cjkN
	}
	return code, float64(bestN) / float64(c.letters)
}

// IsScriptCode reports whether code is an ISO 15924 code of a Unicode script, or one of
// the codes DetectScript uses for groups (Hans, Hant, Jpan, Kore, Zyyy).
func IsScriptCode(code string) bool {
	switch code {
	case scriptHans, scriptHant, scriptJpan, "Kore", NoScript:
		return true
	}
	for _, c := range iso15924 {
		if c == code {
			return true
		}
	}
	return false
}

// scriptTable maps runes to script indexes (0 = ignored).
type scriptTable struct {
	codes  []string // index -> ISO 15924 code; codes[0] = ""
	ascii  [utf8.RuneSelf]uint8
	bmp    []uint8 // index for every rune below 0x10000
	ranges []scriptRange
	han    uint8
	hira   uint8
	kana   uint8
	hangul uint8
}

type scriptRange struct {
	lo, hi rune
	idx    uint8
}

func (t *scriptTable) lookup(r rune) uint8 {
	if r < 0x10000 {
		if r < 0 {
			return 0
		}
		return t.bmp[r]
	}
	i := sort.Search(len(t.ranges), func(i int) bool { return t.ranges[i].hi >= r })
	if i < len(t.ranges) && t.ranges[i].lo <= r {
		return t.ranges[i].idx
	}
	return 0
}

func scriptIndex(r rune) uint8 { return scripts().lookup(r) }

// scriptIndexOfCode returns the table index of an ISO 15924 code as DetectScript returns it,
// or 0 for codes that group several scripts (Jpan) or are unknown.
func scriptIndexOfCode(code string) uint8 {
	t := scripts()
	switch code {
	case scriptHans, scriptHant, scriptHani:
		return t.han
	case scriptHang, "Kore":
		return t.hangul
	case scriptJpan, "", NoScript:
		return 0
	}
	for i, c := range t.codes {
		if c == code && i > 0 {
			return uint8(i)
		}
	}
	return 0
}

var (
	scriptOnce sync.Once
	scriptTab  *scriptTable
)

// scripts builds the rune table once (about 70 KB), from the Unicode tables of the standard
// library.
func scripts() *scriptTable {
	scriptOnce.Do(func() { scriptTab = buildScriptTable() })
	return scriptTab
}

func buildScriptTable() *scriptTable {
	t := &scriptTable{codes: []string{""}, bmp: make([]uint8, 0x10000)}
	names := make([]string, 0, len(unicode.Scripts))
	for name := range unicode.Scripts {
		if name == "Common" || name == "Inherited" {
			continue
		}
		names = append(names, name)
	}
	// Order scripts by their first code point so ties resolve in Unicode order.
	first := func(rt *unicode.RangeTable) rune {
		if len(rt.R16) > 0 {
			return rune(rt.R16[0].Lo)
		}
		if len(rt.R32) > 0 {
			return rune(rt.R32[0].Lo)
		}
		return unicode.MaxRune
	}
	sort.Slice(names, func(i, j int) bool {
		fi, fj := first(unicode.Scripts[names[i]]), first(unicode.Scripts[names[j]])
		if fi != fj {
			return fi < fj
		}
		return names[i] < names[j]
	})
	for _, name := range names {
		if len(t.codes) >= maxScripts {
			break // cannot happen with Unicode 15/16 (about 165 scripts)
		}
		code := iso15924[name]
		if code == "" {
			code = "Zzzz" // a script newer than this table: counted, reported as unknown
		}
		idx := uint8(len(t.codes))
		t.codes = append(t.codes, code)
		switch name {
		case "Han":
			t.han = idx
		case "Hiragana":
			t.hira = idx
		case "Katakana":
			t.kana = idx
		case "Hangul":
			t.hangul = idx
		}
		rt := unicode.Scripts[name]
		add := func(lo, hi, stride rune) {
			for r := lo; r <= hi; r += stride {
				if !unicode.IsLetter(r) && !unicode.IsMark(r) {
					continue
				}
				if r < 0x10000 {
					t.bmp[r] = idx
					continue
				}
				if n := len(t.ranges); n > 0 && t.ranges[n-1].idx == idx && t.ranges[n-1].hi == r-1 {
					t.ranges[n-1].hi = r
				} else {
					t.ranges = append(t.ranges, scriptRange{r, r, idx})
				}
			}
		}
		for _, r := range rt.R16 {
			add(rune(r.Lo), rune(r.Hi), rune(r.Stride))
		}
		for _, r := range rt.R32 {
			add(rune(r.Lo), rune(r.Hi), rune(r.Stride))
		}
	}
	sort.Slice(t.ranges, func(i, j int) bool { return t.ranges[i].lo < t.ranges[j].lo })
	for b := 0; b < utf8.RuneSelf; b++ {
		t.ascii[b] = t.bmp[b]
	}
	return t
}

// hanVariant says whether a Han character is written only in simplified ('s') or only in
// traditional ('t') Chinese, for the most frequent characters that differ; 0 otherwise.
func hanVariant(r rune) byte {
	hanOnce.Do(buildHanVariants)
	return hanVariants[r]
}

var (
	hanOnce     sync.Once
	hanVariants map[rune]byte
)

// simplifiedTraditional pairs frequent characters whose simplified and traditional forms
// differ, simplified first.
const simplifiedTraditional = "们們这這说說国國会會时時来來为為个個对對发發经經门門" +
	"问問间間关關见見长長开開学學进進过過还還动動实實现現" +
	"从從种種样樣点點业業产產无無与與东東车車书書员員义義头頭" +
	"听聽体體电電话話让讓认認语語读讀写寫边邊远遠运運选選难難" +
	"师師们們钱錢银銀铁鐵飞飛马馬鸟鳥鱼魚龙龍风風气氣爱愛热熱" +
	"节節万萬岁歲历歷区區华華单單卖賣买買带帶帮幫应應广廣张張" +
	"当當总總战戰报報数數极極条條网網线線组組结結给給级級约約" +
	"织織红紅纪紀绿綠务務办辦变變号號叶葉园園图圖场場坏壞声聲" +
	"处處备備够夠头頭妈媽孙孫宁寧宝寶对對导導层層岛島币幣" +
	"庆慶库庫录錄态態怀懷恶惡愿願欢歡汉漢沟溝没沒济濟" +
	"测測满滿灯燈爷爺牺犧状狀独獨猪豬环環现現盖蓋礼禮离離" +
	"种種积積穷窮窝窩竞競笔筆简簡类類粮糧紧緊罗羅职職联聯肃肅" +
	"脑腦脸臉艺藝节節荣榮药藥营營虽雖补補观觀规規视視觉覺" +
	"计計订訂讨討让讓训訓记記讲講许許论論设設证證评評识識诉訴" +
	"该該详詳谁誰请請调調谈談谢謝贝貝负負贡貢财財责責败敗货貨" +
	"质質购購贵貴费費资資赛賽赶趕车車轮輪转轉轻輕较較辆輛边邊" +
	"达達迁遷过過还還这這进進远遠连連选選适適递遞遗遺邮郵乡鄉" +
	"钟鐘铁鐵银銀错錯长長门門闭閉问問闻聞阳陽阶階际際陆陸队隊" +
	"险險随隨难難页頁顶頂项項顺順须須预預领領题題颜顏风風饭飯" +
	"馆館马馬驾駕验驗鸡雞齐齊"

func buildHanVariants() {
	hanVariants = make(map[rune]byte, 512)
	rs := []rune(simplifiedTraditional)
	for i := 0; i+1 < len(rs); i += 2 {
		s, t := rs[i], rs[i+1]
		if s == t {
			continue
		}
		hanVariants[s] = 's'
		hanVariants[t] = 't'
	}
}

// iso15924 maps Unicode script names (as in unicode.Scripts) to ISO 15924 codes.
var iso15924 = map[string]string{
	"Adlam": "Adlm", "Ahom": "Ahom", "Anatolian_Hieroglyphs": "Hluw", "Arabic": "Arab",
	"Armenian": "Armn", "Avestan": "Avst", "Balinese": "Bali", "Bamum": "Bamu",
	"Bassa_Vah": "Bass", "Batak": "Batk", "Bengali": "Beng", "Bhaiksuki": "Bhks",
	"Bopomofo": "Bopo", "Brahmi": "Brah", "Braille": "Brai", "Buginese": "Bugi",
	"Buhid": "Buhd", "Canadian_Aboriginal": "Cans", "Carian": "Cari",
	"Caucasian_Albanian": "Aghb", "Chakma": "Cakm", "Cham": "Cham", "Cherokee": "Cher",
	"Chorasmian": "Chrs", "Common": "Zyyy", "Coptic": "Copt", "Cuneiform": "Xsux",
	"Cypriot": "Cprt", "Cypro_Minoan": "Cpmn", "Cyrillic": "Cyrl", "Deseret": "Dsrt",
	"Devanagari": "Deva", "Dives_Akuru": "Diak", "Dogra": "Dogr", "Duployan": "Dupl",
	"Egyptian_Hieroglyphs": "Egyp", "Elbasan": "Elba", "Elymaic": "Elym", "Ethiopic": "Ethi",
	"Garay": "Gara", "Georgian": "Geor", "Glagolitic": "Glag", "Gothic": "Goth",
	"Grantha": "Gran", "Greek": "Grek", "Gujarati": "Gujr", "Gunjala_Gondi": "Gong",
	"Gurmukhi": "Guru", "Gurung_Khema": "Gukh", "Han": "Hani", "Hangul": "Hang",
	"Hanifi_Rohingya": "Rohg", "Hanunoo": "Hano", "Hatran": "Hatr", "Hebrew": "Hebr",
	"Hiragana": "Hira", "Imperial_Aramaic": "Armi", "Inherited": "Zinh",
	"Inscriptional_Pahlavi": "Phli", "Inscriptional_Parthian": "Prti", "Javanese": "Java",
	"Kaithi": "Kthi", "Kannada": "Knda", "Katakana": "Kana", "Kawi": "Kawi",
	"Kayah_Li": "Kali", "Kharoshthi": "Khar", "Khitan_Small_Script": "Kits", "Khmer": "Khmr",
	"Khojki": "Khoj", "Khudawadi": "Sind", "Kirat_Rai": "Krai", "Lao": "Laoo", "Latin": "Latn",
	"Lepcha": "Lepc", "Limbu": "Limb", "Linear_A": "Lina", "Linear_B": "Linb", "Lisu": "Lisu",
	"Lycian": "Lyci", "Lydian": "Lydi", "Mahajani": "Mahj", "Makasar": "Maka",
	"Malayalam": "Mlym", "Mandaic": "Mand", "Manichaean": "Mani", "Marchen": "Marc",
	"Masaram_Gondi": "Gonm", "Medefaidrin": "Medf", "Meetei_Mayek": "Mtei",
	"Mende_Kikakui": "Mend", "Meroitic_Cursive": "Merc", "Meroitic_Hieroglyphs": "Mero",
	"Miao": "Plrd", "Modi": "Modi", "Mongolian": "Mong", "Mro": "Mroo", "Multani": "Mult",
	"Myanmar": "Mymr", "Nabataean": "Nbat", "Nag_Mundari": "Nagm", "Nandinagari": "Nand",
	"New_Tai_Lue": "Talu", "Newa": "Newa", "Nko": "Nkoo", "Nushu": "Nshu",
	"Nyiakeng_Puachue_Hmong": "Hmnp", "Ogham": "Ogam", "Ol_Chiki": "Olck", "Ol_Onal": "Onao",
	"Old_Hungarian": "Hung", "Old_Italic": "Ital", "Old_North_Arabian": "Narb",
	"Old_Permic": "Perm", "Old_Persian": "Xpeo", "Old_Sogdian": "Sogo",
	"Old_South_Arabian": "Sarb", "Old_Turkic": "Orkh", "Old_Uyghur": "Ougr", "Oriya": "Orya",
	"Osage": "Osge", "Osmanya": "Osma", "Pahawh_Hmong": "Hmng", "Palmyrene": "Palm",
	"Pau_Cin_Hau": "Pauc", "Phags_Pa": "Phag", "Phoenician": "Phnx", "Psalter_Pahlavi": "Phlp",
	"Rejang": "Rjng", "Runic": "Runr", "Samaritan": "Samr", "Saurashtra": "Saur",
	"Sharada": "Shrd", "Shavian": "Shaw", "Siddham": "Sidd", "SignWriting": "Sgnw",
	"Sinhala": "Sinh", "Sogdian": "Sogd", "Sora_Sompeng": "Sora", "Soyombo": "Soyo",
	"Sundanese": "Sund", "Sunuwar": "Sunu", "Syloti_Nagri": "Sylo", "Syriac": "Syrc",
	"Tagalog": "Tglg", "Tagbanwa": "Tagb", "Tai_Le": "Tale", "Tai_Tham": "Lana",
	"Tai_Viet": "Tavt", "Takri": "Takr", "Tamil": "Taml", "Tangsa": "Tnsa", "Tangut": "Tang",
	"Telugu": "Telu", "Thaana": "Thaa", "Thai": "Thai", "Tibetan": "Tibt", "Tifinagh": "Tfng",
	"Tirhuta": "Tirh", "Todhri": "Todr", "Toto": "Toto", "Tulu_Tigalari": "Tutg",
	"Ugaritic": "Ugar", "Vai": "Vaii", "Vithkuqi": "Vith", "Wancho": "Wcho",
	"Warang_Citi": "Wara", "Yezidi": "Yezi", "Yi": "Yiii", "Zanabazar_Square": "Zanb",
}
