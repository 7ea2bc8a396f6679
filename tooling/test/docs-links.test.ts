/**
 * What is tested: every relative link in every Markdown file of the repository (READMEs, docs/, bench/,
 * changesets) points at a file or directory that exists, and a `#fragment` (in the same file or in another
 * Markdown file) names a heading there, slugged as GitHub does. The design notes the sources cite
 * (docs/design.md, docs/runtime.md, docs/reference-bcop.md) exist and are linked from the top README.
 * What is not tested: links to other sites (no network in CI).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..');

/** The Markdown files git knows (tracked, or new and not ignored). */
function markdownFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.md'], { cwd: root, encoding: 'utf8' });
  return out
    .split('\n')
    .filter((f) => f.length > 0 && existsSync(join(root, f)))
    .map((f) => join(root, f));
}

/** The text with fenced code blocks and inline code spans blanked out (links there are not links). */
function withoutCode(text: string): string {
  return withoutCodeBlocks(text).replace(/`[^`\n]*`/g, '``');
}

/** The text with fenced code blocks blanked out (a `# comment` there is not a heading). */
function withoutCodeBlocks(text: string): string {
  return text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2, … */
export function githubSlug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/[`*_]/g, (c) => (c === '_' ? '_' : ''))
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{N}\p{M}\p{Pc} -]/gu, '').replace(/ /g, '-');
}

function anchorsOf(file: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const line of withoutCodeBlocks(readFileSync(file, 'utf8')).split('\n')) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = githubSlug(heading[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

interface Link {
  file: string;
  line: number;
  target: string;
}

function linksOf(file: string): Link[] {
  const links: Link[] = [];
  withoutCode(readFileSync(file, 'utf8'))
    .split('\n')
    .forEach((text, i) => {
      for (const match of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) links.push({ file, line: i + 1, target: match[1] });
      for (const match of text.matchAll(/^\s*\[[^\]]+\]:\s+<?(\S+?)>?(?:\s|$)/g)) links.push({ file, line: i + 1, target: match[1] });
    });
  return links;
}

/** `file:line → target (why)` for every broken relative link or anchor in `files`. */
function brokenLinks(files: string[]): string[] {
  const broken: string[] = [];
  for (const file of files) {
    for (const { line, target } of linksOf(file)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
      const [path, fragment] = target.split('#', 2);
      const resolved = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
      const where = `${relative(root, file)}:${line} → ${target}`;
      if (!existsSync(resolved)) {
        broken.push(`${where} (no such file)`);
        continue;
      }
      if (fragment && resolved.endsWith('.md') && !anchorsOf(resolved).has(decodeURIComponent(fragment).toLowerCase())) {
        broken.push(`${where} (no heading with that anchor)`);
      }
    }
  }
  return broken;
}

describe('documentation links', () => {
  const files = markdownFiles();

  it('finds the READMEs and the design notes', () => {
    const names = files.map((f) => relative(root, f));
    for (const expected of ['README.md', 'apps/robustness/README.md', 'packages/core/README.md', 'docs/design.md', 'docs/runtime.md', 'docs/reference-bcop.md']) {
      expect(names).toContain(expected);
    }
  });

  it('every relative link and anchor resolves', () => {
    expect(brokenLinks(files)).toEqual([]);
  });

  it('reports a missing file, a missing anchor, and ignores links in code and to other sites', () => {
    const dir = mkdtempSync(join(tmpdir(), 'docs-links-'));
    try {
      writeFileSync(join(dir, 'other.md'), '# Other page\n\n## A section\n\n## A section\n');
      writeFileSync(
        join(dir, 'a.md'),
        [
          '# Title',
          '[ok](other.md) [ok anchor](other.md#a-section) [repeat](other.md#a-section-1) [self](#title) [web](https://example.org/x.md)',
          '[gone](missing.md) [bad anchor](other.md#nope)',
          '`[in code](missing-too.md)`',
          '```',
          '[in a block](missing-three.md)',
          '```',
        ].join('\n'),
      );
      const broken = brokenLinks([join(dir, 'a.md')]).map((b) => b.replace(/^.*a\.md:/, ''));
      expect(broken).toEqual(['3 → missing.md (no such file)', '3 → other.md#nope (no heading with that anchor)']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the top README links the design notes', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    for (const doc of ['docs/design.md', 'docs/runtime.md', 'docs/reference-bcop.md']) expect(readme).toContain(`](${doc})`);
  });

  it('slugs headings as GitHub does', () => {
    expect(githubSlug('Web page')).toBe('web-page');
    expect(githubSlug('1.3 Building the kernel')).toBe('13-building-the-kernel');
    expect(githubSlug('Install from `release/` (packed tarballs)')).toBe('install-from-release-packed-tarballs');
    expect(githubSlug('What trains where')).toBe('what-trains-where');
    expect(githubSlug('The exported model (`lipschitz-model/1`)')).toBe('the-exported-model-lipschitz-model1');
  });
});
