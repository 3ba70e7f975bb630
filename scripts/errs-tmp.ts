import { readFileSync } from 'node:fs';
import { CParser } from '../src/analyzer/frontend/parse.js';
const p = new CParser();
for (const f of process.argv.slice(2)) {
  const r = p.parse(f, readFileSync(f, 'utf8'));
  const errs: string[] = [];
  const visit = (n: any) => { if (n.type === 'ERROR' || n.isMissing) { errs.push(`${n.startPosition.row + 1}: ${n.isMissing ? 'MISSING ' + n.type : n.text.slice(0, 80).replace(/\n/g, ' ')}`); return; } if (n.hasError) for (const c of n.children) visit(c); };
  visit(r.tree.rootNode);
  console.log(f, errs.length); for (const e of errs.slice(0, 15)) console.log('   ', e);
}
