/**
 * Plain-JS syntax nodes built from a tree-sitter tree with one TreeCursor walk.
 *
 * Every property read on a native tree-sitter node crosses into C++ and
 * allocates; lowering reads each node many times. Copying the tree once into
 * plain objects (same small interface as tree-sitter's SyntaxNode) makes
 * lowering several times faster.
 */
import type TreeSitter from 'tree-sitter';

export interface Point {
  row: number;
  column: number;
}

export class PlainNode {
  parent: PlainNode | null = null;
  readonly children: PlainNode[] = [];
  /** Field name of each child ('' if none), parallel to `children`. */
  readonly fields: string[] = [];
  private named?: PlainNode[];

  constructor(
    readonly id: number,
    readonly type: string,
    readonly isNamed: boolean,
    readonly startIndex: number,
    readonly endIndex: number,
    private readonly source: string,
    private readonly lineStarts: number[],
  ) {}

  get startPosition(): Point {
    return position(this.lineStarts, this.startIndex);
  }

  get endPosition(): Point {
    return position(this.lineStarts, this.endIndex);
  }

  get text(): string {
    return this.source.substring(this.startIndex, this.endIndex);
  }

  get namedChildren(): PlainNode[] {
    this.named ??= this.children.filter((c) => c.isNamed);
    return this.named;
  }

  childForFieldName(name: string): PlainNode | null {
    const i = this.fields.indexOf(name);
    return i >= 0 ? this.children[i] : null;
  }

  childrenForFieldName(name: string): PlainNode[] {
    const out: PlainNode[] = [];
    for (let i = 0; i < this.fields.length; i++) if (this.fields[i] === name) out.push(this.children[i]);
    return out;
  }
}

function position(lineStarts: number[], index: number): Point {
  let lo = 0;
  let hi = lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lineStarts[mid] <= index) lo = mid;
    else hi = mid - 1;
  }
  return { row: lo, column: index - lineStarts[lo] };
}

/** Copy a tree into PlainNodes. `source` must be the exact string that was parsed. */
export function toPlain(tree: TreeSitter.Tree, source: string): PlainNode {
  const cursor = tree.walk();
  const lineStarts = [0];
  for (let i = source.indexOf('\n'); i >= 0; i = source.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  let nextId = 0;
  const make = (): PlainNode => new PlainNode(nextId++, cursor.nodeType, cursor.nodeIsNamed, cursor.startIndex, cursor.endIndex, source, lineStarts);
  const root = make();
  // Iterative pre-order walk keeping a stack of open parents.
  const stack: PlainNode[] = [root];
  if (!cursor.gotoFirstChild()) return root;
  for (;;) {
    const parent = stack[stack.length - 1];
    const node = make();
    node.parent = parent;
    parent.children.push(node);
    parent.fields.push(cursor.currentFieldName ?? '');
    if (cursor.gotoFirstChild()) {
      stack.push(node);
      continue;
    }
    while (!cursor.gotoNextSibling()) {
      if (!cursor.gotoParent()) return root;
      stack.pop();
      if (stack.length === 0) return root;
    }
  }
}
