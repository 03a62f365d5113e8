import { newId } from '../ids.js';
import type { StreamKeyRepository } from '../repository.js';
import type { Row, SqlExecutor } from '../sql/executor.js';
import { keysetPage } from '../sql/keyset.js';
import { strOrNull } from '../sql/values.js';
import type { Page, PageRequest, StreamKey, StreamKeyInput } from '../types.js';
import type { Clock } from './clock.js';
import { SecretRowRepository, secretTimes } from './secret-rows.js';

function fromRow(r: Row): StreamKey {
  return {
    id: String(r.id),
    channelId: String(r.channel_id),
    keyHash: String(r.key_hash),
    hint: String(r.hint),
    name: strOrNull(r.name),
    input: String(r.input ?? 'primary'),
    ...secretTimes(r),
  };
}

export class SqlStreamKeyRepository extends SecretRowRepository<StreamKey> implements StreamKeyRepository {
  constructor(sql: SqlExecutor, clock: Clock) {
    super(sql, clock, 'stream_keys', 'key_hash', fromRow);
  }

  create(input: StreamKeyInput): Promise<StreamKey> {
    const now = this.clock();
    return this.insert(
      'INSERT INTO stream_keys (id, channel_id, key_hash, hint, name, input, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *',
      [input.id ?? newId('sk', now), input.channelId, input.keyHash, input.hint, input.name ?? null, input.input ?? 'primary', now]);
  }

  listForChannel(channelId: string, page: PageRequest = {}): Promise<Page<StreamKey>> {
    return keysetPage(this.sql, {
      from: 'stream_keys', where: ['channel_id = $1'], params: [channelId], keys: [['created_at', 'n'], ['id', 's']],
      page, map: fromRow, keyOf: (k) => [k.createdAt, k.id],
    });
  }

  rotate(id: string, replacement: Omit<StreamKeyInput, 'channelId'>): Promise<StreamKey | undefined> {
    return this.sql.transaction(async (tx) => {
      const keys = new SqlStreamKeyRepository(tx, this.clock);
      const old = await keys.get(id);
      // revoke() is the guard: of two rotations of one key at once, the second waits for the
      // first's row lock (PostgreSQL), then finds the key revoked and creates nothing.
      if (!old || !(await keys.revoke(id))) return undefined;
      return keys.create({ input: old.input, ...replacement, channelId: old.channelId });
    });
  }
}
