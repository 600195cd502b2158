import { describe, expect, it } from 'vitest';
import { normalizeProjectName, parseComposeFile } from '../../../src/hostmanager/docker/compose-file.js';

const parse = (text: string, file = 'lab/docker-compose.yaml') => parseComposeFile(text, file, '/srv');
const failure = (text: string) => {
  try {
    parse(text);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected a parse error');
};

describe('parseComposeFile', () => {
  it('reads services with their image and line, and the project from the directory', () => {
    const f = parse('services:\n  ocs-a:\n    image: x:1\n  other:\n    build: .\n    depends_on: [ocs-a]\n');
    expect(f.file).toBe('/srv/lab/docker-compose.yaml');
    expect(f.project).toBe('lab');
    expect([...f.services.values()]).toEqual([
      { name: 'ocs-a', image: 'x:1', hasDependencies: false, line: 2 },
      { name: 'other', image: null, hasDependencies: true, line: 4 },
    ]);
  });

  it('takes `name:` as the project, and normalizes names as compose does', () => {
    expect(parse('name: Lab_One\nservices: {}\n').project).toBe('lab_one');
    expect(normalizeProjectName('My.Site-2')).toBe('mysite-2');
    expect(normalizeProjectName('_x')).toBe('x');
  });

  it('changes its digest with the text', () => {
    expect(parse('services: {}\n').digest).not.toBe(parse('services: {}\n# edited\n').digest);
  });

  it('names file and line of what is wrong', () => {
    expect(failure('services:\n  ocs-a:\n    image: x\n    image: y\n')).toBe('lab/docker-compose.yaml:4: Map keys must be unique');
    expect(failure('services:\n  - ocs-a\n')).toBe('lab/docker-compose.yaml:1: services: expected `services:` to be a mapping of services');
    expect(failure('version: "3"\n')).toBe('lab/docker-compose.yaml:1: expected `services:` to be a mapping of services');
    expect(failure('services:\n  ocs-a:\n    image: x\n  ocs-b: 3\n')).toBe('lab/docker-compose.yaml:4: services.ocs-b: expected a mapping');
    expect(failure('services:\n  ocs-a:\n    image: [x]\n')).toBe('lab/docker-compose.yaml:3: services.ocs-a.image: expected a string');
    expect(failure('- a\n')).toBe('lab/docker-compose.yaml:1: expected a mapping with `services:`');
  });
});
