// The rule modules run inside Temporal workflow code: they must stay deterministic and I/O-free.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const rulesDir = path.join(__dirname, '..', '..', 'workflows', 'rules');
const sources = readdirSync(rulesDir)
  .filter((file) => file.endsWith('.ts'))
  .map((file) => [file, readFileSync(path.join(rulesDir, file), 'utf8')] as const);

describe.each(sources)('workflows/rules/%s', (_file, source) => {
  it('imports only sibling rule modules', () => {
    const imports = [...source.matchAll(/from '([^']+)'/g)].map((match) => match[1]);
    for (const specifier of imports) expect(specifier).toMatch(/^\.\/[a-z-]+$/);
  });

  it('never reads the clock or randomness', () => {
    expect(source).not.toMatch(/Date\.now\(|new Date\(\s*\)|Math\.random|performance\.now|process\./);
  });

  it('keeps no module-level mutable state', () => {
    expect(source).not.toMatch(/^(let|var) /m);
  });
});
