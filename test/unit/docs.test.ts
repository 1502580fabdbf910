/**
 * The repository explains itself: a comment may cite only documents the repository holds — a page
 * of docs/ (and then only a section that page has) or a file at the root such as README.md — never
 * a path outside it. A `§N` always names its page (`docs/kube-proxy-rules.md §2.3`).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../guest/harness.js';

/** Where citations are looked for. test/fixtures holds data, not comments. */
const SCANNED = ['src', 'test', 'bench', 'scripts', 'manifests', 'Dockerfile'];
const SKIPPED_DIRS = new Set(['node_modules', 'fixtures', '.cache']);
const SCANNED_FILE = /(\.(ts|mts|cts|js|mjs|cjs|sh|ya?ml)|(^|\/)Dockerfile)$/;
/** This file: its cases cite missing documents on purpose. */
const SELF = 'test/unit/docs.test.ts';

/** The numbered sections of a docs page: `## 2. Real servers` → "2", `### 2.3 Which…` → "2.3". */
function docSections(markdown: string): Set<string> {
  const sections = new Set<string>();
  for (const m of markdown.matchAll(/^#{1,6}[ \t]+(\d+(?:\.\d+)*)\.?[ \t]/gm)) sections.add(m[1] ?? '');
  return sections;
}

interface Repository {
  /** docs/ page name → its section numbers. */
  docs: ReadonlyMap<string, ReadonlySet<string>>;
  /** Whether a path relative to the repository root exists. */
  exists(path: string): boolean;
}

/** `docs/page.md` followed by its section numbers: "§1.2, §1.3", "§3.2–§3.4", "§1 and §2". */
const DOC_CITATION = /docs\/([\w.-]+\.md)((?:[ \t]*(?:,|;|–|—|-|and)?[ \t]*§[ \t]?\d+(?:\.\d+)*)*)/g;
const SECTION = /§[ \t]?(\d+(?:\.\d+)*)/g;
/** A path-like token ending in .md; URLs are skipped by the caller. */
const MD_TOKEN = /[^\s'"`()<>[\]{},;|*]*\.md\b/g;
const SHARED_PATH = /(?:^|[^\w.-])((?:\.\.\/)*shared\/[\w./-]*)/gm;

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Every citation in `text` that points outside the repository or at a section that does not exist. */
function citationProblems(file: string, text: string, repo: Repository): string[] {
  const problems: string[] = [];
  const at = (index: number, what: string): void => {
    problems.push(`${file}:${lineOf(text, index)}: ${what}`);
  };

  for (const m of text.matchAll(SHARED_PATH)) {
    at(m.index + m[0].indexOf(m[1] ?? ''), `cites ${m[1] ?? ''}, which is outside the repository: cite docs/ or the upstream source`);
  }

  for (const m of text.matchAll(MD_TOKEN)) {
    const token = m[0];
    if (token.includes('://') || token === '.md') continue;
    const path = token.replace(/^(\.{1,2}\/)+/, '');
    if (path.startsWith('shared/') || /(^|\/)shared\//.test(token)) continue; // reported above
    const found = path.includes('/') ? repo.exists(path) : repo.exists(path) || repo.docs.has(path);
    if (!found) at(m.index, `cites ${token}, which is not in the repository (docs/ holds the project's own pages)`);
  }

  // Sections: each docs/page.md run is checked, then blanked so that what is left is bare "§N".
  let rest = text;
  for (const m of text.matchAll(DOC_CITATION)) {
    const page = m[1] ?? '';
    const sections = repo.docs.get(page);
    for (const s of (m[2] ?? '').matchAll(SECTION)) {
      const number = s[1] ?? '';
      if (sections !== undefined && !sections.has(number)) at(m.index, `cites docs/${page} §${number}, a section that page does not have`);
    }
    rest = rest.slice(0, m.index) + ' '.repeat(m[0].length) + rest.slice(m.index + m[0].length);
  }
  for (const m of rest.matchAll(SECTION)) {
    at(m.index, `§${m[1] ?? ''} names no document: write docs/<page>.md §${m[1] ?? ''}`);
  }
  return problems;
}

/** The scanned files under `path` (relative to the repository root), in a stable order. */
function walk(path: string, out: string[]): void {
  const full = join(REPO_ROOT, path);
  if (!existsSync(full)) return;
  if (statSync(full).isDirectory()) {
    for (const entry of readdirSync(full).sort()) {
      if (!SKIPPED_DIRS.has(entry)) walk(`${path}/${entry}`, out);
    }
  } else if (SCANNED_FILE.test(path) && path !== SELF) {
    out.push(path);
  }
}

function realRepository(): Repository {
  const docs = new Map<string, ReadonlySet<string>>();
  for (const page of readdirSync(join(REPO_ROOT, 'docs')).filter((f) => f.endsWith('.md'))) {
    docs.set(page, docSections(readFileSync(join(REPO_ROOT, 'docs', page), 'utf8')));
  }
  return { docs, exists: (p) => existsSync(join(REPO_ROOT, p)) };
}

const fake: Repository = {
  docs: new Map([
    ['kube-proxy-rules.md', new Set(['1', '1.2', '1.3', '2', '2.3'])],
    ['ipvs-netlink.md', new Set(['3', '3.2', '3.3', '3.4'])],
  ]),
  exists: (p) => ['README.md', 'docs/kube-proxy-rules.md', 'docs/ipvs-netlink.md', 'src/wiring.ts'].includes(p),
};

describe('citationProblems', () => {
  it.each([
    ['a section the page has', ' * Which set each VS gets (docs/kube-proxy-rules.md §2.3).'],
    ['several sections of one page', ' * kube-ipvs0 facts (docs/kube-proxy-rules.md §1.2, §1.3).'],
    ['a range of sections', "describe('byte for byte (docs/ipvs-netlink.md §3.2–§3.4)', () => {"],
    ['a page without a section', '/** The protocol of docs/ipvs-netlink.md. */'],
    ['the README', '// see README.md, section Security'],
    ['a URL ending in .md', '// https://github.com/kubernetes/kubernetes/blob/master/CHANGELOG/CHANGELOG-1.27.md'],
    ['an upstream path with no .md', '// pkg/proxy/ipvs/proxier.go syncEndpoint, kubernetes#97081'],
  ])('accepts %s', (_name, text) => {
    expect(citationProblems('x.ts', text, fake)).toEqual([]);
  });

  it.each([
    ['a document outside the repository', ' * the VS attributes (kube-proxy-ipvs-spec.md §1.1).', /kube-proxy-ipvs-spec\.md, which is not in the repository/],
    ['a path into the shared folder', ' * see ../shared/spec/interface.md', /shared\/spec\/interface\.md, which is outside the repository/],
    ['a section the page lacks', ' * (docs/kube-proxy-rules.md §9.1)', /docs\/kube-proxy-rules\.md §9\.1, a section that page does not have/],
    ['the second of two sections missing', ' * (docs/kube-proxy-rules.md §1.2, §4.4)', /§4\.4, a section/],
    ['the end of a range missing', ' * (docs/ipvs-netlink.md §3.2–§3.9)', /§3\.9, a section/],
    ['a bare section sign', ' * kube-proxy leaves them alone (§2.7).', /§2\.7 names no document/],
    ['a section after a page named without docs/', ' * (kube-proxy-rules.md §2.3)', /§2\.3 names no document/],
    ['a missing page under docs/', ' * (docs/deploy.md)', /docs\/deploy\.md, which is not in the repository/],
  ])('rejects %s', (_name, text, message) => {
    const problems = citationProblems('x.ts', text, fake);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join('\n')).toMatch(message);
  });

  it('names the file and line of a problem', () => {
    expect(citationProblems('src/a.ts', 'line one\n// (§3)\n', fake)).toEqual(['src/a.ts:2: §3 names no document: write docs/<page>.md §3']);
  });
});

describe('docSections', () => {
  it('reads the numbers of numbered headings only', () => {
    const md = '# Title\n\n## 0. In short\n\n### 2.3 Which set\n\n#### 2.3.1 Detail\n\n## Sources\n\n1. a list item\n';
    expect([...docSections(md)]).toEqual(['0', '2.3', '2.3.1']);
  });
});

describe('the repository', () => {
  const repo = realRepository();

  it('cites only documents it holds, and only sections they have', () => {
    const files: string[] = [];
    for (const root of SCANNED) walk(root, files);
    expect(files.length).toBeGreaterThan(50);
    const problems = files.flatMap((f) => citationProblems(f, readFileSync(join(REPO_ROOT, f), 'utf8'), repo));
    expect(problems).toEqual([]);
  });

  it('indexes every docs page in docs/README.md', () => {
    const index = readFileSync(join(REPO_ROOT, 'docs', 'README.md'), 'utf8');
    const pages = [...repo.docs.keys()].filter((p) => p !== 'README.md');
    expect(pages.filter((p) => !index.includes(`](${p})`))).toEqual([]);
  });

  it('numbers each docs section once', () => {
    for (const page of repo.docs.keys()) {
      const md = readFileSync(join(REPO_ROOT, 'docs', page), 'utf8');
      const numbers = [...md.matchAll(/^#{1,6}[ \t]+(\d+(?:\.\d+)*)\.?[ \t]/gm)].map((m) => m[1]);
      expect({ page, duplicates: numbers.filter((n, i) => numbers.indexOf(n) !== i) }).toEqual({ page, duplicates: [] });
    }
  });

  it('points the README to docs/', () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    expect(/\]\(docs\/(README\.md)?\)/.test(readme), 'README.md links docs/').toBe(true);
  });
});
