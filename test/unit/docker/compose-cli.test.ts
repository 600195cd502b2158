import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ComposeCli, composeArgv, ComposeNotFoundError, detectCompose } from '../../../src/hostmanager/docker/compose-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'cox-compose-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in compose binary: prints its version, its argv, or fails / hangs as asked. */
function fakeCompose(): string {
  const bin = join(dir, 'fake-compose');
  writeFileSync(
    bin,
    [
      '#!/bin/sh',
      'case "$*" in',
      '  "version --short") echo 9.9.9 ;;',
      '  *hang*) sleep 30 ;;',
      '  *fail*) echo "Creating x ..." ; echo "ERROR: no such image" >&2 ; exit 3 ;;',
      '  *) echo "cwd=$(pwd) args=$*" ;;',
      'esac',
      '',
    ].join('\n'),
  );
  chmodSync(bin, 0o755);
  return bin;
}
const target = { composeFile: join(dir, 'docker-compose.yaml'), project: 'lab' };

describe('the compose command line', () => {
  it('reads `docker` as v2 `docker compose` and anything else as the command to run', () => {
    expect(composeArgv('docker')).toEqual(['docker', 'compose']);
    expect(composeArgv('/usr/bin/docker')).toEqual(['/usr/bin/docker', 'compose']);
    expect(composeArgv('docker-compose')).toEqual(['docker-compose']);
    expect(composeArgv('/opt/bin/docker compose')).toEqual(['/opt/bin/docker', 'compose']);
  });

  it('says what it tried when the named compose does not run', async () => {
    const err = await detectCompose('/nonexistent/compose').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ComposeNotFoundError);
    expect((err as Error).message).toMatch(/^no docker compose found: tried "\/nonexistent\/compose" \(.*ENOENT.*\); install one or pass --docker-compose-bin$/);
  });

  it('runs `-p P -f F <args>` in the file\'s directory, and reports a failure by its last lines', async () => {
    const cli = new ComposeCli(fakeCompose());
    expect((await cli.command()).version).toBe('9.9.9');
    expect(await cli.run(target, ['up', '-d', 'ocs-a'])).toBe(`cwd=${dir} args=-p lab -f ${target.composeFile} up -d ocs-a\n`);
    await expect(cli.run(target, ['fail'])).rejects.toThrow('fake-compose fail (docker-compose.yaml) failed with exit code 3: Creating x ... / ERROR: no such image');
  });

  it('ends a run that outlives its deadline or is aborted', async () => {
    const cli = new ComposeCli(fakeCompose());
    const began = Date.now();
    await expect(cli.run(target, ['hang'], { timeoutMs: 300 })).rejects.toThrow('fake-compose hang (docker-compose.yaml) timed out after 0.3 s');
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 100);
    await expect(cli.run(target, ['hang'], { signal: ctl.signal })).rejects.toThrow('aborted');
    expect(Date.now() - began).toBeLessThan(5_000);
  });
});
