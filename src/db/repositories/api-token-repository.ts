import { newId } from '../ids.js';
import type { ApiTokenRepository } from '../repository.js';
import type { Row, SqlExecutor } from '../sql/executor.js';
import { keysetPage } from '../sql/keyset.js';
import { json, num, toJson } from '../sql/values.js';
import type { ApiScope, ApiToken, ApiTokenInput, Page, PageRequest } from '../types.js';
import type { Clock } from './clock.js';
import { SecretRowRepository, secretTimes } from './secret-rows.js';

function fromRow(r: Row): ApiToken {
  return {
    id: String(r.id),
    name: String(r.name),
    secretHash: String(r.secret_hash),
    scopes: json<ApiScope[]>(r.scopes),
    ...secretTimes(r),
  };
}

export class SqlApiTokenRepository extends SecretRowRepository<ApiToken> implements ApiTokenRepository {
  constructor(sql: SqlExecutor, clock: Clock) {
    super(sql, clock, 'api_tokens', 'secret_hash', fromRow);
  }

  create(input: ApiTokenInput): Promise<ApiToken> {
    const now = this.clock();
    return this.insert('INSERT INTO api_tokens (id, name, secret_hash, scopes, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING *',
      [input.id ?? newId('tok', now), input.name, input.secretHash, toJson(input.scopes), now]);
  }

  list(page: PageRequest = {}): Promise<Page<ApiToken>> {
    return keysetPage(this.sql, {
      from: 'api_tokens', keys: [['created_at', 'n'], ['id', 's']], page, map: fromRow, keyOf: (k) => [k.createdAt, k.id],
    });
  }

  async countActive(): Promise<number> {
    const [row] = await this.sql.query('SELECT COUNT(*) AS n FROM api_tokens WHERE revoked_at IS NULL');
    return num(row.n);
  }
}
