import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { withHostManagerOptions } from '../../../src/hostmanager/options.js';

const parse = (argv: string[]) => withHostManagerOptions(new Command('hostmanager')).exitOverride().parse(argv, { from: 'user' }).opts();

describe('--log-max-size and --log-keep', () => {
  it('default to 10 MiB and 5 copies', () => {
    expect(parse([])).toMatchObject({ logMaxSize: 10 * 1024 * 1024, logKeep: 5 });
  });
  it('take bytes, or K, M and G binary units, and a count from 0', () => {
    expect(parse(['--log-max-size', '4096', '--log-keep', '0'])).toMatchObject({ logMaxSize: 4096, logKeep: 0 });
    expect(parse(['--log-max-size', '64k']).logMaxSize).toBe(65_536);
    expect(parse(['--log-max-size', '2G']).logMaxSize).toBe(2 * 1024 ** 3);
  });
  it('name the option and the value they refuse', () => {
    expect(() => parse(['--log-max-size', '10MB'])).toThrow('--log-max-size: "10MB" is not a size in bytes (e.g. 10485760 or 10M)');
    expect(() => parse(['--log-max-size', '0'])).toThrow('--log-max-size: "0" is not a size');
    expect(() => parse(['--log-keep', '-1'])).toThrow('--log-keep: "-1" is not a count from 0 to 1000');
  });
});
