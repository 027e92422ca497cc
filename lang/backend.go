// Package lang identifies the language and script of text: the language table (labels such
// as "yor_Latn"), script detection, classifier backends behind one small interface, the
// open-set check that turns confident guesses about unknown languages into "und_<Script>",
// and the evaluation of all of it on labelled data. It knows nothing of pipelines.
package lang

// Prediction is one candidate language for a text.
type Prediction struct {
	// Label is a language-table label ("yor_Latn") when the backend's label maps to one (see
	// Lookup), otherwise the backend's own label with any "__label__" prefix removed.
	Label string
	// Prob is the backend's probability for Label, in [0, 1]. Probabilities of one text sum
	// to at most 1 over all of a backend's labels.
	Prob float64
}

// Backend is a language classifier: lingua (embedded, the default) or a fastText model.
// Implementations are safe for concurrent use once built.
type Backend interface {
	// Predict appends to dst the k most probable labels for text, most probable first (ties
	// in label order), and returns the extended slice; k <= 0 means every label. It returns
	// dst unchanged when the backend cannot say anything about text (no letters it knows).
	// Predict must not retain text or dst.
	Predict(text string, k int, dst []Prediction) []Prediction
	// Labels lists every label Predict can return, in the form Predict returns them. Callers
	// use it to route by script: a text whose script no label uses is "und_<Script>".
	Labels() []string
}
