import type { Logger } from 'pino';
import type { ChannelRepository } from '../db/repository.js';
import type { ChannelRegistry } from '../media/channel-registry.js';
import { definitionOf } from './channel-definition.js';

/**
 * Keeps the API channels this origin serves equal to the database's rows: at start, on each
 * change notice (another origin's, or this one's own, which then changes nothing), and after
 * the notices were cut (a full pass that also drops channels deleted meanwhile). Applied one at
 * a time, in notice order. Channels of the config file are the config's: a row with one of
 * their ids is skipped with a warning.
 */
export class SharedChannels {
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly o: {
    repo: ChannelRepository;
    registry: ChannelRegistry;
    /** Ids the config file defines. */
    configIds: ReadonlySet<string>;
    logger: Logger;
    /** A channel came from another origin's change (restream targets are read for it then). */
    onCreated?: (id: string) => void;
  }) {}

  /** Reads every channel row and serves each (process start: a database that does not answer fails it). */
  loadAll(): Promise<void> {
    const run = this.queue.then(() => this.syncAll());
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The notices were cut and are back: the same full pass, its failure logged (the next comeback tries again). */
  resync(): Promise<void> {
    return this.enqueue(() => this.syncAll());
  }

  /** A channel row changed (or went): read it again and serve it as it now is. */
  changed(id: string): Promise<void> {
    return this.enqueue(() => this.sync(id));
  }

  /** Resolves when everything asked so far is applied. */
  settled(): Promise<void> {
    return this.queue;
  }

  private enqueue(fn: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(fn).catch((err) => this.o.logger.error({ err }, 'cannot apply the shared channel state'));
    return this.queue;
  }

  private async sync(id: string): Promise<void> {
    if (this.o.configIds.has(id)) return;
    const record = await this.o.repo.get(id);
    if (record) {
      await this.define(record);
    } else if (await this.o.registry.remove(id)) {
      this.o.logger.info({ channel: id }, 'channel deleted (shared database)');
    }
  }

  private async syncAll(): Promise<void> {
    const seen = new Set<string>();
    let cursor: string | null = null;
    do {
      const page = await this.o.repo.list({ limit: 500, cursor });
      for (const record of page.items) {
        seen.add(record.id);
        if (this.o.configIds.has(record.id)) {
          this.o.logger.warn({ channel: record.id }, 'a channel of the config file has the id of an API channel: the config wins');
          continue;
        }
        await this.define(record);
      }
      cursor = page.nextCursor;
    } while (cursor);
    for (const id of this.o.registry.apiChannelIds()) {
      if (!seen.has(id) && await this.o.registry.remove(id)) this.o.logger.info({ channel: id }, 'channel deleted (shared database)');
    }
  }

  private async define(record: Parameters<typeof definitionOf>[0]): Promise<void> {
    try {
      const outcome = await this.o.registry.define(definitionOf(record));
      if (outcome !== 'unchanged') this.o.logger.info({ channel: record.id, outcome }, 'channel applied from the shared database');
      if (outcome === 'created') this.o.onCreated?.(record.id);
    } catch (err) {
      this.o.logger.error({ channel: record.id, err }, 'cannot serve an API channel');
    }
  }
}
