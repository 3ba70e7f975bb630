/**
 * tree-sitter-c front end: parse (preprocessed) kernel C and find its functions.
 */
import { createRequire } from 'node:module';
import type TreeSitter from 'tree-sitter';
import { preprocess, rewriteIterators, type ColumnMap, type IteratorTest, isIteratorName } from './preprocess.js';
import type { FunctionSpan } from './index-file.js';
import { PlainNode, toPlain } from './plain.js';

const require = createRequire(import.meta.url);

export type SyntaxNode = PlainNode;
export type Tree = TreeSitter.Tree;

export interface FunctionInfo {
  name: string;
  /** The function_definition node. */
  node: SyntaxNode;
  body: SyntaxNode;
  /** 1-based first and last line of the definition. */
  startLine: number;
  endLine: number;
  isStatic: boolean;
  /** Parameter names in order. */
  params: string[];
  /** Parameter type texts in order (as written, without the name). */
  paramTypes: string[];
  /** Text of the whole definition (used to key caches). */
  text: string;
}

export interface ParsedFile {
  path: string;
  /** Original source. */
  source: string;
  /** Original source split in lines (0-based array). */
  lines: string[];
  tree: Tree;
  columns: ColumnMap;
  functions: FunctionInfo[];
  /** Comments as (line, text), for rules that read pairing comments. */
  hasErrors: boolean;
}

/**
 * One parser per front end instance (tree-sitter parsers are stateful, so this
 * is never module-level).
 */
export class CParser {
  private readonly parser: TreeSitter;

  constructor(private readonly isIterator: IteratorTest = isIteratorName) {
    const Parser = require('tree-sitter') as typeof TreeSitter;
    const C = require('tree-sitter-c') as TreeSitter.Language;
    this.parser = new Parser();
    this.parser.setLanguage(C);
  }

  /**
   * Parse one indexed function on its own. Lines in the result are real file
   * lines; the tree's rows are relative to the span (add startLine - 1).
   */
  parseFunction(span: FunctionSpan): ParsedFunction | null {
    const pre = rewriteIterators(span.text, this.isIterator);
    const tree = this.parseText(pre.text);
    const defs = collectFunctions(toPlain(tree, pre.text));
    const def = defs.find((d) => d.name === span.name) ?? defs[defs.length - 1];
    if (!def) return null;
    const offset = span.startLine - 1;
    return {
      info: { ...def, name: span.name, startLine: def.startLine + offset, endLine: def.endLine + offset, isStatic: def.isStatic || span.isStatic },
      columns: pre.columns,
      hasErrors: tree.rootNode.hasError,
    };
  }

  private parseText(text: string): TreeSitter.Tree {
    // The default input buffer is 32 KiB; only long texts need a bigger one.
    return text.length < 16 * 1024 ? this.parser.parse(text) : this.parser.parse(text, undefined, { bufferSize: text.length * 2 + 16 });
  }

  parse(path: string, source: string): ParsedFile {
    const pre = preprocess(source, this.isIterator);
    const tree = this.parseText(pre.text);
    const functions = collectFunctions(toPlain(tree, pre.text));
    return {
      path,
      source,
      lines: source.split('\n'),
      tree,
      columns: pre.columns,
      functions,
      hasErrors: tree.rootNode.hasError,
    };
  }
}

export interface ParsedFunction {
  info: FunctionInfo;
  columns: ColumnMap;
  hasErrors: boolean;
}

function collectFunctions(root: SyntaxNode): FunctionInfo[] {
  const out: FunctionInfo[] = [];
  const visit = (node: SyntaxNode): void => {
    for (const child of node.namedChildren) {
      if (child.type === 'function_definition') {
        const info = functionInfo(child);
        if (info) out.push(info);
      } else if (
        child.type === 'preproc_ifdef' || child.type === 'preproc_if' || child.type === 'preproc_else' ||
        child.type === 'linkage_specification' || child.type === 'declaration_list' || child.type === 'ERROR'
      ) {
        visit(child);
      }
    }
  };
  visit(root);
  return out;
}

/** The innermost function_declarator of a declarator chain. */
function findFunctionDeclarator(decl: SyntaxNode | null): SyntaxNode | null {
  let d = decl;
  while (d) {
    if (d.type === 'function_declarator') {
      // `int (*f(void))(int)` style: prefer the innermost declarator that names the function.
      const inner = d.childForFieldName('declarator');
      if (inner && inner.type !== 'identifier' && inner.type !== 'field_identifier') {
        const deeper = findFunctionDeclarator(inner);
        if (deeper) return deeper;
      }
      return d;
    }
    d = d.type === 'parenthesized_declarator' ? (d.namedChildren[0] ?? null) : d.childForFieldName('declarator');
  }
  return null;
}

function declaratorName(d: SyntaxNode | null): string {
  let cur = d;
  while (cur) {
    if (cur.type === 'identifier' || cur.type === 'field_identifier' || cur.type === 'type_identifier') return cur.text;
    if (cur.type === 'parenthesized_declarator') {
      cur = cur.namedChildren[0] ?? null;
      continue;
    }
    cur = cur.childForFieldName('declarator');
  }
  return '';
}

export function displayFunctionName(name: string): string {
  const m = /^FNAME_(\w+)_$/.exec(name);
  return m ? `FNAME(${m[1]})` : name;
}

function functionInfo(node: SyntaxNode): FunctionInfo | null {
  const body = node.childForFieldName('body');
  const fdecl = findFunctionDeclarator(node.childForFieldName('declarator'));
  if (!body || !fdecl) return null;
  const name = displayFunctionName(declaratorName(fdecl.childForFieldName('declarator')));
  if (!name) return null;
  const params: string[] = [];
  const paramTypes: string[] = [];
  const plist = fdecl.childForFieldName('parameters');
  if (plist) {
    for (const p of plist.namedChildren) {
      if (p.type !== 'parameter_declaration') continue;
      const pd = p.childForFieldName('declarator');
      // `f(void)`: no parameters.
      if (!pd && p.childForFieldName('type')?.text === 'void') continue;
      const pname = declaratorName(pd);
      params.push(pname);
      const type = p.childForFieldName('type');
      paramTypes.push(type ? type.text + (pd && pd.type === 'pointer_declarator' ? ' *' : '') : '');
    }
  }
  let isStatic = false;
  for (const c of node.children) {
    if (c.type === 'storage_class_specifier' && c.text === 'static') isStatic = true;
  }
  return {
    name,
    node,
    body,
    startLine: node.startPosition.row + 1,
    endLine: node.endPosition.row + 1,
    isStatic,
    params,
    paramTypes,
    text: node.text,
  };
}
