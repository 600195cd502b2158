import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { mergeScfArguments, withHostManagerOptions } from '../../../src/hostmanager/options.js';

const cli = (argv: string[]) => withHostManagerOptions(new Command('hostmanager')).exitOverride().parse(argv, { from: 'user' });

describe('host manager options from the SCF entry and the command line', () => {
  it('takes the HostManager entry arguments where the command line is silent', () => {
    const opts = mergeScfArguments(cli(['--site-file', 'x.yaml']), ['--initial-state', 'up', '--docker-compose', 'a.yaml,b.yaml'], 'x.yaml:3');
    expect(opts).toMatchObject({ siteFile: 'x.yaml', initialState: 'up', dockerCompose: ['a.yaml', 'b.yaml'], dockerServicePrefix: 'ocs-', port: 8011 });
  });

  it('lets the command line win', () => {
    const opts = mergeScfArguments(cli(['--initial-state', 'down', '--port', '9000']), ['--initial-state', 'up', '--port', '7000'], 'x.yaml:3');
    expect(opts).toMatchObject({ initialState: 'down', port: 9000 });
  });

  it('names the SCF line of bad arguments', () => {
    expect(() => mergeScfArguments(cli([]), ['--initial-state', 'sideways'], 'site.yaml:7')).toThrow(
      "site.yaml:7: arguments: option '--initial-state <state>' argument 'sideways' is invalid. Allowed choices are up, down.",
    );
    expect(() => mergeScfArguments(cli([]), ['--bogus'], 'site.yaml:7')).toThrow("site.yaml:7: arguments: unknown option '--bogus'");
  });
});
