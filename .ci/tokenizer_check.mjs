// Checks sieve's tokenizer against Hugging Face tokenizers (the Rust library, through its
// Node binding @anush008/tokenizers): every line of a JSONL file of strings is encoded by both,
// without special tokens, and the ids must be identical.
// Usage: node tokenizer_check.mjs SIEVE_BINARY TEXT.jsonl TOKENIZER.json...
import tk from '@anush008/tokenizers';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const [sieve, textFile, ...files] = process.argv.slice(2);
const texts = readFileSync(textFile, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
let failed = false;
for (const file of files) {
  const ref = tk.Tokenizer.fromFile(file);
  const out = execFileSync(sieve, ['tokens', '--ids', '--json', '--tokenizer', file, textFile], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const got = out.split('\n').slice(0, -1).map((l) => (l === '' ? [] : l.split(' ').map(Number)));
  if (got.length !== texts.length) {
    console.error(`${file}: sieve printed ${got.length} lines for ${texts.length} texts`);
    failed = true;
    continue;
  }
  let lines = 0, ids = 0, total = 0;
  const diffs = [];
  for (let i = 0; i < texts.length; i++) {
    const want = (await ref.encode(texts[i], null, { addSpecialTokens: false })).getIds();
    total += want.length;
    const same = want.length === got[i].length && want.every((id, k) => id === got[i][k]);
    if (same) {
      lines++;
      ids += want.length;
    } else if (diffs.length < 5) {
      diffs.push(`  line ${i + 1} ${JSON.stringify(texts[i]).slice(0, 80)}\n    hf:    ${want.join(' ')}\n    sieve: ${got[i].join(' ')}`);
    }
  }
  const name = file.split('/').slice(-3).join('/');
  console.log(`${name}: ${lines}/${texts.length} lines identical, ${ids}/${total} ids in them`);
  if (lines !== texts.length) {
    failed = true;
    console.error(diffs.join('\n'));
  }
}
if (failed) {
  console.error('tokenizer parity check FAILED');
  process.exit(1);
}
