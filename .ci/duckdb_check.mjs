// Reads a sieve run directory with DuckDB and checks that the Parquet files hold exactly the
// kept documents that stats.json reports, per language. Usage: node duckdb_check.mjs RUN_DIR
import { DuckDBInstance } from '@duckdb/node-api';
import { readFileSync } from 'node:fs';

const dir = process.argv[2];
const stats = JSON.parse(readFileSync(`${dir}/stats.json`, 'utf8'));
const instance = await DuckDBInstance.create(':memory:');
const conn = await instance.connect();
const q = `SELECT lang, count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS ids
           FROM read_parquet('${dir}/data/*/*.parquet') GROUP BY lang ORDER BY lang`;
const rows = (await conn.runAndReadAll(q)).getRowObjects();
let total = 0;
const problems = [];
for (const r of rows) {
  total += Number(r.n);
  const want = stats.languages[r.lang]?.docs ?? 0;
  if (Number(r.n) !== want) problems.push(`${r.lang}: parquet has ${r.n} rows, stats.json says ${want}`);
  if (Number(r.ids) !== Number(r.n)) problems.push(`${r.lang}: ${r.n} rows but ${r.ids} distinct ids`);
}
if (total !== stats.kept) problems.push(`parquet has ${total} rows, stats.json kept = ${stats.kept}`);
if (problems.length) {
  console.error('DuckDB interop check FAILED:\n  ' + problems.join('\n  '));
  process.exit(1);
}
console.log(`DuckDB read ${total} rows in ${rows.length} languages; matches stats.json`);
