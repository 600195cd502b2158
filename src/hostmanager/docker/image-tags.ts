/**
 * The image each watched tag points to now, for `restart_required`: a container runs the image
 * its tag named when it was created, which a pull, build or retag may since have moved.
 */
import type Docker from 'dockerode';

export class ImageTags {
  /** null: no such image; undefined: not looked up yet. */
  private readonly ids = new Map<string, string | null | undefined>();

  constructor(private readonly docker: Docker) {}

  idOf(tag: string): string | null | undefined {
    return this.ids.get(tag);
  }

  /** Adds tags to watch; returns the ones not watched before, which still need a refresh. */
  watch(tags: Iterable<string>): string[] {
    const fresh = [...new Set(tags)].filter((t) => !this.ids.has(t));
    for (const t of fresh) this.ids.set(t, undefined);
    return fresh;
  }

  /** Looks the tags up again (all by default); resolves whether any now points elsewhere. */
  async refresh(tags: string[] = [...this.ids.keys()]): Promise<boolean> {
    let changed = false;
    await Promise.all(
      tags.map(async (tag) => {
        const id = await this.docker
          .getImage(tag)
          .inspect()
          .then((i) => i.Id)
          .catch(() => null);
        if (this.ids.get(tag) !== id) changed = true;
        this.ids.set(tag, id);
      }),
    );
    return changed;
  }
}
