// Package tokenizer counts and encodes text with the BPE tokenizers of the models people
// train on low-resource data, read from a Hugging Face tokenizer.json file, in pure Go.
//
// Two families are supported, which between them cover GPT-2, Llama 2 and 3, Mistral,
// Qwen 2 and 3 and Gemma:
//
//   - byte-level BPE (GPT-2, Llama 3, Qwen 2): the text is cut by the model's split regex
//     and every piece is merged from its UTF-8 bytes. The split regexes use a lookahead
//     that Go's regexp lacks, so the known ones (GPT-2's, Llama 3's, which is OpenAI's
//     cl100k, and Qwen 2's) are written out by hand; any other pattern is an error naming
//     the pattern.
//   - SentencePiece-style BPE (Llama 2, Mistral, Gemma): spaces become "▁" (a Replace
//     normalizer, Prepend, or a Metaspace pre-tokenizer), pieces are merged from their
//     characters, and characters outside the vocabulary fall back to <0xNN> byte tokens.
//
// Encoding follows Hugging Face tokenizers' Tokenizer.encode(text, add_special_tokens=False):
//
//   - Added tokens (added_tokens in the file, special or not) are cut out of the text
//     first, leftmost-longest, wherever the text holds their content literally: a document
//     containing "<|begin_of_text|>" gets that special token's id, as in HF (tiktoken instead
//     refuses such text by default). Tokens marked "normalized" are matched in the normalized
//     text, the others in the raw text; single_word, lstrip and rstrip are honoured. Ordinary
//     text never produces an added token otherwise.
//   - The normalizer then runs on each piece between added tokens separately (so a Prepend
//     "▁" normalizer prefixes every such piece, as HF does), followed by the pre-tokenizer
//     and the BPE model.
//   - The post-processor is not applied: counts exclude the BOS/EOS tokens a model adds
//     around a sequence (Llama 3 adds one <|begin_of_text|> per sequence; add them yourself
//     when budgeting per example). Truncation and padding settings are ignored too.
//
// Supported pieces of tokenizer.json: model type BPE (vocab, merges as "a b" strings or
// [a, b] pairs, unk_token, fuse_unk, byte_fallback, ignore_merges, dropout null or 0);
// normalizers NFC, NFD, NFKC, NFKD, Replace with a string pattern, Prepend and Sequence;
// pre-tokenizers ByteLevel, Metaspace, Split (string patterns with any behaviour, and the
// known regexes with behaviour Isolated) and Sequence; decoders ByteLevel, Metaspace,
// Replace, ByteFallback, Fuse, Strip and Sequence. Anything else (WordPiece or Unigram
// models, BERT or precompiled normalizers, an unknown split regex, BPE dropout) is refused
// at load with an error naming the JSON path and the value: this package never returns a
// count it cannot stand behind.
//
// A Tokenizer is immutable and safe for concurrent use. Counting goes through a Counter,
// one per goroutine, which keeps a bounded cache from pieces to their token ids (pieces
// repeat: a word's tokens are computed once per worker) and reuses its buffers, so
// counting allocates nothing in steady state.
package tokenizer
