// The length in lines of every function in src/ (declarations, methods, arrows and function expressions),
// read with the TypeScript compiler's own parser.
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import ts from 'typescript'

export interface FunctionLength {
  where: string
  name: string
  lines: number
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return tsFiles(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

function nameOf(node: ts.Node): string {
  const named = node as { name?: ts.Node }
  if (named.name && ts.isIdentifier(named.name)) return named.name.text
  const parent = node.parent
  if (parent && ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text
  if (parent && ts.isPropertyAssignment(parent) && ts.isIdentifier(parent.name)) return parent.name.text
  return '(anonymous)'
}

/** Every function-like node in one source text, `where` naming it as `name:line`. */
export function functionLengthsIn(name: string, text: string): FunctionLength[] {
  const out: FunctionLength[] = []
  const source = ts.createSourceFile(name, text, ts.ScriptTarget.Latest, true)
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && (node as { body?: ts.Node }).body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line
      out.push({ where: `${name}:${start + 1}`, name: nameOf(node), lines: end - start + 1 })
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return out
}

/** Every function-like node under `root` with its line count (first to last line, inclusive). */
export function functionLengths(root: string, text?: (file: string) => string): FunctionLength[] {
  const read = text ?? ((f: string) => readFileSync(f, 'utf8'))
  return tsFiles(root).flatMap((file) => functionLengthsIn(relative(root, file), read(file)))
}
