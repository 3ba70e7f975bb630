/** Unit tests of the front end: preprocess() and function discovery. */
import { describe, expect, it } from 'vitest';
import { preprocess } from '../src/analyzer/frontend/preprocess.js';
import { CParser } from '../src/analyzer/frontend/parse.js';

const lines = (s: string): string[] => s.split('\n');

/** 0-based column of `needle` on 0-based row `row` of `text`. */
function colOf(text: string, row: number, needle: string): number {
  const c = lines(text)[row].indexOf(needle);
  if (c < 0) throw new Error(`${needle} not on row ${row}: ${lines(text)[row]}`);
  return c;
}

const KERNELISH = `#include <linux/kvm_host.h>
#define FOO(a) \\
	do { (a)++; } while (0)
/* a comment with #if 0 inside
 * over lines */
static __always_inline int __must_check walk(struct kvm *kvm, int __user *p)
	__must_hold(&kvm->slots_lock)
{
	struct item *it;
#ifdef CONFIG_A
	int a = 1;
#elif defined(CONFIG_B)
	int a = 2;
#else
	int a = 3;
#endif
	list_for_each_entry(it, &kvm->items, link) it->n += a;
	kvm_for_each_vcpu(i, vcpu, kvm)
		kick(vcpu);
	scoped_guard(mutex, &kvm->lock) { a++; }
	return container_of(p, struct kvm, arch) != NULL;
}
`;

describe('preprocess()', () => {
  it('preserves the number of lines and every line of code without macros', () => {
    const out = preprocess(KERNELISH).text;
    expect(lines(out).length).toBe(lines(KERNELISH).length);
    // Lines without rewrites keep their length (blanking is length-preserving).
    const src = lines(KERNELISH);
    lines(out).forEach((l, i) => {
      if (!/for_each|scoped_guard/.test(src[i])) expect(l.length, `line ${i + 1}`).toBe(src[i].length);
    });
  });

  it('preserves lines for directives with continuations and comments spanning lines', () => {
    const src = '#define A(x) \\\n\tfoo(x); \\\n\tbar(x)\n#if 1 /* a\n b */\nint x;\n#endif\n';
    const out = preprocess(src).text;
    expect(lines(out).length).toBe(lines(src).length);
    expect(out).toContain('int x;');
    expect(out).not.toContain('define');
    expect(out).not.toContain('foo');
  });

  it('keeps the first branch of #ifdef/#elif/#else and the #else branch of #if 0', () => {
    const out = preprocess(KERNELISH).text;
    expect(out).toContain('int a = 1;');
    expect(out).not.toContain('int a = 2;');
    expect(out).not.toContain('int a = 3;');
    const z = preprocess('void f(void)\n{\n#if 0\n\tdead();\n#else\n\talive();\n#endif\n}\n').text;
    expect(z).not.toContain('dead');
    expect(z).toContain('alive();');
    const nested = preprocess('#if 0\n#ifdef X\na();\n#else\nb();\n#endif\n#else\nc();\n#endif\n').text;
    expect(nested).not.toMatch(/a\(\)|b\(\)/);
    expect(nested).toContain('c();');
  });

  it('blanks annotations with and without arguments', () => {
    const out = preprocess(KERNELISH).text;
    const row = lines(out)[5];
    expect(row).not.toMatch(/__always_inline|__must_check|__user/);
    expect(row).toMatch(/^static\s+int\s+walk\(struct kvm \*kvm, int\s+\*p\)$/);
    expect(lines(out)[6].trim()).toBe('');
    const acq = preprocess('void lock_it(struct kvm *kvm) __acquires(&kvm->mmu_lock) __releases(x)\n{\n}\n').text;
    expect(lines(acq)[0].trimEnd()).toBe('void lock_it(struct kvm *kvm)');
  });

  it('rewrites iterator heads and scoped_guard into for loops and maps columns back', () => {
    const pre = preprocess(KERNELISH);
    const out = pre.text;
    const row = 16; // list_for_each_entry(...) it->n += a;
    expect(lines(out)[row]).toBe('\tfor (list_for_each_entry(it, &kvm->items, link);;) it->n += a;');
    // The macro name maps to its original column, the body statement too.
    const src = lines(KERNELISH)[row];
    expect(pre.columns.original(row, colOf(out, row, 'list_for_each_entry'))).toBe(src.indexOf('list_for_each_entry'));
    expect(pre.columns.original(row, colOf(out, row, 'it->n'))).toBe(src.indexOf('it->n'));
    expect(pre.columns.original(row, colOf(out, row, '+= a'))).toBe(src.indexOf('+= a'));
    // Inserted text maps to the position it was inserted at.
    expect(pre.columns.original(row, colOf(out, row, 'for ('))).toBe(src.indexOf('list_for_each_entry'));
    expect(pre.columns.original(row, colOf(out, row, ';;)'))).toBe(src.indexOf(' it->n'));
    // Columns before the insertion are unchanged.
    expect(pre.columns.original(row, 0)).toBe(0);
    // The head on its own line, the body on the next.
    expect(lines(out)[17]).toBe('\tfor (kvm_for_each_vcpu(i, vcpu, kvm);;)');
    expect(lines(out)[18]).toBe('\t\tkick(vcpu);');
    expect(pre.columns.original(18, 2)).toBe(2);
    expect(lines(out)[19]).toBe('\tfor (scoped_guard(mutex, &kvm->lock);;) { a++; }');
    expect(pre.columns.original(19, colOf(out, 19, 'a++'))).toBe(lines(KERNELISH)[19].indexOf('a++'));
    expect(pre.columns.stripInsertions(19, 1, lines(out)[19].slice(1))).toBe(lines(KERNELISH)[19].slice(1));
  });

  it('maps columns of two nested heads on one line', () => {
    const src = 'void f(void)\n{\n\tlist_for_each_entry(a, h, l) list_for_each_entry(b, &a->s, l) touch(b);\n}\n';
    const pre = preprocess(src);
    const out = lines(pre.text)[2];
    expect(out).toBe('\tfor (list_for_each_entry(a, h, l);;) for (list_for_each_entry(b, &a->s, l);;) touch(b);');
    const orig = lines(src)[2];
    for (const needle of ['list_for_each_entry(b', 'touch', '&a->s']) {
      expect(pre.columns.original(2, out.indexOf(needle)), needle).toBe(orig.indexOf(needle));
    }
  });

  it('does not rewrite iterator names used as expressions or declarations', () => {
    const src = 'void f(void)\n{\n\tn = kvm_for_each_thing(x);\n\tfoo(list_for_each_entry(a, b, c));\n\tfor_each_x(y);\n}\n#define for_each_y(a) for (;;)\n';
    const out = preprocess(src).text;
    expect(out).not.toContain('for (');
    expect(lines(out).length).toBe(lines(src).length);
  });

  it('replaces FNAME(x) with a same-length identifier', () => {
    const src = 'static int FNAME(walk)(struct kvm_vcpu *vcpu)\n{\n\treturn FNAME(fetch)(vcpu);\n}\n';
    const out = preprocess(src).text;
    expect(out).toContain('FNAME_walk_(struct');
    expect(out).toContain('FNAME_fetch_(vcpu)');
    lines(out).forEach((l, i) => expect(l.length).toBe(lines(src)[i].length));
  });

  it('blanks type-only macro arguments and GNU case ranges, keeping (void) and declarations', () => {
    const src = [
      'void f(void)',
      '{',
      '\tstruct kvm *kvm = container_of(p, struct kvm, arch);',
      '\tx = max_t(unsigned long, a, b);',
      '\tswitch (x) { case 1 ... 3: break; }',
      '\t(void)g(x);',
      '}',
    ].join('\n');
    const out = lines(preprocess(src).text);
    expect(out[0]).toBe('void f(void)');
    expect(out[2]).toMatch(/container_of\(p,\s+kvm, arch\)/);
    expect(out[2]).toMatch(/^\tstruct kvm \*kvm = /);
    expect(out[3]).toMatch(/max_t\(T\s+, a, b\)/);
    expect(out[4]).toMatch(/case 1\s+: break;/);
    expect(out[5]).toBe('\t(void)g(x);');
    out.forEach((l, i) => expect(l.length).toBe(lines(src)[i].length));
  });

  it('turns inline assembly into an argument-less call, keeping lines', () => {
    const src = [
      'int f(u8 *p)',
      '{',
      '\tasm volatile("1: xchgb %0, %1\\n"',
      '\t\t     _ASM_EXTABLE_UA(1b, 2b)',
      '\t\t     : "+q" (v), "+m" (*p));',
      '\tasm("" ::: "memory");',
      '\t__asm__ __volatile__("nop");',
      '\treturn v;',
      '}',
    ].join('\n');
    const out = lines(preprocess(src).text);
    expect(out.length).toBe(9);
    expect(out[2]).toMatch(/^\tASM_volatile\(\s+$/);
    expect(out[3].trim()).toBe('');
    expect(out[4]).toMatch(/^\s+\);$/);
    expect(out[5]).toMatch(/^\tASM\(\s+\);$/);
    expect(out[6]).toMatch(/^\t__ASM_____volatile__\(\s+\);$/);
    out.forEach((l, i) => expect(l.length).toBe(lines(src)[i].length));
    expect(new CParser().parse('asm.c', src).hasErrors).toBe(false);
  });

  it('blanks a top-level macro used as a declaration without a semicolon', () => {
    const src = [
      'BUILD_HELPER(read)',
      'BUILD_HELPER(write) /* two */',
      '',
      'static void',
      'set_it(int x)',
      '{',
      '}',
      'EXPORT_SYMBOL_GPL(set_it);',
      'module_init(f)',
    ].join('\n');
    const out = lines(preprocess(src).text);
    expect(out[0].trim()).toBe('');
    expect(out[1].trim()).toBe('/* two */');
    expect(out[4]).toBe('set_it(int x)');
    expect(out[7]).toBe('EXPORT_SYMBOL_GPL(set_it);');
    expect(out[8].trim()).toBe('');
    const parsed = new CParser().parse('m.c', src);
    expect(parsed.functions.map((f) => [f.name, f.startLine])).toEqual([['set_it', 4]]);
  });

  it('leaves strings and comments that look like macros alone', () => {
    const src = 'void f(void)\n{\n\tpr_info("list_for_each_entry(a, b, c) x");\n\t/* kvm_for_each_vcpu(i, v, k) y; */\n}\n';
    expect(preprocess(src).text).toBe(src);
  });
});

describe('function discovery', () => {
  const parser = new CParser();
  const src = `
static __always_inline int __must_check walk(struct kvm *kvm, int __user *p)
	__must_hold(&kvm->slots_lock)
{
	return 0;
}

static struct kvm_memory_slot *FNAME(lookup)(struct kvm *kvm,
		gfn_t gfn, u64 sptes[], void (*cb)(int))
{
	return NULL;
}

int (*get_handler(int n))(struct kvm_vcpu *vcpu)
{
	return NULL;
}

void noargs(void)
{
}

#ifdef CONFIG_KVM_X
noinline void __cold in_ifdef(struct kvm_vcpu *vcpu, const struct kvm *kvm)
{
}
#endif

bool kvm_thing(struct kvm *kvm)
	__acquires(&kvm->mmu_lock)
{
	write_lock(&kvm->mmu_lock);
	return true;
}
EXPORT_SYMBOL_GPL(kvm_thing);

static void
split_header(struct kvm *kvm,
	     unsigned long flags)
{
}
`;
  const parsed = parser.parse('disc.c', src);
  const byName = new Map(parsed.functions.map((f) => [f.name, f]));

  it('finds every definition with its name', () => {
    expect(parsed.hasErrors).toBe(false);
    expect(parsed.functions.map((f) => f.name)).toEqual([
      'walk', 'FNAME(lookup)', 'get_handler', 'noargs', 'in_ifdef', 'kvm_thing', 'split_header',
    ]);
  });

  it('records static flags', () => {
    expect(byName.get('walk')!.isStatic).toBe(true);
    expect(byName.get('FNAME(lookup)')!.isStatic).toBe(true);
    expect(byName.get('get_handler')!.isStatic).toBe(false);
    expect(byName.get('in_ifdef')!.isStatic).toBe(false);
    expect(byName.get('kvm_thing')!.isStatic).toBe(false);
    expect(byName.get('split_header')!.isStatic).toBe(true);
  });

  it('records parameter names and types', () => {
    expect(byName.get('walk')!.params).toEqual(['kvm', 'p']);
    expect(byName.get('walk')!.paramTypes[0]).toBe('struct kvm *');
    expect(byName.get('FNAME(lookup)')!.params).toEqual(['kvm', 'gfn', 'sptes', 'cb']);
    expect(byName.get('get_handler')!.params).toEqual(['n']);
    expect(byName.get('noargs')!.params).toEqual([]);
    expect(byName.get('in_ifdef')!.params).toEqual(['vcpu', 'kvm']);
    expect(byName.get('in_ifdef')!.paramTypes).toEqual(['struct kvm_vcpu *', 'struct kvm *']); // qualifiers dropped
    expect(byName.get('split_header')!.params).toEqual(['kvm', 'flags']);
  });

  it('records the lines of each definition', () => {
    const l = (needle: string): number => lines(src).findIndex((x) => x.includes(needle)) + 1;
    expect(byName.get('walk')!.startLine).toBe(l('static __always_inline'));
    expect(byName.get('kvm_thing')!.startLine).toBe(l('bool kvm_thing'));
    expect(byName.get('kvm_thing')!.endLine).toBe(l('return true;') + 1);
    expect(byName.get('split_header')!.startLine).toBe(l('split_header(') - 1);
  });
});
