package minhash

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// setPair returns two sets of random 64-bit shingle hashes with |A∩B| = inter and
// |A∪B| = union, so their Jaccard similarity is inter/union exactly.
func setPair(rng *rand.Rand, inter, union int) (a, b []uint64) {
	onlyA := (union - inter) / 2
	onlyB := union - inter - onlyA
	for i := 0; i < inter; i++ {
		x := rng.Uint64()
		a = append(a, x)
		b = append(b, x)
	}
	for i := 0; i < onlyA; i++ {
		a = append(a, rng.Uint64())
	}
	for i := 0; i < onlyB; i++ {
		b = append(b, rng.Uint64())
	}
	return a, b
}

func signSet(h *Hasher, xs []uint64) []uint64 {
	sig := make([]uint64, h.Params().NumHashes())
	h.Reset(sig)
	h.AddBatch(sig, xs)
	return sig
}

// The estimate of each pair lies within 4.5 standard errors of the true similarity, and the
// mean over many pairs shows no bias beyond 4 standard errors of the mean.
func TestJaccardEstimate(t *testing.T) {
	h, err := NewHasher(DefaultParams)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	k := float64(DefaultParams.NumHashes())
	const trials = 200
	for _, j := range []float64{0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95} {
		union := 400
		inter := int(math.Round(j * float64(union)))
		truth := float64(inter) / float64(union)
		sd := math.Sqrt(truth * (1 - truth) / k)
		sum := 0.0
		for i := 0; i < trials; i++ {
			a, b := setPair(rng, inter, union)
			est := Similarity(signSet(h, a), signSet(h, b))
			if math.Abs(est-truth) > 4.5*sd {
				t.Errorf("J=%.3f: estimate %.3f off by more than 4.5 sd (%.3f)", truth, est, sd)
			}
			sum += est
		}
		mean := sum / trials
		if math.Abs(mean-truth) > 4*sd/math.Sqrt(trials) {
			t.Errorf("J=%.3f: mean estimate %.4f is biased (sd of mean %.4f)", truth, mean, sd/math.Sqrt(trials))
		}
	}
}

// The share of pairs at similarity J that share a band matches the S-curve
// 1-(1-J^r)^b within 4 binomial standard deviations, for several bandings.
func TestCandidateProbabilityMatchesSCurve(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, p := range []Params{DefaultParams, {Bands: 20, Rows: 5, Seed: 9}, {Bands: 9, Rows: 13, Seed: 2}} {
		h, err := NewHasher(p)
		if err != nil {
			t.Fatal(err)
		}
		ka := make([]uint64, p.Bands)
		kb := make([]uint64, p.Bands)
		for _, j := range []float64{0.4, 0.6, 0.7, 0.8, 0.9} {
			const pairs = 600
			hits := 0
			for i := 0; i < pairs; i++ {
				union := 200
				a, b := setPair(rng, int(j*float64(union)), union)
				h.BandKeys(signSet(h, a), 0, ka)
				h.BandKeys(signSet(h, b), 0, kb)
				for x := range ka {
					if ka[x] == kb[x] {
						hits++
						break
					}
				}
			}
			want := CandidateProbability(j, p.Bands, p.Rows)
			got := float64(hits) / pairs
			sd := math.Sqrt(want * (1 - want) / pairs)
			if math.Abs(got-want) > 4*sd+0.01 {
				t.Errorf("%dx%d J=%.1f: candidate rate %.3f, S-curve %.3f (sd %.3f)", p.Bands, p.Rows, j, got, want, sd)
			}
		}
	}
}

func TestCandidateProbabilityFormula(t *testing.T) {
	tests := []struct {
		j          float64
		bands, rws int
		want       float64
	}{
		{0, 14, 8, 0},
		{1, 14, 8, 1},
		{0.5, 1, 1, 0.5},
		{0.5, 2, 1, 0.75},          // 1-(1-0.5)^2
		{0.5, 1, 2, 0.25},          // 0.5^2
		{0.8, 14, 8, 0.9235475586}, // 1-(1-0.8^8)^14
	}
	for _, tt := range tests {
		if got := CandidateProbability(tt.j, tt.bands, tt.rws); math.Abs(got-tt.want) > 1e-6 {
			t.Errorf("CandidateProbability(%v, %d, %d) = %v, want %v", tt.j, tt.bands, tt.rws, got, tt.want)
		}
	}
}

func TestParamsForThreshold(t *testing.T) {
	for _, th := range []float64{0.5, 0.7, 0.8, 0.9} {
		p, err := ParamsForThreshold(th, 112, 1)
		if err != nil {
			t.Fatal(err)
		}
		if p.NumHashes() > 112 || p.Bands < 1 || p.Rows < 1 {
			t.Fatalf("threshold %v: bad params %+v", th, p)
		}
		below := CandidateProbability(th-0.2, p.Bands, p.Rows)
		above := CandidateProbability(math.Min(th+0.1, 1), p.Bands, p.Rows)
		if below > 0.2 || above < 0.8 {
			t.Errorf("threshold %v: %dx%d gives P(J=%.1f)=%.2f, P(J=%.1f)=%.2f", th, p.Bands, p.Rows, th-0.2, below, th+0.1, above)
		}
		// A higher threshold never picks a curve that is more eager at the lower one.
		if th > 0.5 {
			lo, _ := ParamsForThreshold(th-0.2, 112, 1)
			if CandidateProbability(th-0.2, p.Bands, p.Rows) > CandidateProbability(th-0.2, lo.Bands, lo.Rows) {
				t.Errorf("threshold %v curve is above threshold %v curve at %v", th, th-0.2, th-0.2)
			}
		}
	}
	if _, err := ParamsForThreshold(1.5, 112, 1); err == nil {
		t.Error("threshold 1.5 accepted")
	}
}

func TestSignatureDeterministic(t *testing.T) {
	doc := benchDoc(5, 2000)
	s1, _ := NewSigner(DefaultParams, ShingleOptions{})
	s2, _ := NewSigner(DefaultParams, ShingleOptions{})
	a := make([]uint64, 112)
	b := make([]uint64, 112)
	s1.Sign(doc, "", a)
	s2.Sign(doc, "Latn", b)
	if Similarity(a, b) != 1 {
		t.Fatal("same text, same params: different signatures")
	}
	s3, _ := NewSigner(Params{Bands: 14, Rows: 8, Seed: 2}, ShingleOptions{})
	s3.Sign(doc, "", b)
	if Similarity(a, b) == 1 {
		t.Fatal("different seeds gave the same signature")
	}
}

func TestNormalization(t *testing.T) {
	sh := NewShingler(ShingleOptions{Mode: WordShingles, WordN: 1})
	set := func(text string) map[uint64]bool {
		m := map[uint64]bool{}
		for _, x := range sh.Shingles(text, "") {
			m[x] = true
		}
		return m
	}
	same := func(a, b string) bool {
		x, y := set(a), set(b)
		if len(x) != len(y) {
			return false
		}
		for k := range x {
			if !y[k] {
				return false
			}
		}
		return true
	}
	tests := []struct {
		a, b string
		want bool
	}{
		{"Hello, World!", "hello world", true},                              // case and punctuation
		{"in 2024 there were 31 cases", "in 1999 there were 7 cases", true}, // digits
		{"ﬁne ｆｕｌｌ", "fine full", true},                                     // NFKC
		{"o\u0323mo\u0323", "ọmọ", true},                                    // NFC/NFD
		{"i'r   dref\n\tyma", "ir dref yma", true},                          // apostrophes, whitespace
		{"e-mail", "email", true},                                           // hyphen inside word
		{"cat", "dog", false},
		{"ọmọ", "omo", false}, // diacritics are kept
	}
	for _, tt := range tests {
		if got := same(tt.a, tt.b); got != tt.want {
			t.Errorf("same(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
	if n := len(sh.Shingles("  ... !!! ", "")); n != 0 {
		t.Errorf("text without words gave %d shingles", n)
	}
	sh5 := NewShingler(ShingleOptions{Mode: WordShingles})
	if n := len(sh5.Shingles("one two three", "")); n != 1 {
		t.Errorf("3 words with 5-word shingles gave %d shingles, want 1", n)
	}
	if n := len(sh5.Shingles("a b c d e f g", "")); n != 3 {
		t.Errorf("7 words with 5-word shingles gave %d shingles, want 3", n)
	}
}

// Near-duplicate texts in scripts written without spaces: character shingles (the Auto
// mode picks them from the script) see them as near-duplicates; word shingles, which see
// each space-free run as one "word", do not.
func TestCharShinglesCatchSpacelessNearDuplicates(t *testing.T) {
	thaiA := "ภาษาไทยเป็นภาษาราชการของประเทศไทย มีผู้พูดประมาณหกสิบล้านคน " +
		"อักษรไทยมีพยัญชนะสี่สิบสี่ตัวและสระหลายรูป การเขียนภาษาไทยไม่เว้นวรรคระหว่างคำ " +
		"แต่เว้นวรรคเมื่อจบประโยคหรือวลี นักเรียนทุกคนต้องเรียนภาษาไทยตั้งแต่ชั้นประถม " +
		"วรรณคดีไทยมีประวัติยาวนานหลายร้อยปีและมีกวีที่มีชื่อเสียงมากมาย"
	thaiB := "ภาษาไทยเป็นภาษาราชการของประเทศไทย มีผู้พูดประมาณหกสิบห้าล้านคน " +
		"อักษรไทยมีพยัญชนะสี่สิบสี่ตัวและสระหลายแบบ การเขียนภาษาไทยไม่เว้นวรรคระหว่างคำ " +
		"แต่เว้นวรรคเมื่อจบประโยคหรือวลี นักเรียนทุกคนต้องเรียนภาษาไทยตั้งแต่ชั้นอนุบาล " +
		"วรรณคดีไทยมีประวัติยาวนานหลายร้อยปีและมีกวีที่มีชื่อเสียงมาก"
	zhA := "北京是中华人民共和国的首都，也是全国的政治中心和文化中心。这座城市有三千多年的建城史，" +
		"拥有众多名胜古迹，例如故宫、天坛和长城。每年都有大量游客来到北京参观旅游。" +
		"北京的交通十分发达，地铁线路覆盖了城市的大部分地区。"
	zhB := "北京是中华人民共和国的首都，也是全国的政治中心与文化中心。这座城市有三千多年的建城史，" +
		"拥有众多名胜古迹，例如故宫、天坛和长城。每年都有大量游客来到北京参观旅游。" +
		"北京的交通非常发达，地铁线路覆盖了城市的大部分地区。"
	for _, tc := range []struct{ name, a, b, script string }{{"thai", thaiA, thaiB, "Thai"}, {"chinese", zhA, zhB, "Hans"}} {
		t.Run(tc.name, func(t *testing.T) {
			sim := func(mode ShingleMode) (est, exact float64) {
				s, _ := NewSigner(DefaultParams, ShingleOptions{Mode: mode})
				a := make([]uint64, 112)
				b := make([]uint64, 112)
				s.Sign(tc.a, tc.script, a)
				s.Sign(tc.b, tc.script, b)
				return Similarity(a, b), ExactJaccard(s.Sh, tc.a, tc.b, tc.script)
			}
			charEst, charExact := sim(Auto)
			wordEst, wordExact := sim(WordShingles)
			t.Logf("char shingles: estimated %.2f exact %.2f; word shingles: estimated %.2f exact %.2f", charEst, charExact, wordEst, wordExact)
			d := func(mode ShingleMode) bool {
				s, _ := NewSigner(DefaultParams, ShingleOptions{Mode: mode})
				dd, err := NewDeduper(DedupOptions{Params: DefaultParams})
				if err != nil {
					t.Fatal(err)
				}
				defer dd.Close()
				var m Match
				for i, text := range []string{tc.a, tc.b} {
					sig := make([]uint64, 112)
					keys := make([]uint64, 14)
					s.Sign(text, tc.script, sig)
					s.H.BandKeys(sig, 0, keys)
					if m, err = dd.Add(fmt.Sprint(i), sig, keys); err != nil {
						t.Fatal(err)
					}
				}
				return m.Duplicate
			}
			if !d(Auto) {
				t.Error("char shingles (auto) missed the near-duplicate")
			}
			if d(WordShingles) {
				t.Error("word shingles flagged it: the test text does not show the difference")
			}
			if charExact < 0.6 || wordExact > 0.3 {
				t.Errorf("exact Jaccard char %.2f word %.2f: test texts not as intended", charExact, wordExact)
			}
		})
	}
}

func TestParseShingleMode(t *testing.T) {
	for give, want := range map[string]ShingleMode{"auto": Auto, "word": WordShingles, "char": CharShingles} {
		if got, err := ParseShingleMode(give); err != nil || got != want || got.String() != give {
			t.Errorf("ParseShingleMode(%q) = %v, %v", give, got, err)
		}
	}
	if _, err := ParseShingleMode("bytes"); err == nil {
		t.Error("bad mode accepted")
	}
}
