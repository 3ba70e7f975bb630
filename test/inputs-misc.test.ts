import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BlobCache } from '../src/inputs/cache.js';
import { GitRepo } from '../src/inputs/git.js';
import { MARKER, RecordSplitter, parseRecord } from '../src/inputs/logstream.js';

describe('RecordSplitter', () => {
  it('finds the same records whatever the chunk boundaries', () => {
    const rec = (s: string) => Buffer.concat([MARKER, Buffer.from(s)]);
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 30 }), { minLength: 1, maxLength: 6 }), fc.array(fc.integer({ min: 1, max: 25 }), { minLength: 1, maxLength: 40 }), (bodies, cuts) => {
        const records = bodies.map(rec);
        const stream = Buffer.concat(records);
        const s = new RecordSplitter();
        const got: Buffer[] = [];
        let pos = 0;
        let k = 0;
        while (pos < stream.length) {
          const n = cuts[k++ % cuts.length]!;
          got.push(...s.push(stream.subarray(pos, pos + n)));
          pos += n;
        }
        const last = s.end();
        if (last) got.push(last);
        expect(got.map((b) => b.toString('latin1'))).toEqual(records.map((b) => b.toString('latin1')));
      }),
      { numRuns: 300 },
    );
  });

  it('parses a record', () => {
    const r = Buffer.concat([MARKER, Buffer.from(`${'a'.repeat(40)}\0${'b'.repeat(40)}\0Jo <j@x>\0KVM: subj\n\ndiff --git a/x.c b/x.c\n--- a/x.c\n+++ b/x.c\n@@ -1 +1 @@\n-a\n+b\n`)]);
    const cs = parseRecord(r)!;
    expect(cs).toMatchObject({ id: 'a'.repeat(40), parent: 'b'.repeat(40), author: 'Jo <j@x>', subject: 'KVM: subj' });
    expect(cs.files[0]!.newPath).toBe('x.c');
  });
});

describe('BlobCache', () => {
  it('evicts least recently used entries by bytes', () => {
    const c = new BlobCache<string>({ maxBytes: 10, sizeOf: (v) => v.length });
    c.set('a', 'aaaa').set('b', 'bbbb');
    expect(c.get('a')).toBe('aaaa'); // a is now most recent
    c.set('c', 'cccc'); // 12 > 10: evicts b
    expect(c.has('b')).toBe(false);
    expect([...c.keys()]).toEqual(['a', 'c']);
    expect(c.bytes).toBe(8);
    c.set('huge', 'x'.repeat(11)); // larger than the bound: not stored
    expect(c.has('huge')).toBe(false);
    c.set('a', 'a'); // replacing updates the size
    expect(c.bytes).toBe(5);
    expect(c.delete('c')).toBe(true);
    expect(c.size).toBe(1);
    c.clear();
    expect(c.bytes).toBe(0);
  });

  it('is generic and computes on a miss', async () => {
    const c = new BlobCache<{ n: number }>({ maxBytes: 100, sizeOf: () => 10 });
    let calls = 0;
    const v1 = await c.getOrCompute('k', () => ({ n: ++calls }));
    const v2 = await c.getOrCompute('k', () => ({ n: ++calls }));
    expect(v1).toBe(v2);
    expect(calls).toBe(1);
    expect(c.stats).toMatchObject({ hits: 1, misses: 1, entries: 1, bytes: 10 });
  });
});

describe('cat-file batch', () => {
  it('reads large and binary-ish blobs split over many chunks', async () => {
    const d = mkdtempSync(path.join(tmpdir(), 'kvmlint-big-'));
    try {
      const env = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };
      execFileSync('git', ['init', '-q'], { cwd: d, env });
      const big = Array.from({ length: 60000 }, (_, i) => `\tkvm_line(${i}); /* ü */`).join('\n') + '\n';
      writeFileSync(path.join(d, 'big.c'), big);
      writeFileSync(path.join(d, 'small.c'), 'x\n');
      writeFileSync(path.join(d, 'empty.c'), '');
      const ids = execFileSync('git', ['hash-object', '-w', 'big.c', 'small.c', 'empty.c'], { cwd: d, env, encoding: 'utf8' }).trim().split('\n');
      const repo = await GitRepo.open(d);
      const m = await repo.readBlobs([ids[1]!, ids[0]!, 'f'.repeat(40), ids[2]!, ids[1]!]);
      expect(m.get(ids[0]!)).toBe(big);
      expect(m.get(ids[1]!)).toBe('x\n');
      expect(m.get(ids[2]!)).toBe('');
      expect(m.size).toBe(3);
      await repo.close();
      await expect(repo.readBlobs([ids[0]!])).rejects.toThrow(/closed/);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
